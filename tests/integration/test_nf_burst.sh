#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Many NFs started at the same moment against one manager all attach and
# register, round after round.  (Before the fix about one round in three lost
# an NF: "EAL: Cannot init memory" while the heap grew or another NF attached.)
#   ONVM_BURST_NFS (default 32), ONVM_BURST_ROUNDS (default 4)
source "$(dirname "$0")/lib.sh"
onvm_test_init nf_burst

nfs=${ONVM_BURST_NFS:-32}
rounds=${ONVM_BURST_ROUNDS:-4}
registered() { grep -c "event spawned" "$MGR_LOG"; }
for round in $(seq 1 "$rounds"); do
	onvm_start_mgr "mgr$round" -l 0,1 --vdev=net_null0,no-rx=1 -- -k 2-3
	nf_pids=()
	for i in $(seq 1 "$nfs"); do
		# Two services: a service has at most ONVM_MAX_MEMBERS instances on a host.
		onvm_spawn "r${round}nf$i" "$ONVM_BUILD/examples/bounce" $(onvm_nf_eal $((10 + i))) -- \
			-r $((1 + i % 2))
		nf_pids+=("$LAST_PID")
	done
	wait_for 90 "$nfs NFs registered in round $round" eval '(($(registered) >= nfs)) ||
		grep -lq "nflib: EAL init failed" "$ONVM_TMP"/r${round}nf*.log'
	if (($(registered) < nfs)); then
		grep -h "EAL: .*Cannot init\|couldn.t lock\|EAL init failed" "$ONVM_TMP"/r${round}nf*.log | sort | uniq -c
		fail "round $round: $(registered) of $nfs NFs registered"
	fi
	onvm_log "round $round: all $nfs NFs registered"
	kill -INT "$MGR_PID"
	wait_for 20 "manager $round and its NFs gone" eval '! kill -0 "$MGR_PID" "${nf_pids[@]}" 2>/dev/null'
	if grep -q "refused to grow the shared heap" "$MGR_LOG"; then
		fail "round $round: the heap was asked to grow"
	fi
done
