/* SPDX-License-Identifier: MIT */
/*
 * The virtio-vsock device model (VIRTIO 1.2, 5.10) for QEMU's vhost-user-vsock-pci:
 * the guest's CID in config space, the rx and tx queues (and the event queue, for a
 * frontend that hands it over: QEMU keeps it), with connections served by the engine
 * in vmm-core/vsock/. Spec: `vsock,id=ID,cid=N,uds=PATH,socket=PATH` plus the optional
 * `buf-size=BYTES` (credit per connection, default 256 KiB) and `max-conns=N`
 * (default 256). See ddk-docs/vsock.md.
 */
#ifndef VIREO_VIRTIO_VSOCK_H
#define VIREO_VIRTIO_VSOCK_H

#include <stddef.h>
#include <stdint.h>

#include "vsock/engine.h"

struct virtio_vsock;
struct vd_spec;
struct vu_dev_stats;

/**
 * virtio_vsock_new() - Check @spec (cid, uds, buf-size, max-conns) and prepare the
 * device: the host listener on uds exists after this, the vhost-user socket does not.
 * @err: on failure, one line naming the device and the problem.
 * Return: 0, -EINVAL, -EADDRINUSE (uds is live), -ENOMEM or another errno.
 */
int virtio_vsock_new(const struct vd_spec *spec, struct virtio_vsock **out, char *err,
		     size_t errlen);

/** virtio_vsock_start() - Listen on the vhost-user socket. */
int virtio_vsock_start(struct virtio_vsock *vs);

/** virtio_vsock_free() - Disconnect the frontend, close every connection. */
void virtio_vsock_free(struct virtio_vsock *vs);

/** virtio_vsock_get_stats() - The engine's counters. Context: any thread. */
void virtio_vsock_get_stats(struct virtio_vsock *vs, struct vsock_engine_stats *s);

/** virtio_vsock_vu_stats() - The vhost-user device's counters. */
void virtio_vsock_vu_stats(struct virtio_vsock *vs, struct vu_dev_stats *s);

/** virtio_vsock_cid() - The guest's CID. */
uint64_t virtio_vsock_cid(const struct virtio_vsock *vs);

/**
 * virtio_vsock_engine() - The connection engine, for vireod's own services: see
 * vsock_engine_bind_port() and vsock_engine_connect().
 */
struct vsock_engine *virtio_vsock_engine(struct virtio_vsock *vs);

struct vu_mem_span;

/**
 * virtio_vsock_mem_snapshot() - The guest memory table of vsock device @vs (a struct
 * virtio_vsock; void so it fits agent_mem_fn), for the agent's balloon: see
 * vu_dev_mem_snapshot().
 */
int virtio_vsock_mem_snapshot(void *vs, struct vu_mem_span *out, unsigned int cap);

#endif /* VIREO_VIRTIO_VSOCK_H */
