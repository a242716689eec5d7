#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A spawn command sent with mosquitto_pub starts a real NF, which appears in
# the services map and gets traffic; the same command id sent twice starts
# one instance and gets the same answer twice.
source "$(dirname "$0")/lib.sh"
onvm_test_init bus_spawn

onvm_start_broker h1
onvm_veth "ob$$a" "ob$$b"
onvm_catalog "$ONVM_TMP/catalog.json"
onvm_start_mgr mgr -l 0,1 --vdev="net_af_packet0,iface=ob$$a,qpairs=1,framecnt=4096" -- \
	-c "$ONVM_TMP/catalog.json" -k 2-4 -p 0:1 $(onvm_bus_args h1)
onvm_watch events 'onvm/hosts/h1/#'
wait_for 10 "manager online on the bus" grep -q '"status":"online"' "$ONVM_TMP/events.log"

command='{"v":1,"id":"t-spawn-1","engine":"test","op":"spawn","service":1,"count":1,"reason":"integration test"}'
onvm_command h1 "$command"
wait_for 10 "spawned event" grep -q '"cmd_id":"t-spawn-1","event":"spawned","service":1,"instance":1' "$ONVM_TMP/events.log"
wait_for 5 "instance running in services" grep -q 'services .*"1":\[{"instance":1,"core":2,"state":"running"}\]' "$ONVM_TMP/events.log"

onvm_command h1 "$command"
wait_for 10 "the repeat answered" eval '[[ $(grep -c "\"cmd_id\":\"t-spawn-1\",\"event\":\"spawned\"" "$ONVM_TMP/events.log") -eq 2 ]]'
sleep 0.5 # a second NF would need ~0.2 s to start; give it more, then check it did not
[[ $(grep -c "spawning" "$MGR_LOG") -eq 1 ]] || fail "the repeated command started another NF"
[[ $(instances_of "$MGR_STATS" 1 | wc -l) -eq 1 ]] || fail "expected one instance of service 1"

onvm_spawn counter "$ONVM_BUILD/pktio" count "ob$$b" 20 1000
wait_for 5 "counter ready" grep -q ready "$ONVM_TMP/counter.log"
"$ONVM_BUILD/pktio" send "ob$$b" 1000 32 64 50000 >/dev/null
wait_for 20 "frames back" grep -q "^received" "$ONVM_TMP/counter.log"
[[ $(awk '/^received/ {print $2}' "$ONVM_TMP/counter.log") -eq 1000 ]] || fail "the spawned NF did not bounce all 1000 frames"
wait_for 3 "instance counted the traffic" eval '[[ $(mgr_counter "$MGR_STATS" instance 1 rx) -eq 1000 ]]'
