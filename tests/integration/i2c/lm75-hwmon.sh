#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A guest's vireo_i2c drives vireod's virtio-i2c bus (QEMU's vhost-user-i2c-pci, a
# 4-entry ring): guest-tools/i2c-sensors finds the two LM75s with zero-length probes
# and the kernel's lm75 driver shows them in hwmon. Sensor 0x48 is fed by the
# sensor-hwmon driver from a sysfs-like tree this test writes, 0x4b by a constant.
# Checked: hwmon equals the host values to the LM75's 0.5 °C; a host change reaches
# the guest (the latency is printed, not judged); limits written in the guest read
# back in the guest and in vireoctl, where the O.S. alert shows; an absent address
# fails cleanly; rmmod/modprobe vireo_i2c brings the sensors back; no oops.
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
it_begin "i2c/lm75-hwmon-$series"

# The host's "hardware": one hwmon device with a labelled temperature.
tree=$IT_TMP/sys
hw=$tree/class/hwmon/hwmon0
mkdir -p "$hw"
echo board >"$hw/name"
echo inlet >"$hw/temp1_label"
echo 41300 >"$hw/temp1_input"
it_vireod "$IT_TMP" \
	--device "sensor,id=host0,driver=sensor-hwmon,root=$tree,interval-ms=100" \
	--device "i2c,id=i2c0,socket=$IT_TMP/i2c0.sock,sensor=0x48:host0:inlet,sensor=0x4b:const:-12500"

g=i2c-lm75-$series
it_boot "$g" --kernel "$series" -- \
	-chardev "socket,id=i2c0,path=$IT_TMP/i2c0.sock" -device vhost-user-i2c-pci,chardev=i2c0
lab_copy_in "$g" "$IT_ROOT/guest-tools/i2c-sensors" /sbin/i2c-sensors || it_fail "copy-in failed"
lab_run "$g" 'chmod +x /sbin/i2c-sensors && modprobe vireo_i2c' || it_fail "modprobe vireo_i2c failed"
bus=$(lab_run "$g" 'for a in /sys/bus/i2c/devices/i2c-*; do
	case $(cat $a/name) in "Vireo virtio-i2c"*) echo ${a##*/i2c-};; esac; done')
[[ $bus =~ ^[0-9]+$ ]] || it_fail "no Vireo virtio-i2c adapter (got '$bus'): $(lab_run "$g" 'dmesg | tail -n 5')"
echo "ok: adapter i2c-$bus"
it_expect_match "probe message" 'zero-length requests' "$(lab_run "$g" 'dmesg | grep "Vireo virtio-i2c"')"

it_expect_eq "sensors found" $'i2c-'"$bus"$' 0x48: lm75\ni2c-'"$bus"' 0x4b: lm75' \
	"$(lab_run "$g" i2c-sensors)"
# temp1_input of the lm75 at ADDR on our bus.
hwmon_of() {
	printf '/sys/bus/i2c/devices/%s-00%s/hwmon/hwmon*' "$bus" "$1"
}
temp() {
	lab_run "$g" "cat $(hwmon_of "$1")/$2"
}
it_expect_eq "0x48 temp1_input (host 41.3 C)" 41500 "$(temp 48 temp1_input)"
it_expect_eq "0x4b temp1_input (host -12.5 C)" -12500 "$(temp 4b temp1_input)"
it_expect_eq "hwmon name" lm75 "$(lab_run "$g" "cat $(hwmon_of 48)/name")"

# A host change reaches the guest's hwmon: poll, and report how long it took.
echo 47260 >"$hw/temp1_input"
start=$(date +%s%N)
for _ in $(seq 100); do
	v=$(temp 48 temp1_input)
	[[ $v == 47500 ]] && break
	sleep 0.05
done
it_expect_eq "0x48 after the host changed to 47.26 C" 47500 "$v"
echo "figure: host change to guest hwmon in $((($(date +%s%N) - start) / 1000000)) ms" \
	"(sensor poll 100 ms + LM75 conversion 100 ms + guest read under TCG)"

# Limits written in the guest read back, there and on the host.
h48=$(lab_run "$g" "echo $(hwmon_of 48)")
lab_run "$g" "echo 45000 >$h48/temp1_max && echo 40000 >$h48/temp1_max_hyst" ||
	it_fail "writing limits failed"
it_expect_eq "temp1_max read back" 45000 "$(temp 48 temp1_max)"
it_expect_eq "temp1_max_hyst read back" 40000 "$(temp 48 temp1_max_hyst)"
stats=$(it_vireoctl --json device stats i2c0)
it_expect_match "TOS on the host" '"tos_mc": ?45000' "$stats"
it_expect_match "THYST on the host" '"thyst_mc": ?40000' "$stats"
# 47.5 C is over TOS: the O.S. output is active (comparator mode, active low).
it_expect_match "O.S. alert active" '"os_active": ?true,[[:space:]]*"os_pin": ?"low"' "$stats"
[[ $stats =~ \"refused_[a-z_]*\":\ ?[1-9] ]] && it_fail "requests refused: $stats"
echo "ok: no request refused"
grep -q 'sensor 0x48 O.S. active' "$IT_VIREOD_LOG" || it_fail "no O.S. line in vireod's log"
echo "ok: O.S. change logged"

# An absent address fails cleanly.
lab_run "$g" "i2cget -y $bus 0x4c 0x00 b" >/dev/null 2>&1 && it_fail "i2cget of absent 0x4c succeeded"
echo "ok: absent 0x4c refused"
# lm75 owns 0x4b: -f. Register 0xf380 (-12.5 C) as an SMBus word, LSB first.
out=$(lab_run "$g" "i2cget -f -y $bus 0x4b 0x00 w 2>&1") || it_fail "i2cget of 0x4b failed after the absent one: $out"
it_expect_eq "0x4b temperature register (-12.5 C) after the absent one" 0x80f3 "$out"

# Unload and reload: the clients go with the adapter, then come back.
lab_run "$g" 'rmmod vireo_i2c' || it_fail "rmmod vireo_i2c failed"
lab_run "$g" "test ! -e /sys/bus/i2c/devices/$bus-0048" || it_fail "client 0x48 outlived its adapter"
lab_run "$g" 'modprobe vireo_i2c && i2c-sensors >/dev/null' || it_fail "reload failed"
bus=$(lab_run "$g" 'for a in /sys/bus/i2c/devices/i2c-*; do
	case $(cat $a/name) in "Vireo virtio-i2c"*) echo ${a##*/i2c-};; esac; done')
it_expect_eq "0x48 after reload" 47500 "$(temp 48 temp1_input)"
it_expect_eq "0x48 limit kept by the device" 45000 "$(temp 48 temp1_max)"

oops=$(lab_run "$g" 'dmesg | grep -E "Oops|BUG:|WARNING:|Call Trace" | head -n 3')
[[ -z $oops ]] || it_fail "kernel complained: $oops"
echo "ok: no oops"
lab_shutdown "$g"
it_vireod_stop
it_expect_eq "vireod exit status after SIGTERM" 0 "$IT_VIREOD_RC"
it_pass
