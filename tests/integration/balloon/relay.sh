#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The balloon end to end: vireo_balloon in a guest, vireo-toolsd relaying its batches
# over vireod's vhost-user vsock device, vireod punching them out of QEMU's guest RAM
# memfd (memory-backend-memfd share=on; vireod has it from the vhost-user memory table):
#   - `vireoctl guest vs0 balloon set` most of the guest's free memory: the balloon
#     reaches it, every batch is acked, MemTotal drops by exactly the balloon size, and
#     the memfd's allocated size, measured on the host through QEMU's own fd
#     (/proc/QEMU/fd), drops by >= 95% of it; vireod's counters agree;
#   - status, stats (the guest's memory statistics vireod keeps) and reporting;
#   - deflate: MemTotal comes back; a second inflate/deflate cycle;
#   - a checksummed-memory workload keeps verifying through all of it;
#   - batches a relay never answered (fake-balloon-host.py) stay pending, even at target
#     0, and are re-sent to vireod when that relay goes; a toolsd killed with batches
#     pending is replaced by one that acknowledges them once vireod is back;
#   - a hostile relay (fake-balloon-agent.py): foreign, unaligned, wrapping, zero,
#     huge and malformed ranges are refused with their reasons, logged and counted,
#     nothing is punched, and vireod (an ASan build in the suite) keeps running.
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
it_begin "balloon/relay-$series"
cid=$((70 + ${#series}))
g=balloonrelay-$series
mem=768
toolsd=$VIREO_BUILD_ROOT/guest-tools/toolsd/vireo-toolsd
fake=$IT_ROOT/tests/integration/balloon/fake-balloon-agent.py
fhost=$IT_ROOT/tests/integration/balloon/fake-balloon-host.py
[[ -x $toolsd ]] || it_fail "no $toolsd: build first"

mc=$IT_TMP/memcheck
"${CC:-cc}" -O2 -std=gnu11 -Wall -Wextra -Werror -o "$mc" \
	"$IT_ROOT/tests/integration/balloon/memcheck.c" || it_fail "cannot build memcheck"

it_vireod "$IT_TMP" --device "vsock,id=vs0,cid=$cid,uds=$IT_TMP/v.sock,socket=$IT_TMP/vs0.sock"
it_boot "$g" --kernel "$series" --hostroot --mem "$mem" -- \
	-chardev "socket,id=vc,path=$IT_TMP/vs0.sock" -device "vhost-user-vsock-pci,chardev=vc"
qpid=$(cat "$(lab_guests_dir)/$g/qemu.pid")

agent() { it_vireoctl --json device list | jq -r ".[] | select(.id == \"vs0\") | .agent.$1"; }
balloon() { it_vireoctl --json guest vs0 balloon "$@"; }
hoststat() { it_vireoctl --json device stats vs0 | jq -r ".balloon_$1"; }
meminfo() { lab_host "$g" "awk '/^$1:/ {print \$2}' /proc/meminfo"; }
wait_agent() {
	local deadline=$((SECONDS + $2))
	while ((SECONDS < deadline)); do
		[[ $(agent state) =~ ^($1)$ ]] && return 0
		sleep 0.2
	done
	it_fail "agent not $1 after $2 s (state $(agent state), last error '$(agent last_error)')"
}
start_toolsd() {
	lab_host "$g" "(setsid '$toolsd' --heartbeat 1 --verbose >/tmp/toolsd.log 2>&1 &) &&
		for i in \$(seq 50); do grep -q listening /tmp/toolsd.log && exit 0; sleep 0.1; done;
		cat /tmp/toolsd.log; exit 1" || it_fail "toolsd did not start"
	wait_agent up 20
}
# QEMU's guest RAM memfd, allocated KiB: measured on the host, apart from vireod.
memfd_kib() {
	local f
	for f in /proc/"$qpid"/fd/*; do
		if [[ $(readlink "$f") == /memfd:mem* ]]; then
			echo $(($(stat -L -c %b "$f") / 2))
			return 0
		fi
	done
	it_fail "no memfd among QEMU's fds"
}
# wait_balloon SIZE SECONDS: until the balloon holds SIZE bytes, none of them pending.
wait_balloon() {
	local deadline=$((SECONDS + $2)) st
	while ((SECONDS < deadline)); do
		st=$(balloon status) || it_fail "balloon status: $st"
		[[ $(jq -r '"\(.size) \(.pending) \(.unreported)"' <<<"$st") == "$1 0 0" ]] && return 0
		sleep 0.2
	done
	it_fail "balloon not at $1 after $2 s: $st"
}

lab_run "$g" 'modprobe vireo_balloon' || it_fail "modprobe vireo_balloon failed"
start_toolsd

# The workload: 64 MiB of checksummed pages, verified over and over until the end.
lab_host "$g" "(setsid '$mc' hold 64 /tmp/mc.stop /tmp/mc.log >/tmp/mc.out 2>&1 &) &&
	for i in \$(seq 100); do test -s /tmp/mc.log && exit 0; sleep 0.1; done; exit 1" ||
	it_fail "memcheck did not start"
mc_rounds() { lab_host "$g" "awk '{print \$2, \$4}' /tmp/mc.log"; }

# Make the host back most of guest RAM, so that what the balloon returns shows.
avail0=$(meminfo MemAvailable)
lab_host "$g" "'$mc' touch $(((avail0 - 64 * 1024) / 1024))" >/dev/null || it_fail "touch failed"
total0=$(meminfo MemTotal)
avail0=$(meminfo MemAvailable)
kib0=$(memfd_kib)
echo "guest: MemTotal $total0 KiB, MemAvailable $avail0 KiB; host memfd $kib0 KiB allocated"

# 1. Inflate to all but ~112 MiB of what is available, in whole 2 MiB blocks.
target=$(((avail0 * 1024 - (112 << 20)) / (2 << 20) * (2 << 20)))
t0=$(date +%s.%N)
r=$(balloon set "$((target >> 20))M") || it_fail "balloon set: $r"
it_expect_eq "target set" "$target" "$(jq -r .target <<<"$r")"
wait_balloon "$target" 90
t1=$(date +%s.%N)
kib1=$(memfd_kib)
it_expect_eq "MemTotal drop (KiB)" "$((target / 1024))" "$((total0 - $(meminfo MemTotal)))"
released=$(((kib0 - kib1) * 1024))
echo "note: inflated $((target >> 20)) MiB in $(echo "$t1 - $t0" | bc) s;" \
	"host memfd $kib0 -> $kib1 KiB: $((released >> 20)) MiB returned" \
	"($((released * 100 / target))% of the balloon)"
((released * 100 >= target * 95)) ||
	it_fail "the host got back $released bytes of a $target-byte balloon (< 95%)"
punched=$(hoststat bytes_punched)
((punched >= target)) || it_fail "vireod punched $punched bytes of $target"
it_expect_eq "vireod: batches refused" 0 "$(hoststat batches_nacked)"
vk=$(($(hoststat memfd_allocated) / 1024))
((vk >= kib1 - 4096 && vk <= kib1 + 4096)) ||
	it_fail "vireod's memfd_allocated ($vk KiB) is far from the host's measure ($kib1 KiB)"
st=$(balloon status)
it_expect_eq "status: acked" "$target" "$(jq -r .acked <<<"$st")"
it_expect_eq "status: relay attached" true "$(jq -r .relay.attached <<<"$st")"
it_expect_eq "status: host punched" "$punched" "$(jq -r .host.bytes_punched <<<"$st")"
it_vireoctl guest vs0 balloon status | grep -E '^(target|size|progress|relay) ' ||
	it_fail "no status table"

# 2. The guest's memory statistics, as vireod last heard them (a sample a second).
sleep 2
ms=$(balloon stats) || it_fail "balloon stats: $ms"
it_expect_eq "stats: sampled" true "$(jq -r .sampled <<<"$ms")"
(($(jq -r '.age_s < 5' <<<"$ms" | grep -c true))) || it_fail "stale stats: $ms"
it_expect_eq "stats: total (KiB)" "$(meminfo MemTotal)" "$(($(jq -r .total <<<"$ms") / 1024))"
for k in free available cached swap_in swap_out major_faults; do
	[[ $(jq -r ".$k | type" <<<"$ms") == number ]] || it_fail "stats: no $k: $ms"
done
it_vireoctl guest vs0 balloon stats | grep -E '^(total|available|major faults) ' ||
	it_fail "no stats table"

# Free page reporting is the module's (another step): on or "unsupported", never wrong.
r=$(balloon reporting on 2>&1) || [[ $r == *unsupported* ]] || it_fail "reporting on: $r"
echo "reporting on: $r"
balloon reporting off >/dev/null 2>&1

# 3. Deflate: MemTotal comes back exactly; then a second cycle of half the size.
balloon set 0 >/dev/null || it_fail "deflate failed"
wait_balloon 0 60
it_expect_eq "MemTotal after deflate" "$total0" "$(meminfo MemTotal)"
half=$((target / 2 / (2 << 20) * (2 << 20)))
balloon set "$half" >/dev/null || it_fail "second inflate failed"
wait_balloon "$half" 60
balloon set 0 >/dev/null || it_fail "second deflate failed"
wait_balloon 0 60
it_expect_eq "MemTotal after the second cycle" "$total0" "$(meminfo MemTotal)"
((punched + half <= $(hoststat bytes_punched))) || it_fail "second cycle not punched"

# 4. The workload verified through every cycle.
mr=$(mc_rounds)
echo "memcheck: rounds/errors $mr"
lab_host "$g" "touch /tmp/mc.stop; for i in \$(seq 300); do pgrep -x memcheck >/dev/null || exit 0; sleep 0.1; done; exit 1" ||
	it_fail "memcheck did not stop"
out=$(lab_host "$g" 'cat /tmp/mc.out')
[[ $out =~ ^rounds\ ([0-9]+)\ errors\ 0$ ]] || it_fail "memcheck: $out"
((BASH_REMATCH[1] >= 2)) || it_fail "memcheck verified only ${BASH_REMATCH[1]} rounds"

# 5. Batches nobody answered are kept and sent again; nothing is freed before an answer.
#    A relay in the guest (fake-balloon-host.py, over vsock_loopback) takes the batches
#    over and never answers; when it goes, toolsd hands them to vireod's connection.
lab_host "$g" 'modprobe vsock_loopback' || it_fail "no vsock_loopback"
fake_host() {
	lab_host "$g" "(setsid python3 '$fhost' >/tmp/fh.log 2>&1 &);
		for i in \$(seq 50); do grep -q subscribed /tmp/fh.log && exit 0; sleep 0.1; done;
		cat /tmp/fh.log; exit 1" || it_fail "fake host did not start"
}
stop_fake_host() {
	lab_host "$g" "pkill -f fake-balloon-host.py; for i in \$(seq 50); do pgrep -f fake-balloon-host.py >/dev/null || exit 0; sleep 0.1; done; exit 1" ||
		it_fail "fake host did not stop"
}
wait_fh_batch() {
	lab_host "$g" 'for i in $(seq 100); do grep -q "^batch" /tmp/fh.log && exit 0; sleep 0.1; done; exit 1' ||
		it_fail "the fake host got no batch: $(lab_host "$g" 'cat /tmp/fh.log')"
}
fake_host
punched=$(hoststat bytes_punched)
small=$((64 << 20))
balloon set "$small" >/dev/null || it_fail "inflate to the fake host failed"
wait_fh_batch
sleep 1
st=$(balloon status)
it_expect_eq "pending while nobody answers" "$small" "$(jq -r .pending <<<"$st")"
((punched == $(hoststat bytes_punched))) || it_fail "vireod punched batches it never got"
balloon set 0 >/dev/null || it_fail "deflate failed"
sleep 1
it_expect_eq "pending pages kept at target 0" "$small" "$(jq -r .size <<<"$(balloon status)")"
stop_fake_host
wait_balloon 0 60
st=$(balloon status)
(($(jq -r .relay.batches_resent <<<"$st") >= 1)) || it_fail "nothing was re-sent: $st"
((punched + small <= $(hoststat bytes_punched))) || it_fail "re-sent batches not punched"
it_expect_eq "MemTotal after the re-sent batches" "$total0" "$(meminfo MemTotal)"

# toolsd dies with batches pending: the next one acknowledges them once vireod is back
# (they may go back to the guest: nothing of them can be punched any more).
fake_host
balloon set $((32 << 20)) >/dev/null || it_fail "inflate to the fake host failed"
wait_fh_batch
lab_host "$g" "pkill -KILL -x vireo-toolsd; for i in \$(seq 50); do pgrep -x vireo-toolsd >/dev/null || exit 0; sleep 0.1; done; exit 1" ||
	it_fail "toolsd did not die"
stop_fake_host
wait_agent 'down|connecting' 20
start_toolsd
lab_host "$g" 'grep -q "read by a previous agent" /tmp/toolsd.log' || it_fail "no orphaned batches seen"
balloon set 0 >/dev/null || it_fail "deflate after the restart failed"
wait_balloon 0 60
it_expect_eq "MemTotal after the restart" "$total0" "$(meminfo MemTotal)"

# 6. A hostile relay: toolsd makes way for the fake.
lab_host "$g" "pkill -x vireo-toolsd; for i in \$(seq 50); do pgrep -x vireo-toolsd >/dev/null || exit 0; sleep 0.1; done; exit 1" ||
	it_fail "toolsd did not stop"
wait_agent 'down|connecting' 20
declare -A before
for k in malformed zero_length unaligned wrap foreign; do before[$k]=$(hoststat "refused_$k"); done
punched=$(hoststat bytes_punched)
ram_end=$((mem << 20))
lab_host "$g" "(setsid python3 '$fake' $ram_end >/tmp/fake.log 2>&1 &);
	for i in \$(seq 50); do grep -q listening /tmp/fake.log && exit 0; sleep 0.1; done;
	cat /tmp/fake.log; exit 1" || it_fail "fake agent did not start"
lab_host "$g" 'for i in $(seq 200); do [ "$(grep -c "^done" /tmp/fake.log)" -ge 11 ] && exit 0; sleep 0.1; done; exit 1' ||
	it_fail "vireod did not answer every hostile batch: $(lab_host "$g" 'cat /tmp/fake.log')"
flog=$(lab_host "$g" 'cat /tmp/fake.log')
echo "$flog"
grep -q '^done [0-9]* True' <<<"$flog" && it_fail "vireod accepted a hostile batch"
for exp in "1 False foreign" "2 False foreign" "3 False unaligned" "4 False foreign" \
	"5 False wrap" "6 False zero_length" "7 False foreign" "8 False malformed" \
	"9 False malformed" "10 False malformed" "11 False malformed"; do
	grep -q "^done $exp: " <<<"$flog" || it_fail "no refusal '$exp' in: $flog"
done
declare -A want=([malformed]=5 [zero_length]=1 [unaligned]=1 [wrap]=1 [foreign]=4)
for k in "${!want[@]}"; do
	it_expect_eq "refused_$k" "${want[$k]}" "$(($(hoststat "refused_$k") - before[$k]))"
done
it_expect_eq "bytes punched by hostile batches" "$punched" "$(hoststat bytes_punched)"
grep -q 'balloon batch 3 refused (unaligned)' "$IT_VIREOD_LOG" || it_fail "refusals not logged"
it_vireoctl version >/dev/null || it_fail "vireod does not answer"
# The guest is fine: nothing was punched out from under it.
lab_host "$g" 'true' || it_fail "the guest stopped answering"

# 7. Back to toolsd: the relay works again.
lab_host "$g" "pkill -f fake-balloon-agent.py; for i in \$(seq 50); do pgrep -f fake-balloon-agent.py >/dev/null || exit 0; sleep 0.1; done; exit 1" ||
	it_fail "fake agent did not stop"
wait_agent 'down|connecting' 20
start_toolsd
balloon set $((32 << 20)) >/dev/null || it_fail "inflate after the fake failed"
wait_balloon $((32 << 20)) 60
balloon set 0 >/dev/null && wait_balloon 0 60
it_expect_eq "MemTotal at the end" "$total0" "$(meminfo MemTotal)"

it_vireod_stop
it_expect_eq "vireod's exit status" 0 "$IT_VIREOD_RC"
it_pass
