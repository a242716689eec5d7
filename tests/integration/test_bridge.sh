#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Two sites, one cluster: broker A on control machine ctl (10.251.0.254) and
# broker B on control machine ctl2 (10.251.0.253), joined by a Mosquitto
# bridge over TLS with a certificate A issued to site B (role bridge).  h1 is
# a manager on A, h2 a manager on B, both wholly inside their namespaces on
# TLS; the policy runs once, on A.  Expected:
#   - B's bridge connects to A as its certificate's identity;
#   - h1 overloads with no free core: the policy's spawn crosses the bridge,
#     h2 starts slow_thing and gets h1's traffic over VXLAN (h1 learnt h2's
#     endpoint through the bridge);
#   - kill -9 of h2's manager: B publishes its Last Will, which reaches the
#     policy through the bridge: the next decision finds no capacity, and no
#     command goes to h2 any more.
source "$(dirname "$0")/lib.sh"
export ONVM_MACHINES=1
onvm_test_init bridge
onvm_hosts 2
onvm_start_broker h1 bridge:site-b
BROKER_A_DIR=$BROKER_DIR
BROKER_A_TLS_URI=$BROKER_TLS_URI

# Site B: its own control machine, broker and CA; the bridge credentials come from A.
SITE_B_IP=10.251.0.253
bash "$ONVM_SRC/dp/netns-hosts.sh" control "$ONVM_NETNS_TAG" ctl2 "$SITE_B_IP" || fail "no control machine for B"
BROKER_B_DIR=$ONVM_TMP/broker-b
mkdir -p "$ONVM_TMP/site-b-bridge"
cp "$BROKER_A_DIR/pki/ca.crt" "$BROKER_A_DIR/certs/site-b.crt" "$BROKER_A_DIR/certs/site-b.key" \
	"$ONVM_TMP/site-b-bridge/"
ip netns exec "$ONVM_NETNS_TAG-ctl2" bash "$ONVM_SRC/mosquitto/start-broker.sh" --dir "$BROKER_B_DIR" \
	--tls 0.0.0.0:8883 --san "IP:$SITE_B_IP" --bridge "$ONVM_CONTROL_IP:8883" \
	--bridge-ca "$ONVM_TMP/site-b-bridge/ca.crt" --bridge-cert "$ONVM_TMP/site-b-bridge/site-b.crt" \
	--bridge-key "$ONVM_TMP/site-b-bridge/site-b.key" h2 >"$ONVM_TMP/broker-b-start.log" 2>&1 ||
	fail "broker B did not start: $(tail -n 5 "$ONVM_TMP/broker-b-start.log")"
ONVM_BROKERS+=("$BROKER_B_DIR")
wait_for 10 "B's bridge connected to A as site-b" \
	grep -qE "New bridge connected from $SITE_B_IP:[0-9]+ as site-b " "$BROKER_A_DIR/mosquitto.log"

CAPACITY=2000
onvm_scale_catalog "$ONVM_TMP/catalog.json" "$CAPACITY"
onvm_watch bus 'onvm/#' # on A: what the policy sees
onvm_start_host 1 -c "$ONVM_TMP/catalog.json" -k 2-3 -s 9,2 -p '0:2>0' -p '1:2>0' -t 200
BROKER_DIR=$BROKER_B_DIR BROKER_TLS_URI=ssl://$SITE_B_IP:8883 \
	onvm_start_host 2 -c "$ONVM_TMP/catalog.json" -k 2-3 -p '0:2>0' -p '1:2>0' -t 200
onvm_wait_scale_start
wait_for 10 "h2's state reaches A through the bridge" \
	grep -q 'onvm/hosts/h2/state {.*"status":"online"' "$ONVM_TMP/bus.log"

# shellcheck disable=SC2046
onvm_spawn policy "${ONVM_CTL[@]}" "$ONVM_BUILD/onvm-policy" -i pe-t $(onvm_client_args policy)
wait_for 10 "policy daemon on A" grep -q 'onvm/policy/engines/pe-t {.*online' "$ONVM_TMP/bus.log"

echo 4500 >"$ONVM_TMP/rate"
wait_for 30 "the policy's spawn crossed the bridge: h2 spawned slow_thing" \
	grep -q 'onvm/hosts/h2/events {.*"event":"spawned".*"service":2' "$ONVM_TMP/bus.log"
grep -q 'onvm/hosts/h2/cmd ' "$ONVM_TMP/bus.log" || fail "no command to h2 seen on A"
wait_for 10 "h2's slow_thing receives h1's packets over VXLAN" \
	eval '(( $(service_total "${HOST_STATS[2]}" 2 rx) > 0 && $(tunnel_stat "${HOST_STATS[2]}" decapsulated) > 0 ))'
onvm_log "h2 (on broker B) instance rx: $(service_total "${HOST_STATS[2]}" 2 rx)"

before_kill=$(wc -l <"$ONVM_TMP/bus.log")
after_kill() { tail -n +"$((before_kill + 1))" "$ONVM_TMP/bus.log"; }
kill -9 "${HOST_PID[2]}"
wait_for 15 "h2's Last Will (published by B) reaches A" \
	eval 'after_kill | grep -q "onvm/hosts/h2/state {\"v\":1,\"host\":\"h2\",\"status\":\"offline\"}"'
wait_for 30 "the policy, knowing h2 is gone, finds no capacity" \
	eval 'after_kill | grep -q "onvm/policy/decisions {.*\"service\":2.*\"target\":null"'
after_kill | grep -q 'onvm/hosts/h2/cmd' && fail "the policy sent a command to the dead h2"
kill -0 "${HOST_PID[1]}" || fail "h1's manager died"
onvm_log "$(after_kill | grep -m1 'onvm/policy/decisions {.*"target":null' | cut -c1-160)"
