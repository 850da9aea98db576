# SPDX-License-Identifier: MIT
# The one list of Debian packages that building, testing and running the Vireo demo
# need, and the code that installs them. Sourced by tests/lab/setup; nothing else
# installs packages.

# One package a line, with the reason it is here.
VIREO_PACKAGES=(
	gcc             # C11 compiler for user space; also gcc-12, which builds the guest modules
	libc6-dev       # C library headers
	make            # the front door and the kernel's Kbuild
	meson           # user-space build system
	ninja-build     # meson's backend
	pkg-config      # finds libraries; vireo-sdk.pc for out-of-tree drivers
	libcmocka-dev   # unit test framework
	libjson-c-dev   # vireod: control socket protocol and config file
	liburing-dev    # the blk-file driver's I/O engine
	libusb-1.0-0-dev # libvireo's USB helpers (<vireo/usb.h>) run libusb on the core loop
	udev            # systemd-udevd, run in the USB lab guest: libusb learns of hotplug from it
	libsystemd-dev  # vireod: sd_notify readiness for its systemd unit
	clang-format    # the style check (.clang-format) in the test run
	jq              # make bench: reads vireo-bench's JSON results
	abigail-tools   # abidw/abidiff: the driver ABI gate in the test run
	doxygen         # the ABI reference from the SDK headers, and its check in the test run
	qemu-system-x86 # runs the lab guests (TCG here, KVM where it works)
	ipxe-qemu       # option ROMs QEMU loads for virtio-net and e1000e NICs
	busybox-static  # userland of the guest initramfs
	iproute2        # ip: TAP devices and network namespaces for the net tests
	cpio            # packs the initramfs
	kmod            # depmod for the guest's module tree
	xz-utils        # Debian 6.12 modules are .ko.xz
	zstd            # some Debian kernels compress modules with zstd
	libelf1         # runtime of the kernel's kbuild tools (objtool, modpost)
	libssl3         # runtime of the kernel's kbuild tools (sign-file)
	zlib1g          # runtime of the 6.12 kbuild tools
	dwarves         # pahole: BTF for modules built against 6.12
	lm-sensors      # `sensors`, run in a lab guest through its host root, lists vireod's LM75s
	openipmi        # ipmi_sim: the BMC behind the sensor-ipmi test's guest KCS interface
	libopenipmi-dev # sensor-ipmi's transport=lan (LGPL libOpenIPMI; the i2c/ipmi-chain test)
	libkmod-dev     # vireo-kmod-check: the installer asks libkmod about modules
	debhelper       # make deb: builds vireo-guest-tools with dh
	dh-dkms         # make deb: dh_dkms writes the DKMS parts of the package
	dkms            # make deb: dh_dkms's helpers; the package's modules build with it
	dpkg-dev        # make deb: dpkg-buildpackage
	fakeroot        # make deb: dpkg-buildpackage's root for the package's files
	lintian         # make deb: checks the package (report in build/deb/lintian.txt)
	mmdebstrap      # the installer test: makes the Debian 12 guest and build roots (cached)
	e2fsprogs       # the installer test: mke2fs -d makes its disk image
	xz-utils        # the installer test: decompresses 6.12's modules for the guest image
)

# Prints the packages of VIREO_PACKAGES that are not installed.
vireo_deps_missing() {
	local pkg status
	for pkg in "${VIREO_PACKAGES[@]}"; do
		status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null)
		[[ $status == ii* ]] || printf '%s\n' "$pkg"
	done
}

# Makes sure every package is installed. Quiet when nothing is missing.
vireo_deps_ensure() {
	local missing
	mapfile -t missing < <(vireo_deps_missing)
	((${#missing[@]} == 0)) && return 0

	if ((EUID != 0)); then
		echo "vireo: missing Debian packages: ${missing[*]}" >&2
		echo "vireo: install them as root with:" >&2
		echo "    apt-get install --no-install-recommends ${missing[*]}" >&2
		return 1
	fi
	echo "vireo: installing Debian packages: ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get update -qq; then
		echo "vireo: the Debian package archive is unreachable (apt-get update failed);" >&2
		echo "vireo: cannot install: ${missing[*]}" >&2
		return 1
	fi
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null; then
		echo "vireo: apt-get install failed for: ${missing[*]}" >&2
		return 1
	fi
}
