#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# net-tap.sh: guest -> host TCP throughput through vireod's virtio-net and the net-tap
# driver, with the TAP offloads on and off, printed as one table. Not pass/fail.
#
# Boots a lab guest (its kernel's own virtio_net) per mode against the build's
# vireod, makes a file in the guest's tmpfs, and times `nc` sending it to a listener
# in a network namespace behind the TAP. Under TCG the guest's CPU is the limit, so
# the figure says what offloads save the guest (no per-segment work), not what the
# backend can carry; the null-driver path of vireo-bench measures the backend.
#
# Needs root (TAP, netns), the lab (tests/lab/setup) and a build. Leaves nothing
# behind: the guest, vireod, TAP and namespace go on exit.
# Usage: net-tap.sh [SERIES (6.1)] [MIB (64)]; VIREO_BUILD_ROOT picks the build.
source "$(dirname "$0")/../integration/lib.sh"
series=${1:-6.1} mib=${2:-64}
it_begin "bench/net-tap-$series"
((EUID == 0)) || it_skip "needs root (TAP device, network namespace)"
command -v busybox >/dev/null || it_skip "no busybox on the host (for nc)"

ns=vireo-bench-$$ tap=vtapb$$ host_ip=192.0.2.1 guest_ip=192.0.2.2
bench_cleanup() {
	it_cleanup
	ip netns del "$ns" 2>/dev/null
	ip link del "$tap" 2>/dev/null
}
trap bench_cleanup EXIT
trap "exit 130" INT TERM

rows=()
# run MODE: adds a row "MODE MB/s seconds bytes-per-TAP-frame".
run() {
	local mode=$1 g=net-bench-$1 t0 t1 p0 b0 p b
	ip tuntap add dev "$tap" mode tap || it_fail "cannot create TAP $tap"
	ip netns add "$ns" || it_fail "cannot create network namespace $ns"
	it_vireod "$IT_TMP" --device \
		"net,id=net0,driver=tap,ifname=$tap,create=off,offload=$mode,socket=$IT_TMP/net0.sock"
	ip link set "$tap" netns "$ns"
	ip -n "$ns" addr add "$host_ip/24" dev "$tap"
	ip -n "$ns" link set "$tap" up
	it_boot "$g" --kernel "$series" -- \
		-chardev "socket,id=n0c,path=$IT_TMP/net0.sock" \
		-netdev vhost-user,id=n0,chardev=n0c \
		-device "virtio-net-pci,netdev=n0,romfile=,vectors=0"
	lab_run "$g" "ip addr add $guest_ip/24 dev eth0 && ip link set eth0 up &&
		head -c $((mib << 20)) /dev/zero >/tmp/tx.bin && ping -c 1 -W 10 $host_ip" >/dev/null ||
		it_fail "$g: set-up failed"
	mkfifo "$IT_TMP/hold-$mode"
	exec {hold}<>"$IT_TMP/hold-$mode"
	ip netns exec "$ns" busybox nc -l -p 5001 >/dev/null <"$IT_TMP/hold-$mode" &
	sleep 0.5
	p0=$(ip netns exec "$ns" cat "/sys/class/net/$tap/statistics/rx_packets")
	b0=$(ip netns exec "$ns" cat "/sys/class/net/$tap/statistics/rx_bytes")
	t0=$(date +%s.%N)
	lab_run "$g" --timeout 900 "nc $host_ip 5001 </tmp/tx.bin" || it_fail "$g: transfer failed"
	t1=$(date +%s.%N)
	p=$(($(ip netns exec "$ns" cat "/sys/class/net/$tap/statistics/rx_packets") - p0))
	b=$(($(ip netns exec "$ns" cat "/sys/class/net/$tap/statistics/rx_bytes") - b0))
	exec {hold}>&-
	lab_shutdown "$g"
	it_vireod_stop
	ip netns del "$ns"
	ip link del "$tap" 2>/dev/null
	rows+=("$(awk -v m="$mode" -v mib="$mib" -v t0="$t0" -v t1="$t1" -v p="$p" -v b="$b" \
		'BEGIN { t = t1 - t0; printf "%-8s %8.1f %10.1f %12d", m, mib * 1.048576 / t, t, b / p }')")
}

run on
run off
printf '%-8s %8s %10s %12s\n' offload "MB/s" seconds "bytes/frame"
printf '%s\n' "${rows[@]}"
echo "guest -> host, $mib MiB over TCP, kernel $series under $(lab_accel), 1 vCPU"
