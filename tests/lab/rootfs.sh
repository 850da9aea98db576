# SPDX-License-Identifier: MIT
# Debian 12 root file systems for the package tests, made with mmdebstrap from Debian's
# archive and cached. Sourced after lab.sh.
#
#   lab_rootfs_guest            a minimal guest root (minbase, systemd, udev, kmod and
#                               the package's runtime libraries; no compiler, no headers)
#   lab_rootfs_build            a build root: dkms, gcc, make and the Debian headers of
#                               both lab kernels, where DKMS runs natively (chroot)
#   lab_rootfs_dkms DEB OUT     dpkg -i DEB (the -dkms package) in a throwaway overlay of
#                               the build root: its postinst runs DKMS for every kernel
#                               whose headers are there; copies OUT/KVER/*.ko and the log
#   lab_rootfs_image KVER       a cached ext4 image of the guest root for KVER: the
#                               kernel's module tree from the lab cache, the lab agent
#   lab_rootfs_initrd KVER      a busybox initramfs that mounts /dev/vda and hands over
#                               to systemd (the lab's own initramfs, another /init)
#   lab_boot_rootfs NAME [--kernel SERIES] [--mem MIB] [lab_boot options...]
#                               boots it; lab_run, lab_copy_in, lab_shutdown as usual.
#                               The image is opened with snapshot=on: each boot starts
#                               from the same clean system, nothing is written back.
#
# Cache layout, $(lab_cache)/rootfs/:
#   archives/                   every .deb downloaded, shared by both roots and kept
#                               across rebuilds (apt only fetches what is new)
#   guest-KEY/, build-KEY/      the roots, plain directories (no tarball, no compression)
#   guest-KEY-KVER.img          the guest root's image for one kernel
# KEY hashes what a root is made of: the recipe below, the package list (the build
# root's names the exact headers versions), the suite and the archive sources.

LAB_ROOTFS_SUITE=bookworm
LAB_ROOTFS_SOURCES=${LAB_ROOTFS_SOURCES:-/etc/apt/sources.list.d/debian.sources}
# Bump when the way the roots are made changes (it is part of every KEY).
LAB_ROOTFS_RECIPE=2

# What a guest needs, one reason each: the package's runtime dependencies and the boot.
LAB_ROOTFS_GUEST=(
	systemd-sysv # systemd as init: what the package's unit runs under
	udev         # loads the modules of the guest's virtio devices
	kmod         # modprobe, depmod (the package depends on it)
	libkmod2     # vireo-kmod-check
	libjson-c5   # vireo-toolsd
	chrony       # the installer drops its snippet only where chrony is installed
)
# What DKMS needs to build in the build root; the headers are added per lab kernel.
LAB_ROOTFS_BUILD=(dkms gcc make libc6-dev)

lab_rootfs_dir() {
	printf '%s\n' "$(lab_cache)/rootfs"
}

lab_rootfs_guest_packages() {
	printf '%s\n' "${LAB_ROOTFS_GUEST[@]}" | LC_ALL=C sort
}

lab_rootfs_build_packages() {
	local series kver
	{
		printf '%s\n' "${LAB_ROOTFS_BUILD[@]}"
		for series in 6.1 6.12; do
			kver=$(lab_kernel_of_series "$series") || return 1
			printf 'linux-headers-%s=%s\n' "$kver" "$(cat "$(lab_kernel_dir "$kver")/VERSION")"
		done
	} | LC_ALL=C sort
}

# lab_rootfs_make KIND PACKAGES [MMDEBSTRAP OPTIONS...]: prints the path of the cached
# root KIND-KEY; makes it with mmdebstrap when it is missing (the only slow step; see
# ddk-docs/lab.md).
lab_rootfs_make() {
	local kind=$1 pkgs=$2 key dir out tmp pool lock t0
	shift 2
	dir=$(lab_rootfs_dir)
	key=$(printf '%s\n' "$LAB_ROOTFS_RECIPE" "$LAB_ROOTFS_SUITE" "$pkgs" "$@" |
		cat - "$LAB_ROOTFS_SOURCES" | sha256sum | cut -c1-16)
	out=$dir/$kind-$key
	if [[ -f $out/.vireo-packages ]]; then
		printf '%s\n' "$out"
		return 0
	fi
	pool=$dir/archives
	mkdir -p "$pool" || return 1
	exec {lock}>"$dir/.lock"
	flock "$lock"
	if [[ ! -f $out/.vireo-packages ]]; then
		tmp=$dir/.$kind-$key.tmp.$$
		rm -rf "$tmp"
		t0=$SECONDS
		lab_log "making the Debian 12 $kind root (mmdebstrap; cached as $out)"
		# minbase: essential and required packages only. Debs come from and go back to
		# the shared pool; dpkg leaves out documentation; nothing is compressed.
		if ! mmdebstrap --quiet --variant=minbase --mode=root --format=directory \
			--skip=essential/unlink --skip=download/empty \
			--aptopt='APT::Install-Recommends "false"' \
			--aptopt='Acquire::Check-Valid-Until "false"' \
			--aptopt='Acquire::Languages "none"' \
			--dpkgopt=force-unsafe-io \
			--dpkgopt='path-exclude=/usr/share/doc/*' \
			--dpkgopt='path-exclude=/usr/share/man/*' \
			--dpkgopt='path-exclude=/usr/share/info/*' \
			--dpkgopt='path-exclude=/usr/share/locale/*' \
			--setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
			--setup-hook="sync-in $pool /var/cache/apt/archives/" \
			--customize-hook="sync-out /var/cache/apt/archives $pool" \
			--customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb' \
			--include="$(printf '%s\n' "$pkgs" | paste -sd,)" "$@" \
			"$LAB_ROOTFS_SUITE" "$tmp" "$LAB_ROOTFS_SOURCES" >"$tmp.log" 2>&1; then
			lab_log "mmdebstrap failed (log: $dir/$kind-failed.log):"
			tail -n 15 "$tmp.log" >&2
			mv "$tmp.log" "$dir/$kind-failed.log"
			rm -rf "$tmp"
			flock -u "$lock"
			return 1
		fi
		printf '%s\n' "$pkgs" >"$tmp/.vireo-packages"
		# The roots of other keys (and the older single-tarball layout) are stale.
		rm -rf "$dir/$kind"-???????????????? "$dir/$kind"-*.img* "$dir"/bookworm-*
		mv "$tmp" "$out"
		mv "$tmp.log" "$out.log"
		lab_log "$kind root made in $((SECONDS - t0)) s ($(du -sh "$out" | cut -f1))"
	fi
	flock -u "$lock"
	printf '%s\n' "$out"
}

lab_rootfs_guest() {
	lab_rootfs_make guest "$(lab_rootfs_guest_packages)"
}

lab_rootfs_build() {
	local pkgs
	pkgs=$(lab_rootfs_build_packages) || return 1
	# 6.12's headers depend on its image, whose modules DKMS does not need: leaving them
	# out spares writing them and the image's depmod over ~4000 compressed modules.
	lab_rootfs_make build "$pkgs" \
		--dpkgopt='path-exclude=/lib/modules/*/kernel/*' \
		--dpkgopt='path-exclude=/usr/lib/modules/*/kernel/*'
}

# lab_rootfs_dkms DEB OUT: installs DEB in a private overlay of the build root (the root
# itself is never written) as a Debian system would: dpkg -i, whose postinst (dh_dkms)
# adds the sources and builds and installs them with DKMS for each kernel with headers.
# Copies the installed modules (.ko, or .ko.xz where the kernel compresses its own) to
# OUT/KVER/ and dpkg's output to OUT/dkms.log.
lab_rootfs_dkms() {
	local deb=$1 out=$2 root
	root=$(lab_rootfs_build) || return 1
	mkdir -p "$out" || return 1
	unshare --mount --propagation private bash -s "$root" "$deb" "$out" <<-'EOF'
		set -eu
		root=$1 deb=$2 out=$3
		w=$(mktemp -d)
		trap 'umount -R "$w/root" 2>/dev/null; rm -rf "$w"' EXIT
		mkdir "$w/upper" "$w/work" "$w/root"
		mount -t overlay overlay -o "lowerdir=$root,upperdir=$w/upper,workdir=$w/work" "$w/root"
		mount --rbind /dev "$w/root/dev"
		mount -t proc proc "$w/root/proc"
		mount -t tmpfs tmpfs "$w/root/tmp"
		cp "$deb" "$w/root/tmp/"
		rc=0
		chroot "$w/root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			dpkg -i "/tmp/$(basename "$deb")" >"$out/dkms.log" 2>&1 || rc=$?
		chroot "$w/root" dkms status >>"$out/dkms.log" 2>&1 || true
		for k in "$w/root"/lib/modules/*/updates/dkms; do
			kver=$(basename "$(dirname "$(dirname "$k")")")
			mkdir -p "$out/$kver"
			cp "$k"/*.ko* "$out/$kver/"
		done
		exit $rc
	EOF
}

# Prints the path of the cached ext4 image for KVER; makes it from the guest root once.
lab_rootfs_image() {
	local kver=$1 root img tree stamp
	root=$(lab_rootfs_guest) || return 1
	img=$root-$kver.img
	stamp=$(cat "$root/.vireo-packages" "$LAB_HERE/rootfs.sh" "$LAB_HERE/guest/agent" \
		"$(lab_kernel_dir "$kver")/VERSION" | sha256sum | cut -c1-16)
	if [[ -f $img && $(cat "$img.stamp" 2>/dev/null) == "$stamp" ]]; then
		printf '%s\n' "$img"
		return 0
	fi
	tree=$(mktemp -d "$(lab_rootfs_dir)/.tree.XXXXXX") || return 1
	(
		set -e
		cp -a "$root/." "$tree/"
		rm -f "$tree/.vireo-packages"
		mkdir -p "$tree/lib/modules"
		cp -a "$(lab_kernel_dir "$kver")/root/lib/modules/$kver" "$tree/lib/modules/"
		# The cache's tree links to headers at a host path; the guest has none.
		rm -rf "$tree/lib/modules/$kver/build" "$tree/lib/modules/$kver/source"
		# Like Debian's cloud kernels, no modules for hardware a lab VM cannot have
		# (GPUs, sound, radios, USB, InfiniBand, ...): the depmod that packages run in
		# the guest reads every module, and under TCG half the tree costs half the time.
		(cd "$tree/lib/modules/$kver/kernel" && rm -rf sound drivers/{gpu,media,infiniband,usb,iio,staging,comedi,isdn,bluetooth,mtd,net/wireless,net/ethernet,net/can,net/usb,net/wwan} net/{bluetooth,wireless,mac80211})
		# 6.12 ships its modules xz-compressed: the depmod a package runs in the guest
		# then decompresses all ~4000 of them, minutes under TCG. The same modules,
		# decompressed once here, cost it seconds (the kernel loads either form).
		find "$tree/lib/modules/$kver" -name '*.ko.xz' -print0 | xargs -0 -r -P "$(nproc)" -n 64 xz -d
		depmod -b "$tree" "$kver"
		echo vireo-guest >"$tree/etc/hostname"
		printf '/dev/vda / ext4 rw,errors=remount-ro 0 0\n' >"$tree/etc/fstab"
		# The lab's command channel, the same agent as the busybox guests, as a unit.
		install -D -m 0755 "$LAB_HERE/guest/agent" "$tree/usr/local/sbin/vireo-lab-agent"
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
		mkdir -p "$tree/etc/systemd/system/multi-user.target.wants"
		ln -s /etc/systemd/system/vireo-lab-agent.service \
			"$tree/etc/systemd/system/multi-user.target.wants/vireo-lab-agent.service"
		# No login prompt on the lab channel; nothing waits for a network.
		ln -sf /dev/null "$tree/etc/systemd/system/serial-getty@ttyS1.service"
		ln -sf /dev/null "$tree/etc/systemd/system/systemd-networkd-wait-online.service"
		rm -f "$img.tmp"
		mke2fs -q -t ext4 -L vireo-root -d "$tree" "$img.tmp" 2G
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
