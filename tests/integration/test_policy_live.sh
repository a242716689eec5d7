#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The live daemon on a real broker: a stats stream published with
# mosquitto_pub (h1 has no free core, service 2 drops packets) makes it
# publish the spawn command to h2; with two daemons at once only the leader
# (smallest id) sends commands and the other publishes shadow decisions;
# killing the leader (its Last Will says offline) hands over to the other,
# which then commands alone, also after a payload too big for the bus.
source "$(dirname "$0")/lib.sh"
onvm_test_init policy_live

onvm_start_broker h1 h2
POLICY=$ONVM_BUILD/onvm-policy
[[ -x $POLICY ]] || fail "no $POLICY"
onvm_watch bus 'onvm/#'
LOG=$ONVM_TMP/bus.log

t=$(now_ms)
publish_as h1 onvm/hosts/h1/state "{\"v\":1,\"host\":\"h1\",\"status\":\"online\",\"epoch\":$t,\"ts_ms\":$t,\"cores\":{\"total\":4,\"free\":0}}" -r -q 1
publish_as h1 onvm/hosts/h1/services "{\"v\":1,\"host\":\"h1\",\"ts_ms\":$t,\"services\":{\"2\":[{\"instance\":1,\"core\":1,\"state\":\"running\"}],\"5\":[{\"instance\":2,\"core\":2,\"state\":\"running\"}]}}" -r -q 1
publish_as h2 onvm/hosts/h2/state "{\"v\":1,\"host\":\"h2\",\"status\":\"online\",\"epoch\":$t,\"ts_ms\":$t,\"cores\":{\"total\":8,\"free\":6}}" -r -q 1
publish_as h2 onvm/hosts/h2/services "{\"v\":1,\"host\":\"h2\",\"ts_ms\":$t,\"services\":{}}" -r -q 1

read -ra policy_args <<<"$(onvm_client_args policy) --grace-ms 300"
onvm_spawn pe-a "$POLICY" -i pe-a "${policy_args[@]}"
PID_A=$LAST_PID
onvm_spawn pe-b "$POLICY" -i pe-b --engine spread "${policy_args[@]}"
wait_for 10 "both engines announced" eval 'grep -q "onvm/policy/engines/pe-a .*\"online\"" "$LOG" && grep -q "onvm/policy/engines/pe-b .*\"online\"" "$LOG"'
wait_for 5 "pe-a leads" grep -q "pe-a now leads" "$ONVM_TMP/pe-a.log"
version=$("$POLICY" --version | awk '{print $NF}')
grep "onvm/policy/engines/pe-a " "$LOG" | tail -n 1 | grep -q "\"version\":\"$version\"" ||
	fail "the announcement should carry the version $version: $(grep engines/pe-a "$LOG" | tail -n 1)"

# Stats every 100 ms; the services named in $HOT drop packets on h1.
HOT=$ONVM_TMP/hot
: >"$HOT"
stream() {
	local seq=0 drop2 drop5 t
	while :; do
		seq=$((seq + 1))
		t=$(now_ms)
		drop2=0 drop5=0
		grep -qx 2 "$HOT" && drop2=290000
		grep -qx 5 "$HOT" && drop5=290000
		publish_as h1 onvm/hosts/h1/stats "{\"v\":1,\"host\":\"h1\",\"ts_ms\":$t,\"seq\":$seq,\"period_ms\":100,\"ports\":[],\"instances\":[{\"instance\":1,\"service\":2,\"core\":1,\"rx_pps\":100000,\"tx_pps\":100000,\"drop_pps\":$drop2,\"ring_fill\":0.5,\"busy\":1},{\"instance\":2,\"service\":5,\"core\":2,\"rx_pps\":100000,\"tx_pps\":100000,\"drop_pps\":$drop5,\"ring_fill\":0.5,\"busy\":1}]}"
		publish_as h2 onvm/hosts/h2/stats "{\"v\":1,\"host\":\"h2\",\"ts_ms\":$t,\"seq\":$seq,\"period_ms\":100,\"ports\":[],\"instances\":[]}"
		sleep 0.1
	done
}
stream >"$ONVM_TMP/stream.log" 2>&1 &
ONVM_PIDS+=($!)

echo 2 >"$HOT"
wait_for 10 "the leader's spawn command" grep -q 'onvm/hosts/h2/cmd .*"id":"pe-a-[0-9]*","engine":"pe-a","op":"spawn","service":2' "$LOG"
wait_for 5 "the leader's decision" grep -q 'onvm/policy/decisions .*"engine":"pe-a".*"service":2,"origin":"h1","target":"h2","cmd_id":"pe-a-.*"shadow":false' "$LOG"
wait_for 5 "the shadow's decision" grep -q 'onvm/policy/decisions .*"engine":"pe-b".*"service":2.*"shadow":true' "$LOG"
sleep 1 # more overloaded periods: the pending spawn blocks, the shadow sends nothing
[[ $(grep -c 'onvm/hosts/.*/cmd .*"service":2' "$LOG") -eq 1 ]] || fail "expected exactly one spawn command for service 2"
grep -q '/cmd .*"engine":"pe-b"' "$LOG" && fail "the shadow engine sent a command"

kill -9 "$PID_A"
{ wait "$PID_A"; } 2>/dev/null # no "Killed" notice
wait_for 10 "pe-a's Last Will" grep -q 'onvm/policy/engines/pe-a {"v":1,"status":"offline"}' "$LOG"
wait_for 5 "pe-b takes over" grep -q "pe-b now leads" "$ONVM_TMP/pe-b.log"
# A payload over the bus's 64 KiB bound (the broker takes 256 KiB) is dropped
# and counted before it is copied; the daemon goes on deciding.
head -c 100000 /dev/zero | tr '\0' x >"$ONVM_TMP/big.payload"
as_identity h1 mosquitto_pub -t onvm/hosts/h1/stats -f "$ONVM_TMP/big.payload" || fail "could not publish the big payload"
wait_for 5 "the big payload dropped unread" grep -q "dropped onvm/hosts/h1/stats: 100000 bytes, over the bus's bounds (1 so far)" "$ONVM_TMP/pe-b.log"
echo 5 >"$HOT"
wait_for 10 "the new leader's command" grep -q 'onvm/hosts/h2/cmd .*"id":"pe-b-[0-9]*","engine":"pe-b","op":"spawn","service":5' "$LOG"
grep -q 'onvm/policy/decisions .*"engine":"pe-b".*"service":5.*"shadow":false' "$LOG" || fail "no leader decision from pe-b"
[[ $(grep -c '/cmd .*"service":5' "$LOG") -eq 1 ]] || fail "expected exactly one command for service 5"
