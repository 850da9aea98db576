#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vireo_balloon's free page reporting in a 640 MiB guest, driven by balloon_test (the
# agent's side of /dev/vireo-balloon, built static here):
#   - reporting on while a program maps and unmaps a few hundred MiB: batches arrive
#     flagged VIREO_BALLOON_BATCH_REPORTED, with 2 MiB-aligned ranges inside System RAM,
#     adding up to a plausible share of the free memory; the status counts them;
#     MemTotal does not move, and the memory is usable again (written and read back);
#   - an ack of a later (inflation) batch releases a reported batch read before it;
#   - off: no more batches;
#   - a reader that never reads: reported batches time out, counted, pages usable;
#   - turning reporting off while a read batch waits for its ack: off returns, the
#     batch keeps waiting until the ack; rmmod while one waits: returns, the pages go
#     back (logged), and the kernel does not complain.
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
it_begin "balloon/reporting-$series"

bt=$IT_TMP/balloon_test
"${CC:-cc}" -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$bt" \
	"$IT_ROOT/tests/integration/balloon/balloon_test.c" ||
	it_fail "cannot build balloon_test (needs glibc's libc.a: libc6-dev)"

g=balloon-rep-$series
it_boot "$g" --kernel "$series" --mem 640
lab_copy_in "$g" "$bt" /bin/balloon_test || it_fail "copying balloon_test in failed"
# A short timeout keeps the no-reader case quick.
lab_run "$g" 'chmod +x /bin/balloon_test && modprobe vireo_balloon report_timeout_ms=1500' ||
	it_fail "modprobe failed"

meminfo() { lab_run "$g" "awk '/^$1:/ {print \$2}' /proc/meminfo"; }
# field NAME STATUS-LINE
field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}' <<<"$2"; }
status() { lab_run "$g" 'balloon_test status'; }
total0=$(meminfo MemTotal)
free0=$(meminfo MemFree)
echo "guest: MemTotal $total0 KiB, MemFree $free0 KiB"
st=$(status)
it_expect_eq "reporting by default" 0 "$(field reporting "$st")"

# 1. On, while 300 MiB are mapped, filled and unmapped three times.
rd=$(lab_run "$g" --timeout 120 \
	'balloon_test churn 300 3 >/dev/null & balloon_test reports --on 60 5; wait') ||
	it_fail "reading reported batches failed: $rd"
echo "$rd"
st=$(status)
echo "$st"
bytes=$(field bytes "$rd")
(($(field reports "$rd") > 0)) || it_fail "no reported batch arrived"
# The kernel reports only above the low watermark plus 32 blocks, and in budgets
# per pass; a quarter of what was free is well within reach.
((bytes >= free0 * 1024 / 4)) || it_fail "only $((bytes >> 20)) MiB reported"
# Memory unmapped by the program may be reported again after each round: at most the
# whole guest per round and once more for the first pass.
((bytes <= total0 * 1024 * 4)) || it_fail "$((bytes >> 20)) MiB reported: implausibly much"
echo "reported $((bytes >> 20)) MiB in $(field reports "$rd") batches" \
	"($(field ranges "$rd") ranges); guest MemFree was $((free0 >> 10)) MiB"
it_expect_eq "reported bytes (status)" "$bytes" "$(field reported "$st")"
it_expect_eq "reported batches (status)" "$(field reports "$rd")" "$(field report_batches "$st")"
it_expect_eq "timeouts" 0 "$(field report_timeouts "$st")"
it_expect_eq "sysfs reporting" "reporting 1" \
	"$(lab_run "$g" 'grep "^reporting " /sys/class/misc/vireo-balloon/status')"
echo "kernel's page_reporting_order: $(lab_run "$g" \
	'cat /sys/module/page_reporting/parameters/page_reporting_order')"
it_expect_eq "MemTotal after reporting" "$total0" "$(meminfo MemTotal)"
it_expect_eq "memory usable after reporting" "touched 200" "$(lab_run "$g" 'balloon_test hog 200')"

# 2. A reported batch read, then an inflation read and acked under a later seq.
out=$(lab_run "$g" --timeout 120 \
	"balloon_test churn 200 2 >/dev/null & balloon_test mixed $((64 << 20)); wait") ||
	it_fail "mixed batches failed: $out"
echo "$out"

# 3. Off: no more batches.
lab_run "$g" 'balloon_test reporting off' || it_fail "reporting off failed"
rd=$(lab_run "$g" --timeout 60 'balloon_test churn 200 2 >/dev/null & balloon_test reports 4 4; wait')
it_expect_eq "batches with reporting off" 0 "$(field reports "$rd")"
it_expect_eq "status reporting off" 0 "$(field reporting "$(status)")"

# 4. A reader that never reads: each batch times out; its pages stay free and usable.
lab_run "$g" 'balloon_test reporting on' || it_fail "reporting on failed"
before=$(status)
lab_run "$g" --timeout 60 'balloon_test hold 8 & balloon_test churn 200 2 >/dev/null; wait' ||
	it_fail "hold/churn failed"
st=$(status)
echo "$st"
(($(field report_timeouts "$st") > 0)) || it_fail "no reported batch timed out"
it_expect_eq "reported while nobody read" "$(field reported "$before")" "$(field reported "$st")"
it_expect_eq "nothing waiting" 0 "$(field report_waiting "$st")"
echo "timeouts: $(field report_timeouts "$st")"
it_expect_eq "memory usable after timeouts" "touched 200" "$(lab_run "$g" 'balloon_test hog 200')"

# 5. A batch read, then reporting off: off returns, the batch still waits for its ack
#    (the host may be discarding it), and the ack releases it.
wait_batch() {
	rd=$(lab_run "$g" --timeout 120 \
		'balloon_test churn 200 2 >/dev/null & balloon_test reports --noack 60 60; wait') ||
		it_fail "reading a reported batch failed: $rd"
	(($(field reports "$rd") == 1)) || it_fail "no reported batch: $rd"
	st=$(status)
	it_expect_eq "waiting for the ack" "$(field bytes "$rd")" "$(field report_waiting "$st")"
}
wait_batch
lab_run "$g" --timeout 30 'balloon_test reporting off' || it_fail "reporting off hung or failed"
st=$(status)
it_expect_eq "reporting after off" 0 "$(field reporting "$st")"
it_expect_eq "still waiting after off" "$(field bytes "$rd")" "$(field report_waiting "$st")"
lab_run "$g" "balloon_test ack $(field seq "$rd")" || it_fail "ack failed"
st=$(status)
it_expect_eq "waiting after the ack" 0 "$(field report_waiting "$st")"
it_expect_eq "reported after the ack" "$(($(field reported "$before") + $(field bytes "$rd")))" \
	"$(field reported "$st")"

# 6. The same, then rmmod.
lab_run "$g" 'balloon_test reporting on' || it_fail "reporting on failed"
wait_batch
lab_run "$g" --timeout 30 'rmmod vireo_balloon' || it_fail "rmmod hung or failed"
lab_run "$g" 'dmesg | grep "read but never acknowledged"' || it_fail "rmmod: no warning logged"
it_expect_eq "MemTotal after rmmod" "$total0" "$(meminfo MemTotal)"
it_expect_eq "memory usable after rmmod" "touched 200" "$(lab_run "$g" 'balloon_test hog 200')"
if lab_run "$g" 'dmesg | grep -E "BUG|WARNING|Oops|blocked for more than"'; then
	it_fail "kernel complained"
fi
echo "ok: no kernel complaint"
it_pass
