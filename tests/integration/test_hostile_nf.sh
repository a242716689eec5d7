#!/usr/bin/env bash
# NFs are other processes, and shared memory is theirs to scribble on.
# Two hand-started hostile NFs register, then overwrite the pid in their own
# instance slot: one with a bystander process's pid, one with 0 (as root,
# kill(0) signals the manager's whole process group).  Neither stops when
# asked.  At the manager's SIGINT it must end them by the pids it recorded
# when they registered, and nothing else:
#   - the bystander is still alive, and so is everything in the manager's
#     process group until the manager exits by itself (status 0);
#   - both hostile NFs are gone, each killed under its real pid;
# The manager runs in a session of its own (setsid), so a regression hits
# only the manager's group, never the test's.
source "$(dirname "$0")/lib.sh"
onvm_test_init hostile_nf
onvm_catalog "$ONVM_TMP/catalog.json"
onvm_spawn mgr setsid "$ONVM_BUILD/onvm-mgr" --file-prefix="$ONVM_PREFIX" -l 0,1 \
	--vdev=net_null0,no-rx=1 -- -c "$ONVM_TMP/catalog.json" -k 2-3 -q -t 100
MGR_PID=$LAST_PID
MGR_LOG=$ONVM_TMP/mgr.log
onvm_wait_up "manager" "$MGR_PID" "$MGR_LOG"

onvm_spawn bystander sleep 600
BYSTANDER=$LAST_PID
hostile=()
lcore=4
for target in "$BYSTANDER" 0; do
	# shellcheck disable=SC2046
	onvm_spawn "hostile-$lcore" "$ONVM_BUILD/hostile_nf" $(onvm_nf_eal "$lcore") -- -r 1 -- --pid "$target"
	hostile+=("$LAST_PID")
	wait_for 20 "hostile NF $LAST_PID wrote pid $target into its slot" \
		grep -q "now says pid $target (I am $LAST_PID)" "$ONVM_TMP/hostile-$lcore.log"
	lcore=$((lcore + 1))
done
wait_for 10 "both registered" eval '(( $(grep -c "event spawned" "$MGR_LOG") == 2 ))'

kill -INT "$MGR_PID"
wait_for 20 "the manager shut down" eval '! kill -0 "$MGR_PID" 2>/dev/null'
wait "$MGR_PID"
status=$?
((status == 0)) || fail "the manager exited with status $status: $(tail -n 3 "$MGR_LOG" | tr '\n' ' ')"
kill -0 "$BYSTANDER" 2>/dev/null || fail "the manager killed the bystander named in shared memory"
for pid in "${hostile[@]}"; do
	wait_for 5 "hostile NF $pid ended" eval '! kill -0 '"$pid"' 2>/dev/null'
	grep -q "NF pid $pid did not stop; killing it" "$MGR_LOG" ||
		fail "the manager did not kill hostile NF $pid by its real pid"
done
grep -qE "NF pid (0|$BYSTANDER) " "$MGR_LOG" && fail "the manager signalled a pid read from shared memory"
onvm_log "bystander alive; hostile NFs ${hostile[*]} killed by their recorded pids; manager exited 0"
