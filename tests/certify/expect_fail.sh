#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs vireo-certify on a driver that must fail, and passes only if it exits 1 and
# names the failing check: expect_fail.sh CERTIFY DRIVER.so CHECK [ARGS...]
set -u
certify=$1 driver=$2 check=$3
shift 3
out=$("$certify" "$@" "$driver" 2>&1)
rc=$?
printf '%s\n' "$out"
if [[ $rc -ne 1 ]]; then
	echo "expect_fail: vireo-certify exited $rc, expected 1"
	exit 1
fi
if ! grep -q "^FAIL $check: " <<<"$out"; then
	echo "expect_fail: no 'FAIL $check:' line"
	exit 1
fi
echo "expect_fail: failed as it should, on $check"
