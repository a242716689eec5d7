#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A spawn of a service not in the catalog, a stop of an unknown instance, an
# expired command and garbage on the cmd topic all get "rejected" events with
# a reason (and the command's id when it has a readable one); nothing starts
# and the manager keeps running.
source "$(dirname "$0")/lib.sh"
onvm_test_init bus_reject

onvm_start_broker h1
onvm_catalog "$ONVM_TMP/catalog.json"
onvm_start_mgr mgr -l 0,1 --vdev=net_null0,no-rx=1 -- -c "$ONVM_TMP/catalog.json" -k 2-3 \
	$(onvm_bus_args h1)
onvm_watch events 'onvm/hosts/h1/events'
wait_for 10 "manager connected" grep -q "bus: connected" "$MGR_LOG"

onvm_command h1 '{"v":1,"id":"t-1","engine":"test","op":"spawn","service":42,"count":1,"reason":"x"}'
wait_for 10 "not in catalog" grep -q '"cmd_id":"t-1","event":"rejected","service":42,"error":"service 42 is not in this host.s catalog"' "$ONVM_TMP/events.log"
onvm_command h1 '{"v":1,"id":"t-2","engine":"test","op":"stop","service":1,"instance":77,"reason":"x"}'
wait_for 10 "unknown instance" grep -q '"cmd_id":"t-2","event":"rejected",.*"error":"no running instance 77' "$ONVM_TMP/events.log"
onvm_command h1 '{"v":1,"id":"t-3","engine":"test","op":"spawn","service":1,"count":1,"reason":"x","expires_ms":1000}'
wait_for 10 "expired" grep -q '"cmd_id":"t-3","event":"rejected",.*"error":"command expired' "$ONVM_TMP/events.log"
onvm_command h1 'garbage'
wait_for 10 "garbage rejected" grep -q '"event":"rejected","service":0,"error":"not JSON' "$ONVM_TMP/events.log"
onvm_command h1 '{"v":1,"id":"t-4","engine":"test","op":"spawn","service":1,"count":100,"reason":"x"}'
# A command that does not decode is still named by its id when it has one.
wait_for 10 "count out of range" grep -q '"cmd_id":"t-4","event":"rejected","service":0,"error":"count: 100 out of range' "$ONVM_TMP/events.log"
grep '"error":"not JSON' "$ONVM_TMP/events.log" | grep -q cmd_id && fail "garbage has no id to name"
rejected_before=$(grep -c '"event":"rejected"' "$ONVM_TMP/events.log")
onvm_command h1 '{"v":1,"id":"bad id with spaces","op":"spawn"}'
wait_for 10 "the command with a bad id rejected" \
	eval '(($(grep -c "\"event\":\"rejected\"" "$ONVM_TMP/events.log") > rejected_before))'
grep -q '"cmd_id":"bad id' "$ONVM_TMP/events.log" && fail "an invalid id was echoed as cmd_id"
onvm_command h1 '{"v":1,"id":"t-5","engine":"test","op":"spawn","service":1,"count":3,"reason":"x"}'
wait_for 10 "no free core for the third" grep -q '"cmd_id":"t-5","event":"rejected","service":1,"error":"2 of 3 started; no free core' "$ONVM_TMP/events.log"

kill -0 "$MGR_PID" || fail "the manager died"
[[ $(grep -c "spawning" "$MGR_LOG") -eq 2 ]] || fail "only t-5's two NFs should have been started"
