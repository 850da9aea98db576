#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Files cross the lab's share both ways byte for byte, and a command's stdout,
# stderr and exit status come back apart.
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
it_begin "lab/copy-$series"
g=copy-$series
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; it_cleanup' EXIT
it_boot "$g" --kernel "$series"

head -c 1048577 /dev/urandom >"$tmp/in.bin"
lab_copy_in "$g" "$tmp/in.bin" /root/sub/in.bin || it_fail "copy-in failed"
it_expect_eq "checksum in the guest" "$(sha256sum <"$tmp/in.bin" | cut -d' ' -f1)" \
	"$(lab_run "$g" 'sha256sum </root/sub/in.bin' | cut -d' ' -f1)"

lab_run "$g" 'head -c 65536 /dev/urandom >/root/out.bin' || it_fail "guest write failed"
want=$(lab_run "$g" 'sha256sum </root/out.bin' | cut -d' ' -f1)
lab_copy_out "$g" /root/out.bin "$tmp/out.bin" || it_fail "copy-out failed"
it_expect_eq "checksum on the host" "$want" "$(sha256sum <"$tmp/out.bin" | cut -d' ' -f1)"

out=$(lab_run "$g" 'echo to-out; echo to-err >&2; exit 7' 2>"$tmp/err")
rc=$?
it_expect_eq "exit status" 7 "$rc"
it_expect_eq "stdout" to-out "$out"
it_expect_eq "stderr" to-err "$(cat "$tmp/err")"
it_pass
