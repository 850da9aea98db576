#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every C source and header follows .clang-format. Prints the files that do not,
# with the command that fixes them.
set -u
cd "$(dirname "$(readlink -f "$0")")/../.." || exit 1
command -v clang-format >/dev/null || { echo "SKIP: clang-format is not installed"; exit 77; }
mapfile -t files < <(find sdk vmm-core drivers guest-tools samples tests \
	\( -name '*.c' -o -name '*.h' \) -type f | sort)
bad=()
for f in "${files[@]}"; do
	clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
echo "checked ${#files[@]} files"
if ((${#bad[@]})); then
	printf 'not formatted: %s\n' "${bad[@]}"
	echo "fix with: clang-format -i ${bad[*]}"
	exit 1
fi
