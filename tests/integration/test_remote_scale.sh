#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Scale-out across hosts: three hosts (network namespaces on a bridge), each
# a manager with a VXLAN tunnel port; the policy daemon on the bus.  h1 runs
# a load generator and one slow_thing and has no core left; h2 has two
# cores, h3 one; the offered load is well above what one slow_thing carries.
# Expected:
#   - the policy spawns slow_thing on h2 (most free cores), and h2's instance
#     receives packets;
#   - the packets on the inter-host link are VXLAN with VNI = service 2
#     (decoded by tshark);
#   - the traffic delivered by all instances together exceeds one instance's
#     capacity;
#   - after kill -9 of h2's manager, nothing more is sent to h2, the policy
#     places the service on h3, which gets traffic, and once h3 is full too
#     it says there is no capacity left.
# test_machines.sh runs this same scenario with ONVM_MACHINES=1: each
# manager wholly inside its namespace, over TLS to a broker on another.
source "$(dirname "$0")/lib.sh"
if ((ONVM_MACHINES)); then onvm_test_init machines; else onvm_test_init remote_scale; fi
onvm_hosts 3
onvm_start_broker h1 h2 h3

CAPACITY=2000 # packets per second one slow_thing handles
OFFERED=4500
onvm_scale_catalog "$ONVM_TMP/catalog.json" "$CAPACITY"

onvm_watch bus 'onvm/#'
onvm_start_host 1 -c "$ONVM_TMP/catalog.json" -k 2-3 -s 9,2 -p '0:2>0' -p '1:2>0' -t 200
onvm_start_host 2 -c "$ONVM_TMP/catalog.json" -k 2-3 -p '0:2>0' -p '1:2>0' -t 200
onvm_start_host 3 -c "$ONVM_TMP/catalog.json" -k 2 -p '0:2>0' -p '1:2>0' -t 200
onvm_wait_scale_start
[[ $(stat_header "${HOST_STATS[1]}" free_cores) -eq 0 ]] || fail "h1 should have no free core"

# shellcheck disable=SC2046
onvm_spawn policy "${ONVM_CTL[@]}" "$ONVM_BUILD/onvm-policy" -i pe-t $(onvm_client_args policy)
wait_for 10 "policy daemon on the bus" grep -q 'onvm/policy/engines/pe-t {.*online' "$ONVM_TMP/bus.log"

# Capture the inter-host link from the bridge side, as an operator would.
onvm_spawn tshark ip netns exec "$ONVM_NETNS_TAG-fab" tshark -i h1 -l -n -f 'udp port 4789' \
	-c 20 -T fields -E occurrence=f -e ip.src -e ip.dst -e udp.dstport -e vxlan.vni
wait_for 20 "tshark capturing" grep -q "Capturing on" "$ONVM_TMP/tshark.log"

echo "$OFFERED" >"$ONVM_TMP/rate"
wait_for 30 "the policy spawns slow_thing on h2" \
	grep -q 'onvm/hosts/h2/events {.*"event":"spawned".*"service":2' "$ONVM_TMP/bus.log"
wait_for 10 "h2's slow_thing receives packets" \
	eval '(( $(service_total "${HOST_STATS[2]}" 2 rx) > 0 ))'
onvm_log "h2 instance rx: $(service_total "${HOST_STATS[2]}" 2 rx)"

wait_for 20 "tshark saw 20 VXLAN packets" eval '(( $(grep -c "4789" "$ONVM_TMP/tshark.log") >= 20 ))'
bad=$(awk -F'\t' 'NF >= 4 && !($1 == "10.250.0.1" && $2 == "10.250.0.2" && $3 == 4789 && $4 == 2)' \
	"$ONVM_TMP/tshark.log" | grep -v -e Capturing -e captured || true)
[[ -z $bad ]] || fail "not VXLAN h1 -> h2 with VNI 2: $bad"
onvm_log "tshark: $(grep -m1 4789 "$ONVM_TMP/tshark.log" | tr '\t' ' ')"

# Delivered over a 2 s window once the scale-out has settled: all of
# service 2's instances, on both hosts.
delivered_total() {
	echo $(($(service_total "${HOST_STATS[1]}" 2 tx) + $(service_total "${HOST_STATS[2]}" 2 tx)))
}
sleep_until() { while (($(date +%s%N) < $1)); do sleep 0.05; done; }
wait_for 20 "scale-out settles (no spawn pending)" \
	eval '(( $(grep -c "\"event\":\"spawned\".*\"service\":2" "$ONVM_TMP/bus.log") >= 2 ))'
start_ns=$(date +%s%N)
before=$(delivered_total)
sleep_until $((start_ns + 2000000000))
after=$(delivered_total)
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
delivered_pps=$(((after - before) * 1000 / elapsed_ms))
onvm_log "delivered $delivered_pps pps with offered $OFFERED (one instance: $CAPACITY)"
((delivered_pps > CAPACITY * 3 / 2)) || fail "delivered $delivered_pps pps: not above one instance's $CAPACITY"

# h2 dies without a word: its manager and its NFs.  Only what follows counts.
before_kill=$(wc -l <"$ONVM_TMP/bus.log")
after_kill() { tail -n +"$((before_kill + 1))" "$ONVM_TMP/bus.log"; }
kill -9 "${HOST_PID[2]}"
wait_for 10 "h2 reported offline (last will)" \
	grep -q 'onvm/hosts/h2/state {.*"status":"offline"' "$ONVM_TMP/bus.log"
# h1 drops h2's members as soon as it hears: from then on nothing reaches
# h2's link (its namespace and veth outlive the manager).
sleep 0.3
onvm_spawn to_h2 ip netns exec "$ONVM_NETNS_TAG-fab" tshark -i h2 -l -n -f 'udp port 4789' \
	-a duration:2 -T fields -e ip.dst
wait_for 10 "capture of h2's link done" grep -q "packets\? captured" "$ONVM_TMP/to_h2.log"
[[ $(grep -c "^10\.250\.0\.2" "$ONVM_TMP/to_h2.log") -eq 0 ]] ||
	fail "h1 still sends to the dead h2: $(grep -c "^10\.250\.0\.2" "$ONVM_TMP/to_h2.log") packets in 2 s"

wait_for 30 "the policy places service 2 on h3" \
	eval 'after_kill | grep -q "onvm/hosts/h3/events {.*\"event\":\"spawned\".*\"service\":2"'
wait_for 10 "h3's slow_thing receives packets" eval '(( $(service_total "${HOST_STATS[3]}" 2 rx) > 0 ))'
onvm_log "h3 instance rx: $(service_total "${HOST_STATS[3]}" 2 rx)"
wait_for 30 "with h3 full too, the policy says there is no capacity for service 2" \
	eval 'after_kill | grep -q "onvm/policy/decisions {.*\"service\":2.*\"target\":null"'
onvm_log "$(after_kill | grep -m1 'onvm/policy/decisions {.*"target":null' | cut -c1-220)"
after_kill | grep -q 'onvm/hosts/h2/cmd' && fail "the policy sent a command to the dead h2"
kill -0 "${HOST_PID[1]}" || fail "h1's manager died"
