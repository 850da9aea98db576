/* SPDX-License-Identifier: MIT */
/**
 * @file
 * @brief Vireo SDK: the hardware sensor class (struct vireo_sensor_ops).
 *
 * Audience: authors of sensor drivers (hwmon, IPMI, board controllers). A sensor
 * instance is one chip or source with numbered channels; the core reads them and shows
 * them to guests (as LM75-compatible sensors on a virtual I2C bus) and to vireoctl.
 *
 * Values are integers in a fixed unit per channel type, those of Linux hwmon:
 * temperature in millidegrees Celsius, voltage in millivolts, current in milliamperes,
 * power in microwatts, fan speed in revolutions per minute.
 *
 * Stable from ABI 1.1 (experimental in 1.0): the functions below are in libvireo's
 * VIREO_1.1 node and the structs grow only at their ends, as ddk-docs/abi-policy.md says.
 *
 * Life of an instance: open(); get_channel() for index 0, 1, ... until -ENOENT (the core
 * checks every description and refuses the instance if one breaks a rule below); then
 * read() of each channel on the core's sensor thread, no more often than the channel's
 * update_interval_ms, and set_threshold() when a user or a guest changes a limit
 * (followed by get_channel() of that index, to read the limit back); finally close().
 * The core never runs two ops of one instance at the same time, so a driver needs no
 * lock of its own for them. ddk-docs/sensors.md has the whole picture.
 */
#ifndef VIREO_SENSOR_H
#define VIREO_SENSOR_H

#include <vireo/common.h>
#include <vireo/params.h>

VIREO_BEGIN_DECLS

/** A sensor instance; owned by the core, passed to every op. */
struct vireo_sensor;

/** Channel types; each fixes the channel's unit. Zero is not a type. */
enum vireo_sensor_type {
	VIREO_SENSOR_TEMPERATURE = 1, /**< millidegrees Celsius */
	VIREO_SENSOR_VOLTAGE = 2,     /**< millivolts */
	VIREO_SENSOR_CURRENT = 3,     /**< milliamperes */
	VIREO_SENSOR_POWER = 4,	      /**< microwatts */
	VIREO_SENSOR_FAN = 5,	      /**< revolutions per minute */
};

/** Which threshold: an index for set_threshold. */
enum vireo_sensor_threshold {
	VIREO_SENSOR_MIN = 0,  /**< lower warning limit */
	VIREO_SENSOR_MAX = 1,  /**< upper warning limit */
	VIREO_SENSOR_CRIT = 2, /**< critical limit (upper) */
};

/** Channel flag: min holds a limit. */
#define VIREO_SENSOR_CH_MIN (1u << 0)
/** Channel flag: max holds a limit. */
#define VIREO_SENSOR_CH_MAX (1u << 1)
/** Channel flag: crit holds a limit. */
#define VIREO_SENSOR_CH_CRIT (1u << 2)
/** Channel flag: the limits can be changed with set_threshold. */
#define VIREO_SENSOR_CH_WRITABLE (1u << 3)

/** Longest channel label, in bytes, NUL excluded. */
#define VIREO_SENSOR_LABEL_MAX 31
/** Most channels one instance may have. */
#define VIREO_SENSOR_MAX_CHANNELS 64

/** Longest update_interval_ms the core accepts: one hour. */
#define VIREO_SENSOR_MAX_INTERVAL_MS 3600000u

/**
 * One channel, as get_channel describes it; the core zeroes it and sets struct_size.
 * The core refuses the instance unless: type is a known enum vireo_sensor_type; label is
 * 1 to VIREO_SENSOR_LABEL_MAX printable ASCII characters, NUL-terminated, and no other
 * channel of the instance has it; flags has only VIREO_SENSOR_CH_* bits, and WRITABLE
 * only with at least one limit; the limits present are ordered min <= max <= crit; and
 * update_interval_ms is at most VIREO_SENSOR_MAX_INTERVAL_MS.
 */
struct vireo_sensor_channel {
	uint32_t struct_size;			/**< set by the core */
	uint32_t type;				/**< an enum vireo_sensor_type */
	char label[VIREO_SENSOR_LABEL_MAX + 1]; /**< e.g. "cpu0", "inlet"; NUL-terminated */
	uint32_t flags;				/**< VIREO_SENSOR_CH_* */
	uint32_t update_interval_ms;		/**< how often the value changes; 0: any time */
	int64_t min;				/**< lower limit, if VIREO_SENSOR_CH_MIN */
	int64_t max;				/**< upper limit, if VIREO_SENSOR_CH_MAX */
	int64_t crit;				/**< critical limit, if VIREO_SENSOR_CH_CRIT */
};
VIREO_ABI_SIZE(struct vireo_sensor_channel, 72);

/**
 * @brief Open a sensor instance. Required.
 *
 * @param sensor the new instance.
 * @param params its parameters, checked against the driver's table; valid until close.
 *
 * @return 0 on success; a negative errno to refuse (log why first).
 *
 * Context: the core's control thread; may block.
 */
typedef int (*vireo_sensor_open_t)(struct vireo_sensor *sensor, const struct vireo_params *params);

/**
 * @brief Describe channel @p index. Required.
 *
 * @param sensor the instance.
 * @param index 0, 1, ...: the core asks until -ENOENT (at most VIREO_SENSOR_MAX_CHANNELS).
 * @param ch zeroed by the core but for struct_size.
 *
 * @return 0 on success.
 * @return -ENOENT past the last channel.
 * @return another negative errno on failure (the open fails).
 *
 * Context: the core's control thread, after open(), and again for one index after
 * set_threshold() changed it; may block.
 */
typedef int (*vireo_sensor_get_channel_t)(struct vireo_sensor *sensor, unsigned int index,
					  struct vireo_sensor_channel *ch);

/**
 * @brief Read channel @p index now. Required.
 *
 * @param sensor the instance.
 * @param index a channel get_channel described.
 * @param value where to store the reading, in the channel type's unit.
 *
 * @return 0 on success.
 * @return -EAGAIN if no reading is available yet.
 * @return another negative errno on failure.
 *
 * Context: the core's sensor thread, no more often than update_interval_ms; may wait
 * for a slow bus, briefly (it delays other readings).
 */
typedef int (*vireo_sensor_read_t)(struct vireo_sensor *sensor, unsigned int index, int64_t *value);

/**
 * @brief Release the instance. Optional: NULL means nothing to release.
 *
 * @param sensor the instance.
 *
 * Context: the core's control thread; may block.
 */
typedef void (*vireo_sensor_close_t)(struct vireo_sensor *sensor);

/**
 * @brief Change a limit of a VIREO_SENSOR_CH_WRITABLE channel. Optional: NULL means the
 * limits are read-only (the core answers -EOPNOTSUPP).
 *
 * @param sensor the instance.
 * @param index a writable channel.
 * @param which an enum vireo_sensor_threshold the channel has.
 * @param value the new limit, in the channel type's unit.
 *
 * @return 0 on success: the core then calls get_channel() to read the limit back, so
 * the driver reports what the hardware really holds (rounded to its resolution).
 * @return -ERANGE if the hardware cannot hold @p value; the limit is unchanged.
 * @return -EOPNOTSUPP if this one limit is fixed though others of the channel are not.
 * @return another negative errno on failure.
 *
 * The core calls it only for a VIREO_SENSOR_CH_WRITABLE channel and a limit whose flag
 * the channel has; it does not check the limits' order, which is the hardware's rule.
 *
 * Context: the core's control thread; may block.
 */
typedef int (*vireo_sensor_set_threshold_t)(struct vireo_sensor *sensor, unsigned int index,
					    unsigned int which, int64_t value);

/**
 * The sensor class ops table: `static const`, pointed to by the descriptor's ops.sensor.
 * Required ops come first; the core reads only the first struct_size bytes.
 */
struct vireo_sensor_ops {
	uint32_t struct_size;			    /**< sizeof(struct vireo_sensor_ops) */
	uint32_t reserved0;			    /**< must be zero */
	vireo_sensor_open_t open;		    /**< required */
	vireo_sensor_get_channel_t get_channel;	    /**< required */
	vireo_sensor_read_t read;		    /**< required */
	vireo_sensor_close_t close;		    /**< optional: NULL = nothing to release */
	vireo_sensor_set_threshold_t set_threshold; /**< optional: NULL = read-only limits */
};
VIREO_ABI_SIZE(struct vireo_sensor_ops, 48);

/**
 * @brief Attach the driver's private state to an instance.
 *
 * @param sensor the instance.
 * @param priv anything; the core never looks at it.
 *
 * Context: any thread; usually open().
 */
VIREO_API void vireo_sensor_set_priv(struct vireo_sensor *sensor, void *priv);

/**
 * @brief The private state attached with vireo_sensor_set_priv().
 *
 * @param sensor the instance.
 *
 * @return the pointer; NULL if none was set.
 *
 * Context: any thread.
 */
VIREO_API void *vireo_sensor_priv(const struct vireo_sensor *sensor);

/**
 * @brief The instance's device id, for log lines.
 *
 * @param sensor the instance.
 *
 * @return a string owned by the core, valid until close.
 *
 * Context: any thread.
 */
VIREO_API const char *vireo_sensor_id(const struct vireo_sensor *sensor);

VIREO_END_DECLS

#endif /* VIREO_SENSOR_H */
