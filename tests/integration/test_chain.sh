#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A two-NF chain delivers exactly the packets sent: frames enter on a veth,
# go through simple_forward (service 3) and forward_b (service 4) by NEXT,
# and leave by the same veth.  Both NFs see every frame; none is lost or added.
source "$(dirname "$0")/lib.sh"
onvm_test_init chain

COUNT=2000
onvm_veth "oc$$a" "oc$$b"
onvm_catalog "$ONVM_TMP/catalog.json"
onvm_start_mgr mgr -l 0,1 --vdev="net_af_packet0,iface=oc$$a,qpairs=1,framecnt=4096" -- \
	-c "$ONVM_TMP/catalog.json" -k 2-3 -s 3,4 -p "0:3,4>0"
wait_for 20 "both NFs registered" eval '[[ $(grep -c "event spawned" "$MGR_LOG") -eq 2 ]]'
wait_for 5 "stats list both instances" eval '[[ -n $(instances_of "$MGR_STATS" 3) && -n $(instances_of "$MGR_STATS" 4) ]]'

onvm_spawn counter "$ONVM_BUILD/pktio" count "oc$$b" 30 "$COUNT"
COUNTER_PID=$LAST_PID
wait_for 5 "counter ready" grep -q ready "$ONVM_TMP/counter.log"
"$ONVM_BUILD/pktio" send "oc$$b" "$COUNT" 64 64 50000 >/dev/null || fail "pktio send failed"
wait "$COUNTER_PID"

received=$(awk '/^received/ {print $2}' "$ONVM_TMP/counter.log")
onvm_log "sent $COUNT, received $received"
[[ $received -eq $COUNT ]] || fail "received $received frames back, expected exactly $COUNT"

first=$(instances_of "$MGR_STATS" 3)
second=$(instances_of "$MGR_STATS" 4)
wait_for 3 "service 3 counted every frame" eval '[[ $(mgr_counter "$MGR_STATS" instance $first rx) -eq $COUNT ]]'
wait_for 3 "service 4 counted every frame" eval '[[ $(mgr_counter "$MGR_STATS" instance $second rx) -eq $COUNT ]]'
