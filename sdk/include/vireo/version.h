/* SPDX-License-Identifier: MIT */
/**
 * @file
 * @brief Vireo SDK: the driver ABI version.
 *
 * Audience: driver authors and the core. A driver records the VIREO_ABI_MAJOR and
 * VIREO_ABI_MINOR it was compiled with in its descriptor (VIREO_DRIVER() does it); the
 * core loads it when the majors are equal and the driver's minor is not newer than its
 * own. Minor releases only add: new functions in a new version node of libvireo.so.1,
 * new members at the end of structs that carry a struct_size.
 */
#ifndef VIREO_VERSION_H
#define VIREO_VERSION_H

#include <vireo/common.h>

/** ABI major: a change here means drivers must be rebuilt. */
#define VIREO_ABI_MAJOR 1
/** ABI minor: additions since the major; older-minor drivers keep loading. */
#define VIREO_ABI_MINOR 1

/** Packs an ABI version into one integer (major in the high 16 bits); usable in `#if`. */
#define VIREO_ABI_VERSION(major, minor) (((major) << 16) | (minor))
/** The major of a packed version. */
#define VIREO_ABI_VERSION_MAJOR(v) (((v) >> 16) & 0xffff)
/** The minor of a packed version. */
#define VIREO_ABI_VERSION_MINOR(v) ((v)&0xffff)
/** The headers' own packed version. */
#define VIREO_ABI_CURRENT VIREO_ABI_VERSION(VIREO_ABI_MAJOR, VIREO_ABI_MINOR)
/**
 * True when these headers provide ABI @p major.@p minor or a later minor of the same
 * major; usable in `#if` to build one driver source against several SDKs.
 */
#define VIREO_ABI_AT_LEAST(major, minor) (VIREO_ABI_MAJOR == (major) && VIREO_ABI_MINOR >= (minor))

VIREO_BEGIN_DECLS

/**
 * @brief The ABI version of the running core (libvireo.so.1), packed as by
 * VIREO_ABI_VERSION().
 *
 * A driver that uses a feature announced in a later minor can check it at run time,
 * although the core already refuses drivers built for a newer minor than its own.
 *
 * @return the packed version; never fails.
 *
 * Context: any thread, any time.
 */
VIREO_API uint32_t vireo_abi_version(void);

VIREO_END_DECLS

#endif /* VIREO_VERSION_H */
