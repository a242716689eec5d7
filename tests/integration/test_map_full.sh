#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A service's map entry is full (32 members, remote ones included): a spawn
# of it is rejected with "service map full" instead of starting an NF that
# would never get a packet.  Peer h2 (mosquitto_pub, with a valid tunnel
# endpoint) lists 32 running instances of service 1 on 32 cores; h1's
# manager takes them as remote members, then refuses to add a 33rd.
source "$(dirname "$0")/lib.sh"
onvm_test_init map_full
onvm_start_broker h1 h2
onvm_catalog "$ONVM_TMP/catalog.json"
onvm_start_mgr h1 -l 0,1 --vdev=net_null0 -- -c "$ONVM_TMP/catalog.json" -k 2-3 \
	-T 0:10.250.0.1 $(onvm_bus_args h1)
onvm_watch events 'onvm/hosts/h1/events'
wait_for 10 "manager connected" grep -q "bus: connected" "$MGR_LOG"

t=$(now_ms)
instances=""
for i in $(seq 1 32); do instances+="${instances:+,}{\"instance\":$i,\"core\":$i,\"state\":\"running\"}"; done
as_identity h2 mosquitto_pub -q 1 -r -t onvm/hosts/h2/state -m "{\"v\":1,\"host\":\"h2\",\"status\":\"online\",\"epoch\":$t,\"ts_ms\":$t,\"cores\":{\"total\":32,\"free\":0},\"tunnel\":{\"ip\":\"10.250.0.2\",\"mac\":\"02:00:0a:fa:00:02\",\"udp_port\":4789}}"
as_identity h2 mosquitto_pub -q 1 -r -t onvm/hosts/h2/services -m "{\"v\":1,\"host\":\"h2\",\"ts_ms\":$t,\"services\":{\"1\":[$instances]}}"
stats() { t=$(now_ms); as_identity h2 mosquitto_pub -q 0 -t onvm/hosts/h2/stats -m "{\"v\":1,\"host\":\"h2\",\"ts_ms\":$t,\"seq\":$1,\"period_ms\":1000,\"ports\":[],\"instances\":[]}"; }
stats 1
wait_for 10 "h2's 32 instances are members here" eval '(( $(grep -c "peers: h2.s instance .* of service 1 joins" "$MGR_LOG") == 32 ))'

stats 2
onvm_command h1 '{"v":1,"id":"full-1","engine":"test","op":"spawn","service":1,"count":1,"reason":"x"}'
wait_for 10 "the spawn is rejected: service map full" \
	grep -q '"cmd_id":"full-1","event":"rejected","service":1,"error":"service map full' "$ONVM_TMP/events.log"
grep -q "spawning" "$MGR_LOG" && fail "an NF was started for a full service"
kill -0 "$MGR_PID" || fail "the manager died"
onvm_log "$(grep -m1 full-1 "$ONVM_TMP/events.log" | cut -c1-200)"
