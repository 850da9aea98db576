// SPDX-License-Identifier: GPL-2.0
/*
 * vireo_ptp: a PTP hardware clock (/dev/ptpN, clock_name "vireo_ptp") whose time is
 * the host's CLOCK_REALTIME, read from vireod's time service over vsock
 * (ptp_vsock.c, ddk-docs/time-sync.md). chrony uses it with `refclock PHC /dev/ptpN`,
 * vireo-toolsd with PTP_SYS_OFFSET_EXTENDED.
 *
 * Delay compensation: gettimex64() brackets the whole exchange with the guest's
 * clock (pre before the request, post after the response) and reports the host's
 * reading as is; the reader takes the midpoint of pre and post as the instant the host
 * read its clock, which removes the round trip's mean delay and leaves an error of at
 * most half the round trip. Adding half the round trip here as well would count it
 * twice. Plain readings (clock_gettime, PTP_SYS_OFFSET) get the host's reading too:
 * an instant within the call, as for any PHC.
 *
 * The host's clock is not ours to steer: adjfine, adjtime and settime fail with
 * -EOPNOTSUPP. The guest steers its own clock towards this one.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/module.h>
#include <linux/ptp_clock_kernel.h>

#include "vireo_ptp.h"

static unsigned int cid = 2;
module_param(cid, uint, 0444);
MODULE_PARM_DESC(cid, "the host's vsock CID (default 2)");
static unsigned int port = 5601;
module_param(port, uint, 0444);
MODULE_PARM_DESC(port, "the port of vireod's time service (default 5601)");
static unsigned int timeout_ms = 500;
module_param(timeout_ms, uint, 0444);
MODULE_PARM_DESC(timeout_ms, "bound on each send, receive and connect, in ms (default 500)");

static struct vireo_ptp_chan vireo_chan;
static struct ptp_clock *vireo_clock;

static int vireo_ptp_gettimex(struct ptp_clock_info *info, struct timespec64 *ts,
			      struct ptp_system_timestamp *sts)
{
	return vireo_ptp_chan_exchange(&vireo_chan, ts, sts);
}

static int vireo_ptp_gettime(struct ptp_clock_info *info, struct timespec64 *ts)
{
	return vireo_ptp_chan_exchange(&vireo_chan, ts, NULL);
}

static int vireo_ptp_adjfine(struct ptp_clock_info *info, long scaled_ppm)
{
	return -EOPNOTSUPP;
}

static int vireo_ptp_adjtime(struct ptp_clock_info *info, s64 delta)
{
	return -EOPNOTSUPP;
}

static int vireo_ptp_settime(struct ptp_clock_info *info, const struct timespec64 *ts)
{
	return -EOPNOTSUPP;
}

static int vireo_ptp_enable(struct ptp_clock_info *info, struct ptp_clock_request *rq, int on)
{
	return -EOPNOTSUPP;
}

static struct ptp_clock_info vireo_ptp_info = {
	.owner = THIS_MODULE,
	.name = "vireo_ptp",
	.max_adj = 0,
	.adjfine = vireo_ptp_adjfine,
	.adjtime = vireo_ptp_adjtime,
	.gettime64 = vireo_ptp_gettime,
	.gettimex64 = vireo_ptp_gettimex,
	.settime64 = vireo_ptp_settime,
	.enable = vireo_ptp_enable,
};

static int __init vireo_ptp_init(void)
{
	struct timespec64 ts;
	int rc;

	if (!timeout_ms || timeout_ms > 10000 || cid < 2) {
		pr_err("bad parameters (cid %u, timeout_ms %u: 1..10000)\n", cid, timeout_ms);
		return -EINVAL;
	}
	vireo_ptp_chan_init(&vireo_chan, cid, port, timeout_ms);
	vireo_clock = ptp_clock_register(&vireo_ptp_info, NULL);
	if (IS_ERR(vireo_clock))
		return PTR_ERR(vireo_clock);
	/* Only a log line: the host's service may come later (vireod restarts). */
	rc = vireo_ptp_chan_exchange(&vireo_chan, &ts, NULL);
	if (rc)
		pr_warn("/dev/ptp%d registered; no answer from the host yet (%d)\n",
			ptp_clock_index(vireo_clock), rc);
	else
		pr_info("/dev/ptp%d is the host's clock (cid %u port %u)\n",
			ptp_clock_index(vireo_clock), cid, port);
	return 0;
}

static void __exit vireo_ptp_exit(void)
{
	ptp_clock_unregister(vireo_clock);
	vireo_ptp_chan_close(&vireo_chan);
}

module_init(vireo_ptp_init);
module_exit(vireo_ptp_exit);

MODULE_DESCRIPTION("PTP clock of the host's time, read from vireod over vsock");
MODULE_AUTHOR("The Vireo authors");
MODULE_LICENSE("GPL");
