#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Set-up without root and with a package missing stops with a message that names
# the package and the command that installs it, and changes nothing.
source "$(dirname "$0")/../lib.sh"
it_begin "lab/deps"
((EUID == 0)) || it_skip "needs root to run the check as another user"
command -v runuser >/dev/null || it_skip "runuser (util-linux) is not installed"

# A copy the unprivileged user can read wherever the tree lives (/root is 0700).
chmod 0755 "$IT_TMP"
install -m 0644 "$IT_ROOT/tests/lab/deps.sh" "$IT_TMP/deps.sh"
out=$(runuser -u nobody -- bash -c '
	source "$1"
	VIREO_PACKAGES+=(vireo-no-such-package)
	vireo_deps_ensure' _ "$IT_TMP/deps.sh" 2>&1)
rc=$?
it_expect_eq "exit status as a user" 1 "$rc"
it_expect_match "names the package" 'missing Debian packages: vireo-no-such-package' "$out"
it_expect_match "gives the command" 'apt-get install --no-install-recommends vireo-no-such-package' "$out"

out=$(runuser -u nobody -- bash -c 'source "$1"; vireo_deps_ensure && echo quiet-ok' \
	_ "$IT_TMP/deps.sh" 2>&1)
it_expect_eq "all installed: silent success" quiet-ok "$out"
it_pass
