#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# alarms.sh - what overload alarms cost and how often they are false.
#
# One manager, one slow_thing carrying CAPACITY packets a second and the load
# generator feeding it (tests/integration/lib.sh onvm_scale_catalog).
#   cpu     the manager's control thread (the one that samples) and the whole
#           process, in % of a CPU over SECONDS (/proc/PID/task/TID/stat),
#           with alarms on (the default --alarm-ms) and off (--alarm-ms 0):
#           with the NFs idle, and under a load of LOAD % of the capacity;
#   false   alarms over SECONDS under a load that is no overload on average,
#           LOAD % of the capacity with its natural burstiness (the
#           generator's ticks, and the stalls of NFs sharing two CPUs), for
#           --alarm-ms 5, 10, 20 and 30; with STALL_MS
#           set, slow_thing is stopped (SIGSTOP) for STALL_MS every 500 ms,
#           as a busy CPU stalls an NF now and then: its ring fills at the
#           load's rate meanwhile (0.8 of it, 3276 packets, in 47 ms at
#           70 kpps, and drops from 58 ms), so each stall is an overload of
#           a known length, about STALL_MS - 47 ms at 70 kpps.
#
#   sudo tests/bench/alarms.sh [SECONDS]      (default 30, 0 to leave false alarms
#                                             out; cpu takes CPU_SECONDS, default 10,
#                                             0 to leave it out)
# Last line: false_alarms_per_min_default: <alarms a minute at the default>
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
SECONDS_RUN=${1:-30}
[[ $SECONDS_RUN =~ ^(0|[1-9][0-9]*)$ ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
CAPACITY=${CAPACITY:-100000}
LOAD=${LOAD:-70}
CPU_SECONDS=${CPU_SECONDS:-10}
export ONVM_BUILD=${ONVM_BUILD:-$PWD/build}
source tests/integration/lib.sh
onvm_bench_init bench_alarms
onvm_start_broker h1
onvm_scale_catalog "$ONVM_TMP/catalog.json" "$CAPACITY"
DEFAULT_MS=$(awk '$2 == "MGR_ALARM_DEFAULT_MS" { print $3 }' dp/mgr_alarm.h)

RUN=0
start_mgr() { # start_mgr ALARM_MS
	RUN=$((RUN + 1))
	onvm_start_mgr "mgr$RUN" -l 0,1 --vdev=net_null0,no-rx=1 -- -c "$ONVM_TMP/catalog.json" \
		-k 2-3 -s 9,2 -p '0:2>0' $(onvm_bus_args h1) --alarm-ms "$1"
	wait_for 20 "the generator and slow_thing run" \
		eval '[[ $(instances_of "$MGR_STATS" 2 | wc -l) -eq 1 && $(instances_of "$MGR_STATS" 9 | wc -l) -eq 1 ]]'
	SLOW=$(instances_of "$MGR_STATS" 2)
}
stop_mgr() {
	echo 0 >"$ONVM_TMP/rate"
	kill -INT "$MGR_PID"
	wait_for 10 "manager exits" eval '! kill -0 "$MGR_PID" 2>/dev/null'
	wait_for 10 "its NFs gone" eval '[[ -z $(pgrep -f -- "--file-prefix=$ONVM_PREFIX ") ]]'
	rm -f "$MGR_STATS"
}
ticks() { awk '{ print $14 + $15 }' "$1"; } # utime + stime, in clock ticks
# The control thread's sleeps so far (each ppoll that waited is one).
wakeups() { awk '$1 == "voluntary_ctxt_switches:" { print $2 }' "/proc/$MGR_PID/task/$MGR_PID/status"; }
# cpu_pct SECONDS: "control% process% control_wakeups/s" of the manager over SECONDS.
cpu_pct() {
	local hz control0 process0 wakeups0 start_ns
	hz=$(getconf CLK_TCK)
	start_ns=$(date +%s%N)
	control0=$(ticks "/proc/$MGR_PID/task/$MGR_PID/stat")
	process0=$(ticks "/proc/$MGR_PID/stat")
	wakeups0=$(wakeups)
	sleep "$1"
	local control1 process1 wakeups1 elapsed_ns
	control1=$(ticks "/proc/$MGR_PID/task/$MGR_PID/stat")
	process1=$(ticks "/proc/$MGR_PID/stat")
	wakeups1=$(wakeups)
	elapsed_ns=$(($(date +%s%N) - start_ns))
	awk -v c=$((control1 - control0)) -v p=$((process1 - process0)) -v hz="$hz" -v ns="$elapsed_ns" \
		-v w=$((wakeups1 - wakeups0)) 'BEGIN { s = ns / 1e9
		printf "%.2f %.1f %.0f", c * 100 / hz / s, p * 100 / hz / s, w / s }'
}
load_pps() { echo $((CAPACITY * $1 / 100)); }

# ---- cpu ----
declare -A CPU
cpu_runs=("$DEFAULT_MS" 0)
((CPU_SECONDS > 0)) || cpu_runs=()
for alarm_ms in "${cpu_runs[@]}"; do
	start_mgr "$alarm_ms"
	sleep 1 # past the start-up
	CPU[$alarm_ms,idle]=$(cpu_pct "$CPU_SECONDS")
	load_pps "$LOAD" >"$ONVM_TMP/rate"
	wait_for 10 "slow_thing gets the load" eval '(( $(mgr_counter "$MGR_STATS" instance "$SLOW" rx) > 0 ))'
	CPU[$alarm_ms,load]=$(cpu_pct "$CPU_SECONDS")
	stop_mgr
done
((CPU_SECONDS > 0)) && echo "cpu (% of one CPU over ${CPU_SECONDS} s: control thread, whole manager):"
for alarm_ms in "${cpu_runs[@]}"; do
	read -r ci pi wi <<<"${CPU[$alarm_ms,idle]}"
	read -r cl pl wl <<<"${CPU[$alarm_ms,load]}"
	printf '  --alarm-ms %-3s  NFs idle: control %5s%% (%4s wake-ups/s)  manager %5s%%' \
		"$alarm_ms" "$ci" "$wi" "$pi"
	printf '   load %s%%: control %5s%% (%4s wake-ups/s)  manager %5s%%\n' "$LOAD" "$cl" "$wl" "$pl"
done

# ---- false alarms ----
# Stop slow_thing for STALL_MS every 500 ms, until killed.
stalls() {
	local pid seconds
	pid=$(mgr_counter "$MGR_STATS" instance "$SLOW" pid)
	seconds=$(awk -v ms="$STALL_MS" 'BEGIN { print ms / 1000 }')
	while :; do
		kill -STOP "$pid"
		sleep "$seconds"
		kill -CONT "$pid"
		sleep 0.5
	done
}
STALL_MS=${STALL_MS:-}
if [[ -n $STALL_MS ]]; then
	shape="steady ${LOAD}% of capacity, slow_thing stopped for ${STALL_MS} ms every 0.5 s"
else
	shape="steady ${LOAD}% of capacity"
fi
((SECONDS_RUN > 0)) || exit 0
echo "false alarms over ${SECONDS_RUN} s, slow_thing capacity ${CAPACITY} pps, ${shape}" \
	"(load average $(cut -d' ' -f1-3 /proc/loadavg)):"
echo "  alarm_ms  alarms  per_min  drops  dropping_periods  delivered_pps"
default_per_min=
for alarm_ms in 5 10 20 30; do
	start_mgr "$alarm_ms"
	rx0=$(mgr_counter "$MGR_STATS" instance "$SLOW" rx)
	drops0=$(mgr_counter "$MGR_STATS" instance "$SLOW" drops)
	start_ns=$(date +%s%N)
	load_pps "$LOAD" >"$ONVM_TMP/rate"
	if [[ -n $STALL_MS ]]; then
		stalls &
		staller=$!
	fi
	# Periods (100 ms) in which slow_thing dropped: what the stats see.
	dropping=0 last_drops=$drops0 last_seq=$(stat_header "$MGR_STATS" seq)
	while (($(date +%s%N) - start_ns < SECONDS_RUN * 1000000000)); do
		sleep 0.1
		seq=$(stat_header "$MGR_STATS" seq)
		[[ $seq == "$last_seq" ]] && continue
		drops=$(mgr_counter "$MGR_STATS" instance "$SLOW" drops)
		((drops > last_drops)) && dropping=$((dropping + 1))
		last_drops=$drops last_seq=$seq
	done
	if [[ -n $STALL_MS ]]; then
		kill "$staller"
		wait "$staller" 2>/dev/null
		kill -CONT "$(mgr_counter "$MGR_STATS" instance "$SLOW" pid)"
	fi
	elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
	alarms=$(grep -c "onvm-mgr: alarm: service .* overloaded since" "$MGR_LOG")
	rx=$(mgr_counter "$MGR_STATS" instance "$SLOW" rx)
	drops=$(mgr_counter "$MGR_STATS" instance "$SLOW" drops)
	per_min=$(awk -v a="$alarms" -v ms="$elapsed_ms" 'BEGIN { printf "%.1f", a * 60000 / ms }')
	printf '  %8s  %6s  %7s  %5s  %16s  %13s\n' "$alarm_ms" "$alarms" "$per_min" $((drops - drops0)) \
		"$dropping" $(((rx - rx0) * 1000 / elapsed_ms))
	[[ $alarm_ms == "$DEFAULT_MS" ]] && default_per_min=$per_min
	stop_mgr
done
echo "false_alarms_per_min_default: ${default_per_min:-n/a}"
