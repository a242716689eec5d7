#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Warm standbys (catalog "warm": 1): the manager keeps one slow_thing started
# and idle, invisible on the bus and holding no core.  A spawn switches it on
# at once (its event names the command; it gets traffic; a core is taken)
# and a new standby is started behind it.  A standby that dies is replaced
# without an "exited" event; the manager's exit takes standbys with it.
source "$(dirname "$0")/lib.sh"
onvm_test_init warm_standby

onvm_start_broker h1
cat >"$ONVM_TMP/catalog.json" <<JSON
{"services": [
  {"id": 2, "name": "slow_thing", "exec": "$ONVM_BUILD/examples/slow_thing", "args": ["-c", "0"], "warm": 1},
  {"id": 9, "name": "load_generator", "exec": "$ONVM_BUILD/examples/load_generator",
   "args": ["-d", "2", "-p", "0", "-f", "64", "-R", "2000"]}
]}
JSON
onvm_watch bus 'onvm/hosts/h1/#'
onvm_start_mgr mgr -l 0,1 --vdev=net_null0,no-rx=1 -- -c "$ONVM_TMP/catalog.json" -k 2-4 \
	-p '0:2>0' -s 9 $(onvm_bus_args h1)
standby_pids() {
	pgrep -f -- "--file-prefix=$ONVM_PREFIX .* -r 2 " | while read -r pid; do
		grep -q "^$pid$" <(onvm_nfs_of "$MGR_PID") && echo "$pid"
	done
}
wait_for 20 "a warm standby ready" grep -q "warm standby of service 2 ready" "$MGR_LOG"
first_standby=$(standby_pids)
[[ $(wc -w <<<"$first_standby") -eq 1 ]] || fail "expected one standby process, found: $first_standby"
wait_for 5 "state published" grep -q 'h1/state {.*"free":2' "$ONVM_TMP/bus.log"
grep -q 'h1/services {.*"2":' "$ONVM_TMP/bus.log" && fail "the standby was published as an instance"
[[ $(instances_of "$MGR_STATS" 2 | wc -l) -eq 0 ]] || fail "the standby has stats like an instance"

onvm_command h1 '{"v":1,"id":"t-warm-1","engine":"test","op":"spawn","service":2,"count":1,"reason":"test"}'
wait_for 5 "spawned event for the command" \
	grep -q '"cmd_id":"t-warm-1","event":"spawned","service":2,"instance":2' "$ONVM_TMP/bus.log"
grep -q "switched on the warm standby of slow_thing" "$MGR_LOG" || fail "it was not the standby that started"
[[ $(grep -c "spawning slow_thing" "$MGR_LOG") -eq 0 ]] || fail "a cold start happened"
wait_for 5 "one core fewer" grep -q 'h1/state {.*"free":1' "$ONVM_TMP/bus.log"
wait_for 5 "the switched-on standby gets traffic" eval '(( $(mgr_counter "$MGR_STATS" instance 2 rx)+0 > 0 ))'
wait_for 20 "a new standby behind it" eval '[[ $(grep -c "warm standby of service 2 ready" "$MGR_LOG") -eq 2 ]]'
second_standby=$(standby_pids | grep -v -x "$first_standby")
[[ -n $second_standby ]] || fail "no new standby process"
# NFs inherit none of the manager's descriptors (this one was started after
# the manager connected): with its broker connection the broker would not
# notice the manager's death while an NF lives.
ss -tnp | grep -q "pid=$second_standby," &&
	fail "an NF holds a TCP socket of the manager: $(ss -tnp | grep "pid=$second_standby,")"
# Moved to the CPU of the core it was given (lcore N runs on CPU N % CPUs).
core=$(grep -o '"cmd_id":"t-warm-1",.*"core":[0-9]*' "$ONVM_TMP/bus.log" | sed 's/.*"core"://')
cpu=$((core % $(nproc)))
allowed=$(taskset -pc "$first_standby" | sed 's/.*: //')
[[ $allowed == "$cpu" ]] || fail "switched-on standby runs on CPUs $allowed, not $cpu (core $core)"

# Stop the switched-on instance: its slot is free again.
onvm_command h1 '{"v":1,"id":"t-warm-2","engine":"test","op":"stop","service":2,"instance":2,"reason":"test"}'
wait_for 5 "instance 2 stopped" grep -q '"cmd_id":"t-warm-2","event":"stopped"' "$ONVM_TMP/bus.log"

# A standby that dies is replaced, quietly; the replacement takes the slot
# the stopped instance left, and nothing of that instance (its stop request)
# may reach it.
kill -9 "$second_standby"
# A zombie until the manager reaps it: only its state tells it is dead.
proc_state() { awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
wait_for 10 "the standby process died" eval '[[ $(proc_state "$second_standby") =~ ^(Z|)$ ]]'
wait_for 10 "the dead standby noticed" grep -q "warm standby of service 2 ended" "$MGR_LOG"
wait_for 20 "replaced" eval '[[ $(grep -c "warm standby of service 2 ready" "$MGR_LOG") -eq 3 ]]'
sleep 1 # a standby that inherited the stop request would end within milliseconds
[[ $(grep -c "warm standby of service 2 ended" "$MGR_LOG") -eq 1 ]] ||
	fail "the new standby ended: $(grep -c 'ended' "$MGR_LOG") standbys ended"
grep -q '"event":"exited"' "$ONVM_TMP/bus.log" && fail "a standby's death was published"

kill -INT "$MGR_PID"
wait_for 10 "manager exits" eval '! kill -0 "$MGR_PID" 2>/dev/null'
wait_for 5 "no NF left" eval '[[ -z $(pgrep -f -- "--file-prefix=$ONVM_PREFIX ") ]]'
