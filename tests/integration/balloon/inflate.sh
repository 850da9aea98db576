#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vireo_balloon in a 640 MiB guest, driven by balloon_test (the agent's side of
# /dev/vireo-balloon, built static here):
#   - inflate to most of what is available: MemTotal drops by exactly the balloon
#     size, mostly in 2 MiB blocks; the ranges read are page-aligned, non-overlapping,
#     inside /proc/iomem's System RAM and add up to the balloon; the host acks them;
#   - read but unacknowledged pages stay out when the target drops; the ack frees them;
#     a read that cannot copy out hands nothing over;
#   - deflate by target: MemTotal comes back;
#   - with a big balloon, a program touching more than is left succeeds: the balloon
#     gives memory back (shrinker / OOM notifier), and nothing is OOM-killed;
#   - rmmod with an inflated, acknowledged balloon gives everything back.
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
it_begin "balloon/inflate-$series"

bt=$IT_TMP/balloon_test
"${CC:-cc}" -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$bt" \
	"$IT_ROOT/tests/integration/balloon/balloon_test.c" ||
	it_fail "cannot build balloon_test (needs glibc's libc.a: libc6-dev)"

g=balloon-$series
it_boot "$g" --kernel "$series" --mem 640
lab_copy_in "$g" "$bt" /bin/balloon_test || it_fail "copying balloon_test in failed"
lab_run "$g" 'chmod +x /bin/balloon_test && modprobe vireo_balloon' || it_fail "modprobe failed"

meminfo() { lab_run "$g" "awk '/^$1:/ {print \$2}' /proc/meminfo"; }
# field NAME STATUS-LINE
field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}' <<<"$2"; }
total0=$(meminfo MemTotal)
avail0=$(meminfo MemAvailable)
echo "guest: MemTotal $total0 KiB, MemAvailable $avail0 KiB"

# 1. Inflate to all but ~96 MiB of what is available: whole 2 MiB blocks, and three
#    4 KiB pages for the odd remainder.
target=$(((avail0 * 1024 - (96 << 20)) / (2 << 20) * (2 << 20) + 3 * 4096))
st=$(lab_run "$g" "balloon_test target $target") || it_fail "inflate failed"
echo "$st"
it_expect_eq "balloon size" "$target" "$(field size "$st")"
blocks=$(field blocks_2m "$st")
pages=$(field pages_4k "$st")
echo "inflated $((target >> 20)) MiB: $blocks blocks of 2 MiB, $pages pages of 4 KiB"
((blocks * 2 * 1024 * 1024 >= target * 9 / 10)) || it_fail "fewer than 90% in 2 MiB blocks"
it_expect_eq "4 KiB pages" 3 "$pages"
it_expect_eq "sysfs status size" "size $target" \
	"$(lab_run "$g" 'grep "^size " /sys/class/misc/vireo-balloon/status')"
it_expect_eq "MemTotal drop (KiB)" "$((target / 1024))" "$((total0 - $(meminfo MemTotal)))"
rd=$(lab_run "$g" 'balloon_test read ack') || it_fail "reading ranges failed: $rd"
echo "$rd"
it_expect_eq "reported bytes" "$target" "$(field bytes "$rd")"
st=$(lab_run "$g" 'balloon_test status')
it_expect_eq "acked bytes" "$target" "$(field acked "$st")"

# 2. Deflate by target: MemTotal comes back exactly.
st=$(lab_run "$g" 'balloon_test target 0') || it_fail "deflate failed"
it_expect_eq "size after deflate" 0 "$(field size "$st")"
it_expect_eq "MemTotal after deflate" "$total0" "$(meminfo MemTotal)"

# 3. Read but not acknowledged: the host may be punching those pages, they stay out.
small=$((64 << 20))
lab_run "$g" "balloon_test target $small" >/dev/null || it_fail "inflate (64 MiB) failed"
it_expect_eq "read into a bad buffer" "efault ok" "$(lab_run "$g" 'balloon_test readfault')"
rd=$(lab_run "$g" 'balloon_test read') || it_fail "reading ranges failed: $rd"
st=$(lab_run "$g" 'balloon_test target 0 2')
it_expect_eq "pending pages kept" "$small" "$(field size "$st")"
it_expect_eq "pending bytes" "$small" "$(field pending "$st")"
seq=$(field seq "$rd")
lab_run "$g" "balloon_test ack $((seq + 1))" 2>/dev/null && it_fail "an ack beyond the last batch was taken"
lab_run "$g" "balloon_test ack $seq" || it_fail "ack failed"
st=$(lab_run "$g" 'balloon_test target 0') || it_fail "deflate after ack failed"
it_expect_eq "size after ack" 0 "$(field size "$st")"
it_expect_eq "MemTotal after ack" "$total0" "$(meminfo MemTotal)"

# 4. Pressure: a big balloon, then a program touching more than is left.
lab_run "$g" "balloon_test target $target" >/dev/null || it_fail "re-inflate failed"
lab_run "$g" 'balloon_test read ack' >/dev/null || it_fail "reading ranges failed"
avail1=$(meminfo MemAvailable)
hog=$(((avail1 + target / 1024 / 2) / 1024))
echo "MemAvailable with the balloon: $avail1 KiB; touching $hog MiB"
out=$(lab_run "$g" --timeout 240 "balloon_test hog $hog") || it_fail "hog failed: $out"
it_expect_eq "hog" "touched $hog" "$out"
st=$(lab_run "$g" 'balloon_test status')
echo "$st"
shrunk=$(field shrunk "$st")
((shrunk > 0)) || it_fail "the balloon did not give memory back under pressure"
echo "given back under pressure: $((shrunk >> 20)) MiB" \
	"(OOM notifier: $(($(field oom_shrunk "$st") >> 20)) MiB) of $((target >> 20)) MiB"
# It gave back about what the program needed, not everything.
(($(field size "$st") >= target / 4)) || it_fail "the balloon deflated far more than needed"
if lab_run "$g" 'dmesg | grep -iE "out of memory|oom-kill|invoked oom-killer"'; then
	it_fail "the OOM killer ran"
fi
echo "ok: no OOM kill"
it_expect_eq "MemTotal after pressure (KiB)" "$((total0 - $(field size "$st") / 1024))" \
	"$(meminfo MemTotal)"

# 5. rmmod with an inflated, acknowledged balloon gives everything back.
lab_run "$g" "balloon_test target $((128 << 20))" >/dev/null || it_fail "inflate failed"
lab_run "$g" 'balloon_test read ack' >/dev/null || it_fail "reading ranges failed"
lab_run "$g" 'rmmod vireo_balloon' || it_fail "rmmod failed"
it_expect_eq "MemTotal after rmmod" "$total0" "$(meminfo MemTotal)"
if lab_run "$g" 'dmesg | grep -E "BUG|WARNING|Oops|never acknowledged"'; then
	it_fail "kernel complained"
fi
echo "ok: no kernel complaint"
it_pass
