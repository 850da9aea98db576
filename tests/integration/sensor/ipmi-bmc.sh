# SPDX-License-Identifier: MIT
# Sourced by the tests that run OpenIPMI's ipmi_sim as a BMC (sensor/ipmi-sim,
# i2c/ipmi-chain): records for its SDR repository, written as ipmi_sim commands, and its
# console. Not a test by itself.

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

# free_port: a TCP and UDP port nobody listens on (the BMC's console, LAN, serial).
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		[[ -z $(ss -Htuln "sport = :$p") ]] && echo "$p" && return
	done
}

# bmc_start CONF EMU: runs ipmi_sim in the background (BMC_PID) and waits for its console
# at BMC_CON_PORT. The caller's EXIT trap must kill BMC_PID.
bmc_start() {
	mkdir -p "$IT_TMP/state"
	setsid ipmi_sim -c "$1" -f "$2" -s "$IT_TMP/state" -n \
		</dev/null >"$IT_TMP/ipmi_sim.log" 2>&1 &
	BMC_PID=$!
	for _ in $(seq 50); do
		[[ -n $(ss -Htln "sport = :$BMC_CON_PORT") ]] && return 0
		kill -0 $BMC_PID 2>/dev/null || { cat "$IT_TMP/ipmi_sim.log"; it_fail "ipmi_sim exited"; }
		sleep 0.1
	done
	it_fail "ipmi_sim's console did not come up"
}

# bmc_cmd COMMAND: one ipmi_sim command through its console (telnet-like, on TCP).
bmc_cmd() {
	local out
	exec 5<>"/dev/tcp/127.0.0.1/$BMC_CON_PORT" || it_fail "cannot reach ipmi_sim's console"
	printf '%s\n' "$1" >&5
	out=$(timeout 2 cat <&5 | tr -d '\r' | tr -c '[:print:]\n' ' ')
	exec 5>&-
	grep -qi 'error\|invalid\|unknown' <<<"$out" && it_fail "ipmi_sim: '$1': $out"
	return 0
}
