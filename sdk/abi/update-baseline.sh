#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerate the ABI baseline sdk/abi/libvireo.abi from a freshly built libvireo.so.1
# (libabigail's abidw). It owns the abidw options, chosen so that the same sources and
# compiler give the same XML in any build directory and on any machine; the gate that
# reads the baseline is check-abi.sh, the rules for when to run this ddk-docs/abi-policy.md.
# Usage: update-baseline.sh LIBVIREO_SO [OUT [HEADERS_DIR]]
#   HEADERS_DIR: the public headers LIBVIREO_SO was built from (default sdk/include/vireo)
set -eu
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ $# -lt 1 || $# -gt 3 ]]; then
	echo "usage: $0 LIBVIREO_SO [OUT [HEADERS_DIR]]" >&2
	exit 2
fi
lib=$1
out=${2:-$here/libvireo.abi}
headers=${3:-$here/../include/vireo}
command -v abidw >/dev/null || { echo "abidw not found: apt-get install abigail-tools" >&2; exit 1; }

# --headers-dir: only types defined in the public headers are ABI; --load-all-types:
# with them the types no exported function reaches (the descriptor and what it points
# to, kept in the library by sdk/abi/abi_types.c). The rest drops what depends on the
# machine or the build directory: corpus and compilation paths, DT_NEEDED, the
# undefined (libc) symbols; hashed type ids keep the XML of an unchanged type unchanged
# when others come or go. Source locations stay (libvireo.abignore tells public types
# from private ones by them), with their paths cut to start inside the source tree.
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
abidw --headers-dir "$headers" \
	--no-corpus-path --no-comp-dir-path --no-elf-needed \
	--drop-undefined-syms --type-id-style hash --load-all-types \
	--out-file "$tmp" "$lib"
# Paths are as the compiler saw them, from the build directory (../sdk/include/vireo/x.h,
# ../../src/vmm-core/lib/x.c, /usr/include/...): keep those inside the tree from sdk/ or
# vmm-core/ on, and only the name of the others (their place varies by machine).
sed -E -e "s#((path|filepath)=')[^']*/((sdk|vmm-core)/[^']*')#\1\3#g" \
	-e "s#((path|filepath)=')/[^']*/([^/']*')#\1\3#g" "$tmp" >"$out"
echo "wrote $(basename "$out") from $lib"
