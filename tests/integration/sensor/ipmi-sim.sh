#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sensor-ipmi against a BMC: OpenIPMI's ipmi_sim runs on the host with an SDR repository
# and sensors this test writes; QEMU gives the lab guest a KCS interface to it
# (ipmi-bmc-extern over a TCP chardev, isa-ipmi-kcs); the guest's ipmi_si and
# ipmi_devintf make /dev/ipmi0, and this build's vireod, vireoctl and vireo-certify run
# there (--hostroot). Checked: the channels' types, labels and limits; readings equal
# the raw values set in ipmi_sim, converted with each record's factors; a value changed
# through ipmi_sim's console shows up on the next read; a limit set through vireoctl
# reaches the BMC and reads back; records the driver refuses are left out; vireo-certify
# passes.
source "$(dirname "$0")/../lib.sh"
series=${1:?series}
it_begin "sensor/ipmi-sim-$series"
g=ipmi-$series
b=$VIREO_BUILD_ROOT
command -v ipmi_sim >/dev/null || it_fail "ipmi_sim is missing (Debian openipmi, tests/lab/deps.sh)"

# Two free localhost ports: the BMC's serial interface (QEMU connects) and its console.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		[[ -z $(ss -Htln "sport = :$p") ]] && echo "$p" && return
	done
}
bmc_port=$(free_port)
con_port=$(free_port)
[[ $bmc_port != "$con_port" ]] || con_port=$((bmc_port + 1))

# A full sensor record (type 01h; IPMI 2.0 table 43-1), as an ipmi_sim command.
# full_sdr NUM SENSOR_TYPE ACCESS READ_MASK SET_MASK FORMAT UNIT M B K1 K2 LINEAR NAME
#          [UNR UC UNC LNR LC LNC]  (raw threshold fields, for fixed thresholds)
full_sdr() {
	local num=$1 st=$2 acc=$3 rm=$4 sm=$5 fmt=$6 unit=$7 m=$8 b=$9 k1=${10} k2=${11}
	local lin=${12} name=${13} t=("${@:14}") i
	((${#t[@]})) || t=(0 0 0 0 0 0)
	local r=(0 0 0x51 0x01 $((43 + ${#name})) 0x20 0 "$num" 7 1 0x43 $((0x40 | acc << 2))
		"$st" 1 0 0 0 0 "$rm" "$sm" $((fmt << 6)) "$unit" 0 "$lin" $((m & 0xff))
		$(((m >> 8 & 3) << 6)) $((b & 0xff)) $(((b >> 8 & 3) << 6)) 0
		$(((k2 & 0xf) << 4 | (k1 & 0xf))) 0 0 0 0 255 0 "${t[@]}" 0 0 0 0 0
		$((0xc0 | ${#name})))
	for ((i = 0; i < ${#name}; i++)); do r+=("$(printf '%d' "'${name:i:1}")"); done
	sdr_cmd "${r[@]}"
}
# A compact sensor record (type 02h; table 43-2): no conversion factors.
# compact_sdr NUM SENSOR_TYPE READING_TYPE ACCESS READ_MASK SET_MASK FORMAT UNIT NAME
compact_sdr() {
	local num=$1 st=$2 rt=$3 acc=$4 rm=$5 sm=$6 fmt=$7 unit=$8 name=$9 i
	local r=(0 0 0x51 0x02 $((27 + ${#name})) 0x20 0 "$num" 7 1 0x43 $((0x40 | acc << 2))
		"$st" "$rt" 0 0 0 0 "$rm" "$sm" $((fmt << 6)) "$unit" 0 0 0 0 0 0 0 0 0
		$((0xc0 | ${#name})))
	for ((i = 0; i < ${#name}; i++)); do r+=("$(printf '%d' "'${name:i:1}")"); done
	sdr_cmd "${r[@]}"
}
sdr_cmd() {
	local out=() v
	for v in "$@"; do out+=("$(printf '0x%02x' "$v")"); done
	echo "main_sdr_add 0x20 ${out[*]}"
}

# The BMC. Units (table 43-15): 1 C, 4 V, 5 A, 6 W, 18 RPM. Formats: 0 unsigned, 2 2's
# complement. Access: 0 none, 1 readable, 2 settable, 3 fixed. Threshold bits: 0x01 LNC,
# 0x08 UNC, 0x10 UC. Expected readings (the driver's units) are in the comments.
cat >"$IT_TMP/lan.conf" <<EOF
name "vireo-test"
set_working_mc 0x20
  serial kcs 127.0.0.1 $bmc_port codec VM
console 127.0.0.1 $con_port
EOF
{
	echo "mc_setbmc 0x20"
	echo "mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02"
	# 1: 45 C, M=1: 45000 m C; thresholds settable: LNC 5, UNC 80, UC 90.
	full_sdr 1 0x01 2 0x19 0x19 0 1 1 0 0 0 0 "CPU Temp"
	echo "sensor_add 0x20 0 1 0x01 0x01"
	echo "sensor_set_threshold 0x20 0 1 settable 011001 0 90 80 0 0 5"
	echo "sensor_set_value 0x20 0 1 45 0"
	# 2: (6 x + 5 * 10^-1) * 10^-2 V: raw 200 = 12.005 V; LNC 180, UNC 220, UC 230 readable.
	full_sdr 2 0x02 1 0x19 0 0 4 6 5 -1 -2 0 "12V Rail"
	echo "sensor_add 0x20 0 2 0x02 0x01"
	echo "sensor_set_threshold 0x20 0 2 readable 011001 0 230 220 0 0 180"
	echo "sensor_set_value 0x20 0 2 200 0"
	# 3: 2's complement, x * 10^-1 A: raw 0xf6 (-10) = -1.0 A; no thresholds.
	full_sdr 3 0x03 0 0 0 2 5 1 0 0 -1 0 "PSU Current"
	echo "sensor_add 0x20 0 3 0x03 0x01"
	echo "sensor_set_value 0x20 0 3 0xf6 0"
	# 4: 2 W per count: raw 60 = 120 W; a fixed UNC of raw 150 (300 W) in the SDR itself.
	full_sdr 4 0x08 3 0x08 0 0 6 2 0 0 0 0 "PSU Power" 0 0 150 0 0 0
	echo "sensor_add 0x20 0 4 0x08 0x01"
	echo "sensor_set_value 0x20 0 4 60 0"
	# 5: 50 RPM per count: raw 48 = 2400 RPM; LNC 12 (600 RPM) settable.
	full_sdr 5 0x04 2 0x01 0x01 0 18 50 0 0 0 0 "Sys Fan 1"
	echo "sensor_add 0x20 0 5 0x04 0x01"
	echo "sensor_set_threshold 0x20 0 5 settable 000001 0 0 0 0 0 12"
	echo "sensor_set_value 0x20 0 5 48 0"
	# 6: a compact record, whole degrees: 25 C; UNC 40 readable.
	compact_sdr 6 0x01 0x01 1 0x08 0 0 1 "Inlet Temp"
	echo "sensor_add 0x20 0 6 0x01 0x01"
	echo "sensor_set_threshold 0x20 0 6 readable 001000 0 0 40 0 0 0"
	echo "sensor_set_value 0x20 0 6 25 0"
	# Refused: a discrete sensor (reading type 6fh) and a non-linear one (ln, 01h).
	compact_sdr 7 0x05 0x6f 0 0 0 3 0 "Chassis Intru"
	echo "sensor_add 0x20 0 7 0x05 0x6f"
	full_sdr 8 0x01 0 0 0 0 1 1 0 0 0 1 "Log Temp"
	echo "sensor_add 0x20 0 8 0x01 0x01"
	echo "mc_enable 0x20"
} >"$IT_TMP/bmc.emu"
mkdir -p "$IT_TMP/state"
setsid ipmi_sim -c "$IT_TMP/lan.conf" -f "$IT_TMP/bmc.emu" -s "$IT_TMP/state" -n \
	</dev/null >"$IT_TMP/ipmi_sim.log" 2>&1 &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null; it_cleanup' EXIT
for _ in $(seq 50); do
	[[ -n $(ss -Htln "sport = :$con_port") ]] && break
	kill -0 $sim_pid 2>/dev/null || { cat "$IT_TMP/ipmi_sim.log"; it_fail "ipmi_sim exited"; }
	sleep 0.1
done
# bmc_cmd COMMAND: one ipmi_sim command through its console (telnet-like, on TCP).
bmc_cmd() {
	local out
	exec 5<>"/dev/tcp/127.0.0.1/$con_port" || it_fail "cannot reach ipmi_sim's console"
	printf '%s\n' "$1" >&5
	out=$(timeout 2 cat <&5 | tr -d '\r' | tr -c '[:print:]\n' ' ')
	exec 5>&-
	grep -qi 'error\|invalid\|unknown' <<<"$out" && it_fail "ipmi_sim: '$1': $out"
	return 0
}

it_boot "$g" --kernel "$series" --hostroot --mem 768 -- \
	-chardev "socket,id=ipmi0,host=127.0.0.1,port=$bmc_port,reconnect=2" \
	-device ipmi-bmc-extern,id=bmc0,chardev=ipmi0 -device isa-ipmi-kcs,bmc=bmc0
lab_host "$g" 'modprobe ipmi_si && modprobe ipmi_devintf &&
	for i in $(seq 100); do [ -c /dev/ipmi0 ] && exit 0; sleep 0.1; done; exit 1' ||
	it_fail "no /dev/ipmi0 (ipmi_si, ipmi_devintf): $(lab_host "$g" 'dmesg | grep -i ipmi | tail -5')"
echo "ok: /dev/ipmi0 in the guest"

lab_host "$g" "setsid '$b/vmm-core/daemon/vireod' --control /tmp/v.sock --log-level debug \
	--device sensor,id=bmc,driver=ipmi,interval-ms=200 \
	--device sensor,id=fans,driver=ipmi,sensors=4-5:0x06,compact=off </dev/null >/tmp/vireod.log 2>&1 &
	echo \$! >/tmp/vireod.pid
	for i in \$(seq 300); do [ -S /tmp/v.sock ] && exit 0; sleep 0.1; done; cat /tmp/vireod.log; exit 1" ||
	it_fail "vireod did not start in the guest"
ctl="'$b/vmm-core/daemon/vireoctl' --control /tmp/v.sock"
lab_host "$g" "$ctl sensor list bmc" || it_fail "vireoctl sensor list failed"
list=$(lab_host "$g" "$ctl --json sensor list bmc") || it_fail "vireoctl --json sensor list failed"
# One line a channel: label|type|unit|min|max|crit|writable
got=$(jq -r '.[0].channels[] | [.label, .type, .unit, .min, .max, .crit, .writable] |
	map(tostring) | join("|")' <<<"$list")
want="CPU Temp|temperature|mC|5000|80000|90000|true
12V Rail|voltage|mV|10805|13205|13805|false
PSU Current|current|mA|null|null|null|false
PSU Power|power|uW|null|300000000|null|false
Sys Fan 1|fan|RPM|600|null|null|true
Inlet Temp|temperature|mC|null|40000|null|false"
if [[ $got != "$want" ]]; then
	echo "want:"$'\n'"$want"$'\n'"got:"$'\n'"$got"
	it_fail "the channels differ from the SDRs"
fi
echo "ok: six channels with the SDRs' types, labels, units and limits; discrete and ln() refused"
# A second instance on the same BMC: sensors 4 to 6, compact records left out.
got=$(lab_host "$g" "$ctl --json sensor list fans" | jq -r '[.[0].channels[].label] | join(",")')
it_expect_eq "channels of sensors=4-5:0x06,compact=off" "PSU Power,Sys Fan 1" "$got"

# read_value LABEL: the cached value vireoctl shows.
read_value() {
	lab_host "$g" "$ctl --json sensor read bmc '$1'" | jq -r '.channels[0].value'
}
# wait_value LABEL WANT: the sensor thread reads every 200 ms; give it 20 s under TCG.
wait_value() {
	local v
	for _ in $(seq 40); do
		v=$(read_value "$1")
		[[ $v == "$2" ]] && break
		sleep 0.5
	done
	it_expect_eq "vireoctl sensor read bmc '$1'" "$2" "$v"
}
wait_value "CPU Temp" 45000
wait_value "12V Rail" 12005
wait_value "PSU Current" -1000
wait_value "PSU Power" 120000000
wait_value "Sys Fan 1" 2400
wait_value "Inlet Temp" 25000

# Values changed in the BMC at run time (its console) show up on the next reads.
bmc_cmd "sensor_set_value 0x20 0 1 52 0"
t0=$(date +%s%N)
wait_value "CPU Temp" 52000
echo "note: BMC change to vireoctl reading: $((($(date +%s%N) - t0) / 1000000)) ms (TCG; not pass/fail)"
bmc_cmd "sensor_set_value 0x20 0 2 190 0"
wait_value "12V Rail" 11405
bmc_cmd "sensor_set_value 0x20 0 3 0x0c 0"
wait_value "PSU Current" 1200

# A sensor whose scanning the BMC turns off has no reading (-EAGAIN): vireod keeps the last
# value and shows the error; scanning back on, readings come back. (ipmi_sim takes the
# events-enable, scanning and event-support values as numbers here.)
read_error() {
	lab_host "$g" "$ctl --json sensor read bmc 'Inlet Temp'" | jq -r '.channels[0].error'
}
bmc_cmd "sensor_set_event_support 0x20 0 6 1 0 0 \
	000000000000000 000000000000000 000000000000000 000000000000000"
for _ in $(seq 40); do
	e=$(read_error)
	[[ $e == "Resource temporarily unavailable" ]] && break
	sleep 0.5
done
it_expect_eq "Inlet Temp's error with scanning off (-EAGAIN)" "Resource temporarily unavailable" "$e"
bmc_cmd "sensor_set_value 0x20 0 6 30 0"
bmc_cmd "sensor_set_event_support 0x20 0 6 1 1 0 \
	000000000000000 000000000000000 000000000000000 000000000000000"
wait_value "Inlet Temp" 30000
it_expect_eq "Inlet Temp's error with scanning on" null "$(read_error)"

# Limits set through vireod reach the BMC (Set Sensor Thresholds) and read back from it.
out=$(lab_host "$g" "$ctl --json sensor set bmc 'CPU Temp' max 85000") ||
	it_fail "vireoctl sensor set max failed"
it_expect_eq "CPU Temp max read back from the BMC" 85000 "$(jq -r '.max' <<<"$out")"
out=$(lab_host "$g" "$ctl --json sensor set bmc 'Sys Fan 1' min 1000") ||
	it_fail "vireoctl sensor set min failed"
it_expect_eq "Sys Fan 1 min read back (50 RPM steps)" 1000 "$(jq -r '.min' <<<"$out")"
lab_host "$g" "$ctl sensor set bmc '12V Rail' max 13000" 2>/dev/null &&
	it_fail "a read-only limit was set"
echo "ok: a read-only limit is refused"
lab_host "$g" "$ctl sensor set bmc 'CPU Temp' crit 300000" 2>/dev/null &&
	it_fail "a limit past what the SDR can hold (255 C) was set"
echo "ok: a limit the SDR cannot hold is refused"

lab_host "$g" 'kill $(cat /tmp/vireod.pid); for i in $(seq 100); do kill -0 $(cat /tmp/vireod.pid) 2>/dev/null || exit 0; sleep 0.1; done; exit 1' ||
	it_fail "vireod did not stop on SIGTERM"
log=$(lab_host "$g" 'cat /tmp/vireod.log')
grep -E "skipped" <<<"$log" | sed 's/^/vireod: /'
if grep -qE 'Sanitizer|runtime error' <<<"$log"; then
	echo "$log" | tail -n 30
	it_fail "vireod's sanitizers complained"
fi

# vireo-certify on the BMC (it moves the settable limits one step and puts them back).
out=$(lab_host "$g" "'$b/vmm-core/certify/vireo-certify' --seed 1 \
	'$b/drivers/sensor/ipmi/sensor-ipmi.so'" 2>&1) || { echo "$out" | tail -n 40; it_fail "vireo-certify failed in the guest"; }
echo "$out" | grep -E '^(PASS|FAIL|SKIP) |^certify: sensor'
it_expect_match "certify summary" 'certify: sensor-ipmi: [0-9]+ passed, 0 failed' "$out"

lab_shutdown "$g" || it_fail "shutdown failed"
it_pass
