#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The manager's deadlines are on the monotonic clock: stepping its wall
# clock back an hour, then forward, stops neither the stats every period,
# nor liveness (a killed NF is noticed), nor the spawn timeout (an NF that
# never registers is killed after MGR_SPAWN_TIMEOUT_MS, not at the step and
# not an hour late).  The wall clock is stepped for the manager alone, by
# libfaketime reading its offset from a file at every call; the monotonic
# clock is left alone (FAKETIME_DONT_FAKE_MONOTONIC).  Wall time still shows
# in the stats' ts_ms, which is how the test sees each step take effect.
source "$(dirname "$0")/lib.sh"
onvm_test_init clock_step

FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
[[ -e $FAKETIME_LIB ]] || fail "libfaketime is missing (apt-get install faketime; dp/setup-host.sh installs it)"

onvm_start_broker h1
onvm_catalog "$ONVM_TMP/catalog.json"
# Service 6: a program that never registers.
printf '#!/bin/sh\nexec sleep 120\n' >"$ONVM_TMP/never_registers"
chmod +x "$ONVM_TMP/never_registers"
sed -i "s|^]}|  ,{\"id\": 6, \"name\": \"never_registers\", \"exec\": \"$ONVM_TMP/never_registers\"}\n]}|" \
	"$ONVM_TMP/catalog.json"

OFFSET_FILE=$ONVM_TMP/wall_offset
echo "+0" >"$OFFSET_FILE"
onvm_watch bus 'onvm/hosts/h1/#'
# onvm_start_mgr, with the manager under libfaketime (its NFs inherit it).
MGR_STATS=$ONVM_TMP/mgr.stats
MGR_LOG=$ONVM_TMP/mgr.log
onvm_spawn mgr env LD_PRELOAD="$FAKETIME_LIB" FAKETIME_TIMESTAMP_FILE="$OFFSET_FILE" \
	FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
	ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" \
	"$ONVM_BUILD/onvm-mgr" --file-prefix="$ONVM_PREFIX" -l 0,1 --vdev=net_null0,no-rx=1 -- \
	-c "$ONVM_TMP/catalog.json" -k 2-3 $(onvm_bus_args h1) -f "$MGR_STATS" -q -t 100
MGR_PID=$LAST_PID
onvm_wait_up "manager" "$MGR_PID" "$MGR_LOG"
wait_for 10 "manager connected" grep -q "bus: connected" "$MGR_LOG"

BUS=$ONVM_TMP/bus.log
last_stats() { grep '^onvm/hosts/h1/stats ' "$BUS" | tail -n 1 | grep -o "\"$1\":[0-9]*" | cut -d: -f2; }
# stats_after SEQ: a stats message with a larger seq arrived.
stats_after() { local seq; seq=$(last_stats seq); [[ -n $seq ]] && ((seq > $1)); }
# stats_wall_near MS: the last stats' ts_ms is within 5 minutes of MS.
stats_wall_near() { local ts; ts=$(last_stats ts_ms); [[ -n $ts ]] && ((ts > $1 - 300000 && ts < $1 + 300000)); }

wait_for 10 "stats" stats_after 2

onvm_command h1 '{"v":1,"id":"c-wait","engine":"test","op":"spawn","service":6,"count":1,"reason":"never registers"}'
wait_for 10 "service 6 starting" grep -q '^onvm/hosts/h1/services .*"6":\[{"instance":[0-9]*,"core":[0-9]*,"state":"starting"' "$BUS"
spawned_at=$SECONDS

onvm_log "wall clock one hour back"
echo "-1h" >"$OFFSET_FILE"
wait_for 10 "stats stamped an hour back" stats_wall_near $(($(now_ms) - 3600000))
seq=$(last_stats seq)
wait_for 10 "stats go on after the step back" stats_after $((seq + 3))
grep -q '"cmd_id":"c-wait"' "$BUS" && fail "the step back ended the starting NF: $(grep '"cmd_id":"c-wait"' "$BUS")"

onvm_log "wall clock one hour ahead"
echo "+1h" >"$OFFSET_FILE"
wait_for 10 "stats stamped an hour ahead" stats_wall_near $(($(now_ms) + 3600000))
seq=$(last_stats seq)
wait_for 10 "stats go on after the step forward" stats_after $((seq + 3))
grep -q '"cmd_id":"c-wait"' "$BUS" && fail "the step forward ended the starting NF: $(grep '"cmd_id":"c-wait"' "$BUS")"

# Liveness: an NF killed after the steps is noticed.
onvm_command h1 '{"v":1,"id":"c-bounce","engine":"test","op":"spawn","service":1,"count":1,"reason":"liveness"}'
wait_for 20 "bounce spawned" grep -q '"cmd_id":"c-bounce","event":"spawned"' "$BUS"
bounce_pid() { awk '$1 == "instance" && $4 == 1 { for (i = 1; i < NF; i++) if ($i == "pid") print $(i + 1) }' "$MGR_STATS" | head -n 1; }
wait_for 5 "bounce in the counters file" eval '[[ -n $(bounce_pid) ]]'
bounce_pid=$(bounce_pid)
kill -9 "$bounce_pid"
wait_for 10 "the killed NF noticed" grep -q '"cmd_id":"c-bounce","event":"exited"' "$BUS"

# The spawn timeout still fires, on its own time.
wait_for 30 "the spawn timeout" grep -q '"cmd_id":"c-wait","event":"exited",.*before registering' "$BUS"
((SECONDS - spawned_at >= 9)) || fail "the spawn timeout fired after $((SECONDS - spawned_at)) s, before its 10 s"
kill -0 "$MGR_PID" || fail "the manager died"
