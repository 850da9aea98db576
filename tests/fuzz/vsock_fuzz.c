// SPDX-License-Identifier: MIT
/*
 * Fuzz target: a guest's vsock traffic. The input is a list of records
 * { u8 kind, u16 len, len bytes }: kind bit 0 clear is a tx chain (the bytes, split
 * into two buffers at byte kind >> 1), set is an rx buffer of len bytes to fill. The
 * engine runs with a service bound on host port 1 (socketpairs, no unix paths), so
 * connections really open, carry data and close. Nothing may crash, read or write out
 * of bounds, leak, or hold more than the credit it gave.
 */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "lib/internal.h"
#include "vsock/engine.h"

#define FUZZ_CID 3
#define FUZZ_BUF 8192u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int g_fds[64];
static unsigned int g_nfds;

static void on_accept(void *arg, int fd, uint32_t guest_port)
{
	(void)arg;
	(void)guest_port;
	if (g_nfds < 64)
		g_fds[g_nfds++] = fd;
	else
		close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t rx[sizeof(struct virtio_vsock_hdr) + VSOCK_MAX_PKT];
	struct vsock_engine_cfg cfg = { .guest_cid = FUZZ_CID,
					.buf_alloc = FUZZ_BUF,
					.max_conns = 8 };
	struct vsock_engine *eng;
	struct vireo_loop *loop;
	size_t off = 0;

	if (vireo_core_loop_new(&loop) < 0)
		return 0;
	cfg.loop = loop;
	if (vsock_engine_new(&cfg, &eng) < 0) {
		vireo_core_loop_free(loop);
		return 0;
	}
	vsock_engine_bind_port(eng, 1, on_accept, NULL);
	while (off + 3 <= size) {
		uint8_t kind = data[off];
		uint16_t len = (uint16_t)(data[off + 1] | data[off + 2] << 8);
		struct iovec iov[2];
		size_t split;

		off += 3;
		if (kind & 1) {
			iov[0] = (struct iovec){ rx, len }; /* u16: rx holds any */
			vsock_engine_service(eng);
			(void)vsock_engine_has_output(eng);
			(void)vsock_engine_guest_rx(eng, iov, 1, (uint32_t)iov[0].iov_len);
			vireo_core_loop_run_once(loop, 0);
			continue;
		}
		if (len > size - off)
			len = (uint16_t)(size - off);
		split = (size_t)(kind >> 1) < len ? (size_t)(kind >> 1) : len;
		iov[0] = (struct iovec){ (void *)(data + off), split };
		iov[1] = (struct iovec){ (void *)(data + off + split), len - split };
		(void)vsock_engine_guest_tx(eng, iov, 2, len);
		off += len;
	}
	vsock_engine_free(eng);
	vireo_core_loop_free(loop);
	while (g_nfds)
		close(g_fds[--g_nfds]);
	return 0;
}
