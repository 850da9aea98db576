#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The lab fails loudly and in bounded time: a guest whose kernel panics is reported at
# once with its console's last lines and the log's path; a command that overruns its
# limit returns 124; a guest that overruns its lifetime is killed.
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
it_begin "lab/failures"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; it_cleanup' EXIT

g=panic-$series
IT_GUESTS+=("$g")
start=$SECONDS
if lab_boot "$g" --kernel "$series" --append "rdinit=/no/such/init" 2>"$tmp/boot.err"; then
	it_fail "a guest without an init booted"
fi
((SECONDS - start < 60)) || it_fail "the panic took $((SECONDS - start)) s to notice"
grep -q 'Kernel panic' "$tmp/boot.err" || it_fail "the console tail was not shown: $(cat "$tmp/boot.err")"
grep -q "$(lab_guests_dir)/$g/console.log" "$tmp/boot.err" || it_fail "the log path was not named"
echo "ok: panic reported in $((SECONDS - start)) s with the console tail"

g=slow-$series
# The lifetime leaves room for a slow boot on a loaded machine.
it_boot "$g" --kernel "$series" --timeout 40
lab_run "$g" --timeout 2 'sleep 8' 2>/dev/null
it_expect_eq "status of an overrun command" 124 "$?"
it_expect_eq "the guest still answers" ok "$(lab_run "$g" 'echo ok')"
start=$SECONDS
while lab_qemu_alive "$g" && ((SECONDS - start < 80)); do sleep 1; done
lab_qemu_alive "$g" && it_fail "the guest outlived its 40 s lifetime"
grep -q 'lifetime limit' "$(lab_guests_dir)/$g/qemu.log" || it_fail "qemu.log does not say why"
echo "ok: killed at its lifetime limit"
it_pass
