#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# SIGINT: the manager tells its NFs to stop, exits 0, and leaves no hugepage
# file or runtime folder of its prefix behind.
source "$(dirname "$0")/lib.sh"
onvm_test_init shutdown

onvm_catalog "$ONVM_TMP/catalog.json"
# The NFs' own log files outside the runtime folder, which the exit removes.
mkdir -p "$ONVM_TMP/nf-logs"
onvm_start_mgr mgr -l 0,1 --vdev=net_null0 -- -c "$ONVM_TMP/catalog.json" -k 2-3 -s 1,5 \
	--nf-log-dir "$ONVM_TMP/nf-logs"
wait_for 20 "NFs registered" eval '[[ $(grep -c "event spawned" "$MGR_LOG") -eq 2 ]]'
nf_pids=$(awk '$1 == "instance" {print $8}' "$MGR_STATS")
[[ -n $nf_pids ]] || wait_for 3 "NF pids in stats" eval '[[ -n $(awk '"'"'$1 == "instance" {print $8}'"'"' "$MGR_STATS") ]]'
nf_pids=$(awk '$1 == "instance" {print $8}' "$MGR_STATS")
compgen -G "/dev/hugepages/${ONVM_PREFIX}map_*" >/dev/null || fail "no hugepage files while running?"

kill -INT "$MGR_PID"
wait_for 10 "manager exits" eval '! kill -0 $MGR_PID 2>/dev/null'
wait "$MGR_PID"
status=$?
[[ $status -eq 0 ]] || fail "manager exit status $status after SIGINT"
for pid in $nf_pids; do
	kill -0 "$pid" 2>/dev/null && fail "NF pid $pid still running after the manager stopped"
done
grep -q "bounce instance .* stopped" "$ONVM_TMP"/nf-logs/bounce-1-*.log || fail "bounce did not stop cleanly"
leftover=$(compgen -G "/dev/hugepages/${ONVM_PREFIX}map_*" | wc -l)
[[ $leftover -eq 0 ]] || fail "$leftover hugepage files of ${ONVM_PREFIX} left behind"
[[ ! -e /var/run/dpdk/$ONVM_PREFIX ]] || fail "runtime folder /var/run/dpdk/$ONVM_PREFIX left behind"
