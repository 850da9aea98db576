// SPDX-License-Identifier: MIT
/*
 * Deliberately broken drivers for tests/unit/host/loader_test.c: one source, built once
 * per variant with -DBAD_<VARIANT> and -DDRV_ID=<module name>. Each variant breaks
 * exactly one rule of <vireo/driver.h>; everything else is a valid blk driver, so the
 * test can assert the one refusal reason the variant must produce. The descriptor is
 * written out by hand (not with VIREO_DRIVER()) so that fields can be set wrong.
 */
#include <errno.h>
#include <stdint.h>

#ifdef BAD_NO_DESCRIPTOR
/* Export the descriptor under another name. */
#define vireo_driver_descriptor bad_not_the_descriptor
#endif

#include <vireo/blk.h>
#include <vireo/driver.h>

#define BAD_STR_(x) #x
#define BAD_STR(x)  BAD_STR_(x)

/* Some variants leave a function or the ops table out on purpose. */
#define BAD_UNUSED __attribute__((unused))

/* An address no driver image contains. */
#define BAD_WILD ((uintptr_t)0x1000)

#ifdef BAD_UNRESOLVED
/* A call the core does not provide: RTLD_NOW must refuse the object. */
void vireo_future_call(void);
#endif

static int bad_open(struct vireo_blk *blk, const struct vireo_params *params)
{
	(void)blk;
	(void)params;
#ifdef BAD_UNRESOLVED
	vireo_future_call();
#endif
	return -ENODEV;
}

static int bad_get_geometry(struct vireo_blk *blk, struct vireo_blk_geometry *geo)
{
	(void)blk;
	(void)geo;
	return -ENODEV;
}

BAD_UNUSED static int bad_submit(struct vireo_blk *blk, struct vireo_blk_req *req)
{
	(void)blk;
	(void)req;
	return -ENODEV;
}

BAD_UNUSED static const struct vireo_blk_ops bad_ops = {
#ifdef BAD_TINY_OPS
	.struct_size = 8,
#else
	.struct_size = sizeof(struct vireo_blk_ops),
#endif
#ifdef BAD_OPS_RESERVED
	.reserved0 = 1,
#endif
	.open = bad_open,
	.get_geometry = bad_get_geometry,
#ifndef BAD_NO_SUBMIT
	.submit = bad_submit,
#endif
#ifdef BAD_WILD_OP
	.close = (vireo_blk_close_t)BAD_WILD,
#endif
};

/* ---- match tables ---- */

#if defined(BAD_UNTERMINATED_MATCH)
/* Two entries and no sentinel; what follows is poison, so the walk must stop there. */
static const struct {
	struct vireo_match m[2];
	uint64_t poison[8];
} bad_match_unterminated = {
	.m = { { VIREO_MATCH_USB_DEVICE(0x1234, 0x0001) },
	       { VIREO_MATCH_USB_DEVICE(0x1234, 0x0002) } },
	.poison = { 0x5a5a5a5a5a5a5a5aull, 0x5a5a5a5a5a5a5a5aull, 0x5a5a5a5a5a5a5a5aull,
		    0x5a5a5a5a5a5a5a5aull, 0x5a5a5a5a5a5a5a5aull, 0x5a5a5a5a5a5a5a5aull,
		    0x5a5a5a5a5a5a5a5aull, 0x5a5a5a5a5a5a5a5aull },
};
#define D_MATCH bad_match_unterminated.m
#elif defined(BAD_OVERSIZED_MATCH)
/* 257 entries: one more than VIREO_MATCH_MAX, then the sentinel. */
#define BAD_E	 { VIREO_MATCH_USB_DEVICE(0x1234, 0x0001) },
#define BAD_E4	 BAD_E BAD_E BAD_E BAD_E
#define BAD_E16	 BAD_E4 BAD_E4 BAD_E4 BAD_E4
#define BAD_E64	 BAD_E16 BAD_E16 BAD_E16 BAD_E16
#define BAD_E256 BAD_E64 BAD_E64 BAD_E64 BAD_E64
static const struct vireo_match bad_match_oversized[] = { BAD_E256 BAD_E{ 0 } };
#define D_MATCH	 bad_match_oversized
#elif defined(BAD_WILD_MATCH)
#define D_MATCH ((const struct vireo_match *)BAD_WILD)
#elif defined(BAD_ANY_PCI_MATCH)
static const struct vireo_match bad_match_any[] = {
	{ VIREO_MATCH_PCI_CLASS(0, 0) }, /* every PCI function */
	{ 0 },
};
#define D_MATCH bad_match_any
#else
#define D_MATCH NULL
#endif

/* ---- parameter tables ---- */

#if defined(BAD_UNTERMINATED_PARAMS)
static const struct {
	struct vireo_param_decl p[1];
	uint64_t poison[6];
} bad_params_unterminated = {
	.p = { { VIREO_PARAM_UINT("size", "4K", "capacity") } },
	.poison = { 0x5a5a5a5a5a5a5a5aull, 0x5a5a5a5a5a5a5a5aull, 0x5a5a5a5a5a5a5a5aull,
		    0x5a5a5a5a5a5a5a5aull, 0x5a5a5a5a5a5a5a5aull, 0x5a5a5a5a5a5a5a5aull },
};
#define D_PARAMS bad_params_unterminated.p
#else
static const struct vireo_param_decl bad_params[] = {
	{ VIREO_PARAM_UINT("size", "4K", "capacity") },
#if defined(BAD_DUP_PARAM)
	{ VIREO_PARAM_BOOL("size", "off", "declared twice") },
#elif defined(BAD_RESERVED_PARAM)
	{ VIREO_PARAM_BOOL("readonly", "off", "a key the core keeps for itself") },
#elif defined(BAD_NO_HELP)
	{ VIREO_PARAM_BOOL("verbose", "off", NULL) },
#elif defined(BAD_BAD_DEFAULT)
	{ VIREO_PARAM_UINT("block-size", "12abc", "not a number") },
#elif defined(BAD_BAD_MAC_DEFAULT)
	{ VIREO_PARAM_MAC("mac", "52:54:00:zz:00:01", "not a MAC address") },
#endif
	{ 0 },
};
#define D_PARAMS bad_params
#endif

/* ---- the descriptor ---- */

#ifdef BAD_BAD_DESC_SIZE
#define D_SIZE 16
#else
#define D_SIZE sizeof(struct vireo_driver)
#endif
#ifdef BAD_BAD_MAGIC
#define D_MAGIC 0x12345678u
#else
#define D_MAGIC VIREO_DRIVER_MAGIC
#endif
#ifdef BAD_BAD_MAJOR
#define D_MAJOR 2
#else
#define D_MAJOR VIREO_ABI_MAJOR
#endif
#ifdef BAD_BAD_MINOR
#define D_MINOR 99
#else
#define D_MINOR VIREO_ABI_MINOR
#endif
#if defined(BAD_NO_NAME)
#define D_NAME NULL
#elif defined(BAD_BAD_NAME)
#define D_NAME "bad name!"
#elif defined(BAD_WILD_NAME)
#define D_NAME ((const char *)BAD_WILD)
#else
#define D_NAME BAD_STR(DRV_ID)
#endif
#ifdef BAD_NO_VERSION
#define D_VERSION NULL
#else
#define D_VERSION "0.0.1"
#endif
#ifdef BAD_BAD_CLASS
#define D_CLASS 42
#else
#define D_CLASS VIREO_CLASS_BLK
#endif
#ifdef BAD_NO_OPS
#define D_OPS NULL
#else
#define D_OPS (&bad_ops)
#endif

VIREO_API const struct vireo_driver vireo_driver_descriptor = {
	.struct_size = D_SIZE,
	.magic = D_MAGIC,
	.abi_major = D_MAJOR,
	.abi_minor = D_MINOR,
	.dev_class = D_CLASS,
	.name = D_NAME,
	.version = D_VERSION,
	.license = "MIT",
	.ops.blk = D_OPS,
	.match = D_MATCH,
	.params = D_PARAMS,
};
