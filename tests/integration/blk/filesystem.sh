#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A guest with the kernel's own virtio_blk gets its disk from vireod (blk-file driver,
# io_uring): mkfs, files written and synced, the guest powered off and booted again
# on the same vireod, and every file's checksum is the same; vireoctl shows the I/O.
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
it_begin "blk/filesystem-$series"
img=$IT_TMP/disk.raw
truncate -s 64M "$img"
it_vireod "$IT_TMP" --device "blk,id=disk0,driver=file,path=$img,socket=$IT_TMP/disk0.sock"
mapfile -t disk < <(it_blk_args "$IT_TMP/disk0.sock" d0)

g=blk-fs-$series
it_boot "$g" --kernel "$series" -- "${disk[@]}"
it_expect_eq "disk size in 512-byte sectors" 131072 "$(lab_run "$g" 'cat /sys/block/vda/size')"
lab_run "$g" 'mke2fs /dev/vda >/dev/null && mkdir -p /mnt && mount -t ext4 /dev/vda /mnt' ||
	it_fail "mkfs/mount failed: $(lab_run "$g" 'dmesg | tail -n 5')"
lab_run "$g" 'for i in 1 2 3 4 5; do head -c $((i * 700000)) /dev/urandom >/mnt/f$i; done
	sync && cd /mnt && sha256sum f1 f2 f3 f4 f5 >/mnt/sums && sync' || it_fail "writing files failed"
sums=$(lab_run "$g" 'cat /mnt/sums')
lab_run "$g" 'umount /mnt' || it_fail "umount failed"
lab_shutdown "$g" || it_fail "guest did not power off"

stats=$(it_vireoctl --json device stats disk0)
it_expect_match "writes counted" '"writes": ?[1-9]' "$stats"
it_expect_match "no request failed" '"errors": ?0,' "$stats"

g2=blk-fs2-$series
it_boot "$g2" --kernel "$series" -- "${disk[@]}"
lab_run "$g2" 'mkdir -p /mnt && mount -t ext4 /dev/vda /mnt' || it_fail "remount failed"
it_expect_eq "checksums after reboot" "$sums" "$(lab_run "$g2" 'cd /mnt && sha256sum f1 f2 f3 f4 f5')"
lab_run "$g2" 'cd /mnt && sha256sum -c sums >/dev/null' || it_fail "sha256sum -c failed"
lab_shutdown "$g2"

it_vireod_stop
it_expect_eq "vireod exit status after SIGTERM" 0 "$IT_VIREOD_RC"
it_pass
