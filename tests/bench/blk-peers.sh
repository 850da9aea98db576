#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# blk-peers.sh: vireo-bench against vhost-user-blk backends, printed as one table.
#
# Makes a RAM-backed disk image (/dev/shm, random data so reads are real), serves
# it with qemu-storage-daemon in each configuration (aio=native + O_DIRECT,
# aio=io_uring, ...), and runs vireo-bench at each queue count and queue depth
# against it. --vireod-socket adds a running vireod (or any backend) to the same
# table through bench_backend(), the one function every backend goes through.
#
# Leaves nothing behind: every process it starts is stopped by PID on exit
# (trap), the image, loop device and sockets are removed, and every step is
# bounded in time (timeout(1) around each run and around each daemon).
#
# Needs: qemu-storage-daemon (Debian qemu-system-common), jq, a built vireo-bench.
# Exit status: 0 table printed and every run clean; 1 some run failed or saw I/O
# errors; 2 bad usage; 77 a requirement is missing.
set -uo pipefail

here=$(dirname "$(readlink -f "$0")")
root=$(readlink -f "$here/../..")

usage() {
	cat <<EOF
usage: $0 [options]
  --bench PATH           vireo-bench binary (default: \$VIREO_BENCH, then $root/build*/tests/bench/)
  --size MIB             disk image size (default 1024)
  --seconds S            measurement window per run (default 3)
  --warmup S             warm-up per run (default 1)
  --rw MODE              randread|randwrite|read|write (default randread)
  --bs BYTES             request size (default 4096)
  --queues "1 2"         queue counts to run
  --qd "1 32"            queue depths to run
  --configs "native io_uring"
                         qemu-storage-daemon configurations, from:
                           native           aio=native,cache.direct=on
                           io_uring         aio=io_uring (page cache)
                           io_uring-direct  aio=io_uring,cache.direct=on
                           threads          aio=threads (page cache)
  --direct-backing auto|tmpfs|loop|disk
                         where O_DIRECT configurations read from (default auto:
                         the tmpfs file if it takes O_DIRECT, else a loop device
                         over it, else a copy on the real disk in /var/tmp)
  --vireod PATH          also start this vireod on the same image, blk-file driver,
                         buffered and (with --configs containing native) O_DIRECT
  --vireod-socket PATH   also measure the backend already serving PATH (label vireod)
  --no-qsd               only the --vireod-socket backend
  --json-dir DIR         keep every run's vireo-bench JSON in DIR
  --bench-args "ARGS"    more vireo-bench options for every run (e.g. "--poll")
EOF
}

# ---- options ----
bench=${VIREO_BENCH:-}
size_mib=1024
secs=3
warmup=1
rw=randread
bs=4096
queue_list="1 2"
qd_list="1 32"
configs="native io_uring"
direct_backing=auto
vireod_socket=
vireod_bin=
vireod_pid=
run_qsd=1
json_dir=
bench_args=

bad_usage() {
	echo "blk-peers: $*" >&2
	usage >&2
	exit 2
}

while (($#)); do
	case $1 in
	--no-qsd) run_qsd=0; shift; continue ;;
	-h | --help) usage; exit 0 ;;
	esac
	(($# >= 2)) || bad_usage "$1 needs a value, or is unknown"
	case $1 in
	--bench) bench=$2 ;;
	--size) size_mib=$2 ;;
	--seconds) secs=$2 ;;
	--warmup) warmup=$2 ;;
	--rw) rw=$2 ;;
	--bs) bs=$2 ;;
	--queues) queue_list=$2 ;;
	--qd) qd_list=$2 ;;
	--configs) configs=$2 ;;
	--direct-backing) direct_backing=$2 ;;
	--vireod-socket) vireod_socket=$2 ;;
	--vireod) vireod_bin=$2 ;;
	--json-dir) json_dir=$2 ;;
	--bench-args) bench_args=$2 ;;
	*) bad_usage "unknown option $1" ;;
	esac
	shift 2
done
[[ $size_mib =~ ^[0-9]+$ ]] && ((size_mib >= 16)) || bad_usage "--size takes MiB, at least 16"
[[ $secs =~ ^[0-9]+(\.[0-9]+)?$ && $warmup =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
	bad_usage "--seconds and --warmup take plain numbers"
for n in $queue_list $qd_list; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || bad_usage "--queues and --qd take lists of positive integers"
done

# ---- state that cleanup undoes ----
work=
img=
disk_img=
loop_dev=
direct_file=
direct_note=
qsd_pid=
bench_pid=
failures=0

# Stops the process $1 (a timeout(1) wrapper we started), by PID, bounded.
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
	stop_pid "$qsd_pid"
	stop_pid "$vireod_pid"
	[[ -n $loop_dev ]] && losetup -d "$loop_dev" 2>/dev/null
	[[ -n $img ]] && rm -f "$img"
	[[ -n $disk_img ]] && rm -f "$disk_img"
	[[ -n $work ]] && rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "blk-peers: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM

need() {
	command -v "$1" >/dev/null && return 0
	echo "blk-peers: SKIP: $1 is missing (apt-get install $2)" >&2
	exit 77
}

find_bench() {
	local c
	if [[ -n $bench ]]; then
		[[ -x $bench ]] || { echo "blk-peers: $bench is not executable" >&2; exit 2; }
		return
	fi
	for c in "$root"/build/tests/bench/vireo-bench "$root"/build*/tests/bench/vireo-bench; do
		[[ -x $c ]] && { bench=$c; return; }
	done
	echo "blk-peers: SKIP: no vireo-bench built (meson compile -C build, or --bench PATH)" >&2
	exit 77
}

# ---- the disk ----
make_image() {
	img=/dev/shm/vireo-bench-peers.$$.img
	echo "# image: $img, $size_mib MiB of random data (tmpfs, RAM-backed)"
	timeout 300 head -c "$((size_mib << 20))" /dev/urandom >"$img" ||
		{ echo "blk-peers: could not fill $img" >&2; exit 1; }
}

takes_o_direct() {
	dd if="$1" of=/dev/null bs=4096 count=1 iflag=direct status=none 2>/dev/null
}

# Sets direct_file: what O_DIRECT configurations open; direct_note says what it is.
pick_direct_file() {
	local want=$direct_backing why="forced by --direct-backing"
	if [[ $want == auto ]]; then
		why="tmpfs refused O_DIRECT"
		if takes_o_direct "$img"; then
			want=tmpfs
		elif [[ $EUID -eq 0 ]] && command -v losetup >/dev/null; then
			want=loop
		else
			want=disk
		fi
	fi
	case $want in
	tmpfs)
		takes_o_direct "$img" || { echo "blk-peers: tmpfs refuses O_DIRECT here" >&2; exit 1; }
		direct_file=$img
		direct_note="the tmpfs file itself (this kernel's tmpfs accepts O_DIRECT; it"
		direct_note+=" copies data like a buffered read, and Linux AIO completes inline)"
		;;
	loop)
		loop_dev=$(timeout 30 losetup --find --show "$img") ||
			{ echo "blk-peers: losetup failed" >&2; exit 1; }
		direct_file=$loop_dev
		direct_note="loop device $loop_dev over the tmpfs file ($why)"
		;;
	disk)
		disk_img=/var/tmp/vireo-bench-peers.$$.img
		timeout 300 cp "$img" "$disk_img" && sync "$disk_img" ||
			{ echo "blk-peers: could not copy the image to $disk_img" >&2; exit 1; }
		takes_o_direct "$disk_img" ||
			{ echo "blk-peers: $disk_img refuses O_DIRECT too" >&2; exit 1; }
		direct_file=$disk_img
		direct_note="a copy on the real disk, $disk_img ($why; no loop device)"
		;;
	*) echo "blk-peers: --direct-backing auto|tmpfs|loop|disk" >&2; exit 2 ;;
	esac
	# The disk and the loop device are not RAM: the figures are not comparable then.
	echo "# O_DIRECT configurations read from: $direct_note"
}

# Prints the --blockdev options of configuration $1.
qsd_blockdev() {
	local direct=driver=file
	[[ -b $direct_file ]] && direct=driver=host_device # the loop device
	case $1 in
	native) echo "$direct,node-name=disk0,filename=$direct_file,aio=native,cache.direct=on" ;;
	io_uring) echo "driver=file,node-name=disk0,filename=$img,aio=io_uring" ;;
	io_uring-direct) echo "$direct,node-name=disk0,filename=$direct_file,aio=io_uring,cache.direct=on" ;;
	threads) echo "driver=file,node-name=disk0,filename=$img,aio=threads" ;;
	*) return 1 ;;
	esac
}

# Starts qemu-storage-daemon for configuration $1 serving socket $2 with $3 queues.
start_qsd() {
	local config=$1 sock=$2 nq=$3 blockdev i
	local runs lifetime
	blockdev=$(qsd_blockdev "$config") || { echo "blk-peers: unknown config $config" >&2; return 1; }
	runs=$(($(wc -w <<<"$queue_list") * $(wc -w <<<"$qd_list")))
	# A ceiling on the daemon's life, in case this script is killed -9.
	lifetime=$((runs * (${secs%.*} + ${warmup%.*} + 40) + 60))
	qsd_cmd=(qemu-storage-daemon
		--blockdev "$blockdev"
		--export "type=vhost-user-blk,id=vub0,node-name=disk0,addr.type=unix,addr.path=$sock,writable=on,num-queues=$nq")
	echo "# qsd $config: ${qsd_cmd[*]}"
	timeout --kill-after=5 "$lifetime" "${qsd_cmd[@]}" >"$work/qsd-$config.log" 2>&1 &
	qsd_pid=$!
	for ((i = 0; i < 100; i++)); do
		[[ -S $sock ]] && return 0
		kill -0 "$qsd_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "blk-peers: qemu-storage-daemon ($config) did not start:" >&2
	sed 's/^/    /' "$work/qsd-$config.log" >&2
	stop_pid "$qsd_pid"
	qsd_pid=
	return 1
}

# start_vireod LABEL SOCK NQ FILE [KEY=VALUE]: vireod serving FILE with blk-file.
start_vireod() {
	local label=$1 sock=$2 nq=$3 file=$4 extra=${5:+,$5} i
	vireod_cmd=("$vireod_bin" --control "$work/vireod.ctl" --log-level warn
		--device "blk,id=bench0,driver=file,path=$file,socket=$sock,num-queues=$nq$extra")
	echo "# $label: ${vireod_cmd[*]}"
	timeout --kill-after=5 3600 "${vireod_cmd[@]}" >"$work/vireod.log" 2>&1 &
	vireod_pid=$!
	for ((i = 0; i < 100; i++)); do
		[[ -S $sock ]] && return 0
		kill -0 "$vireod_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "blk-peers: vireod ($label) did not start:" >&2
	sed 's/^/    /' "$work/vireod.log" >&2
	stop_pid "$vireod_pid"
	vireod_pid=
	return 1
}

stop_vireod() {
	stop_pid "$vireod_pid"
	vireod_pid=
}

stop_qsd() {
	stop_pid "$qsd_pid"
	qsd_pid=
}

rows=()

# Adds a row for a backend that could not be measured at all.
row_failed() {
	rows+=("$(printf '%s\t-\t-\tFAILED: %s' "$1" "$2")")
	failures=$((failures + 1))
}

# bench_backend SOCKET LABEL: the hook every backend goes through. Runs the whole
# queues x qd matrix against the vhost-user-blk backend already listening on
# SOCKET and adds one table row per run, labelled LABEL. For vireod:
#   bench_backend /run/vireod/blk0.sock vireod
bench_backend() {
	local sock=$1 label=$2 q qd out rc err cap extra
	read -r -a extra <<<"$bench_args"
	for q in $queue_list; do
		for qd in $qd_list; do
			out=$work/run.json
			cap=$((${secs%.*} + ${warmup%.*} + 30))
			timeout --kill-after=5 "$cap" "$bench" blk --socket "$sock" --queues "$q" \
				--qd "$qd" --bs "$bs" --rw "$rw" --seconds "$secs" --warmup "$warmup" \
				--json --label "$label" "${extra[@]}" >"$out" 2>"$work/run.err" &
			bench_pid=$!
			wait "$bench_pid"
			rc=$?
			bench_pid=
			if [[ -n $json_dir ]]; then
				mkdir -p "$json_dir"
				cp "$out" "$json_dir/${label// /_}-q$q-qd$qd.json" 2>/dev/null
			fi
			if ((rc == 124 || rc == 137)); then
				rows+=("$(printf '%s\t%s\t%s\tFAILED: no result within %s s' "$label" "$q" "$qd" "$cap")")
				failures=$((failures + 1))
				continue
			fi
			if ! jq -e .result >/dev/null 2>&1 <"$out"; then
				err=$(tail -n1 "$work/run.err")
				rows+=("$(printf '%s\t%s\t%s\tFAILED (exit %s): %s' "$label" "$q" "$qd" "$rc" "$err")")
				failures=$((failures + 1))
				continue
			fi
			if ((rc != 0)); then
				failures=$((failures + 1))
			fi
			rows+=("$(jq -r --arg q "$q" --arg qd "$qd" '
				def us: . / 1000;
				[.label, $q, $qd,
				 (.result.iops | round), .result.mib_s,
				 (.result.lat_ns.mean | us), (.result.lat_ns.p50 | us),
				 (.result.lat_ns.p99 | us), (.result.lat_ns.p99_9 | us),
				 .result.errors,
				 (if .ok then "" else .error end)] | @tsv' <"$out")")
		done
	done
}

# shellcheck disable=SC2059 # one format for the header and the rows
print_table() {
	local head='%-20s %6s %4s %9s %9s %9s %9s %9s %9s %6s\n'
	local fmt='%-20s %6s %4s %9s %9.1f %9.1f %9.1f %9.1f %9.1f %6s  %s\n'
	echo
	printf "$head" backend queues qd IOPS MiB/s "mean us" "p50 us" "p99 us" "p99.9 us" errors
	local r
	for r in "${rows[@]}"; do
		IFS=$'\t' read -r -a f <<<"$r"
		if [[ ${f[3]} == FAILED* ]]; then
			printf '%-20s %6s %4s  %s\n' "${f[0]}" "${f[1]}" "${f[2]}" "${f[3]}"
		else
			printf "$fmt" "${f[@]:0:10}" "${f[10]:-}"
		fi
	done
	print_ratios
}

# For each queues x qd: vireod's best IOPS over each qemu-storage-daemon
# configuration's, the figure the issue's goal is stated in.
print_ratios() {
	local r q qd label iops key
	local -A best_vireod=() qsd=()
	for r in "${rows[@]}"; do
		IFS=$'\t' read -r label q qd iops _ <<<"$r"
		[[ $iops =~ ^[0-9]+$ ]] || continue
		key="$q/$qd"
		case $label in
		vireod*) ((iops > ${best_vireod[$key]:-0})) && best_vireod[$key]=$iops ;;
		qsd*) qsd["$label|$key"]=$iops ;;
		esac
	done
	((${#best_vireod[@]} && ${#qsd[@]})) || return 0
	echo
	echo "vireod (best of its configurations) / qemu-storage-daemon, IOPS:"
	for r in "${!qsd[@]}"; do
		label=${r%%|*}
		key=${r#*|}
		[[ -n ${best_vireod[$key]:-} ]] || continue
		awk -v k="$key" -v l="$label" -v a="${best_vireod[$key]}" -v b="${qsd[$r]}" \
			'BEGIN { printf "  queues/qd %-6s vs %-16s %6.2fx\n", k, l, a / b }'
	done | sort
}

main() {
	local config nq sock q
	need jq jq
	find_bench
	((run_qsd)) && need qemu-storage-daemon qemu-system-common
	work=$(mktemp -d /tmp/vireo-bench-peers.XXXXXX)

	echo "# vireo-bench blk-peers: $(date -u +%FT%TZ), $(uname -r), $(nproc) CPUs"
	echo "# workload: $rw bs=$bs, ${secs} s window after ${warmup} s warm-up, queues {$queue_list} x qd {$qd_list}"
	echo "# bench: $bench blk --socket SOCK --queues Q --qd D --bs $bs --rw $rw --seconds $secs --warmup $warmup --json${bench_args:+ $bench_args}"

	if [[ -n $vireod_socket ]]; then
		if [[ -S $vireod_socket ]]; then
			bench_backend "$vireod_socket" vireod
		else
			row_failed vireod "no socket at $vireod_socket"
		fi
	fi

	if ((run_qsd)); then
		echo "# $(qemu-storage-daemon --version | head -n1)"
		make_image
		case " $configs " in
		*" native "* | *" io_uring-direct "*) pick_direct_file ;;
		esac
		nq=1
		for q in $queue_list; do ((q > nq)) && nq=$q; done
		if [[ -n $vireod_bin ]]; then
			sock=$work/vireod.sock
			if start_vireod "vireod file" "$sock" "$nq" "$img"; then
				bench_backend "$sock" "vireod file"
				stop_vireod
			else
				row_failed "vireod file" "vireod did not start"
			fi
			if [[ -n $direct_file ]]; then
				if start_vireod "vireod file-direct" "$sock" "$nq" "$direct_file" direct=on; then
					bench_backend "$sock" "vireod file-direct"
					stop_vireod
				else
					row_failed "vireod file-direct" "vireod did not start"
				fi
			fi
		fi
		for config in $configs; do
			sock=$work/qsd-$config.sock
			if ! start_qsd "$config" "$sock" "$nq"; then
				row_failed "qsd $config" "qemu-storage-daemon did not start"
				continue
			fi
			bench_backend "$sock" "qsd $config"
			stop_qsd
		done
	fi

	print_table
	((failures == 0)) || { echo "blk-peers: $failures run(s) failed or saw I/O errors" >&2; return 1; }
}

main
