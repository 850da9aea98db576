#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# net-peers.sh: vireo-bench net against vhost-user-net backends that send every frame
# back, printed as one table with ratios.
#
# Backends, one at a time (each gets the machine to itself):
#   vireod            vireod + samples/net-pair with loopback=on: what the guest sends
#                     on a queue pair comes back on its receive queue. Measures the
#                     backend: virtio-net model, vhost-user rings, the driver's copy.
#   testpmd           DPDK's dpdk-testpmd, net_vhost PMD, io forwarding: one port
#                     forwards what it receives back out of itself. Two EAL memory
#                     set-ups: hugepages (when they can be reserved) and --no-huge.
#   vireod tap        vireod + drivers/net/tap into a TAP whose kernel side sends every
#                     frame back (tc ingress u32 + mirred egress redirect to itself):
#                     the frame crosses the kernel twice (writev into the TAP, the
#                     redirect, readv out), so this is the cost of a kernel path.
#                     One queue pair only: with more, the TAP's flow hash picks the
#                     queue pair a frame comes back on.
# Each runs frames of each --frames length for --rounds rounds (rounds interleave the
# backends, so a burst of load elsewhere on the machine does not hit one alone); the
# table gives each cell's best and median round. Not pass/fail.
#
# Leaves nothing behind: every process it starts is stopped by PID on exit (trap); the
# TAP, hugetlbfs mount and hugepage reservation are undone; every step is bounded in
# time (timeout(1) around each run and each daemon).
#
# Needs: a built vireo-bench and vireod, jq; dpdk-testpmd (Debian dpdk-dev: installed
# here when run as root and missing, it is a bench-only dependency); root for the TAP
# and hugepages. Exit status: 0 table printed and every run clean; 1 some run failed
# or saw bad frames; 2 bad usage; 77 a requirement is missing.
set -uo pipefail

here=$(dirname "$(readlink -f "$0")")
root=$(readlink -f "$here/../..")

usage() {
	cat <<EOF
usage: $0 [options]
  --bench PATH       vireo-bench binary (default: \$VIREO_BENCH, then $root/build*/tests/bench/)
  --vireod PATH      vireod binary (default: next to the bench's build)
  --seconds S        measurement window per run (default 3)
  --warmup S         warm-up per run (default 1)
  --frames "64 1500" Ethernet frame lengths to run
  --pairs "1"        queue-pair counts to run (e.g. "1 2")
  --rounds N         rounds over all backends (default 3)
  --backends "vireod testpmd tap"
                     which backends to run
  --no-hugepages     do not reserve hugepages for testpmd (--no-huge only)
  --json-dir DIR     keep every run's vireo-bench JSON in DIR
  --bench-args "ARGS" more vireo-bench options for every run (e.g. "--poll")
EOF
}

bench=${VIREO_BENCH:-}
vireod_bin=
secs=3
warmup=1
frame_list="64 1500"
pair_list="1"
rounds=3
backends="vireod testpmd tap"
want_huge=1
json_dir=
bench_args=

bad_usage() {
	echo "net-peers: $*" >&2
	usage >&2
	exit 2
}

while (($#)); do
	case $1 in
	--no-hugepages) want_huge=0; shift; continue ;;
	-h | --help) usage; exit 0 ;;
	esac
	(($# >= 2)) || bad_usage "$1 needs a value, or is unknown"
	case $1 in
	--bench) bench=$2 ;;
	--vireod) vireod_bin=$2 ;;
	--seconds) secs=$2 ;;
	--warmup) warmup=$2 ;;
	--frames) frame_list=$2 ;;
	--pairs) pair_list=$2 ;;
	--rounds) rounds=$2 ;;
	--backends) backends=$2 ;;
	--json-dir) json_dir=$2 ;;
	--bench-args) bench_args=$2 ;;
	*) bad_usage "unknown option $1" ;;
	esac
	shift 2
done
[[ $secs =~ ^[0-9]+(\.[0-9]+)?$ && $warmup =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
	bad_usage "--seconds and --warmup take plain numbers"
[[ $rounds =~ ^[1-9][0-9]*$ ]] || bad_usage "--rounds takes a positive integer"
for n in $frame_list $pair_list; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || bad_usage "--frames and --pairs take lists of positive integers"
done
for b in $backends; do
	case $b in vireod | testpmd | tap) ;; *) bad_usage "unknown backend $b" ;; esac
done

# ---- state that cleanup undoes ----
work=
daemon_pid=
bench_pid=
tap=
huge_dir=
huge_old=
failures=0

stop_pid() {
	local pid=$1 i
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
	# timeout(1) passes TERM on and escalates to KILL itself after --kill-after=5.
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

cleanup() {
	stop_pid "$bench_pid"
	stop_pid "$daemon_pid"
	[[ -n $tap ]] && ip link del "$tap" 2>/dev/null
	[[ -n $huge_dir ]] && umount "$huge_dir" 2>/dev/null
	[[ -n $huge_old ]] && echo "$huge_old" >/proc/sys/vm/nr_hugepages 2>/dev/null
	[[ -n $work ]] && rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "net-peers: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM

need() {
	command -v "$1" >/dev/null && return 0
	echo "net-peers: SKIP: $1 is missing (apt-get install $2)" >&2
	exit 77
}

find_bench() {
	local c
	if [[ -n $bench ]]; then
		[[ -x $bench ]] || { echo "net-peers: $bench is not executable" >&2; exit 2; }
	else
		for c in "$root"/build/tests/bench/vireo-bench "$root"/build*/tests/bench/vireo-bench; do
			[[ -x $c ]] && { bench=$c; break; }
		done
		[[ -n $bench ]] || {
			echo "net-peers: SKIP: no vireo-bench built (meson compile -C build, or --bench PATH)" >&2
			exit 77
		}
	fi
	if [[ -z $vireod_bin ]]; then
		vireod_bin=$(readlink -f "$(dirname "$bench")/../../vmm-core/daemon/vireod")
	fi
	[[ -x $vireod_bin ]] || { echo "net-peers: SKIP: no vireod at $vireod_bin (--vireod PATH)" >&2; exit 77; }
}

# dpdk-testpmd is a bench-only dependency: install it here rather than for every run
# of make check, through the one installer (tests/lab/deps.sh) with a list of its own.
ensure_testpmd() {
	command -v dpdk-testpmd >/dev/null && return 0
	if ((EUID == 0)); then
		# shellcheck source=../lab/deps.sh
		source "$root/tests/lab/deps.sh"
		VIREO_PACKAGES=(dpdk-dev) # dpdk-testpmd and the net_vhost PMD
		vireo_deps_ensure >&2
	fi
	command -v dpdk-testpmd >/dev/null && return 0
	echo "net-peers: no dpdk-testpmd (apt-get install dpdk-dev): testpmd rows skipped" >&2
	return 1
}

# Reserves 256 2 MiB hugepages and mounts a hugetlbfs for testpmd; undone on exit.
reserve_hugepages() {
	local free
	((want_huge && EUID == 0)) || return 1
	[[ -w /proc/sys/vm/nr_hugepages ]] || return 1
	huge_old=$(cat /proc/sys/vm/nr_hugepages)
	echo $((huge_old + 256)) >/proc/sys/vm/nr_hugepages 2>/dev/null
	free=$(awk '/^HugePages_Free/ { print $2 }' /proc/meminfo)
	if ((free < 128)); then
		echo "# hugepages: could only reserve $free; testpmd runs --no-huge only"
		return 1
	fi
	huge_dir=$work/huge
	mkdir -p "$huge_dir"
	if ! mount -t hugetlbfs -o pagesize=2M nodev "$huge_dir" 2>/dev/null; then
		huge_dir=
		return 1
	fi
	echo "# hugepages: $free free 2 MiB pages, hugetlbfs at $huge_dir"
}

# A TAP that sends every frame written into it straight back out of itself.
make_loop_tap() {
	local nq=$1 mq=
	((nq > 1)) && mq=multi_queue
	tap=vtbn$$
	ip tuntap add dev "$tap" mode tap $mq || return 1
	# No host stack traffic (IPv6 router solicitations...) mixed into the figure.
	sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1" 2>/dev/null
	ip link set "$tap" up mtu 1500 &&
		tc qdisc add dev "$tap" ingress &&
		tc filter add dev "$tap" parent ffff: protocol all u32 match u32 0 0 \
			action mirred egress redirect dev "$tap"
}

# wait_socket SOCK NAME LOG: the daemon listens, or it is stopped and we say why.
wait_socket() {
	local sock=$1 name=$2 log=$3 i
	for ((i = 0; i < 200; i++)); do
		[[ -S $sock ]] && return 0
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "net-peers: $name did not start:" >&2
	tail -n 20 "$log" | sed 's/^/    /' >&2
	stop_pid "$daemon_pid"
	daemon_pid=
	return 1
}

# A ceiling on a daemon's life, in case this script is killed -9.
lifetime() {
	echo $(($(wc -w <<<"$frame_list") * (${secs%.*} + ${warmup%.*} + 40) + 60))
}

# start_backend CONFIG SOCK NQ: CONFIG is one of the row labels below.
start_backend() {
	local config=$1 sock=$2 nq=$3 log=$work/daemon.log cmd
	rm -f "$sock"
	case $config in
	vireod)
		cmd=("$vireod_bin" --control "$work/vireod.ctl" --log-level warn --device
			"net,id=bench0,driver=net-pair,loopback=on,queues=$nq,num-queues=$nq,socket=$sock")
		;;
	"vireod tap")
		make_loop_tap "$nq" || { echo "net-peers: cannot set up the TAP" >&2; return 1; }
		cmd=("$vireod_bin" --control "$work/vireod.ctl" --log-level warn --device
			"net,id=bench0,driver=tap,ifname=$tap,create=off,offload=off,queues=$nq,num-queues=$nq,socket=$sock")
		;;
	"testpmd huge" | "testpmd no-huge")
		local eal=(--no-huge --no-shconf -m 512)
		[[ $config == "testpmd huge" ]] && eal=(--in-memory --huge-dir "$huge_dir" -m 256)
		# Two lcores: the main one (idle) and one forwarding core, busy-polling.
		cmd=(dpdk-testpmd -l 0,1 --no-pci "${eal[@]}"
			--vdev "net_vhost0,iface=$sock,queues=$nq" --
			--nb-cores=1 "--rxq=$nq" "--txq=$nq" --forward-mode=io --auto-start
			--stats-period=3600 --total-num-mbufs=16384)
		;;
	*) return 1 ;;
	esac
	((round == 1)) && echo "# $config: ${cmd[*]}"
	timeout --kill-after=5 "$(lifetime)" "${cmd[@]}" </dev/null >"$log" 2>&1 &
	daemon_pid=$!
	wait_socket "$sock" "$config" "$log"
}

stop_backend() {
	stop_pid "$daemon_pid"
	daemon_pid=
	if [[ -n $tap ]]; then
		ip link del "$tap" 2>/dev/null
		tap=
	fi
}

# results[config|pairs|frame] = space-separated "pps:gbit:drops:bad" per round.
declare -A results=()
declare -A errors=()

# bench_backend SOCK CONFIG NQ: one run per frame length against SOCK.
bench_backend() {
	local sock=$1 config=$2 nq=$3 frame out rc cap key extra
	read -r -a extra <<<"$bench_args"
	for frame in $frame_list; do
		key="$config|$nq|$frame"
		out=$work/run.json
		cap=$((${secs%.*} + ${warmup%.*} + 30))
		timeout --kill-after=5 "$cap" "$bench" net --socket "$sock" --pairs "$nq" \
			--frame "$frame" --seconds "$secs" --warmup "$warmup" --json \
			--label "$config" "${extra[@]}" >"$out" 2>"$work/run.err" &
		bench_pid=$!
		wait "$bench_pid"
		rc=$?
		bench_pid=
		if [[ -n $json_dir ]]; then
			mkdir -p "$json_dir"
			cp "$out" "$json_dir/${config// /_}-p$nq-f$frame-r$round.json" 2>/dev/null
		fi
		if ! jq -e '.ok and .result' >/dev/null 2>&1 <"$out"; then
			errors[$key]="exit $rc: $(jq -r '.error // empty' <"$out" 2>/dev/null || true)$(tail -n1 "$work/run.err")"
			failures=$((failures + 1))
			continue
		fi
		((rc != 0)) && failures=$((failures + 1))
		results[$key]+="$(jq -r '.result | "\(.pps | round):\(.gbit_s):\(.dropped):\(.bad + .out_of_order + .bad_hdr)"' <"$out") "
	done
}

# best and median of a cell's rounds: prints "best median gbit(best) drops(best) bad(sum)".
cell_stats() {
	tr ' ' '\n' <<<"$1" | awk -F: 'NF == 4 { n++; p[n] = $1; g[$1] = $2; d[$1] = $3; bad += $4 }
		END {
			if (!n) exit 1
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (p[j] < p[i]) { t = p[i]; p[i] = p[j]; p[j] = t }
			med = n % 2 ? p[(n + 1) / 2] : (p[n / 2] + p[n / 2 + 1]) / 2
			printf "%d %d %.2f %d %d\n", p[n], med, g[p[n]], d[p[n]], bad
		}'
}

configs=()

print_table() {
	local config nq frame key s best med gb drops bad
	echo
	printf '%-16s %5s %6s %11s %11s %8s %10s %5s\n' backend pairs frame "best pps" "median pps" \
		"Gbit/s" "drops" bad
	for config in "${configs[@]}"; do
		for nq in $pair_list; do
			for frame in $frame_list; do
				key="$config|$nq|$frame"
				if s=$(cell_stats "${results[$key]:-}"); then
					read -r best med gb drops bad <<<"$s"
					printf '%-16s %5s %6s %11s %11s %8s %10s %5s\n' "$config" "$nq" \
						"$frame" "$best" "$med" "$gb" "$drops" "$bad"
				elif [[ ${errors["$config|$nq|${frame_list%% *}"]:-} == skipped:* ]]; then
					[[ $frame == "${frame_list%% *}" ]] &&
						printf '%-16s %5s %6s  %s\n' "$config" "$nq" all \
							"${errors["$config|$nq|$frame"]}"
				else
					printf '%-16s %5s %6s  FAILED: %s\n' "$config" "$nq" "$frame" \
						"${errors[$key]:-no result}"
				fi
			done
		done
	done
	print_ratios
}

# The issue's figure: vireod over testpmd at its best configuration, per pairs x
# frame, on best and on median rounds; then vireod's best over each other row's.
print_ratios() {
	local config nq frame a b s am bm t tm
	echo
	echo "vireod (net-pair loopback) / testpmd (its best configuration), pps:"
	for nq in $pair_list; do
		for frame in $frame_list; do
			s=$(cell_stats "${results[vireod|$nq|$frame]:-}") || continue
			read -r a am _ <<<"$s"
			b=0 bm=0
			for config in "testpmd huge" "testpmd no-huge"; do
				s=$(cell_stats "${results[$config|$nq|$frame]:-}") || continue
				read -r t tm _ <<<"$s"
				((t > b)) && b=$t
				((tm > bm)) && bm=$tm
			done
			((b > 0)) || continue
			awk -v q="$nq" -v f="$frame" -v a="$a" -v b="$b" -v am="$am" -v bm="$bm" \
				'BEGIN { printf "  pairs %s, %4s-byte frames: %5.2fx on best rounds, %5.2fx on medians\n", q, f, a / b, am / bm }'
		done
	done
	echo
	echo "vireod (net-pair loopback) / peer, best pps of $rounds round(s):"
	for config in "${configs[@]}"; do
		[[ $config == vireod ]] && continue
		for nq in $pair_list; do
			for frame in $frame_list; do
				a=$(cell_stats "${results[vireod|$nq|$frame]:-}" | cut -d' ' -f1) || continue
				b=$(cell_stats "${results[$config|$nq|$frame]:-}" | cut -d' ' -f1) || continue
				awk -v c="$config" -v q="$nq" -v f="$frame" -v a="$a" -v b="$b" \
					'BEGIN { if (b > 0) printf "  pairs %s, %4s-byte frames, vs %-16s %6.2fx\n", q, f, c, a / b }'
			done
		done
	done
}

main() {
	local config nq sock have_testpmd=0
	need jq jq
	find_bench
	work=$(mktemp -d /tmp/vireo-bench-net.XXXXXX)
	echo "# vireo-bench net-peers: $(date -u +%FT%TZ), $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# workload: frames {$frame_list} bytes, pairs {$pair_list}, ${secs} s window after ${warmup} s warm-up, $rounds round(s)"
	echo "# bench: $bench net --socket SOCK --pairs P --frame F --seconds $secs --warmup $warmup --json${bench_args:+ $bench_args}"

	for b in $backends; do
		case $b in
		vireod) configs+=(vireod) ;;
		testpmd)
			if ensure_testpmd; then
				have_testpmd=1
				reserve_hugepages && configs+=("testpmd huge")
				configs+=("testpmd no-huge")
			fi
			;;
		tap)
			if ((EUID == 0)) && command -v tc >/dev/null; then
				configs+=("vireod tap")
			else
				echo "net-peers: the TAP path needs root and tc (iproute2): skipped" >&2
			fi
			;;
		esac
	done
	((have_testpmd)) && echo "# $(dpkg-query -W -f='DPDK ${Version}' dpdk-dev 2>/dev/null || echo DPDK)"

	for ((round = 1; round <= rounds; round++)); do
		for config in "${configs[@]}"; do
			for nq in $pair_list; do
				sock=$work/net.sock
				# A multi-queue TAP steers each frame back by its flow hash, onto any
				# queue pair: the per-pair sequence checks do not apply.
				if [[ $config == "vireod tap" ]] && ((nq > 1)); then
					errors["$config|$nq|${frame_list%% *}"]="skipped: the kernel picks the queue pair a frame comes back on"
					continue
				fi
				if start_backend "$config" "$sock" "$nq"; then
					bench_backend "$sock" "$config" "$nq"
				else
					errors["$config|$nq|${frame_list%% *}"]="did not start"
					failures=$((failures + 1))
				fi
				stop_backend
			done
		done
	done
	print_table
	((failures == 0)) || { echo "net-peers: $failures run(s) failed or saw bad frames" >&2; return 1; }
}

main
