#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A guest's vireo_i2c drives two of vireod's virtio-i2c buses (QEMU's
# vhost-user-i2c-pci, a 4-entry ring; the second without indirect descriptors, so one
# request fits at a time): guest-tools/i2c-sensors finds the LM75s with zero-length
# probes and the kernel's lm75 driver shows them in hwmon. Sensor 0x48 is fed by the
# sensor-hwmon driver from a sysfs-like tree this test writes, 0x4b by a constant,
# 0x4d (second bus) by a file. Checked: hwmon equals the host values to the LM75's
# 0.5 °C; a host change reaches the guest (the latency is printed, not judged);
# limits written in the guest read back in the guest and in vireoctl, where the O.S.
# alert shows; lm-sensors lists the chips; transfers longer than the ring, and a
# failing one that does not poison the next; an absent address fails cleanly; a
# device that stops answering times out and recovers;
# rmmod/modprobe vireo_i2c brings the sensors back; no oops.
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
echo 30000 >"$IT_TMP/t4d"
it_vireod "$IT_TMP" \
	--device "sensor,id=host0,driver=sensor-hwmon,root=$tree,interval-ms=100" \
	--device "i2c,id=i2c0,socket=$IT_TMP/i2c0.sock,sensor=0x48:host0:inlet,sensor=0x4b:const:-12500" \
	--device "i2c,id=i2c1,socket=$IT_TMP/i2c1.sock,sensor=0x4d:file:$IT_TMP/t4d"

g=i2c-lm75-$series
it_boot "$g" --kernel "$series" --hostroot -- \
	-chardev "socket,id=i2c0,path=$IT_TMP/i2c0.sock" -device vhost-user-i2c-pci,chardev=i2c0 \
	-chardev "socket,id=i2c1,path=$IT_TMP/i2c1.sock" \
	-device vhost-user-i2c-pci,chardev=i2c1,indirect_desc=off,event_idx=off
lab_copy_in "$g" "$IT_ROOT/guest-tools/i2c-sensors" /sbin/i2c-sensors || it_fail "copy-in failed"
lab_run "$g" 'chmod +x /sbin/i2c-sensors && modprobe vireo_i2c' || it_fail "modprobe vireo_i2c failed"
# Sets bus (the adapter with 0x48) and bus2 (the other Vireo adapter), after a scan.
find_buses() {
	local b
	bus= bus2=
	for b in $(lab_run "$g" 'for a in /sys/bus/i2c/devices/i2c-*; do
		case $(cat $a/name) in "Vireo virtio-i2c"*) echo ${a##*/i2c-};; esac; done'); do
		if lab_run "$g" "test -e /sys/bus/i2c/devices/$b-0048"; then bus=$b; else bus2=$b; fi
	done
	[[ -n $bus && -n $bus2 ]] || it_fail "expected two Vireo adapters, one with 0x48: $(lab_run "$g" 'dmesg | tail -n 5')"
}
probe=$(lab_run "$g" 'dmesg | grep "Vireo virtio-i2c"')
it_expect_match "probe message, indirect ring" '4-entry queue, indirect, zero-length requests' "$probe"
it_expect_match "probe message, direct ring" '4-entry queue, zero-length requests' "$probe"

found=$(lab_run "$g" i2c-sensors | sort)
find_buses
echo "ok: adapters i2c-$bus and i2c-$bus2"
it_expect_eq "sensors found" "$(printf 'i2c-%s 0x48: lm75\ni2c-%s 0x4b: lm75\ni2c-%s 0x4d: lm75' \
	"$bus" "$bus" "$bus2" | sort)" "$found"
# temp1_input of the lm75 at ADDR on our bus.
hwmon_of() {
	printf '/sys/bus/i2c/devices/%s-00%s/hwmon/hwmon*' "$bus" "$1"
}
temp() {
	lab_run "$g" "cat $(hwmon_of "$1")/$2"
}
temp2() {
	lab_run "$g" "cat /sys/bus/i2c/devices/$bus2-00$1/hwmon/hwmon*/$2"
}
it_expect_eq "0x48 temp1_input (host 41.3 C)" 41500 "$(temp 48 temp1_input)"
it_expect_eq "0x4b temp1_input (host -12.5 C)" -12500 "$(temp 4b temp1_input)"
it_expect_eq "0x4d temp1_input (file, 30 C)" 30000 "$(temp2 4d temp1_input)"
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

# lm-sensors (the host's `sensors`, run on the guest's sysfs through its host root).
out=$(lab_host "$g" 'sensors')
it_expect_match "sensors shows 0x48" "lm75-i2c-$bus-48"$'\n'"Adapter: Vireo virtio-i2c at virtio[0-9]+"$'\n'"temp1: +\+47\.5.C +\(high = \+45\.0.C, hyst = \+40\.0.C\)" "$out"
it_expect_match "sensors shows 0x4d" "lm75-i2c-$bus2-4d"$'\n'"Adapter: Vireo virtio-i2c" "$out"

# Six messages in one transfer: more than the ring holds, in batches (TOS, THYST,
# temperature); on the direct ring one request at a time.
xfer="w1@0x48 0x03 r2 w1 0x02 r2 w1 0x00 r2"
echo 31000 >"$IT_TMP/t4d" # converted at 0x4d's next access, seconds after the last
it_expect_eq "6-message transfer" "0x2d 0x00 0x28 0x00 0x2f 0x80" \
	"$(lab_run "$g" "i2ctransfer -f -y $bus $xfer" | tr -s ' \n' '  ' | sed 's/ $//')"
it_expect_eq "6-message transfer, direct ring" "0x50 0x00 0x4b 0x00 0x1f 0x00" \
	"$(lab_run "$g" "i2ctransfer -f -y $bus2 ${xfer//0x48/0x4d}" | tr -s ' \n' '  ' | sed 's/ $//')"
# A transfer whose second message goes nowhere: the rest of it fails on the device
# (FAIL_NEXT, across batches on the direct ring), and the next transfer is whole.
before=$(it_vireoctl --json device stats i2c1 | tr -d ' \n' | grep -o '"group_failed":[0-9]*')
lab_run "$g" "i2ctransfer -f -y $bus2 w1@0x4d 0x00 r2@0x4c w1@0x4d 0x00 r2" >/dev/null 2>&1
after=$(it_vireoctl --json device stats i2c1 | tr -d ' \n' | grep -o '"group_failed":[0-9]*')
it_expect_eq "messages failed by their group" "$((${before#*:} + 2))" "${after#*:}"
it_expect_eq "next transfer after a failed one" "0x1f 0x00" \
	"$(lab_run "$g" "i2ctransfer -f -y $bus2 w1@0x4d 0x00 r2" | tr -s ' \n' '  ' | sed 's/ $//')"

# An absent address fails cleanly.
lab_run "$g" "i2cget -y $bus 0x4c 0x00 b" >/dev/null 2>&1 && it_fail "i2cget of absent 0x4c succeeded"
echo "ok: absent 0x4c refused"
# lm75 owns 0x4b: -f. Register 0xf380 (-12.5 C) as an SMBus word, LSB first.
out=$(lab_run "$g" "i2cget -f -y $bus 0x4b 0x00 w 2>&1") || it_fail "i2cget of 0x4b failed after the absent one: $out"
it_expect_eq "0x4b temperature register (-12.5 C) after the absent one" 0x80f3 "$out"

# A device that stops answering: the transfer times out (1 s), later ones fail at once
# while the device holds the first; once it answers again, transfers work.
kill -STOP "$IT_VIREOD_PID"
out=$(lab_run "$g" "i2cget -f -y $bus 0x4b 0x00 w 2>&1; echo rc=\$?; i2cget -f -y $bus 0x4b 0x00 w 2>&1; echo rc=\$?")
kill -CONT "$IT_VIREOD_PID"
printf '  guest: %s\n' "$out"
it_expect_match "transfers while the device is stopped" 'timed out.*rc=1.*timed out.*rc=1' "$out"
it_expect_match "timeout logged" 'device did not answer in 1000 ms' "$(lab_run "$g" 'dmesg | tail -n 20')"
it_expect_eq "0x4b after the device answered again" 0x80f3 "$(lab_run "$g" "i2cget -f -y $bus 0x4b 0x00 w 2>&1")"

# Unload and reload: the clients go with the adapter, then come back.
lab_run "$g" 'rmmod vireo_i2c' || it_fail "rmmod vireo_i2c failed"
lab_run "$g" "test ! -e /sys/bus/i2c/devices/$bus-0048" || it_fail "client 0x48 outlived its adapter"
lab_run "$g" 'modprobe vireo_i2c && i2c-sensors >/dev/null' || it_fail "reload failed"
find_buses
it_expect_eq "0x48 after reload" 47500 "$(temp 48 temp1_input)"
it_expect_eq "0x48 limit kept by the device" 45000 "$(temp 48 temp1_max)"
it_expect_eq "0x4d after reload" 31000 "$(temp2 4d temp1_input)"

oops=$(lab_run "$g" 'dmesg | grep -E "Oops|BUG:|WARNING:|Call Trace" | head -n 3')
[[ -z $oops ]] || it_fail "kernel complained: $oops"
echo "ok: no oops"
lab_shutdown "$g"
it_vireod_stop
it_expect_eq "vireod exit status after SIGTERM" 0 "$IT_VIREOD_RC"
it_pass
