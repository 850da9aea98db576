// SPDX-License-Identifier: MIT
/*
 * Deliberately broken net drivers, to prove that vireo-certify's net checks fail what
 * they should: samples/net-pair compiled in here with one fault each, chosen by a
 * -DBROKEN_* define. CORRUPT_RX flips a byte of every 50th frame received; DUPLICATE_RX
 * delivers a frame twice about every 70; NO_TX_READY never calls vireo_net_tx_ready();
 * NO_LINK_EVENT never calls vireo_net_link_changed(); IGNORE_MTU takes set_mtu()
 * without applying it, so frames over the new MTU go through; STATS_OFF reports a
 * byte too many per 64 frames sent. Test-only; not a sample to copy.
 */
#include <stdatomic.h>
#include <string.h>

#include <vireo/driver.h>
#include <vireo/net.h>

/* The sample's own descriptor is replaced by the broken one below. */
#undef VIREO_DRIVER
#define VIREO_DRIVER(...) static const int pair_descriptor_unused_ __attribute__((unused)) = 0

#ifdef BROKEN_NO_TX_READY
#define vireo_net_tx_ready(net, queue) ((void)(net), (void)(queue))
#endif
#ifdef BROKEN_NO_LINK_EVENT
#define vireo_net_link_changed(net) ((void)(net))
#endif

#include "../../samples/net-pair/net_pair.c"

/* The sample's ops table, kept only as the list of what is wrapped below. */
static const void *const pair_ops_ref_ __attribute__((used)) = &pair_ops;

static atomic_uint g_received;
#ifdef BROKEN_DUPLICATE_RX
static unsigned int g_next_dup = 16; /* one receive thread: loopback, pair 0 */
#endif

static int broken_rx_burst(struct vireo_net *net, unsigned int queue, struct vireo_pkt *const *pkts,
			   unsigned int n)
{
	int got = pair_rx_burst(net, queue, pkts, n);

	for (int i = 0; i < got; i++) {
		unsigned int k = atomic_fetch_add(&g_received, 1) + 1;

		(void)k;
#ifdef BROKEN_CORRUPT_RX
		if (k % 50 == 0)
			((uint8_t *)pkts[i]->iov[0].iov_base)[pkts[i]->iov[0].iov_len / 2] ^= 0x20;
#endif
	}
#ifdef BROKEN_DUPLICATE_RX
	if (got > 0 && (unsigned int)got < n && atomic_load(&g_received) >= g_next_dup &&
	    pkts[got - 1]->len <= pkts[got]->len) {
		/* The burst's last frame again, into the next buffer. */
		static uint8_t flat[PAIR_MAX_MTU + PAIR_L2_OVERHEAD];
		struct vireo_pkt *a = pkts[got - 1], *b = pkts[got];
		size_t off = 0;

		for (unsigned int j = 0; j < a->iovcnt && off < a->len; j++) {
			size_t l =
				a->iov[j].iov_len < a->len - off ? a->iov[j].iov_len : a->len - off;

			memcpy(flat + off, a->iov[j].iov_base, l);
			off += l;
		}
		pair_load(flat, a->len, b);
		b->len = a->len;
		b->flags = a->flags;
		got++;
		g_next_dup = atomic_load(&g_received) + 70;
	}
#endif
	return got;
}

static int broken_set_mtu(struct vireo_net *net, unsigned int mtu)
{
#ifdef BROKEN_IGNORE_MTU
	(void)net;
	(void)mtu;
	return 0;
#else
	return pair_set_mtu(net, mtu);
#endif
}

static int broken_get_stats(struct vireo_net *net, struct vireo_net_stats *s)
{
	int rc = pair_get_stats(net, s);

#ifdef BROKEN_STATS_OFF
	s->tx_bytes += s->tx_packets / 64; /* drifts from the truth as frames go */
#endif
	return rc;
}

static const struct vireo_net_ops broken_ops = {
	.struct_size = sizeof(struct vireo_net_ops),
	.open = pair_open,
	.get_info = pair_get_info,
	.tx_burst = pair_tx_burst,
	.rx_burst = broken_rx_burst,
	.close = pair_close,
	.get_link = pair_get_link,
	.set_mtu = broken_set_mtu,
	.queue_start = pair_queue_start,
	.queue_stop = pair_queue_stop,
	.get_stats = broken_get_stats,
};

VIREO_API const struct vireo_driver vireo_driver_descriptor = {
	.struct_size = sizeof(struct vireo_driver),
	.magic = VIREO_DRIVER_MAGIC,
	.abi_major = VIREO_ABI_MAJOR,
	.abi_minor = VIREO_ABI_MINOR,
	.name = "net-broken",
	.version = "0.0.1",
	.license = "MIT",
	.dev_class = VIREO_CLASS_NET,
	.ops.net = &broken_ops,
	.match = pair_match,
	.params = pair_params,
};
