#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# onvm-ctl against a real broker and a real manager: the hosts, services,
# instances and engines tables (and their --json), a spawn that the host
# carries out and one it rejects (a service not in its catalog), a stop, a
# stop of an instance the host does not list, a command that nobody answers
# (a monitor may not write commands: the broker drops it), watch's decoded
# lines, and the command-line and broker errors: usage and exit 2 for a bad
# command line, a clear error and exit 1 for a broker that is not there or
# refuses the identity.
source "$(dirname "$0")/lib.sh"
onvm_test_init ctl

CTL=$ONVM_BUILD/onvm-ctl
OUT=$ONVM_TMP/ctl.out
ERR=$ONVM_TMP/ctl.err

# ctl IDENTITY ARGS...: run onvm-ctl as IDENTITY; its exit status in CTL_RC.
ctl() {
	local identity=$1
	shift
	# shellcheck disable=SC2046
	"${ONVM_CTL[@]}" "$CTL" $(onvm_client_args "$identity") "$@" >"$OUT" 2>"$ERR"
	CTL_RC=$?
	{ echo "\$ onvm-ctl $*  (exit $CTL_RC)"; cat "$OUT" "$ERR"; } >>"$ONVM_TMP/ctl-history.log"
}
expect_rc() { ((CTL_RC == $1)) || fail "onvm-ctl $2: exit $CTL_RC, not $1: $(cat "$OUT" "$ERR")"; }
expect_out() { grep -Eq -- "$1" "$OUT" || fail "onvm-ctl $2: no line like '$1' in: $(cat "$OUT")"; }

# ---- the command line, no broker needed ----
"$CTL" --version >"$OUT" || fail "--version failed"
grep -q "^onvm-ctl (Distributed OpenNetVM) " "$OUT" || fail "--version: $(cat "$OUT")"
"$CTL" -h >"$OUT" || fail "-h failed"
grep -q "^usage: " "$OUT" || fail "-h printed no usage"
for bad in "" "frobnicate" "spawn" "spawn 2" "spawn x -H h1" "stop -H h1" "hosts --count 2" \
	"spawn 2 -H h1 --count 65" "hosts --wait-ms -1" "watch extra"; do
	# shellcheck disable=SC2086
	"$CTL" -b tcp://127.0.0.1:1 $bad >"$OUT" 2>"$ERR"
	rc=$?
	((rc == 2)) || fail "'onvm-ctl $bad': exit $rc, not 2"
	grep -q "^usage: " "$ERR" || fail "'onvm-ctl $bad': no usage on stderr"
done

onvm_start_broker h1

# ---- a broker that is not there, or that refuses the identity ----
DEAD_PORT=$(onvm_free_port)
"$CTL" -b "tcp://127.0.0.1:$DEAD_PORT" -u monitor -P "$BROKER_DIR/secrets/monitor.pass" \
	--connect-timeout-ms 1000 hosts >"$OUT" 2>"$ERR"
rc=$?
((rc == 1)) || fail "no broker: exit $rc, not 1"
grep -q "cannot reach the broker at tcp://127.0.0.1:$DEAD_PORT within 1000 ms" "$ERR" ||
	fail "no broker: no clear error: $(cat "$ERR")"
echo wrong >"$ONVM_TMP/wrong.pass"
"${ONVM_CTL[@]}" "$CTL" -b "$BROKER_URI" -u monitor -P "$ONVM_TMP/wrong.pass" \
	--connect-timeout-ms 1000 engines >"$OUT" 2>"$ERR"
rc=$?
((rc == 1)) || fail "wrong password: exit $rc, not 1"
grep -q "cannot reach the broker .*refused identity monitor/ctl-" "$ERR" ||
	fail "wrong password: no clear error: $(cat "$ERR")"

# ---- the engines: retained announcements; the smallest online id leads ----
for engine in pe-b pe-a; do
	publish_as policy "onvm/policy/engines/$engine" \
		"{\"v\":1,\"status\":\"online\",\"name\":\"local-first\",\"started_ms\":$(now_ms),\"version\":\"0.9.0\"}" -q 1 -r
done
publish_as policy onvm/policy/engines/pe-0 '{"v":1,"status":"offline"}' -q 1 -r
ctl monitor engines --wait-ms 500
expect_rc 0 engines
expect_out '^pe-0 +offline +- ' engines
expect_out '^pe-a +online +leader +local-first +0\.9\.0 ' engines
expect_out '^pe-b +online +shadow ' engines
ctl monitor engines --json --wait-ms 500
expect_rc 0 "engines --json"
jq -e '.leader == "pe-a" and ([.engines[] | select(.role == "shadow") | .engine] == ["pe-b"])' \
	"$OUT" >/dev/null || fail "engines --json: $(cat "$OUT")"

# ---- a real manager ----
# shellcheck disable=SC2046
onvm_spawn watch "${ONVM_CTL[@]}" "$CTL" $(onvm_client_args monitor) watch
WATCH_PID=$LAST_PID
WATCH_LOG=$ONVM_TMP/watch.log
wait_for 10 "watch subscribed" grep -q "^engine pe-a online local-first version 0.9.0 \[retained\]$" "$WATCH_LOG"
onvm_catalog "$ONVM_TMP/catalog.json"
# shellcheck disable=SC2046
onvm_start_mgr mgr -l 0,1 --vdev=net_null0,no-rx=1 -- -c "$ONVM_TMP/catalog.json" -k 2-4 \
	$(onvm_bus_args h1)
wait_for 10 "h1's stats on the bus" grep -q "^stats h1 seq " "$WATCH_LOG"

ctl monitor hosts
expect_rc 0 hosts
expect_out '^h1 +online +3 +3 +0 +0 +0 +0\.9\.0$' hosts
ctl monitor hosts --json
jq -e '.hosts[0] | .host == "h1" and .status == "online" and .cores == {"total":3,"free":3} and
	.instances == 0 and has("rx_pps")' "$OUT" >/dev/null || fail "hosts --json: $(cat "$OUT")"

# A spawn the host carries out: its answer, exit 0.
ctl policy spawn 1 -H h1 -r "test_ctl"
expect_rc 0 "spawn 1"
expect_out '^sending ctl-[0-9]+-[0-9]+-1 to h1: spawn service 1 count 1$' "spawn 1"
expect_out '^h1: spawned service 1 instance 1 on core 2$' "spawn 1"
SPAWN_ID=$(awk '/^sending/ {print $2}' "$OUT")
wait_for 10 "the manager's services map with instance 1" \
	grep -q "^services h1 service 1: 1@2$" "$WATCH_LOG"

ctl monitor instances
expect_rc 0 instances
expect_out '^h1 +1 +1 +2 running ' instances
ctl monitor instances --json -H h1
jq -e '.instances == [.instances[0]] and (.instances[0] | .instance == 1 and .service == 1 and
	.core == 2 and .state == "running")' "$OUT" >/dev/null || fail "instances --json: $(cat "$OUT")"
ctl monitor services
expect_rc 0 services
expect_out '^1 +1 +[0-9-]+ +[0-9-]+ h1$' services
ctl monitor services --json
jq -e '.services == [{"service":1,"instances":1,"hosts":["h1"]} + (.services[0] | {rx_pps, drop_pps})]' \
	"$OUT" >/dev/null || fail "services --json: $(cat "$OUT")"
ctl monitor hosts
expect_out '^h1 +online +2 +3 +1 ' "hosts after the spawn"

# A spawn the host rejects: the reason, exit 1.
ctl policy spawn 42 -H h1
expect_rc 1 "spawn 42"
expect_out "^h1: rejected service 42: .*catalog" "spawn 42"

# A monitor's command never reaches the host (the broker's ACL): no answer, exit 1.
ctl monitor spawn 1 -H h1 -t 1000
expect_rc 1 "spawn as monitor"
grep -q "no answer from h1 within 1000 ms" "$ERR" || fail "spawn as monitor: $(cat "$ERR")"
# A host that is not on the bus answers nothing either.
ctl policy spawn 1 -H h9 -t 500
expect_rc 1 "spawn on h9"
grep -q "no answer from h9 within 500 ms; no such host on the bus" "$ERR" ||
	fail "spawn on h9: $(cat "$ERR")"

# A stop: the service comes from h1's services map.
ctl policy stop -H h1 -I 1
expect_rc 0 "stop"
expect_out '^sending ctl-[0-9-]+ to h1: stop service 1 instance 1$' stop
expect_out '^h1: stopped service 1 instance 1' stop
ctl policy stop -H h1 -I 99 --wait-ms 500
expect_rc 1 "stop 99"
grep -q "h1's services map lists no instance 99" "$ERR" || fail "stop 99: $(cat "$ERR")"

# watch saw every kind, decoded, with each answer tied to its command.
wait_for 10 "watch saw the stop" grep -q "^event h1 stopped service 1 instance 1 " "$WATCH_LOG"
grep -Eq "^state h1 online cores 3/3 free epoch [0-9]+ version 0\.9\.0" "$WATCH_LOG" ||
	fail "watch: no state line"
grep -q "^cmd h1 spawn service 1 count 1 id $SPAWN_ID by onvm-ctl: test_ctl$" "$WATCH_LOG" ||
	fail "watch: no command line"
grep -q "^event h1 spawned service 1 instance 1 on core 2 for $SPAWN_ID (the spawn of service 1 on h1 by onvm-ctl)$" \
	"$WATCH_LOG" || fail "watch: the spawned event is not tied to its command"
grep -Eq "^event h1 rejected service 42: .*catalog for ctl-" "$WATCH_LOG" || fail "watch: no rejection"
grep -q "^stats h1 seq [0-9]* period 100 ms: " "$WATCH_LOG" || fail "watch: no stats line"
kill -INT "$WATCH_PID"
wait_for 5 "watch ends at SIGINT" eval '! kill -0 "$WATCH_PID" 2>/dev/null'
wait "$WATCH_PID"
rc=$?
((rc == 0)) || fail "watch: exit $rc at SIGINT"
exit 0
