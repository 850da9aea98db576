// SPDX-License-Identifier: MIT
/*
 * Fuzz target: device specs, as text (`--device`, `vireoctl device add`) and as JSON
 * (the config file, the control socket). Any input either parses into a spec that
 * passes its own checks or is refused with a message.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[256];
	struct json_object *obj;
	struct vd_spec spec;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (vd_spec_parse(text, &spec, err, sizeof(err)) == 0) {
		if (!spec.id || !spec.socket || spec.num_queues < 1 ||
		    spec.num_queues > VD_MAX_QUEUES)
			abort(); /* a spec that parsed must satisfy its own rules */
		vd_spec_free(&spec);
	}
	obj = json_tokener_parse(text);
	if (obj) {
		if (vd_spec_from_json(obj, &spec, err, sizeof(err)) == 0)
			vd_spec_free(&spec);
		json_object_put(obj);
	}
	free(text);
	return 0;
}
