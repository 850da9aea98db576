#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sensor-hwmon on a real kernel's hwmon: in a lab guest (booted with --hostroot, so
# this build's vireod, vireoctl and vireo-certify run there on the guest's kernel), the
# kernel's own lm75 driver binds an LM75 at 0x48 and makes a hwmon device; vireod serves
# it as a sensor device; a temperature change of the chip reaches `vireoctl sensor
# read`, a limit set through vireoctl reaches the chip's Tos register, and vireo-certify
# passes on the guest's real /sys.
#
# The chip: QEMU 7.2 as Debian builds it for x86_64 has no tmp105/lm75 model (`-device
# help` lists only i2c-ddc and smbus-ipmi on i2c-bus), so the LM75 is the kernel's
# i2c-stub (an SMBus adapter whose chips are register files) at 0x48; the lm75 driver
# reads and writes its registers exactly as it would a real chip's, and the test
# changes the temperature register from outside vireod with i2cset (-f: the lm75
# driver owns the address).
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
it_begin "sensor/hwmon-lm75-$series"
g=sensor-$series
b=$VIREO_BUILD_ROOT
it_boot "$g" --kernel "$series" --hostroot --mem 768

# LM75 registers hold a big-endian 9-bit temperature in 1/256 C steps; SMBus words are
# little-endian, so the stub holds each byte-swapped: 45.5 C = 0x2d80 -> 0x802d.
lm75_word() { # millidegrees -> the stub's word
	local v=$(($1 * 256 / 1000))
	printf '0x%04x' $(((v >> 8 & 0xff) | (v & 0xff) << 8))
}

bus=$(lab_host "$g" 'modprobe i2c-stub chip_addr=0x48 && modprobe i2c-dev && modprobe lm75 &&
	for a in /sys/bus/i2c/devices/i2c-*; do
		grep -q "SMBus stub" $a/name && basename $a | cut -d- -f2
	done') || it_fail "could not load i2c-stub, i2c-dev and lm75"
[[ $bus =~ ^[0-9]+$ ]] || it_fail "no i2c-stub adapter (got '$bus')"
echo "ok: i2c-stub is bus $bus"
# Temperature 45.5 C, Thyst 75 C, Tos 80 C, before the driver reads them at probe.
lab_run "$g" "i2cset -y $bus 0x48 0 $(lm75_word 45500) w && i2cset -y $bus 0x48 2 $(lm75_word 75000) w &&
	i2cset -y $bus 0x48 3 $(lm75_word 80000) w" || it_fail "i2cset on the stub failed"
lab_host "$g" "echo lm75 0x48 >/sys/bus/i2c/devices/i2c-$bus/new_device" ||
	it_fail "could not instantiate lm75 at 0x48"
hw=$(lab_host "$g" 'for h in /sys/class/hwmon/hwmon*; do [ "$(cat $h/name)" = lm75 ] && echo $h; done')
[[ -n $hw ]] || it_fail "the lm75 driver made no hwmon device"
it_expect_eq "the kernel's $hw/temp1_input" 45500 "$(lab_host "$g" "cat $hw/temp1_input")"

# vireod in the guest, from this build, serving the guest's hwmon.
lab_host "$g" "setsid '$b/vmm-core/daemon/vireod' --control /tmp/v.sock --log-level debug \
	--device sensor,id=hw,driver=hwmon,thermal=off </dev/null >/tmp/vireod.log 2>&1 &
	echo \$! >/tmp/vireod.pid
	for i in \$(seq 100); do [ -S /tmp/v.sock ] && exit 0; sleep 0.1; done; cat /tmp/vireod.log; exit 1" ||
	it_fail "vireod did not start in the guest"
ctl="'$b/vmm-core/daemon/vireoctl' --control /tmp/v.sock"
# The value a channel shows, from vireoctl's JSON ("value":N).
read_value() {
	lab_host "$g" "$ctl --json sensor read hw lm75:temp1" | tr -d ' \n' |
		sed -n 's/.*"value":\(-\{0,1\}[0-9]*\).*/\1/p'
}
# wait_value WANT: vireod reads lm75 every update_interval (500 ms); give it 20 s.
wait_value() {
	local v
	for _ in $(seq 40); do
		v=$(read_value)
		[[ $v == "$1" ]] && break
		sleep 0.5
	done
	it_expect_eq "vireoctl sensor read hw lm75:temp1" "$1" "$v"
}
lab_host "$g" "$ctl sensor list hw" || it_fail "vireoctl sensor list failed"
wait_value 45500

# The chip gets warmer: the next reading shows it.
lab_run "$g" "i2cset -f -y $bus 0x48 0 $(lm75_word 52000) w" || it_fail "i2cset failed"
t0=$(date +%s%N)
wait_value 52000
echo "note: change to vireoctl reading: $((($(date +%s%N) - t0) / 1000000)) ms (TCG; not pass/fail)"
lab_run "$g" "i2cset -f -y $bus 0x48 0 $(lm75_word -10500) w" || it_fail "i2cset failed"
wait_value -10500

# A limit set through vireod lands in the chip's Tos register.
lab_host "$g" "$ctl sensor set hw lm75:temp1 max 70000" || it_fail "vireoctl sensor set failed"
it_expect_eq "Tos register after 'sensor set ... max 70000'" "$(lm75_word 70000)" \
	"$(lab_run "$g" "i2cget -f -y $bus 0x48 3 w")"
it_expect_eq "$hw/temp1_max" 70000 "$(lab_host "$g" "cat $hw/temp1_max")"

lab_host "$g" 'kill $(cat /tmp/vireod.pid); for i in $(seq 100); do kill -0 $(cat /tmp/vireod.pid) 2>/dev/null || exit 0; sleep 0.1; done; exit 1' ||
	it_fail "vireod did not stop on SIGTERM"
log=$(lab_host "$g" 'cat /tmp/vireod.log')
if grep -qE 'Sanitizer|runtime error' <<<"$log"; then
	echo "$log" | tail -n 30
	it_fail "vireod's sanitizers complained"
fi

# vireo-certify on the guest's real sysfs (it moves Tos one step and puts it back).
out=$(lab_host "$g" "'$b/vmm-core/certify/vireo-certify' --param thermal=off --seed 1 \
	'$b/drivers/sensor/hwmon/sensor-hwmon.so'") || { echo "$out"; it_fail "vireo-certify failed in the guest"; }
echo "$out" | grep -E '^(PASS|FAIL|SKIP) |^certify: sensor'
it_expect_match "certify summary" 'certify: sensor-hwmon: [0-9]+ passed, 0 failed' "$out"

lab_shutdown "$g" || it_fail "shutdown failed"
it_pass
