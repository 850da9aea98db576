/* SPDX-License-Identifier: MIT */
/*
 * The sensor service: a sensor driver bound to one device. Opens an instance with the
 * user's parameters, asks for its channels and checks each description (the driver is
 * untrusted: type, label, flags, limits, interval, count), then reads every channel on
 * its own sensor thread no more often than the channel's update interval and caches
 * the last value, when it was taken and the last error. Limits change through
 * set_threshold, read back with get_channel. Owns the instances and their cache; not
 * how they are shown (vireod's control commands, a guest-facing device model).
 *
 * Device models find a channel by device id and channel index or label
 * (host_sensor_ref_get()) and read its cached value from any thread; a reference keeps
 * the cache alive after the device is removed (reads then fail with -ENODEV).
 *
 * Threading: open, close, channel descriptions and set_threshold run on the control
 * thread; reads of the driver run on the instance's sensor thread; cached values are
 * read from any thread. One lock per instance serialises every driver op, so a driver
 * never sees two ops of one instance at once.
 */
#ifndef VIREO_HOST_SENSORDEV_H
#define VIREO_HOST_SENSORDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vireo/sensor.h>

#include "host/loader.h"

struct host_sensor;

/** Poll period of a channel whose update_interval_ms is 0 ("any time"). */
#define HOST_SENSOR_DEFAULT_PERIOD_MS 1000u
/** Shortest poll period: a channel that changes faster is still read at most this often. */
#define HOST_SENSOR_MIN_PERIOD_MS 100u

/** Why the core refused a channel description. Tests assert on these. */
enum host_sensor_refusal {
	HOST_SENSOR_OK = 0,
	HOST_SENSOR_BAD_TYPE,	  /* not an enum vireo_sensor_type */
	HOST_SENSOR_BAD_LABEL,	  /* empty, unterminated, not printable ASCII */
	HOST_SENSOR_DUP_LABEL,	  /* another channel of the instance has it */
	HOST_SENSOR_BAD_FLAGS,	  /* unknown bits, or WRITABLE without a limit */
	HOST_SENSOR_BAD_LIMITS,	  /* not min <= max <= crit */
	HOST_SENSOR_BAD_INTERVAL, /* above VIREO_SENSOR_MAX_INTERVAL_MS */
	HOST_SENSOR_TOO_MANY,	  /* more than VIREO_SENSOR_MAX_CHANNELS */
	HOST_SENSOR_NO_CHANNELS,  /* -ENOENT for index 0 */
	HOST_SENSOR_REFUSAL_MAX,
};

/** host_sensor_refusal_name() - "bad-type", ...; "?" out of range. */
const char *host_sensor_refusal_name(enum host_sensor_refusal reason);

/**
 * host_sensor_check_channel() - The rules of <vireo/sensor.h> for one description
 * (the label's uniqueness excepted: that needs the others).
 * @why: on refusal, what is wrong, in a few words with the values.
 * Return: HOST_SENSOR_OK or the reason.
 */
enum host_sensor_refusal host_sensor_check_channel(const struct vireo_sensor_channel *ch, char *why,
						   size_t len);

/** host_sensor_type_name() - "temperature", "voltage", ...; "?" for anything else. */
const char *host_sensor_type_name(uint32_t type);

/** host_sensor_unit() - "mC", "mV", "mA", "uW", "RPM"; "?" for anything else. */
const char *host_sensor_unit(uint32_t type);

/** host_sensor_threshold_name() - "min", "max", "crit"; "?" for anything else. */
const char *host_sensor_threshold_name(unsigned int which);

/**
 * host_sensor_plausible() - Whether @value can be a real reading of a channel of
 * @type: temperatures from absolute zero to 2000 C, voltages and currents within
 * +-1 MV/MA... (see sensordev.c), power and fan speed not negative.
 */
bool host_sensor_plausible(uint32_t type, int64_t value);

/**
 * host_sensor_open() - Open an instance of sensor driver @drv for device @id and
 * check its channels. The sensor thread is not started: host_sensor_start().
 * @keys: the driver parameters the user gave, @nparams of them, with @values.
 * @err: on failure, one line naming the driver, the device and the problem.
 * Return: 0, -EINVAL (not a sensor driver, bad parameter, bad channel), -ENOMEM, or
 * the driver's open/get_channel error.
 */
int host_sensor_open(struct host_driver *drv, const char *id, const char *const *keys,
		     const char *const *values, size_t nparams, struct host_sensor **out, char *err,
		     size_t errlen);

/**
 * host_sensor_start() - Start the sensor thread (each channel is read at once, then
 * every period) and make the instance findable by host_sensor_ref_get().
 * Return: 0 or a negative errno.
 */
int host_sensor_start(struct host_sensor *hs);

/**
 * host_sensor_close() - Stop the thread, close the driver's instance and drop the
 * core's reference. Outstanding refs keep the cache (reads then give -ENODEV).
 */
void host_sensor_close(struct host_sensor *hs);

/** host_sensor_id() - The device id. */
const char *host_sensor_id(const struct host_sensor *hs);

/** host_sensor_driver() - The driver's name. */
const char *host_sensor_driver(const struct host_sensor *hs);

/** host_sensor_num_channels() - How many channels the instance has (>= 1). */
unsigned int host_sensor_num_channels(const struct host_sensor *hs);

/**
 * host_sensor_channel() - A copy of channel @index's checked description (limits as
 * last read back). Return: 0, or -ENOENT past the last channel.
 */
int host_sensor_channel(struct host_sensor *hs, unsigned int index,
			struct vireo_sensor_channel *out);

/**
 * host_sensor_find() - The index of the channel named @name: a label, else a decimal
 * index. Return: the index, or -ENOENT.
 */
int host_sensor_find(struct host_sensor *hs, const char *name);

/** The cached state of one channel. */
struct host_sensor_reading {
	bool valid;	       /* a value was read at least once */
	int64_t value;	       /* the last good value, in the type's unit */
	uint64_t timestamp_ns; /* CLOCK_MONOTONIC time of that value */
	int error;	       /* 0, or the last read's negative errno (value is older) */
	uint64_t reads;	       /* calls of the driver's read */
	uint64_t errors;       /* of which failed or gave an implausible value */
	uint32_t period_ms;    /* how often the thread reads the channel */
};

/** host_sensor_get() - The cached state of channel @index. Return: 0 or -ENOENT. */
int host_sensor_get(struct host_sensor *hs, unsigned int index, struct host_sensor_reading *out);

/**
 * host_sensor_poll() - Read, now, every channel that is due at @now_ns (CLOCK_MONOTONIC)
 * and cache the results. The sensor thread calls it; tests call it with their own
 * clock instead of starting the thread.
 * Return: how many channels were read; *next_ns (may be NULL) gets when the next is due.
 */
unsigned int host_sensor_poll(struct host_sensor *hs, uint64_t now_ns, uint64_t *next_ns);

/**
 * host_sensor_set_threshold() - Change limit @which of channel @index and read it back.
 * Return: 0, -ENOENT (no such channel), -EINVAL (@which unknown or absent on the
 * channel), -EOPNOTSUPP (limits read-only), -ERANGE (the hardware cannot hold it), -EIO
 * (the driver's read-back broke a rule; the old description stays), or the driver's error.
 * Context: control thread.
 */
int host_sensor_set_threshold(struct host_sensor *hs, unsigned int index, unsigned int which,
			      int64_t value);

/* ---- for vireo-certify: the driver's ops without the core's guards ---- */

/*
 * host_sensor_raw_get_channel(), host_sensor_raw_read(), host_sensor_raw_set_threshold()
 * - Call the driver's op as is (serialised with the others, nothing checked, the
 * result not converted), so a harness can see how the driver treats what the core
 * never passes it: a bad index, a limit of a read-only channel.
 * Return: the op's result; -ENOSYS for set_threshold when the driver has none.
 */
int host_sensor_raw_get_channel(struct host_sensor *hs, unsigned int index,
				struct vireo_sensor_channel *ch);
int host_sensor_raw_read(struct host_sensor *hs, unsigned int index, int64_t *value);
int host_sensor_raw_set_threshold(struct host_sensor *hs, unsigned int index, unsigned int which,
				  int64_t value);

/* ---- for device models: a channel by device id ---- */

/** A counted reference to one channel of an open (or since closed) instance. */
struct host_sensor_ref {
	struct host_sensor *hs;
	unsigned int index;
};

/**
 * host_sensor_ref_get() - Find channel @channel (a label or a decimal index) of the
 * started sensor device @id and take a reference on it.
 * Return: 0, -ENODEV (no such sensor device), -ENOENT (no such channel).
 * Context: any thread.
 */
int host_sensor_ref_get(const char *id, const char *channel, struct host_sensor_ref *ref);

/**
 * host_sensor_ref_read() - The channel's latest value and when it was taken.
 * @timestamp_ns: CLOCK_MONOTONIC (may be NULL).
 * Return: 0, -EAGAIN (nothing read yet), -ENODEV (device removed), or the last read's
 * error (@value then holds the last good value, if any).
 * Context: any thread; never calls the driver.
 */
int host_sensor_ref_read(const struct host_sensor_ref *ref, int64_t *value, uint64_t *timestamp_ns);

/** host_sensor_ref_put() - Drop the reference. */
void host_sensor_ref_put(struct host_sensor_ref *ref);

#endif /* VIREO_HOST_SENSORDEV_H */
