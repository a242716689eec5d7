#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Self-healing: a service declared with "min": 1 comes back when the host
# running it dies, and a service with no instance anywhere gets one when
# its traffic arrives.  Three hosts; traffic for service 3 (simple_forward)
# enters at h1's port 2, a veth fed by pktio.  h1 has no core to give, h2
# two, h3 one; h2 starts its instances cold, h3 from a warm standby.
# Expected:
#   1. no instance of service 3 anywhere: h1 drops the traffic and says so
#      in its stats ("unserved"), the policy treats that as an overload on
#      h1 and, h1 being full, spawns service 3 on h2 (most free cores);
#      h2's instance gets h1's traffic and h1's unserved goes back to 0;
#      then service 3 is declared "min": 1 (SIGHUP rereads the file);
#   2. kill -9 of h2's manager: the policy repairs, spawning service 3 with
#      "origin": null on h3 (the only host left with a core), whose warm
#      standby gets h1's traffic; h1's unserved goes back to 0;
#   3. h2 comes back, then kill -9 of h3's manager: the repair lands on h2,
#      a cold start this time.
# The time from each kill to the replacement's first packet is logged, warm
# and cold; tests/bench/scale.sh measures it over several runs.
source "$(dirname "$0")/lib.sh"
onvm_test_init self_heal
onvm_hosts 3
onvm_start_broker h1 h2 h3

SERVICE=3
RATE=2000 # packets per second into h1's port 2
onvm_heal_catalog "$ONVM_TMP/cold.json" "$SERVICE" 0
onvm_heal_catalog "$ONVM_TMP/warm.json" "$SERVICE" 1
# No minimum at first: the first instance must come from the demand alone.
declare_min() { echo "{\"services\": [{\"id\": $SERVICE, \"min\": $1}]}" >"$ONVM_TMP/services.json"; }
declare_min 0

onvm_watch bus 'onvm/#'
onvm_ingress_port 1
# h1: its one NF core goes to a monitor, so it can take no instance.
onvm_start_host 1 -c "$ONVM_TMP/cold.json" -k 2 -s 5 -p "1:$SERVICE>0" -p "2:$SERVICE>0" -t 100
start_h2() { onvm_start_host 2 -c "$ONVM_TMP/cold.json" -k 2-3 -p "1:$SERVICE>0" -t 100; }
start_h2
onvm_start_host 3 -c "$ONVM_TMP/warm.json" -k 2 -p "1:$SERVICE>0" -t 100
wait_for 20 "h3's warm standby" grep -q "warm standby of service $SERVICE ready" "${HOST_LOG[3]}"

# shellcheck disable=SC2046
onvm_spawn policy "${ONVM_CTL[@]}" "$ONVM_BUILD/onvm-policy" -i pe-heal $(onvm_client_args policy) \
	--services "$ONVM_TMP/services.json"
POLICY_PID=$LAST_PID
wait_for 10 "policy daemon leads" grep -q 'now leads' "$ONVM_TMP/policy.log"
# Once traffic is served again, h1's next stats say 0 unserved.
unserved_ends() {
	local served
	served=$(bus_mark)
	wait_for 10 "h1's unserved back to 0" \
		eval '[[ -n $(unserved_after h1 "$SERVICE" "$served") && $(unserved_after h1 "$SERVICE" "$served" | tail -1) == 0 ]]'
}

# ---- 1. no instance anywhere ----
mark=$(bus_mark)
onvm_spawn sender ip netns exec "$ONVM_NETNS_TAG-h1" "$ONVM_BUILD/pktio" send in1 100000000 64 64 "$RATE"
sent_ms=$(now_ms)
wait_for 10 "h1 reports service $SERVICE unserved" \
	eval '[[ -n $(unserved_after h1 "$SERVICE" "$mark" | awk "\$1 > 0") ]]'
onvm_log "h1 unserved: $(unserved_after h1 "$SERVICE" "$mark" | awk '$1 > 0' | head -1) pps"
wait_for 20 "the policy spawns service $SERVICE on h2" \
	eval '[[ -n $(bus_after "$mark" h2 events | grep "\"event\":\"spawned\".*\"service\":$SERVICE") ]]'
bus_after "$mark" | grep -q "^onvm/hosts/h[13]/cmd " && fail "a command went to h1 or h3"
wait_for 10 "h2's instance gets h1's traffic" eval '[[ -n $(first_rx_after h2 "$SERVICE" "$mark") ]]'
onvm_log "unserved traffic -> first packet at h2: $(($(first_rx_after h2 "$SERVICE" "$mark") - sent_ms)) ms (cold)"
unserved_ends

# The operator declares min 1; the policy rereads the file on SIGHUP.
declare_min 1
kill -HUP "$POLICY_PID" # ip netns exec (ONVM_MACHINES=1) execs it: the same pid
wait_for 10 "the policy reread its --services" grep -q "reloaded --services" "$ONVM_TMP/policy.log"
grep -q '"origin":null' "$ONVM_TMP/bus.log" && fail "a repair though service $SERVICE has its instance"

# ---- 2. the host dies: repair ----
repair() { # repair VICTIM REPLACEMENT HOW
	local victim=$1 replacement=$2 how=$3 before kill_ms cmd
	before=$(bus_mark)
	kill_ms=$(now_ms)
	kill -9 "${HOST_PID[${victim#h}]}"
	wait_for 10 "$victim reported offline (last will)" \
		eval '[[ -n $(bus_after "$before" "$victim" state | grep "\"status\":\"offline\"") ]]'
	wait_for 10 "the policy repairs service $SERVICE on $replacement" eval \
		'[[ -n $(bus_after "$before" "$replacement" events | grep "\"event\":\"spawned\".*\"service\":$SERVICE") ]]'
	cmd=$(bus_after "$before" "$replacement" cmd | head -1)
	[[ $(jq -r '.origin' <<<"$cmd") == null ]] || fail "the repair has an origin: $cmd"
	jq -r '.reason' <<<"$cmd" | grep -q '^repair' || fail "the repair's reason: $cmd"
	[[ -z $(bus_after "$before" "$victim" cmd) ]] || fail "a command went to the dead $victim"
	wait_for 10 "$replacement's instance gets h1's traffic" \
		eval '[[ -n $(first_rx_after "$replacement" "$SERVICE" "$before") ]]'
	onvm_log "kill -9 of $victim -> first packet at $replacement:" \
		"$(($(first_rx_after "$replacement" "$SERVICE" "$before") - kill_ms)) ms ($how)"
	unserved_ends
	kill -0 "${HOST_PID[1]}" || fail "h1's manager died"
}
repair h2 h3 warm

# ---- 3. h2 comes back; h3 dies: repair, cold ----
onvm_host_gone 2
mark=$(bus_mark)
start_h2
wait_for 10 "h2 online again" eval '[[ -n $(bus_after "$mark" h2 state | grep "\"status\":\"online\"") ]]'
repair h3 h2 cold
