/* SPDX-License-Identifier: MIT */
/**
 * @file
 * @brief Vireo SDK: attributes and ABI helpers shared by every public header.
 *
 * Audience: driver authors (indirectly: every other SDK header includes it) and the
 * core. Owns symbol visibility, the experimental-API marker, printf checking and the
 * macros that pin the size of each struct crossing the driver boundary. Holds no
 * types of its own.
 */
#ifndef VIREO_COMMON_H
#define VIREO_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
/** Opens a block of declarations with C linkage (for C++ drivers). */
#define VIREO_BEGIN_DECLS extern "C" {
/** Closes a VIREO_BEGIN_DECLS block. */
#define VIREO_END_DECLS }
/** A compile-time check, in C or C++. */
#define VIREO_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
/** Opens a block of declarations with C linkage (for C++ drivers). */
#define VIREO_BEGIN_DECLS
/** Closes a VIREO_BEGIN_DECLS block. */
#define VIREO_END_DECLS
/** A compile-time check, in C or C++. */
#define VIREO_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

#if defined(__GNUC__) || defined(__clang__)
/** Marks a symbol exported from libvireo.so.1 (or, in a driver, its descriptor). */
#define VIREO_API __attribute__((visibility("default")))
/** printf-style format checking: argument @p fmt is the format, @p args the first vararg. */
#define VIREO_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
/** A value the caller must not ignore. */
#define VIREO_MUST_CHECK __attribute__((warn_unused_result))
#else
#define VIREO_API
#define VIREO_PRINTF(fmt, args)
#define VIREO_MUST_CHECK
#endif

/**
 * Marks a function of the EXPERIMENTAL version node. Experimental functions may change
 * or go away in any minor release; calling one warns unless the driver is compiled with
 * -DVIREO_ALLOW_EXPERIMENTAL, which says the author accepts that.
 */
#if defined(VIREO_ALLOW_EXPERIMENTAL) || !(defined(__GNUC__) || defined(__clang__))
#define VIREO_EXPERIMENTAL VIREO_API
#else
#define VIREO_EXPERIMENTAL                                                        \
	VIREO_API __attribute__((deprecated("experimental Vireo API: build with " \
					    "-DVIREO_ALLOW_EXPERIMENTAL to use it")))
#endif

#if defined(__LP64__) || defined(_LP64)
/**
 * Pins the size of an ABI struct on LP64 targets (x86-64, aarch64). Changing a pinned
 * size is an ABI change: append members and update the pin only together with a new
 * minor, and never on a struct whose growth is not announced by its struct_size.
 */
#define VIREO_ABI_SIZE(type, size) \
	VIREO_STATIC_ASSERT(sizeof(type) == (size), #type " has a fixed size in the Vireo ABI")
/** Pins the offset of an ABI struct member on LP64 targets. */
#define VIREO_ABI_OFFSET(type, member, off)                  \
	VIREO_STATIC_ASSERT(offsetof(type, member) == (off), \
			    #type "." #member " has a fixed offset in the Vireo ABI")
#else
#define VIREO_ABI_SIZE(type, size)	    VIREO_STATIC_ASSERT(1, "")
#define VIREO_ABI_OFFSET(type, member, off) VIREO_STATIC_ASSERT(1, "")
#endif

#endif /* VIREO_COMMON_H */
