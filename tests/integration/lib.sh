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
}
trap it_cleanup EXIT

# it_begin NAME: names this test (used for guest names and messages).
it_begin() {
	IT_NAME=$1
	echo "== $IT_NAME"
}

it_skip() {
	echo "SKIP $IT_NAME: $*"
	exit 77
}

it_fail() {
	echo "FAIL $IT_NAME: $*" >&2
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
