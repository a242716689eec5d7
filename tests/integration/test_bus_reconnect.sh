#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The broker is stopped and restarted while a manager runs and forwards
# packets: packets keep flowing while it is down, the manager reconnects,
# republishes its retained state within 5 s, and a spawn command published
# right after the restart is carried out.
source "$(dirname "$0")/lib.sh"
onvm_test_init bus_reconnect

onvm_start_broker h1
onvm_catalog "$ONVM_TMP/catalog.json"
onvm_start_mgr mgr -l 0,1 --vdev=net_null0 -- -c "$ONVM_TMP/catalog.json" -k 2-4 -s 1 \
	$(onvm_bus_args h1)
wait_for 10 "connected" grep -q "bus: connected" "$MGR_LOG"
wait_for 20 "NF forwarding" eval '[[ $(mgr_counter "$MGR_STATS" port 0 tx) -gt 0 ]]'

onvm_stop_broker
wait_for 10 "manager noticed" grep -q "connection lost" "$MGR_LOG"
tx=$(mgr_counter "$MGR_STATS" port 0 tx)
wait_for 5 "packets flow with the broker down" eval '[[ $(mgr_counter "$MGR_STATS" port 0 tx) -gt $((tx + 100000)) ]]'

bash "$ONVM_SRC/mosquitto/start-broker.sh" --dir "$BROKER_DIR" --port "$BROKER_PORT" h1 \
	>"$ONVM_TMP/broker-restart.log" 2>&1 || fail "broker did not restart"
restarted_ms=$(($(date +%s%N) / 1000000))
onvm_watch after 'onvm/hosts/h1/#'
onvm_command h1 '{"v":1,"id":"after-restart","engine":"test","op":"spawn","service":5,"count":1,"reason":"x"}'

# The broker replays its old retained state first; wait for a fresh one.
fresh_state() {
	local ts
	for ts in $(grep 'onvm/hosts/h1/state .*"status":"online"' "$ONVM_TMP/after.log" |
		grep -o '"ts_ms":[0-9]*' | cut -d: -f2); do
		((ts >= restarted_ms - 500)) && return 0
	done
	return 1
}
wait_for 5 "state republished within 5 s of the restart" fresh_state
wait_for 10 "command after the restart carried out" grep -q '"cmd_id":"after-restart","event":"spawned","service":5' "$ONVM_TMP/after.log"
