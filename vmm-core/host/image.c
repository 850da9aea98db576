// SPDX-License-Identifier: MIT
/*
 * A loaded driver's segments, from the dynamic loader (dlinfo + dl_iterate_phdr), and
 * the bounds checks validate.c makes before reading anything the driver points to.
 */
#include "host/image.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <string.h>

struct image_search {
	uintptr_t base;
	const char *name;
	struct host_image *img;
	bool found;
};

static int image_collect(struct dl_phdr_info *info, size_t size, void *data)
{
	struct image_search *s = data;
	struct host_image *img = s->img;

	(void)size;
	if (info->dlpi_addr != s->base || !info->dlpi_name || strcmp(info->dlpi_name, s->name) != 0)
		return 0;
	for (ElfW(Half) i = 0; i < info->dlpi_phnum && img->nseg < HOST_IMAGE_MAX_SEGS; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_R) || ph->p_memsz == 0)
			continue;
		img->seg[img->nseg].start = info->dlpi_addr + ph->p_vaddr;
		img->seg[img->nseg].end = img->seg[img->nseg].start + ph->p_memsz;
		img->seg[img->nseg].exec = ph->p_flags & PF_X;
		img->nseg++;
	}
	s->found = true;
	return 1;
}

int host_image_of(void *handle, struct host_image *img)
{
	struct link_map *lm = NULL;
	struct image_search s;

	memset(img, 0, sizeof(*img));
	if (dlinfo(handle, RTLD_DI_LINKMAP, &lm) != 0 || !lm || !lm->l_name)
		return -ENOENT;
	s = (struct image_search){ .base = lm->l_addr, .name = lm->l_name, .img = img };
	dl_iterate_phdr(image_collect, &s);
	return s.found && img->nseg ? 0 : -ENOENT;
}

static const struct host_image_seg *image_seg_of(const struct host_image *img, uintptr_t a)
{
	for (size_t i = 0; i < img->nseg; i++)
		if (a >= img->seg[i].start && a < img->seg[i].end)
			return &img->seg[i];
	return NULL;
}

bool host_image_holds(const struct host_image *img, const void *p, size_t len, size_t align)
{
	uintptr_t a = (uintptr_t)p;
	const struct host_image_seg *seg;

	if (!p || (align > 1 && (a & (align - 1))))
		return false;
	seg = image_seg_of(img, a);
	return seg && len <= seg->end - a;
}

bool host_image_code(const struct host_image *img, uintptr_t fn)
{
	const struct host_image_seg *seg = fn ? image_seg_of(img, fn) : NULL;

	return seg && seg->exec;
}

ssize_t host_image_strnlen(const struct host_image *img, const char *s, size_t max)
{
	const struct host_image_seg *seg = s ? image_seg_of(img, (uintptr_t)s) : NULL;
	size_t room;
	const char *nul;

	if (!seg)
		return -1;
	room = seg->end - (uintptr_t)s;
	if (room > max + 1)
		room = max + 1;
	nul = memchr(s, '\0', room);
	return nul ? nul - s : -1;
}
