#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Self-healing on a real broker (onvm-policy --services): service 3 (min 1)
# runs only on h2; when h2's state says offline (what its Last Will says),
# the daemon publishes one replacement spawn to h1 with "origin": null, and
# its decision says why. SIGHUP reads the file again: a new service 7 with
# min 1 is brought up; a broken file is refused and the old rules stay.
source "$(dirname "$0")/lib.sh"
onvm_test_init policy_repair_live

onvm_start_broker h1 h2
POLICY=$ONVM_BUILD/onvm-policy
[[ -x $POLICY ]] || fail "no $POLICY"
onvm_watch bus 'onvm/#'
LOG=$ONVM_TMP/bus.log

state() { # HOST FREE
	local t
	t=$(now_ms)
	publish_as "$1" "onvm/hosts/$1/state" "{\"v\":1,\"host\":\"$1\",\"status\":\"online\",\"epoch\":$t,\"ts_ms\":$t,\"cores\":{\"total\":4,\"free\":$2}}" -r -q 1
}
t=$(now_ms)
state h1 3
publish_as h1 onvm/hosts/h1/services "{\"v\":1,\"host\":\"h1\",\"ts_ms\":$t,\"services\":{}}" -r -q 1
state h2 2
publish_as h2 onvm/hosts/h2/services "{\"v\":1,\"host\":\"h2\",\"ts_ms\":$t,\"services\":{\"3\":[{\"instance\":1,\"core\":1,\"state\":\"running\"}]}}" -r -q 1

# Stats every 100 ms from the hosts listed in $UP.
UP=$ONVM_TMP/up
printf 'h1\nh2\n' >"$UP"
stream() {
	local seq=0 host
	while :; do
		seq=$((seq + 1))
		while read -r host; do
			publish_as "$host" "onvm/hosts/$host/stats" "{\"v\":1,\"host\":\"$host\",\"ts_ms\":$(now_ms),\"seq\":$seq,\"period_ms\":100,\"ports\":[],\"instances\":[]}"
		done <"$UP"
		sleep 0.1
	done
}
stream >"$ONVM_TMP/stream.log" 2>&1 &
ONVM_PIDS+=($!)

SERVICES=$ONVM_TMP/services.json
echo '{"services": [{"id": 3, "min": 1}]}' >"$SERVICES"
read -ra policy_args <<<"$(onvm_client_args policy) --grace-ms 300 --stale-ms 2000"
onvm_spawn pe-a "$POLICY" -i pe-a --services "$SERVICES" "${policy_args[@]}"
PID_A=$LAST_PID
wait_for 10 "pe-a leads" grep -q "pe-a now leads" "$ONVM_TMP/pe-a.log"
sleep 2.5 # past the start-up hold (one staleness bound): service 3 has its one instance
grep -q '/cmd ' "$LOG" && fail "a command while service 3 had its min"

# h2 goes offline: a replacement at once, no origin.
echo h1 >"$UP"
publish_as h2 onvm/hosts/h2/state '{"v":1,"host":"h2","status":"offline"}' -r -q 1
wait_for 10 "the repair command" grep -q 'onvm/hosts/h1/cmd .*"engine":"pe-a","op":"spawn","service":3,"count":1,"origin":null' "$LOG"
wait_for 5 "the repair decision" grep -q 'onvm/policy/decisions .*"service":3,"origin":null,"target":"h1".*"reason":"repair: service 3 has 0 of min 1 instances (h2 went offline); ' "$LOG"
[[ $(grep -c '/cmd .*"service":3' "$LOG") -eq 1 ]] || fail "expected one repair command for service 3"

# SIGHUP: the file again, now with service 7 (min 1): brought up on h1.
echo '{"services": [{"id": 3, "min": 1}, {"id": 7, "min": 1}]}' >"$SERVICES"
kill -HUP "$PID_A"
wait_for 5 "the reload" grep -q "reloaded --services $SERVICES: 2 services" "$ONVM_TMP/pe-a.log"
wait_for 10 "service 7 brought up to min" grep -q 'onvm/hosts/h1/cmd .*"op":"spawn","service":7,"count":1,"origin":null' "$LOG"
grep -q 'onvm/policy/decisions .*"service":7,"origin":null,"target":"h1".*repair: service 7 has 0 of min 1 instances' "$LOG" ||
	fail "no repair decision for service 7"

# A broken file is refused; the daemon goes on with the old rules.
echo '{"services": [{"id": 7, "mni": 1}]}' >"$SERVICES"
kill -HUP "$PID_A"
wait_for 5 "the refused reload" grep -q 'reload of --services failed, old rules kept: .*unknown key "mni"' "$ONVM_TMP/pe-a.log"
kill -0 "$PID_A" 2>/dev/null || fail "the daemon died on a bad reload"
