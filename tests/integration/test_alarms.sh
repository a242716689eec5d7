#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Overload alarms (docs/bus.md): a manager samples its instances every few
# ms and publishes on onvm/hosts/<host>/alarms (QoS 1, not retained) once an
# instance has been overloaded for --alarm-ms.  One slow_thing carrying
# CAPACITY packets a second, fed by the load generator at the rate in
# $ONVM_TMP/rate.  Expected:
#   - an overload gives an alarm on the bus, read by the monitor and by the
#     policy identity, naming the service and the instance, with
#     since_ms <= ts_ms and the onset after the overload began;
#   - exactly one while the overload lasts (a second of it, ten stats periods);
#   - once the load stops and the instance has been calm for the re-arm time,
#     a new overload gives a second alarm;
#   - a burst of packets sent as fast as the generator can (6000, well
#     within a sample period here) that overflows the ring and leaves it
#     full, draining at the NF's pace for 0.4 s, gives none (a rule that took
#     a ring over 0.8 for overload would alarm: that was tried);
#   - with --alarm-ms 0, an overload gives no alarm at all.
source "$(dirname "$0")/lib.sh"
onvm_test_init alarms

CAPACITY=10000 # packets per second one slow_thing handles
OFFERED=40000
onvm_start_broker h1
onvm_scale_catalog "$ONVM_TMP/catalog.json" "$CAPACITY"
# A generator that sends BURST packets as fast as it can, once, and ends:
# they reach the ring within a millisecond, beyond its 4095 places.
BURST=6000
jq --arg exec "$ONVM_BUILD/examples/load_generator" --arg n "$BURST" \
	'.services += [{"id": 8, "name": "burst", "exec": $exec,
	  "args": ["-d", "2", "-p", "0", "-f", "1024", "-R", "100000000", "-n", $n]}]' \
	"$ONVM_TMP/catalog.json" >"$ONVM_TMP/catalog.json.new" &&
	mv "$ONVM_TMP/catalog.json.new" "$ONVM_TMP/catalog.json"

onvm_watch alarms 'onvm/hosts/h1/alarms'
# shellcheck disable=SC2046
onvm_spawn policy_alarms "${ONVM_CTL[@]}" $(identity_env policy) mosquitto_sub -t 'onvm/hosts/+/alarms'
onvm_watch stats 'onvm/hosts/h1/stats'

start_mgr() {
	# shellcheck disable=SC2046
	onvm_start_mgr "mgr$1" -l 0,1 --vdev=net_null0,no-rx=1 -- -c "$ONVM_TMP/catalog.json" -k 2-4 \
		-s 9,2 -p '0:2>0' $(onvm_bus_args h1) "${@:2}"
	wait_for 20 "the generator and slow_thing run" \
		eval '[[ $(instances_of "$MGR_STATS" 2 | wc -l) -eq 1 && $(instances_of "$MGR_STATS" 9 | wc -l) -eq 1 ]]'
	SLOW=$(instances_of "$MGR_STATS" 2)
	wait_for 10 "stats on the bus" eval '[[ -n $(latest_fill) ]]'
}
alarms() { grep -c . "$ONVM_TMP/alarms.log"; }
alarm_lines() { grep -c "onvm-mgr: alarm: service .* overloaded since" "$MGR_LOG"; }
# slow_thing's ring fill in the latest stats on the bus.
latest_fill() {
	tail -n 1 "$ONVM_TMP/stats.log" | cut -d' ' -f2- |
		jq -r --argjson i "${SLOW:-0}" '.instances[] | select(.instance == $i) | .ring_fill'
}
seq_now() { stat_header "$MGR_STATS" seq; }
drops_now() { mgr_counter "$MGR_STATS" instance "$SLOW" drops; }
# Wait for N more stats periods (of 100 ms) in which slow_thing kept dropping.
overloaded_for_periods() {
	local until=$(($(seq_now) + $1)) drops
	drops=$(drops_now)
	wait_for 10 "$1 stats periods" eval '(( $(seq_now) >= until ))'
	(($(drops_now) > drops)) || fail "slow_thing did not drop while overloaded"
}
overload() {
	OVERLOAD_MS=$(now_ms)
	echo "$OFFERED" >"$ONVM_TMP/rate"
}
calm() {
	echo 0 >"$ONVM_TMP/rate"
	wait_for 10 "slow_thing's ring empty" eval '[[ $(latest_fill) == 0 ]]'
}

# ---- alarms on (the default alarm time) ----
start_mgr 1
[[ $(alarms) -eq 0 ]] || fail "an alarm before any load: $(cat "$ONVM_TMP/alarms.log")"

# 1. An overload gives one alarm, on time and naming its instance.
overload
wait_for 10 "an alarm on the bus" eval '(( $(alarms) >= 1 ))'
alarm=$(head -n 1 "$ONVM_TMP/alarms.log" | cut -d' ' -f2-)
onvm_log "alarm: $alarm ($(($(jq .ts_ms <<<"$alarm") - OVERLOAD_MS)) ms after the load was raised)"
jq -e --argjson i "$SLOW" --argjson start "$OVERLOAD_MS" '
	.v == 1 and .host == "h1" and .service == 2 and .instance == $i and
	.since_ms >= $start and .since_ms + 20 <= .ts_ms and .ring_fill > 0.8 and .ring_fill <= 1' \
	<<<"$alarm" >/dev/null || fail "alarm not as expected (service 2, instance $SLOW, onset after $OVERLOAD_MS): $alarm"
wait_for 5 "the policy identity got it too" eval '(( $(grep -c . "$ONVM_TMP/policy_alarms.log") >= 1 ))'
wait_for 5 "the alarm logged" grep -q "onvm-mgr: alarm: service 2 instance $SLOW overloaded since $(jq .since_ms <<<"$alarm")" "$MGR_LOG"

# 2. Exactly one while it lasts.
overloaded_for_periods 10
[[ $(alarms) -eq 1 ]] || fail "$(alarms) alarms for one overload: $(cat "$ONVM_TMP/alarms.log")"
[[ $(alarm_lines) -eq 1 ]] || fail "$(alarm_lines) alarm lines in the log for one overload"
[[ $(stat_header "$MGR_STATS" alarms) -eq 1 ]] || fail "stats file counts $(stat_header "$MGR_STATS" alarms) alarms"
[[ $(mgr_counter "$MGR_STATS" instance "$SLOW" alarms) -eq 1 ]] || fail "stats file counts no alarm for instance $SLOW"

# 3. Calm for the re-arm time, then a new overload: a second alarm.
calm
wait_for 10 "re-armed" grep -q "alarm: service 2 instance $SLOW calm for [0-9]* ms: re-armed" "$MGR_LOG"
[[ $(alarms) -eq 1 ]] || fail "an alarm while calming down: $(tail -n 1 "$ONVM_TMP/alarms.log")"
overload
wait_for 10 "a second alarm" eval '(( $(alarms) >= 2 ))'
jq -e --argjson start "$OVERLOAD_MS" '.since_ms >= $start' <<<"$(tail -n 1 "$ONVM_TMP/alarms.log" | cut -d' ' -f2-)" \
	>/dev/null || fail "the second alarm's onset is before the second overload"
overloaded_for_periods 5
[[ $(alarms) -eq 2 ]] || fail "$(alarms) alarms for two overloads"
calm

# 4. A burst that overflows the ring at once, then a full ring draining at the
# NF's pace (0.4 s): drops, and no alarm.
drops=$(drops_now)
onvm_command h1 '{"v":1,"id":"t-alarm-burst","engine":"test","op":"spawn","service":8,"count":1,"reason":"burst"}'
wait_for 10 "the burst sent (its generator ended)" grep -qE "event (stopped|exited) service 8 " "$MGR_LOG"
wait_for 10 "slow_thing dropped part of the burst" eval '(( $(drops_now) > drops ))'
calm
[[ $(alarms) -eq 2 ]] || fail "an alarm for a burst: $(tail -n 1 "$ONVM_TMP/alarms.log")"

kill -INT "$MGR_PID"
wait_for 10 "manager exits" eval '! kill -0 "$MGR_PID" 2>/dev/null'
wait_for 10 "its NFs gone" eval '[[ -z $(pgrep -f -- "--file-prefix=$ONVM_PREFIX ") ]]'

# ---- alarms off ----
rm -f "$MGR_STATS"
: >"$ONVM_TMP/stats.log"
before=$(alarms)
start_mgr 2 --alarm-ms 0
overload
wait_for 10 "slow_thing drops" eval '(( $(drops_now) > 0 ))'
overloaded_for_periods 10
[[ $(alarms) -eq $before ]] || fail "an alarm with --alarm-ms 0: $(tail -n 1 "$ONVM_TMP/alarms.log")"
[[ $(alarm_lines) -eq 0 ]] || fail "an alarm line with --alarm-ms 0"
[[ $(stat_header "$MGR_STATS" alarms) -eq 0 ]] || fail "alarms counted with --alarm-ms 0"
