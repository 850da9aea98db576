#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Discard from the guest punches holes in the backing file (the host gets the space
# back), and a readonly=on disk is read-only in the guest and refuses writes.
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
it_begin "blk/discard-readonly-$series"
img=$IT_TMP/disk.raw ro=$IT_TMP/ro.raw
truncate -s 64M "$img"
head -c 1M /dev/urandom >"$ro"
ro_sum=$(sha256sum <"$ro" | cut -d' ' -f1)
it_vireod "$IT_TMP" \
	--device "blk,id=disk0,driver=file,path=$img,socket=$IT_TMP/disk0.sock" \
	--device "blk,id=ro0,driver=file,path=$ro,socket=$IT_TMP/ro0.sock,readonly=on"
mapfile -t d0 < <(it_blk_args "$IT_TMP/disk0.sock" d0)
mapfile -t d1 < <(it_blk_args "$IT_TMP/ro0.sock" d1)

g=blk-dr-$series
it_boot "$g" --kernel "$series" -- "${d0[@]}" "${d1[@]}"

# Discard
lab_run "$g" 'dd if=/dev/urandom of=/dev/vda bs=1M count=16 seek=8 conv=fsync 2>/dev/null' ||
	it_fail "writing 16 MiB failed"
before=$(($(stat -c %b "$img") * 512))
((before >= 16 * 1024 * 1024)) || it_fail "backing file holds only $before bytes after 16 MiB written"
it_expect_match "discard offered" '^[1-9]' "$(lab_run "$g" 'cat /sys/block/vda/queue/discard_max_bytes')"
lab_run "$g" 'blkdiscard -o 8388608 -l 16777216 /dev/vda' || it_fail "blkdiscard failed"
after=$(($(stat -c %b "$img") * 512))
echo "ok: backing file allocation $before -> $after bytes"
((after <= before - 15 * 1024 * 1024)) || it_fail "discard returned only $((before - after)) bytes"
it_expect_eq "discarded range reads as zeroes" 0 \
	"$(lab_run "$g" 'dd if=/dev/vda bs=1M count=16 skip=8 2>/dev/null | tr -d "\0" | wc -c')"

# Read-only
it_expect_eq "ro flag in the guest" 1 "$(lab_run "$g" 'cat /sys/block/vdb/ro')"
it_expect_eq "ro disk reads the host bytes" "$ro_sum" \
	"$(lab_run "$g" 'sha256sum </dev/vdb' | cut -d' ' -f1)"
lab_run "$g" 'dd if=/dev/zero of=/dev/vdb bs=4096 count=1 conv=fsync 2>/dev/null' &&
	it_fail "a write to the read-only disk succeeded"
echo "ok: write to the read-only disk refused"
it_expect_eq "ro backing file unchanged" "$ro_sum" "$(sha256sum <"$ro" | cut -d' ' -f1)"
lab_shutdown "$g"
it_pass
