#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The out-of-tree vireo_hello module, built by the top-level Kbuild against this
# kernel's own headers, carries the kernel's vermagic, loads with a parameter, logs,
# and unloads.
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
it_begin "lab/kmod-hello-$series"
kver=$(lab_kernel_of_series "$series") || it_fail "no kernel set up for $series"
g=kmod-hello-$series
it_boot "$g" --kernel "$series"

vermagic=$(lab_run "$g" 'modinfo -F vermagic vireo_hello')
[[ $vermagic == "$kver "* ]] || it_fail "vermagic '$vermagic' is not for $kver"
echo "ok: vermagic is $kver's"
word=w$RANDOM
lab_run "$g" "modprobe vireo_hello greeting=$word" || it_fail "modprobe vireo_hello failed"
it_expect_eq "parameter in sysfs" "$word" "$(lab_run "$g" 'cat /sys/module/vireo_hello/parameters/greeting')"
lab_run "$g" dmesg | grep -qF "vireo_hello: $word from $kver" || it_fail "no load message in dmesg"
echo "ok: load message logged"
lab_run "$g" 'rmmod vireo_hello' || it_fail "rmmod vireo_hello failed"
lab_run "$g" 'test ! -e /sys/module/vireo_hello' || it_fail "still loaded after rmmod"
lab_run "$g" dmesg | grep -qF "vireo_hello: goodbye ($word)" || it_fail "no unload message in dmesg"
echo "ok: unload message logged"
it_pass
