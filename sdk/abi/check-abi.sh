#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The ABI gate: compare a built libvireo.so.1 with the checked-in baseline
# (sdk/abi/libvireo.abi) using libabigail's abidiff, and turn the result into one
# verdict. It owns the mapping from abidiff's exit bits to verdicts; what is hidden
# from the comparison is libvireo.abignore, the rules ddk-docs/abi-policy.md.
# Usage: check-abi.sh LIBVIREO_SO [HEADERS_DIR [BASELINE]]
#   HEADERS_DIR: the public headers LIBVIREO_SO was built from (default sdk/include/vireo)
# Exit: 0 no change; 1 a change (each kind has its own message); 2 usage or tool error;
# 77 abidiff is not installed.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ $# -lt 1 || $# -gt 3 ]]; then
	echo "usage: $0 LIBVIREO_SO [HEADERS_DIR [BASELINE]]" >&2
	exit 2
fi
lib=$1
headers=${2:-$here/../include/vireo}
baseline=${3:-$here/libvireo.abi}
suppr=$here/libvireo.abignore
policy=ddk-docs/abi-policy.md
command -v abidiff >/dev/null || { echo "SKIP: abidiff is not installed (Debian: abigail-tools)"; exit 77; }
for f in "$lib" "$baseline" "$suppr"; do
	[[ -r $f ]] || { echo "ERROR: cannot read $f" >&2; exit 2; }
done

# abidiff's exit status is a bit set (libabigail's abidiff_status).
readonly ABIDIFF_ERROR=1 ABIDIFF_USAGE_ERROR=2 ABIDIFF_ABI_CHANGE=4 ABIDIFF_ABI_INCOMPATIBLE_CHANGE=8

# Both sides as XML, dumped the same way (update-baseline.sh): abidiff given the library
# itself and --headers-dir2 reads the two sides differently, and then filters out real
# changes of the types no exported function reaches. -t compares those types too.
new=$(mktemp)
trap 'rm -f "$new"' EXIT
"$here/update-baseline.sh" "$lib" "$new" "$headers" >/dev/null || {
	echo "ERROR: abidw failed on $lib" >&2
	exit 2
}
run_abidiff() {
	abidiff --suppressions "$suppr" --non-reachable-types "$@" "$baseline" "$new"
}

# Pass 1 leaves additions out: what remains is a removal or a change.
report=$(run_abidiff --no-added-syms)
rc=$?
if ((rc & (ABIDIFF_ERROR | ABIDIFF_USAGE_ERROR))); then
	echo "ERROR: abidiff failed (exit $rc):"
	echo "$report"
	exit 2
fi
if ((rc & ABIDIFF_ABI_INCOMPATIBLE_CHANGE)); then
	echo "$report"
	echo "FAIL: incompatible ABI change (a VIREO_1.x symbol or public type removed or" \
		"changed): needs VIREO_2, see $policy"
	exit 1
fi
if ((rc & ABIDIFF_ABI_CHANGE)); then
	echo "$report"
	echo "FAIL: ABI change to a VIREO_1.x function or public type: needs VIREO_2, see $policy" \
		"(members appended to a struct_size-versioned struct are the one exception:" \
		"after review, update the baseline as below)"
	echo "  sdk/abi/update-baseline.sh $lib"
	exit 1
fi

# Pass 2: the same with additions.
report=$(run_abidiff)
rc=$?
if ((rc & (ABIDIFF_ERROR | ABIDIFF_USAGE_ERROR))); then
	echo "ERROR: abidiff failed (exit $rc):"
	echo "$report"
	exit 2
fi
if ((rc & (ABIDIFF_ABI_CHANGE | ABIDIFF_ABI_INCOMPATIBLE_CHANGE))); then
	echo "$report"
	# abidiff names each added symbol as {name@@NODE}. A node the baseline has is closed,
	# but for the one of the minor in development (version.h's): it ships with that minor.
	open_node=$(awk '/#define VIREO_ABI_MAJOR /{maj=$3} /#define VIREO_ABI_MINOR /{min=$3}
		END {print "VIREO_" maj "." min}' "$headers/version.h")
	for sym in $(grep -oE '\{[A-Za-z0-9_]+@@[A-Za-z0-9_.]+\}' <<<"$report" | tr -d '{}'); do
		if [[ ${sym#*@@} != "$open_node" ]] && grep -q "version='${sym#*@@}'" "$baseline"; then
			echo "FAIL: ${sym%@@*} was added to ${sym#*@@}, a node the baseline already has:" \
				"each minor adds its own node VIREO_1.N (see $policy)"
			exit 1
		fi
	done
	echo "FAIL: compatible ABI additions not in the baseline: check that each new symbol" \
		"sits in a new VIREO_1.N node of sdk/libvireo.map (see $policy), then update the" \
		"baseline in the same change:"
	echo "  sdk/abi/update-baseline.sh $lib"
	exit 1
fi
echo "PASS: $(basename "$lib") has the ABI of $(basename "$baseline")" \
	"(EXPERIMENTAL, VIREO_INTERNAL and vireo_core_* not compared)"
exit 0
