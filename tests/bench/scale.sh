#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scale.sh - how fast and how cleanly a service scales out.
#
# Two hosts (network namespaces with a VXLAN tunnel between their
# managers), the policy daemon (local-first) and onvm-top on the bus; stats
# every 100 ms.  h1 runs the load generator and one slow_thing and has one
# core free.  Each run:
#   1. the offered load goes to 1.6x one slow_thing's capacity: the policy
#      spawns a second instance on h1 (a local scale-out);
#   2. then to 2.4x: h1 has no core left, so the third goes to h2 (remote);
#   3. the load stops; the counters give the packets lost beyond the
#      overload drops; the instances the run added are stopped.
# Reaction time, per scale-out: from the first stats period that shows the
# overload (on h1) to the new instance's first packet (its first_rx_ms), as
# onvm-top measures it; p50 and max over the runs, local and remote apart.
# The runs are made four times in the same invocation: with a warm standby
# of slow_thing (catalog "warm": 1) and with cold starts (where a DPDK
# secondary has to start first), each with the managers' overload alarms
# (--alarm-ms ALARM_MS, default the manager's: the measured case) and with
# stats only (--alarm-ms 0: the baseline, three overloaded periods).
# Also: the share of flows that move when a service goes from 1 to 2
# instances (bench_flow_moves, the generator's flows and the real hash),
# and the repair time of a lost host's instance (tests/bench/repair.sh:
# kill -9 warm and cold, and a silent link loss).
#
#   sudo tests/bench/scale.sh [RUNS]      (default 5)
# Last line: scale_local_ms_p50: <ms>  (warm, with alarms)
set -uo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-5}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [RUNS]" >&2; exit 2; }
CAPACITY=${CAPACITY:-10000}
export ONVM_BUILD=${ONVM_BUILD:-$PWD/build}
source tests/integration/lib.sh
onvm_bench_init bench_scale
onvm_hosts 2
onvm_start_broker h1 h2
onvm_watch bus 'onvm/#'

spawned_on() { grep -c "onvm/hosts/$1/events {.*\"event\":\"spawned\".*\"service\":2" "$ONVM_TMP/bus.log"; }
# The instances of service 2 a run added: all but h1's first.
added_instances() {
	instances_of "${HOST_STATS[1]}" 2 | sort -n | tail -n +2 | sed 's/^/h1 /'
	instances_of "${HOST_STATS[2]}" 2 | sed 's/^/h2 /'
}
counter_sum() { # counter_sum SERVICE FIELD HOST...
	local total=0 host
	for host in "${@:3}"; do total=$((total + $(service_total "${HOST_STATS[$host]}" "$1" "$2"))); done
	echo "$total"
}
snapshot() { # generated, processed (all), dropped at h1, dropped at h2
	echo "$(counter_sum 9 tx 1) $(counter_sum 2 rx 1 2) $(counter_sum 2 drops 1) $(counter_sum 2 drops 2)"
}
stop_instance() { # stop_instance HOST INSTANCE ID
	onvm_command "$1" "{\"v\":1,\"id\":\"$3\",\"engine\":\"bench\",\"op\":\"stop\",\"service\":2,\"instance\":$2,\"reason\":\"bench reset\"}"
}
stop_and_wait() { # stop_and_wait PID...: SIGINT, then wait for them to end
	local pid
	for pid in "$@"; do kill -INT "$pid" 2>/dev/null; done
	for pid in "$@"; do wait_for 15 "pid $pid ends" eval '! kill -0 '"$pid"' 2>/dev/null'; done
}

# start_cluster MODE WARM ALARMS: the two managers, the policy daemon and
# onvm-top; ALARMS 0 turns the managers' alarms off.
start_cluster() {
	local alarms=()
	(($3)) || alarms=(--alarm-ms 0)
	[[ -n ${ALARM_MS:-} ]] && (($3)) && alarms=(--alarm-ms "$ALARM_MS")
	onvm_scale_catalog "$ONVM_TMP/catalog.json" "$CAPACITY" "$2"
	rm -f "$ONVM_TMP"/h[12].stats
	onvm_start_host 1 -c "$ONVM_TMP/catalog.json" -k 2-4 -s 9,2 -p '0:2>0' -p '1:2>0' -t 100 "${alarms[@]}"
	onvm_start_host 2 -c "$ONVM_TMP/catalog.json" -k 2-3 -p '0:2>0' -p '1:2>0' -t 100 "${alarms[@]}"
	onvm_wait_scale_start
	# No scale-in while we measure: the runs stop their instances themselves.
	onvm_spawn "policy-$1" "$ONVM_BUILD/onvm-policy" -i pe-bench -b "$BROKER_URI" \
		-P "$BROKER_DIR/secrets/policy.pass" --scale-in-ms 3600000
	POLICY_PID=$LAST_PID
	onvm_spawn "top-$1" "$ONVM_BUILD/onvm-top" -b "$BROKER_URI" -u monitor \
		-P "$BROKER_DIR/secrets/monitor.pass" -s 2 -g 9 -q
	TOP_PID=$LAST_PID
	wait_for 10 "policy daemon leads" grep -q 'now leads' "$ONVM_TMP/policy-$1.log"
	if (($2 > 0)); then
		wait_for 30 "warm standbys ready" eval '
			grep -q "warm standby of service 2 ready" "${HOST_LOG[1]}" &&
			grep -q "warm standby of service 2 ready" "${HOST_LOG[2]}"'
	fi
}

# one_run MODE N: a local then a remote scale-out, the loss, the reset.
one_run() {
	local mode=$1 run=$2 gen0 rx0 drop1_0 drop2_0 gen1 rx1 drop1_1 drop2_1
	read -r gen0 rx0 drop1_0 drop2_0 <<<"$(snapshot)"
	local_before=$(spawned_on h1) remote_before=$(spawned_on h2)

	echo $((CAPACITY * 16 / 10)) >"$ONVM_TMP/rate"
	wait_for 30 "$mode run $run: local scale-out" eval '(( $(spawned_on h1) > local_before ))'
	sleep 1.5 # let the two instances settle below capacity
	echo $((CAPACITY * 24 / 10)) >"$ONVM_TMP/rate"
	wait_for 30 "$mode run $run: remote scale-out" eval '(( $(spawned_on h2) > remote_before ))'
	wait_for 10 "$mode run $run: h2 receives" eval '(( $(counter_sum 2 rx 2) > 0 ))'
	sleep 2
	echo 0 >"$ONVM_TMP/rate"
	sleep 1 # drain the rings and the tunnel; counters files are 100 ms fresh

	read -r gen1 rx1 drop1_1 drop2_1 <<<"$(snapshot)"
	local generated=$((gen1 - gen0)) processed=$((rx1 - rx0))
	local overload=$((drop1_1 - drop1_0 + drop2_1 - drop2_0))
	# The generator's tx counts what it enqueued (at h1 or into the tunnel):
	# all of that must be processed or dropped by a full ring on h2.
	local lost=$((generated - processed - (drop2_1 - drop2_0)))
	LOSSES+=("$lost")
	printf '%s run %d: generated %d, processed %d, overload drops %d, lost beyond them %d\n' \
		"$mode" "$run" "$generated" "$processed" "$overload" "$lost"

	local stops=0 host instance
	while read -r host instance; do
		stops=$((stops + 1))
		stop_instance "$host" "$instance" "bench-$mode-$run-$stops"
	done < <(added_instances)
	wait_for 10 "$mode run $run: instances stopped" eval '
		(( $(grep -c "\"cmd_id\":\"bench-$mode-$run-[0-9]*\",\"event\":\"stopped\"" "$ONVM_TMP/bus.log") == stops ))'
	wait_for 10 "$mode run $run: back to one instance" eval '[[ $(added_instances | wc -l) -eq 0 ]]'
	sleep 1
}

first_packet_ms() { # first_packet_ms MODE local|remote: sorted "->first packet N ms"
	grep "^scale-out .*($2) .*->first packet [0-9]* ms" "$ONVM_TMP/top-$1.log" |
		sed 's/.*->first packet \([0-9]*\) ms.*/\1/' | sort -n
}
summarize() { # summarize NAME: p50 and max of the sorted values on stdin; sets NAME_P50
	local values count p50 max
	mapfile -t values
	count=${#values[@]}
	((count > 0)) || { echo "$1: no data"; return; }
	p50=${values[$(((count - 1) / 2))]}
	max=${values[$((count - 1))]}
	echo "$1: n=$count p50 ${p50} ms, max ${max} ms"
	eval "${1}_P50=$p50"
}

# measure MODE WARM ALARMS: RUNS runs on a fresh cluster; prints its summary.
measure() {
	LOSSES=()
	start_cluster "$1" "$2" "$3"
	for ((run = 1; run <= RUNS; run++)); do one_run "$1" "$run"; done
	stop_and_wait "$TOP_PID"
	wait_for 10 "onvm-top's summary" grep -q "^scale-out .*->first packet" "$ONVM_TMP/top-$1.log"
	stop_and_wait "$POLICY_PID" "${HOST_PID[1]}" "${HOST_PID[2]}"
	echo
	grep "^scale-out .*->first packet" "$ONVM_TMP/top-$1.log"
	echo "== $1: scale-out reaction time (overload onset -> first packet at the new instance) =="
	summarize "${1}_local" < <(first_packet_ms "$1" local)
	summarize "${1}_remote" < <(first_packet_ms "$1" remote)
	echo "packets lost beyond the overload drops, per run: ${LOSSES[*]}"
	echo
}

measure warm 1 1
measure cold 0 1
measure warm_stats 1 0
measure cold_stats 0 0
echo "targets: warm with alarms <= 50 ms (p50), local and remote"
# ratio NAME A B: A's p50 over B's, local and remote
ratio() {
	local al=${2}_local_P50 bl=${3}_local_P50 ar=${2}_remote_P50 br=${3}_remote_P50
	awk -v al="${!al:-0}" -v bl="${!bl:-0}" -v ar="${!ar:-0}" -v br="${!br:-0}" -v name="$1" 'BEGIN {
		printf "%s p50: local %.2f, remote %.2f\n", name, (bl > 0 ? al / bl : 0), (br > 0 ? ar / br : 0) }'
}
ratio "warm / cold (alarms)" warm cold
ratio "alarms / stats only (warm)" warm warm_stats
ratio "alarms / stats only (cold)" cold cold_stats
echo
echo "== flows that move (the generator's flows) =="
"$ONVM_BUILD/bench_flow_moves" 1024
echo
echo "== repair: a host lost, its instance replaced (tests/bench/repair.sh) =="
bash tests/bench/repair.sh "$RUNS" | grep -v '^repair_kill_warm_ms_p50:'
echo "scale_local_ms_p50: ${warm_local_P50:-n/a}"
