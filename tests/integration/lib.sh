# SPDX-License-Identifier: MIT
# Shared by the shell integration tests: guest set-up and tear-down around the lab
# API, and assertions that say what they expected. A test script sources this,
# calls it_begin, and exits through it_pass / it_fail / it_skip.
set -u
IT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../lab/lab.sh
source "$IT_ROOT/tests/lab/lab.sh"

IT_GUESTS=()

it_cleanup() {
	local g
	for g in "${IT_GUESTS[@]}"; do
		lab_kill "$g" >/dev/null 2>&1
	done
	it_cleanup_vireod
	[[ -n ${IT_TMP:-} ]] && rm -rf "$IT_TMP"
}
trap it_cleanup EXIT

# it_begin NAME: names this test (used for guest names and messages) and makes
# IT_TMP, a scratch directory removed at exit.
it_begin() {
	IT_NAME=$1
	IT_TMP=$(mktemp -d "/tmp/vireo-it.XXXXXX")
	echo "== $IT_NAME"
}

it_skip() {
	echo "SKIP $IT_NAME: $*"
	exit 77
}

it_fail() {
	echo "FAIL $IT_NAME: $*" >&2
	if [[ -n ${IT_VIREOD_LOG:-} && -f $IT_VIREOD_LOG ]]; then
		echo "---- last lines of vireod's log ($IT_VIREOD_LOG) ----" >&2
		tail -n 20 "$IT_VIREOD_LOG" >&2
	fi
	exit 1
}

it_pass() {
	echo "PASS $IT_NAME"
	exit 0
}

# it_boot GUEST [lab_boot options...]: boots a guest that is killed when the test ends.
it_boot() {
	local g=$1
	shift
	IT_GUESTS+=("$g")
	lab_boot "$g" "$@" || it_fail "guest $g did not boot"
}

# it_expect_eq WHAT EXPECTED ACTUAL
it_expect_eq() {
	[[ $2 == "$3" ]] || it_fail "$1: expected '$2', got '$3'"
	echo "ok: $1 = '$3'"
}

# it_expect_match WHAT REGEX TEXT
it_expect_match() {
	[[ $3 =~ $2 ]] || it_fail "$1: expected a match for /$2/ in: $3"
	echo "ok: $1 matches /$2/"
}

# ---- vireod ----

IT_VIREOD_PID=

# it_vireod DIR ARGS...: starts vireod with its control socket at DIR/control.sock and
# its log in build/lab/logs/TEST.vireod.log; waits until it answers; it is killed when
# the test ends.
it_vireod() {
	local dir=$1 build
	shift
	build=$(lab_build_root)
	mkdir -p "$build/lab/logs"
	IT_VIREOD_LOG=$build/lab/logs/${IT_NAME//\//_}.vireod.log
	: >"$IT_VIREOD_LOG"
	IT_CONTROL=$dir/control.sock
	"$build/vmm-core/daemon/vireod" --control "$IT_CONTROL" --log-level debug "$@" \
		</dev/null >>"$IT_VIREOD_LOG" 2>&1 &
	IT_VIREOD_PID=$!
	for _ in $(seq 100); do
		[[ -S $IT_CONTROL ]] && it_vireoctl version >/dev/null 2>&1 && return 0
		kill -0 "$IT_VIREOD_PID" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 20 "$IT_VIREOD_LOG" >&2
	it_fail "vireod did not start"
}

it_vireoctl() {
	"$(lab_build_root)/vmm-core/daemon/vireoctl" --control "$IT_CONTROL" "$@"
}

# it_vireod_stop: SIGTERM, and vireod must exit by itself within 20 s.
it_vireod_stop() {
	[[ -n $IT_VIREOD_PID ]] || return 0
	kill -TERM "$IT_VIREOD_PID" 2>/dev/null
	for _ in $(seq 200); do
		kill -0 "$IT_VIREOD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$IT_VIREOD_PID" 2>/dev/null; then
		kill -KILL "$IT_VIREOD_PID"
		it_fail "vireod did not exit on SIGTERM"
	fi
	wait "$IT_VIREOD_PID" 2>/dev/null
	IT_VIREOD_RC=$?
	IT_VIREOD_PID=
}

it_cleanup_vireod() {
	[[ -n $IT_VIREOD_PID ]] && kill -KILL "$IT_VIREOD_PID" 2>/dev/null
	IT_VIREOD_PID=
}

# The QEMU arguments of a vhost-user-blk disk on SOCKET (chardev id ID).
it_blk_args() {
	printf '%s\n' -chardev "socket,id=$2,path=$1" \
		-device "vhost-user-blk-pci,chardev=$2,num-queues=${3:-1}"
}
