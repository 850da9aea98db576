/* SPDX-License-Identifier: MIT */
/*
 * Copying and slicing the iovec lists a descriptor chain maps to (chain.h): what every
 * device model needs to read a header, write a status or hand a payload on without
 * copying it. Offsets are bytes into the list as if it were one buffer.
 */
#ifndef VIREO_VQ_IOV_H
#define VIREO_VQ_IOV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

/**
 * vq_iov_read() - Copy @len bytes at @skip of an iovec list into @dst.
 * Return: true; false if the list holds fewer than @skip + @len bytes (@dst then has
 * what there was).
 */
bool vq_iov_read(const struct iovec *iov, unsigned int n, size_t skip, void *dst, size_t len);

/**
 * vq_iov_write() - Copy @len bytes of @src into an iovec list, at @skip.
 * Return: the bytes written: less than @len if the list ends first.
 */
size_t vq_iov_write(const struct iovec *iov, unsigned int n, size_t skip, const void *src,
		    size_t len);

/**
 * vq_iov_slice() - Describe bytes [@skip, @skip + @len) of an iovec list in @dst,
 * pointing into the same memory.
 * Return: the entries used, at most @cap (the slice is cut short when @cap is reached
 * or the list ends).
 */
unsigned int vq_iov_slice(const struct iovec *iov, unsigned int n, size_t skip, size_t len,
			  struct iovec *dst, unsigned int cap);

#endif /* VIREO_VQ_IOV_H */
