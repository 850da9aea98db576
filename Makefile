# SPDX-License-Identifier: MIT
# The front door. Each target installs the Debian packages it needs first
# (tests/lab/deps.sh has the one list); re-running is quick when all is there.
#   make            build user space (meson + ninja, in $(BUILD))
#   make check      the whole test run: unit (ASan+UBSan) and real-guest tests
#   make demo       boot a lab guest and show it working
#   make bench      benchmarks (not pass/fail)
#   make deb        the vireo-guest-tools Debian packages, in $(BUILD)/deb
#   make install    PREFIX (default /usr/local) and DESTDIR are honoured
#   make clean
BUILD ?= build
BUILD_ASAN ?= build-asan
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all deps build check demo bench install clean deb

all: build

deps:
	@tests/lab/setup --deps-only

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD) -Dwerror=true --prefix=$(PREFIX)

build: deps $(BUILD)/build.ninja
	meson compile -C $(BUILD)

check: deps
	@BUILD=$(BUILD) BUILD_ASAN=$(BUILD_ASAN) tests/run-tests.sh

demo: build
	@VIREO_BUILD_ROOT=$(abspath $(BUILD)) tests/lab/demo

# vireo-bench drives vhost-user-blk backends from the host: vireod (blk-file on the
# same RAM-backed image) against qemu-storage-daemon, in one table; then a guest's TCP
# throughput through virtio-net and the TAP driver, offloads on and off. Not pass/fail.
# net-peers.sh: frames per second of vireod net (loopback driver, and the TAP path)
# against DPDK's testpmd with the net_vhost PMD.
bench: build
	@tests/bench/blk-peers.sh --bench $(BUILD)/tests/bench/vireo-bench \
		--vireod $(BUILD)/vmm-core/daemon/vireod
	@tests/bench/net-peers.sh --bench $(BUILD)/tests/bench/vireo-bench \
		--vireod $(BUILD)/vmm-core/daemon/vireod
	@VIREO_BUILD_ROOT=$(abspath $(BUILD)) tests/lab/setup >/dev/null
	@VIREO_BUILD_ROOT=$(abspath $(BUILD)) tests/bench/net-tap.sh
	@# Balloon: inflate 2 GiB of a 3 GiB guest, QEMU's virtio-balloon against Vireo's.
	@VIREO_BUILD_ROOT=$(abspath $(BUILD)) tests/bench/balloon.sh

# vireo-guest-tools_*.deb (toolsd, its unit, the installer) and -dkms (the modules' sources);
# guest-tools/install/mkdeb.sh says how.
deb: deps
	@guest-tools/install/mkdeb.sh $(BUILD)

install: build
	meson configure $(BUILD) --prefix=$(PREFIX)
	meson compile -C $(BUILD) abi-reference
	meson install -C $(BUILD) --destdir "$(DESTDIR)"
	@# meson does not refresh the dynamic linker's cache; without it the installed
	@# vireod and vireo-certify do not find libvireo.so.1 until someone runs ldconfig.
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then \
		ldconfig; fi

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD).setup.log $(BUILD_ASAN).setup.log
