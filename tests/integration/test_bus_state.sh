#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# mosquitto_sub sees a running manager's retained state and services, schema
# true, and "offline" from its Last Will once it is killed with kill -9.
source "$(dirname "$0")/lib.sh"
onvm_test_init bus_state

onvm_start_broker h1
onvm_catalog "$ONVM_TMP/catalog.json"
onvm_start_mgr mgr -l 0,1 --vdev=net_null0,no-rx=1 -- -c "$ONVM_TMP/catalog.json" -k 2-4 -s 1 \
	$(onvm_bus_args h1)
wait_for 20 "NF registered" grep -q "event spawned" "$MGR_LOG"

# A subscriber that comes later gets the retained messages at once.
onvm_watch late 'onvm/hosts/h1/#'
wait_for 10 "retained online state" grep -q 'onvm/hosts/h1/state {"v":1,"host":"h1","status":"online"' "$ONVM_TMP/late.log"
grep 'onvm/hosts/h1/state' "$ONVM_TMP/late.log" | tail -n 1 | grep -q '"cores":{"total":3,"free":2}' ||
	fail "state should say 3 cores, 2 free: $(grep state "$ONVM_TMP/late.log" | tail -n 1)"
version=$("$ONVM_BUILD/onvm-mgr" --version | awk '{print $NF}')
grep 'onvm/hosts/h1/state' "$ONVM_TMP/late.log" | tail -n 1 | grep -q "\"version\":\"$version\"" ||
	fail "state should carry the manager's version $version: $(grep state "$ONVM_TMP/late.log" | tail -n 1)"
wait_for 10 "retained services" grep -q 'onvm/hosts/h1/services .*"services":{"1":\[{"instance":1,"core":2,"state":"running"}\]}' "$ONVM_TMP/late.log"
wait_for 10 "stats" grep -q 'onvm/hosts/h1/stats .*"period_ms":100,.*"instances":\[{"instance":1,"service":1' "$ONVM_TMP/late.log"

kill -9 "$MGR_PID"
wait_for 10 "Last Will: offline" grep -q 'onvm/hosts/h1/state {"v":1,"host":"h1","status":"offline"' "$ONVM_TMP/late.log"
# And it stays retained for newcomers.
as_identity monitor mosquitto_sub -t onvm/hosts/h1/state \
	-C 1 -W 5 >"$ONVM_TMP/retained.txt" || fail "no retained state after the kill"
grep -q '"status":"offline"' "$ONVM_TMP/retained.txt" || fail "retained state is not offline: $(cat "$ONVM_TMP/retained.txt")"

# A clean exit (SIGINT) says so itself, before it disconnects: the retained
# state is its own "offline" (with ts_ms; the Last Will has none), and its
# retained map is cleared.  (The killed manager left its hugepage files.)
wait "$MGR_PID" 2>/dev/null
onvm_remove_hugepage_files
onvm_start_mgr mgr2 -l 0,1 --vdev=net_null0,no-rx=1 -- -c "$ONVM_TMP/catalog.json" -k 2-4 -s 1 \
	$(onvm_bus_args h1)
wait_for 20 "the second manager's NF registered" grep -q "event spawned" "$MGR_LOG"
wait_for 10 "its online state" eval 'as_identity monitor mosquitto_sub -t onvm/hosts/h1/state -C 1 -W 5 | grep -q "\"status\":\"online\""'
kill -INT "$MGR_PID"
wait_for 10 "the second manager exits" eval '! kill -0 $MGR_PID 2>/dev/null'
as_identity monitor mosquitto_sub -t onvm/hosts/h1/state -C 1 -W 5 >"$ONVM_TMP/clean.txt" ||
	fail "no retained state after the clean exit"
grep -q '"status":"offline","ts_ms":' "$ONVM_TMP/clean.txt" ||
	fail "the retained state is not the manager's own offline: $(cat "$ONVM_TMP/clean.txt")"
# An empty retained message clears the topic: nothing comes within 2 s.
as_identity monitor mosquitto_sub -t onvm/hosts/h1/services -C 1 -W 2 >"$ONVM_TMP/clean_services.txt" 2>/dev/null
[[ ! -s $ONVM_TMP/clean_services.txt ]] || fail "the services map is still retained: $(cat "$ONVM_TMP/clean_services.txt")"
onvm_log "clean exit: $(cut -c1-120 "$ONVM_TMP/clean.txt"), services cleared"
