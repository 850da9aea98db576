#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# PCI through VFIO against real (emulated) devices: two QEMU NVMe controllers in a lab
# guest with a vIOMMU, handed to vfio-pci, driven by the build's own nvme_probe (ASan +
# UBSan in make check) on the guest's kernel through the public SDK alone: config
# space, BAR0, reset and enable, admin queues in DMA memory at the device's IOVA,
# IDENTIFY CONTROLLER completed through an MSI-X eventfd on a loop, function reset and
# bring-up again, the IOVA allocator reusing a hole, a data buffer mapped for both
# controllers at once (each its own IOVA), unmaps, close, and the refusals.
# Usage: nvme-vfio.sh SERIES PROBE
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
probe=${2:?path of nvme_probe}
it_begin "pci/nvme-vfio-$series"
g=pcivfio-$series
serial=vireo-pci-$series
serial2=vireo-pci2-$series
truncate -s 16M "$IT_TMP/nvme0.img" "$IT_TMP/nvme1.img"
# Two controllers at fixed slots: the second shares a DMA buffer with the first.
bdf=0000:00:10.0
bdf2=0000:00:11.0
# no_timer_check: under a loaded TCG host the kernel's IO-APIC timer check through the
# vIOMMU's interrupt remapping can miss its window, and with remapping on that panics.
it_boot "$g" --kernel "$series" --hostroot --iommu --mem 768 --append no_timer_check -- \
	-drive "if=none,id=nv0,file=$IT_TMP/nvme0.img,format=raw" \
	-device "nvme,serial=$serial,drive=nv0,addr=0x10" \
	-drive "if=none,id=nv1,file=$IT_TMP/nvme1.img,format=raw" \
	-device "nvme,serial=$serial2,drive=nv1,addr=0x11"

for f in $bdf $bdf2; do
	it_expect_eq "class of $f" 0x010802 "$(lab_host "$g" "cat /sys/bus/pci/devices/$f/class")"
	lab_host "$g" "modprobe vfio-pci && d=/sys/bus/pci/devices/$f &&
		{ [ ! -e \$d/driver ] || echo $f >\$d/driver/unbind; } && echo vfio-pci >\$d/driver_override &&
		echo $f >/sys/bus/pci/drivers_probe" || it_fail "could not bind $f to vfio-pci"
	it_expect_eq "driver of $f" vfio-pci "$(lab_host "$g" "basename \$(readlink /sys/bus/pci/devices/$f/driver)")"
done
# Any function bound to another driver serves as the refusal case.
other=$(lab_host "$g" 'for d in /sys/bus/pci/devices/*; do [ "$(basename "$(readlink $d/driver)")" = virtio-pci ] && { basename $d; break; }; done')
[[ -n $other ]] || it_fail "no virtio-pci function in the guest to refuse"

# Two free 2 MiB pages, if the guest kernel can find them, so the data buffer gets one.
huge=$(lab_host "$g" 'h=/sys/kernel/mm/hugepages/hugepages-2048kB; echo 2 >$h/nr_hugepages; cat $h/free_hugepages')
expect=()
if [[ $huge -ge 2 ]]; then
	expect=(--expect-huge)
	echo "ok: 2 MiB pages reserved in the guest: the data buffer must get one"
else
	echo "note: the guest could not reserve 2 MiB pages: the data buffer falls back to 4 KiB"
fi

out=$(lab_host "$g" --timeout 120 "ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 '$probe' $bdf $serial $other --second $bdf2 $serial2 ${expect[*]} 2>&1")
rc=$?
echo "$out"
((rc == 0)) || it_fail "nvme_probe failed (exit $rc)"
it_expect_match "nvme_probe's summary" ': 0 failures$' "$out"
it_expect_match "the refusal of a function bound to another driver names it" \
	"$other is bound to virtio-pci, not vfio-pci" "$out"

lab_shutdown "$g" || it_fail "shutdown failed"
it_pass
