#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# NFs join a running manager: one spawned from the catalog at launch and one
# started by hand; both register within milliseconds and receive traffic, and
# packets go to a service's instances by flow.
source "$(dirname "$0")/lib.sh"
onvm_test_init spawn

onvm_veth "os$$a" "os$$b"
onvm_catalog "$ONVM_TMP/catalog.json"
onvm_start_mgr mgr -l 0,1 --vdev="net_af_packet0,iface=os$$a,qpairs=1,framecnt=4096" -- \
	-c "$ONVM_TMP/catalog.json" -k 2-3 -s 1
wait_for 20 "catalog NF registered" grep -q "event spawned service 1 instance 1 core 2" "$MGR_LOG"
# Its output is in a file of its own (the runtime folder's nf-logs/), not in the manager's.
nf_log=$(sed -n 's/.*onvm-mgr: starting bounce (service 1), output in //p' "$MGR_LOG" | head -n 1)
[[ $nf_log == /var/run/dpdk/$ONVM_PREFIX/nf-logs/bounce-1-1.log ]] || fail "no NF log file named: '$nf_log'"
wait_for 5 "the NF's own log" grep -q "nflib: bounce registered: service 1 instance 1" "$nf_log"
! grep -q "nflib: bounce registered" "$MGR_LOG" || fail "the NF's output is in the manager's log"
[[ $(stat_header "$MGR_STATS" free_cores) -eq 1 ]] || wait_for 2 "one free core" eval '[[ $(stat_header "$MGR_STATS" free_cores) -eq 1 ]]'

# By hand, on an lcore outside the pool: it must not take a pool core.
onvm_spawn hand "$ONVM_BUILD/examples/bounce" $(onvm_nf_eal 6) -- -r 1 -n by_hand
wait_for 20 "hand-started NF registered" grep -q "event spawned service 1 instance 2 core 6" "$MGR_LOG"
wait_for 3 "stats list two instances" eval '[[ $(instances_of "$MGR_STATS" 1 | wc -l) -eq 2 ]]'
[[ $(stat_header "$MGR_STATS" free_cores) -eq 1 ]] || fail "a hand-started NF outside the pool took a pool core"

onvm_spawn counter "$ONVM_BUILD/pktio" count "os$$b" 30 4000
wait_for 5 "counter ready" grep -q ready "$ONVM_TMP/counter.log"
"$ONVM_BUILD/pktio" send "os$$b" 4000 512 64 50000 >/dev/null || fail "send failed"
wait_for 30 "frames bounced back" grep -q "^received" "$ONVM_TMP/counter.log"
received=$(awk '/^received/ {print $2}' "$ONVM_TMP/counter.log")
[[ $received -eq 4000 ]] || fail "received $received of 4000 frames back"
wait_for 3 "both instances counted" eval '[[ $(( $(mgr_counter "$MGR_STATS" instance 1 rx) + $(mgr_counter "$MGR_STATS" instance 2 rx) )) -eq 4000 ]]'
rx1=$(mgr_counter "$MGR_STATS" instance 1 rx)
rx2=$(mgr_counter "$MGR_STATS" instance 2 rx)
onvm_log "flows split: instance 1 got $rx1, instance 2 got $rx2"
((rx1 > 1000 && rx2 > 1000)) || fail "512 flows should spread over both instances"
