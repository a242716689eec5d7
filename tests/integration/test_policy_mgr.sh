#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The policy daemon scales a real manager: a load generator offers 150 % of
# what one slow_thing instance (service 2, capped at 20 kpps) carries; its
# ring fills and it drops packets; the manager's stats show it; onvm-policy
# sends a spawn command to the manager (local: it has a free core); the
# manager starts a second slow_thing, which shows up in its services map,
# and the drops stop. Exactly one spawn command is sent.
source "$(dirname "$0")/lib.sh"
onvm_test_init policy_mgr

onvm_start_broker h1
POLICY=$ONVM_BUILD/onvm-policy
[[ -x $POLICY ]] || fail "no $POLICY"
echo 0 >"$ONVM_TMP/rate"
cat >"$ONVM_TMP/catalog.json" <<JSON
{"services": [
  {"id": 2, "name": "slow_thing", "exec": "$ONVM_BUILD/examples/slow_thing", "args": ["-c", "200", "-R", "20000"]},
  {"id": 3, "name": "monitor", "exec": "$ONVM_BUILD/examples/monitor", "args": ["-e", "0"]},
  {"id": 9, "name": "load_generator", "exec": "$ONVM_BUILD/examples/load_generator",
   "args": ["-d", "2", "-f", "256", "-R", "0", "-F", "$ONVM_TMP/rate"]}
]}
JSON
onvm_watch bus 'onvm/#'
LOG=$ONVM_TMP/bus.log
# NF cores 2-5: three taken by the services started at launch, one free.
onvm_start_mgr mgr -l 0,1 --vdev=net_null0,no-rx=1 -- -c "$ONVM_TMP/catalog.json" -k 2-5 \
	-s 2,3,9 -p "0:2,3>0" $(onvm_bus_args h1)
wait_for 40 "three NFs running" eval '[[ $(grep -c "event spawned" "$MGR_LOG") -ge 3 ]]'
wait_for 10 "one free core on the bus" grep -q 'onvm/hosts/h1/state .*"cores":{"total":4,"free":1}' "$LOG"

onvm_spawn policy "$POLICY" -i pe-test -b "$BROKER_URI" -P "$BROKER_DIR/secrets/policy.pass" \
	--grace-ms 300
wait_for 10 "the policy daemon leads" grep -q "pe-test now leads" "$ONVM_TMP/policy.log"

echo 30000 >"$ONVM_TMP/rate"
wait_for 20 "slow_thing drops packets" grep -q 'onvm/hosts/h1/stats .*"service":2,[^}]*"drop_pps":[1-9]' "$LOG"
wait_for 10 "the spawn command" grep -q 'onvm/hosts/h1/cmd .*"engine":"pe-test","op":"spawn","service":2,"count":1,"origin":"h1"' "$LOG"
wait_for 15 "the manager spawned it" grep -q 'onvm/hosts/h1/events .*"cmd_id":"pe-test-[0-9]*","event":"spawned","service":2' "$LOG"
wait_for 10 "two instances in the services map" grep -q 'onvm/hosts/h1/services .*"2":\[{"instance":[0-9]*,"core":[0-9]*,"state":"running"},{"instance":[0-9]*,"core":[0-9]*,"state":"running"}\]' "$LOG"

# The drops stop: three stats periods in a row without drops for service 2.
no_drops() {
	tail -n 200 "$LOG" | grep 'onvm/hosts/h1/stats' | tail -n 3 >"$ONVM_TMP/last3"
	[[ $(wc -l <"$ONVM_TMP/last3") -eq 3 ]] && ! grep -q '"service":2,[^}]*"drop_pps":[1-9]' "$ONVM_TMP/last3"
}
wait_for 15 "drops stop with two instances" no_drops
sleep 1
[[ $(grep -c 'onvm/hosts/h1/cmd ' "$LOG") -eq 1 ]] || fail "expected exactly one command: $(grep -c 'onvm/hosts/h1/cmd ' "$LOG")"
grep -q 'onvm/policy/decisions .*"target":"h1","cmd_id":"pe-test-.*"shadow":false' "$LOG" || fail "no decision"
