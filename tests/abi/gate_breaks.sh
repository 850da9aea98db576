#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The ABI gate can fail: build variants of libvireo in a temporary directory, each
# changed in one way, run sdk/abi/check-abi.sh on each and expect its verdict. Breaks
# must fail with "needs VIREO_2", an addition with the baseline-update message, and
# changes the gate must not see (EXPERIMENTAL, the core's private types) must pass.
# The unchanged copy comes first: it proves that this build matches the baseline.
# Owns the variants only; the gate is sdk/abi/, the baseline's test abi/gate.
# Usage: gate_breaks.sh SOURCE_ROOT CC...
# shellcheck disable=SC2016 # the edits are perl expressions: $1 is perl's
set -u
src=$1
shift
command -v abidiff >/dev/null || { echo "SKIP: abidiff is not installed (Debian: abigail-tools)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# The sources as they are, laid out as in the tree (the dump keeps paths from sdk/ on).
fresh_copy() {
	rm -rf "$tmp/src"
	mkdir -p "$tmp/src/sdk/abi" "$tmp/src/vmm-core/lib" "$tmp/src/build"
	cp -r "$src/sdk/include" "$src/sdk/libvireo.map" "$tmp/src/sdk/"
	cp "$src/sdk/abi/abi_types.c" "$tmp/src/sdk/abi/"
	cp "$src"/vmm-core/lib/*.c "$src"/vmm-core/lib/*.h "$tmp/src/vmm-core/lib/"
}

# libvireo as vmm-core/lib/meson.build builds it (debugoptimized: -O2 -g).
build_lib() {
	(cd "$tmp/src/build" && "$@" -std=c11 -O2 -g -fPIC -shared -fvisibility=hidden \
		-D_GNU_SOURCE -DVIREO_ALLOW_EXPERIMENTAL -fno-strict-aliasing -I../sdk/include \
		../vmm-core/lib/*.c ../sdk/abi/abi_types.c -o libvireo.so.1 -pthread \
		-Wl,-soname,libvireo.so.1 -Wl,--version-script=../sdk/libvireo.map)
}

# edit FILE PERL-EXPR: change one file of the copy; the expression must match.
edit() {
	local f=$tmp/src/$1
	cp "$f" "$f.orig"
	perl -0pi -e "$2" "$f"
	if cmp -s "$f" "$f.orig"; then
		echo "FAIL: the edit '$2' changed nothing in $1 (has the source moved on?)"
		exit 1
	fi
}

# expect NAME MESSAGE: build the copy, run the gate, want MESSAGE in its verdict.
expect() {
	local name=$1 want=$2 out
	if ! build_lib "${cc[@]}" >"$tmp/cc.log" 2>&1; then
		echo "FAIL: $name: the variant does not build:"
		cat "$tmp/cc.log"
		fail=1
		return
	fi
	out=$("$src/sdk/abi/check-abi.sh" "$tmp/src/build/libvireo.so.1" "$tmp/src/sdk/include/vireo")
	if [[ $out == *"$want"* ]]; then
		echo "ok: $name: $(grep -m1 -E '^(PASS|FAIL|ERROR):' <<<"$out")"
	else
		echo "FAIL: $name: wanted '$want'; the gate said:"
		echo "$out"
		fail=1
	fi
}

cc=("$@")
fresh_copy
expect "unchanged copy" "PASS:"

fresh_copy
edit sdk/include/vireo/blk.h \
	's/(\tuint32_t logical_block_size;[^\n]*\n)(\tuint32_t physical_block_size;[^\n]*\n)/$2$1/'
expect "two members of struct vireo_blk_geometry swapped" "needs VIREO_2"

fresh_copy
edit sdk/libvireo.map 's/\n\t\tvireo_blk_read_only;//'
expect "vireo_blk_read_only left out of the map" "needs VIREO_2"

fresh_copy
edit sdk/include/vireo/blk.h 's/(vireo_blk_queue_loop\(struct vireo_blk \*blk, )unsigned int/${1}uint64_t/'
edit vmm-core/lib/blk.c 's/(vireo_blk_queue_loop\(struct vireo_blk \*blk, )unsigned int/${1}uint64_t/'
expect "vireo_blk_queue_loop's queue made uint64_t" "needs VIREO_2"

fresh_copy
edit vmm-core/lib/blk.c 's/\z/\nVIREO_API int vireo_blk_abi_probe(void);\nint vireo_blk_abi_probe(void)\n{\n\treturn 0;\n}\n/'
edit sdk/libvireo.map 's/(\nVIREO_1\.1 \{\n\tglobal:\n)/$1\t\tvireo_blk_abi_probe;\n/'
expect "vireo_blk_abi_probe added in VIREO_1.1 (the open node)" "compatible ABI additions"

fresh_copy
edit vmm-core/lib/blk.c 's/\z/\nVIREO_API int vireo_blk_abi_probe(void);\nint vireo_blk_abi_probe(void)\n{\n\treturn 0;\n}\n/'
edit sdk/libvireo.map 's/(\t\tvireo_blk_set_priv;)/$1\n\t\tvireo_blk_abi_probe;/'
expect "vireo_blk_abi_probe added to VIREO_1.0" "a node the baseline already has"

fresh_copy
edit sdk/include/vireo/log.h 's/(vireo_log_hexdump\(enum vireo_log_level level, const char \*tag,)/$1 int extra,/'
edit vmm-core/lib/log.c 's/(vireo_log_hexdump\(enum vireo_log_level level, const char \*tag,)/$1 int extra,/'
expect "EXPERIMENTAL vireo_log_hexdump changed (not compared)" "PASS:"

fresh_copy
edit vmm-core/lib/internal.h 's/(struct vireo_blk \{\n)/$1\tuint64_t abi_probe;\n/'
expect "a member added to the core's struct vireo_blk (private)" "PASS:"

exit $fail
