#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A stock Debian kernel of the series boots to the lab's test init, runs the expected
# kernel release, and powers off cleanly when asked (QEMU exits by itself).
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
it_begin "lab/boot-$series"
kver=$(lab_kernel_of_series "$series") || it_fail "no kernel set up for $series"
g=boot-$series

it_boot "$g" --kernel "$series"
grep -q "vireo-lab: init reached: kernel $kver" "$(lab_guests_dir)/$g/console.log" ||
	it_fail "console does not show the test init on $kver"
echo "ok: test init reached in $(cat "$(lab_guests_dir)/$g/boot-seconds") s"
it_expect_eq "uname -r" "$kver" "$(lab_run "$g" uname -r)"
it_expect_eq "PID 1" "/init" "$(lab_run "$g" 'tr "\0" " " </proc/1/cmdline' | cut -d' ' -f2)"
it_expect_match "guest RAM" '^MemTotal: +[0-9]+ kB' "$(lab_run "$g" 'grep MemTotal /proc/meminfo')"

lab_shutdown "$g" || it_fail "guest did not power off"
lab_qemu_alive "$g" && it_fail "QEMU still runs after power-off"
grep -q 'reboot: Power down' "$(lab_guests_dir)/$g/console.log" ||
	it_fail "console does not show the kernel powering down"
echo "ok: powered off"
it_pass
