/* SPDX-License-Identifier: MIT */
/*
 * Part of libvireo.so.1, for the ABI gate only: it keeps every public struct in the
 * library's debug info, so that abidw and abidiff see them. The types a driver hands
 * the core (the descriptor and all it points to: ops tables, geometry, match and
 * parameter tables) are ABI, yet no exported function of libvireo reaches them. This
 * file exports nothing and holds no code; the gate itself is check-abi.sh.
 */
#include <vireo/blk.h>
#include <vireo/common.h>
#include <vireo/driver.h>
#include <vireo/log.h>
#include <vireo/loop.h>
#include <vireo/net.h>
#include <vireo/params.h>
#include <vireo/sensor.h>
#include <vireo/version.h>

/*
 * One unexported variable per root type; each pulls in the types it reaches. Not a
 * struct of pointers: libabigail would report a change under that wrapper's name,
 * which is not a public type, so the gate would hide it.
 */
#define ABI_ROOT(type, name) __attribute__((used)) static const type *const abi_##name

ABI_ROOT(struct vireo_driver, driver);	       /* ops tables, match, params */
ABI_ROOT(struct vireo_blk_ops, blk_ops);       /* geometry, req, stats */
ABI_ROOT(struct vireo_net_ops, net_ops);       /* pkt, info, link, stats */
ABI_ROOT(struct vireo_sensor_ops, sensor_ops); /* channel */
ABI_ROOT(struct vireo_ratelimit, ratelimit);   /* log.h */
ABI_ROOT(struct vireo_param_decl, param_decl); /* params.h */
