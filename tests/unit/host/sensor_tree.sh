#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds a sysfs-like tree for the sensor-hwmon driver (root=DIR): three hwmon devices
# (one with its attributes under device/, as old drivers have them) and a thermal zone,
# with labels, limits in and out of order, read-only and writable limit files, and a
# label that repeats. tests/unit/host/sensor_hwmon_test.c asserts on exactly this tree.
# Usage: sensor_tree.sh DIR                 build the tree in DIR
#        sensor_tree.sh --run CMD ARGS...   build one in a temporary directory, run CMD
#                                           with "@ROOT@" in ARGS replaced by it
set -eu

# put FILE VALUE [MODE]: one attribute, mode 0444 unless given.
put() {
	mkdir -p "$(dirname "$1")"
	printf '%s\n' "$2" >"$1"
	chmod "${3:-0444}" "$1"
}

build() {
	local r=$1 h
	h=$r/class/hwmon/hwmon0 # an LM75 as the kernel's lm75 driver shows it
	put "$h/name" lm75
	put "$h/update_interval" 500 0644
	put "$h/temp1_input" 45500
	put "$h/temp1_max" 80000 0644
	put "$h/temp1_max_hyst" 75000 0644

	h=$r/class/hwmon/hwmon1 # a Super-I/O chip: every kind, some labelled
	put "$h/name" nct6775
	put "$h/temp1_input" 30000
	put "$h/temp1_label" SYSTIN
	put "$h/temp1_max" 70000 0644
	put "$h/temp1_crit" 90000 0644
	put "$h/temp2_input" 41000
	put "$h/temp2_max" 95000 0644 # above crit: the driver leaves max out
	put "$h/temp2_crit" 85000 0644
	put "$h/in0_input" 1200
	put "$h/in0_label" Vcore
	put "$h/in0_min" 1100
	put "$h/in0_max" 1300
	put "$h/curr1_input" 5000
	put "$h/power1_average" 96000000
	put "$h/fan1_input" 2400
	put "$h/fan1_min" 600 0644
	put "$h/fan1_div" 8 0644

	h=$r/class/hwmon/hwmon10/device # old layout; numeric order puts it after hwmon1
	mkdir -p "$r/class/hwmon/hwmon10"
	put "$h/name" oldchip
	put "$h/temp1_input" 38000

	h=$r/class/thermal/thermal_zone0
	put "$h/type" SYSTIN # the same label as hwmon1's temp1
	put "$h/temp" 27800
	put "$h/trip_point_0_type" passive
	put "$h/trip_point_0_temp" 95000 0644
	put "$h/trip_point_1_type" critical
	put "$h/trip_point_1_temp" 105000 0644
	mkdir -p "$r/class/thermal/cooling_device0" # not a zone: ignored
}

if [[ ${1:-} == --run ]]; then
	shift
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	build "$tmp"
	args=()
	for a in "$@"; do
		args+=("${a//@ROOT@/$tmp}")
	done
	"${args[@]}"
	exit
fi
[[ $# -eq 1 ]] || { echo "usage: $0 DIR | --run CMD ARGS..." >&2; exit 2; }
build "$1"
