#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vireod is killed with SIGKILL while the guest writes and fsyncs, and started again
# on the same socket; QEMU reconnects (reconnect=1), hands back the in-flight region,
# vireod resubmits what was in flight, and the guest's writes carry on. Every write
# the guest saw complete (each followed by fsync) is in the backing file afterwards.
#   crash-recovery.sh SERIES [THREADS]   THREADS: vireod --threads (default per queue)
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
threads=${2:-}
variant=$series${threads:+-$threads}
it_begin "blk/crash-recovery-$variant"
img=$IT_TMP/disk.raw
truncate -s 64M "$img"
spec="blk,id=disk0,driver=file,path=$img,socket=$IT_TMP/disk0.sock"
it_vireod "$IT_TMP" ${threads:+--threads "$threads"} --device "$spec"

g=blk-crash-$variant
it_boot "$g" --kernel "$series" -- -chardev "socket,id=d0,path=$IT_TMP/disk0.sock,reconnect=1" \
	-device vhost-user-blk-pci,chardev=d0,num-queues=1
share=$(lab_guests_dir)/$g/share

# Four writers, each on its own 200 blocks, so that several requests are in flight
# when vireod dies: block i (64 KiB) of random data, fsync, then its checksum goes to
# the host through the share, so the host learns of a write only once it is durable.
lab_run "$g" 'cat >/run/writer <<"EOF"
k=$1
i=$((k * 200))
end=$((i + 200))
while [ $i -lt $end ]; do
	head -c 65536 /dev/urandom >/run/blk.$k
	dd if=/run/blk.$k of=/dev/vda bs=65536 seek=$i conv=fsync 2>/dev/null || exit 1
	echo "$i $(sha256sum </run/blk.$k | cut -d" " -f1)" >>/lab/share/acked.$k
	i=$((i + 1))
done
echo done >/lab/share/finished.$k
EOF
for k in 0 1 2 3; do setsid sh /run/writer $k </dev/null >/dev/null 2>&1 & done' ||
	it_fail "could not start the writers"
acked() { cat "$share"/acked.* 2>/dev/null | wc -l; }

# Let some writes complete, then kill vireod in the middle of the stream.
for _ in $(seq 200); do
	(($(acked) >= 40)) && break
	sleep 0.1
done
before=$(acked)
((before >= 40)) || it_fail "the writer did not get going ($before writes)"
kill -KILL "$IT_VIREOD_PID"
wait "$IT_VIREOD_PID" 2>/dev/null
IT_VIREOD_PID=
echo "ok: vireod killed after $before acknowledged writes"
sleep 1
it_vireod "$IT_TMP" ${threads:+--threads "$threads"} --device "$spec"
echo "ok: vireod restarted"

finished() { ls "$share"/finished.* 2>/dev/null | wc -l; }
for _ in $(seq 900); do
	(($(finished) == 4)) && break
	lab_qemu_alive "$g" || break
	sleep 0.2
done
(($(finished) == 4)) ||
	it_fail "the guest's writes did not finish after the restart ($(acked) acknowledged)"
total=$(acked)
it_expect_eq "writes acknowledged" 800 "$total"
echo "ok: $((total - before)) of them after the restart"

bad=0
while read -r i sum; do
	got=$(dd if="$img" bs=65536 skip="$i" count=1 2>/dev/null | sha256sum | cut -d' ' -f1)
	[[ $got == "$sum" ]] || bad=$((bad + 1))
done < <(cat "$share"/acked.*)
it_expect_eq "acknowledged writes missing or wrong in the backing file" 0 "$bad"
grep -q 'in-flight region handed back' "$IT_VIREOD_LOG" ||
	it_fail "the restarted vireod did not get the in-flight region back"
grep 'resubmitting' "$IT_VIREOD_LOG" || echo "note: nothing was in flight at the kill this time"
stats=$(it_vireoctl --json device stats disk0)
it_expect_match "the frontend reconnected to the new vireod" '"connections": ?1' "$stats"
if [[ -n $threads ]]; then
	workers=$(it_vireoctl --json version | jq .queue_workers)
	((workers > 0)) || it_fail "vireod --threads $threads runs no shared workers"
	echo "ok: served by $workers shared queue workers"
fi
lab_shutdown "$g"
it_pass
