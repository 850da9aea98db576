/* SPDX-License-Identifier: MIT */
/**
 * @file
 * @brief Vireo SDK: per-driver parameters, declared in a table and read at open time.
 *
 * Audience: driver authors. A driver declares the parameters it accepts (name, type,
 * default, help) in a static table that its descriptor points to. The user gives values
 * as text (`--device blk,id=d0,driver=blk-ram,size=64M,...`); the core checks every
 * value against the table before the driver sees it, refusing unknown names, values
 * that do not parse as their type and missing required parameters, each with one line
 * naming the parameter. The driver then reads typed values through vireo_param_get_*().
 *
 * Text forms the core accepts, for values and for defaults alike:
 * - bool: on, off, true, false, yes, no, 1, 0.
 * - int: decimal or 0x-prefixed hex, optional sign, optional binary suffix K, M, G, T
 *   (x1024 each); must fit int64_t.
 * - uint: the same without a sign; must fit uint64_t.
 * - string: any bytes but NUL, at most VIREO_PARAM_STRING_MAX of them.
 * - mac: six two-digit hex bytes separated by colons (52:54:00:12:34:56).
 *
 * Names are 1 to VIREO_PARAM_NAME_MAX characters of [a-z0-9_-], unique in the table.
 * The core's own device keys (class, id, driver, socket, num-queues, readonly) are
 * reserved and cannot be declared.
 */
#ifndef VIREO_PARAMS_H
#define VIREO_PARAMS_H

#include <vireo/common.h>

VIREO_BEGIN_DECLS

/** The parameter values of one device instance; owned by the core. */
struct vireo_params;

/** Parameter types. Zero is not a type, so a zeroed entry is never mistaken for one. */
enum vireo_param_type {
	VIREO_PARAM_BOOL = 1,	/**< read with vireo_param_get_bool() */
	VIREO_PARAM_INT = 2,	/**< read with vireo_param_get_int() */
	VIREO_PARAM_UINT = 3,	/**< read with vireo_param_get_uint() */
	VIREO_PARAM_STRING = 4, /**< read with vireo_param_get_string() */
	VIREO_PARAM_MAC = 5,	/**< read with vireo_param_get_mac() */
};

/** Longest parameter name, in bytes. */
#define VIREO_PARAM_NAME_MAX 31
/** Longest string value or default, in bytes. */
#define VIREO_PARAM_STRING_MAX 255
/** Longest help text, in bytes. */
#define VIREO_PARAM_HELP_MAX 255
/** Most parameters one driver may declare. */
#define VIREO_PARAM_MAX 64

/** Flag: the user must give this parameter (it then has no default). */
#define VIREO_PARAM_F_REQUIRED (1u << 0)

/**
 * One declared parameter: an entry of the table that struct vireo_driver::params points
 * to. The table is a static const array ending in a `{ 0 }` sentinel; build entries with
 * VIREO_PARAM_BOOL() and friends, which fill in struct_size.
 */
struct vireo_param_decl {
	uint32_t struct_size; /**< sizeof(struct vireo_param_decl); 0 ends the table */
	uint32_t type;	      /**< an enum vireo_param_type */
	const char *name;     /**< [a-z0-9_-], 1..VIREO_PARAM_NAME_MAX, unique */
	const char *def;      /**< default as text, parsed like a user value; NULL: none */
	const char *help;     /**< one line for `vireoctl driver info`; required */
	uint32_t flags;	      /**< VIREO_PARAM_F_*; unknown bits are refused */
	uint32_t reserved0;   /**< must be zero */
};
VIREO_ABI_SIZE(struct vireo_param_decl, 40);

/** Helper for the VIREO_PARAM_* table macros. */
#define VIREO_PARAM_ENTRY_(t, n, d, h)                                                        \
	.struct_size = sizeof(struct vireo_param_decl), .type = (t), .name = (n), .def = (d), \
	.help = (h)

/** A bool parameter entry: `{ VIREO_PARAM_BOOL("write-protect", "off", "...") }`. */
#define VIREO_PARAM_BOOL(name, def, help) VIREO_PARAM_ENTRY_(VIREO_PARAM_BOOL, name, def, help)
/** A signed integer parameter entry. */
#define VIREO_PARAM_INT(name, def, help) VIREO_PARAM_ENTRY_(VIREO_PARAM_INT, name, def, help)
/** An unsigned integer parameter entry (sizes: "64M"). */
#define VIREO_PARAM_UINT(name, def, help) VIREO_PARAM_ENTRY_(VIREO_PARAM_UINT, name, def, help)
/** A string parameter entry. */
#define VIREO_PARAM_STRING(name, def, help) VIREO_PARAM_ENTRY_(VIREO_PARAM_STRING, name, def, help)
/** A MAC address parameter entry. */
#define VIREO_PARAM_MAC(name, def, help) VIREO_PARAM_ENTRY_(VIREO_PARAM_MAC, name, def, help)

/**
 * @brief Read a bool parameter.
 *
 * @param params the values the core passed to the driver's open op.
 * @param name a name from the driver's parameter table.
 * @param value where to store the value given by the user, else the default.
 *
 * @return 0 on success.
 * @return -ENOENT if the table declares no parameter @p name.
 * @return -EINVAL if an argument is NULL or @p name is not a bool parameter.
 * @return -ENODATA if @p name has no default and the user gave no value.
 *
 * Context: any thread, while the device instance is open.
 */
VIREO_API int vireo_param_get_bool(const struct vireo_params *params, const char *name,
				   bool *value);

/**
 * @brief Read a signed integer parameter.
 *
 * @param params the values the core passed to the driver's open op.
 * @param name a name from the driver's parameter table.
 * @param value where to store the value given by the user, else the default.
 *
 * @return 0 on success.
 * @return -ENOENT if the table declares no parameter @p name.
 * @return -EINVAL if an argument is NULL or @p name is not an int parameter.
 * @return -ENODATA if @p name has no default and the user gave no value.
 *
 * Context: any thread, while the device instance is open.
 */
VIREO_API int vireo_param_get_int(const struct vireo_params *params, const char *name,
				  int64_t *value);

/**
 * @brief Read an unsigned integer parameter.
 *
 * @param params the values the core passed to the driver's open op.
 * @param name a name from the driver's parameter table.
 * @param value where to store the value given by the user, else the default.
 *
 * @return 0 on success.
 * @return -ENOENT if the table declares no parameter @p name.
 * @return -EINVAL if an argument is NULL or @p name is not a uint parameter.
 * @return -ENODATA if @p name has no default and the user gave no value.
 *
 * Context: any thread, while the device instance is open.
 */
VIREO_API int vireo_param_get_uint(const struct vireo_params *params, const char *name,
				   uint64_t *value);

/**
 * @brief Read a string parameter.
 *
 * @param params the values the core passed to the driver's open op.
 * @param name a name from the driver's parameter table.
 * @param value where to store a pointer to the NUL-terminated value; the string is the
 *        core's and stays valid until the device instance is closed.
 *
 * @return 0 on success.
 * @return -ENOENT if the table declares no parameter @p name.
 * @return -EINVAL if an argument is NULL or @p name is not a string parameter.
 * @return -ENODATA if @p name has no default and the user gave no value.
 *
 * Context: any thread, while the device instance is open.
 */
VIREO_API int vireo_param_get_string(const struct vireo_params *params, const char *name,
				     const char **value);

/**
 * @brief Read a MAC address parameter.
 *
 * @param params the values the core passed to the driver's open op.
 * @param name a name from the driver's parameter table.
 * @param mac where to store the six bytes, in transmission order.
 *
 * @return 0 on success.
 * @return -ENOENT if the table declares no parameter @p name.
 * @return -EINVAL if an argument is NULL or @p name is not a mac parameter.
 * @return -ENODATA if @p name has no default and the user gave no value.
 *
 * Context: any thread, while the device instance is open.
 */
VIREO_API int vireo_param_get_mac(const struct vireo_params *params, const char *name,
				  uint8_t mac[6]);

/**
 * @brief Tell whether the user gave parameter @p name (rather than it taking its
 * default).
 *
 * @param params the values the core passed to the driver's open op.
 * @param name a name from the driver's parameter table.
 *
 * @return 1 if the user gave a value, 0 if not.
 * @return -ENOENT if the table declares no parameter @p name.
 * @return -EINVAL if an argument is NULL.
 *
 * Context: any thread, while the device instance is open.
 */
VIREO_API int vireo_param_is_set(const struct vireo_params *params, const char *name);

VIREO_END_DECLS

#endif /* VIREO_PARAMS_H */
