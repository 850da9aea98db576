// SPDX-License-Identifier: MIT
/*
 * Drives a real USB NIC through <vireo/usb.h> alone, as a USB driver would: QEMU's
 * usb-net (CDC Ethernet, 0525:a4a2) behind an emulated xHCI, in a lab guest on the
 * guest's kernel (tests/integration/usb/usb-net.sh runs it). Only the loop's owner
 * side (making and running a core loop: what vireod does for a driver) comes from
 * the core's internal.h.
 *
 *   usb_probe net MAC      descriptors, control transfers, detach cdc_ether, ARP and
 *                          ICMP to the slirp peer 10.0.2.2 over async bulk transfers
 *   usb_probe hotplug DIR  wait for a second usb-net to arrive (DIR/ready, then
 *                          DIR/armed once a transfer is in flight to it) and leave
 *
 * Prints one "ok: ..." line per check; the first failed check prints "FAIL: ..." and
 * exits 1.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <vireo/usb.h>

#include "lib/internal.h"

#define NET_VID		 0x0525
#define NET_PID		 0xa4a2
#define CDC_CONFIG	 1 /* bConfigurationValue of the CDC Ethernet configuration */
#define CDC_CONFIG_INDEX 1 /* its position: RNDIS (value 2) comes first */
#define RX_XFERS	 4 /* bulk IN transfers kept in flight */
#define RX_LEN		 2048
#define TIMEOUT_MS	 5000

static const uint8_t my_ip[4] = { 10, 0, 2, 15 };
static const uint8_t peer_ip[4] = { 10, 0, 2, 2 };

static struct vireo_loop *g_loop;

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	exit(1);
}

#define CHECK(cond, ...)                   \
	do {                               \
		if (!(cond))               \
			fail(__VA_ARGS__); \
	} while (0)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs the loop until *flag is set; fails after @secs seconds. */
static void wait_for(const bool *flag, double secs, const char *what)
{
	double end = now_s() + secs;

	while (!*flag) {
		CHECK(now_s() < end, "timed out waiting for %s", what);
		CHECK(vireo_core_loop_run_once(g_loop, 100) >= 0, "loop failed");
	}
}

/* ---- one control transfer at a time, asynchronously ---- */

struct ctl {
	bool done;
	int status;
	uint32_t actual;
};

static void ctl_done(void *arg, struct vireo_usb_xfer *x, int status, uint32_t actual)
{
	struct ctl *c = arg;

	(void)x;
	c->done = true;
	c->status = status;
	c->actual = actual;
}

/* An async control transfer, waited for on the loop; returns its status. */
static int control(struct vireo_usb_dev *dev, uint8_t rt, uint8_t req, uint16_t value,
		   uint16_t index, void *data, uint16_t len, uint32_t *actual)
{
	struct vireo_usb_xfer *x;
	struct ctl c = { 0 };
	int rc;

	CHECK(vireo_usb_xfer_new(dev, ctl_done, &c, &x) == 0, "xfer_new");
	rc = vireo_usb_submit_control(x, rt, req, value, index, data, len, TIMEOUT_MS);
	CHECK(rc == 0, "submit_control(req %u, value %#x): %d", req, value, rc);
	wait_for(&c.done, 10, "a control transfer");
	vireo_usb_xfer_free(x);
	if (actual)
		*actual = c.actual;
	return c.status;
}

static int get_descriptor(struct vireo_usb_dev *dev, uint8_t type, uint8_t index, uint16_t lang,
			  void *buf, uint16_t len, uint32_t *actual)
{
	return control(dev, VIREO_USB_DIR_IN | VIREO_USB_TYPE_STANDARD | VIREO_USB_RECIP_DEVICE,
		       VIREO_USB_REQ_GET_DESCRIPTOR, (uint16_t)(type << 8 | index), lang, buf, len,
		       actual);
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* String descriptor @index as ASCII, read with async control transfers. */
static void read_string(struct vireo_usb_dev *dev, uint8_t index, char *out, size_t outlen)
{
	uint8_t buf[255];
	uint32_t n;
	uint16_t lang;
	size_t k = 0;

	CHECK(get_descriptor(dev, VIREO_USB_DT_STRING, 0, 0, buf, sizeof(buf), &n) == 0 && n >= 4,
	      "string descriptor 0 (languages)");
	lang = le16(buf + 2);
	CHECK(get_descriptor(dev, VIREO_USB_DT_STRING, index, lang, buf, sizeof(buf), &n) == 0,
	      "string descriptor %u", index);
	CHECK(n >= 2 && buf[0] <= n && buf[1] == VIREO_USB_DT_STRING, "string %u malformed", index);
	for (size_t i = 2; i + 1 < buf[0] && k + 1 < outlen; i += 2)
		out[k++] = buf[i + 1] || buf[i] > 0x7e ? '?' : (char)buf[i];
	out[k] = '\0';
}

/* ---- the net check ---- */

struct rx {
	struct vireo_usb_xfer *x;
	uint8_t buf[RX_LEN];
};

static struct rx g_rx[RX_XFERS];
static uint8_t g_mac[6];      /* ours: the MAC QEMU gave the device */
static uint8_t g_peer_mac[6]; /* slirp's, from its ARP reply */
static bool g_arp_seen, g_echo_seen;
static unsigned int g_rx_frames, g_rx_zlps, g_rx_cancelled, g_rx_other;
static int g_rx_error;

static uint16_t ip_csum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void rx_frame(const uint8_t *f, uint32_t len)
{
	uint16_t type;

	g_rx_frames++;
	if (len < 14)
		return;
	type = (uint16_t)(f[12] << 8 | f[13]);
	if (type == 0x0806 && len >= 42 && le16(f + 20) == 0x0200 /* op 2, big-endian */ &&
	    memcmp(f + 28, peer_ip, 4) == 0 && memcmp(f + 38, my_ip, 4) == 0 &&
	    memcmp(f + 32, g_mac, 6) == 0) {
		CHECK(memcmp(f + 22, f + 6, 6) == 0, "ARP sender MAC differs from the frame's");
		CHECK(memcmp(f, g_mac, 6) == 0, "ARP reply not addressed to us");
		memcpy(g_peer_mac, f + 22, 6);
		g_arp_seen = true;
		return;
	}
	if (type == 0x0800 && len >= 14 + 20 + 16 && f[14 + 9] == 1 /* ICMP */ &&
	    memcmp(f + 14 + 12, peer_ip, 4) == 0 && memcmp(f + 14 + 16, my_ip, 4) == 0) {
		const uint8_t *icmp = f + 14 + (f[14] & 0xf) * 4;

		CHECK(icmp + 16 <= f + len, "short ICMP reply");
		if (icmp[0] == 0 && icmp[4] == 0x12 && icmp[5] == 0x34 && icmp[7] == 1 &&
		    memcmp(icmp + 8, "vireousb", 8) == 0) {
			CHECK(ip_csum(icmp, (size_t)(f + len - icmp)) == 0 ||
				      ip_csum(icmp, 16) == 0,
			      "ICMP reply checksum");
			g_echo_seen = true;
			return;
		}
	}
	g_rx_other++;
}

static void rx_done(void *arg, struct vireo_usb_xfer *x, int status, uint32_t actual)
{
	struct rx *r = arg;
	int rc;

	if (status == -ECANCELED) {
		g_rx_cancelled++;
		return;
	}
	if (status < 0) {
		g_rx_error = status;
		return;
	}
	if (actual == 0)
		g_rx_zlps++; /* the end of a frame that filled whole packets */
	else
		rx_frame(r->buf, actual);
	/* Straight back into flight, from the callback, as a NIC driver does. */
	rc = vireo_usb_submit_bulk(x, 0x82, r->buf, RX_LEN, 0, 0);
	if (rc < 0)
		g_rx_error = rc;
}

struct tx {
	bool done;
	int status;
	uint32_t actual;
};

static void tx_done(void *arg, struct vireo_usb_xfer *x, int status, uint32_t actual)
{
	struct tx *t = arg;

	(void)x;
	t->status = status;
	t->actual = actual;
	t->done = true;
}

static void send_frame(struct vireo_usb_dev *dev, const uint8_t *frame, uint32_t len)
{
	struct vireo_usb_xfer *x;
	struct tx t = { 0 };
	uint8_t buf[128];

	memcpy(buf, frame, len);
	CHECK(vireo_usb_xfer_new(dev, tx_done, &t, &x) == 0, "tx xfer_new");
	CHECK(vireo_usb_submit_bulk(x, 0x02, buf, len, VIREO_USB_XFER_ZERO_PACKET, TIMEOUT_MS) == 0,
	      "submit bulk OUT");
	wait_for(&t.done, 10, "bulk OUT completion");
	CHECK(t.status == 0 && t.actual == len, "bulk OUT: status %d, %u of %u bytes", t.status,
	      t.actual, len);
	vireo_usb_xfer_free(x);
}

static void check_descriptors(struct vireo_usb_dev *dev)
{
	struct vireo_usb_dev_info di = { .struct_size = sizeof(di) };
	struct vireo_usb_config_info ci = { .struct_size = sizeof(ci) };
	struct vireo_usb_interface_info ii = { .struct_size = sizeof(ii) };
	struct vireo_usb_endpoint_info ei = { .struct_size = sizeof(ei) };

	CHECK(vireo_usb_dev_info(dev, &di) == 0 && di.struct_size == sizeof(di), "dev_info");
	CHECK(di.vid == NET_VID && di.pid == NET_PID, "ids %04x:%04x", di.vid, di.pid);
	CHECK(di.bcd_usb == 0x0200 && di.dev_class == 2 && di.max_packet0 == 64 &&
		      di.num_configs == 2 && di.i_serial != 0,
	      "device descriptor: bcdUSB %#x class %u ep0 %u configs %u", di.bcd_usb, di.dev_class,
	      di.max_packet0, di.num_configs);
	CHECK(di.bus >= 1 && di.address >= 1 && di.nports >= 1, "bus %u address %u ports %u",
	      di.bus, di.address, di.nports);
	printf("ok: device %04x:%04x at bus %u address %u port %u, speed %u\n", di.vid, di.pid,
	       di.bus, di.address, di.ports[0], di.speed);

	CHECK(vireo_usb_config_info(dev, 0, &ci) == 0 && ci.value == 2 && ci.num_interfaces == 2,
	      "config 0 (RNDIS): value %u", ci.value);
	CHECK(vireo_usb_config_info(dev, CDC_CONFIG_INDEX, &ci) == 0 && ci.value == CDC_CONFIG &&
		      ci.num_interfaces == 2 && ci.max_power_ma == 100,
	      "config 1 (CDC): value %u, %u interfaces, %u mA", ci.value, ci.num_interfaces,
	      ci.max_power_ma);
	CHECK(vireo_usb_config_info(dev, 2, &ci) == -ENOENT, "config 2 should not exist");
	CHECK(vireo_usb_interface_info(dev, CDC_CONFIG_INDEX, 0, 0, &ii) == 0 &&
		      ii.iface_class == 2 && ii.iface_subclass == 6 && ii.num_endpoints == 1 &&
		      ii.num_alts == 1,
	      "CDC control interface: class %u/%u", ii.iface_class, ii.iface_subclass);
	CHECK(vireo_usb_interface_info(dev, CDC_CONFIG_INDEX, 1, 1, &ii) == 0 &&
		      ii.iface_class == 0x0a && ii.num_endpoints == 2 && ii.num_alts == 2,
	      "CDC data interface, setting 1");
	CHECK(vireo_usb_interface_info(dev, CDC_CONFIG_INDEX, 1, 2, &ii) == -ENOENT,
	      "setting 2 should not exist");
	CHECK(vireo_usb_find_endpoint(dev, CDC_CONFIG_INDEX, 1, 1, VIREO_USB_EP_BULK,
				      VIREO_USB_DIR_IN, &ei) == 0 &&
		      ei.address == 0x82 && ei.max_packet == 64 && ei.type == VIREO_USB_EP_BULK,
	      "bulk IN endpoint");
	CHECK(vireo_usb_find_endpoint(dev, CDC_CONFIG_INDEX, 1, 1, VIREO_USB_EP_BULK,
				      VIREO_USB_DIR_OUT, &ei) == 0 &&
		      ei.address == 0x02,
	      "bulk OUT endpoint");
	CHECK(vireo_usb_find_endpoint(dev, CDC_CONFIG_INDEX, 0, 0, VIREO_USB_EP_INTERRUPT,
				      VIREO_USB_DIR_IN, &ei) == 0 &&
		      ei.address == 0x81 && ei.max_packet == 16 && ei.interval == 32,
	      "interrupt IN endpoint");
	CHECK(vireo_usb_find_endpoint(dev, CDC_CONFIG_INDEX, 1, 0, VIREO_USB_EP_BULK,
				      VIREO_USB_DIR_IN, &ei) == -ENOENT,
	      "setting 0 of the data interface has no endpoints");
	CHECK(vireo_usb_endpoint_info(dev, CDC_CONFIG_INDEX, 1, 1, 1, &ei) == 0 &&
		      (ei.address == 0x02 || ei.address == 0x82),
	      "endpoint_info");
	printf("ok: descriptors: CDC config %u, bulk IN 0x82 / OUT 0x02 (64 B), interrupt "
	       "IN 0x81\n",
	       CDC_CONFIG);
}

/* The MAC string through the CDC Ethernet functional descriptor (CDC ECM 1.2 §5.4). */
static void check_control(struct vireo_usb_dev *dev, const char *want_mac)
{
	uint8_t dd[18], cfg[512];
	char mac[32], mac2[32];
	uint32_t n;
	uint16_t total;
	int imac = -1, rc;

	CHECK(get_descriptor(dev, VIREO_USB_DT_DEVICE, 0, 0, dd, sizeof(dd), &n) == 0 && n == 18,
	      "GET_DESCRIPTOR(device)");
	CHECK(dd[0] == 18 && dd[1] == VIREO_USB_DT_DEVICE && le16(dd + 8) == NET_VID &&
		      le16(dd + 10) == NET_PID,
	      "device descriptor bytes");
	CHECK(get_descriptor(dev, VIREO_USB_DT_CONFIG, CDC_CONFIG_INDEX, 0, cfg, 9, &n) == 0 &&
		      n == 9,
	      "GET_DESCRIPTOR(config, 9 bytes)");
	total = le16(cfg + 2);
	CHECK(total > 9 && total <= sizeof(cfg), "wTotalLength %u", total);
	CHECK(get_descriptor(dev, VIREO_USB_DT_CONFIG, CDC_CONFIG_INDEX, 0, cfg, total, &n) == 0 &&
		      n == total,
	      "GET_DESCRIPTOR(config, %u bytes)", total);
	for (uint32_t off = 0; off + 2 <= n && cfg[off] >= 2; off += cfg[off]) {
		if (cfg[off + 1] == VIREO_USB_DT_CS_INTERFACE && cfg[off] >= 4 &&
		    cfg[off + 2] == 0x0f && off + 4 <= n)
			imac = cfg[off + 3];
	}
	CHECK(imac > 0, "no CDC Ethernet functional descriptor");
	read_string(dev, (uint8_t)imac, mac, sizeof(mac));
	/* 12 hex digits; QEMU before 2.x showed the first octet as 0x40, later ones as is. */
	CHECK(strlen(want_mac) == 17, "bad MAC argument");
	snprintf(mac2, sizeof(mac2), "%c%c%c%c%c%c%c%c%c%c%c%c", want_mac[0], want_mac[1],
		 want_mac[3], want_mac[4], want_mac[6], want_mac[7], want_mac[9], want_mac[10],
		 want_mac[12], want_mac[13], want_mac[15], want_mac[16]);
	CHECK(strcasecmp(mac, mac2) == 0 ||
		      (strcasecmp(mac + 2, mac2 + 2) == 0 && strncmp(mac, "40", 2) == 0),
	      "iMACAddress string '%s', expected '%s'", mac, mac2);
	CHECK(vireo_usb_get_string(dev, (uint8_t)imac, mac2, sizeof(mac2)) == 12 &&
		      strcmp(mac, mac2) == 0,
	      "vireo_usb_get_string: '%s'", mac2);
	printf("ok: control: device and config descriptors, iMACAddress %d = '%s'\n", imac, mac);

	rc = vireo_usb_control_sync(dev, VIREO_USB_DIR_IN | VIREO_USB_RECIP_DEVICE,
				    VIREO_USB_REQ_GET_CONFIGURATION, 0, 0, cfg, 1, TIMEOUT_MS);
	CHECK(rc == 1 && cfg[0] == CDC_CONFIG, "sync GET_CONFIGURATION: %d, %u", rc, cfg[0]);
	printf("ok: control: sync GET_CONFIGURATION = %u\n", cfg[0]);
}

static void parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];

	CHECK(sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) == 6,
	      "bad MAC %s", s);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
}

static void build_arp(uint8_t f[42])
{
	static const uint8_t hdr[8] = { 0, 1, 8, 0, 6, 4, 0, 1 }; /* Ethernet/IPv4 request */

	memset(f, 0xff, 6);
	memcpy(f + 6, g_mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	memcpy(f + 14, hdr, 8);
	memcpy(f + 22, g_mac, 6);
	memcpy(f + 28, my_ip, 4);
	memset(f + 32, 0, 6);
	memcpy(f + 38, peer_ip, 4);
}

/* 50 bytes: below the 64-byte packet, so QEMU's CDC takes it as a whole frame. */
static void build_echo(uint8_t f[50])
{
	uint8_t *ip = f + 14, *icmp = f + 34;
	uint16_t c;

	memcpy(f, g_peer_mac, 6);
	memcpy(f + 6, g_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[3] = 36; /* total length */
	ip[8] = 64; /* TTL */
	ip[9] = 1;  /* ICMP */
	memcpy(ip + 12, my_ip, 4);
	memcpy(ip + 16, peer_ip, 4);
	c = ip_csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	memset(icmp, 0, 16);
	icmp[0] = 8; /* echo request */
	icmp[4] = 0x12;
	icmp[5] = 0x34; /* id */
	icmp[7] = 1;	/* sequence */
	memcpy(icmp + 8, "vireousb", 8);
	c = ip_csum(icmp, 16);
	icmp[2] = (uint8_t)(c >> 8);
	icmp[3] = (uint8_t)c;
}

static uint32_t int_actual;

static void int_done(void *arg, struct vireo_usb_xfer *x, int status, uint32_t actual)
{
	int *st = arg;

	(void)x;
	int_actual = actual;
	*st = status;
}

static int run_net(struct vireo_usb *usb, const char *mac_text)
{
	struct vireo_usb_select sel = { .struct_size = sizeof(sel),
					.vid = NET_VID,
					.pid = NET_PID };
	struct vireo_usb_dev_info di = { .struct_size = sizeof(di) };
	struct vireo_usb_dev *dev, *dev2;
	struct vireo_usb_xfer *intx;
	uint8_t frame[64], intbuf[16];
	char serial[128];
	int rc, int_status = 1;

	parse_mac(mac_text, g_mac);
	rc = vireo_usb_open(usb, &sel, &dev);
	CHECK(rc == 0, "open %04x:%04x: %d", NET_VID, NET_PID, rc);
	check_descriptors(dev);

	/* Picking one of several: by serial number, by bus and port path; refusals. */
	CHECK(vireo_usb_dev_info(dev, &di) == 0, "dev_info");
	CHECK(vireo_usb_get_string(dev, di.i_serial, serial, sizeof(serial)) > 0, "serial");
	sel.serial = serial;
	CHECK(vireo_usb_open(usb, &sel, &dev2) == 0, "open by serial '%s'", serial);
	vireo_usb_close(dev2);
	sel.serial = "no-such-serial";
	CHECK(vireo_usb_open(usb, &sel, &dev2) == -ENOENT, "open by a wrong serial");
	sel.serial = NULL;
	sel.bus = di.bus;
	sel.nports = di.nports;
	memcpy(sel.ports, di.ports, di.nports);
	CHECK(vireo_usb_open(usb, &sel, &dev2) == 0, "open by bus and port path");
	vireo_usb_close(dev2);
	sel.ports[0]++;
	CHECK(vireo_usb_open(usb, &sel, &dev2) == -ENOENT, "open by a wrong port");
	CHECK(vireo_usb_open_addr(usb, di.bus, di.address, &dev2) == 0, "open_addr");
	vireo_usb_close(dev2);
	sel.vid = 0;
	CHECK(vireo_usb_open(usb, &sel, &dev2) == -EINVAL, "vid 0 must be refused");
	printf("ok: open by vid:pid, serial '%s', bus/port, bus/address; wrong ones refused\n",
	       serial);

	check_control(dev, mac_text);

	/* cdc_ether holds both interfaces; take them as a NIC driver would. */
	rc = vireo_usb_detach_kernel_driver(dev, 0);
	CHECK(rc >= 0, "detach interface 0: %d", rc);
	printf("ok: detach interface 0: %d (1: a kernel driver was bound)\n", rc);
	rc = vireo_usb_detach_kernel_driver(dev, 1);
	CHECK(rc >= 0, "detach interface 1: %d", rc);
	CHECK(vireo_usb_detach_kernel_driver(dev, 9) == -ENOENT, "detach a missing interface");
	CHECK(vireo_usb_get_configuration(dev) == CDC_CONFIG, "active configuration");
	rc = vireo_usb_set_configuration(dev, CDC_CONFIG);
	CHECK(rc == 0, "set_configuration(%d): %d", CDC_CONFIG, rc);
	CHECK(vireo_usb_claim_interface(dev, 0) == 0, "claim interface 0");
	CHECK(vireo_usb_claim_interface(dev, 1) == 0, "claim interface 1");
	CHECK(vireo_usb_set_configuration(dev, CDC_CONFIG) == -EBUSY,
	      "set_configuration with claimed interfaces must be -EBUSY");
	CHECK(vireo_usb_set_interface(dev, 1, 7) == -ENOENT, "a missing setting");
	rc = vireo_usb_set_interface(dev, 1, 1);
	CHECK(rc == 0, "SET_INTERFACE(1, 1): %d", rc);
	printf("ok: configuration %d, interfaces 0 and 1 claimed, data interface on\n", CDC_CONFIG);
	/* An RNDIS request to a CDC function: QEMU stalls it. */
	rc = control(dev, VIREO_USB_DIR_OUT | VIREO_USB_TYPE_CLASS | VIREO_USB_RECIP_INTERFACE, 0,
		     0, 0, NULL, 0, NULL);
	CHECK(rc == -EPIPE, "a refused request should stall (-EPIPE), got %d", rc);
	printf("ok: control: a stalled request completes with -EPIPE\n");

	/* Link status: CDC's notification endpoint stays silent (NAK) until cancelled. */
	CHECK(vireo_usb_xfer_new(dev, int_done, &int_status, &intx) == 0, "int xfer_new");
	CHECK(vireo_usb_submit_interrupt(intx, 0x81, intbuf, sizeof(intbuf), 0, 0) == 0,
	      "submit interrupt IN");
	CHECK(vireo_usb_submit_interrupt(intx, 0x81, intbuf, sizeof(intbuf), 0, 0) == -EBUSY,
	      "a transfer in flight cannot be submitted again");

	for (int i = 0; i < RX_XFERS; i++) {
		CHECK(vireo_usb_xfer_new(dev, rx_done, &g_rx[i], &g_rx[i].x) == 0, "rx xfer_new");
		CHECK(vireo_usb_submit_bulk(g_rx[i].x, 0x82, g_rx[i].buf, RX_LEN, 0, 0) == 0,
		      "submit bulk IN");
	}
	build_arp(frame);
	send_frame(dev, frame, 42);
	wait_for(&g_arp_seen, 15, "the ARP reply from 10.0.2.2");
	CHECK(!g_rx_error, "bulk IN failed: %d", g_rx_error);
	printf("ok: ARP: 10.0.2.2 is at %02x:%02x:%02x:%02x:%02x:%02x (%u IN transfers in "
	       "flight)\n",
	       g_peer_mac[0], g_peer_mac[1], g_peer_mac[2], g_peer_mac[3], g_peer_mac[4],
	       g_peer_mac[5], RX_XFERS);

	build_echo(frame);
	send_frame(dev, frame, 50);
	wait_for(&g_echo_seen, 15, "the ICMP echo reply from 10.0.2.2");
	CHECK(!g_rx_error, "bulk IN failed: %d", g_rx_error);
	printf("ok: ICMP echo round trip to 10.0.2.2 (%u frames, %u zero-length, %u other)\n",
	       g_rx_frames, g_rx_zlps, g_rx_other);

	/* QEMU answers the status endpoint's poll with an 8-byte notification. */
	for (double end = now_s() + 10; int_status == 1 && now_s() < end;)
		vireo_core_loop_run_once(g_loop, 100);
	CHECK(int_status == 0 && int_actual == 8, "interrupt IN: status %d, %u bytes", int_status,
	      int_actual);
	printf("ok: interrupt IN: an %u-byte notification\n", int_actual);

	/* Cancellation: the receive transfers, idle on a quiet link. */
	CHECK(vireo_usb_xfer_cancel(intx) == -ENOENT, "cancel a completed transfer");
	for (int i = 0; i < RX_XFERS; i++)
		CHECK(vireo_usb_xfer_cancel(g_rx[i].x) == 0, "cancel rx %d", i);
	CHECK(vireo_usb_xfer_cancel(g_rx[0].x) == -ENOENT, "a second cancel");
	for (double end = now_s() + 10; g_rx_cancelled < RX_XFERS && now_s() < end;)
		vireo_core_loop_run_once(g_loop, 100);
	CHECK(g_rx_cancelled == RX_XFERS, "%u of %u IN transfers cancelled", g_rx_cancelled,
	      RX_XFERS);
	printf("ok: cancel: %d bulk IN transfers completed with -ECANCELED\n", RX_XFERS);

	/* One receive transfer left in flight: close must cancel and free it. */
	CHECK(vireo_usb_submit_bulk(g_rx[0].x, 0x82, g_rx[0].buf, RX_LEN, 0, 0) == 0, "resubmit");
	vireo_usb_xfer_free(intx);
	CHECK(vireo_usb_release_interface(dev, 0) == 0, "release interface 0");
	CHECK(vireo_usb_release_interface(dev, 0) == -ENOENT, "release it twice");
	vireo_usb_close(dev);
	printf("ok: closed with a transfer in flight\n");
	return 0;
}

/* ---- the hotplug check ---- */

struct hp_state {
	struct vireo_usb *usb;
	unsigned int arrived, left;
	struct vireo_usb_dev_info last;
	bool have_new;
};

static void hp_cb(void *arg, int event, const struct vireo_usb_dev_info *info)
{
	struct hp_state *s = arg;

	CHECK(info->struct_size >= sizeof(*info), "hotplug info struct_size %u", info->struct_size);
	printf("hotplug: %s %04x:%04x bus %u address %u\n",
	       event == VIREO_USB_ARRIVED ? "arrived" : "left", info->vid, info->pid, info->bus,
	       info->address);
	if (event == VIREO_USB_ARRIVED)
		s->arrived++;
	else
		s->left++;
	s->last = *info;
	s->have_new = true;
}

static void touch(const char *dir, const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f, "cannot create %s", path);
	fclose(f);
}

static int run_hotplug(struct vireo_usb *usb, const char *dir)
{
	struct vireo_usb_select sel = { .struct_size = sizeof(sel),
					.vid = NET_VID,
					.pid = NET_PID };
	struct hp_state s = { .usb = usb };
	struct vireo_usb_hotplug *hp;
	struct vireo_usb_dev *dev;
	struct vireo_usb_xfer *x;
	struct ctl c = { 0 };
	uint8_t buf[RX_LEN];
	unsigned int bus, addr;
	int rc;

	rc = vireo_usb_hotplug_register(usb, NET_VID, NET_PID, VIREO_USB_HOTPLUG_ENUMERATE, hp_cb,
					&s, &hp);
	CHECK(rc == 0, "hotplug_register: %d", rc);
	CHECK(vireo_usb_hotplug_register(usb, 0x10000, NET_PID, 0, hp_cb, &s, &hp) == -EINVAL,
	      "a vid out of range");
	wait_for(&s.have_new, 10, "the present usb-net (ENUMERATE)");
	CHECK(s.arrived == 1 && s.left == 0, "enumeration: %u arrivals", s.arrived);
	printf("ok: ENUMERATE reported the usb-net already there\n");
	s.have_new = false;
	touch(dir, "ready");

	wait_for(&s.have_new, 60, "the new usb-net to arrive");
	CHECK(s.arrived == 2 && s.left == 0, "%u arrivals, %u departures", s.arrived, s.left);
	bus = s.last.bus;
	addr = s.last.address;
	printf("ok: arrival of the hot-added usb-net at bus %u address %u\n", bus, addr);
	CHECK(vireo_usb_open(usb, &sel, &dev) == -ENOTUNIQ, "two alike must be -ENOTUNIQ");
	rc = vireo_usb_open_addr(usb, (uint8_t)bus, (uint8_t)addr, &dev);
	CHECK(rc == 0, "open the new device: %d", rc);
	/* The kernel may still be binding cdc_ether; detach is fine either way. */
	CHECK(vireo_usb_detach_kernel_driver(dev, 0) >= 0, "detach 0");
	CHECK(vireo_usb_detach_kernel_driver(dev, 1) >= 0, "detach 1");
	CHECK(vireo_usb_claim_interface(dev, 1) == 0, "claim 1");
	CHECK(vireo_usb_set_interface(dev, 1, 1) == 0, "set interface");
	CHECK(vireo_usb_xfer_new(dev, ctl_done, &c, &x) == 0, "xfer_new");
	CHECK(vireo_usb_submit_bulk(x, 0x82, buf, sizeof(buf), 0, 0) == 0, "submit bulk IN");
	s.have_new = false;
	touch(dir, "armed");
	printf("ok: a bulk IN transfer is in flight to it\n");

	wait_for(&c.done, 60, "the in-flight transfer to end when the device goes");
	CHECK(c.status == -ENODEV, "in-flight transfer: %d, expected -ENODEV", c.status);
	printf("ok: the in-flight transfer completed with -ENODEV\n");
	wait_for(&s.have_new, 30, "the departure");
	CHECK(s.left == 1 && s.last.bus == bus && s.last.address == addr,
	      "departure of %u/%u (left %u)", s.last.bus, s.last.address, s.left);
	printf("ok: departure of bus %u address %u\n", bus, addr);
	rc = vireo_usb_submit_bulk(x, 0x82, buf, sizeof(buf), 0, 0);
	CHECK(rc == -ENODEV, "submit to a gone device: %d", rc);
	CHECK(vireo_usb_set_interface(dev, 1, 0) == -ENODEV, "set_interface on a gone device");
	printf("ok: submissions to the gone device fail with -ENODEV\n");
	vireo_usb_close(dev); /* frees x too */
	vireo_usb_hotplug_remove(hp);
	return 0;
}

int main(int argc, char **argv)
{
	struct vireo_usb *usb;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3 || (strcmp(argv[1], "net") && strcmp(argv[1], "hotplug"))) {
		fprintf(stderr, "usage: usb_probe net MAC | usb_probe hotplug DIR\n");
		return 2;
	}
	CHECK(vireo_core_loop_new(&g_loop) == 0, "loop");
	CHECK(vireo_usb_new(NULL, &usb) == -EINVAL, "vireo_usb_new(NULL)");
	rc = vireo_usb_new(g_loop, &usb);
	CHECK(rc == 0, "vireo_usb_new: %d", rc);
	rc = strcmp(argv[1], "net") == 0 ? run_net(usb, argv[2]) : run_hotplug(usb, argv[2]);
	vireo_usb_free(usb);
	vireo_core_loop_free(g_loop);
	printf("ok: all done\n");
	return rc;
}
