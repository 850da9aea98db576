/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vireo_ptp: shared by the clock (ptp_main.c) and its channel (ptp_vsock.c).
 * The wire format is vireod's time service's (ddk-docs/time-sync.md).
 */
#ifndef VIREO_PTP_H
#define VIREO_PTP_H

#include <linux/mutex.h>
#include <linux/ptp_clock_kernel.h>
#include <linux/types.h>

#define VIREO_TIME_REQ_MAGIC 0x31515456u /* "VTQ1" */
#define VIREO_TIME_RSP_MAGIC 0x31525456u /* "VTR1" */

/**
 * struct vireo_time_req - a request to the host's time service
 * @magic: VIREO_TIME_REQ_MAGIC
 * @flags: zero
 * @seq: echoed in the response
 */
struct vireo_time_req {
	__le32 magic;
	__le32 flags;
	__le64 seq;
} __packed;

/**
 * struct vireo_time_rsp - the host's answer
 * @magic: VIREO_TIME_RSP_MAGIC
 * @status: zero
 * @seq: the request's
 * @realtime_ns: the host's CLOCK_REALTIME, read just before the answer was sent
 * @monotonic_raw_ns: the host's CLOCK_MONOTONIC_RAW, read right after
 */
struct vireo_time_rsp {
	__le32 magic;
	__le32 status;
	__le64 seq;
	__le64 realtime_ns;
	__le64 monotonic_raw_ns;
} __packed;

/**
 * struct vireo_ptp_chan - the kernel-side vsock connection to the time service
 * @lock: serializes exchanges, and guards every member below
 * @sock: the connected socket; NULL until connected or after a failure
 * @seq: the last request's sequence number
 * @retry_at: jiffies before which no new connection is attempted (after a failure)
 * @cid: the host's CID (2)
 * @port: the time service's port
 * @timeout_ms: bound on each send and receive
 * @exchanges: successful exchanges
 * @failures: failed exchanges (each drops the connection)
 */
struct vireo_ptp_chan {
	struct mutex lock;
	struct socket *sock;
	u64 seq;
	unsigned long retry_at;
	u32 cid;
	u32 port;
	unsigned int timeout_ms;
	u64 exchanges;
	u64 failures;
};

void vireo_ptp_chan_init(struct vireo_ptp_chan *ch, u32 cid, u32 port, unsigned int timeout_ms);
void vireo_ptp_chan_close(struct vireo_ptp_chan *ch);
int vireo_ptp_chan_exchange(struct vireo_ptp_chan *ch, struct timespec64 *host,
			    struct ptp_system_timestamp *sts);

#endif /* VIREO_PTP_H */
