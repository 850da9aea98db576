# SPDX-License-Identifier: MIT
# Debian kernels for the lab: resolves the newest image+headers pair of a series from
# the package archive, downloads and unpacks both into the cache (keyed by version),
# and answers where a cached kernel's pieces are. Sourced; it installs no packages.
#
# Cache layout, one folder per kernel release (KVER, e.g. 6.1.0-56-amd64):
#   $(lab_cache)/kernels/KVER/vmlinuz          the bzImage
#   $(lab_cache)/kernels/KVER/root/lib/modules/KVER/   its modules (depmod run)
#   $(lab_cache)/kernels/KVER/kdir             -> headers tree for make -C
#   $(lab_cache)/kernels/KVER/VERSION          Debian package version of both
#   $(lab_cache)/kernels/series-SERIES         KVER last resolved for SERIES

lab_cache() {
	printf '%s\n' "${VIREO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vireo}"
}

# Regex (ERE) of the kernel release names that make up a supported series.
lab_series_pattern() {
	case $1 in
	6.1) printf '%s\n' '6\.1\.0-[0-9]+-amd64' ;;
	6.12) printf '%s\n' '6\.12\.[0-9]+\+deb12-amd64' ;;
	*)
		echo "lab: unknown kernel series '$1' (supported: 6.1 6.12)" >&2
		return 1
		;;
	esac
}

lab_candidate_version() {
	apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }'
}

# Makes sure apt's package lists know about Debian kernels; updates them if root.
lab_apt_lists_ready() {
	[[ -n $(lab_candidate_version linux-image-amd64) && \
		$(lab_candidate_version linux-image-amd64) != "(none)" ]] && return 0
	if ((EUID == 0)) && apt-get update -qq >/dev/null 2>&1; then
		return 0
	fi
	echo "lab: apt has no package lists with Debian kernels, and 'apt-get update' failed" >&2
	echo "lab: (not root, or the Debian package archive is unreachable)" >&2
	return 1
}

# Prints the newest KVER of SERIES whose image and headers have the same version.
lab_kernel_resolve() {
	local series=$1 pat kver vi vh
	pat=$(lab_series_pattern "$series") || return 1
	lab_apt_lists_ready || return 1
	while read -r kver; do
		vi=$(lab_candidate_version "linux-image-$kver")
		vh=$(lab_candidate_version "linux-headers-$kver")
		if [[ -n $vi && $vi != "(none)" && $vi == "$vh" ]]; then
			printf '%s\n' "$kver"
			return 0
		fi
	done < <(apt-cache pkgnames linux-image- | sed -nE "s/^linux-image-($pat)\$/\\1/p" | sort -rV)
	echo "lab: no linux-image/linux-headers pair of the same version for series $series" >&2
	return 1
}

# Prints the newest complete cached KVER of SERIES (the offline fallback).
lab_kernel_cached() {
	local pat
	pat=$(lab_series_pattern "$1") || return 1
	find "$(lab_cache)/kernels" -mindepth 2 -maxdepth 2 -name VERSION 2>/dev/null |
		sed -E 's#.*/kernels/([^/]+)/VERSION$#\1#' | grep -E "^$pat\$" | sort -rV | head -n 1
}

# Downloads and unpacks image + headers of KVER into the cache, once.
lab_kernel_fetch() {
	local kver=$1 cache dir tmp ver deps pkg
	cache=$(lab_cache)
	dir=$cache/kernels/$kver
	[[ -f $dir/VERSION ]] && return 0

	mkdir -p "$cache/kernels" || return 1
	tmp=$(mktemp -d "$cache/kernels/.fetch.XXXXXX") || return 1
	ver=$(lab_candidate_version "linux-image-$kver")
	echo "lab: downloading Debian kernel $kver ($ver)" >&2
	(
		set -e
		cd "$tmp"
		apt-get download -q=2 "linux-image-$kver=$ver" "linux-headers-$kver=$ver" 2>>log
		# The headers package names its common part and its kbuild tools.
		deps=$(dpkg-deb -f linux-headers-"$kver"_*.deb Depends | tr ',' '\n' |
			sed -nE 's/^ *(linux-headers-[^ ]+-common|linux-kbuild-[^ ]+).*/\1/p')
		for pkg in $deps; do
			apt-get download -q=2 "$pkg" 2>>log
		done
		mkdir root
		for deb in ./*.deb; do
			dpkg-deb -x "$deb" root
		done
		rm -f ./*.deb log
		test -f "root/boot/vmlinuz-$kver"
		ln -s "root/boot/vmlinuz-$kver" vmlinuz
		# The headers' Makefile includes its common part by absolute path.
		sed -i "s#^include /usr/src/#include $dir/root/usr/src/#" \
			"root/usr/src/linux-headers-$kver/Makefile"
		ln -s "root/usr/src/linux-headers-$kver" kdir
		depmod -b root "$kver"
		printf '%s\n' "$ver" >VERSION
	) || {
		echo "lab: could not download or unpack kernel $kver" >&2
		grep -v 'unsandboxed' "$tmp/log" 2>/dev/null | tail -n 5 >&2
		rm -rf "$tmp"
		return 1
	}
	rm -rf "$dir"
	mv "$tmp" "$dir"
}

# Resolves and fetches the newest kernel of SERIES; prints its KVER. Falls back to the
# newest cached one of the series, with a warning, when the archive cannot be reached.
lab_kernel_ensure() {
	local series=$1 kver cached
	if kver=$(lab_kernel_resolve "$series") && lab_kernel_fetch "$kver"; then
		printf '%s\n' "$kver" >"$(lab_cache)/kernels/series-$series"
		printf '%s\n' "$kver"
		return 0
	fi
	cached=$(lab_kernel_cached "$series")
	if [[ -n $cached ]]; then
		echo "lab: warning: using cached kernel $cached for series $series" >&2
		printf '%s\n' "$cached" >"$(lab_cache)/kernels/series-$series"
		printf '%s\n' "$cached"
		return 0
	fi
	return 1
}

# Prints the KVER that set-up chose for SERIES (no network, no apt).
lab_kernel_of_series() {
	local f
	f=$(lab_cache)/kernels/series-$1
	if [[ ! -s $f ]]; then
		echo "lab: no kernel set up for series $1; run tests/lab/setup first" >&2
		return 1
	fi
	cat "$f"
}

lab_kernel_dir() {
	printf '%s\n' "$(lab_cache)/kernels/$1"
}
