/* SPDX-License-Identifier: MIT */
/*
 * The memory image of a loaded driver: the address ranges of its loadable segments.
 * The host reads a driver's descriptor, tables and strings only after checking that
 * they lie inside that image, so a malformed descriptor (a wild pointer, a table with
 * no sentinel) is refused instead of crashing vireod. Owns no policy about what a
 * descriptor must contain (validate.c does).
 */
#ifndef VIREO_HOST_IMAGE_H
#define VIREO_HOST_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HOST_IMAGE_MAX_SEGS 16

struct host_image_seg {
	uintptr_t start; /* first byte */
	uintptr_t end;	 /* one past the last byte */
	bool exec;	 /* PF_X: holds code */
};

struct host_image {
	size_t nseg;
	struct host_image_seg seg[HOST_IMAGE_MAX_SEGS];
};

/**
 * host_image_of() - The readable segments of the object dlopen() returned @handle for.
 * Return: 0, or -ENOENT if the dynamic loader does not know the object.
 */
int host_image_of(void *handle, struct host_image *img);

/**
 * host_image_holds() - Whether [@p, @p + @len) lies inside one readable segment and
 * @p is a multiple of @align (a power of two; 1 for none).
 */
bool host_image_holds(const struct host_image *img, const void *p, size_t len, size_t align);

/** host_image_code() - Whether address @fn lies in an executable segment of the image. */
bool host_image_code(const struct host_image *img, uintptr_t fn);

/**
 * host_image_strnlen() - The length of the NUL-terminated string at @s, read only
 * inside the image.
 * Return: the length (0..@max), or -1 when @s is NULL, outside the image, or has no
 * NUL within @max + 1 bytes.
 */
ssize_t host_image_strnlen(const struct host_image *img, const char *s, size_t max);

#endif /* VIREO_HOST_IMAGE_H */
