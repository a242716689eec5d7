#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# dpdk-dumpcap captures a manager's port: attached to the running manager
# (rte_pdump), it writes each frame that comes in and each that goes back out
# through simple_forward into a pcapng that tshark reads, exactly 2 x COUNT
# frames, COUNT each way.  The capture's pool comes out of the manager's
# preallocated heap without taking the share NF start-ups need, and the heap
# is never asked to grow.  The manager forwards on after the capture ends.
source "$(dirname "$0")/lib.sh"
onvm_test_init pdump

COUNT=500
NF_HEAP_BYTES=$((64 * 256 * 1024)) # ONVM_MAX_INSTANCES x NF_EAL_HEAP_BYTES (dp/mgr_shm.c)
CAPTURE=$ONVM_TMP/capture.pcapng
onvm_veth "op$$a" "op$$b"
onvm_catalog "$ONVM_TMP/catalog.json"
onvm_start_mgr mgr -l 0,1 --vdev="net_af_packet0,iface=op$$a,qpairs=1,framecnt=4096" -- \
	-c "$ONVM_TMP/catalog.json" -k 2 -s 3 -p "0:3>0"
wait_for 20 "the NF registered" grep -q "event spawned service 3" "$MGR_LOG"
wait_for 5 "the stats file lists the instance" eval '[[ -n $(instances_of "$MGR_STATS" 3) ]]'
id=$(instances_of "$MGR_STATS" 3)

heap_free() {
	echo /eal/heap_info,0 | dpdk-telemetry.py -f "$ONVM_PREFIX" | jq -r '.["/eal/heap_info"].Free_size'
}

# "Capturing on" comes once the manager has installed its capture callbacks.
onvm_spawn dumpcap stdbuf -oL dpdk-dumpcap --file-prefix="$ONVM_PREFIX" -i net_af_packet0 \
	-c $((2 * COUNT)) -w "$CAPTURE"
DUMPCAP_PID=$LAST_PID
wait_for 15 "dpdk-dumpcap capturing" eval 'grep -q "Capturing on" "$ONVM_TMP/dumpcap.log" ||
	! kill -0 $DUMPCAP_PID 2>/dev/null'
kill -0 "$DUMPCAP_PID" 2>/dev/null || fail "dpdk-dumpcap exited: $(tail -n 3 "$ONVM_TMP/dumpcap.log")"
free=$(heap_free)
onvm_log "heap free while capturing: $((free >> 20)) MB"
((free >= NF_HEAP_BYTES)) || fail "capturing left $free bytes of heap, NFs need $NF_HEAP_BYTES"

"$ONVM_BUILD/pktio" send "op$$b" "$COUNT" 16 64 20000 >/dev/null || fail "pktio send failed"
wait_for 15 "dpdk-dumpcap done" eval '! kill -0 $DUMPCAP_PID 2>/dev/null'
wait "$DUMPCAP_PID" || fail "dpdk-dumpcap failed: $(tail -n 3 "$ONVM_TMP/dumpcap.log")"

# Direction 1: in, 2: out (pcapng's packet flags, which dpdk-dumpcap sets).
frames=$(tshark -r "$CAPTURE" -T fields -e frame.len -e frame.packet_flags_direction 2>/dev/null) ||
	fail "tshark cannot read $CAPTURE"
total=$(grep -c . <<<"$frames")
inbound=$(grep -cP '^64\t(0x0*)?1$' <<<"$frames")
outbound=$(grep -cP '^64\t(0x0*)?2$' <<<"$frames")
onvm_log "captured $total frames: $inbound in, $outbound out"
((total == 2 * COUNT && inbound == COUNT && outbound == COUNT)) ||
	fail "wanted $COUNT 64-byte frames each way, got $total ($inbound in, $outbound out)"
! grep -q "refused to grow" "$MGR_LOG" || fail "the heap was asked to grow: $(grep "refused to grow" "$MGR_LOG")"

# The capture is over and forwarding goes on.
"$ONVM_BUILD/pktio" send "op$$b" "$COUNT" 16 64 20000 >/dev/null || fail "pktio send failed"
wait_for 10 "the instance forwarded the second $COUNT too" \
	eval '[[ $(mgr_counter "$MGR_STATS" instance $id tx) -eq $((2 * COUNT)) ]]'
kill -0 "$MGR_PID" || fail "the manager died"
