// SPDX-License-Identifier: MIT
/*
 * A net driver for the virtio-net model's unit tests (net_test.c). Transmit: every
 * frame it takes is appended to the file `capture=` names, as a 4-byte length and the
 * bytes. Receive: it delivers, once, frames of the sizes `frames=` lists (bytes
 * "i + n" for byte i of the n-th frame), then has nothing more. `mtu=` sets the MTU it
 * reports (a large one makes the model span frames across mergeable buffers).
 * `offloads=` is the VIREO_NET_OFF_* mask it announces; `meta=` names a file each
 * transmitted frame's offload metadata is appended to (struct t_meta); `rx_csum=on`
 * delivers frames whose TCP checksum (at 34 + 16) is left partial.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vireo/driver.h>
#include <vireo/net.h>
#include <vireo/params.h>

#define T_MAX_FRAMES 32

/* One transmitted frame's offload metadata, as the meta= file holds it. */
struct t_meta {
	uint32_t flags;
	uint16_t gso_type, gso_size, hdr_len, csum_start, csum_offset, pad;
};

struct t_dev {
	int capture, meta;
	unsigned int offloads;
	unsigned int accepted; /* what set_offloads last said the guest takes */
	bool rx_csum;
	bool follow; /* follow=on: no partial checksums the guest did not accept */
	unsigned int mtu;
	unsigned int nframes, next;
	uint32_t sizes[T_MAX_FRAMES];
};

static const struct vireo_param_decl t_params[] = {
	{ VIREO_PARAM_STRING("capture", NULL, "file transmitted frames are appended to"),
	  .flags = VIREO_PARAM_F_REQUIRED },
	{ VIREO_PARAM_STRING("frames", "", "sizes of the frames to receive, comma-separated") },
	{ VIREO_PARAM_UINT("mtu", "1500", "MTU to report") },
	{ VIREO_PARAM_UINT("offloads", "0", "VIREO_NET_OFF_* mask to announce") },
	{ VIREO_PARAM_STRING("meta", "", "file transmitted frames' metadata is appended to") },
	{ VIREO_PARAM_BOOL("rx_csum", "off", "received frames carry a partial checksum") },
	{ VIREO_PARAM_BOOL("follow", "off", "honour set_offloads: rx_csum only if accepted") },
	{ 0 } /* sentinel */
};

static int t_open(struct vireo_net *net, const struct vireo_params *params)
{
	const char *path = NULL, *frames = NULL, *meta = NULL;
	uint64_t mtu = 0, offloads = 0;
	struct t_dev *td;
	char *end;

	td = calloc(1, sizeof(*td));
	if (!td)
		return -ENOMEM;
	if (vireo_param_get_string(params, "capture", &path) < 0 ||
	    vireo_param_get_string(params, "frames", &frames) < 0 ||
	    vireo_param_get_uint(params, "mtu", &mtu) < 0 ||
	    vireo_param_get_uint(params, "offloads", &offloads) < 0 ||
	    vireo_param_get_string(params, "meta", &meta) < 0 ||
	    vireo_param_get_bool(params, "rx_csum", &td->rx_csum) < 0 ||
	    vireo_param_get_bool(params, "follow", &td->follow) < 0) {
		free(td);
		return -EINVAL;
	}
	td->mtu = (unsigned int)mtu;
	td->offloads = (unsigned int)offloads;
	td->accepted = td->offloads;
	td->meta = -1;
	if (*meta) {
		td->meta = open(meta, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (td->meta < 0) {
			free(td);
			return -errno;
		}
	}
	for (const char *p = frames; *p && td->nframes < T_MAX_FRAMES; p = *end ? end + 1 : end)
		td->sizes[td->nframes++] = (uint32_t)strtoul(p, &end, 10);
	td->capture = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (td->capture < 0) {
		free(td);
		return -errno;
	}
	vireo_net_set_priv(net, td);
	return 0;
}

static void t_close(struct vireo_net *net)
{
	struct t_dev *td = vireo_net_priv(net);

	close(td->capture);
	if (td->meta >= 0)
		close(td->meta);
	free(td);
}

static int t_get_info(struct vireo_net *net, struct vireo_net_info *info)
{
	const struct t_dev *td = vireo_net_priv(net);

	info->mtu = (uint16_t)td->mtu;
	info->offloads = td->offloads;
	info->max_mtu = 9000;
	info->queue_size = 64;
	return 0;
}

static int t_tx_burst(struct vireo_net *net, unsigned int queue, struct vireo_pkt *const *pkts,
		      unsigned int n)
{
	struct t_dev *td = vireo_net_priv(net);

	(void)queue;
	for (unsigned int i = 0; i < n; i++) {
		uint32_t len = pkts[i]->len;
		struct iovec iov[65];
		unsigned int k = 1;

		iov[0].iov_base = &len;
		iov[0].iov_len = sizeof(len);
		for (unsigned int j = 0; j < pkts[i]->iovcnt && k < 65; j++)
			iov[k++] = pkts[i]->iov[j];
		if (writev(td->capture, iov, (int)k) < 0)
			return -errno;
		if (td->meta >= 0) {
			const struct vireo_pkt *p = pkts[i];
			struct t_meta m = { p->flags,	p->gso_type,   p->gso_size,
					    p->hdr_len, p->csum_start, p->csum_offset,
					    0 };

			if (write(td->meta, &m, sizeof(m)) != (ssize_t)sizeof(m))
				return -EIO;
		}
	}
	return (int)n;
}

static int t_rx_burst(struct vireo_net *net, unsigned int queue, struct vireo_pkt *const *pkts,
		      unsigned int n)
{
	struct t_dev *td = vireo_net_priv(net);
	unsigned int got = 0;

	(void)queue;
	while (got < n && td->next < td->nframes) {
		struct vireo_pkt *p = pkts[got];
		uint32_t size = td->sizes[td->next], off = 0;

		if (size > p->len)
			break; /* wait for a bigger buffer (the test checks the model offers one) */
		for (unsigned int j = 0; j < p->iovcnt && off < size; j++) {
			uint8_t *b = p->iov[j].iov_base;

			for (size_t x = 0; x < p->iov[j].iov_len && off < size; x++, off++)
				b[x] = (uint8_t)(off + td->next);
		}
		p->len = size;
		if (td->rx_csum && size >= 34 + 16 + 2 &&
		    (!td->follow || (td->accepted & VIREO_NET_OFF_RX_CSUM))) {
			p->flags = VIREO_PKT_F_NEEDS_CSUM;
			p->csum_start = 34;
			p->csum_offset = 16;
		}
		td->next++;
		got++;
	}
	return (int)got;
}

static int t_set_offloads(struct vireo_net *net, uint32_t offloads)
{
	struct t_dev *td = vireo_net_priv(net);

	if (offloads & ~td->offloads)
		return -EINVAL; /* the core must pass a subset of what we announced */
	td->accepted = offloads;
	return 0;
}

static const struct vireo_net_ops t_ops = {
	.struct_size = sizeof(struct vireo_net_ops),
	.open = t_open,			/* required */
	.get_info = t_get_info,		/* required */
	.tx_burst = t_tx_burst,		/* required */
	.rx_burst = t_rx_burst,		/* required */
	.close = t_close,		/* optional */
	.set_offloads = t_set_offloads, /* optional */
};

VIREO_DRIVER(.name = "net-test", .version = "1.0.0", .license = "MIT",
	     .description = "virtio-net unit-test driver", .dev_class = VIREO_CLASS_NET,
	     .ops.net = &t_ops, .params = t_params);
