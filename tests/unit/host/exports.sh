#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The ABI surface, as the dynamic linker sees it: libvireo.so exports exactly the
# symbols of sdk/libvireo.map, each in its version node and each named vireo_*; every
# driver module exports its descriptor and nothing else.
# Usage: exports.sh LIBVIREO MAP DRIVER.so...
set -u
lib=$1 map=$2
shift 2
command -v nm >/dev/null || { echo "SKIP: nm (binutils) is not installed"; exit 77; }
fail=0

# "symbol@@NODE" for every defined dynamic symbol (the node names themselves excluded).
exported() {
	nm -D --defined-only "$1" | awk '$2 != "A" { print $3 }' | sort
}

want=$(awk '
	/^[A-Za-z_][A-Za-z0-9_.]* *\{/ { node = $1; next }
	/^\}/ { node = ""; next }
	node != "" && /^[ \t]+[a-z_][a-z0-9_]*;/ { gsub(/[ \t;]/, ""); print $0 "@@" node }
' "$map" | sort)
have=$(exported "$lib")
if [[ $want != "$have" ]]; then
	echo "FAIL: $lib exports differ from $map (< map, > library):"
	diff <(echo "$want") <(echo "$have")
	fail=1
fi
if grep -v '^vireo_' <<<"$have" | grep -q .; then
	echo "FAIL: exports not named vireo_*:"
	grep -v '^vireo_' <<<"$have"
	fail=1
fi
echo "$(wc -l <<<"$have") symbols exported by $(basename "$lib")"

for drv in "$@"; do
	have=$(nm -D --defined-only "$drv" | awk '{ print $3 }' | sort)
	if [[ $have != vireo_driver_descriptor ]]; then
		echo "FAIL: $drv must export only vireo_driver_descriptor; it exports:"
		echo "$have"
		fail=1
	else
		echo "$(basename "$drv") exports only vireo_driver_descriptor"
	fi
done
exit $fail
