#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vireo-certify's net checks on the net/tap driver for real, with no guest: a network
# namespace made here holds a Linux bridge with two TAP ports; the driver is opened
# twice, one instance per TAP, and certified as a pair through the kernel's bridge.
# IPv6 is off in the namespace, so the kernel sends nothing of its own on the ports;
# the harness's frames are EtherType 0x88b5 and anything else received counts as
# foreign, unchecked. Runs with one queue pair, then with two (IFF_MULTI_QUEUE TAPs,
# where the kernel picks the receiving queue). Needs root (TAP, netns, bridge).
# Usage: certify-tap.sh VIREO-CERTIFY NET-TAP.so
source "$(dirname "$0")/../lib.sh"
certify=${1:?vireo-certify} driver=${2:?net-tap.so}
it_begin "net/certify-tap"
((EUID == 0)) || it_skip "needs root (TAP devices, network namespace, bridge)"
[[ -c /dev/net/tun ]] || it_skip "no /dev/net/tun"
command -v ip >/dev/null || it_skip "no ip(8)"

ns=vireo-ct-$$ br=vctbr0
ct_cleanup() {
	it_cleanup
	ip netns del "$ns" 2>/dev/null
}
trap ct_cleanup EXIT
trap "exit 130" INT TERM

ip netns add "$ns" || it_fail "cannot create network namespace $ns"
nsx() { ip netns exec "$ns" "$@"; }
# Before any link exists, so every port and the bridge start without IPv6.
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 ||
	it_fail "cannot turn IPv6 off in $ns"
nsx ip link set lo up
nsx ip link add "$br" type bridge stp_state 0 || it_fail "cannot create bridge $br"
nsx ip link set "$br" up

# ports QUEUES [multi_queue]: (re)make the two TAP ports vcta and vctb on the bridge.
ports() {
	local p
	for p in vcta vctb; do
		nsx ip link del "$p" 2>/dev/null
		nsx ip tuntap add dev "$p" mode tap "$@" || it_fail "cannot create TAP $p"
		nsx ip link set "$p" master "$br" || it_fail "cannot add $p to $br"
		nsx ip link set "$p" up
	done
}

seed=${VIREO_CERTIFY_SEED:-$RANDOM}
for queues in 1 2; do
	if ((queues == 1)); then ports; else ports multi_queue; fi
	out=$IT_TMP/certify-$queues.txt
	nsx "$certify" --seed "$seed" --ops 256 --junit "$IT_TMP/certify-$queues.xml" \
		--param ifname=vcta --param create=off --param queues="$queues" \
		--peer-param ifname=vctb "$driver" >"$out" 2>&1
	rc=$?
	cat "$out"
	((rc == 0)) || it_fail "vireo-certify failed on net-tap with $queues queue pair(s) (seed $seed)"
	for c in path pair-data mtu-limits set-mtu stats close; do
		grep -q "^PASS $c: " "$out" || it_fail "$queues queue pair(s): no PASS for $c"
	done
	if ((queues > 1)); then
		grep -q "^PASS queues: " "$out" || it_fail "no PASS for queues with $queues pairs"
	fi
	echo "ok: net-tap certified as a pair through $br with $queues queue pair(s)"
done
it_pass
