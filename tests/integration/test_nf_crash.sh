#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A kill -9 of an NF mid-traffic: the manager stays up, notices within a
# stats period, frees the NF's core, takes it out of the service, and the
# other instance keeps receiving and forwarding traffic.
source "$(dirname "$0")/lib.sh"
onvm_test_init nf_crash

onvm_veth "ok$$a" "ok$$b"
onvm_catalog "$ONVM_TMP/catalog.json"
onvm_start_mgr mgr -l 0,1 --vdev="net_af_packet0,iface=ok$$a,qpairs=1,framecnt=4096" -- \
	-c "$ONVM_TMP/catalog.json" -k 2-4 -s 1,1
wait_for 20 "two bounce instances registered" eval '[[ $(instances_of "$MGR_STATS" 1 | wc -l) -eq 2 ]]'
[[ $(stat_header "$MGR_STATS" free_cores) -eq 1 ]] || fail "expected 1 free core of 3 with two NFs"

# Steady traffic over many flows, so both instances get some.
onvm_spawn sender "$ONVM_BUILD/pktio" send "ok$$b" 400000 256 64 20000
read -r victim survivor < <(instances_of "$MGR_STATS" 1 | tr '\n' ' ')
wait_for 10 "both instances receive traffic" eval '[[ $(mgr_counter "$MGR_STATS" instance $victim rx) -gt 100 && $(mgr_counter "$MGR_STATS" instance $survivor rx) -gt 100 ]]'

victim_pid=$(mgr_counter "$MGR_STATS" instance "$victim" pid)
onvm_log "killing instance $victim (pid $victim_pid) with SIGKILL"
kill -9 "$victim_pid"
killed_at=$SECONDS

wait_for 3 "manager reports the exit" grep -q "event exited service 1 instance $victim" "$MGR_LOG"
wait_for 3 "instance gone from stats" eval '[[ -z $(instances_of "$MGR_STATS" 1 | grep -x "$victim") ]]'
wait_for 3 "core returned to the pool" eval '[[ $(stat_header "$MGR_STATS" free_cores) -eq 2 ]]'
kill -0 "$MGR_PID" || fail "manager died with the NF"

before_rx=$(mgr_counter "$MGR_STATS" instance "$survivor" rx)
before_tx=$(mgr_counter "$MGR_STATS" port 0 tx)
wait_for 5 "survivor keeps receiving" eval '[[ $(mgr_counter "$MGR_STATS" instance $survivor rx) -gt $((before_rx + 2000)) ]]'
wait_for 5 "port keeps transmitting" eval '[[ $(mgr_counter "$MGR_STATS" port 0 tx) -gt $((before_tx + 2000)) ]]'
onvm_log "recovered in <= $((SECONDS - killed_at)) s"
kill -0 "$MGR_PID" || fail "manager died"
