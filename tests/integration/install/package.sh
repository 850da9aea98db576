#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The vireo-guest-tools packages on a real Debian 12 system, built and installed the
# way a Debian user would, with no compiler in the guest:
# - make deb's two packages (the tools; the modules' DKMS sources);
# - on the host, dpkg -i of vireo-guest-tools-dkms in a chroot of the lab's build root
#   (Debian's dkms, gcc and the exact headers of both lab kernels): its postinst runs
#   DKMS for each kernel (tests/lab/rootfs.sh, lab_rootfs_dkms), natively; the modules
#   it built become vireo-guest-modules-KVER (guest-tools/install/mkmodules.sh);
# - the lab's minimal root (minbase, systemd, udev, kmod; no compiler, no headers)
#   booted with systemd on the stock kernel: dpkg -i of the tools and modules packages.
# Then: the installer put the DKMS-built modules in place and loaded them, the agent's
# unit is up, vireod's agent client reaches it over its vsock device (ping, info),
# --check passes, a second install run changes nothing, --check fails clearly on an
# unsupported kernel (the VIREO_TOOLS_KERNEL test hook), --uninstall undoes it all
# (and the host loses the agent), the packages purge.
source "$(dirname "$0")/../lib.sh"
source "$IT_ROOT/tests/lab/rootfs.sh"
series=${1:?series}
it_begin "install/package-$series"
g=install-$series
kver=$(lab_resolve_kver "$series") || it_fail "no kernel for series $series"
kre=${kver//./\\.}  # the release as a regex: 6.12's has a '+'
kre=${kre//+/\\+}
pkg=vireo-guest-tools

# The packages and the DKMS build, once for all series (the lock), again when their
# inputs change (the tree's guest side; the build root).
debdir=$VIREO_BUILD_ROOT/deb-test
exec {lock}>"$VIREO_BUILD_ROOT/deb-test.lock"
flock "$lock"
broot=$(lab_rootfs_build) || it_fail "no build root (mmdebstrap)"
stamp=$( (
	cd "$IT_ROOT" && git ls-files -z --cached --others --exclude-standard \
		guest-tools Kbuild meson.build vmm-core/control | xargs -0 cat 2>/dev/null
	echo "$broot"
) | sha256sum | cut -c1-16)
if [[ $(cat "$debdir.stamp" 2>/dev/null) != "$stamp" ]]; then
	rm -rf "$debdir" "$debdir.stamp"
	t0=$SECONDS
	VIREO_DEB_LINTIAN=0 "$IT_ROOT/guest-tools/install/mkdeb.sh" "$debdir" ||
		it_fail "make deb failed"
	echo "note: make deb took $((SECONDS - t0)) s"
	t0=$SECONDS
	lab_rootfs_dkms "$debdir"/deb/$pkg-dkms_*_all.deb "$debdir/dkms" || {
		tail -n 30 "$debdir/dkms/dkms.log"
		it_fail "dpkg -i of the -dkms package in the build root failed"
	}
	echo "note: dpkg -i $pkg-dkms in the build root (DKMS, both kernels) took $((SECONDS - t0)) s"
	printf '%s\n' "$stamp" >"$debdir.stamp"
fi
flock -u "$lock"
deb=$(ls "$debdir"/deb/${pkg}_*.deb 2>/dev/null | head -n 1)
[[ -f $deb ]] || it_fail "no package in $debdir/deb"
echo "ok: package $(basename "$deb")"
version=$(dpkg-deb -f "$deb" Version)
sed 's/^/  build root: /' "$debdir/dkms/dkms.log" | grep -E 'Building|installed|Error' || true
it_expect_match "DKMS in the build root built for $kver" "$pkg/$version, $kre, x86_64: installed" \
	"$(cat "$debdir/dkms/dkms.log")"
# Every module the package lists (the top-level Kbuild's) was built for this kernel.
mapfile -t mods < <(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/lib/$pkg/modules | grep -v '^#')
((${#mods[@]})) || it_fail "the package lists no modules"
# modfile NAME: the file DKMS installed for NAME (.ko, or .ko.xz like 6.12's own).
modfile() {
	local f
	for f in "$debdir/dkms/$kver/$1".ko{,.xz,.zst,.gz}; do
		[[ -f $f ]] && printf '%s\n' "$f" && return 0
	done
	return 1
}
for m in "${mods[@]}"; do
	modfile "$m" >/dev/null || it_fail "DKMS did not build $m for $kver"
done
echo "ok: DKMS built ${mods[*]} for $kver"
mdeb=$("$IT_ROOT/guest-tools/install/mkmodules.sh" "$kver" "$version" "$debdir/dkms/$kver" \
	"$IT_TMP") || it_fail "could not package the modules for $kver"
echo "ok: $(basename "$mdeb")"

# The host side: vireod's agent client finds the packaged toolsd over its vsock device.
agent() { it_vireoctl --json device list | jq -r ".[] | select(.id == \"vs0\") | .agent.$1"; }
# wait_agent REGEX SECONDS: until the agent's state matches.
wait_agent() {
	local deadline=$((SECONDS + $2))
	while ((SECONDS < deadline)); do
		[[ $(agent state) =~ ^($1)$ ]] && return 0
		sleep 0.2
	done
	it_fail "agent not $1 after $2 s (state $(agent state), last error '$(agent last_error)')"
}

lab_rootfs_image "$kver" >/dev/null || it_fail "no root file system image for $kver"
cid=$((50 + ${#series}))
it_vireod "$IT_TMP" --device "vsock,id=vs0,cid=$cid,uds=$IT_TMP/v.sock,socket=$IT_TMP/vs0.sock"
IT_GUESTS+=("$g")
boot_start=$SECONDS
lab_boot_rootfs "$g" --kernel "$kver" --boot-timeout 400 -- \
	-chardev "socket,id=vc,path=$IT_TMP/vs0.sock" -device "vhost-user-vsock-pci,chardev=vc" ||
	it_fail "the systemd guest did not boot"
state=$(lab_run "$g" --timeout 300 'systemctl is-system-running --wait; systemctl --failed --no-legend')
echo "note: guest: system $state $((SECONDS - boot_start)) s after QEMU started"

# A guest with no compiler and no headers: nothing is built there.
it_expect_eq "no compiler in the guest" "" "$(lab_run "$g" 'command -v gcc cc make dkms')"
it_expect_eq "no headers in the guest" "" "$(lab_run "$g" "ls -d /lib/modules/$kver/build /usr/src/linux-headers-* 2>/dev/null")"

lab_copy_in "$g" "$deb" /root/$pkg.deb || it_fail "copy-in of the package failed"
lab_copy_in "$g" "$mdeb" /root/modules.deb || it_fail "copy-in of the modules package failed"
t0=$SECONDS
out=$(lab_run "$g" --timeout 300 "dpkg -i /root/$pkg.deb /root/modules.deb 2>&1") ||
	it_fail "dpkg -i failed: $out"
echo "note: dpkg -i in the guest took $((SECONDS - t0)) s"
printf '%s\n' "$out" | sed 's/^/  dpkg: /' | tail -n 20
it_expect_match "the installer took the prebuilt modules" "installing the prebuilt guest modules for $kre" "$out"
it_expect_match "postinst ran the installer" "installed for kernel $kre" "$out"
it_expect_eq "unit after dpkg -i" active "$(lab_run "$g" 'systemctl is-active vireo-toolsd')"
# The modules loaded are the very files DKMS built on the host (one guest round trip:
# NAME, whether it is loaded, the sha256 of the file modprobe resolves it to).
want=$(for m in "${mods[@]}"; do
	echo "$m loaded $(sha256sum <"$(modfile "$m")" | cut -d' ' -f1)"
done)
got=$(lab_run "$g" "for m in ${mods[*]}; do
	grep -q \"^\$m \" /proc/modules && l=loaded || l=absent
	echo \"\$m \$l \$(sha256sum <\$(modinfo -n \$m) | cut -d' ' -f1)\"
done")
it_expect_eq "modules loaded in the guest, DKMS's files" "$want" "$got"
wait_agent up 60
r=$(it_vireoctl --json guest vs0 ping) || it_fail "the host does not reach the agent: $r"
it_expect_eq "host -> agent ping" true "$(jq -r .pong <<<"$r")"
r=$(it_vireoctl --json guest vs0 info) || it_fail "guest info: $r"
it_expect_eq "host -> agent info: kernel" "$kver" "$(jq -r .kernel.release <<<"$r")"

check=$(lab_run "$g" 'vireo-tools-install --check') || it_fail "--check failed after install:
$check"
printf '%s\n' "$check" | sed 's/^/  check: /'
for m in "${mods[@]}"; do
	it_expect_match "--check: $m" "OK   module $m: loaded" "$check"
done
it_expect_match "--check: chrony snippet" "OK   chrony:" "$check"
it_expect_match "--check: the clock's name" "OK   clock: /dev/ptp_vireo is /dev/ptp[0-9]" "$check"

# chrony follows the host through vireo_ptp: the installer's refclock line becomes
# chrony's selected source (PHC0), and toolsd's own discipline stands aside.
for _ in $(seq 60); do
	src=$(lab_run "$g" 'chronyc -n sources 2>&1')
	grep -q '^#\* PHC0' <<<"$src" && break
	sleep 2
done
printf '%s\n' "$src" | sed 's/^/  chronyc: /'
grep -q '^#\* PHC0' <<<"$src" || it_fail "chrony did not select the vireo_ptp refclock"
tracking=$(lab_run "$g" 'chronyc -n tracking')
it_expect_match "chrony's reference" 'Reference ID +: 50484330 \(PHC0\)' "$tracking"
printf '%s\n' "$tracking" | grep -E 'System time|Last offset|RMS offset' | sed 's/^/  chronyc: /'
r=$(it_vireoctl --json guest vs0 time) || it_fail "guest time: $r"
it_expect_eq "toolsd's discipline with chrony running" chrony "$(jq -r .sync.mode <<<"$r")"

# A second run changes nothing: it says so, and no file it manages changes.
files='/etc/modules-load.d/vireo-guest-tools.conf /etc/chrony/conf.d/vireo.conf'
snap="stat -c '%n %Y %s' $files /lib/modules/$kver/updates/$pkg/*; systemctl is-enabled vireo-toolsd"
before=$(lab_run "$g" "$snap") || it_fail "cannot list the installed files: $before"
out=$(lab_run "$g" 'vireo-tools-install') || it_fail "second install run failed: $out"
it_expect_match "second run" "nothing to do" "$out"
it_expect_eq "files after the second run" "$before" "$(lab_run "$g" "$snap")"

# An unsupported kernel (the test hook stands in for uname -r): a clear FAIL line.
out=$(lab_run "$g" 'VIREO_TOOLS_KERNEL=5.10.0-30-amd64 vireo-tools-install --check') &&
	it_fail "--check passed on an unsupported kernel: $out"
it_expect_match "--check on 5.10" "^FAIL kernel: 5.10.0-30-amd64 is not supported" "$out"
out=$(lab_run "$g" 'VIREO_TOOLS_KERNEL=5.10.0-30-amd64 vireo-tools-install 2>&1') &&
	it_fail "install went ahead on an unsupported kernel: $out"
it_expect_match "install on 5.10" "kernel 5.10.0-30-amd64 is not supported" "$out"

t0=$SECONDS
out=$(lab_run "$g" 'vireo-tools-install --uninstall') || it_fail "--uninstall failed: $out"
echo "--uninstall took $((SECONDS - t0)) s"
it_expect_eq "unit after --uninstall" inactive "$(lab_run "$g" 'systemctl is-active vireo-toolsd')"
it_expect_eq "module after --uninstall" "" "$(lab_run "$g" 'grep ^vireo_ /proc/modules')"
it_expect_eq "modules after --uninstall" "" "$(lab_run "$g" "ls /lib/modules/$kver/updates/$pkg 2>/dev/null")"
it_expect_eq "files after --uninstall" "" "$(lab_run "$g" "ls $files 2>/dev/null")"
wait_agent 'down|connecting' 30
r=$(it_vireoctl --json guest vs0 ping) && it_fail "the agent still answers after --uninstall: $r"
echo "ok: no agent after --uninstall ($(jq -r .error <<<"$r"))"
out=$(lab_run "$g" 'vireo-tools-install --check') && it_fail "--check passed after --uninstall"
it_expect_match "--check after --uninstall" "FAIL service: vireo-toolsd.service is not enabled" "$out"

out=$(lab_run "$g" --timeout 300 "dpkg --purge vireo-guest-modules-$kver $pkg 2>&1") ||
	it_fail "dpkg --purge failed: $out"
it_expect_eq "packages after purge" "" "$(lab_run "$g" "dpkg -l '$pkg*' 'vireo-guest-modules-*' 2>/dev/null | grep ^ii")"
it_expect_eq "files after purge" "" "$(lab_run "$g" "ls -d /usr/lib/$pkg /usr/sbin/vireo-tools-install 2>/dev/null")"

echo "note: $((SECONDS - boot_start)) s from QEMU's start to the purge"
lab_shutdown "$g" || it_fail "the guest did not power off"
it_vireod_stop
it_expect_eq "vireod's exit status" 0 "$IT_VIREOD_RC"
it_pass
