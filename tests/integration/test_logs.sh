#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Log lines: every line of the manager, DPDK's own included, and of its NFs
# (in their own files) has a UTC timestamp and a level; EAL's --log-level
# selects the manager's type (onvm.mgr) like any DPDK log type.
source "$(dirname "$0")/lib.sh"
onvm_test_init logs

stamp='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z (EMERG|ALERT|CRIT|ERR|WARNING|NOTICE|INFO|DEBUG) '
onvm_catalog "$ONVM_TMP/catalog.json"
mkdir -p "$ONVM_TMP/nf-logs"
onvm_start_mgr mgr -l 0,1 --vdev=net_null0,no-rx=1 -- -c "$ONVM_TMP/catalog.json" -k 2-3 -s 1 \
	--nf-log-dir "$ONVM_TMP/nf-logs"
wait_for 20 "NF registered" grep -q "event spawned service 1 instance 1" "$MGR_LOG"
grep -Eq "${stamp}onvm-mgr: up: " "$MGR_LOG" || fail "the manager's up line is not stamped: $(grep 'up:' "$MGR_LOG")"
grep -Eq "${stamp}EAL: " "$MGR_LOG" || fail "EAL's lines are not stamped"
nf_log=$ONVM_TMP/nf-logs/bounce-1-1.log
wait_for 5 "the NF's log" grep -q "registered" "$nf_log"
grep -Eq "${stamp}nflib: bounce registered" "$nf_log" || fail "the NF's lines are not stamped: $(head -n 3 "$nf_log")"
# Every line the manager wrote, stamped (its stats table is off: -q).
unstamped=$(grep -Evc "$stamp" "$MGR_LOG" || true)
((unstamped == 0)) || fail "$unstamped unstamped lines in the manager's log: $(grep -Ev "$stamp" "$MGR_LOG" | head -n 3)"
kill -INT "$MGR_PID"
wait_for 10 "the manager stops" eval '! kill -0 $MGR_PID 2>/dev/null'
onvm_remove_hugepage_files

# --log-level=onvm.mgr:warning: the manager's INFO lines go, EAL's stay.
MGR_STATS=$ONVM_TMP/quiet.stats
onvm_spawn quiet "$ONVM_BUILD/onvm-mgr" --file-prefix="$ONVM_PREFIX" -l 0,1 --vdev=net_null0,no-rx=1 \
	--log-level=onvm.mgr:warning -- -q -t 100 -f "$MGR_STATS"
QUIET_PID=$LAST_PID
wait_for 20 "the quiet manager's stats" test -s "$MGR_STATS"
kill -0 "$QUIET_PID" || fail "the quiet manager died"
grep -q "onvm-mgr: up" "$ONVM_TMP/quiet.log" && fail "onvm.mgr:warning still printed INFO lines"
grep -Eq "${stamp}EAL: " "$ONVM_TMP/quiet.log" || fail "EAL's lines went too"
onvm_log "stamped lines; --log-level=onvm.mgr:warning hides the manager's INFO lines"
