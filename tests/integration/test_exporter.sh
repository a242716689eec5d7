#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# onvm-exporter on a real broker with a real manager: h1 is up with its
# cores, a spawn command's NF shows up with its result, its rx counter
# grows with the traffic sent to it, a decision is counted by kind and
# role, a malformed message by kind, and h1 is down once its manager is
# killed.  The scrape passes promtool's check (or, without promtool, the
# format's own rules).  It takes --listen from --config, ends with 0 at
# SIGTERM, and a bad command line exits 2.
source "$(dirname "$0")/lib.sh"
onvm_test_init exporter

EXPORTER=$ONVM_BUILD/onvm-exporter
"$EXPORTER" --version | grep -q "^onvm-exporter (Distributed OpenNetVM) " || fail "no --version"
"$EXPORTER" -h | grep -q -- "--listen ADDR:PORT" || fail "-h does not describe --listen"
"$EXPORTER" --listen nowhere >/dev/null 2>&1
[[ $? -eq 2 ]] || fail "a bad --listen did not exit 2"
"$EXPORTER" --no-such-option >/dev/null 2>&1
[[ $? -eq 2 ]] || fail "an unknown option did not exit 2"

onvm_start_broker h1
HTTP_PORT=$(onvm_free_port)
URL=http://127.0.0.1:$HTTP_PORT/metrics
echo "{\"listen\": \"127.0.0.1:$HTTP_PORT\"}" >"$ONVM_TMP/exporter.json"
# shellcheck disable=SC2046
onvm_spawn exporter "$EXPORTER" $(onvm_client_args monitor) --config "$ONVM_TMP/exporter.json"
EXPORTER_PID=$LAST_PID

scrape() { curl -sf --max-time 5 "$URL"; }
# metric 'NAME{LABELS}': its value in a fresh scrape (empty if absent).
metric() { scrape | awk -v series="$1" '$1 == series { print $2; exit }'; }
# has 'NAME{LABELS}' OP VALUE: the sample exists and compares so (awk's ==, >, >=).
has() {
	local value
	value=$(metric "$1")
	[[ -n $value ]] && awk -v v="$value" -v w="$3" "BEGIN { exit !(v $2 w) }"
}

wait_for 10 "the exporter connected and serving" has onvm_exporter_bus_connected == 1
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/other") == 404 ]] ||
	fail "another path is not 404"

onvm_veth "ox$$a" "ox$$b"
onvm_catalog "$ONVM_TMP/catalog.json"
# shellcheck disable=SC2046
onvm_start_mgr mgr -l 0,1 --vdev="net_af_packet0,iface=ox$$a,qpairs=1,framecnt=4096" -- \
	-c "$ONVM_TMP/catalog.json" -k 2-4 -p 0:1 $(onvm_bus_args h1)
wait_for 10 "h1 up" has 'onvm_host_up{host="h1"}' == 1
has 'onvm_host_nf_cores{host="h1"}' == 3 || fail "h1's cores: $(scrape | grep '^onvm_host_nf_cores')"
has 'onvm_host_nf_cores_free{host="h1"}' == 3 || fail "h1 should have 3 free cores"

onvm_command h1 '{"v":1,"id":"t-exp-1","engine":"test","op":"spawn","service":1,"count":1,"reason":"exporter test"}'
wait_for 10 "the spawn's result" has 'onvm_command_results_total{host="h1",result="spawned"}' == 1
has 'onvm_commands_total{host="h1",op="spawn"}' == 1 || fail "the command was not counted"
RX='onvm_instance_rx_packets_total{host="h1",service="1",instance="1"}'
wait_for 10 "instance 1 in h1's stats" has "$RX" '>=' 0
wait_for 10 "one running instance of service 1" \
	has 'onvm_service_instances{service="1",state="running"}' == 1

"$ONVM_BUILD/pktio" send "ox$$b" 500 32 64 50000 >/dev/null
wait_for 10 "rx counted" has "$RX" '>' 0
# The counter settles (unchanged over two more stats periods: the frames'
# periods are over), then grows with more.
PERIODS='onvm_host_stats_periods_total{host="h1"}'
settled_rx=-1 settled_at=0
rx_settled() {
	local now rx
	read -r now rx < <(scrape | awk -v p="$PERIODS" -v r="$RX" '$1 == p { a = $2 } $1 == r { b = $2 } END { print a, b }')
	[[ $rx == "$settled_rx" ]] && ((now >= settled_at + 2)) && return 0
	[[ $rx != "$settled_rx" ]] && settled_rx=$rx settled_at=$now
	return 1
}
wait_for 10 "rx settled" rx_settled
before=$(metric "$RX")
"$ONVM_BUILD/pktio" send "ox$$b" 500 32 64 50000 >/dev/null
wait_for 10 "rx counter grew past $before" has "$RX" '>' "$before"

publish_as policy onvm/policy/decisions \
	"{\"v\":1,\"engine\":\"pe-t\",\"ts_ms\":$(now_ms),\"service\":1,\"origin\":\"h1\",\"target\":null,\"reason\":\"at max: service 1 has 1 of max 1 instances\",\"shadow\":false}" -q 1
wait_for 10 "the decision counted" \
	has 'onvm_policy_decisions_total{engine="pe-t",kind="at_max",role="leader"}' == 1
publish_as h1 onvm/hosts/h1/stats '{"v":1,"host":"h1","oops":' -q 1
wait_for 10 "the rejected message counted" has 'onvm_bus_rejected_messages_total{kind="stats"}' == 1
grep -q "rejected onvm/hosts/h1/stats (1 so far): " "$ONVM_TMP/exporter.log" ||
	fail "the rejection was not logged"

scrape >"$ONVM_TMP/metrics.txt" || fail "no scrape"
if command -v promtool >/dev/null; then
	promtool check metrics <"$ONVM_TMP/metrics.txt" >"$ONVM_TMP/promtool.log" 2>&1 ||
		fail "promtool: $(head -n 5 "$ONVM_TMP/promtool.log")"
else
	onvm_log "promtool is absent (Debian package prometheus): checking the format here"
	# HELP then TYPE (counters end in _total) once per family; samples of the family after it.
	awk '
		/^# HELP / { if ($3 in seen) exit 1; seen[$3] = 1; family = $3; typed = 0; next }
		/^# TYPE / { if ($3 != family || ($4 == "counter") != ($3 ~ /_total$/)) exit 1; typed = 1; next }
		{ if (!typed || index($1, family) != 1 || $0 !~ /^[a-z_]+(\{[a-z_]+="([^"\\]|\\.)*"(,[a-z_]+="([^"\\]|\\.)*")*\})? [0-9.e+-]+$/) exit 1 }
	' "$ONVM_TMP/metrics.txt" || fail "the exposition format is broken"
fi

kill -9 "$MGR_PID"
wait "$MGR_PID" 2>/dev/null # no "Killed" line
wait_for 15 "h1 down after its manager was killed" has 'onvm_host_up{host="h1"}' == 0
[[ -z $(metric "$RX") ]] || fail "a down host's instances are still exported"
kill -0 "$EXPORTER_PID" 2>/dev/null || fail "the exporter died"
kill -TERM "$EXPORTER_PID"
wait_for 10 "the exporter ended at SIGTERM" eval '! kill -0 "$EXPORTER_PID" 2>/dev/null'
wait "$EXPORTER_PID"
status=$?
((status == 0)) || fail "the exporter exited $status at SIGTERM"
exit 0
