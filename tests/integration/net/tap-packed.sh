#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tap-traffic over packed virtqueues: QEMU's virtio-net-pci with packed=on served by
# vireod (net/tap driver) over vhost-user. Proves the guest negotiated
# VIRTIO_F_RING_PACKED (bit 34 of the device's features in sysfs), then ping both
# ways and 2 MiB of TCP each way with sha256 compared on both ends, vireoctl's
# counters, and no broken queue; then the guest's driver is rebound (device reset,
# fresh packed rings) and pings again. Needs root (TAP, netns). Addresses are TEST-NET-1
# (192.0.2.0/24) and never leave the namespace/TAP pair made here.
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
it_begin "net/tap-packed-$series"
((EUID == 0)) || it_skip "needs root (TAP device, network namespace)"
[[ -c /dev/net/tun ]] || it_skip "no /dev/net/tun"
command -v ip >/dev/null || it_skip "no ip(8)"
command -v busybox >/dev/null || it_skip "no busybox on the host (for nc)"

ns=vireo-it-$$ tap=vtap$$ mac=52:54:00:12:34:56
host_ip=192.0.2.1 guest_ip=192.0.2.2 mib=2
bytes=$((mib * 1024 * 1024))
net_cleanup() {
	it_cleanup
	ip netns del "$ns" 2>/dev/null
	ip link del "$tap" 2>/dev/null
}
trap net_cleanup EXIT
trap "exit 130" INT TERM

# The TAP exists first (persistent, in this namespace) so vireod attaches to it; it
# then moves into the test's namespace, and vireod's fd stays attached.
ip tuntap add dev "$tap" mode tap || it_fail "cannot create TAP $tap"
ip netns add "$ns" || it_fail "cannot create network namespace $ns"
it_vireod "$IT_TMP" --device "net,id=net0,driver=tap,ifname=$tap,create=off,socket=$IT_TMP/net0.sock"
ip link set "$tap" netns "$ns" || it_fail "cannot move $tap into $ns"
ip -n "$ns" link set lo up
ip -n "$ns" addr add "$host_ip/24" dev "$tap"
ip -n "$ns" link set "$tap" up

# vectors=0 (INTx): QEMU 7.2 under TCG segfaults in msix_set_vector_notifiers when
# vhost-user-net starts with MSI-X (it reaches proxy->vector_irqfd, which only exists
# with KVM irqfds); vhost-user-blk is not affected.
g=net-packed-$series
it_boot "$g" --kernel "$series" -- \
	-chardev "socket,id=n0c,path=$IT_TMP/net0.sock" \
	-netdev vhost-user,id=n0,chardev=n0c \
	-device "virtio-net-pci,netdev=n0,mac=$mac,romfile=,vectors=0,packed=on"

it_expect_match "virtio_net bound" 'virtio_net' \
	"$(lab_run "$g" 'basename $(readlink /sys/class/net/eth0/device/driver)')"
it_expect_eq "guest MAC" "$mac" "$(lab_run "$g" 'cat /sys/class/net/eth0/address')"
# sysfs features: one character per bit, bit 0 first; bit 34 is VIRTIO_F_RING_PACKED.
features=$(lab_run "$g" 'cat /sys/class/net/eth0/device/features')
echo "guest features: $features"
it_expect_eq "VIRTIO_F_RING_PACKED negotiated" 1 "${features:34:1}"
lab_run "$g" "ip addr add $guest_ip/24 dev eth0 && ip link set eth0 up" ||
	it_fail "configuring eth0 failed"

# Ping both ways (the first one also resolves ARP through the whole path).
lab_run "$g" "ping -c 3 -W 10 $host_ip" >"$IT_TMP/ping1" 2>&1 ||
	it_fail "guest -> host ping failed: $(cat "$IT_TMP/ping1")"
echo "ok: guest -> host: $(grep -o '[0-9]* packets received' "$IT_TMP/ping1")"
ip netns exec "$ns" busybox ping -c 3 -W 10 "$guest_ip" >"$IT_TMP/ping2" 2>&1 ||
	it_fail "host -> guest ping failed: $(cat "$IT_TMP/ping2")"
echo "ok: host -> guest: $(grep -o "[0-9]* packets received" "$IT_TMP/ping2")"

# Guest -> host: random bytes made in the guest, received by nc in the namespace.
# busybox nc half-closes when its stdin ends and quits when the peer does, so each
# listener's stdin stays open (a FIFO held here; sleep in the guest) until the end.
mkfifo "$IT_TMP/hold"
exec {hold}<>"$IT_TMP/hold"
ip netns exec "$ns" busybox nc -l -p 5001 >"$IT_TMP/from-guest.bin" <"$IT_TMP/hold" &
nc_pid=$!
sleep 0.5
out=$(lab_run "$g" --timeout 600 "head -c $bytes /dev/urandom >/tmp/tx.bin &&
	nc $host_ip 5001 </tmp/tx.bin && sha256sum </tmp/tx.bin") || {
	kill "$nc_pid" 2>/dev/null
	it_fail "guest -> host transfer failed: $out"
}
gsum=${out%% *}
wait "$nc_pid"
exec {hold}>&-
it_expect_eq "guest -> host bytes" "$bytes" "$(stat -c %s "$IT_TMP/from-guest.bin")"
it_expect_eq "guest -> host ${mib} MiB, sha256" "$gsum" \
	"$(sha256sum <"$IT_TMP/from-guest.bin" | cut -d' ' -f1)"

# Host -> guest: random bytes made here, received by nc in the guest.
head -c "$bytes" /dev/urandom >"$IT_TMP/to-guest.bin"
hsum=$(sha256sum <"$IT_TMP/to-guest.bin" | cut -d' ' -f1)
lab_run "$g" "(sleep 900 | nc -l -p 5002 >/tmp/rx.bin 2>/dev/null &) ; sleep 1" ||
	it_fail "starting the guest's listener failed"
timeout 600 ip netns exec "$ns" busybox nc "$guest_ip" 5002 <"$IT_TMP/to-guest.bin" ||
	it_fail "host -> guest transfer failed"
want=$bytes
for _ in $(seq 60); do
	[[ $(lab_run "$g" 'wc -c </tmp/rx.bin') == "$want" ]] && break
	sleep 1
done
it_expect_eq "host -> guest ${mib} MiB, sha256" "$hsum" \
	"$(lab_run "$g" 'sha256sum </tmp/rx.bin' | cut -d' ' -f1)"

# Unbind and rebind the guest's driver: the device is reset, QEMU takes the ring
# bases back (GET_VRING_BASE) and starts fresh packed rings (wrap counters 1 again).
lab_run "$g" 'd=$(basename $(readlink /sys/class/net/eth0/device)) &&
	echo $d >/sys/bus/virtio/drivers/virtio_net/unbind &&
	echo $d >/sys/bus/virtio/drivers/virtio_net/bind && sleep 1' ||
	it_fail "rebinding virtio_net failed"
lab_run "$g" "ip addr add $guest_ip/24 dev eth0 && ip link set eth0 up" ||
	it_fail "configuring eth0 after the rebind failed"
features=$(lab_run "$g" 'cat /sys/class/net/eth0/device/features')
it_expect_eq "VIRTIO_F_RING_PACKED after the rebind" 1 "${features:34:1}"
lab_run "$g" "ping -c 3 -W 10 $host_ip" >"$IT_TMP/ping3" 2>&1 ||
	it_fail "guest -> host ping after the rebind failed: $(cat "$IT_TMP/ping3")"
echo "ok: after the rebind: $(grep -o '[0-9]* packets received' "$IT_TMP/ping3")"

# vireod's view: traffic both ways, nothing refused, no driver errors.
stats=$(it_vireoctl device stats net0) || it_fail "vireoctl device stats failed"
echo "$stats" | grep -E '^(tx|rx)_(packets|bytes)|refused|driver_errors|connected'
field() { awk -v k="$1" '$1 == k { print $2 }' <<<"$stats"; }
(($(field tx_bytes) >= want)) || it_fail "tx_bytes $(field tx_bytes) < $want"
(($(field rx_bytes) >= want)) || it_fail "rx_bytes $(field rx_bytes) < $want"
it_expect_eq "driver errors" 0 "$(field driver_errors)"
it_expect_eq "refusals" 0 "$(grep '^refused' <<<"$stats" | awk '{ s += $2 } END { print s }')"
it_expect_eq "connected" true "$(field connected)"
broken_re='virtqueue [0-9]+ broken|queue [0-9]+ broken'
if grep -Eq "$broken_re" "$IT_VIREOD_LOG"; then
	it_fail "vireod reported a broken queue: $(grep -E "$broken_re" "$IT_VIREOD_LOG")"
fi
lab_shutdown "$g"
it_vireod_stop
it_expect_eq "vireod exit status" 0 "$IT_VIREOD_RC"
it_pass
