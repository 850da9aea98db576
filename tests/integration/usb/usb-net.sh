#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# <vireo/usb.h> on a real kernel's usbfs: a lab guest with QEMU's xHCI and usb-net (CDC
# Ethernet) runs this build's usb_probe (ASan) from the host root. `usb_probe net`
# checks descriptors and control transfers, takes the NIC from cdc_ether, and does ARP
# and an ICMP echo with slirp's 10.0.2.2 over async bulk transfers; close gives the
# interfaces back to cdc_ether. `usb_probe hotplug` sees a second usb-net hot-added
# and removed over QMP, with a transfer in flight that must end with -ENODEV. libusb
# learns of hotplug from udevd, so the host root's systemd-udevd runs in the guest.
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
probe=${2:?usb_probe}
it_begin "usb/usb-net-$series"
[[ -x $probe ]] || it_fail "no usb_probe at $probe"
[[ -x /lib/systemd/systemd-udevd ]] || it_fail "no systemd-udevd (Debian package udev; tests/lab/deps.sh)"

g=usb-$series mac=52:54:00:12:34:56 mac2=52:54:00:12:34:57
qmp=$IT_TMP/qmp.sock
asan="export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"

# qmp COMMAND JSON-ARGUMENTS: one QMP command on the guest's monitor.
qmp() {
	python3 - "$qmp" "$1" "$2" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()  # greeting
def run(cmd, args):
    f.write(json.dumps({"execute": cmd, "arguments": args}) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            return r
run("qmp_capabilities", {})
r = run(sys.argv[2], json.loads(sys.argv[3]))
if "error" in r:
    sys.exit("qmp %s: %s" % (sys.argv[2], r["error"]))
EOF
}

# guest_wait FILE SECONDS: waits until FILE exists in the guest (host root's /tmp).
guest_wait() {
	local end=$((SECONDS + $2))
	while ((SECONDS < end)); do
		lab_host "$g" "test -e $1" && return 0
		sleep 1
	done
	return 1
}

it_boot "$g" --kernel "$series" --hostroot --mem 768 -- \
	-device qemu-xhci,id=xhci \
	-netdev user,id=n0,restrict=on -device "usb-net,bus=xhci.0,netdev=n0,mac=$mac" \
	-netdev user,id=n1,restrict=on \
	-qmp "unix:$qmp,server=on,wait=off"

# The usb-net enumerates late in boot, after the lab's coldplug pass: load its driver
# as udev's coldplug would, from its modalias.
lab_host "$g" 'for a in $(cat /sys/bus/usb/devices/*/modalias); do modprobe -q "$a"; done' ||
	it_fail "modprobe of the USB devices' modaliases failed"

# The interface sysfs dir of the usb-net, and the kernel driver bound to its control
# interface (hotplug autoloads cdc_ether at boot).
intf_driver='for d in /sys/bus/usb/devices/*; do
	[ "$(cat $d/idVendor 2>/dev/null):$(cat $d/idProduct 2>/dev/null)" = 0525:a4a2 ] || continue
	basename "$(readlink $d/$(basename $d):1.0/driver 2>/dev/null)"; done'
drv=$(lab_host "$g" "$intf_driver")
it_expect_eq "kernel driver of the usb-net at boot" cdc_ether "$drv"

out=$(lab_host "$g" --timeout 240 "$asan; '$probe' net $mac 2>&1") ||
	it_fail "usb_probe net failed:
$out"
echo "$out"
it_expect_match "cdc_ether detached by the probe" 'detach interface 0: 1 ' "$out"
it_expect_eq "kernel driver after the probe closed the device" cdc_ether \
	"$(lab_host "$g" "$intf_driver")"

# Hotplug: udevd tells libusb about devices (Debian's libusb listens to udev).
# (udevadm's settle and control refuse to work in a chroot: wait for udevd's socket.)
lab_host "$g" '/lib/systemd/systemd-udevd </dev/null >/tmp/udevd.log 2>&1 & echo $! >/tmp/udevd.pid
	for i in $(seq 100); do [ -S /run/udev/control ] && exit 0; sleep 0.1; done; exit 1' ||
	it_fail "systemd-udevd did not start in the guest: $(lab_host "$g" 'cat /tmp/udevd.log')"
lab_host "$g" "mkdir -p /tmp/hp && { $asan; '$probe' hotplug /tmp/hp >/tmp/hp.log 2>&1; echo \$? >/tmp/hp.rc; } </dev/null >/dev/null 2>&1 &" ||
	it_fail "cannot start usb_probe hotplug"
guest_wait /tmp/hp/ready 120 || it_fail "usb_probe hotplug not ready: $(lab_host "$g" 'cat /tmp/hp.log')"
qmp device_add "{\"driver\": \"usb-net\", \"id\": \"hp1\", \"bus\": \"xhci.0\", \"netdev\": \"n1\", \"mac\": \"$mac2\"}" ||
	it_fail "QMP device_add failed"
guest_wait /tmp/hp/armed 120 || it_fail "no transfer armed: $(lab_host "$g" 'cat /tmp/hp.log')"
qmp device_del '{"id": "hp1"}' || it_fail "QMP device_del failed"
guest_wait /tmp/hp.rc 120 || it_fail "usb_probe hotplug did not finish: $(lab_host "$g" 'cat /tmp/hp.log')"
out=$(lab_host "$g" 'cat /tmp/hp.log')
echo "$out"
it_expect_eq "usb_probe hotplug exit status" 0 "$(lab_host "$g" 'cat /tmp/hp.rc')"
lab_host "$g" 'kill $(cat /tmp/udevd.pid)' || echo "note: udevd was gone already"

lab_shutdown "$g" || it_fail "shutdown failed"
it_pass
