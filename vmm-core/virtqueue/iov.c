// SPDX-License-Identifier: MIT
/* Copying and slicing descriptor chains' iovec lists: one walk for every model. */
#include "virtqueue/iov.h"

#include <stdint.h>
#include <string.h>

/*
 * Calls @fn on each piece of bytes [skip, skip + len) of the list, in order, with the
 * piece's offset from @skip; returns the bytes covered.
 */
static size_t iov_walk(const struct iovec *iov, unsigned int n, size_t skip, size_t len,
		       void (*fn)(void *piece, size_t l, size_t done, void *arg), void *arg)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l -= skip;
		if (l > len - done)
			l = len - done;
		fn((uint8_t *)iov[i].iov_base + skip, l, done, arg);
		done += l;
		skip = 0;
	}
	return done;
}

static void copy_out(void *piece, size_t l, size_t done, void *dst)
{
	memcpy((uint8_t *)dst + done, piece, l);
}

static void copy_in(void *piece, size_t l, size_t done, void *src)
{
	memcpy(piece, (const uint8_t *)src + done, l);
}

bool vq_iov_read(const struct iovec *iov, unsigned int n, size_t skip, void *dst, size_t len)
{
	return iov_walk(iov, n, skip, len, copy_out, dst) == len;
}

size_t vq_iov_write(const struct iovec *iov, unsigned int n, size_t skip, const void *src,
		    size_t len)
{
	return iov_walk(iov, n, skip, len, copy_in, (void *)src);
}

unsigned int vq_iov_slice(const struct iovec *iov, unsigned int n, size_t skip, size_t len,
			  struct iovec *dst, unsigned int cap)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n && len && k < cap; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l -= skip;
		if (l > len)
			l = len;
		dst[k].iov_base = (uint8_t *)iov[i].iov_base + skip;
		dst[k++].iov_len = l;
		len -= l;
		skip = 0;
	}
	return k;
}
