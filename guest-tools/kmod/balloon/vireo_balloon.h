/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * /dev/vireo-balloon: the interface between vireo_balloon.ko and the guest agent.
 * Shared by the module and user space (ddk-docs/balloon.md describes the protocol).
 */
#ifndef VIREO_BALLOON_H
#define VIREO_BALLOON_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* read() returns one batch: this header, then @count ranges. */
struct vireo_balloon_batch {
	__u64 seq;   /* acknowledge with VIREO_BALLOON_ACK(seq) */
	__u32 count; /* struct vireo_balloon_range records that follow */
	__u32 reserved;
};

/* Guest-physical bytes [gpa, gpa + len) the balloon took; page-aligned, merged. */
struct vireo_balloon_range {
	__u64 gpa;
	__u64 len;
};

struct vireo_balloon_status {
	__u64 target;	      /* bytes */
	__u64 size;	      /* bytes held now (all states) */
	__u64 blocks_2m;      /* 2 MiB blocks held */
	__u64 pages_4k;	      /* 4 KiB pages held */
	__u64 unreported;     /* bytes not yet read by the agent */
	__u64 pending;	      /* bytes read, awaiting the host's ack */
	__u64 acked;	      /* bytes the host acknowledged */
	__u64 last_seq;	      /* seq of the last batch read (0: none yet) */
	__u64 acked_seq;      /* highest seq acknowledged */
	__u64 shrunk;	      /* bytes given back under memory pressure */
	__u64 alloc_failures; /* inflation stalls (no page available) */
	__u64 oom_shrunk;     /* part of @shrunk given back by the OOM notifier */
};

#define VIREO_BALLOON_IOC	 0xB7
#define VIREO_BALLOON_SET_TARGET _IOW(VIREO_BALLOON_IOC, 1, __u64)
#define VIREO_BALLOON_ACK	 _IOW(VIREO_BALLOON_IOC, 2, __u64)
#define VIREO_BALLOON_STATUS	 _IOR(VIREO_BALLOON_IOC, 3, struct vireo_balloon_status)

#endif
