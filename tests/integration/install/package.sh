#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The vireo-guest-tools package on a real Debian 12 system: the lab's mmdebstrap root
# file system (tests/lab/rootfs.sh) booted with systemd on the stock kernel. In the
# guest: dpkg -i the package (make deb's), DKMS builds the modules there, the agent's
# unit comes up, vireo-tools-install --check passes, a second install run changes
# nothing, --check fails clearly on an unsupported kernel (the VIREO_TOOLS_KERNEL test
# hook), --uninstall undoes it all and the package removes cleanly. The host reaches
# the agent the package started through vireod's vsock device (vhost-user-vsock-pci).
source "$(dirname "$0")/../lib.sh"
source "$IT_ROOT/tests/lab/rootfs.sh"
series=${1:?series}
it_begin "install/package-$series"
g=install-$series
kver=$(lab_resolve_kver "$series") || it_fail "no kernel for series $series"
kre=${kver//./\\.}  # the release as a regex: 6.12's has a '+'
kre=${kre//+/\\+}
pkg=vireo-guest-tools

# The package, built once for all series (the lock), again when its inputs change.
debdir=$VIREO_BUILD_ROOT/deb-test
exec {lock}>"$VIREO_BUILD_ROOT/deb-test.lock"
flock "$lock"
stamp=$(cd "$IT_ROOT" && git ls-files -z --cached --others --exclude-standard \
	guest-tools Kbuild meson.build vmm-core/control |
	xargs -0 cat 2>/dev/null | sha256sum | cut -c1-16)
if [[ $(cat "$debdir.stamp" 2>/dev/null) != "$stamp" ]]; then
	rm -rf "$debdir"
	VIREO_DEB_LINTIAN=0 "$IT_ROOT/guest-tools/install/mkdeb.sh" "$debdir" ||
		it_fail "make deb failed"
	printf '%s\n' "$stamp" >"$debdir.stamp"
fi
flock -u "$lock"
deb=$(ls "$debdir"/deb/${pkg}_*.deb 2>/dev/null | head -n 1)
[[ -f $deb ]] || it_fail "no package in $debdir/deb"
echo "ok: package $(basename "$deb")"

# host_ping: one ping to the guest agent from the host, through vireod's vsock device
# ("CONNECT <port>" on its unix socket); prints the reply line.
host_ping() {
	python3 - "$uds" <<-'PY'
		import json, socket, sys
		s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		s.settimeout(20)
		s.connect(sys.argv[1])
		f = s.makefile("rwb")
		f.write(b"CONNECT 5600\n")
		f.flush()
		ok = f.readline().decode().strip()
		if not ok.startswith("OK"):
		    sys.exit("no agent: CONNECT answered %r" % ok)
		f.write(json.dumps({"id": 7, "cmd": "ping"}).encode() + b"\n")
		f.flush()
		print(f.readline().decode().strip())
	PY
}

lab_rootfs_image "$kver" >/dev/null || it_fail "no root file system image for $kver"
cid=$((50 + ${#series}))
uds=$IT_TMP/v.sock
it_vireod "$IT_TMP" --device "vsock,id=vs0,cid=$cid,uds=$uds,socket=$IT_TMP/vs0.sock"
IT_GUESTS+=("$g")
lab_boot_rootfs "$g" --kernel "$kver" --boot-timeout 400 -- \
	-chardev "socket,id=vc,path=$IT_TMP/vs0.sock" -device "vhost-user-vsock-pci,chardev=vc" ||
	it_fail "the systemd guest did not boot"
state=$(lab_run "$g" --timeout 300 'systemctl is-system-running --wait; systemctl --failed --no-legend')
echo "guest: system $state"

lab_copy_in "$g" "$deb" /root/$pkg.deb || it_fail "copy-in of the package failed"
t0=$SECONDS
out=$(lab_run "$g" --timeout 900 "dpkg -i /root/$pkg.deb 2>&1") ||
	it_fail "dpkg -i failed: $out"
echo "dpkg -i took $((SECONDS - t0)) s (DKMS build in the guest, TCG)"
printf '%s\n' "$out" | sed 's/^/  dpkg: /' | tail -n 20
it_expect_match "dpkg -i: DKMS built for $kver" "vireo-guest-tools.*$kre.*installed" \
	"$(lab_run "$g" 'dkms status')"
it_expect_eq "unit after dpkg -i" active "$(lab_run "$g" 'systemctl is-active vireo-toolsd')"
it_expect_match "postinst ran the installer" "installed for kernel $kre" "$out"
r=$(host_ping 2>&1) || it_fail "the host does not reach the agent: $r"
it_expect_match "host -> agent ping" '"pong": ?true' "$r"

check=$(lab_run "$g" 'vireo-tools-install --check') || it_fail "--check failed after install:
$check"
printf '%s\n' "$check" | sed 's/^/  check: /'
it_expect_match "--check: our module" "OK   module vireo_hello: loaded" "$check"
it_expect_match "--check: chrony snippet" "OK   chrony:" "$check"

# A second run changes nothing: it says so, and no file it manages changes.
files='/etc/modules-load.d/vireo-guest-tools.conf /etc/chrony/conf.d/vireo.conf'
snap="stat -c '%n %Y %s' $files /lib/modules/$kver/updates/dkms/*.ko*; systemctl is-enabled vireo-toolsd"
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
# The sources stay added (the package is still there); the build for this kernel goes.
it_expect_eq "DKMS build after --uninstall" "" \
	"$(lab_run "$g" "dkms status -k $kver 2>/dev/null | grep vireo | grep -w installed")"
it_expect_eq "files after --uninstall" "" "$(lab_run "$g" "ls $files 2>/dev/null")"
r=$(host_ping 2>&1) && it_fail "the agent still answers after --uninstall: $r"
echo "ok: no agent after --uninstall ($r)"
out=$(lab_run "$g" 'vireo-tools-install --check') && it_fail "--check passed after --uninstall"
it_expect_match "--check after --uninstall" "FAIL service: vireo-toolsd.service is not enabled" "$out"

out=$(lab_run "$g" --timeout 300 "dpkg --purge $pkg 2>&1") || it_fail "dpkg --purge failed: $out"
it_expect_eq "package after purge" "" "$(lab_run "$g" "dpkg-query -W -f='\${Status}' $pkg 2>/dev/null | grep -w installed")"
it_expect_eq "DKMS sources after purge" "" "$(lab_run "$g" "ls -d /usr/src/$pkg-* /var/lib/dkms/$pkg 2>/dev/null")"

lab_shutdown "$g" || it_fail "the guest did not power off"
it_vireod_stop
it_expect_eq "vireod's exit status" 0 "$IT_VIREOD_RC"
it_pass
