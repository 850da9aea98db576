/* SPDX-License-Identifier: MIT */
/*
 * vireod's devices: creating one from a spec (finding its driver, building the device
 * model, starting its socket), listing, removing and reporting them as JSON for the
 * control socket. Owns the device list and its lock; the models own their devices.
 */
#ifndef VIREO_DAEMON_DEVICES_H
#define VIREO_DAEMON_DEVICES_H

#include <stddef.h>
#include <stdint.h>

struct ctl_pending;
struct json_object;
struct host_registry;
struct vd_spec;
struct vd_devices;

/** vd_devices_new() - An empty device list over the loaded drivers in @reg. */
int vd_devices_new(struct host_registry *reg, struct vd_devices **out);

/** vd_devices_free() - Remove every device (draining in-flight I/O) and free. */
void vd_devices_free(struct vd_devices *devs);

/**
 * vd_device_add() - Create and start the device @spec describes; @spec is consumed
 * (moved into the device) on success and left to the caller on failure.
 * @err: on failure, one line naming the device and what is wrong.
 * Return: 0, -EEXIST (id or socket in use), -ENOENT (no such driver), -EINVAL,
 * -ENOTSUP (class not served yet), or another negative errno.
 * Context: any thread (takes the list's lock).
 */
int vd_device_add(struct vd_devices *devs, struct vd_spec *spec, char *err, size_t errlen);

/**
 * vd_device_remove() - Stop and remove device @id (in-flight requests complete
 * first). Return: 0 or -ENOENT.
 */
int vd_device_remove(struct vd_devices *devs, const char *id);

/** vd_devices_json() - [{id, class, driver, socket, connected, ...}, ...]. */
struct json_object *vd_devices_json(struct vd_devices *devs);

/** vd_device_stats_json() - Counters of device @id, or NULL if there is none. */
struct json_object *vd_device_stats_json(struct vd_devices *devs, const char *id);

/**
 * vd_sensors_json() - The sensor devices and their channels: [{id, driver, channels:
 * [{index, label, type, unit, min, max, crit, writable, update_interval_ms}]}]; only
 * device @id if it is not NULL. Return: the array, or NULL (@err set) for no such device.
 */
struct json_object *vd_sensors_json(struct vd_devices *devs, const char *id, char *err,
				    size_t errlen);

/**
 * vd_sensor_read_json() - The cached readings of sensor device @id: {id, driver,
 * channels: [{index, label, type, unit, value, error, age_ms, reads, errors}]}, only
 * channel @channel (a label or an index) if it is not NULL.
 * Return: the object, or NULL with @err set.
 */
struct json_object *vd_sensor_read_json(struct vd_devices *devs, const char *id,
					const char *channel, char *err, size_t errlen);

/**
 * vd_sensor_set() - Set limit @limit ("min", "max", "crit") of @channel of sensor
 * device @id to @value. Return: the channel as vd_sensors_json() shows it, read back,
 * or NULL with @err set.
 */
struct json_object *vd_sensor_set(struct vd_devices *devs, const char *id, const char *channel,
				  const char *limit, int64_t value, char *err, size_t errlen);

/** vd_device_count() - How many devices run. */
size_t vd_device_count(struct vd_devices *devs);

/**
 * vd_agent_command() - Start guest command @name ("guest.info", see agent/commands.h)
 * on the agent of vsock device @id; @p is answered when the guest does.
 * Return: 0, or -ENOENT (no device), -ENOTSUP (not vsock, or its agent client is off),
 * -EINVAL (bad @args) with @err set.
 * Context: the control thread.
 */
int vd_agent_command(struct vd_devices *devs, const char *id, const char *name,
		     struct json_object *args, struct ctl_pending *p, char *err, size_t errlen);

#endif /* VIREO_DAEMON_DEVICES_H */
