#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vireod's agent client against the real vireo-toolsd in a guest, over vireod's own
# vsock device (QEMU's vhost-user-vsock-pci, the guest's stock virtio-vsock driver):
#   - the agent comes up within seconds of toolsd's start (the time is printed), and
#     `vireoctl device list` shows it with its version and heartbeat;
#   - every `vireoctl guest` command: ping, version, info (kernel, hostname, memory
#     match the guest), time (offset and its round-trip bound), set-time, fsfreeze that
#     holds a guest writer until thaw and until the auto-thaw, fsfreeze-status;
#   - toolsd killed: the agent goes down; restarted: vireod reconnects by itself;
#   - hostile agents on port 5600 (junk, silence, an endless line, no replies or
#     heartbeats after the handshake): vireod keeps serving, reports the errors, times
#     requests out, answers other control clients meanwhile, and comes back to toolsd;
#   - shutdown powers QEMU off and the agent goes down; vireod exits cleanly.
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
it_begin "agent/host-$series"
cid=$((60 + ${#series}))
g=agenthost-$series
toolsd=$VIREO_BUILD_ROOT/guest-tools/toolsd/vireo-toolsd
fake=$IT_ROOT/tests/integration/agent/fake-agent.py
[[ -x $toolsd ]] || it_fail "no $toolsd: build first"

it_vireod "$IT_TMP" --device "vsock,id=vs0,cid=$cid,uds=$IT_TMP/v.sock,socket=$IT_TMP/vs0.sock"
disk=$IT_TMP/data.img
truncate -s 64M "$disk"
boot_start=$SECONDS
it_boot "$g" --kernel "$series" --hostroot --mem 768 -- \
	-chardev "socket,id=vc,path=$IT_TMP/vs0.sock" -device "vhost-user-vsock-pci,chardev=vc" \
	-drive "if=none,id=d0,file=$disk,format=raw" -device virtio-blk-pci,drive=d0
echo "note: guest booted in $((SECONDS - boot_start)) s"

agent() { it_vireoctl --json device list | jq -r ".[] | select(.id == \"vs0\") | .agent.$1"; }
guest() { it_vireoctl --json guest vs0 "$@"; }
# wait_agent REGEX SECONDS: until the agent's state matches (down and connecting
# alternate while vireod retries).
wait_agent() {
	local deadline=$((SECONDS + $2))
	while ((SECONDS < deadline)); do
		[[ $(agent state) =~ ^($1)$ ]] && return 0
		sleep 0.1
	done
	it_fail "agent not $1 after $2 s (state $(agent state), last error '$(agent last_error)')"
}
start_toolsd() {
	lab_host "$g" "(setsid '$toolsd' --heartbeat 1 --thaw-after 60 --verbose >/tmp/toolsd.log 2>&1 &) &&
		for i in \$(seq 50); do grep -q listening /tmp/toolsd.log && exit 0; sleep 0.1; done;
		cat /tmp/toolsd.log; exit 1" || it_fail "toolsd did not start"
}
stop_guest_prog() {
	lab_host "$g" "pkill -x $1; for i in \$(seq 50); do pgrep -x $1 >/dev/null || exit 0; sleep 0.1; done; exit 1" ||
		it_fail "$1 did not stop"
}

# Nothing listens yet: vireod keeps trying, and says so.
lab_host "$g" "mkfs.ext4 -q /dev/vda && mkdir -p /tmp/data && mount /dev/vda /tmp/data" ||
	it_fail "no data file system"
st=$(agent state)
[[ $st == down || $st == connecting ]] || it_fail "agent is '$st' before toolsd runs"
r=$(guest ping) && it_fail "ping answered with no agent: $r"
it_expect_match "ping with no agent" 'the agent is (down|connecting)' "$(jq -r .error <<<"$r")"

t0=$(date +%s%N)
start_toolsd
wait_agent up 30
up_ms=$((($(date +%s%N) - t0) / 1000000))
echo "note: agent up ${up_ms} ms after toolsd was started; $((SECONDS - boot_start)) s after QEMU started"
it_expect_match "device list: agent version" '^[0-9]+\.[0-9]+' "$(agent version)"
it_expect_eq "device list: agent protocol" 1 "$(agent protocol)"
sleep 1.5
age=$(agent heartbeat_age_s)
[[ $age != null ]] && jq -e -n "$age < 5" >/dev/null || it_fail "no recent heartbeat (age $age)"
echo "ok: heartbeat age $age s"
it_vireoctl device list | grep -E "^vs0 .*up [0-9.]+, heartbeat [0-9.]+ s ago" ||
	it_fail "device list table lacks the agent: $(it_vireoctl device list)"

# The commands.
r=$(guest ping) || it_fail "ping: $r"
it_expect_eq "ping" true "$(jq -r .pong <<<"$r")"
r=$(guest version) || it_fail "version: $r"
it_expect_eq "version" "$(agent version)" "$(jq -r .version <<<"$r")"
r=$(guest info) || it_fail "info: $r"
it_expect_eq "info: kernel" "$(lab_host "$g" 'uname -r')" "$(jq -r .kernel.release <<<"$r")"
it_expect_eq "info: hostname" "$(lab_host "$g" hostname)" "$(jq -r .hostname <<<"$r")"
memtotal=$(lab_host "$g" "awk '/^MemTotal:/ { print \$2 * 1024 }' /proc/meminfo")
it_expect_eq "info: memory total" "$memtotal" "$(jq -r .memory.total <<<"$r")"
it_expect_eq "info: /tmp/data" "ext4 /dev/vda" \
	"$(jq -r '.filesystems[] | select(.mountpoint == "/tmp/data") | "\(.type) \(.device)"' <<<"$r")"
it_expect_eq "info table: kernel" "$(lab_host "$g" 'uname -r')" \
	"$(it_vireoctl guest vs0 info | awk '$1 == "kernel" { print $2; exit }')"

r=$(guest time) || it_fail "time: $r"
offset=$(jq -r .offset_ns <<<"$r")
bound=$(jq -r .bound_ns <<<"$r")
((bound > 0 && bound < 5000000000)) || it_fail "time: bound $bound ns"
((offset > -5000000000 && offset < 5000000000)) || it_fail "time: offset $offset ns"
echo "note: guest clock offset $offset ns, bound +/- $bound ns (half the round trip)"
it_vireoctl guest vs0 time | grep -q "^bound .*half the" || it_fail "time table"
r=$(guest set-time now) || it_fail "set-time now: $r"
echo "ok: set-time now stepped by $(jq -r .stepped_ns <<<"$r") ns"
r=$(guest set-time 5) && it_fail "set-time 5 accepted: $r"

# fsfreeze holds a guest writer until thaw, then until the auto-thaw.
r=$(guest fsfreeze /tmp/data) || it_fail "fsfreeze: $r"
it_expect_eq "frozen" /tmp/data "$(jq -r '.frozen | join(",")' <<<"$r")"
lab_host "$g" "(setsid sh -c 'echo data >/tmp/data/f1 && sync -f /tmp/data/f1 && echo done >/tmp/writer' &)"
sleep 2
lab_host "$g" 'test ! -e /tmp/writer' || it_fail "a writer got through a frozen file system"
r=$(guest fsfreeze-status) || it_fail "fsfreeze-status: $r"
it_expect_eq "status while frozen" true "$(jq -r .frozen <<<"$r")"
r=$(guest thaw) || it_fail "thaw: $r"
it_expect_eq "thawed" /tmp/data "$(jq -r '.thawed | join(",")' <<<"$r")"
lab_host "$g" 'for i in $(seq 50); do test -e /tmp/writer && exit 0; sleep 0.1; done; exit 1' ||
	it_fail "the writer did not finish after thaw"
echo "ok: the writer was held until thaw"
lab_host "$g" 'rm -f /tmp/writer'
r=$(guest fsfreeze --timeout 4 /tmp/data) || it_fail "fsfreeze --timeout 4: $r"
it_expect_eq "auto-thaw after" 4 "$(jq -r .thaw_after_s <<<"$r")"
lab_host "$g" "(setsid sh -c 'echo x >/tmp/data/f2 && sync -f /tmp/data/f2 && echo done >/tmp/writer' &)"
lab_host "$g" 'sleep 1; test ! -e /tmp/writer' || it_fail "a writer got through a frozen file system"
lab_host "$g" 'for i in $(seq 150); do test -e /tmp/writer && exit 0; sleep 0.1; done; exit 1' ||
	it_fail "the auto-thaw did not release the writer"
r=$(guest fsfreeze-status)
it_expect_eq "status after auto-thaw" false "$(jq -r .frozen <<<"$r")"
echo "ok: the auto-thaw released the writer"

# toolsd dies and comes back: vireod follows.
stop_guest_prog vireo-toolsd
wait_agent "down|connecting" 10
echo "ok: agent down after toolsd was killed ($(agent last_error))"
t0=$(date +%s%N)
start_toolsd
wait_agent up 30
echo "note: agent back $((($(date +%s%N) - t0) / 1000000)) ms after toolsd restarted"
it_expect_eq "ups" 2 "$(agent ups)"
stop_guest_prog vireo-toolsd

# Hostile agents. fake MODE: runs fake-agent.py in the guest.
fake() {
	lab_host "$g" "(setsid python3 '$fake' $1 >/tmp/fake.log 2>&1 &);
		for i in \$(seq 50); do grep -q listening /tmp/fake.log && exit 0; sleep 0.1; done;
		cat /tmp/fake.log; exit 1" || it_fail "fake agent ($1) did not start"
}
# wait_error REGEX SECONDS: until the agent's last error matches.
wait_error() {
	local deadline=$((SECONDS + $2))
	while ((SECONDS < deadline)); do
		[[ $(agent last_error) =~ $1 ]] && return 0
		sleep 0.2
	done
	it_fail "no agent error like '$1' after $2 s (state $(agent state), '$(agent last_error)')"
}
fake junk
wait_error 'bad lines from the agent' 30
(($(agent bad_lines) >= 8)) || it_fail "bad lines not counted: $(agent bad_lines)"
[[ $(agent state) != up ]] || it_fail "a junk agent is up"
echo "ok: junk: $(agent bad_lines) bad lines, '$(agent last_error)'"
stop_guest_prog python3

fake endless
wait_error 'a line longer than 65536 bytes' 30
echo "ok: endless line: '$(agent last_error)'"
stop_guest_prog python3

fake silent
lab_host "$g" 'for i in $(seq 100); do grep -q "conn 1" /tmp/fake.log && exit 0; sleep 0.1; done; exit 1' ||
	it_fail "vireod never connected to the silent agent"
sleep 1
it_expect_eq "silent agent" connecting "$(agent state)"
r=$(guest ping) && it_fail "ping answered by a silent agent: $r"
it_expect_match "ping to a silent agent" 'the agent is connecting' "$(jq -r .error <<<"$r")"
stop_guest_prog python3

fake mute
wait_agent up 30
it_expect_eq "mute agent's version" 9.9.9-fake "$(agent version)"
# A request it never answers times out; another client is served meanwhile.
t0=$SECONDS
guest info >"$IT_TMP/mute.out" &
pid=$!
sleep 1
kill -0 "$pid" 2>/dev/null || it_fail "info to a mute agent returned at once: $(cat "$IT_TMP/mute.out")"
it_vireoctl version >/dev/null || it_fail "vireod stopped answering while a guest request waits"
echo "ok: another control client is served while a guest request waits"
wait "$pid" && it_fail "info to a mute agent succeeded: $(cat "$IT_TMP/mute.out")"
it_expect_match "mute agent: request" 'did not answer info within 10000 ms|stale' "$(jq -r .error "$IT_TMP/mute.out")"
echo "ok: the request ended after $((SECONDS - t0)) s"
wait_error 'stale: no heartbeat' 20
(($(agent stale) >= 1)) || it_fail "stale not counted"
echo "ok: mute agent dropped as stale"
stop_guest_prog python3

# Back to the real agent.
start_toolsd
wait_agent up 30
it_expect_eq "real agent after hostile ones" "$(guest version | jq -r .version)" "$(agent version)"
kill -0 "$IT_VIREOD_PID" || it_fail "vireod died"

# Shutdown powers QEMU off; the agent goes down.
r=$(guest shutdown) || it_fail "shutdown: $r"
it_expect_eq "shutdown accepted" poweroff "$(jq -r .accepted <<<"$r")"
lab_wait_exit "$g" 60 || it_fail "QEMU still runs 60 s after shutdown"
echo "ok: QEMU exited after shutdown"
lab_reap "$g"
wait_agent "down|connecting" 15
echo "ok: agent down after shutdown ($(agent last_error))"
it_vireoctl device list
it_vireod_stop
it_expect_eq "vireod exit status" 0 "$IT_VIREOD_RC"
it_pass
