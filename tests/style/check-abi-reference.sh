#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The ABI reference builds from the public headers' doc comments with no warning at all:
# every public function, parameter, return value, struct member, enum value and macro
# of every sdk/include/vireo/*.h is documented and every explicit reference resolves.
# Prints each problem as FILE:LINE: text.
set -u
cd "$(dirname "$(readlink -f "$0")")/../.." || exit 1
command -v doxygen >/dev/null ||
	{ echo "SKIP: doxygen is not installed (tests/lab/deps.sh lists it)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
headers=(sdk/include/vireo/*.h)
echo "doxygen $(doxygen --version) on ${#headers[@]} headers: ${headers[*]##*/}"
ddk-docs/reference/build.sh . "$tmp/reference"
rc=$?
if ((rc != 0)); then
	((rc == 1)) && echo "FAIL: fix the doc comments at the lines above (the settings and" \
		"what they check are in ddk-docs/reference/Doxyfile); see them with:" \
		"ninja -C build abi-reference"
	((rc != 1)) && echo "FAIL: the ABI reference could not be built (status $rc)"
	exit 1
fi
# Every header has its page, so none fell outside Doxygen's input.
missing=()
for h in "${headers[@]}"; do
	page=${h##*/}
	page=${page%.h}
	page=$tmp/reference/html/${page//_/__}_8h.html # Doxygen doubles underscores
	[[ -f $page ]] || missing+=("$h")
done
if ((${#missing[@]})); then
	echo "FAIL: the reference has no page for: ${missing[*]}"
	exit 1
fi
echo "the reference documents every public name of ${#headers[@]} headers"
