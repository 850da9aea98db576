#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# balloon.sh: time to inflate a guest's balloon by N GiB and the host memory that
# really came back, QEMU's virtio-balloon against Vireo's, in the same guest and the
# same run, printed as one table. Not pass/fail.
#
# One lab guest (default 3 GiB, the 6.1 kernel) has both balloons: QEMU's
# virtio-balloon-pci with the guest's own virtio_balloon module, driven through QEMU's
# QMP monitor (`balloon`, `query-balloon`); and vireo_balloon relayed by vireo-toolsd
# over vireod's vhost-user vsock device to vireod, which punches the ranges out of
# guest RAM (`vireoctl guest ID balloon set`). Guest RAM is memory-backend-memfd
# share=on, so both hosts return memory by punching holes in the same memfd; its
# allocated size (st_blocks through QEMU's /proc/PID/fd) is what the host got back.
#
# Two guests, one after the other: with Debian's default init_on_alloc=1 (the kernel
# zeroes every page it allocates, the balloons' pages too) and with init_on_alloc=0.
# Each half: a guest program touches most of the guest's memory and exits (so the
# memfd is backed and the memory is free in the guest), then the balloon is set N GiB
# below the guest's size; the time is from the request until the guest's balloon holds
# N GiB (QMP's `actual`; Vireo's status: size reached, nothing unreported or pending,
# i.e. every batch punched and acked). Then the balloon deflates again.
#
# Needs the lab (tests/lab/setup) and a build. Usage: balloon.sh [SERIES (6.1)]
# [GUEST_MIB (3072)] [INFLATE_MIB (2048)]; VIREO_BUILD_ROOT picks the build.
source "$(dirname "$0")/../integration/lib.sh"
series=${1:-6.1} mem=${2:-3072} inflate=${3:-2048}
it_begin "bench/balloon-$series"
build=$(lab_build_root)
toolsd=$build/guest-tools/toolsd/vireo-toolsd
((inflate < mem)) || it_fail "cannot inflate $inflate MiB of a $mem MiB guest"
cid=$((90 + ${#series}))
g=balloon-bench-$series
qmp=$(lab_guests_dir)/$g/qmp.sock
trap "exit 130" INT TERM

bt=$IT_TMP/balloon_test
"${CC:-cc}" -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$bt" \
	"$IT_ROOT/tests/integration/balloon/balloon_test.c" ||
	it_fail "cannot build balloon_test (needs glibc's libc.a: libc6-dev)"

# qmp COMMAND [JSON-ARGS]: one QMP command; prints its "return" as JSON.
qmp() {
	python3 - "$qmp" "$@" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
json.loads(f.readline())  # greeting
def call(cmd, args=None):
    req = {"execute": cmd}
    if args:
        req["arguments"] = args
    f.write(json.dumps(req) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            return r
call("qmp_capabilities")
r = call(sys.argv[2], json.loads(sys.argv[3]) if len(sys.argv) > 3 else None)
if "error" in r:
    sys.exit("qmp: %s: %s" % (sys.argv[2], r["error"].get("desc")))
print(json.dumps(r["return"]))
EOF
}

# QMP balloon to TARGET bytes, then query-balloon every 20 ms until `actual` is
# there; prints the seconds it took (one client for the whole run: no reconnects in
# the timing). Fails after LIMIT seconds.
qmp_balloon_timed() {
	python3 - "$qmp" "$1" "$2" <<'EOF'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
json.loads(f.readline())
def call(cmd, args=None):
    req = {"execute": cmd}
    if args:
        req["arguments"] = args
    f.write(json.dumps(req) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            return r
call("qmp_capabilities")
target, limit = int(sys.argv[2]), float(sys.argv[3])
t0 = time.monotonic()
r = call("balloon", {"value": target})
if "error" in r:
    sys.exit("qmp: balloon: %s" % r["error"].get("desc"))
while True:
    actual = call("query-balloon")["return"]["actual"]
    if actual == target:
        break
    if time.monotonic() - t0 > limit:
        sys.exit("qmp: balloon at %d, not %d, after %.0f s" % (actual, target, limit))
    time.sleep(0.02)
print("%.3f" % (time.monotonic() - t0))
EOF
}

# QEMU's guest RAM memfd, allocated KiB, measured through QEMU's own fd.
memfd_kib() {
	local f qpid
	qpid=$(cat "$(lab_guests_dir)/$g/qemu.pid")
	for f in /proc/"$qpid"/fd/*; do
		if [[ $(readlink "$f") == /memfd:mem* ]]; then
			echo $(($(stat -L -c %b "$f") / 2))
			return 0
		fi
	done
	it_fail "no memfd among QEMU's fds"
}

# Backs most of guest RAM in the memfd, then leaves it free in the guest.
touch_guest() {
	local avail
	avail=$(lab_run "$g" "awk '/^MemAvailable:/ {print \$2}' /proc/meminfo")
	lab_run "$g" --timeout 600 "balloon_test hog $((avail / 1024 - 128))" >/dev/null ||
		it_fail "touching guest memory failed"
}

rows=()
# row NAME SECONDS KIB_BEFORE KIB_AFTER: a table row; returned = the memfd's drop.
# Guest RAM the program did not touch was never backed: what the balloon takes of it
# returns nothing, so the percentage is of the inflation, a little under 100%.
row() {
	rows+=("$(awk -v n="$1" -v s="$2" -v b=$(($3 - $4)) -v i="$inflate" \
		'BEGIN { printf "%-16s %9.2f %12.2f %10.1f%%", n, s, b / 1048576, 100 * b / (i * 1024) }')")
	echo "$1: ${2} s, memfd $(($3 >> 10)) -> $(($4 >> 10)) MiB"
}

# QEMU's virtio-balloon: the guest's own driver, 4 KiB pages, 256 per request.
bench_virtio() {
	local before after secs
	for _ in $(seq 100); do
		qmp query-balloon >/dev/null 2>&1 && break
		sleep 0.2
	done
	qmp query-balloon >/dev/null || it_fail "virtio-balloon: the guest driver did not come up"
	touch_guest
	before=$(memfd_kib)
	secs=$(qmp_balloon_timed $(((mem - inflate) << 20)) 900) || it_fail "virtio-balloon: $secs"
	after=$(memfd_kib)
	echo "virtio-balloon: guest MemTotal $(lab_run "$g" "awk '/^MemTotal:/ {print \$2}' /proc/meminfo") KiB"
	row virtio-balloon "$secs" "$before" "$after"
	virtio_secs=$secs
	qmp_balloon_timed $((mem << 20)) 900 >/dev/null || it_fail "virtio-balloon: deflate failed"
}

# Vireo: vireo_balloon -> vireo-toolsd -> vireod (punch) -> ack. Needs the balloon
# relay (vireoctl guest ID balloon); says n/a without it.
vireo_ok=0
vireo_start() {
	local st
	[[ -x $toolsd ]] || { echo "vireo: no $toolsd"; return 1; }
	lab_run "$g" 'modprobe vireo_balloon' || { echo "vireo: no vireo_balloon"; return 1; }
	lab_host "$g" "(setsid '$toolsd' --heartbeat 1 >/tmp/toolsd.log 2>&1 &) &&
		for i in \$(seq 50); do grep -q listening /tmp/toolsd.log && exit 0; sleep 0.1; done;
		cat /tmp/toolsd.log; exit 1" || { echo "vireo: toolsd did not start"; return 1; }
	for _ in $(seq 100); do
		st=$(it_vireoctl --json device list | jq -r '.[] | select(.id == "vs0") | .agent.state')
		[[ $st == up ]] && break
		sleep 0.2
	done
	[[ $st == up ]] || { echo "vireo: the agent is not up ($st)"; return 1; }
	it_vireoctl --json guest vs0 balloon status >/dev/null 2>&1 ||
		{ echo "vireo: vireoctl has no guest ID balloon (the relay is not merged)"; return 1; }
}

vireo_wait() {
	local deadline=$((SECONDS + $2)) st
	while ((SECONDS < deadline)); do
		st=$(it_vireoctl --json guest vs0 balloon status) || return 1
		[[ $(jq -r '"\(.size) \(.pending) \(.unreported)"' <<<"$st") == "$1 0 0" ]] && return 0
		sleep 0.05
	done
	echo "vireo: balloon not at $1 after $2 s: $st" >&2
	return 1
}

bench_vireo() {
	local before after t0 t1 target=$((inflate << 20))
	touch_guest
	before=$(memfd_kib)
	t0=$(date +%s.%N)
	it_vireoctl guest vs0 balloon set "${inflate}M" >/dev/null || it_fail "vireo: balloon set failed"
	vireo_wait "$target" 900 || it_fail "vireo: inflation did not finish"
	t1=$(date +%s.%N)
	after=$(memfd_kib)
	vireo_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	row vireo "$vireo_secs" "$before" "$after"
	it_vireoctl guest vs0 balloon set 0 >/dev/null && vireo_wait 0 300 ||
		echo "vireo: deflate did not finish"
}

# run LABEL APPEND: one guest booted with kernel arguments APPEND, both halves.
run() {
	local label=$1 append=$2
	vireo_ok=0 virtio_secs= vireo_secs=
	it_vireod "$IT_TMP" --device "vsock,id=vs0,cid=$cid,uds=$IT_TMP/v.sock,socket=$IT_TMP/vs0.sock"
	it_boot "$g" --kernel "$series" --hostroot --mem "$mem" --append "$append" -- \
		-device virtio-balloon-pci,id=balloon0 -qmp "unix:$qmp,server=on,wait=off" \
		-chardev "socket,id=vc,path=$IT_TMP/vs0.sock" -device "vhost-user-vsock-pci,chardev=vc"
	lab_copy_in "$g" "$bt" /bin/balloon_test && lab_run "$g" 'chmod +x /bin/balloon_test' ||
		it_fail "copying balloon_test in failed"
	lab_host "$g" 'modprobe virtio_balloon' || it_fail "no virtio_balloon in the guest"
	vireo_start && vireo_ok=1
	rows+=("-- $label")
	bench_virtio
	if ((vireo_ok)); then
		bench_vireo
		ratios+=("$(awk -v l="$label" -v a="$virtio_secs" -v b="$vireo_secs" \
			'BEGIN { printf "ratio (%s): vireo is %.1fx faster than virtio-balloon", l, a / b }')")
	else
		rows+=("$(printf '%-16s %9s %12s %11s' vireo n/a n/a n/a)")
		ratios+=("ratio ($label): n/a (the Vireo half needs the balloon relay: vireoctl guest ID balloon)")
	fi
	lab_shutdown "$g"
	it_vireod_stop
}

ratios=()
# Debian's kernels zero every page they allocate (CONFIG_INIT_ON_ALLOC_DEFAULT_ON):
# both balloons pay for zeroing what they are about to give away, which under TCG
# dominates. The second guest turns that off to show what the balloons themselves cost.
run "init_on_alloc=1 (Debian's default)" ""
run "init_on_alloc=0" "init_on_alloc=0"

echo
echo "balloon: inflate $((inflate >> 10)) GiB of a $((mem >> 10)) GiB guest" \
	"(kernel $series, $(lab_accel)); returned = the guest RAM memfd's allocated drop"
printf '%-16s %9s %12s %11s\n' balloon seconds "GiB returned" "% returned"
printf '%s\n' "${rows[@]}"
printf '%s\n' "${ratios[@]}"
it_pass
