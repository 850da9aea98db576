#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A partner's build: compile samples/blk-ram out of tree with nothing but
# `pkg-config --cflags --libs vireo-sdk` (the uninstalled vireo-sdk.pc of this build),
# plain C11 and no project flags, and check the result exports only its descriptor.
# OOT_SAMPLE=net-pair builds that sample instead; OOT_CERTIFY=VIREO-CERTIFY then runs
# the out-of-tree module through it, with OOT_CERTIFY_ARGS.
# Usage: oot_build.sh BUILD_ROOT SOURCE_ROOT CC...
set -u
build=$1 src=$2
shift 2
sample=${OOT_SAMPLE:-blk-ram}
base=${sample//-/_}
command -v pkg-config >/dev/null || { echo "SKIP: pkg-config is not installed"; exit 77; }
command -v nm >/dev/null || { echo "SKIP: nm (binutils) is not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$src/samples/$sample/$base.c" "$src/samples/$sample/$base.map" "$tmp/"

# What `meson install` will install: one include directory (holding vireo/*.h), one library.
installed=$(PKG_CONFIG_PATH=$build/meson-private pkg-config --cflags --libs vireo-sdk) ||
	{ echo "FAIL: no vireo-sdk.pc in $build/meson-private"; exit 1; }
read -ra words <<<"$installed" # pkg-config's spacing varies: compare the words
installed=${words[*]}
includedir=$(PKG_CONFIG_PATH=$build/meson-private pkg-config --variable=includedir vireo-sdk)
libdir=$(PKG_CONFIG_PATH=$build/meson-private pkg-config --variable=libdir vireo-sdk)
if [[ $installed != "-I$includedir -L$libdir -lvireo" ]]; then
	echo "FAIL: the installed vireo-sdk.pc gives '$installed'; want -I$includedir -L$libdir -lvireo"
	exit 1
fi
echo "installed vireo-sdk.pc: $installed"

# The same SDK, uninstalled, to build against here.
export PKG_CONFIG_PATH=$build/meson-uninstalled
cflags=$(pkg-config --cflags vireo-sdk) || { echo "FAIL: pkg-config knows no vireo-sdk"; exit 1; }
libs=$(pkg-config --libs vireo-sdk)
echo "vireo-sdk $(pkg-config --modversion vireo-sdk) (uninstalled): $cflags $libs"
# shellcheck disable=SC2086 # word splitting of the flags is intended
"$@" -std=c11 -Wall -Wextra -Wpedantic -Werror -fPIC -shared -fvisibility=hidden $cflags \
	"$tmp/$base.c" -o "$tmp/$sample.so" -Wl,--version-script="$tmp/$base.map" $libs ||
	{ echo "FAIL: the sample does not build out of tree"; exit 1; }
syms=$(nm -D --defined-only "$tmp/$sample.so" | awk '{ print $3 }')
if [[ $syms != vireo_driver_descriptor ]]; then
	echo "FAIL: the out-of-tree $sample.so exports: $syms"
	exit 1
fi
echo "built $sample.so out of tree; it exports only vireo_driver_descriptor"
if [[ -n ${OOT_CERTIFY:-} ]]; then
	# shellcheck disable=SC2086 # the arguments are words
	"$OOT_CERTIFY" ${OOT_CERTIFY_ARGS:-} "$tmp/$sample.so" ||
		{ echo "FAIL: the out-of-tree $sample.so does not pass vireo-certify"; exit 1; }
fi
