# SPDX-License-Identifier: MIT
# The lab's guest API (sourced; tests/lab/vireo-lab is its command-line face):
#   lab_boot NAME [--kernel SERIES|KVER] [--mem MIB] [--initrd FILE] [--append ARGS]
#            [--timeout S] [--boot-timeout S] [-- QEMU ARGS...]
#   lab_run NAME [--timeout S] CMD...      output and exit status of CMD in the guest
#   lab_copy_in NAME HOSTFILE GUESTPATH    lab_copy_out NAME GUESTPATH HOSTFILE
#   lab_shutdown NAME                      clean power-off, then QEMU is gone
#   lab_kill NAME                          QEMU is gone, now
# A guest lives in $(lab_guests_dir)/NAME: console.log (the whole serial console),
# qemu.log, the channel FIFOs and the host side of its 9p share. Every guest has a
# lifetime limit (--timeout, default LAB_GUEST_TIMEOUT or 900 s) after which it is
# killed; every failure prints the last console lines and where the full log is.

LAB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=kernel.sh
source "$LAB_HERE/kernel.sh"
# shellcheck source=initramfs.sh
source "$LAB_HERE/initramfs.sh"

lab_build_root() {
	printf '%s\n' "${VIREO_BUILD_ROOT:-$(cd "$LAB_HERE/../.." && pwd)/build}"
}

lab_guests_dir() {
	printf '%s\n' "$(lab_build_root)/lab/guests"
}

# The shared initramfs of KVER made by set-up (tests/lab/setup).
lab_initrd_of() {
	printf '%s\n' "$(lab_build_root)/lab/initramfs-$1.cpio"
}

lab_log() {
	printf 'lab: %s\n' "$*" >&2
}

# Shows why a guest failed: the console's tail and where the whole log is kept.
lab_fail() {
	local name=$1 dir
	shift
	dir=$(lab_guests_dir)/$name
	lab_log "$name: $*"
	if [[ -f $dir/console.log ]]; then
		echo "---- last lines of $name's console ($dir/console.log) ----" >&2
		tail -n "${LAB_TAIL_LINES:-25}" "$dir/console.log" | tr -d '\r' >&2
		echo "---- end of console ----" >&2
	fi
	if [[ -s $dir/qemu.log ]]; then
		echo "---- qemu.log ----" >&2
		tail -n 10 "$dir/qemu.log" >&2
	fi
	return 1
}

# True while the guest's QEMU runs (a zombie does not count, nor another process that
# got the PID of a QEMU long gone).
lab_qemu_alive() {
	local pid state
	pid=$(cat "$(lab_guests_dir)/$1/qemu.pid" 2>/dev/null) || return 1
	state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 1
	[[ -n $state && $state != Z ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-name vireo-lab-$1 "
}

# Reads one line of the channel on fd $2 into LAB_LINE before second $3 of $SECONDS;
# polls once a second so that a guest that died is noticed at once. The FIFOs are
# opened read-write, so no open blocks and a dead QEMU never hangs the host side.
lab_read_line() {
	local name=$1 fd=$2 deadline=$3 part= chunk
	LAB_LINE=
	while ((SECONDS < deadline)); do
		if IFS= read -r -t 1 -u "$fd" chunk; then
			LAB_LINE=${part}${chunk%$'\r'}
			return 0
		fi
		part+=$chunk
		lab_qemu_alive "$name" || return 1
	done
	return 1
}

lab_kvm_ok_cache() {
	local qver
	qver=$(qemu-system-x86_64 --version | head -n 1 | tr -c 'A-Za-z0-9.\n' _)
	printf '%s\n' "$(lab_cache)/accel-$(uname -r)-$qver"
}

# Prints "kvm" when KVM really runs a stock guest kernel here, else "tcg". A
# paravirtual KVM (kvm_pvm) accepts the ioctls but hangs a stock kernel, so the
# answer comes from booting one (killed after LAB_KVM_PROBE_TIMEOUT s), not from
# /dev/kvm; it is cached per host kernel and QEMU version.
lab_accel() {
	local cache kver initrd log verdict=tcg
	if [[ -n ${LAB_ACCEL:-} ]]; then
		printf '%s\n' "$LAB_ACCEL"
		return 0
	fi
	cache=$(lab_kvm_ok_cache)
	if [[ -s $cache ]]; then
		cat "$cache"
		return 0
	fi
	if [[ -r /dev/kvm && -w /dev/kvm ]]; then
		kver=$(lab_kernel_of_series 6.1 2>/dev/null) || kver=
		initrd=$(lab_initrd_of "$kver")
		if [[ -n $kver && -f $initrd ]]; then
			log=$(mktemp)
			timeout -s KILL "${LAB_KVM_PROBE_TIMEOUT:-30}" qemu-system-x86_64 \
				-machine q35,accel=kvm -cpu host -m 256 -smp 1 \
				-nodefaults -no-user-config -display none -no-reboot \
				-kernel "$(lab_kernel_dir "$kver")/vmlinuz" -initrd "$initrd" \
				-append "console=ttyS0 panic=-1 vireo.probe=1" \
				-serial "file:$log" >/dev/null 2>&1
			grep -q 'vireo-lab: probe done' "$log" && verdict=kvm
			rm -f "$log"
		else
			return 0 # set-up has not built a probe guest yet: do not cache
		fi
	fi
	mkdir -p "$(dirname "$cache")"
	printf '%s\n' "$verdict" >"$cache"
	printf '%s\n' "$verdict"
}

lab_resolve_kver() {
	case $1 in
	6.1 | 6.12) lab_kernel_of_series "$1" ;;
	*) printf '%s\n' "$1" ;;
	esac
}

# Reads the channel until a line equal to $2 (or starting with it if $3 = prefix);
# fails after $4 seconds or when the guest dies. The line found is in LAB_LINE.
lab_wait_line() {
	local name=$1 want=$2 mode=$3 deadline=$((SECONDS + $4)) fd rc=1
	exec {fd}<>"$(lab_guests_dir)/$name/ctl.out" || return 1
	while lab_read_line "$name" "$fd" "$deadline"; do
		if [[ $LAB_LINE == "$want" || ($mode == prefix && $LAB_LINE == "$want"*) ]]; then
			rc=0
			break
		fi
	done
	exec {fd}<&-
	return $rc
}

lab_boot() {
	local name=$1
	shift
	local series=6.1 mem=512 initrd= append= timeout=${LAB_GUEST_TIMEOUT:-900}
	local boot_timeout=${LAB_BOOT_TIMEOUT:-180} extra=() hostroot=0 iommu=0
	while (($#)); do
		case $1 in
		--hostroot) hostroot=1; shift ;;
		--iommu) iommu=1; shift ;;
		--kernel) series=$2; shift 2 ;;
		--mem) mem=$2; shift 2 ;;
		--initrd) initrd=$2; shift 2 ;;
		--append) append=$2; shift 2 ;;
		--timeout) timeout=$2; shift 2 ;;
		--boot-timeout) boot_timeout=$2; shift 2 ;;
		--) shift; extra=("$@"); break ;;
		*) lab_log "boot: unknown option $1"; return 2 ;;
		esac
	done

	local kver dir accel cpu start
	kver=$(lab_resolve_kver "$series") || return 1
	[[ -n $initrd ]] || initrd=$(lab_initrd_of "$kver")
	[[ -f $initrd ]] || { lab_log "no initramfs $initrd; run tests/lab/setup"; return 1; }
	dir=$(lab_guests_dir)/$name
	if lab_qemu_alive "$name"; then
		lab_log "guest $name is already running"
		return 1
	fi
	rm -rf "$dir"
	mkdir -p "$dir/share"
	mkfifo "$dir/ctl.in" "$dir/ctl.out"
	printf '%s\n' "$kver" >"$dir/kver"

	accel=$(lab_accel)
	cpu=max
	[[ $accel == kvm ]] && cpu=host
	local machine="q35,accel=$accel" iommu_args=() hostroot_args=()
	# A vIOMMU is what lets the guest's vfio-pci own a device: the Debian kernels have no
	# VFIO no-IOMMU mode. Interrupt remapping needs the split irqchip.
	if ((iommu)); then
		machine+=",kernel-irqchip=split"
		iommu_args+=(-device intel-iommu,intremap=on,caching-mode=on)
		# Under TCG on a loaded machine, 6.12's check of the timer through the remapped
		# IO-APIC can fail and panic; the check buys nothing in a VM.
		append+=" intel_iommu=on no_timer_check"
	fi
	# The host's root file system, read-only, for running host-built programs in the
	# guest (chrooted by the guest's init; lab_host runs them) with the guest kernel's
	# whole module tree beside it.
	if ((hostroot)); then
		hostroot_args+=(-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
			-device virtio-9p-pci,fsdev=hostroot,mount_tag=vireo-host)
		append+=" vireo.hostroot=1 vireo.modroot=$(lab_kernel_dir "$kver")/root"
	fi
	start=$SECONDS
	setsid qemu-system-x86_64 \
		-name "vireo-lab-$name" \
		-machine "$machine" "${iommu_args[@]}" \
		-cpu "$cpu" -smp 1 -m "$mem" \
		-object "memory-backend-memfd,id=mem,size=${mem}M,share=on" \
		-numa node,memdev=mem \
		-nodefaults -no-user-config -display none -no-reboot \
		-kernel "$(lab_kernel_dir "$kver")/vmlinuz" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 loglevel=6 $append" \
		-chardev "file,id=con,path=$dir/console.log" -serial chardev:con \
		-chardev "pipe,id=ctl,path=$dir/ctl" -serial chardev:ctl \
		-fsdev "local,id=share,path=$dir/share,security_model=none" \
		-device virtio-9p-pci,fsdev=share,mount_tag=vireo-lab \
		"${hostroot_args[@]}" \
		"${extra[@]}" \
		</dev/null >"$dir/qemu.log" 2>&1 &
	local qpid=$!
	printf '%s\n' "$qpid" >"$dir/qemu.pid"
	# The lifetime limit: a guest that outlives it is killed, whatever it is doing.
	(
		exec </dev/null >/dev/null 2>&1
		sleep "$timeout" &
		wait $!
		if kill -0 "$qpid" 2>/dev/null; then
			echo "lab: guest killed after its ${timeout}s lifetime limit" >>"$dir/qemu.log"
			kill -KILL "$qpid"
		fi
	) &
	printf '%s\n' "$!" >"$dir/watchdog.pid"
	# Only these two: a caller's own background jobs (vireod, say) stay its to wait for.
	disown "$qpid" "$!" 2>/dev/null

	if ! lab_wait_line "$name" "@@VIREO-READY" prefix "$boot_timeout"; then
		lab_kill "$name"
		lab_fail "$name" "did not reach its lab agent within ${boot_timeout}s (kernel $kver, $accel)"
		return 1
	fi
	printf '%s\n' "$((SECONDS - start))" >"$dir/boot-seconds"
	lab_log "$name: kernel $kver up in $((SECONDS - start)) s ($accel)"
}

lab_run() {
	local name=$1
	shift
	local limit=${LAB_RUN_TIMEOUT:-300}
	if [[ ${1:-} == --timeout ]]; then
		limit=$2
		shift 2
	fi
	local dir id lock fd state= out= err= rc= deadline
	dir=$(lab_guests_dir)/$name
	lab_qemu_alive "$name" || { lab_fail "$name" "not running"; return 1; }
	exec {lock}>"$dir/run.lock"
	flock "$lock"
	id=$$-$RANDOM-$RANDOM
	printf '%s %s\n' "$id" "$(printf '%s\n' "$*" | base64 -w0)" 1<>"$dir/ctl.in"
	deadline=$((SECONDS + limit))
	exec {fd}<>"$dir/ctl.out"
	while lab_read_line "$name" "$fd" "$deadline"; do
		case $LAB_LINE in
		"@@VIREO-OUT $id") state=out ;;
		"@@VIREO-ERR $id") state=err ;;
		"@@VIREO-RC $id "*)
			rc=${LAB_LINE##* }
			break
			;;
		*)
			case $state in
			out) out+=$LAB_LINE ;;
			err) err+=$LAB_LINE ;;
			esac
			;;
		esac
	done
	exec {fd}<&- {lock}>&-
	if [[ -z $rc ]]; then
		lab_fail "$name" "no answer to '$*' within ${limit}s"
		return 124
	fi
	[[ -n $out ]] && base64 -d <<<"$out"
	[[ -n $err ]] && base64 -d <<<"$err" >&2
	return "$rc"
}

# lab_host NAME [--timeout S] SCRIPT...: runs SCRIPT with bash in the guest, chrooted
# into the host's root file system (a guest booted with --hostroot): host-built
# programs and the host's tools, on the guest's kernel. modprobe there loads from the
# guest kernel's whole module tree; /run is the guest's own, /tmp the host's under an
# overlay that keeps the guest's writes, /mnt the lab share. Output and exit status
# are SCRIPT's, as with lab_run.
lab_host() {
	local name=$1 limit=()
	shift
	if [[ ${1:-} == --timeout ]]; then
		limit=(--timeout "$2")
		shift 2
	fi
	local b64
	b64=$(printf '%s\n' "$*" | base64 -w0)
	lab_run "$name" "${limit[@]}" "[ -d /host/proc/1 ] || { echo 'lab: this guest has no host root (boot it with --hostroot)' >&2; exit 125; }
f=.lab-host-\$\$.sh
echo $b64 | base64 -d >/host/tmp/\$f || exit 125
chroot /host /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp LANG=C.UTF-8 /bin/bash /tmp/\$f
rc=\$?
rm -f /host/tmp/\$f
exit \$rc"
}

lab_copy_in() {
	local name=$1 src=$2 dst=$3 tmp
	tmp=.in-$$-$RANDOM
	cp -- "$src" "$(lab_guests_dir)/$name/share/$tmp" || return 1
	lab_run "$name" "mkdir -p \"\$(dirname '$dst')\" && cp /lab/share/$tmp '$dst'; rc=\$?; rm -f /lab/share/$tmp; exit \$rc"
}

lab_copy_out() {
	local name=$1 src=$2 dst=$3 tmp share
	tmp=.out-$$-$RANDOM
	share=$(lab_guests_dir)/$name/share
	lab_run "$name" "cp '$src' /lab/share/$tmp" || return 1
	mv -- "$share/$tmp" "$dst"
}

# Waits up to $2 seconds for QEMU to exit by itself.
lab_wait_exit() {
	local name=$1 limit=$2 deadline
	deadline=$((SECONDS + limit))
	while lab_qemu_alive "$name"; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

lab_reap() {
	local dir pid
	dir=$(lab_guests_dir)/$1
	pid=$(cat "$dir/watchdog.pid" 2>/dev/null) && pkill -KILL -P "$pid" 2>/dev/null
	pid=$(cat "$dir/watchdog.pid" 2>/dev/null) && kill -KILL "$pid" 2>/dev/null
	rm -f "$dir/watchdog.pid"
	return 0
}

lab_shutdown() {
	local name=$1 dir
	dir=$(lab_guests_dir)/$name
	if lab_qemu_alive "$name"; then
		# Fire and forget: the guest cannot answer once it is off.
		printf 'shutdown %s\n' "$(printf 'sync; poweroff -f\n' | base64 -w0)" 1<>"$dir/ctl.in"
		if ! lab_wait_exit "$name" "${LAB_SHUTDOWN_TIMEOUT:-60}"; then
			lab_kill "$name"
			lab_fail "$name" "did not power off; killed"
			return 1
		fi
	fi
	lab_reap "$name"
}

lab_kill() {
	local name=$1 pid
	pid=$(cat "$(lab_guests_dir)/$name/qemu.pid" 2>/dev/null)
	[[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null
	lab_wait_exit "$name" 10
	lab_reap "$name"
}
