# SPDX-License-Identifier: MIT
# Builds a lab guest's initramfs: busybox, the chosen modules of the kernel's own tree
# (with everything they depend on, decompressed, then `depmod -b`), the project's
# guest modules, the lab's init and agent, and any extra files. Sourced.

# Modules every lab guest gets: the lab's own transport (virtio-pci, 9p share) and
# what the device-plane tests use (virtio-blk/-net, ext4, vsock; lm75 and i2c-dev for
# the sensors on vireo_i2c's bus), plus `dummy`, a module with no hardware that the
# tests load to prove modprobe works.
LAB_DEFAULT_MODULES=(
	virtio_pci 9pnet_virtio 9p
	virtio_blk virtio_net ext4 crc32c_generic
	vmw_vsock_virtio_transport
	dummy
	lm75 i2c_dev
)

# Prints the module files (relative to lib/modules/KVER) that NAMES need, deps first.
lab_module_closure() {
	local moddir=$1
	shift
	awk -v want="$*" '
		function key(path,   b) {
			b = path
			sub(/.*\//, "", b)
			sub(/\.ko(\.xz|\.zst|\.gz)?$/, "", b)
			gsub(/-/, "_", b)
			return b
		}
		function visit(k,   i, n, d) {
			if (k in seen) return
			seen[k] = 1
			n = split(deps[k], d, " ")
			for (i = 1; i <= n; i++) visit(key(d[i]))
			print file[k]
		}
		FILENAME ~ /modules\.builtin$/ { builtin[key($1)] = 1; next }
		{
			sub(/:$/, "", $1)
			k = key($1)
			file[k] = $1
			deps[k] = ""
			for (i = 2; i <= NF; i++) deps[k] = deps[k] " " $i
		}
		END {
			n = split(want, w, " ")
			for (i = 1; i <= n; i++) {
				k = w[i]
				gsub(/-/, "_", k)
				if (k in file) visit(k)
				else if (!(k in builtin)) missing = missing " " w[i]
			}
			if (missing != "") print "missing:" missing > "/dev/stderr"
		}
	' "$moddir/modules.builtin" "$moddir/modules.dep"
}

# lab_initramfs KVER OUT [--module NAME]... [--kmod-dir DIR] [--file HOST:GUEST]...
lab_initramfs() {
	local kver=$1 out=$2
	shift 2
	local modules=("${LAB_DEFAULT_MODULES[@]}") kmod_dirs=() files=()
	while (($#)); do
		case $1 in
		--module) modules+=("$2"); shift 2 ;;
		--kmod-dir) kmod_dirs+=("$2"); shift 2 ;;
		--file) files+=("$2"); shift 2 ;;
		*) echo "lab_initramfs: unknown argument $1" >&2; return 1 ;;
		esac
	done

	local kroot here tree src dst rel f
	kroot=$(lab_kernel_dir "$kver")/root
	here=$(dirname "${BASH_SOURCE[0]}")
	tree=$(mktemp -d) || return 1
	(
		set -e
		mkdir -p "$tree"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,lib/modules/"$kver"}
		cp /bin/busybox "$tree/bin/busybox"
		busybox --list-full | while read -r applet; do
			[[ $applet == bin/busybox ]] && continue
			ln -sf /bin/busybox "$tree/$applet"
		done

		src=$kroot/lib/modules/$kver
		dst=$tree/lib/modules/$kver
		for f in modules.builtin modules.builtin.modinfo modules.order; do
			[[ -f $src/$f ]] && cp "$src/$f" "$dst/"
		done
		lab_module_closure "$src" "${modules[@]}" | while read -r rel; do
			mkdir -p "$dst/$(dirname "$rel")"
			case $rel in
			*.xz) xz -dc "$src/$rel" >"$dst/${rel%.xz}" ;;
			*.zst) zstd -qdc "$src/$rel" >"$dst/${rel%.zst}" ;;
			*.gz) gzip -dc "$src/$rel" >"$dst/${rel%.gz}" ;;
			*) cp "$src/$rel" "$dst/$rel" ;;
			esac
		done
		for d in "${kmod_dirs[@]}"; do
			mkdir -p "$dst/extra/vireo"
			find "$d" -name '*.ko' -exec cp {} "$dst/extra/vireo/" \;
		done
		depmod -b "$tree" "$kver"

		install -m 0755 "$here/guest/init" "$tree/init"
		install -m 0755 "$here/guest/agent" "$tree/sbin/vireo-lab-agent"
		echo "root:x:0:0:root:/root:/bin/sh" >"$tree/etc/passwd"
		for f in "${files[@]}"; do
			mkdir -p "$tree/$(dirname "${f#*:}")"
			cp -a "${f%%:*}" "$tree/${f#*:}"
		done
		(cd "$tree" && find . -print0 | LC_ALL=C sort -z |
			cpio --null -o -H newc --quiet) >"$out.tmp"
		mv "$out.tmp" "$out"
	)
	local rc=$?
	rm -rf "$tree"
	return $rc
}
