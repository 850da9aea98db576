/* SPDX-License-Identifier: MIT */
/*
 * vireod's time service, one per vsock device: guests connecting to host (CID 2)
 * port TIMESVC_PORT get the host's clock, one fixed-size binary exchange at a time
 * (ddk-docs/time-sync.md). vireo_ptp.ko in the guest reads its PHC through it.
 *
 * The wire format (little endian, packed, no padding):
 *   request  (16 bytes): u32 magic "VTQ1", u32 flags (0), u64 seq
 *   response (32 bytes): u32 magic "VTR1", u32 status (0), u64 seq (the request's),
 *                        s64 CLOCK_REALTIME ns, s64 CLOCK_MONOTONIC_RAW ns
 * The host reads its clocks as late as it can: just before the response is written.
 *
 * The guest is untrusted: a bad magic or flags ends the connection, connections are
 * bounded (TIMESVC_MAX_CONNS), and each is rate-limited (TIMESVC_RATE per second,
 * bursts of TIMESVC_BURST): past the budget the service stops reading that
 * connection until the budget refills, so a flood only fills the guest's own credit.
 *
 * Threads: the service has its own thread, blocked in epoll_wait() on its
 * connections, so an answer never waits behind the device's queue work.
 */
#ifndef VIREO_AGENT_TIMESVC_H
#define VIREO_AGENT_TIMESVC_H

#include <stdint.h>

struct vsock_engine;
struct timesvc;

/** The host port of the time service (a reserved port: no `<uds>_5601` listener). */
#define TIMESVC_PORT	  5601u
#define TIMESVC_REQ_MAGIC 0x31515456u /* "VTQ1" */
#define TIMESVC_RSP_MAGIC 0x31525456u /* "VTR1" */
#define TIMESVC_REQ_LEN	  16u
#define TIMESVC_RSP_LEN	  32u
/** Connections at once per device; more are closed at once. */
#define TIMESVC_MAX_CONNS 4u
/** Exchanges per second per connection, sustained, and the burst allowed. */
#define TIMESVC_RATE  2000u
#define TIMESVC_BURST 200u

/** Counters, for tests and `device stats`. */
struct timesvc_stats {
	uint64_t conns;	    /**< connections now */
	uint64_t accepted;  /**< connections ever accepted */
	uint64_t refused;   /**< connections closed at once: too many */
	uint64_t exchanges; /**< responses sent */
	uint64_t bad;	    /**< connections ended for a malformed request */
	uint64_t throttled; /**< times a connection went over its rate */
};

/**
 * timesvc_new() - Bind TIMESVC_PORT on @eng and start the service's thread.
 * @id: the device's id, for log lines.
 * Return: 0, -EEXIST (the port is bound), or a negative errno.
 */
int timesvc_new(const char *id, struct vsock_engine *eng, struct timesvc **out);

/**
 * timesvc_free() - Unbind the port, stop the thread, close every connection. NULL is
 * ignored. Context: before the engine is freed.
 */
void timesvc_free(struct timesvc *ts);

/** timesvc_get_stats() - The counters. Context: any thread. */
void timesvc_get_stats(struct timesvc *ts, struct timesvc_stats *s);

#endif /* VIREO_AGENT_TIMESVC_H */
