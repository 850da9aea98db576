/* SPDX-License-Identifier: MIT */
/*
 * Listening on a unix socket path the way every vireod socket does (vhost-user
 * devices, the vsock engine's host side, the control socket): a socket file left by a
 * dead vireod is replaced, a live one or anything that is not a socket is refused.
 */
#ifndef VIREO_UTIL_UNIX_LISTEN_H
#define VIREO_UTIL_UNIX_LISTEN_H

#include <sys/types.h>

/**
 * unix_listen() - Claim @path and listen on it.
 * @path: the socket path (shorter than sun_path).
 * @sock_flags: extra socket() type flags (SOCK_NONBLOCK); SOCK_CLOEXEC is always set.
 * @backlog: listen() backlog.
 * @mode: permissions for the socket file, or 0 to leave the umask's.
 * Return: the listening fd, or -ENAMETOOLONG, -EEXIST (a file that is not a socket),
 * -EADDRINUSE (something answers on it), or another negative errno. On failure
 * nothing is left behind at @path (a stale socket file may have been removed).
 */
int unix_listen(const char *path, int sock_flags, int backlog, mode_t mode);

#endif /* VIREO_UTIL_UNIX_LISTEN_H */
