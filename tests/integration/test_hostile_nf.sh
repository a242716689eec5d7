#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# NFs are other processes, and shared memory is theirs to scribble on.
#
# Registrations the manager must refuse, each sent raw by hostile_nf:
#   - a core that is the manager's own lcore, or one a running NF holds;
#   - a pid that is not a live process, or a live one that is not a
#     process of this manager (a bystander);
#   - one its NF gave up on while the manager could not answer (stopped):
#     the NF stays alive, and it is still never activated.
# A hostile NF adds a member slot that is no instance's to the service map of
# the port's service: the manager drops (and counts, and says) the packets
# whose flows hash to it and forwards every other one.
#
# Then two hand-started hostile NFs register, and overwrite the pid in their
# own instance slot: one with a bystander process's pid, one with 0 (as root,
# kill(0) signals the manager's whole process group), and the slot's other
# fields with garbage, which the stats must not repeat or index by.  Neither stops when
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
onvm_veth "oh$$a" "oh$$b"
MGR_STATS=$ONVM_TMP/mgr.stats
onvm_spawn mgr setsid "$ONVM_BUILD/onvm-mgr" --file-prefix="$ONVM_PREFIX" -l 0,1 \
	--vdev="net_af_packet0,iface=oh$$a,qpairs=1,framecnt=4096" -- -c "$ONVM_TMP/catalog.json" \
	-k 2-3 -s 3 -p "0:3>0" -f "$MGR_STATS" -q -t 100
MGR_PID=$LAST_PID
MGR_LOG=$ONVM_TMP/mgr.log
onvm_wait_up "manager" "$MGR_PID" "$MGR_LOG"
wait_for 20 "simple_forward registered" grep -q "event spawned" "$MGR_LOG"
spawned() { grep -c "event spawned" "$MGR_LOG"; }

onvm_spawn bystander sleep 600
BYSTANDER=$LAST_PID
sh -c 'exit 0' &
DEAD=$!
wait "$DEAD"

# hostile_nf --register SERVICE PID CORE must be refused with WHY.
refused() {
	local name=$1 why=$2
	shift 2
	# shellcheck disable=SC2046
	onvm_spawn "$name" "$ONVM_BUILD/hostile_nf" $(onvm_nf_eal 12) -- --register "$@"
	local pid=$LAST_PID
	wait_for 20 "$name answered" grep -q "answer:" "$ONVM_TMP/$name.log"
	wait "$pid" || fail "$name failed: $(tail -n 2 "$ONVM_TMP/$name.log" | tr '\n' ' ')"
	grep -q "answer: refused: $why" "$ONVM_TMP/$name.log" ||
		fail "a REGISTER with $name was not refused with '$why': $(grep answer: "$ONVM_TMP/$name.log")"
	onvm_log "REGISTER with $name: refused, $why"
}
refused manager_core "core is the manager's" 1 self 0
refused held_core "core is not free" 1 self 2
refused dead_pid "pid is not a live process" 1 "$DEAD" 7
refused bystander_pid "pid is not a process of this manager" 1 "$BYSTANDER" 7
(($(spawned) == 1)) || fail "a refused registration was activated"

# shellcheck disable=SC2046
onvm_spawn give_up "$ONVM_BUILD/hostile_nf" $(onvm_nf_eal 13) -- --give-up 1 "$MGR_PID"
GIVE_UP=$LAST_PID
wait_for 20 "hostile NF gave up on its registration" grep -q "gave up (pid $GIVE_UP)" "$ONVM_TMP/give_up.log"
wait_for 10 "the manager read the registration given up on" \
	eval 'grep -q "message of pid $GIVE_UP was given up" "$MGR_LOG" || (($(spawned) > 1))'
(($(spawned) == 1)) || fail "the manager activated a registration its NF had given up on"
kill -0 "$GIVE_UP" 2>/dev/null || fail "the NF that gave up is gone"
onvm_log "a registration given up on was not activated (its NF $GIVE_UP still alive)"

# A member slot no instance has, in the map of the port's service (3).
COUNT=2000
# shellcheck disable=SC2046
onvm_spawn add_member "$ONVM_BUILD/hostile_nf" $(onvm_nf_eal 14) -- --add-member 3 20000
wait_for 20 "hostile NF added a bad member" grep -q "now has member slot 20000" "$ONVM_TMP/add_member.log"
"$ONVM_BUILD/pktio" send "oh$$b" "$COUNT" 64 64 50000 >/dev/null || fail "pktio send failed"
bad_drops() { grep -oE "[0-9]+ packets dropped: the service map" "$MGR_LOG" | tail -n 1 | cut -d' ' -f1; }
all_accounted() {
	local rx tx bad
	rx=$(mgr_counter "$MGR_STATS" port 0 rx) tx=$(mgr_counter "$MGR_STATS" port 0 tx) bad=$(bad_drops)
	[[ -n $rx && -n $tx && -n $bad ]] && ((rx == COUNT && tx + bad == COUNT))
}
wait_for 10 "every frame forwarded, or dropped for the bad member" all_accounted
kill -0 "$MGR_PID" 2>/dev/null || fail "the manager died of a bad member in the service map"
forwarded=$(mgr_counter "$MGR_STATS" port 0 tx)
dropped=$(bad_drops)
((forwarded > 0 && dropped > 0)) || fail "forwarded $forwarded, dropped $dropped: expected both"
onvm_log "bad map member: $dropped frames dropped and counted, $forwarded forwarded by simple_forward"
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
wait_for 10 "both registered" eval '(($(spawned) == 3))'
# They also wrote slot 65535, service 65534, instance 0xdeadbeef, state
# "free" and an endless name over the rest of their slots: the manager's
# stats go on, from its own record of each slot.
seq_now=$(stat_header "$MGR_STATS" seq)
wait_for 10 "two more stats periods" eval '(( $(stat_header "$MGR_STATS" seq)+0 >= seq_now + 2 ))'
kill -0 "$MGR_PID" 2>/dev/null || fail "the manager died of the hostile NFs' slots"
(($(instances_of "$MGR_STATS" 1 | wc -l) == 2)) ||
	fail "the stats do not show the two hostile NFs as service 1: $(grep instance "$MGR_STATS")"
grep -qE "3735928559|service 65534" "$MGR_STATS" && fail "the stats repeat what an NF wrote"
onvm_log "stats of the scribbled slots: $(grep -c "service 1 " "$MGR_STATS") instances of service 1, as recorded"

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
