#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Packages Vireo's guest modules built for one exact kernel (by DKMS on a build machine
# with that kernel's headers) as vireo-guest-modules-KVER, for guests with no compiler
# and no headers: vireo-tools-install finds them in /usr/lib/vireo-guest-tools/prebuilt/
# KVER/ when it cannot build, installs them into /lib/modules/KVER/updates and loads
# them. The package's postinst runs the installer.
#   guest-tools/install/mkmodules.sh KVER VERSION KO_DIR OUT_DIR
#     -> OUT_DIR/vireo-guest-modules-KVER_VERSION_amd64.deb
set -euo pipefail
kver=${1:?kernel release} version=${2:?package version} kos=${3:?directory of .ko} out=${4:?output directory}
[[ $kver =~ ^[0-9][0-9a-z.+-]*$ ]] || {
	echo "mkmodules: '$kver' is not a kernel release" >&2
	exit 1
}
# As DKMS installed them: .ko, or compressed like the kernel's own (6.12: .ko.xz).
mapfile -t files < <(find "$kos" -maxdepth 1 -regex '.*\.ko\(\.xz\|\.zst\|\.gz\)?' | sort)
((${#files[@]})) || {
	echo "mkmodules: no .ko in $kos" >&2
	exit 1
}
pkg=vireo-guest-modules-$kver
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dest=$stage/usr/lib/vireo-guest-tools/prebuilt/$kver
mkdir -p "$dest" "$stage/DEBIAN" "$stage/usr/share/doc/$pkg"
install -m 0644 "${files[@]}" "$dest/"
cat >"$stage/DEBIAN/control" <<CONTROL
Package: $pkg
Version: $version
Architecture: amd64
Maintainer: Vireo developers <vireo-dev@lists.vireo.invalid>
Depends: vireo-guest-tools (= $version)
Section: kernel
Priority: optional
Installed-Size: $(du -sk "$stage/usr" | cut -f1)
Description: Vireo's guest kernel modules prebuilt for Linux $kver
 Built by DKMS from vireo-guest-tools-dkms for exactly this kernel release, for
 guests that have no compiler or kernel headers; vireo-tools-install installs
 and loads them: $(basename -a "${files[@]}" | paste -sd' ')
CONTROL
cat >"$stage/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
# The modules are now there for the installer to find: let it finish the setup.
if [ "$1" = configure ] && command -v vireo-tools-install >/dev/null; then
	vireo-tools-install ||
		echo "vireo-guest-modules: setup did not finish; see: vireo-tools-install --check" >&2
fi
POSTINST
chmod 0755 "$stage/DEBIAN/postinst"
cp "$(dirname "$0")/debian/copyright" "$stage/usr/share/doc/$pkg/copyright"
cat >"$stage/usr/share/doc/$pkg/changelog" <<CHANGELOG
$pkg ($version) unstable; urgency=medium

  * Built by DKMS from vireo-guest-tools-dkms for Linux $kver.

 -- Vireo developers <vireo-dev@lists.vireo.invalid>  $(date -R -d @"${SOURCE_DATE_EPOCH:-$(date +%s)}")
CHANGELOG
gzip -9n "$stage/usr/share/doc/$pkg/changelog"
(cd "$stage" && find usr -type f -print0 | sort -z | xargs -0 md5sum >DEBIAN/md5sums)
mkdir -p "$out"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out/${pkg}_${version}_amd64.deb" >/dev/null
echo "$out/${pkg}_${version}_amd64.deb"
