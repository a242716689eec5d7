#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# NFs transmit on a port whose driver allows it themselves, each on a TX
# queue of its own (nflib/onvm_direct_tx.h); other ports still go through
# the manager, and the manager's port counters count both.
#   port 0  net_af_packet on a veth: frames in, and out through the manager
#   port 1  net_null, a sink: NFs transmit on it themselves
#   port 2  net_af_packet on a second veth: frames in
# Chains: port 0 -> service 3 -> port 1, port 2 -> service 4 -> port 0.
source "$(dirname "$0")/lib.sh"
onvm_test_init direct_tx

COUNT=2000
BURST=32 # ONVM_BURST: what an NF killed mid-burst can have given the driver uncounted
onvm_veth "od$$a" "od$$b"
onvm_veth "od$$c" "od$$d"
cat >"$ONVM_TMP/catalog.json" <<JSON
{"services": [
  {"id": 3, "name": "to_sink", "exec": "$ONVM_BUILD/examples/simple_forward"},
  {"id": 4, "name": "to_veth", "exec": "$ONVM_BUILD/examples/simple_forward"}
]}
JSON
onvm_start_mgr mgr -l 0,1 --vdev="net_af_packet0,iface=od$$a,qpairs=1,framecnt=4096" \
	--vdev=net_null0,no-rx=1 --vdev="net_af_packet1,iface=od$$c,qpairs=1,framecnt=4096" -- \
	-c "$ONVM_TMP/catalog.json" -k 2-3 -s 3,4 -p "0:3>1" -p "2:4>0" --nf-log-dir - # NFs' lines here
grep -q "port 1 (net_null): NFs transmit on it themselves" "$MGR_LOG" ||
	fail "port 1 (net_null) was not set up for direct TX: $(grep 'onvm-mgr: port' "$MGR_LOG")"
for port in 0 2; do
	grep -q "port $port (net_af_packet): NFs transmit through the manager" "$MGR_LOG" ||
		fail "port $port (net_af_packet) should be left to the manager"
done
wait_for 20 "both NFs registered" eval '[[ $(grep -c "event spawned" "$MGR_LOG") -eq 2 ]]'
wait_for 5 "stats list both instances" eval '[[ -n $(instances_of "$MGR_STATS" 3) && -n $(instances_of "$MGR_STATS" 4) ]]'
grep -q "registered: service 3 instance [0-9]* slot 0 " "$MGR_LOG" || fail "service 3 is not in slot 0"
grep -q "to_sink transmits itself on port 1 (queue 1)" "$MGR_LOG" ||
	fail "the NF of slot 0 does not transmit on port 1's queue 1 itself"
grep -q "to_veth transmits itself on port 1 (queue 2)" "$MGR_LOG" ||
	fail "the NF of slot 1 does not transmit on port 1's queue 2 itself"

# 1. Into port 0, out of port 1: all of it on the NF's own queue.  (The
# kernel may add a frame of its own to a veth: counts are at least COUNT.)
"$ONVM_BUILD/pktio" send "od$$b" "$COUNT" 64 64 50000 >/dev/null || fail "pktio send failed"
wait_for 5 "port 1 sent every frame" eval '[[ $(mgr_counter "$MGR_STATS" port 1 tx) -ge $COUNT ]]'
wait_for 3 "port 1's frames all went out on NF queues" \
	eval '[[ $(mgr_counter "$MGR_STATS" port 1 direct_tx) -eq $(mgr_counter "$MGR_STATS" port 1 tx) ]]'
sink=$(instances_of "$MGR_STATS" 3)
[[ $(mgr_counter "$MGR_STATS" instance "$sink" tx) -eq $(mgr_counter "$MGR_STATS" port 1 tx) ]] ||
	fail "service 3 did not count what port 1 sent"
onvm_log "port 1: $(mgr_counter "$MGR_STATS" port 1 tx) frames sent, all by the NF on its own queue"

# 2. Into port 2, out of port 0's veth: through the manager, exactly.
onvm_spawn counter "$ONVM_BUILD/pktio" count "od$$b" 30 "$COUNT"
COUNTER_PID=$LAST_PID
wait_for 5 "counter ready" grep -q ready "$ONVM_TMP/counter.log"
"$ONVM_BUILD/pktio" send "od$$d" "$COUNT" 64 64 50000 >/dev/null || fail "pktio send failed"
wait "$COUNTER_PID"
received=$(awk '/^received/ {print $2}' "$ONVM_TMP/counter.log")
[[ $received -eq $COUNT ]] || fail "port 0 sent $received frames out of its veth, expected $COUNT"
wait_for 3 "port 0 counted them" eval '[[ $(mgr_counter "$MGR_STATS" port 0 tx) -ge $COUNT ]]'
[[ $(mgr_counter "$MGR_STATS" port 0 direct_tx) -eq 0 ]] || fail "port 0 (net_af_packet) counted direct TX"
onvm_log "port 0: $COUNT frames out through the manager"

# 3. A kill -9 while the NF of slot 0 transmits: the next NF of slot 0 gets
# the same queue and transmits on it; the manager stays up.
onvm_spawn sender "$ONVM_BUILD/pktio" send "od$$b" 400000 64 64 20000
SENDER_PID=$LAST_PID
wait_for 10 "the NF transmits steadily" eval '[[ $(mgr_counter "$MGR_STATS" port 1 direct_tx) -gt $((COUNT + 2000)) ]]'
victim_pid=$(mgr_counter "$MGR_STATS" instance "$sink" pid)
kill -9 "$victim_pid"
wait_for 3 "the manager saw it end" grep -q "event exited service 3 instance $sink" "$MGR_LOG"
onvm_spawn nf3 "$ONVM_BUILD/examples/simple_forward" $(onvm_nf_eal 5) -- -r 3 -n to_sink2
wait_for 20 "the new NF registered" grep -q "registered" "$ONVM_TMP/nf3.log"
grep -q "registered: service 3 instance [0-9]* slot 0 " "$ONVM_TMP/nf3.log" ||
	fail "the new NF did not get slot 0: $(grep registered "$ONVM_TMP/nf3.log")"
grep -q "transmits itself on port 1 (queue 1)" "$ONVM_TMP/nf3.log" || fail "the new NF does not use queue 1"
wait_for 5 "stats list the new instance" eval '[[ -n $(instances_of "$MGR_STATS" 3) ]]'
successor=$(instances_of "$MGR_STATS" 3)
wait_for 10 "the new NF transmits on the queue" eval '[[ $(mgr_counter "$MGR_STATS" instance $successor tx) -gt 2000 ]]'
kill -0 "$MGR_PID" || fail "the manager died"
kill -INT "$SENDER_PID"
wait "$SENDER_PID" 2>/dev/null

# 4. The driver's own count at shutdown: port 1's frames left on NF queues,
# none on the manager's queue 0; port 0's on queue 0.
kill -INT "$MGR_PID"
wait_for 15 "the manager stopped" eval '! kill -0 "$MGR_PID" 2>/dev/null'
line() { grep -oE "onvm-mgr: port $1 sent [0-9]+, [0-9]+ by NFs on their own queues; its driver counted [0-9]+, [0-9]+ on queue 0$" "$MGR_LOG"; }
read -r sent direct driver queue0 < <(line 1 | tr -cs '0-9\n' ' ' | awk '{print $2, $3, $4, $5}')
onvm_log "port 1: sent $sent, by NFs $direct; the driver counted $driver, $queue0 on queue 0"
[[ -n $sent ]] || fail "no shutdown line for port 1"
[[ $direct -eq $sent && $queue0 -eq 0 ]] || fail "port 1: not all of it went out on NF queues"
# The killed NF may have handed the driver a burst it did not live to count.
((driver >= sent && driver - sent <= BURST)) || fail "port 1: the driver counted $driver, the manager $sent"
read -r sent direct driver queue0 < <(line 0 | tr -cs '0-9\n' ' ' | awk '{print $2, $3, $4, $5}')
onvm_log "port 0: sent $sent, by NFs $direct; the driver counted $driver, $queue0 on queue 0"
[[ $sent -ge $COUNT && $direct -eq 0 && $driver -eq $sent && $queue0 -eq $sent ]] ||
	fail "port 0: expected $COUNT and more sent, all on queue 0 by the manager"
