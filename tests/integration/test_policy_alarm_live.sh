#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The live daemon takes alarms from the bus (docs/bus.md): h1 (no free
# core) publishes one alarm for its instance 1 of service 2, and no stats
# at all; the leader spawns service 2 on h2 at once, its reason saying it
# came from the alarm. An alarm for an instance h1 does not list is
# ignored, and the exit line counts both.
source "$(dirname "$0")/lib.sh"
onvm_test_init policy_alarm_live

onvm_start_broker h1 h2
POLICY=$ONVM_BUILD/onvm-policy
[[ -x $POLICY ]] || fail "no $POLICY"
onvm_watch bus 'onvm/#'
LOG=$ONVM_TMP/bus.log

read -ra policy_args <<<"$(onvm_client_args policy) --grace-ms 300"
onvm_spawn pe-a "$POLICY" -i pe-a "${policy_args[@]}"
PID_A=$LAST_PID
wait_for 5 "pe-a leads" grep -q "pe-a now leads" "$ONVM_TMP/pe-a.log"

# Live (not retained) states and maps: both hosts are heard, fresh for 5 s.
t=$(now_ms)
publish_as h1 onvm/hosts/h1/state "{\"v\":1,\"host\":\"h1\",\"status\":\"online\",\"epoch\":$t,\"ts_ms\":$t,\"cores\":{\"total\":4,\"free\":0}}" -q 1
publish_as h1 onvm/hosts/h1/services "{\"v\":1,\"host\":\"h1\",\"ts_ms\":$t,\"services\":{\"2\":[{\"instance\":1,\"core\":1,\"state\":\"running\"}]}}" -q 1
publish_as h2 onvm/hosts/h2/state "{\"v\":1,\"host\":\"h2\",\"status\":\"online\",\"epoch\":$t,\"ts_ms\":$t,\"cores\":{\"total\":8,\"free\":6}}" -q 1
publish_as h2 onvm/hosts/h2/services "{\"v\":1,\"host\":\"h2\",\"ts_ms\":$t,\"services\":{}}" -q 1
wait_for 5 "the maps on the bus" grep -q 'onvm/hosts/h2/services' "$LOG"

alarm() { # alarm INSTANCE
	local now
	now=$(now_ms)
	publish_as h1 onvm/hosts/h1/alarms "{\"v\":1,\"host\":\"h1\",\"ts_ms\":$now,\"service\":2,\"instance\":$1,\"drop_pps\":9000,\"ring_fill\":1.0,\"since_ms\":$((now - 25))}" -q 1
}
alarm 1
wait_for 5 "the spawn command from the alarm" grep -q 'onvm/hosts/h2/cmd .*"engine":"pe-a","op":"spawn","service":2,.*(alarm: instance 1, drops 9000 pps, ring 1.00, for 25 ms)' "$LOG"
wait_for 5 "its decision" grep -q 'onvm/policy/decisions .*"service":2,"origin":"h1","target":"h2".*(alarm: instance 1' "$LOG"

alarm 9
wait_for 5 "the unlisted instance's alarm ignored" grep -q "alarm of service 2 instance 9 on h1 ignored: its host does not list that instance running" "$ONVM_TMP/pe-a.log"
[[ $(grep -c 'onvm/hosts/.*/cmd ' "$LOG") -eq 1 ]] || fail "expected exactly one command"

kill -TERM "$PID_A"
wait_for 5 "pe-a's exit line" grep -q "onvm-policy: stopped: .* alarms: 2 received, 1 ignored, 1 spawns from them;" "$ONVM_TMP/pe-a.log"
onvm_log "ok"
