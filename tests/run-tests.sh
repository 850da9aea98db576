#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The one test run (`make check`): lab set-up (packages, kernels, guest modules),
# a warnings-as-errors build and an ASan+UBSan build, then the unit tests and the
# integration tests (real guests, every supported kernel, vireod serving them) in
# the sanitizer build, so a guest that makes vireod misbehave fails the run. Each test prints its name and result; the last line is
# "N passed, N failed, N skipped". Exit status is non-zero on any failure.
set -u
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root" || exit 1
build=$(readlink -f "${BUILD:-build}")
build_asan=$(readlink -f "${BUILD_ASAN:-build-asan}")
export VIREO_BUILD_ROOT=$build_asan

passed=0
failed=0
skipped=0
start=$SECONDS

step_failed() {
	echo "FAIL $1"
	failed=$((failed + 1))
}

finish() {
	echo "test run took $((SECONDS - start)) s"
	echo "$passed passed, $failed failed, $skipped skipped"
	((failed == 0))
	exit
}

# configure DIR [meson options...]: configures once, then only rebuilds.
configure() {
	local dir=$1
	shift
	[[ -f $dir/build.ninja ]] && return 0
	meson setup "$dir" -Dwerror=true "$@" >"$dir.setup.log" 2>&1 || {
		cat "$dir.setup.log"
		return 1
	}
}

# meson_tests DIR SUITE: runs a suite and adds its counts to the totals.
meson_tests() {
	local dir=$1 suite=$2 log
	log=$(mktemp)
	meson test -C "$dir" --suite "$suite" --print-errorlogs \
		--num-processes "${VIREO_TEST_JOBS:-2}" 2>&1 | tee "$log"
	local ok xfail fail xpass skip tout
	ok=$(awk '/^Ok:/ { print $2 }' "$log")
	xfail=$(awk '/^Expected Fail:/ { print $3 }' "$log")
	fail=$(awk '/^Fail:/ { print $2 }' "$log")
	xpass=$(awk '/^Unexpected Pass:/ { print $3 }' "$log")
	skip=$(awk '/^Skipped:/ { print $2 }' "$log")
	tout=$(awk '/^Timeout:/ { print $2 }' "$log")
	if [[ -z $ok ]] && grep -q 'No suitable tests defined' "$log"; then
		echo "note: the $suite suite has no tests in this build"
		rm -f "$log"
		return
	fi
	rm -f "$log"
	if [[ -z $ok ]]; then
		step_failed "$suite tests (meson test did not run)"
		return
	fi
	passed=$((passed + ok + ${xfail:-0}))
	failed=$((failed + ${fail:-0} + ${xpass:-0} + ${tout:-0}))
	skipped=$((skipped + ${skip:-0}))
}

echo "== lab set-up"
if ! tests/lab/setup; then
	step_failed "lab set-up"
	finish
fi

echo "== build ($build, warnings are errors)"
if configure "$build" && meson compile -C "$build"; then
	passed=$((passed + 1))
	echo "PASS build"
else
	step_failed build
	finish
fi

echo "== sanitizer build ($build_asan, ASan + UBSan)"
if configure "$build_asan" -Db_sanitize=address,undefined -Db_lundef=false &&
	meson compile -C "$build_asan"; then
	passed=$((passed + 1))
	echo "PASS sanitizer build"
else
	step_failed "sanitizer build"
	finish
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "== unit tests (ASan + UBSan)"
meson_tests "$build_asan" unit

echo "== style"
meson_tests "$build" style

echo "== integration tests (real guests; vireod with ASan + UBSan)"
meson_tests "$build_asan" integration
finish
