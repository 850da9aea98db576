#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The guest's own virtio-vsock driver (vmw_vsock_virtio_transport) on QEMU's
# vhost-user-vsock-pci, served by vireod's vsock device. A tiny static peer
# (vsock_peer.c, built here) runs on both sides and checksums what it moves:
#   - the guest reads its CID (IOCTL_VM_SOCKETS_GET_LOCAL_CID): the spec's cid;
#   - guest -> host unix listener <uds>_P: 4 MiB one way (credit updates), then 2 MiB
#     each way at once against an echo (half-close: the guest shuts its write side);
#   - host -> guest listener through <uds> with "CONNECT P" / "OK ...": 4 MiB, the
#     host closes; then the guest sends and closes, the host reads to EOF;
#   - no listener: the guest's connect is reset, the host's CONNECT is closed;
#   - the guest's driver is unbound and bound again (device reset), then the guest
#     reboots (a new QEMU on the same socket): both work after, vireod never restarts;
#   - vireod's counters: nothing refused, and it exits cleanly.
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
it_begin "vsock/traffic-$series"
cid=$((40 + ${#series}))
mib=4
bytes=$((mib * 1024 * 1024))

peer=$IT_TMP/vsock_peer
"${CC:-cc}" -static -O2 -std=gnu11 -o "$peer" "$IT_ROOT/tests/integration/vsock/vsock_peer.c" ||
	it_fail "cannot build vsock_peer (needs glibc's libc.a: libc6-dev)"
uds=$IT_TMP/v.sock
it_vireod "$IT_TMP" --device "vsock,id=vs0,cid=$cid,uds=$uds,socket=$IT_TMP/vs0.sock"

g=vsock-$series
boot() {
	it_boot "$g" --kernel "$series" -- \
		-chardev "socket,id=vc,path=$IT_TMP/vs0.sock" \
		-device "vhost-user-vsock-pci,chardev=vc"
	lab_copy_in "$g" "$peer" /bin/vsock_peer || it_fail "copying vsock_peer in failed"
	it_expect_eq "guest CID" "$cid" "$(lab_run "$g" 'vsock_peer cid')"
}

# host_listen PORT MODE [N]: a host listener at <uds>_PORT, in the background.
host_listen() {
	rm -f "$IT_TMP/host.out"
	"$peer" -l -t 300 "unix:${uds}_$1" "${@:2}" >"$IT_TMP/host.out" 2>&1 &
	host_pid=$!
	for _ in $(seq 50); do
		grep -q listening "$IT_TMP/host.out" 2>/dev/null && return 0
		sleep 0.1
	done
	it_fail "host listener did not start"
}

# guest_listen PORT MODE [N]: a guest listener, in the background; output in /tmp/g.out.
guest_listen() {
	lab_run "$g" "rm -f /tmp/g.out; (vsock_peer -l -t 300 vsock:any:$1 ${*:2} >/tmp/g.out 2>&1 &);
		for i in \$(seq 50); do grep -q listening /tmp/g.out && exit 0; sleep 0.1; done; exit 1" ||
		it_fail "guest listener did not start"
}

# guest_result: waits for the guest listener's last line (sent/recv).
guest_result() {
	local out
	for _ in $(seq 120); do
		out=$(lab_run "$g" 'grep -E "^(sent|recv|error)" /tmp/g.out')
		[[ -n $out ]] && break
		sleep 0.5
	done
	echo "$out"
}

# small_roundtrip WHAT: 64 KiB each way against a host echo.
small_roundtrip() {
	host_listen 5100 echo
	out=$(lab_run "$g" "vsock_peer -t 120 vsock:2:5100 xfer 65536") || it_fail "$1: $out"
	wait "$host_pid"
	it_expect_eq "$1: 64 KiB echoed" "$(sed -n 's/^sent //p' <<<"$out")" "$(sed -n 's/^recv //p' <<<"$out")"
}

boot

# Guest -> host, one way: the guest sends and closes; the host reads to EOF.
host_listen 5000 recv
out=$(lab_run "$g" --timeout 300 "vsock_peer -t 300 vsock:2:5000 send $bytes") ||
	it_fail "guest -> host: $out"
wait "$host_pid"
it_expect_eq "guest -> host ${mib} MiB" "sent $(sed -n 's/^sent //p' <<<"$out")" \
	"sent $(sed -n 's/^recv //p' "$IT_TMP/host.out")"

# Both ways at once against a host echo; the guest half-closes when done.
host_listen 5001 echo
out=$(lab_run "$g" --timeout 300 "vsock_peer -t 300 vsock:2:5001 xfer $((bytes / 2))") ||
	it_fail "guest <-> host: $out"
wait "$host_pid"
it_expect_eq "guest <-> host echo $((mib / 2)) MiB" "$(sed -n 's/^sent //p' <<<"$out")" \
	"$(sed -n 's/^recv //p' <<<"$out")"

# Host -> guest through CONNECT: the host sends and closes; the guest reads to EOF.
guest_listen 6000 recv
hout=$("$peer" -t 300 "hybrid:$uds:6000" send "$bytes" 2>&1) || it_fail "host -> guest: $hout"
it_expect_match "host got OK" '^hello: OK [0-9]+' "$hout"
it_expect_eq "host -> guest ${mib} MiB" "$(sed -n 's/^sent //p' <<<"$hout")" \
	"$(guest_result | sed -n 's/^recv //p')"

# The guest sends and closes on a host-initiated connection; the host reads to EOF.
guest_listen 6001 send 1000000
hout=$("$peer" -t 120 "hybrid:$uds:6001" recv 2>&1) || it_fail "guest closes: $hout"
it_expect_eq "guest sends 1 MB and closes" "$(guest_result | sed -n 's/^sent //p')" \
	"$(sed -n 's/^recv //p' <<<"$hout")"

# Nobody listening, either side: refused with a reset, not a hang.
out=$(lab_run "$g" "vsock_peer -t 60 vsock:2:5999 recv 2>&1; echo rc=\$?")
it_expect_match "guest connect to a port with no host listener" 'error connect: Connection reset by peer' "$out"
hout=$("$peer" -t 60 "hybrid:$uds:6999" recv 2>&1)
it_expect_match "host CONNECT to a guest port with no listener" 'error hello' "$hout"

# Device reset: the driver unbound and bound again, then traffic again.
lab_run "$g" 'd=$(basename $(readlink -f /sys/bus/virtio/drivers/vmw_vsock_virtio_transport/virtio*));
	echo $d >/sys/bus/virtio/drivers/vmw_vsock_virtio_transport/unbind &&
	echo $d >/sys/bus/virtio/drivers/vmw_vsock_virtio_transport/bind' ||
	it_fail "rebinding the guest's vsock driver failed"
small_roundtrip "after a device reset"

# Reboot: this QEMU goes, a new one connects to the same vireod.
lab_shutdown "$g"
boot
small_roundtrip "after a reboot"

stats=$(it_vireoctl device stats vs0) || it_fail "vireoctl device stats failed"
field() { awk -v k="$1" '$1 == k { print $2 }' <<<"$stats"; }
echo "$stats" | grep -E '^(conns|bytes|rst|credit|connections)'
(($(field bytes_to_host) >= bytes * 3 / 2)) || it_fail "bytes_to_host $(field bytes_to_host)"
(($(field bytes_to_guest) >= bytes * 3 / 2)) || it_fail "bytes_to_guest $(field bytes_to_guest)"
it_expect_eq "refusals" 0 "$(grep '^refused' <<<"$stats" | awk '{ s += $2 } END { print s }')"
it_expect_eq "frontend connections (two boots)" 2 "$(field connections)"
lab_shutdown "$g"
it_vireod_stop
it_expect_eq "vireod exit status" 0 "$IT_VIREOD_RC"
it_pass
