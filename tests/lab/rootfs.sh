# SPDX-License-Identifier: MIT
# A Debian 12 root file system for lab guests that boot systemd (the installer and
# package tests), built with mmdebstrap from Debian's archive. Sourced after lab.sh.
#
#   lab_rootfs_tarball          the cached tarball (built once per package list)
#   lab_rootfs_image KVER       a cached ext4 image of it for KVER: the kernel's module
#                               tree from the lab cache added, the lab agent as a unit
#   lab_rootfs_initrd KVER      a busybox initramfs that mounts /dev/vda and hands over
#                               to systemd (the lab's own initramfs, another /init)
#   lab_boot_rootfs NAME [--kernel SERIES] [--mem MIB] [lab_boot options...]
#                               boots it; lab_run, lab_copy_in, lab_shutdown as usual.
#                               The image is opened with snapshot=on: each boot starts
#                               from the same clean system, nothing is written back.
#
# Cache layout: $(lab_cache)/rootfs/bookworm-KEY.tar, KEY a hash of the package list
# (which names the exact kernel headers of both series); bookworm-KEY-KVER.img beside it.

# What the guests need, one reason each. Kernel headers of both lab kernels are added
# by lab_rootfs_packages: DKMS builds the guest modules against them.
LAB_ROOTFS_BASE=(
	systemd-sysv # systemd as init: what the package's unit runs under
	udev         # loads the modules of the guest's virtio devices
	kmod         # modprobe, and libkmod2 for the installer's checks
	dkms         # builds the package's module sources for the running kernel
	gcc make libc6-dev # what DKMS compiles with
	libjson-c5   # vireo-toolsd's one library
	chrony       # the installer drops its snippet only where chrony is installed
)

# Prints the package list, sorted: the base and the headers of every set-up kernel.
lab_rootfs_packages() {
	local series kver
	{
		printf '%s\n' "${LAB_ROOTFS_BASE[@]}"
		for series in 6.1 6.12; do
			kver=$(lab_kernel_of_series "$series") || return 1
			printf 'linux-headers-%s=%s\n' "$kver" "$(cat "$(lab_kernel_dir "$kver")/VERSION")"
		done
	} | LC_ALL=C sort
}

lab_rootfs_dir() {
	printf '%s\n' "$(lab_cache)/rootfs"
}

# Prints the path of the cached tarball; builds it first if it is missing (minutes).
lab_rootfs_tarball() {
	local pkgs key out tmp
	pkgs=$(lab_rootfs_packages) || return 1
	key=$(printf '%s\n' "$pkgs" | sha256sum | cut -c1-16)
	out=$(lab_rootfs_dir)/bookworm-$key.tar
	if [[ ! -f $out ]]; then
		mkdir -p "$(lab_rootfs_dir)" || return 1
		tmp=$out.tmp.$$
		lab_log "building the Debian 12 root file system (mmdebstrap; cached as $out)"
		# The host's own archive sources: the lab's kernels were resolved from them.
		if ! mmdebstrap --quiet --variant=apt --mode=root --format=tar \
			--aptopt='APT::Install-Recommends "false"' \
			--aptopt='Acquire::Check-Valid-Until "false"' \
			--include="$(printf '%s\n' "$pkgs" | paste -sd,)" \
			bookworm "$tmp" /etc/apt/sources.list.d/debian.sources \
			>"$out.log" 2>&1; then
			lab_log "mmdebstrap failed (log: $out.log):"
			tail -n 15 "$out.log" >&2
			rm -f "$tmp"
			return 1
		fi
		mv "$tmp" "$out"
		printf '%s\n' "$pkgs" >"$out.packages"
	fi
	printf '%s\n' "$out"
}

# Prints the path of the cached ext4 image for KVER; builds it from the tarball once.
lab_rootfs_image() {
	local kver=$1 tar img tree stamp other
	tar=$(lab_rootfs_tarball) || return 1
	img=${tar%.tar}-$kver.img
	stamp=$( (cat "$tar.packages" "$LAB_HERE/rootfs.sh" "$LAB_HERE/guest/agent") |
		sha256sum | cut -c1-16)
	if [[ -f $img && $(cat "$img.stamp" 2>/dev/null) == "$stamp" ]]; then
		printf '%s\n' "$img"
		return 0
	fi
	tree=$(mktemp -d "$(lab_rootfs_dir)/.tree.XXXXXX") || return 1
	(
		set -e
		tar -C "$tree" -xpf "$tar"
		mkdir -p "$tree/lib/modules"
		cp -a "$(lab_kernel_dir "$kver")/root/lib/modules/$kver" "$tree/lib/modules/"
		# The cache's tree has headers of its own at a host path: the rootfs has its own.
		rm -rf "$tree/lib/modules/$kver/build" "$tree/lib/modules/$kver/source"
		ln -s "/usr/src/linux-headers-$kver" "$tree/lib/modules/$kver/build"
		depmod -b "$tree" "$kver"
		# Debian's 6.12 headers pull in that kernel's image: without its headers link
		# DKMS builds only for the kernel the guest runs (minutes saved under TCG).
		for other in "$tree"/lib/modules/*; do
			[[ $other == "$tree/lib/modules/$kver" ]] || rm -f "$other/build"
		done
		echo vireo-guest >"$tree/etc/hostname"
		printf '/dev/vda / ext4 rw,errors=remount-ro 0 0\n' >"$tree/etc/fstab"
		# The lab's command channel, the same agent as the busybox guests, as a unit.
		install -m 0755 "$LAB_HERE/guest/agent" "$tree/usr/local/sbin/vireo-lab-agent"
		mkdir -p "$tree/lab/share"
		cat >"$tree/etc/systemd/system/vireo-lab-agent.service" <<-'EOF'
			[Unit]
			Description=Vireo lab agent (test harness channel on ttyS1)
			After=local-fs.target

			[Service]
			ExecStartPre=-/sbin/modprobe 9pnet_virtio
			ExecStartPre=-/bin/mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 vireo-lab /lab/share
			ExecStart=/usr/local/sbin/vireo-lab-agent /dev/ttyS1
			Restart=always
			RestartSec=1

			[Install]
			WantedBy=multi-user.target
		EOF
		ln -s /etc/systemd/system/vireo-lab-agent.service \
			"$tree/etc/systemd/system/multi-user.target.wants/vireo-lab-agent.service"
		# No login prompt on the lab channel; nothing waits for a network.
		ln -sf /dev/null "$tree/etc/systemd/system/serial-getty@ttyS1.service"
		ln -sf /dev/null "$tree/etc/systemd/system/systemd-networkd-wait-online.service"
		rm -f "$img.tmp"
		mke2fs -q -t ext4 -L vireo-root -d "$tree" "$img.tmp" 4G
	) || {
		lab_log "could not make the root file system image for $kver"
		rm -rf "$tree" "$img.tmp"
		return 1
	}
	rm -rf "$tree"
	mv "$img.tmp" "$img"
	printf '%s\n' "$stamp" >"$img.stamp"
	printf '%s\n' "$img"
}

# Prints the path of the switch-root initramfs for KVER (built into the build dir).
lab_rootfs_initrd() {
	local kver=$1 out stamp
	out=$(lab_build_root)/lab/initramfs-rootfs-$kver.cpio
	stamp=$(cat "$LAB_HERE/initramfs.sh" "$LAB_HERE/guest/rootfs-init" | sha256sum | cut -c1-16)
	if [[ ! -f $out || $(cat "$out.stamp" 2>/dev/null) != "$stamp" ]]; then
		mkdir -p "$(dirname "$out")"
		lab_initramfs "$kver" "$out" --file "$LAB_HERE/guest/rootfs-init:/init" || return 1
		printf '%s\n' "$stamp" >"$out.stamp"
	fi
	printf '%s\n' "$out"
}

lab_boot_rootfs() {
	local name=$1
	shift
	local series=6.1 mem=1024 args=() kver img initrd
	while (($#)); do
		case $1 in
		--kernel) series=$2; shift 2 ;;
		--mem) mem=$2; shift 2 ;;
		*) args+=("$1"); shift ;;
		esac
	done
	kver=$(lab_resolve_kver "$series") || return 1
	img=$(lab_rootfs_image "$kver") || return 1
	initrd=$(lab_rootfs_initrd "$kver") || return 1
	# lab_boot's own QEMU arguments come after "--": the disk goes there too.
	local qemu=(-drive "file=$img,if=virtio,format=raw,snapshot=on")
	local i
	for i in "${!args[@]}"; do
		if [[ ${args[$i]} == -- ]]; then
			qemu+=("${args[@]:i+1}")
			args=("${args[@]:0:i}")
			break
		fi
	done
	lab_boot "$name" --kernel "$kver" --mem "$mem" --initrd "$initrd" \
		--append "vireo.root=/dev/vda" "${args[@]}" -- "${qemu[@]}"
}
