#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lab_boot --hostroot --iommu: host-built programs run in the guest on its own kernel
# (lab_host), modprobe reaches the guest kernel's whole module tree, and a QEMU NVMe
# controller behind the vIOMMU can be handed to vfio-pci: what the PCI, USB and sensor
# driver tests stand on.
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
it_begin "lab/hostroot-$series"
g=hostroot-$series
img=$IT_TMP/nvme.img
truncate -s 16M "$img"
it_boot "$g" --kernel "$series" --hostroot --iommu --mem 768 -- \
	-drive "if=none,id=nv0,file=$img,format=raw" -device nvme,serial=vireo-lab,drive=nv0

kver=$(cat "$(lab_guests_dir)/$g/kver")
it_expect_eq "kernel seen from the host root" "$kver" "$(lab_host "$g" 'uname -r')"
# A program of this build, dynamically linked against the host's libraries.
it_expect_match "a host-built program runs" 'vireoctl' \
	"$(lab_host "$g" "'$VIREO_BUILD_ROOT/vmm-core/daemon/vireoctl' --help 2>&1 | head -n 3")"
lab_host "$g" 'touch /usr/vireo-must-fail' 2>/dev/null && it_fail "the host root is writable"
echo "ok: the host root is read-only"
# veth is not in the initramfs: it can only come from the kernel's own tree.
lab_host "$g" 'modprobe veth && test -d /sys/module/veth' || it_fail "modprobe veth from the module tree failed"
echo "ok: modprobe reaches the whole module tree"

# The NVMe controller: the nvme driver took it at boot (hotplug from the host root's
# modprobe); hand it to vfio-pci as a user-space driver would find it.
bdf=$(lab_host "$g" 'for d in /sys/bus/pci/devices/*; do [ "$(cat $d/class)" = 0x010802 ] && basename $d; done')
[[ -n $bdf ]] || it_fail "no NVMe controller in the guest"
it_expect_eq "driver of $bdf at boot" nvme "$(lab_host "$g" "basename \$(readlink /sys/bus/pci/devices/$bdf/driver)")"
group=$(lab_host "$g" "modprobe vfio-pci && d=/sys/bus/pci/devices/$bdf &&
	echo $bdf >\$d/driver/unbind && echo vfio-pci >\$d/driver_override &&
	echo $bdf >/sys/bus/pci/drivers_probe && basename \$(readlink \$d/iommu_group)") ||
	it_fail "could not bind $bdf to vfio-pci"
it_expect_eq "driver of $bdf after the rebind" vfio-pci \
	"$(lab_host "$g" "basename \$(readlink /sys/bus/pci/devices/$bdf/driver)")"
lab_host "$g" "test -c /dev/vfio/$group && test -c /dev/vfio/vfio" ||
	it_fail "/dev/vfio/$group or /dev/vfio/vfio missing"
echo "ok: $bdf is in IOMMU group $group, /dev/vfio/$group is there"

lab_shutdown "$g" || it_fail "shutdown failed"
it_pass
