#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# repair.sh - how fast a lost instance comes back (service "min": 1).
#
# Three hosts run as separate machines would (ONVM_MACHINES=1): each manager
# wholly inside its namespace, over TLS to the broker on the control
# machine, where the policy daemon runs.  Traffic for service 3 enters at
# h1's port 2 (pktio on a veth); h1 has no core to give.  h2 and h3 have one
# core each, and the one instance of service 3 runs on one of them.  Each
# run takes that host away and times the repair: from the moment the host
# is lost to the first packet at the replacement on the other one (its
# first_rx_ms on the bus), then brings the lost host back for the next run.
#   kill   kill -9 of the manager: its TCP connection closes, so the broker
#          publishes its last will at once (warm standbys, then cold starts);
#   link   ip link set down of the host's links: nothing closes, so the
#          broker publishes the Will only when the keepalive runs out; the
#          policy sees the host stale after its staleness bound, and h1's
#          manager, which stops sending to a peer silent for 1.5 s, then
#          drops the service's packets as unserved: whichever comes first
#          brings the replacement (each run says which).
#
#   sudo tests/bench/repair.sh [RUNS]      (default 5)
# Last line: repair_kill_warm_ms_p50: <ms>
set -uo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-5}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [RUNS]" >&2; exit 2; }
KEEPALIVE_S=${KEEPALIVE_S:-}
export ONVM_BUILD=${ONVM_BUILD:-$PWD/build} ONVM_MACHINES=1
source tests/integration/lib.sh
onvm_bench_init bench_repair
onvm_hosts 3
onvm_start_broker h1 h2 h3
onvm_watch bus 'onvm/#'
SERVICE=3
onvm_heal_catalog "$ONVM_TMP/cold.json" "$SERVICE" 0
onvm_heal_catalog "$ONVM_TMP/warm.json" "$SERVICE" 1
echo "{\"services\": [{\"id\": $SERVICE, \"min\": 1}]}" >"$ONVM_TMP/services.json"
onvm_ingress_port 1

keepalive_args=()
[[ -n $KEEPALIVE_S ]] && keepalive_args=(--bus-keepalive "$KEEPALIVE_S")
start_server() { # start_server N CATALOG
	onvm_start_host "$1" -c "$2" -k 2 -p "1:$SERVICE>0" -t 100 "${keepalive_args[@]}"
	if [[ $2 == *warm* ]]; then
		wait_for 20 "h$1's warm standby" \
			eval 'grep -q "warm standby of service $SERVICE ready" "${HOST_LOG['"$1"']}"'
	fi
}
# The host (2 or 3) whose latest stats after MARK list an instance of the service.
holder_after() {
	local host
	for host in 2 3; do
		[[ -n $(bus_after "$1" "h$host" stats | tail -1 |
			jq -r --argjson s "$SERVICE" '.instances[] | select(.service == $s) | .instance') ]] &&
			echo "$host"
	done
}
kill_host() { # kill_host N: kill -9 of its manager (wait: no "Killed" line from bash)
	kill -9 "${HOST_PID[$1]}"
	wait "${HOST_PID[$1]}" 2>/dev/null
}
set_links() { # set_links N up|down
	local link
	for link in tun0 mgmt0; do ip -n "$ONVM_NETNS_TAG-h$1" link set "$link" "$2"; done
}

# measure CASE CATALOG: RUNS repairs; prints each and the summary.
measure() {
	local case=$1 catalog=$2 run victim replacement mark lost_ms first values=()
	start_server 2 "$catalog"
	start_server 3 "$catalog"
	mark=$(bus_mark)
	# shellcheck disable=SC2046
	onvm_spawn "policy-$case" "${ONVM_CTL[@]}" "$ONVM_BUILD/onvm-policy" -i pe-bench \
		$(onvm_client_args policy) --services "$ONVM_TMP/services.json" --scale-in-ms 3600000
	local policy_pid=$LAST_PID
	wait_for 20 "$case: service $SERVICE placed" eval '[[ -n $(holder_after "$mark") ]]'
	replacement=$(holder_after "$mark")
	for ((run = 1; run <= RUNS; run++)); do
		victim=$replacement
		replacement=$((victim == 2 ? 3 : 2))
		mark=$(bus_mark)
		lost_ms=$(date +%s%3N)
		if [[ $case == link ]]; then set_links "$victim" down; else kill_host "$victim"; fi
		wait_for 30 "$case run $run: first packet at h$replacement" \
			eval '[[ -n $(first_rx_after "h$replacement" "$SERVICE" "$mark") ]]'
		first=$(first_rx_after "h$replacement" "$SERVICE" "$mark")
		values+=("$((first - lost_ms))")
		echo "$case run $run: h$victim lost -> first packet at h$replacement: $((first - lost_ms)) ms" \
			"(spawned for: $(bus_after "$mark" "h$replacement" cmd | head -1 | jq -r .reason | cut -d';' -f1))"
		if [[ $case == link ]]; then
			kill_host "$victim"
			set_links "$victim" up
		fi
		onvm_host_gone "$victim"
		start_server "$victim" "$catalog"
	done
	kill -INT "$policy_pid" "${HOST_PID[2]}" "${HOST_PID[3]}"
	onvm_host_gone 2
	onvm_host_gone 3
	summarize "repair_$case" < <(printf '%s\n' "${values[@]}" | sort -n)
}
summarize() { # summarize NAME: p50 and max of the sorted values on stdin; sets NAME_P50
	local values count
	mapfile -t values
	count=${#values[@]}
	((count > 0)) || { echo "$1: no data"; return; }
	echo "$1: n=$count p50 ${values[$(((count - 1) / 2))]} ms, max ${values[$((count - 1))]} ms"
	eval "${1}_P50=${values[$(((count - 1) / 2))]}"
}

onvm_start_host 1 -c "$ONVM_TMP/cold.json" -k 2 -s 5 -p "1:$SERVICE>0" -p "2:$SERVICE>0" -t 100
onvm_spawn sender ip netns exec "$ONVM_NETNS_TAG-h1" "$ONVM_BUILD/pktio" send in1 100000000 64 64 2000

echo "== repair after kill -9 (last will at once), warm standbys =="
measure kill_warm "$ONVM_TMP/warm.json"
echo "== repair after kill -9, cold starts (the baseline) =="
measure kill_cold "$ONVM_TMP/cold.json"
echo "== repair after a silent link loss (keepalive ${KEEPALIVE_S:-default} s), warm =="
measure link "$ONVM_TMP/warm.json"
echo "targets: kill -9 warm p50 < 300 ms; link loss <= 1.5 keepalives + 300 ms"
awk -v w="${repair_kill_warm_P50:-0}" -v c="${repair_kill_cold_P50:-0}" \
	'BEGIN { printf "warm / cold p50: %.2f\n", (c > 0 ? w / c : 0) }'
echo "repair_kill_warm_ms_p50: ${repair_kill_warm_P50:-n/a}"
