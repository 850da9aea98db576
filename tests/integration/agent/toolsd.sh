#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vireo-toolsd in a real guest, reached over AF_VSOCK inside the guest
# (vsock_loopback), so the agent is tested apart from the host's vsock device:
# every command, fsfreeze blocking a writer until thaw and until the auto-thaw,
# heartbeats, hostile input, and a shutdown that really powers QEMU off.
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
it_begin "agent/toolsd-$series"
g=toolsd-$series
toolsd=$VIREO_BUILD_ROOT/guest-tools/toolsd/vireo-toolsd
client=$IT_ROOT/tests/integration/agent/agent-client.py
[[ -x $toolsd ]] || it_fail "no $toolsd: build first"
disk=$IT_TMP/data.img
truncate -s 64M "$disk"
it_boot "$g" --kernel "$series" --hostroot --mem 768 -- \
	-drive "if=none,id=d0,file=$disk,format=raw" -device virtio-blk-pci,drive=d0

call() { lab_host "$g" "'$client' $(printf '%q ' "$@")"; }
field() { jq -r "$1" <<<"$2"; }

lab_host "$g" "modprobe vsock_loopback && mkfs.ext4 -q /dev/vda && mkdir -p /tmp/data &&
	mount /dev/vda /tmp/data &&
	(setsid '$toolsd' --heartbeat 1 --thaw-after 60 --verbose >/tmp/toolsd.log 2>&1 &) &&
	for i in \$(seq 50); do grep -q listening /tmp/toolsd.log && exit 0; sleep 0.1; done;
	cat /tmp/toolsd.log; exit 1" || it_fail "toolsd did not start"
echo "ok: toolsd listens"

r=$(call ping) || it_fail "ping failed: $r"
it_expect_eq "ping" true "$(field .result.pong "$r")"
it_expect_eq "reply id" 42 "$(field .id "$r")"
r=$(call version) || it_fail "version failed: $r"
it_expect_eq "protocol" 1 "$(field .result.protocol "$r")"

r=$(call info) || it_fail "info failed: $r"
it_expect_eq "info: kernel" "$(lab_host "$g" 'uname -r')" "$(field .result.kernel.release "$r")"
it_expect_eq "info: hostname" "$(lab_host "$g" hostname)" "$(field .result.hostname "$r")"
it_expect_eq "info: lo address" "127.0.0.1/8" \
	"$(field '.result.interfaces[] | select(.name == "lo") | .addresses[0]' "$r")"
memtotal=$(lab_host "$g" "awk '/^MemTotal:/ { print \$2 * 1024 }' /proc/meminfo")
it_expect_eq "info: memory total" "$memtotal" "$(field .result.memory.total "$r")"
it_expect_eq "info: /tmp/data" "ext4 /dev/vda" \
	"$(field '.result.filesystems[] | select(.mountpoint == "/tmp/data") | "\(.type) \(.device)"' "$r")"
it_expect_match "info: tools version" '^[0-9]+\.[0-9]+' "$(field .result.tools_version "$r")"

# The clock: read, step forward 1000 s, read back, step back. Each lab_host round
# trip may take seconds on a loaded machine, so toolsd's answers are checked against
# the guest's date read just before and just after, never against a fixed slack.
t0=$(lab_host "$g" 'date +%s')
r=$(call time) || it_fail "time failed: $r"
t1=$(lab_host "$g" 'date +%s')
rt=$(($(field .result.realtime_ns "$r") / 1000000000))
((rt >= t0 && rt <= t1)) || it_fail "time: realtime $rt is outside the guest's date before ($t0) and after ($t1)"
echo "ok: time agrees with date ($t0 <= $rt <= $t1)"
target=$((t1 + 1000)) s0=$SECONDS
r=$(call set-time "{\"realtime_ns\": $((target * 1000000000))}") || it_fail "set-time failed: $r"
late=$(($(lab_host "$g" 'date +%s') - target))
((late >= 0 && late <= SECONDS - s0 + 1)) ||
	it_fail "set-time: the clock is $late s past the target after $((SECONDS - s0)) s"
echo "ok: set-time stepped the clock (+1000 s; read back $late s later)"
call set-time "{\"realtime_ns\": $(((target + late - 1000) * 1000000000))}" >/dev/null ||
	it_fail "set-time back failed"
r=$(call set-time '{"realtime_ns": 5}') && it_fail "set-time to 1970 was accepted: $r"
it_expect_match "set-time to 1970 refused" 'before 2001' "$(field .error "$r")"

# fsfreeze holds a writer until thaw.
r=$(call fsfreeze '{"mountpoints": ["/tmp/data"], "timeout_s": 60}') || it_fail "fsfreeze failed: $r"
it_expect_eq "frozen" /tmp/data "$(field '.result.frozen | join(",")' "$r")"
lab_host "$g" "(setsid sh -c 'echo data >/tmp/data/file && sync -f /tmp/data/file && echo done >/tmp/writer' &)"
sleep 2
lab_host "$g" 'test ! -e /tmp/writer' || it_fail "a writer got through a frozen file system"
echo "ok: the writer is blocked while frozen"
r=$(call fsfreeze-status) || it_fail "fsfreeze-status failed"
it_expect_eq "status while frozen" true "$(field .result.frozen "$r")"
r=$(call fsfreeze) && it_fail "a second freeze was accepted: $r"
r=$(call thaw) || it_fail "thaw failed: $r"
it_expect_eq "thawed" /tmp/data "$(field '.result.thawed | join(",")' "$r")"
lab_host "$g" 'for i in $(seq 50); do test -e /tmp/writer && exit 0; sleep 0.1; done; exit 1' ||
	it_fail "the writer did not finish after thaw"
echo "ok: the writer finished after thaw"

# ... and until the auto-thaw when the host never thaws.
lab_host "$g" 'rm -f /tmp/writer'
r=$(call fsfreeze '{"mountpoints": ["/tmp/data"], "timeout_s": 8}') || it_fail "fsfreeze failed: $r"
lab_host "$g" "(setsid sh -c 'echo again >/tmp/data/file2 && sync -f /tmp/data/file2 && echo done >/tmp/writer' &)"
sleep 1
lab_host "$g" 'test ! -e /tmp/writer' || it_fail "a writer got through a frozen file system"
lab_host "$g" 'for i in $(seq 200); do test -e /tmp/writer && exit 0; sleep 0.1; done; exit 1' ||
	it_fail "the auto-thaw did not release the writer"
r=$(call fsfreeze-status)
it_expect_eq "status after auto-thaw" false "$(field .result.frozen "$r")"
lab_host "$g" 'grep -q "did not thaw within its timeout" /tmp/toolsd.log' || it_fail "no auto-thaw log line"
echo "ok: the auto-thaw released the writer"
r=$(call fsfreeze '{"mountpoints": ["/proc/nope"]}') && it_fail "freezing a non-mount point was accepted"
it_expect_match "non-mount point refused" 'not a mount point' "$(field .error "$r")"

# Heartbeats reach subscribers, about once per --heartbeat.
ev=$(lab_host "$g" "timeout 10 '$client' --events 2") || it_fail "no heartbeats: $ev"
it_expect_eq "heartbeats" "heartbeat heartbeat" "$(tail -n 2 <<<"$ev" | jq -r .event | tr '\n' ' ' | sed 's/ $//')"

# Hostile input: an error reply for junk, a dropped connection for an endless line,
# and the agent still serving.
r=$(call --raw 'this is not json') && it_fail "junk accepted: $r"
it_expect_match "junk refused" 'not a JSON object' "$(field .error "$r")"
r=$(call --raw '{"id": 1, "cmd": "no-such-command"}') && it_fail "unknown command accepted"
it_expect_match "unknown command refused" 'unknown command' "$(field .error "$r")"
r=$(call --raw '{"id": 1, "cmd": "ping", "args": 5}') && it_fail "bad args accepted"
it_expect_match "non-object args refused" 'not an object' "$(field .error "$r")"
lab_host "$g" "python3 -c 'import socket; s = socket.socket(socket.AF_VSOCK); s.connect((1, 5600)); s.sendall(b\"x\" * 70000); s.settimeout(5); print(len(s.recv(10)))'" |
	grep -qx 0 || it_fail "a 70 kB line did not end the connection"
echo "ok: an over-long line ends the connection"
call ping >/dev/null || it_fail "toolsd stopped serving after hostile input"
echo "ok: toolsd still serves"

# shutdown powers the guest off (no systemd here: sync and reboot(2)).
r=$(call shutdown) || it_fail "shutdown failed: $r"
it_expect_eq "shutdown accepted" poweroff "$(field .result.accepted "$r")"
lab_wait_exit "$g" 60 || it_fail "QEMU still runs 60 s after shutdown"
echo "ok: QEMU exited after shutdown"
lab_reap "$g"
it_pass
