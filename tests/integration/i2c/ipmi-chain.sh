#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole chain from a BMC to a guest's hwmon: OpenIPMI's ipmi_sim runs on the host
# with a LAN interface on 127.0.0.1 and a sensor configuration this test writes; vireod's
# sensor-ipmi reads it over the LAN (transport=lan, an RMCP+ session through OpenIPMI's
# library) and feeds an LM75 at 0x48 of a virtio-i2c bus; the guest's vireo_i2c and the
# kernel's lm75 driver show it in hwmon. Checked: temp1_input equals the BMC's reading to
# the LM75's 0.5 °C plus the SDR's resolution (0.25 °C), first and after each of five
# changes made through ipmi_sim's console, each within a bounded wait (the latencies are
# printed as figures, not judged); a TMP75 (0x49, same channel) bound by the kernel's
# tmp75 driver shows the BMC's value exactly (12 bits) and, shut down, converts once on
# its one-shot bit; the guest's temp1_max at 0x48 (limits-to-host) becomes the BMC's
# upper non-critical threshold, read back from the BMC; the session survives;
# vireo-certify's sensor checks pass on sensor-ipmi over the LAN (IPMI 1.5 and RMCP+).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../sensor/ipmi-bmc.sh"
series=${1:?series}
it_begin "i2c/ipmi-chain-$series"
b=$VIREO_BUILD_ROOT
command -v ipmi_sim >/dev/null || it_fail "ipmi_sim is missing (Debian openipmi, tests/lab/deps.sh)"

lan_port=$(free_port)
BMC_CON_PORT=$(free_port)
[[ $lan_port != "$BMC_CON_PORT" ]] || BMC_CON_PORT=$((lan_port + 1))
user=vireo
pass=chain-$RANDOM
# The BMC's LAN channel 1 on localhost, a user for the driver (operator, enough to set
# limits) and the anonymous user 1 ipmi_sim wants.
cat >"$IT_TMP/lan.conf" <<EOF
name "vireo-chain"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 $lan_port
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
console 127.0.0.1 $BMC_CON_PORT
user 1 true "" "" user 10 none md2 md5 straight
user 2 true "$user" "$pass" operator 10 none md2 md5 straight
EOF
# Sensor 1: 0.25 °C per count (M=25, K2=-2: IPMI 2.0 §36.3), so a BMC reading the LM75
# cannot show exactly; UNC (55 °C) and UC (60 °C) settable. Raw 170 = 42.5 °C.
res_mc=250
{
	echo "mc_setbmc 0x20"
	echo "mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02"
	full_sdr 1 0x01 2 0x18 0x18 0 1 25 0 0 -2 0 "cpu"
	echo "sensor_add 0x20 0 1 0x01 0x01"
	echo "sensor_set_threshold 0x20 0 1 settable 011000 0 240 220 0 0 0"
	echo "sensor_set_value 0x20 0 1 170 0"
	echo "mc_enable 0x20"
} >"$IT_TMP/bmc.emu"
bmc_start "$IT_TMP/lan.conf" "$IT_TMP/bmc.emu"
trap 'kill $BMC_PID 2>/dev/null; it_cleanup' EXIT

lan="transport=lan,host=127.0.0.1,port=$lan_port,user=$user,password=$pass"
it_vireod "$IT_TMP" \
	--device "sensor,id=bmc,driver=ipmi,$lan,interval-ms=200" \
	--device "i2c,id=i2c0,socket=$IT_TMP/i2c0.sock,sensor=0x48:limits-to-host:bmc:cpu,sensor=0x49:tmp75:bmc:cpu"
grep -q 'LAN session up with the BMC' "$IT_VIREOD_LOG" || it_fail "no LAN session line in vireod's log"
it_expect_eq "vireod's reading over the LAN (raw 170)" 42500 \
	"$(it_vireoctl --json sensor read bmc cpu | jq -r '.channels[0].value')"

g=i2c-ipmi-$series
it_boot "$g" --kernel "$series" --hostroot -- \
	-chardev "socket,id=i2c0,path=$IT_TMP/i2c0.sock" -device vhost-user-i2c-pci,chardev=i2c0
lab_copy_in "$g" "$IT_ROOT/guest-tools/i2c-sensors" /sbin/i2c-sensors || it_fail "copy-in failed"
# 0x49 is a TMP75: bind the kernel's tmp75 driver (12 bits) before i2c-sensors takes it
# for an LM75.
lab_run "$g" 'chmod +x /sbin/i2c-sensors && modprobe vireo_i2c && modprobe lm75 &&
	for a in /sys/bus/i2c/devices/i2c-*; do
		case $(cat $a/name) in "Vireo virtio-i2c"*) echo tmp75 0x49 >$a/new_device;; esac
	done && i2c-sensors' || it_fail "vireo_i2c, tmp75 or i2c-sensors failed"
bus=$(lab_run "$g" 'for a in /sys/bus/i2c/devices/i2c-*; do
	case $(cat $a/name) in "Vireo virtio-i2c"*) echo ${a##*/i2c-};; esac; done')
h=$(lab_run "$g" 'for a in /sys/bus/i2c/devices/*-0048/hwmon/hwmon*; do echo $a; done')
[[ $h == /sys/* && $h != *'*'* ]] || it_fail "no hwmon for 0x48: $(lab_run "$g" 'dmesg | tail -n 5')"
echo "ok: the BMC's sensor is $h in the guest"

# guest_wait WANT_MC: the guest polls its own temp1_input (every 20 ms, for at most 30 s)
# until it is within the LM75's 0.5 °C plus the SDR's resolution of WANT_MC; prints the
# last value.
guest_wait() {
	lab_run "$g" "i=0; while :; do v=\$(cat $h/temp1_input); d=\$((v - $1));
		[ \${d#-} -le $((500 + res_mc)) ] && break; i=\$((i + 1));
		[ \$i -ge 1500 ] && break; usleep 20000; done; echo \$v"
}
v=$(guest_wait 42500)
it_expect_eq "guest temp1_input (BMC 42.5 C)" 42500 "$v"

# The round trip of one lab_run: each latency below includes one (an upper bound).
t0=$(date +%s%N)
lab_run "$g" true
rtt=$((($(date +%s%N) - t0) / 1000000))

# Five changes through the BMC's console: raw value and what the guest must show.
lat=()
for raw in 190 203 161 177 230; do
	want=$((raw * res_mc))
	t0=$(date +%s%N)
	bmc_cmd "sensor_set_value 0x20 0 1 $raw 0" &
	v=$(guest_wait "$want")
	ms=$((($(date +%s%N) - t0) / 1000000))
	wait $!
	d=$((v - want))
	((${d#-} <= 500 + res_mc)) ||
		it_fail "BMC raw $raw ($want m°C): guest shows $v after 30 s"
	echo "ok: BMC raw $raw ($want m°C) -> guest $v m°C within $ms ms"
	lat+=("$ms")
done
sorted=($(printf '%s\n' "${lat[@]}" | sort -n))
echo "figure: BMC change to guest temp1_input over the LAN: p50 ${sorted[2]} ms, max ${sorted[4]} ms" \
	"(5 changes; upper bounds that include one guest command round trip, $rtt ms;" \
	"sensor interval 200 ms + LM75 conversion 100 ms; TCG)"

# 0x49, the TMP75 under the kernel's tmp75 driver: 12 bits show the BMC's 57.5 °C exactly.
h49=$(lab_run "$g" "echo /sys/bus/i2c/devices/$bus-0049/hwmon/hwmon*")
it_expect_eq "0x49 driver" tmp75 "$(lab_run "$g" "cat /sys/bus/i2c/devices/$bus-0049/name")"
it_expect_eq "0x49 (TMP75, 12 bits) temp1_input" 57500 "$(lab_run "$g" "cat $h49/temp1_input")"
# One-shot: shut down (12 bits kept), the BMC moves, the register stays; OS=1 converts once.
# SMBus words read LSB first: 57.5 °C at 12 bits is 0x3980, read as 0x8039.
lab_run "$g" "i2cset -f -y $bus 0x49 0x01 0x61 b" || it_fail "i2cset (shutdown) failed"
bmc_cmd "sensor_set_value 0x20 0 1 170 0"
for _ in $(seq 100); do
	[[ $(it_vireoctl --json sensor read bmc cpu | jq -r '.channels[0].value') == 42500 ]] && break
	sleep 0.1
done
it_expect_eq "0x49 temperature, shut down" 0x8039 "$(lab_run "$g" "i2cget -f -y $bus 0x49 0x00 w")"
it_expect_eq "0x49 configuration: OS reads 0 before a one-shot" 0x61 \
	"$(lab_run "$g" "i2cget -f -y $bus 0x49 0x01 b")"
out=$(lab_run "$g" "i2cset -f -y $bus 0x49 0x01 0xe1 b && usleep 300000 &&
	i2cget -f -y $bus 0x49 0x01 b && i2cget -f -y $bus 0x49 0x00 w") || it_fail "one-shot failed"
it_expect_eq "0x49 after a one-shot: OS reads 1, 42.5 °C (0x2a80)" "0xe1 0x802a" "$(echo $out)"
lab_run "$g" "i2cset -f -y $bus 0x49 0x01 0x60 b" || it_fail "i2cset (wake up) failed"

# limits-to-host: the guest's TOS at 0x48 becomes the BMC's upper non-critical threshold
# (raw 210 = 52.5 °C), read back from the BMC by the driver; THYST stays in the chip.
lab_run "$g" "echo 52500 >$h/temp1_max && echo 50000 >$h/temp1_max_hyst" ||
	it_fail "writing 0x48's limits failed"
it_expect_eq "0x48 temp1_max read back" 52500 "$(lab_run "$g" "cat $h/temp1_max")"
it_expect_eq "the BMC's threshold after the guest's TOS" 52500 \
	"$(it_vireoctl --json sensor list bmc | jq -r '.[0].channels[0].max')"
it_expect_eq "the BMC's critical threshold untouched" 60000 \
	"$(it_vireoctl --json sensor list bmc | jq -r '.[0].channels[0].crit')"

oops=$(lab_run "$g" 'dmesg | grep -E "Oops|BUG:|WARNING:|Call Trace" | head -n 3')
[[ -z $oops ]] || it_fail "kernel complained: $oops"
lab_shutdown "$g"
it_vireod_stop
it_expect_eq "vireod exit status after SIGTERM" 0 "$IT_VIREOD_RC"
grep -q 'LAN session down' "$IT_VIREOD_LOG" && it_fail "the LAN session went down during the test"
if grep -qE 'Sanitizer|runtime error' "$IT_VIREOD_LOG"; then
	tail -n 30 "$IT_VIREOD_LOG"
	it_fail "vireod's sanitizers complained"
fi

# vireo-certify's sensor checks over the LAN, both session kinds (it moves the settable
# limits one step and puts them back).
for ver in 1.5 2.0; do
	args=()
	for p in ${lan//,/ } lan-version=$ver; do args+=(--param "$p"); done
	out=$("$b/vmm-core/certify/vireo-certify" --seed 1 "${args[@]}" \
		"$b/drivers/sensor/ipmi/sensor-ipmi.so" 2>&1) ||
		{ echo "$out" | tail -n 40; it_fail "vireo-certify failed over the LAN ($ver)"; }
	echo "$out" | grep -E '^(PASS|FAIL|SKIP) |^certify: sensor' | sed "s/^/lan-version=$ver: /"
	it_expect_match "certify summary, lan-version=$ver" 'certify: sensor-ipmi: [0-9]+ passed, 0 failed' "$out"
done
# A wrong password is refused at open, quickly and with a reason.
out=$("$b/vmm-core/certify/vireo-certify" --param transport=lan --param host=127.0.0.1 \
	--param "port=$lan_port" --param "user=$user" --param password=wrong \
	"$b/drivers/sensor/ipmi/sensor-ipmi.so" 2>&1) && it_fail "a wrong password opened a session"
it_expect_match "wrong password refused" 'no LAN session with the BMC' "$out"
it_pass
