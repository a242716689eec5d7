#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# NF churn: two hosts under load, the policy daemon scaling slow_thing out,
# one warm standby per host, and an NF killed with SIGKILL every 1-3 s for
# ONVM_CHURN_SECONDS (default 60): a running instance or a standby, on
# either host, at random.  Expected:
#   - every kill of an instance is followed by its "exited" event and by a
#     services map without it; every kill of a standby by "standby ended"
#     in its manager's log (standbys are never on the bus);
#   - both managers survive the minute;
#   - then a SIGINT stops each manager in under 3 s, with no NF of theirs
#     left running, and every one reaped in the end (by the nursery, which
#     may take the kernel seconds: see dp/nf_nursery.h).
source "$(dirname "$0")/lib.sh"
onvm_test_init nf_churn
CHURN_SECONDS=${ONVM_CHURN_SECONDS:-60}
onvm_hosts 2
onvm_start_broker h1 h2

CAPACITY=1500
onvm_scale_catalog "$ONVM_TMP/catalog.json" "$CAPACITY" 1
onvm_watch bus 'onvm/#'
onvm_start_host 1 -c "$ONVM_TMP/catalog.json" -k 2-3 -s 9,2 -p '0:2>0' -p '1:2>0' -t 200
onvm_start_host 2 -c "$ONVM_TMP/catalog.json" -k 2-3 -p '0:2>0' -p '1:2>0' -t 200
onvm_wait_scale_start
# shellcheck disable=SC2046
onvm_spawn policy "${ONVM_CTL[@]}" "$ONVM_BUILD/onvm-policy" -i pe-c $(onvm_client_args policy)
wait_for 10 "policy daemon on the bus" grep -q 'onvm/policy/engines/pe-c {.*online' "$ONVM_TMP/bus.log"
echo $((CAPACITY * 3)) >"$ONVM_TMP/rate"
wait_for 30 "a scale-out to h2" grep -q 'onvm/hosts/h2/events {.*"event":"spawned".*"service":2' "$ONVM_TMP/bus.log"

# slow_thing processes of host I: "pid instance" for running instances
# (from its stats file), "pid standby" for parked standbys (from its log).
nf_targets() {
	local index=$1 pid instance
	for pid in $(grep -x -F -f <(pgrep -f -- " -r 2 ") <(onvm_nfs_of "${HOST_PID[$index]}")); do
		instance=$(awk -v pid="$pid" '$1 == "instance" && $8 == pid && $10 == "running" { print $2 }' \
			"${HOST_STATS[$index]}")
		if [[ -n $instance ]]; then
			echo "$pid $instance"
		elif grep -q "warm standby of service 2 ready (pid $pid)" "${HOST_LOG[$index]}" &&
			! grep -q "switched on the warm standby .*, pid $pid$" "${HOST_LOG[$index]}"; then
			echo "$pid standby"
		fi # else starting, or switched on and not yet in the stats: not a target yet
	done
}
services_of() { grep "^onvm/hosts/h$1/services " "$ONVM_TMP/bus.log" | tail -n 1; }

kills=0 instance_kills=0 standby_kills=0
end=$((SECONDS + CHURN_SECONDS))
while ((SECONDS < end)); do
	index=$((RANDOM % 2 + 1))
	mapfile -t targets < <(nf_targets "$index")
	if ((${#targets[@]} == 0)); then
		sleep 0.2
		continue
	fi
	read -r pid what <<<"${targets[RANDOM % ${#targets[@]}]}"
	log_lines=$(wc -l <"${HOST_LOG[$index]}")
	kill -9 "$pid" 2>/dev/null || continue
	kills=$((kills + 1))
	if [[ $what == standby ]]; then
		standby_kills=$((standby_kills + 1))
		# It may have been switched on between the look and the kill: then
		# it died an instance, and says so.
		wait_for 10 "h$index notices that its standby (pid $pid) died" eval \
			'tail -n +$((log_lines + 1)) "${HOST_LOG[$index]}" |
				grep -qE "warm standby of service 2 ended|event exited service 2 "'
	else
		instance_kills=$((instance_kills + 1))
		wait_for 10 "h$index publishes: instance $what exited" grep -q \
			"^onvm/hosts/h$index/events {.*\"event\":\"exited\",\"service\":2,\"instance\":$what," "$ONVM_TMP/bus.log"
		wait_for 10 "h$index's services map without instance $what" eval \
			'! services_of $index | grep -q "\"instance\":$what,"'
	fi
	for i in 1 2; do kill -0 "${HOST_PID[$i]}" || fail "h$i's manager died after $kills kills"; done
	sleep "1.$((RANDOM % 10))"
done
onvm_log "$kills kills: $instance_kills instances, $standby_kills standbys, in ${CHURN_SECONDS}s"
((instance_kills > 0 && standby_kills > 0)) || fail "the churn did not hit both instances and standbys"

# Clean shutdown of each manager, timed; then nothing of theirs is left.
# A manager that does not finish is shown thread by thread.
dump_managers() {
	((ONVM_FAILED)) || return 0
	for i in 1 2; do kill -0 "${HOST_PID[$i]}" 2>/dev/null && onvm_dump_threads "${HOST_PID[$i]}"; done
}
ONVM_EXIT_HOOKS+=(dump_managers)
all_gone() {
	local pid
	for pid in "$@"; do [[ ! -e /proc/$pid ]] || return 1; done
}
for i in 1 2; do
	children=$(onvm_nfs_of "${HOST_PID[$i]}" | tr '\n' ' ')
	start_ns=$(date +%s%N)
	kill -INT "${HOST_PID[$i]}"
	wait_for 10 "h$i's manager stops" grep -q "onvm-mgr: stopped in" "${HOST_LOG[$i]}"
	took_ms=$((($(date +%s%N) - start_ns) / 1000000))
	onvm_log "h$i: $(grep "onvm-mgr: stopped in" "${HOST_LOG[$i]}"), $took_ms ms after SIGINT"
	((took_ms < 3000)) || fail "h$i's manager took $took_ms ms to stop"
	for pid in $children; do # a zombie is on its way out; anything else is left behind
		state=$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
		[[ -z $state || $state == Z ]] || fail "h$i left NF pid $pid behind, in state $state"
	done
	wait_for 5 "h$i's manager process ends" eval '! kill -0 ${HOST_PID[$i]} 2>/dev/null'
	gone_ms=$((($(date +%s%N) - start_ns) / 1000000))
	((gone_ms < 3000)) || fail "h$i's manager process ended $gone_ms ms after SIGINT"
	# shellcheck disable=SC2086
	wait_for 30 "h$i's NFs reaped" all_gone $children
	grep -q "did not stop; killing it" "${HOST_LOG[$i]}" && fail "an NF of h$i had to be killed at shutdown"
done
exit 0
