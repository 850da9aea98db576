#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The ABI reference builds from the public headers' doc comments with no warning at all:
# every public function, parameter, return value, struct member, enum value and macro
# of every sdk/include/vireo/*.h is documented and every explicit reference resolves.
# Prints each problem as FILE:LINE: text. Then proves the check can fail, on a header
# with one gap of each kind.
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
echo "the reference documents every public name of ${#headers[@]} headers"

# The check can fail: a copy of the headers plus one with a gap of each kind it must
# name, three of which (enum value, op return, no @file) Doxygen 1.9.4 lets through.
mkdir -p "$tmp/bad/sdk/include/vireo" "$tmp/bad/ddk-docs" &&
	cp "${headers[@]}" "$tmp/bad/sdk/include/vireo/" &&
	cp -r ddk-docs/reference "$tmp/bad/ddk-docs/" || exit 1
cat >"$tmp/bad/sdk/include/vireo/zz_gaps.h" <<'H'
/**
 * @file
 * @brief Deliberate documentation gaps, for the check's own test.
 */
/** Documented enum. */
enum zz_kind {
	ZZ_DOCUMENTED = 1, /**< documented value */
	ZZ_BARE = 2,
};
/** Documented struct. */
struct zz_s {
	int documented; /**< documented member */
	int bare;
};
/**
 * @brief Documented function.
 * @param a documented.
 */
int zz_fn(int a, int b);
/**
 * @brief Documented op.
 * @param a documented.
 */
typedef int (*zz_op_t)(int a);
H
printf '/** @brief Documented, in a header without a file comment. */\nint zz_hidden(void);\n' \
	>"$tmp/bad/sdk/include/vireo/zz_nofile.h"
out=$(ddk-docs/reference/build.sh "$tmp/bad" "$tmp/bad/reference" 2>&1)
rc=$?
want=(
	"sdk/include/vireo/zz_gaps.h:8: enum value ZZ_BARE"
	"sdk/include/vireo/zz_gaps.h:13: .*bare.*not documented"
	"sdk/include/vireo/zz_gaps.h:[0-9]*: .*parameter 'b'"
	"sdk/include/vireo/zz_gaps.h:[0-9]*: .*return type of member zz_fn"
	"sdk/include/vireo/zz_gaps.h:[0-9]*: return type of function pointer zz_op_t"
	"sdk/include/vireo/zz_nofile.h:1: no @file comment"
)
bad=0
((rc == 1)) || { echo "FAIL: the check passed headers with gaps (status $rc)"; bad=1; }
for w in "${want[@]}"; do
	grep -q -- "$w" <<<"$out" || { echo "FAIL: the check did not report: $w"; bad=1; }
done
if ((bad)); then
	printf '%s\n' "its output was:" "$out"
	exit 1
fi
echo "and it reports each kind of gap in a header that has them (${#want[@]} of ${#want[@]})"
