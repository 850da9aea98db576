#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Multi-queue virtio-net over a multi-queue TAP: vireod serves 2 queue pairs
# (num-queues=2, the TAP driver's queues=2, IFF_MULTI_QUEUE). First a 1-vCPU guest:
# its virtio_net enables one pair only (min(CPUs, pairs)), so the TAP queue of the
# other must stay detached or the kernel would steer host-to-guest frames into a
# queue nobody reads: host -> guest traffic must still arrive whole. Then a 2-vCPU
# guest enables both pairs: TCP streams go both ways, each checked by sha256, until
# vireod's per-queue counters show every one of the four virtqueues carried a whole
# stream. Needs root. TEST-NET-1 addresses, as tap-traffic.
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
it_begin "net/tap-mq-$series"
((EUID == 0)) || it_skip "needs root (TAP device, network namespace)"
[[ -c /dev/net/tun ]] || it_skip "no /dev/net/tun"
command -v ip >/dev/null || it_skip "no ip(8)"
command -v busybox >/dev/null || it_skip "no busybox on the host (for nc)"

ns=vireo-it-$$ tap=vtap$$ mac=52:54:00:12:34:57
host_ip=192.0.2.1 guest_ip=192.0.2.2 kib=512
bytes=$((kib * 1024))
net_cleanup() {
	it_cleanup
	ip netns del "$ns" 2>/dev/null
	ip link del "$tap" 2>/dev/null
}
trap net_cleanup EXIT
trap "exit 130" INT TERM

ip tuntap add dev "$tap" mode tap multi_queue || it_fail "cannot create TAP $tap"
ip netns add "$ns" || it_fail "cannot create network namespace $ns"
it_vireod "$IT_TMP" --device \
	"net,id=net0,driver=tap,ifname=$tap,create=off,queues=2,num-queues=2,socket=$IT_TMP/net0.sock"
ip link set "$tap" netns "$ns" || it_fail "cannot move $tap into $ns"
ip -n "$ns" link set lo up
ip -n "$ns" addr add "$host_ip/24" dev "$tap"
ip -n "$ns" link set "$tap" up
stats() { it_vireoctl device stats net0 || it_fail "vireoctl device stats failed"; }
field() { awk -v k="$1" '$1 == k { print $2 }' <<<"$2"; }
head -c "$bytes" /dev/urandom >"$IT_TMP/to-guest.bin"
hsum=$(sha256sum <"$IT_TMP/to-guest.bin" | cut -d' ' -f1)
mkfifo "$IT_TMP/hold"
exec {hold}<>"$IT_TMP/hold"

# boot NAME CPUS: a guest with the 2-pair NIC (vectors=0: see tap-traffic.sh); the
# lab's -smp 1 is overridden by the later -smp.
boot() {
	it_boot "$1" --kernel "$series" -- -smp "$2" \
		-chardev "socket,id=n0c,path=$IT_TMP/net0.sock" \
		-netdev vhost-user,id=n0,chardev=n0c,queues=2 \
		-device "virtio-net-pci,netdev=n0,mac=$mac,mq=on,romfile=,vectors=0"
	it_expect_eq "$1: vCPUs" "$2" "$(lab_run "$1" nproc)"
	lab_run "$1" "ip addr add $guest_ip/24 dev eth0 && ip link set eth0 up" ||
		it_fail "$1: configuring eth0 failed"
	# MQ is feature bit 22 of the string sysfs shows (bit 0 first).
	it_expect_eq "$1: VIRTIO_NET_F_MQ negotiated" 1 \
		"$(lab_run "$1" 'cut -c23 /sys/class/net/eth0/device/features')"
}

# to_guest NAME PORT CPU: the guest (nc on CPU) connects and receives the file from a
# listener in the namespace; its sha256 must match. busybox nc quits only when its
# stdin ends too, so the guest's file is watched until it is whole.
to_guest() {
	ip netns exec "$ns" busybox nc -l -p "$2" <"$IT_TMP/to-guest.bin" >/dev/null &
	local pid=$! got=
	sleep 0.5
	lab_run "$1" "(sleep 900 | taskset -c $3 nc $host_ip $2 >/tmp/rx$2.bin 2>/dev/null &)" ||
		it_fail "$1: starting the guest's receiver failed"
	for _ in $(seq 300); do
		got=$(lab_run "$1" "wc -c </tmp/rx$2.bin")
		[[ $got == "$bytes" ]] && break
		sleep 1
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	it_expect_eq "$1: host -> guest on CPU $3, $kib KiB, sha256" "$hsum" \
		"$(lab_run "$1" "sha256sum </tmp/rx$2.bin" | cut -d' ' -f1)"
}

# One vCPU: one pair enabled, the other's TAP queue detached.
g=net-mq1-$series
boot "$g" 1
it_expect_eq "$g: guest queues" "rx-0 tx-0" "$(lab_run "$g" 'echo $(ls /sys/class/net/eth0/queues)')"
it_expect_eq "$g: pairs running in vireod" 1 "$(field queue_pairs_running "$(stats)")"
lab_run "$g" "ping -c 2 -W 10 $host_ip" >/dev/null || it_fail "$g: guest -> host ping failed"
# Host-initiated flows hash onto either TAP queue: only attached ones may be picked.
for i in 1 2 3 4; do
	ip netns exec "$ns" busybox ping -c 1 -W 10 -p "0$i" "$guest_ip" >/dev/null ||
		it_fail "$g: host -> guest ping $i failed"
done
echo "ok: $g: host -> guest pings"
to_guest "$g" 5100 0
lab_shutdown "$g"
for _ in $(seq 50); do
	[[ $(field queue_pairs_running "$(stats)") == 0 ]] && break
	sleep 0.2
done
it_expect_eq "pairs running after shutdown" 0 "$(field queue_pairs_running "$(stats)")"

# Two vCPUs: both pairs; one stream per vCPU each way.
g=net-mq2-$series
boot "$g" 2
it_expect_eq "$g: guest queues" "rx-0 rx-1 tx-0 tx-1" \
	"$(lab_run "$g" 'echo $(ls /sys/class/net/eth0/queues)')"
it_expect_eq "$g: pairs running in vireod" 2 "$(field queue_pairs_running "$(stats)")"
# INTx (vectors=0) puts every interrupt on CPU 0, so TCP's softirq-driven sends would
# choose transmit queues by that CPU; steer each flow's sends by the queue it receives
# on instead (xps_rxqs), so a flow stays on one pair both ways. Which pair a new flow
# gets is the TAP's choice (in practice a hash of the flow, not the queue its SYN came
# in on), so streams run, each checked whole, until every virtqueue carried one: at
# most 16 a way, 2^-15 odds of stopping short if each lands on either pair evenly.
lab_run "$g" 'q=/sys/class/net/eth0/queues; echo 1 >$q/tx-0/xps_rxqs && echo 2 >$q/tx-1/xps_rxqs' ||
	it_fail "$g: setting xps_rxqs failed"
lab_run "$g" "head -c $bytes /dev/urandom >/tmp/tx.bin && sha256sum </tmp/tx.bin" >"$IT_TMP/gsum" ||
	it_fail "$g: making the guest's file failed"
before=$(stats)
grew() { echo $(($(field "$1" "$(stats)") - $(field "$1" "$before"))); }
all_carried() {
	local q
	for q in rx_bytes_q0 rx_bytes_q1 tx_bytes_q0 tx_bytes_q1; do
		(($(grew $q) >= bytes)) || return 1
	done
}
for i in $(seq 16); do
	cpu=$((i % 2)) port=$((5200 + i))
	ip netns exec "$ns" busybox nc -l -p "$port" >"$IT_TMP/from-guest.bin" <"$IT_TMP/hold" &
	pid=$!
	sleep 0.5
	lab_run "$g" --timeout 600 "taskset -c $cpu nc $host_ip $port </tmp/tx.bin" ||
		it_fail "$g: guest -> host stream $i failed"
	wait "$pid"
	it_expect_eq "$g: guest -> host stream $i, $kib KiB, sha256" \
		"$(cut -d' ' -f1 "$IT_TMP/gsum")" "$(sha256sum <"$IT_TMP/from-guest.bin" | cut -d' ' -f1)"
	to_guest "$g" $((5300 + i)) "$cpu"
	all_carried && break
done
exec {hold}>&-

after=$(stats)
echo "$after" | grep -E '_(packets|bytes)_q[0-9]|queue_pairs|driver_errors|refused'
for q in rx_bytes_q0 rx_bytes_q1 tx_bytes_q0 tx_bytes_q1; do
	d=$(grew $q)
	((d >= bytes)) || it_fail "$q grew by $d bytes after $i streams a way, less than one ($bytes)"
	echo "ok: $q grew by $d bytes ($i streams a way)"
done
it_expect_eq "driver errors" 0 "$(field driver_errors "$after")"
it_expect_eq "refusals" 0 "$(grep '^refused' <<<"$after" | awk '{ s += $2 } END { print s }')"
lab_shutdown "$g"
it_vireod_stop
it_expect_eq "vireod exit status" 0 "$IT_VIREOD_RC"
it_pass
