#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A module from the kernel's own tree (dummy, plus its dependencies resolved by the
# depmod run on the initramfs) loads with modprobe, does its job, and unloads.
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
it_begin "lab/kmod-intree-$series"
g=kmod-intree-$series
it_boot "$g" --kernel "$series"

lab_run "$g" 'test ! -e /sys/class/net/dummy0' || it_fail "dummy0 exists before modprobe"
lab_run "$g" 'modprobe dummy numdummies=2' || it_fail "modprobe dummy failed"
it_expect_eq "interfaces made by dummy" "dummy0 dummy1" \
	"$(lab_run "$g" 'ls /sys/class/net | grep ^dummy | tr "\n" " " | sed "s/ $//"')"
lab_run "$g" 'ip link set dummy0 up && ip addr add 192.0.2.1/24 dev dummy0' ||
	it_fail "could not configure dummy0"
it_expect_match "dummy0 address" 'inet 192\.0\.2\.1/24' "$(lab_run "$g" 'ip addr show dummy0')"
lab_run "$g" 'modprobe -r dummy' || it_fail "modprobe -r dummy failed"
lab_run "$g" 'test ! -e /sys/module/dummy' || it_fail "dummy still loaded after modprobe -r"
lab_run "$g" 'modprobe no_such_module_vireo' 2>/dev/null && it_fail "modprobe of a missing module succeeded"
echo "ok: a missing module is refused"
it_pass
