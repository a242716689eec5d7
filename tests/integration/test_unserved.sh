#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Unserved demand: packets for a service no host has an instance of are
# dropped and listed in the manager's stats as "unserved" with their rate,
# whether the manager dropped them on port RX (the port's first service has no
# instance) or an NF handed them over (the next service of its chain has
# none).  Once an instance runs, its traffic reaches it and the entry goes
# away.  The manager logs one line when a service begins to be unserved and
# one when it has ceased.  Hand-offs an NF forges count only for a real
# service with no instance, and only as many as the manager got.
source "$(dirname "$0")/lib.sh"
onvm_test_init unserved

onvm_start_broker h1
onvm_veth "ou$$a" "ou$$b"
onvm_catalog "$ONVM_TMP/catalog.json"
# Port 0's traffic goes through simple_forward (3), then forward_b (4), and
# back out; neither runs yet.
onvm_start_mgr mgr -l 0,1 --vdev="net_af_packet0,iface=ou$$a,qpairs=1,framecnt=4096" -- \
	-c "$ONVM_TMP/catalog.json" -k 2-3 -p "0:3,4>0" $(onvm_bus_args h1)
onvm_watch stats 'onvm/hosts/h1/stats'
onvm_watch events 'onvm/hosts/h1/events'

# The "unserved" list of the latest stats message, e.g. [{"service":3,"pps":2000}].
unserved() {
	tail -n 1 "$ONVM_TMP/stats.log" | grep -o '"unserved":\[[^]]*\]' | cut -d: -f2-
}
# Whether the latest list is exactly one service with pps > 0: only_unserved SERVICE.
only_unserved() {
	[[ $(unserved) =~ ^\[\{\"service\":$1,\"pps\":[1-9][0-9.e+]*\}\]$ ]]
}
spawn() {
	onvm_command h1 "{\"v\":1,\"id\":\"t-unserved-$1\",\"engine\":\"test\",\"op\":\"spawn\",\"service\":$1,\"count\":1,\"reason\":\"integration test\"}"
	wait_for 10 "service $1 spawned" grep -q "\"cmd_id\":\"t-unserved-$1\",\"event\":\"spawned\"" "$ONVM_TMP/events.log"
}

wait_for 10 "stats on the bus" grep -q '"seq"' "$ONVM_TMP/stats.log"
[[ -n $(unserved) ]] || fail "stats have no unserved list: $(tail -n 1 "$ONVM_TMP/stats.log")"

# Steady light traffic for the whole test (the cleanup stops it).
onvm_spawn traffic "$ONVM_BUILD/pktio" send "ou$$b" 100000000 16 64 2000

# 1. Port RX: service 3 has no instance anywhere.
wait_for 10 "stats list service 3 as unserved" only_unserved 3
onvm_log "unserved while nothing runs: $(unserved)"
wait_for 5 "the log says service 3 is unserved" grep -q "service 3 is unserved" "$MGR_LOG"
(($(mgr_counter "$MGR_STATS" port 0 drops) > 0)) || fail "the port counts no drops"

# 2. An NF's next step: simple_forward takes the traffic, forward_b (4) has no instance.
spawn 3
wait_for 10 "stats list service 4, and only 4, as unserved" only_unserved 4
onvm_log "unserved with service 3 running: $(unserved)"
first=$(instances_of "$MGR_STATS" 3)
(($(mgr_counter "$MGR_STATS" instance "$first" rx) > 0)) || fail "service 3's instance got no traffic"
wait_for 5 "the log says service 4 is unserved" grep -q "service 4 is unserved" "$MGR_LOG"
wait_for 5 "the log says service 3 ceased to be" grep -q "service 3 no longer unserved" "$MGR_LOG"

# 3. Both run: the traffic is served end to end and nothing is unserved.
spawn 4
wait_for 10 "stats list nothing unserved" eval '[[ $(unserved) == "[]" ]]'
second=$(instances_of "$MGR_STATS" 4)
[[ -n $second ]] || fail "no instance of service 4 in the stats"
rx=$(mgr_counter "$MGR_STATS" instance "$second" rx)
wait_for 5 "service 4's instance keeps getting traffic" eval '(($(mgr_counter "$MGR_STATS" instance "$second" rx) > rx))'
tx=$(mgr_counter "$MGR_STATS" port 0 tx)
wait_for 5 "the traffic leaves by port 0" eval '(($(mgr_counter "$MGR_STATS" port 0 tx) > tx))'
# While the traffic goes on, ten more periods (100 ms each) list nothing.
from=$(wc -l <"$ONVM_TMP/stats.log")
wait_for 10 "ten more stats messages" eval '(($(wc -l <"$ONVM_TMP/stats.log") >= from + 10))'
listed=$(tail -n +"$((from + 1))" "$ONVM_TMP/stats.log" | grep -c '"unserved":\[{' || true)
((listed == 0)) || fail "$listed stats messages still list unserved services while both run"
wait_for 5 "the log says service 4 ceased to be" grep -q "service 4 no longer unserved" "$MGR_LOG"
[[ $(grep -c "is unserved" "$MGR_LOG") -eq 2 ]] || fail "expected one 'is unserved' line per service: $(grep "unserved" "$MGR_LOG")"

# 4. Forged hand-offs: tags naming no service (0, 256, 0x7fff) or a service
# that runs (the forger's own 5, and 3) are dropped uncounted; service 2,
# which has no instance, counts exactly the packets the manager got.
from=$(wc -l <"$ONVM_TMP/stats.log")
onvm_spawn forger "$ONVM_BUILD/hostile_nf" $(onvm_nf_eal 12) -- -r 5 -- \
	--forge-unserved 100 0 256 32767 5 3 2
wait_for 10 "the forger forged" grep -q "forged 600" "$ONVM_TMP/forger.log"
# Lists after the forger started, one a line, and service 2's packets in them.
lists_since() { tail -n +"$((from + 1))" "$ONVM_TMP/stats.log" | grep -o '"period_ms":[0-9]*\|"unserved":\[[^]]*\]'; }
service2_pkts() {
	lists_since | awk -F'[:,{}]' '
		/period_ms/ { period = $2 }
		/"service":2,/ { for (i = 1; i < NF; i++) if ($i == "\"pps\"") sum += $(i + 1) * period / 1000 }
		END { printf "%.0f\n", sum }'
}
wait_for 5 "stats count service 2's 100 packets" eval '(($(service2_pkts) >= 100))'
# Five periods more, for a late count to show.
mark=$(wc -l <"$ONVM_TMP/stats.log")
wait_for 5 "five more stats messages" eval '(($(wc -l <"$ONVM_TMP/stats.log") >= mark + 5))'
(($(service2_pkts) == 100)) || fail "service 2 counted $(service2_pkts) unserved packets, sent 100"
others=$(lists_since | grep '"unserved"' | grep -v '^"unserved":\[\]$' | grep -v '^"unserved":\[{"service":2,"pps":[0-9.e+]*}\]$' || true)
[[ -z $others ]] || fail "forged tags were counted: $others"
kill -0 "$MGR_PID" 2>/dev/null || fail "the manager died"
! grep -q "cannot encode stats" "$MGR_LOG" || fail "a stats message could not be encoded"
