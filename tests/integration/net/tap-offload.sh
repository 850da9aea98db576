#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Checksum and TCP segmentation offload end to end: the TAP driver (offload=on: a
# virtio-net header on the TAP, TUNSETOFFLOAD) announces its offloads, vireod offers
# them, and the guest's virtio_net accepts them (its feature bits in sysfs). Then a
# bulk TCP stream each way, payload checked by sha256, and proof that segmentation
# really was left to the other side: the TAP's own counters in the namespace show
# frames far larger than the MTU crossing it both ways (bytes per frame), and vireod
# counts the segmented frames it passed (tx_gso from the guest, rx_gso to it). Needs
# root. TEST-NET-1 addresses, as tap-traffic.
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
it_begin "net/tap-offload-$series"
((EUID == 0)) || it_skip "needs root (TAP device, network namespace)"
[[ -c /dev/net/tun ]] || it_skip "no /dev/net/tun"
command -v ip >/dev/null || it_skip "no ip(8)"
command -v busybox >/dev/null || it_skip "no busybox on the host (for nc)"

ns=vireo-it-$$ tap=vtap$$ mac=52:54:00:12:34:58
host_ip=192.0.2.1 guest_ip=192.0.2.2 mib=4 mtu=1500
bytes=$((mib * 1024 * 1024))
net_cleanup() {
	it_cleanup
	ip netns del "$ns" 2>/dev/null
	ip link del "$tap" 2>/dev/null
}
trap net_cleanup EXIT
trap "exit 130" INT TERM

ip tuntap add dev "$tap" mode tap || it_fail "cannot create TAP $tap"
ip netns add "$ns" || it_fail "cannot create network namespace $ns"
it_vireod "$IT_TMP" --device \
	"net,id=net0,driver=tap,ifname=$tap,create=off,offload=on,socket=$IT_TMP/net0.sock"
ip link set "$tap" netns "$ns" || it_fail "cannot move $tap into $ns"
ip -n "$ns" link set lo up
ip -n "$ns" addr add "$host_ip/24" dev "$tap"
ip -n "$ns" link set "$tap" mtu "$mtu" up
stats() { it_vireoctl device stats net0 || it_fail "vireoctl device stats failed"; }
field() { awk -v k="$1" '$1 == k { print $2 }' <<<"$2"; }
tapstat() { ip netns exec "$ns" cat "/sys/class/net/$tap/statistics/$1"; }

g=net-offload-$series
it_boot "$g" --kernel "$series" -- \
	-chardev "socket,id=n0c,path=$IT_TMP/net0.sock" \
	-netdev vhost-user,id=n0,chardev=n0c \
	-device "virtio-net-pci,netdev=n0,mac=$mac,romfile=,vectors=0"

# Feature bits as sysfs shows them (bit 0 first): CSUM 0, GUEST_CSUM 1, GUEST_TSO4 7,
# GUEST_TSO6 8, HOST_TSO4 11, HOST_TSO6 12.
features=$(lab_run "$g" 'cat /sys/class/net/eth0/device/features')
for bit in 0:CSUM 1:GUEST_CSUM 7:GUEST_TSO4 8:GUEST_TSO6 11:HOST_TSO4 12:HOST_TSO6; do
	it_expect_eq "VIRTIO_NET_F_${bit#*:} negotiated" 1 "${features:${bit%%:*}:1}"
done
lab_run "$g" "ip addr add $guest_ip/24 dev eth0 && ip link set eth0 up" ||
	it_fail "configuring eth0 failed"
lab_run "$g" "ping -c 2 -W 10 $host_ip" >/dev/null || it_fail "guest -> host ping failed"

# Guest -> host (the FIFO holds the listener's stdin open: see tap-traffic.sh).
mkfifo "$IT_TMP/hold"
exec {hold}<>"$IT_TMP/hold"
s0=$(stats) p0=$(tapstat rx_packets) b0=$(tapstat rx_bytes)
ip netns exec "$ns" busybox nc -l -p 5001 >"$IT_TMP/from-guest.bin" <"$IT_TMP/hold" &
nc_pid=$!
sleep 0.5
out=$(lab_run "$g" --timeout 600 "head -c $bytes /dev/urandom >/tmp/tx.bin &&
	nc $host_ip 5001 </tmp/tx.bin && sha256sum </tmp/tx.bin") || {
	kill "$nc_pid" 2>/dev/null
	it_fail "guest -> host transfer failed: $out"
}
wait "$nc_pid"
exec {hold}>&-
it_expect_eq "guest -> host ${mib} MiB, sha256" "${out%% *}" \
	"$(sha256sum <"$IT_TMP/from-guest.bin" | cut -d' ' -f1)"
p=$(($(tapstat rx_packets) - p0)) b=$(($(tapstat rx_bytes) - b0))
echo "TAP took $p frames, $b bytes from vireod: $((b / p)) bytes a frame"
((b / p > mtu + 14)) || it_fail "guest -> host frames average $((b / p)) bytes: no TSO"
s1=$(stats)
tso=$(($(field tx_gso "$s1") - $(field tx_gso "$s0")))
((tso > 0)) || it_fail "vireod passed no segmented frame from the guest"
echo "ok: guest -> host: $tso segmented frames through vireod, $((b / p)) bytes a frame on the TAP"

# Host -> guest.
head -c "$bytes" /dev/urandom >"$IT_TMP/to-guest.bin"
hsum=$(sha256sum <"$IT_TMP/to-guest.bin" | cut -d' ' -f1)
p0=$(tapstat tx_packets) b0=$(tapstat tx_bytes)
lab_run "$g" "(sleep 900 | nc -l -p 5002 >/tmp/rx.bin 2>/dev/null &) ; sleep 1" ||
	it_fail "starting the guest's listener failed"
timeout 600 ip netns exec "$ns" busybox nc "$guest_ip" 5002 <"$IT_TMP/to-guest.bin" ||
	it_fail "host -> guest transfer failed"
for _ in $(seq 60); do
	[[ $(lab_run "$g" 'wc -c </tmp/rx.bin') == "$bytes" ]] && break
	sleep 1
done
it_expect_eq "host -> guest ${mib} MiB, sha256" "$hsum" \
	"$(lab_run "$g" 'sha256sum </tmp/rx.bin' | cut -d' ' -f1)"
p=$(($(tapstat tx_packets) - p0)) b=$(($(tapstat tx_bytes) - b0))
echo "TAP gave $p frames, $b bytes to vireod: $((b / p)) bytes a frame"
((b / p > mtu + 14)) || it_fail "host -> guest frames average $((b / p)) bytes: no TSO"
s2=$(stats)
gro=$(($(field rx_gso "$s2") - $(field rx_gso "$s1")))
((gro > 0)) || it_fail "vireod gave the guest no coalesced frame"
echo "ok: host -> guest: $gro coalesced frames through vireod, $((b / p)) bytes a frame on the TAP"

echo "$s2" | grep -E '^(tx|rx)_(packets|bytes|gso|dropped)|csum|refused|driver_errors'
it_expect_eq "driver errors" 0 "$(field driver_errors "$s2")"
it_expect_eq "refusals" 0 "$(grep '^refused' <<<"$s2" | awk '{ s += $2 } END { print s }')"
it_expect_eq "frames the guest could not take" 0 "$(field rx_dropped "$s2")"
lab_shutdown "$g"
it_vireod_stop
it_expect_eq "vireod exit status" 0 "$IT_VIREOD_RC"
it_pass
