#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vireod's sensor devices on the host, no guest: sensor-synth and sensor-hwmon (over the
# tree tests/unit/host/sensor_tree.sh builds) from the command line, the config file and
# `vireoctl device add`; `vireoctl sensor list|read|set` as tables and JSON, and what
# they refuse; a reading that follows the hwmon tree; device remove.
source "$(dirname "$0")/../lib.sh"
it_begin "sensor/vireod"
command -v jq >/dev/null || it_skip "jq (tests/lab/deps.sh) is not installed"
tree=$IT_TMP/sys
bash "$IT_ROOT/tests/unit/host/sensor_tree.sh" "$tree" || it_fail "could not build the tree"
cat >"$IT_TMP/vireod.json" <<JSON
{ "devices": [ { "class": "sensor", "id": "hw", "driver": "hwmon", "root": "$tree",
                 "interval-ms": 100 } ] }
JSON
it_vireod "$IT_TMP" --config "$IT_TMP/vireod.json" \
	--device sensor,id=board,driver=sensor-synth,interval-ms=100,cpu-temp=50000

# json FILTER ARGS...: the jq FILTER of vireoctl --json ARGS' output.
json() {
	local filter=$1 out
	shift
	out=$(it_vireoctl --json "$@") || it_fail "vireoctl --json $* failed: $out"
	jq -r "$filter" <<<"$out"
}

it_expect_eq "sensor devices" "board hw" "$(json '[.[].id] | sort | join(" ")' sensor list)"
it_expect_eq "board's channels" "cpu inlet vcore psu-12v-current psu-12v-power fan1" \
	"$(json '[.[0].channels[].label] | join(" ")' sensor list board)"
it_expect_eq "hw's channel count" 9 "$(json '.[0].channels | length' sensor list hw)"
it_expect_eq "Vcore's limits" "1100 1300 null false" \
	"$(json '.[0].channels[3] | "\(.min) \(.max) \(.crit) \(.writable)"' sensor list hw)"
table=$(it_vireoctl sensor list) || it_fail "vireoctl sensor list failed"
it_expect_match "sensor list table" 'hw +0 +lm75:temp1 +temperature +mC +- +80000 +- +yes +100' "$table"

# Values: the synthetic CPU walks 2.5 C around cpu-temp; the first read is at once.
for _ in $(seq 50); do
	v=$(json '.channels[0].value' sensor read board cpu)
	[[ $v != null ]] && break
	sleep 0.1
done
[[ $v =~ ^[0-9]+$ ]] && ((v >= 47500 && v <= 52500)) ||
	it_fail "board cpu reading: expected 50 C +- 2.5 C (cpu-temp=50000), got '$v'"
echo "ok: board cpu reads $v"
it_expect_eq "reading by index is the same channel" cpu "$(json '.channels[0].label' sensor read board 0)"
table=$(it_vireoctl sensor read hw) || it_fail "vireoctl sensor read hw failed"
it_expect_match "sensor read table" '0 +lm75:temp1 +temperature +45500 +mC +45\.500 C' "$table"
it_expect_match "sensor read table, power" 'nct6775:power1 +power +96000000 +uW +96\.000 W' "$table"

# The tree's chip warms up: the next read shows it (every 100 ms, the config's interval-ms).
chmod u+w "$tree/class/hwmon/hwmon0/temp1_input"
echo 61250 >"$tree/class/hwmon/hwmon0/temp1_input"
for _ in $(seq 50); do
	v=$(json '.channels[0].value' sensor read hw lm75:temp1)
	[[ $v == 61250 ]] && break
	sleep 0.1
done
it_expect_eq "lm75:temp1 after the change" 61250 "$v"

# Limits: set, read back, refused.
it_expect_eq "set hw lm75:temp1 max" 82000 "$(json .max sensor set hw lm75:temp1 max 82000)"
it_expect_eq "the file" 82000 "$(cat "$tree/class/hwmon/hwmon0/temp1_max")"
it_expect_eq "set board cpu max (0.5 C steps)" 80500 "$(json .max sensor set board cpu max 80400)"
err=$(it_vireoctl sensor set hw Vcore max 1250 2>&1) && it_fail "a read-only limit was set"
it_expect_match "read-only limit" "read-only" "$err"
err=$(it_vireoctl sensor set board cpu max 999999999 2>&1) && it_fail "an impossible limit was set"
it_expect_match "impossible limit" "cannot hold" "$err"
err=$(it_vireoctl sensor set board cpu hyst 1 2>&1) && it_fail "an unknown limit was set"
it_expect_match "unknown limit" "min, max or crit" "$err"
err=$(it_vireoctl sensor read board gpu 2>&1) && it_fail "an unknown channel was read"
it_expect_match "unknown channel" "no channel 'gpu'" "$err"
err=$(it_vireoctl sensor read nope 2>&1) && it_fail "an unknown device was read"
it_expect_match "unknown device" "no sensor device 'nope'" "$err"

# Added and removed at run time; specs a sensor device cannot have.
it_vireoctl device add sensor,id=b2,driver=synth,channels=2 >/dev/null || it_fail "device add failed"
it_expect_eq "b2's channels" 2 "$(json '.[0].channels | length' sensor list b2)"
it_expect_eq "device stats of b2" "sensor 2" "$(json '"\(.class) \(.channels)"' device stats b2)"
err=$(it_vireoctl device add sensor,id=b3,driver=synth,socket=/tmp/x.sock 2>&1) && it_fail "a socket was taken"
it_expect_match "sensor with a socket" "a sensor device has none" "$err"
err=$(it_vireoctl device add sensor,id=b3,driver=blk-ram 2>&1) && it_fail "a blk driver served a sensor"
it_expect_match "blk driver as sensor" "is a blk driver, not sensor" "$err"
err=$(it_vireoctl device add sensor,id=b3,driver=synth,channels=9 2>&1) && it_fail "a bad parameter was taken"
it_expect_match "bad parameter" "channels 9" "$(tail -n 5 "$IT_VIREOD_LOG")"
it_vireoctl device remove b2 >/dev/null || it_fail "device remove failed"
err=$(it_vireoctl sensor list b2 2>&1) && it_fail "b2 is still listed"

it_vireod_stop
it_expect_eq "vireod's exit status" 0 "$IT_VIREOD_RC"
it_pass
