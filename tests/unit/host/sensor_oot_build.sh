#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A partner's build of the sensor skeleton, as oot_build.sh does for blk-ram: compile
# samples/sensor-synth out of tree with nothing but `pkg-config --cflags --libs
# vireo-sdk` (this build's uninstalled vireo-sdk.pc), plain C11, no project flags and
# no -DVIREO_ALLOW_EXPERIMENTAL (the sensor class is stable); check that it exports only
# its descriptor; then certify the module so built.
# Usage: sensor_oot_build.sh BUILD_ROOT SOURCE_ROOT CERTIFY CC...
set -u
build=$1 src=$2 certify=$3
shift 3
command -v pkg-config >/dev/null || { echo "SKIP: pkg-config is not installed"; exit 77; }
command -v nm >/dev/null || { echo "SKIP: nm (binutils) is not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$src/samples/sensor-synth/sensor_synth.c" "$src/samples/sensor-synth/sensor_synth.map" "$tmp/"

export PKG_CONFIG_PATH=$build/meson-uninstalled
cflags=$(pkg-config --cflags vireo-sdk) || { echo "FAIL: pkg-config knows no vireo-sdk"; exit 1; }
libs=$(pkg-config --libs vireo-sdk)
echo "vireo-sdk $(pkg-config --modversion vireo-sdk) (uninstalled): $cflags $libs"
# shellcheck disable=SC2086 # word splitting of the flags is intended
"$@" -std=c11 -Wall -Wextra -Wpedantic -Werror -fPIC -shared -fvisibility=hidden $cflags \
	"$tmp/sensor_synth.c" -o "$tmp/sensor-synth.so" -Wl,--version-script="$tmp/sensor_synth.map" \
	$libs || { echo "FAIL: the sample does not build out of tree"; exit 1; }
syms=$(nm -D --defined-only "$tmp/sensor-synth.so" | awk '{ print $3 }')
if [[ $syms != vireo_driver_descriptor ]]; then
	echo "FAIL: the out-of-tree sensor-synth.so exports: $syms"
	exit 1
fi
echo "built sensor-synth.so out of tree; it exports only vireo_driver_descriptor"
"$certify" --seed 1 "$tmp/sensor-synth.so" || { echo "FAIL: vireo-certify on the out-of-tree build"; exit 1; }
