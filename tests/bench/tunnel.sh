#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tunnel.sh - what the inter-host tunnel carries.
#
# Two hosts (namespaces, net_af_packet on veth, VXLAN between the managers).
# A load generator on h1 offers RATE pps to service 2 (slow_thing without a
# cap: it only forwards to a net_null sink):
#   1. baseline: the one slow_thing runs on h1 itself;
#   2. tunnel: it runs on h2 only, so every packet crosses the tunnel.
# Prints the rate the slow_thing received in each case, what h1 wrapped and
# h2 unwrapped, the loss on the wire, and tunnel_ratio = tunnel / baseline
# (both measured in this run).
#
#   sudo tests/bench/tunnel.sh [RATE] [SECONDS]      (defaults 1000000, 5)
# Last line: tunnel_ratio: <ratio>
set -uo pipefail
cd "$(dirname "$0")/../.."
RATE=${1:-1000000}
SECONDS_RUN=${2:-5}
[[ $RATE =~ ^[1-9][0-9]*$ && $SECONDS_RUN =~ ^[1-9][0-9]*$ ]] ||
	{ echo "usage: $0 [RATE] [SECONDS]" >&2; exit 2; }
export ONVM_BUILD=${ONVM_BUILD:-$PWD/build}
source tests/integration/lib.sh
onvm_bench_init bench_tunnel
onvm_hosts 2
onvm_start_broker h1 h2
onvm_scale_catalog "$ONVM_TMP/catalog.json" 0 # no cap: -R 0
onvm_watch bus 'onvm/hosts/+/events'
onvm_start_host 1 -c "$ONVM_TMP/catalog.json" -k 2-3 -s 9,2 -p '0:2>0' -p '1:2>0' -t 200
onvm_start_host 2 -c "$ONVM_TMP/catalog.json" -k 2-3 -p '0:2>0' -p '1:2>0' -t 200
onvm_wait_scale_start

now_ns() { date +%s%N; }
counters() { # generated, processed on h1, on h2, wrapped on h1, unwrapped on h2
	echo "$(service_total "${HOST_STATS[1]}" 9 tx) $(service_total "${HOST_STATS[1]}" 2 rx)" \
		"$(service_total "${HOST_STATS[2]}" 2 rx) $(tunnel_stat "${HOST_STATS[1]}" encapsulated)" \
		"$(tunnel_stat "${HOST_STATS[2]}" decapsulated)"
}
measure() { # prints per-second rates of the counters above
	local start a b
	start=$(now_ns)
	read -r -a a <<<"$(counters)"
	sleep "$SECONDS_RUN"
	read -r -a b <<<"$(counters)"
	local ns=$(($(now_ns) - start)) i out=()
	for i in 0 1 2 3 4; do out+=($(((b[i] - a[i]) * 1000000000 / ns))); done
	echo "${out[*]}"
}

echo "$RATE" >"$ONVM_TMP/rate"
sleep 1
read -r gen local_rx _ _ _ <<<"$(measure)"
echo "baseline (slow_thing on h1): offered $RATE pps, generated $gen pps, slow_thing received $local_rx pps"

# Move slow_thing to h2: start it there, then stop h1's.
onvm_command h2 '{"v":1,"id":"tb-1","engine":"bench","op":"spawn","service":2,"count":1,"reason":"bench"}'
wait_for 20 "slow_thing on h2" grep -q '"cmd_id":"tb-1","event":"spawned"' "$ONVM_TMP/bus.log"
onvm_command h1 "{\"v\":1,\"id\":\"tb-2\",\"engine\":\"bench\",\"op\":\"stop\",\"service\":2,\"instance\":$(instances_of "${HOST_STATS[1]}" 2),\"reason\":\"bench\"}"
wait_for 20 "h1's slow_thing stopped" grep -q '"cmd_id":"tb-2","event":"stopped"' "$ONVM_TMP/bus.log"
wait_for 10 "traffic through the tunnel" eval '(( $(tunnel_stat "${HOST_STATS[2]}" decapsulated) > 0 ))'
sleep 1
read -r gen _ remote_rx wrapped unwrapped <<<"$(measure)"
echo "tunnel (slow_thing on h2):   offered $RATE pps, generated $gen pps, wrapped $wrapped pps," \
	"unwrapped $unwrapped pps, slow_thing received $remote_rx pps"
# Loss on the wire from the totals once the tunnel is quiet (two counters
# files sampled a moment apart would blur a rate).
echo 0 >"$ONVM_TMP/rate"
sleep 1
awk -v sent="$(tunnel_stat "${HOST_STATS[1]}" encapsulated)" \
	-v got="$(tunnel_stat "${HOST_STATS[2]}" decapsulated)" \
	'BEGIN { printf "between the tunnel ports: %d sent, %d received, %.2f %% lost\n", sent, got, (sent > 0 ? 100 * (sent - got) / sent : 0) }'
echo "h1 $(grep '^tunnel' "${HOST_STATS[1]}")"
awk -v r="$remote_rx" -v l="$local_rx" 'BEGIN { printf "tunnel_ratio: %.3f\n", (l > 0 ? r / l : 0) }'
