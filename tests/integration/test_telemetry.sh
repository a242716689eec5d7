#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# DPDK telemetry shows the manager as it runs: dpdk-telemetry.py -f PREFIX
# lists the /onvm/* commands, and each answers JSON whose values are this
# setup's: the host, its pid and ports, the running NF's instance id, slot,
# service, core and pid, its counters and the ports' going from 0 to exactly
# the frames sent, the service map, the unserved service with its rate, the
# tunnel's address and the frames it refused, the core pool, an NF's
# scribbles in shared memory left out, and the bus state as the broker goes
# away.  Bad parameters answer null.  dpdk-proc-info, attached to the same
# manager, finds the ring of the slot telemetry names and counts the same
# frames on the port.
source "$(dirname "$0")/lib.sh"
onvm_test_init telemetry

COUNT=3000
onvm_start_broker h1
onvm_veth "oe$$a" "oe$$b" # port 0: simple_forward (service 3) and back out
onvm_veth "oe$$c" "oe$$d" # port 1: the tunnel
onvm_veth "oe$$e" "oe$$f" # port 2: service 5, which nothing serves
onvm_catalog "$ONVM_TMP/catalog.json"
# shellcheck disable=SC2046
onvm_start_mgr mgr -l 0,1 --vdev="net_af_packet0,iface=oe$$a,qpairs=1,framecnt=4096" \
	--vdev="net_af_packet1,iface=oe$$c,qpairs=1" --vdev="net_af_packet2,iface=oe$$e,qpairs=1" -- \
	-c "$ONVM_TMP/catalog.json" -k 2 -s 3 -p "0:3>0" -p "2:5" -T 1:10.250.0.1 $(onvm_bus_args h1)
wait_for 20 "the NF registered" grep -q "event spawned service 3" "$MGR_LOG"
wait_for 10 "the manager on the bus" grep -q "bus: connected" "$MGR_LOG"

# tel COMMAND: the command's answer (its value alone), from a new connection.
tel() {
	local answer
	answer=$(echo "$1" | dpdk-telemetry.py -f "$ONVM_PREFIX") || fail "dpdk-telemetry.py failed on $1"
	jq -c --arg c "${1%%,*}" '.[$c]' <<<"$answer" 2>/dev/null || echo null
}
# expect COMMAND JQ_TEST: fail unless the answer passes the test.
expect() {
	local answer
	answer=$(tel "$1")
	jq -e "$2" <<<"$answer" >/dev/null || fail "$1: wanted $2, got $answer"
}

# 1. The commands are there, with help.
expect / '[.[] | select(startswith("/onvm/"))] | sort ==
	["/onvm/cores", "/onvm/info", "/onvm/instances", "/onvm/ports", "/onvm/services", "/onvm/tunnel"]'
expect /help,/onvm/instances '.["/onvm/instances"] | test("instance id")'

# 2. Info: who and what the manager is.
expect /onvm/info ".host == \"h1\" and .pid == $MGR_PID and .file_prefix == \"$ONVM_PREFIX\" and
	.lcores == 2 and .nb_ports == 3 and .bus == \"connected\" and .pdump == 1 and
	.uptime_ms > 0 and .stats_period_ms == 100 and .nb_instances == 1"
wait_for 5 "a fresh snapshot" eval 'tel /onvm/info | jq -e ".stats_seq > 0 and .stats_age_ms >= 0" >/dev/null'

# 3. The instance, as the manager's own counters file has it.
wait_for 5 "the stats file lists the instance" eval '[[ -n $(instances_of "$MGR_STATS" 3) ]]'
id=$(instances_of "$MGR_STATS" 3)
nf_pid=$(onvm_nfs_of "$MGR_PID")
expect /onvm/instances ".instance == [$id] and .service == [3] and .state == [\"running\"] and
	.core == [2] and .pid == [$nf_pid] and .name == [\"simple_forward\"] and .rx == [0] and
	(. as \$t | [keys[] | \$t[.] | length] | unique == [1])"
expect "/onvm/instances,$id" ".instance == $id and .service == 3 and .core == 2 and .pid == $nf_pid"
slot=$(tel "/onvm/instances,$id" | jq -r .slot)
expect /onvm/instances,abc '. == null'
expect /onvm/instances,4294967296 '. == null'
expect "/onvm/instances,$((id + 1000))" '. == null'

# 4. Counters move: exactly the frames sent, through the NF and back out.
"$ONVM_BUILD/pktio" send "oe$$b" "$COUNT" 16 64 20000 >/dev/null || fail "pktio send failed"
wait_for 10 "the instance counted $COUNT in and out" \
	eval 'tel /onvm/instances,$id | jq -e ".rx == $COUNT and .tx == $COUNT and .drops == 0" >/dev/null'
# Out: exactly the frames sent.  In: those, and on a loaded machine now and
# then frames the port saw besides them, each also counted as a drop.
wait_for 10 "port 0 counted $COUNT in and out" \
	eval 'tel /onvm/ports,0 | jq -e ".tx == $COUNT and .rx - .drops == $COUNT" >/dev/null'
expect /onvm/ports '.port == [0, 1, 2] and .name == ["net_af_packet0", "net_af_packet1", "net_af_packet2"]'
expect /onvm/ports,3 '. == null'

# 5. Services: the map, and demand nobody serves (steady traffic on port 2).
expect /onvm/services ".\"3\" == [$id]"
expect /onvm/services,3 ".service == 3 and .instances == [$id] and .unserved_pps == 0"
onvm_spawn unserved "$ONVM_BUILD/pktio" send "oe$$f" 100000000 16 64 2000
wait_for 10 "service 5 unserved at some pps" eval 'tel /onvm/services |
	jq -e "(.unserved_service | index(5)) as \$i | \$i != null and .unserved_pps[\$i] > 0" >/dev/null'
expect /onvm/services,5 '.instances == [] and .unserved_pps > 0'
wait_for 5 "port 2 counts its drops" eval 'tel /onvm/ports,2 | jq -e ".drops > 0 and .rx == .drops" >/dev/null'
expect /onvm/services,6 '. == null'

# 6. The tunnel: its address, and plain frames on its port refused.
expect /onvm/tunnel '.enabled == 1 and .port == 1 and .ip == "10.250.0.1" and .udp_port == 4789 and
	.rx_rejects == 0 and .decapsulated == 0'
"$ONVM_BUILD/pktio" send "oe$$d" 100 16 64 20000 >/dev/null || fail "pktio send failed"
wait_for 10 "the tunnel refused the plain frames" \
	eval 'tel /onvm/tunnel | jq -e ".rx_rejects == 100 and .decapsulated == 0" >/dev/null'

# 7. Cores: the pool (-k 2) and the instance on it.
expect /onvm/cores ".total == 1 and .free == 0 and .assigned == 1 and .pool == [2] and
	.instance_core == [2] and .instance == [$id]"

# 8. dpdk-proc-info on the same manager: the slot's rings, the port's frames.
# Its output is read whole: a secondary that dies of SIGPIPE (| grep -q,
# | head) while it walks the rings holds the shared ring list's lock for
# ever, and the next ring or pool anyone creates (dpdk-dumpcap's) spins.
proc_info() {
	dpdk-proc-info --file-prefix="$ONVM_PREFIX" --no-pci --log-level=lib.eal:warning -- "$@" 2>&1
}
rings=$(proc_info --show-ring) || fail "dpdk-proc-info --show-ring failed: $rings"
for ring in "onvm_nf_${slot}_rx" "onvm_nf_${slot}_tx" onvm_mgr_msgq onvm_tunnel_tx; do
	grep -q "ring <$ring>" <<<"$rings" || fail "dpdk-proc-info lists no ring $ring"
done
ring=$(proc_info "--show-ring=onvm_nf_${slot}_rx")
grep -q "Name (onvm_nf_${slot}_rx).*" <<<"$ring" && grep -q "capacity (4095)" <<<"$ring" ||
	fail "dpdk-proc-info cannot show ring onvm_nf_${slot}_rx: $ring"
stats=$(proc_info --stats)
port0=$(awk '/NIC statistics for port 0/ {p = 1} p && /RX-packets/ {print $2; exit}' <<<"$stats")
# The driver's count, as the manager's: the frames sent and any extra the
# port saw (see above).
rx0=$(tel /onvm/ports,0 | jq -r .rx)
[[ $port0 == "$rx0" ]] && ((port0 >= COUNT)) ||
	fail "dpdk-proc-info: port 0 RX-packets $port0, the manager counted $rx0 (sent $COUNT)"
onvm_log "instance $id (slot $slot): rx/tx $COUNT; proc-info agrees"

# 9. An NF that scribbles over its slot in shared memory (instance id
# 0xdeadbeef, service 65534, core -7, a name with no end): telemetry shows the
# manager's own record of it, and the name cut to what the slot can hold.
# shellcheck disable=SC2046
onvm_spawn hostile "$ONVM_BUILD/hostile_nf" $(onvm_nf_eal 4) -- -r 1 -- --pid 0
wait_for 20 "the hostile NF scribbled over its slot" grep -q "now says pid 0" "$ONVM_TMP/hostile.log"
wait_for 5 "telemetry lists the hostile NF" eval 'tel /onvm/instances | jq -e ".service | index(1)" >/dev/null'
expect /onvm/instances "(.service | index(1)) as \$i | .instance[\$i] != 3735928559 and
	.core[\$i] == 4 and .name[\$i] == \"$(printf 'X%.0s' {1..31})\" and .state[\$i] == \"running\" and
	(.service | all(. == 1 or . == 3))"
hostile_id=$(tel /onvm/instances | jq '(.service | index(1)) as $i | .instance[$i]')
expect /onvm/services ".\"1\" == [$hostile_id] and .\"3\" == [$id] and (has(\"65534\") | not)"

# 10. The bus goes away: info says so at the next snapshot.
onvm_stop_broker
wait_for 10 "info says the bus is disconnected" \
	eval 'tel /onvm/info | jq -e ".bus == \"disconnected\"" >/dev/null'
kill -0 "$MGR_PID" || fail "the manager died"
