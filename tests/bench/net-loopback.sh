#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# net-loopback.sh VIREOD VIREO_BENCH: vireo-bench net end to end against this build's
# vireod serving net-pair in loopback, with every payload checked (--verify 1). Not a
# benchmark: it asserts outcomes only (frames back, all good, none lost, every
# transmit buffer returned), never a rate. Covers both queue pairs, the shortest and
# longest frames, MRG_RXBUF and EVENT_IDX on and off, busy-polling and a small ring.
set -uo pipefail

vireod=$1 bench=$2
command -v jq >/dev/null || { echo "SKIP: jq is missing (apt-get install jq)"; exit 77; }
work=$(mktemp -d /tmp/vireo-net-loopback.XXXXXX)
pid=
cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	[[ -f $work/vireod.log ]] && sed 's/^/    vireod: /' "$work/vireod.log"
	exit 1
}

sock=$work/net0.sock
timeout --kill-after=5 120 "$vireod" --control "$work/ctl" --log-level warn --device \
	"net,id=net0,driver=net-pair,loopback=on,queues=2,num-queues=2,socket=$sock" \
	>"$work/vireod.log" 2>&1 &
pid=$!
for ((i = 0; i < 100; i++)); do
	[[ -S $sock ]] && break
	kill -0 "$pid" 2>/dev/null || fail "vireod did not start"
	sleep 0.1
done
[[ -S $sock ]] || fail "vireod did not listen on $sock"

runs=0
# check LABEL ARGS...: one run; every frame back good, none lost.
check() {
	local label=$1 out rc
	shift
	out=$work/$runs.json
	timeout 60 "$bench" net --socket "$sock" --seconds 0.3 --warmup 0.1 --verify 1 --json \
		"$@" >"$out" 2>"$work/err"
	rc=$?
	((rc == 0)) || fail "$label: vireo-bench exited $rc: $(cat "$work/err")"
	jq -e '.ok and .result.received > 100 and .result.received == .result.verified and
		.result.sent == .result.tx_done and .result.dropped == 0 and .result.seq_gaps == 0 and
		.result.bad == 0 and .result.out_of_order == 0 and .result.bad_hdr == 0 and
		.result.foreign == 0 and ([.pairs[].received > 0] | all)' "$out" >/dev/null ||
		fail "$label: $(jq -c .result "$out")"
	echo "ok $label: $(jq -r '.result | "\(.received) frames back, all checked"' "$out")"
	runs=$((runs + 1))
}

check "64-byte frames, 2 pairs" --frame 64 --pairs 2
check "1518-byte frames" --frame 1518
check "shortest frames, no MRG_RXBUF" --frame 30 --no-mrg-rxbuf
check "no EVENT_IDX" --frame 600 --no-event-idx
check "busy-polling, ring of 16" --frame 100 --poll --qsize 16
kill "$pid" && wait "$pid"
pid=
echo "$runs passed, 0 failed"
