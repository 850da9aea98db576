// SPDX-License-Identifier: MIT
/*
 * net/tap: a Linux TAP interface (/dev/net/tun, IFF_TAP | IFF_NO_PI). One fd per queue
 * pair (IFF_MULTI_QUEUE when there are several), opened with the instance and watched
 * on the pair's receive loop; frames are read and written straight between the fd and
 * the guest's buffers with readv/writev, so nothing is copied in between. With several
 * pairs, a pair's TAP queue is attached only while the core runs the pair (the guest
 * enabled it): the kernel steers host-to-guest frames only to attached queues, so none
 * lands in a queue nobody reads. With offload=on (the default) the TAP carries a
 * virtio-net header before each frame (IFF_VNET_HDR, TUNSETVNETHDRSZ): checksum and
 * TCP segmentation requests go to the kernel as they are (TUNSETOFFLOAD lets it hand
 * us partial checksums and 64 KiB TCP frames), so neither side checksums or cuts
 * segments in software. With offload=off, plain Ethernet frames of at most MTU + 18
 * bytes. The driver has no thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <vireo/driver.h>
#include <vireo/log.h>
#include <vireo/loop.h>
#include <vireo/net.h>
#include <vireo/params.h>

#define TAP_MAX_QUEUES	 16
#define TAP_MAX_FRAME	 65550 /* the core's largest frame */
#define TAP_QUEUE_SIZE	 256
#define TAP_DEFAULT_MTU	 1500
#define TAP_MAX_MTU	 65500
#define TAP_SCRATCH_IOVS 1 /* the trailing overflow buffer of a read */
#define TAP_HDR_IOVS	 1 /* the leading virtio-net header (offload=on) */
#define TAP_OFFLOADS                                                                               \
	(VIREO_NET_OFF_TX_CSUM | VIREO_NET_OFF_RX_CSUM | VIREO_NET_OFF_TSO4 | VIREO_NET_OFF_TSO6 | \
	 VIREO_NET_OFF_RX_GSO)

struct tap_dev;

struct tap_queue {
	struct tap_dev *dev;
	unsigned int index;
	int fd;
	struct vireo_watch *watch;
	uint8_t *rx_scratch; /* catches the tail of a frame larger than the buffer */
	uint8_t *tx_scratch; /* gathers a frame with more pieces than writev takes */
	struct iovec rx_iov[IOV_MAX];
	struct iovec tx_iov[IOV_MAX];
};

struct tap_dev {
	struct vireo_net *net;
	char ifname[IFNAMSIZ];
	unsigned int queues;
	unsigned int mtu;
	bool vnet_hdr; /* offload=on: a struct virtio_net_hdr before each frame */
	uint8_t mac[6];
	struct tap_queue q[TAP_MAX_QUEUES];
	atomic_uint_fast64_t rx_packets, rx_bytes, rx_dropped, rx_errors, tx_packets, tx_bytes,
		tx_dropped, tx_errors;
};

static const struct vireo_param_decl tap_params[] = {
	{ VIREO_PARAM_STRING("ifname", NULL, "TAP interface to attach to (or create)"),
	  .flags = VIREO_PARAM_F_REQUIRED },
	{ VIREO_PARAM_BOOL("create", "on", "create the interface if it does not exist") },
	{ VIREO_PARAM_UINT("queues", "1", "queue pairs (IFF_MULTI_QUEUE when > 1), 1 to 16") },
	{ VIREO_PARAM_UINT("mtu", "0", "MTU to set on the interface; 0 keeps its own") },
	{ VIREO_PARAM_BOOL(
		"offload", "on",
		"checksum and TCP segmentation offload through the TAP (IFF_VNET_HDR)") },
	{ VIREO_PARAM_MAC("mac", "00:00:00:00:00:00",
			  "the device's address to report; zero: the core makes one up") },
	{ 0 } /* sentinel */
};

/* An ioctl on the interface by name (MTU): through a throwaway socket. */
static int tap_if_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (s < 0)
		return -errno;
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(s, req, ifr) < 0)
		rc = -errno;
	close(s);
	return rc;
}

static int tap_attach(struct tap_dev *td, struct tap_queue *tq)
{
	struct ifreq ifr;
	int rc;

	tq->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tq->fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (td->queues > 1 ? IFF_MULTI_QUEUE : 0) |
			(td->vnet_hdr ? IFF_VNET_HDR : 0);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", td->ifname);
	if (ioctl(tq->fd, TUNSETIFF, &ifr) < 0)
		goto out_close;
	if (td->vnet_hdr) {
		int hdr_size = (int)sizeof(struct virtio_net_hdr);
		/* What we can take from the kernel: partial checksums, TCP up to 64 KiB. */
		unsigned long off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

		if (ioctl(tq->fd, TUNSETVNETHDRSZ, &hdr_size) < 0 ||
		    ioctl(tq->fd, TUNSETOFFLOAD, off) < 0)
			goto out_close;
	}
	return 0;

out_close:
	rc = -errno;
	close(tq->fd);
	tq->fd = -1;
	return rc;
}

/* Attaches or detaches a queue of a multi-queue TAP (TUNSETQUEUE); no-op otherwise. */
static int tap_set_queue(struct tap_dev *td, struct tap_queue *tq, bool attach)
{
	struct ifreq ifr;

	if (td->queues < 2)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = attach ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
	return ioctl(tq->fd, TUNSETQUEUE, &ifr) < 0 ? -errno : 0;
}

static void tap_free(struct tap_dev *td)
{
	for (unsigned int i = 0; i < TAP_MAX_QUEUES; i++) {
		if (td->q[i].fd >= 0)
			close(td->q[i].fd);
		free(td->q[i].rx_scratch);
		free(td->q[i].tx_scratch);
	}
	free(td);
}

static int tap_read_params(struct tap_dev *td, const struct vireo_params *params, bool *create)
{
	const char *id = vireo_net_id(td->net), *ifname = NULL;
	uint64_t queues = 0, mtu = 0;
	int rc;

	rc = vireo_param_get_string(params, "ifname", &ifname);
	if (rc == 0)
		rc = vireo_param_get_bool(params, "create", create);
	if (rc == 0)
		rc = vireo_param_get_uint(params, "queues", &queues);
	if (rc == 0)
		rc = vireo_param_get_uint(params, "mtu", &mtu);
	if (rc == 0)
		rc = vireo_param_get_bool(params, "offload", &td->vnet_hdr);
	if (rc == 0)
		rc = vireo_param_get_mac(params, "mac", td->mac);
	if (rc < 0) {
		VIREO_ERR("%s: reading parameters: %s", id, strerror(-rc));
		return rc;
	}
	if (!*ifname || strlen(ifname) >= IFNAMSIZ) {
		VIREO_ERR("%s: ifname '%s': 1 to %d characters", id, ifname, IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (queues < 1 || queues > TAP_MAX_QUEUES || (mtu && (mtu < 68 || mtu > TAP_MAX_MTU))) {
		VIREO_ERR("%s: queues %llu (1 to %d), mtu %llu (0 or 68 to %d)", id,
			  (unsigned long long)queues, TAP_MAX_QUEUES, (unsigned long long)mtu,
			  TAP_MAX_MTU);
		return -EINVAL;
	}
	snprintf(td->ifname, sizeof(td->ifname), "%s", ifname);
	td->queues = (unsigned int)queues;
	td->mtu = (unsigned int)mtu;
	return 0;
}

static int tap_open(struct vireo_net *net, const struct vireo_params *params)
{
	const char *id = vireo_net_id(net);
	struct tap_dev *td;
	struct ifreq ifr;
	bool create = true;
	int rc;

	td = calloc(1, sizeof(*td));
	if (!td)
		return -ENOMEM;
	td->net = net;
	for (unsigned int i = 0; i < TAP_MAX_QUEUES; i++)
		td->q[i] = (struct tap_queue){ .dev = td, .index = i, .fd = -1 };
	rc = tap_read_params(td, params, &create);
	if (rc < 0)
		goto out_free;
	if (!create && if_nametoindex(td->ifname) == 0) {
		rc = -ENODEV;
		VIREO_ERR("%s: interface %s does not exist (create=off)", id, td->ifname);
		goto out_free;
	}
	for (unsigned int i = 0; i < td->queues; i++) {
		struct tap_queue *tq = &td->q[i];

		rc = tap_attach(td, tq);
		if (rc < 0) {
			VIREO_ERR("%s: attaching queue %u to TAP %s: %s", id, i, td->ifname,
				  strerror(-rc));
			goto out_free;
		}
		tq->rx_scratch = malloc(TAP_MAX_FRAME);
		tq->tx_scratch = malloc(sizeof(struct virtio_net_hdr) + TAP_MAX_FRAME);
		if (!tq->rx_scratch || !tq->tx_scratch) {
			rc = -ENOMEM;
			goto out_free;
		}
	}
	/* Every queue waits detached until the core starts its pair (queue_start). */
	for (unsigned int i = 0; i < td->queues; i++) {
		rc = tap_set_queue(td, &td->q[i], false);
		if (rc < 0) {
			VIREO_ERR("%s: detaching queue %u of TAP %s: %s", id, i, td->ifname,
				  strerror(-rc));
			goto out_free;
		}
	}
	memset(&ifr, 0, sizeof(ifr));
	if (td->mtu) {
		ifr.ifr_mtu = (int)td->mtu;
		rc = tap_if_ioctl(td->ifname, SIOCSIFMTU, &ifr);
	} else {
		rc = tap_if_ioctl(td->ifname, SIOCGIFMTU, &ifr);
		td->mtu = rc == 0 && ifr.ifr_mtu > 0 ? (unsigned int)ifr.ifr_mtu : TAP_DEFAULT_MTU;
	}
	if (rc < 0) {
		VIREO_ERR("%s: MTU of %s: %s", id, td->ifname, strerror(-rc));
		goto out_free;
	}
	vireo_net_set_priv(net, td);
	VIREO_INFO("%s: TAP %s, %u queue pair(s), MTU %u, offload %s", id, td->ifname, td->queues,
		   td->mtu, td->vnet_hdr ? "on" : "off");
	return 0;

out_free:
	tap_free(td);
	return rc;
}

static void tap_close(struct vireo_net *net)
{
	tap_free(vireo_net_priv(net));
	vireo_net_set_priv(net, NULL);
}

static int tap_get_info(struct vireo_net *net, struct vireo_net_info *info)
{
	const struct tap_dev *td = vireo_net_priv(net);

	memcpy(info->mac, td->mac, sizeof(info->mac));
	info->offloads = td->vnet_hdr ? TAP_OFFLOADS : 0;
	info->mtu = (uint16_t)td->mtu;
	info->min_mtu = 68;
	info->max_mtu = td->mtu > TAP_MAX_MTU ? (uint16_t)td->mtu : TAP_MAX_MTU;
	info->max_queue_pairs = (uint16_t)td->queues;
	info->queue_size = TAP_QUEUE_SIZE;
	return 0;
}

static int tap_set_mtu(struct vireo_net *net, unsigned int mtu)
{
	struct tap_dev *td = vireo_net_priv(net);
	struct ifreq ifr;
	int rc;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_mtu = (int)mtu;
	rc = tap_if_ioctl(td->ifname, SIOCSIFMTU, &ifr);
	if (rc == 0)
		td->mtu = mtu;
	return rc;
}

/* The fd is readable: pause the watch until a burst drains it, and tell the core. */
static void tap_on_readable(void *arg, int fd, uint32_t events)
{
	struct tap_queue *tq = arg;

	(void)fd;
	(void)events;
	vireo_watch_set_events(tq->watch, 0);
	vireo_net_rx_ready(tq->dev->net, tq->index);
}

static int tap_queue_start(struct vireo_net *net, unsigned int queue)
{
	struct tap_dev *td = vireo_net_priv(net);
	struct tap_queue *tq = &td->q[queue];
	struct vireo_loop *loop = vireo_net_queue_loop(net, queue);

	int rc;

	if (!loop)
		return -EINVAL;
	rc = tap_set_queue(td, tq, true);
	if (rc < 0) {
		VIREO_ERR("%s: attaching queue %u of TAP %s: %s", vireo_net_id(net), queue,
			  td->ifname, strerror(-rc));
		return rc;
	}
	rc = vireo_loop_watch_fd(loop, tq->fd, VIREO_POLL_IN, tap_on_readable, tq, &tq->watch);
	if (rc < 0)
		tap_set_queue(td, tq, false);
	return rc;
}

static void tap_queue_stop(struct vireo_net *net, unsigned int queue)
{
	struct tap_dev *td = vireo_net_priv(net);

	int rc;

	vireo_watch_remove(td->q[queue].watch);
	td->q[queue].watch = NULL;
	/* Frames queued for the pair are dropped with it; new ones go to running pairs. */
	rc = tap_set_queue(td, &td->q[queue], false);
	if (rc < 0)
		VIREO_WARN("%s: detaching queue %u of TAP %s: %s", vireo_net_id(net), queue,
			   td->ifname, strerror(-rc));
}

/* Copies a frame from @src into an iovec list that is known to hold it. */
static void tap_scatter(const uint8_t *src, size_t len, const struct iovec *iov, unsigned int n)
{
	for (unsigned int i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(iov[i].iov_base, src, l);
		src += l;
		len -= l;
	}
}

/* The kernel's header of a received frame as @p's metadata; false if we cannot pass it. */
static bool tap_hdr_to_pkt(const struct virtio_net_hdr *h, struct vireo_pkt *p)
{
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		p->flags |= VIREO_PKT_F_NEEDS_CSUM;
		p->csum_start = h->csum_start;
		p->csum_offset = h->csum_offset;
	} else if (h->flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		p->flags |= VIREO_PKT_F_CSUM_VALID;
	}
	switch (h->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return true;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		p->gso_type = VIREO_PKT_GSO_TCPV4;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		p->gso_type = VIREO_PKT_GSO_TCPV6;
		break;
	default: /* UDP or ECN: TUNSETOFFLOAD did not ask for them */
		return false;
	}
	p->gso_size = h->gso_size;
	p->hdr_len = h->hdr_len;
	return true;
}

/*
 * Reads one frame into @p: the header (offload=on) to the stack, the frame straight
 * into its buffer, with the scratch buffer behind it to catch a frame that would not
 * fit (then dropped). Returns the frame's length, 0 if it was dropped, or a negative
 * errno (-EAGAIN: drained).
 */
static ssize_t tap_read_one(struct tap_queue *tq, struct vireo_pkt *p)
{
	struct virtio_net_hdr h = { 0 };
	size_t hdr = tq->dev->vnet_hdr ? sizeof(h) : 0;
	unsigned int k = 0;
	ssize_t n;

	if (p->iovcnt + TAP_HDR_IOVS + TAP_SCRATCH_IOVS <= IOV_MAX) {
		if (hdr)
			tq->rx_iov[k++] = (struct iovec){ .iov_base = &h, .iov_len = hdr };
		memcpy(tq->rx_iov + k, p->iov, p->iovcnt * sizeof(*p->iov));
		k += p->iovcnt;
		tq->rx_iov[k].iov_base = tq->rx_scratch;
		tq->rx_iov[k].iov_len = TAP_MAX_FRAME;
		n = readv(tq->fd, tq->rx_iov, (int)k + TAP_SCRATCH_IOVS);
		if (n < 0)
			return -errno;
		n -= (ssize_t)hdr;
	} else {
		tq->rx_iov[0] = (struct iovec){ .iov_base = &h, .iov_len = hdr };
		tq->rx_iov[1] =
			(struct iovec){ .iov_base = tq->rx_scratch, .iov_len = TAP_MAX_FRAME };
		n = readv(tq->fd, tq->rx_iov, 2);
		if (n < 0)
			return -errno;
		n -= (ssize_t)hdr;
		if (n > 0 && (size_t)n <= p->len)
			tap_scatter(tq->rx_scratch, (size_t)n, p->iov, p->iovcnt);
	}
	if (n <= 0 || (size_t)n > p->len || (hdr && !tap_hdr_to_pkt(&h, p))) {
		/* A runt, one too large for the buffer, or metadata we cannot pass on. */
		atomic_fetch_add(&tq->dev->rx_dropped, 1);
		p->flags = 0;
		p->gso_type = VIREO_PKT_GSO_NONE;
		return 0;
	}
	return n;
}

static int tap_rx_burst(struct vireo_net *net, unsigned int queue, struct vireo_pkt *const *pkts,
			unsigned int n)
{
	struct tap_dev *td = vireo_net_priv(net);
	struct tap_queue *tq = &td->q[queue];
	unsigned int got = 0;

	while (got < n) {
		ssize_t len = tap_read_one(tq, pkts[got]);

		if (len == -EINTR || len == 0)
			continue;
		if (len < 0) {
			if (len != -EAGAIN) {
				atomic_fetch_add(&td->rx_errors, 1);
				VIREO_WARN("%s: read from %s: %s", vireo_net_id(net), td->ifname,
					   strerror((int)-len));
			}
			/* Drained: wake us when the next frame arrives. */
			vireo_watch_set_events(tq->watch, VIREO_POLL_IN);
			break;
		}
		pkts[got]->len = (uint32_t)len;
		atomic_fetch_add(&td->rx_packets, 1);
		atomic_fetch_add(&td->rx_bytes, (uint64_t)len);
		got++;
	}
	return (int)got;
}

/* @p's offload request as the header the kernel reads before the frame. */
static void tap_pkt_to_hdr(const struct vireo_pkt *p, struct virtio_net_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (p->flags & VIREO_PKT_F_NEEDS_CSUM) {
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = p->csum_start;
		h->csum_offset = p->csum_offset;
	}
	if (p->gso_type == VIREO_PKT_GSO_TCPV4 || p->gso_type == VIREO_PKT_GSO_TCPV6) {
		h->gso_type = p->gso_type == VIREO_PKT_GSO_TCPV4 ? VIRTIO_NET_HDR_GSO_TCPV4
								 : VIRTIO_NET_HDR_GSO_TCPV6;
		h->gso_size = p->gso_size;
		h->hdr_len = p->hdr_len;
	}
}

static int tap_tx_burst(struct vireo_net *net, unsigned int queue, struct vireo_pkt *const *pkts,
			unsigned int n)
{
	struct tap_dev *td = vireo_net_priv(net);
	struct tap_queue *tq = &td->q[queue];

	for (unsigned int i = 0; i < n; i++) {
		const struct vireo_pkt *p = pkts[i];
		struct virtio_net_hdr h;
		size_t hdr = td->vnet_hdr ? sizeof(h) : 0;
		ssize_t w;

		/* Over the MTU: the kernel would drop it past the TAP, where nobody counts it. */
		if (p->gso_type == VIREO_PKT_GSO_NONE && p->len > td->mtu + 18) {
			atomic_fetch_add(&td->tx_dropped, 1);
			continue;
		}
		if (hdr)
			tap_pkt_to_hdr(p, &h);
		if (p->iovcnt + TAP_HDR_IOVS <= IOV_MAX) {
			unsigned int k = 0;

			if (hdr)
				tq->tx_iov[k++] = (struct iovec){ .iov_base = &h, .iov_len = hdr };
			memcpy(tq->tx_iov + k, p->iov, p->iovcnt * sizeof(*p->iov));
			w = writev(tq->fd, tq->tx_iov, (int)(k + p->iovcnt));
		} else {
			size_t off = hdr;

			memcpy(tq->tx_scratch, &h, hdr);
			for (unsigned int k = 0; k < p->iovcnt; k++) {
				memcpy(tq->tx_scratch + off, p->iov[k].iov_base, p->iov[k].iov_len);
				off += p->iov[k].iov_len;
			}
			w = write(tq->fd, tq->tx_scratch, off);
		}
		/* A TAP does not push back: a frame it will not take is dropped. */
		if (w < 0) {
			atomic_fetch_add(&td->tx_dropped, 1);
			if (errno != EAGAIN && errno != ENOBUFS)
				atomic_fetch_add(&td->tx_errors, 1);
			continue;
		}
		atomic_fetch_add(&td->tx_packets, 1);
		atomic_fetch_add(&td->tx_bytes, p->len);
	}
	return (int)n;
}

static int tap_get_stats(struct vireo_net *net, struct vireo_net_stats *s)
{
	struct tap_dev *td = vireo_net_priv(net);

	s->rx_packets = atomic_load(&td->rx_packets);
	s->rx_bytes = atomic_load(&td->rx_bytes);
	s->rx_dropped = atomic_load(&td->rx_dropped);
	s->rx_errors = atomic_load(&td->rx_errors);
	s->tx_packets = atomic_load(&td->tx_packets);
	s->tx_bytes = atomic_load(&td->tx_bytes);
	s->tx_dropped = atomic_load(&td->tx_dropped);
	s->tx_errors = atomic_load(&td->tx_errors);
	return 0;
}

/*
 * What the kernel may hand us on read: partial checksums and TCP up to 64 KiB only if
 * the guest takes them, so a guest that refused GUEST_TSO gets MTU-sized frames from
 * the kernel's own segmentation instead of coalesced ones the core would drop.
 */
static int tap_set_offloads(struct vireo_net *net, uint32_t offloads)
{
	struct tap_dev *td = vireo_net_priv(net);
	unsigned long tun = 0;

	if (!td->vnet_hdr)
		return 0;
	if (offloads & VIREO_NET_OFF_RX_CSUM) {
		tun |= TUN_F_CSUM;
		if (offloads & VIREO_NET_OFF_RX_GSO)
			tun |= TUN_F_TSO4 | TUN_F_TSO6;
	}
	for (unsigned int i = 0; i < td->queues; i++) {
		if (td->q[i].fd >= 0 && ioctl(td->q[i].fd, TUNSETOFFLOAD, tun) < 0) {
			int rc = -errno;

			VIREO_ERR("%s: TUNSETOFFLOAD %#lx: %s", vireo_net_id(net), tun,
				  strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static const struct vireo_net_ops tap_ops = {
	.struct_size = sizeof(struct vireo_net_ops),
	.open = tap_open,		  /* required */
	.get_info = tap_get_info,	  /* required */
	.tx_burst = tap_tx_burst,	  /* required; the pair's transmit thread */
	.rx_burst = tap_rx_burst,	  /* required; the pair's receive thread */
	.close = tap_close,		  /* optional */
	.set_mtu = tap_set_mtu,		  /* optional */
	.queue_start = tap_queue_start,	  /* optional: watch the pair's fd */
	.queue_stop = tap_queue_stop,	  /* optional */
	.get_stats = tap_get_stats,	  /* optional */
	.set_offloads = tap_set_offloads, /* optional: receive offloads the guest takes */
};

static const struct vireo_match tap_match[] = {
	{ VIREO_MATCH_NAME("tap") }, /* `driver=tap` */
	{ 0 }			     /* sentinel */
};

VIREO_DRIVER(.name = "net-tap", .version = "0.1.0", .license = "MIT",
	     .description = "Linux TAP interface (readv/writev on guest buffers, offloads)",
	     .dev_class = VIREO_CLASS_NET, .ops.net = &tap_ops, .match = tap_match,
	     .params = tap_params);
