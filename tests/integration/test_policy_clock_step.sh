#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The policy's deadlines are on the monotonic clock too.  Its wall clock is
# stepped back an hour (libfaketime, as in test_clock_step.sh), then a host
# overloads: the overload streak still completes in its three periods of
# real time, and the spawn it leads to is stamped with the stepped wall
# clock (expires_ms an hour back, plus the 5 s command lifetime), which is
# what other machines compare with their own.  The host is played by
# mosquitto_pub: online with two free cores, one slow_thing dropping packets.
source "$(dirname "$0")/lib.sh"
onvm_test_init policy_clock_step

FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
[[ -e $FAKETIME_LIB ]] || fail "libfaketime is missing (apt-get install faketime; dp/setup-host.sh installs it)"

onvm_start_broker h1
onvm_watch bus 'onvm/#'
t=$(now_ms)
as_identity h1 mosquitto_pub -q 1 -r -t onvm/hosts/h1/state \
	-m "{\"v\":1,\"host\":\"h1\",\"status\":\"online\",\"epoch\":$t,\"ts_ms\":$t,\"cores\":{\"total\":3,\"free\":2}}"
as_identity h1 mosquitto_pub -q 1 -r -t onvm/hosts/h1/services \
	-m "{\"v\":1,\"host\":\"h1\",\"ts_ms\":$t,\"services\":{\"2\":[{\"instance\":1,\"core\":1,\"state\":\"running\"}]}}"

OFFSET_FILE=$ONVM_TMP/wall_offset
echo "+0" >"$OFFSET_FILE"
# shellcheck disable=SC2046
onvm_spawn policy env LD_PRELOAD="$FAKETIME_LIB" FAKETIME_TIMESTAMP_FILE="$OFFSET_FILE" \
	FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
	ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" \
	"$ONVM_BUILD/onvm-policy" -i pe-s $(onvm_client_args policy)
wait_for 10 "the policy leads" grep -q "engine pe-s now leads" "$ONVM_TMP/policy.log"

onvm_log "the policy's wall clock one hour back"
echo "-1h" >"$OFFSET_FILE"
stepped_ms=$(($(now_ms) - 3600000))
# h1 overloads now, and reports every 200 ms with the real clock.
cat >"$ONVM_TMP/overload.sh" <<'SH'
instance='{"instance":1,"service":2,"core":1,"rx_pps":1000,"tx_pps":500,"drop_pps":500,"ring_fill":1.0,"busy":1.0}'
for ((seq = 1; ; seq++)); do
	now=$(($(date +%s%N) / 1000000))
	mosquitto_pub -q 0 -t onvm/hosts/h1/stats -m "{\"v\":1,\"host\":\"h1\",\"ts_ms\":$now,\"seq\":$seq,\"period_ms\":200,\"ports\":[],\"instances\":[$instance]}"
	sleep 0.2
done
SH
# shellcheck disable=SC2046
onvm_spawn overload $(identity_env h1) bash "$ONVM_TMP/overload.sh"
wait_for 10 "a spawn of service 2 on h1, after the step" \
	grep -q '^onvm/hosts/h1/cmd {.*"op":"spawn".*"service":2' "$ONVM_TMP/bus.log"
cmd=$(grep -m1 '^onvm/hosts/h1/cmd ' "$ONVM_TMP/bus.log")
onvm_log "${cmd:0:200}"
expires=$(grep -o '"expires_ms":[0-9]*' <<<"$cmd" | cut -d: -f2)
[[ -n $expires ]] || fail "the command has no expires_ms: $cmd"
# Stamped with the stepped clock: an hour back, give or take a minute.
((expires > stepped_ms - 60000 && expires < stepped_ms + 60000)) ||
	fail "expires_ms $expires is not an hour back (stepped wall clock about $stepped_ms)"
kill -0 "${ONVM_PIDS[-1]}" || fail "the overload publisher died"
