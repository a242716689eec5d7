#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# onvm-top on a real broker, watching service 5 fed by generator 6 (not the
# defaults) with the policy's option --periods 1: h1's ring fills, drains
# through 0.95 and 0.9 and then holds at 0.9. The overload onset of the
# scale-out is where the ring held (as the policy's view says), not where it
# first filled; unserved demand of service 5 on h2 shows in h2's column and
# in the totals; a decision with no origin is listed as a repair.
source "$(dirname "$0")/lib.sh"
onvm_test_init top_live

onvm_start_broker h1 h2
# shellcheck disable=SC2046
onvm_spawn top "$ONVM_BUILD/onvm-top" $(onvm_client_args monitor) -s 5 -g 6 --periods 1 -i 200
TOP_PID=$LAST_PID
TOP_LOG=$ONVM_TMP/top.log

# publish IDENTITY TOPIC PAYLOAD [-r] (QoS 1: in order, none lost)
publish() {
	as_identity "$1" mosquitto_pub -q 1 -t "onvm/$2" -m "$3" "${@:4}" ||
		fail "could not publish on $2"
}

# The host's state is retained: once onvm-top tells it, it is subscribed.
publish h1 hosts/h1/state "{\"v\":1,\"host\":\"h1\",\"status\":\"online\",\"epoch\":1,\"ts_ms\":$(now_ms),\"cores\":{\"total\":3,\"free\":1}}" -r
wait_for 10 "onvm-top subscribed" grep -q "h1: online, 1 of 3 NF cores free" "$TOP_LOG"
publish h2 hosts/h2/state "{\"v\":1,\"host\":\"h2\",\"status\":\"online\",\"epoch\":1,\"ts_ms\":$(now_ms),\"cores\":{\"total\":3,\"free\":3}}"
publish h1 hosts/h1/services '{"v":1,"host":"h1","ts_ms":1,"services":{"5":[{"instance":3,"core":2,"state":"running"}],"6":[{"instance":1,"core":1,"state":"running"}]}}'

BASE=$(now_ms)
# h1_stats SEQ FILL: one report, 500 ms after the previous one by its ts_ms.
h1_stats() {
	publish h1 hosts/h1/stats "{\"v\":1,\"host\":\"h1\",\"ts_ms\":$((BASE + 500 * $1)),\"seq\":$1,\"period_ms\":500,\"ports\":[],\"instances\":[{\"instance\":3,\"service\":5,\"core\":2,\"rx_pps\":7000,\"tx_pps\":7000,\"drop_pps\":0,\"ring_fill\":$2,\"busy\":1},{\"instance\":1,\"service\":6,\"core\":1,\"rx_pps\":0,\"tx_pps\":7000,\"drop_pps\":0,\"ring_fill\":0,\"busy\":1}]}"
}
seq=0
for fill in 0.1 1.0 0.95 0.9 0.9; do
	seq=$((seq + 1))
	h1_stats "$seq" "$fill"
done
# Overloaded at seq 2, calm while the ring drains, overloaded again at seq 5.
# shellcheck disable=SC2016 # expanded by eval, on every try
wait_for 10 "the second overload" eval '(( $(grep -c "h1: service 5 overloaded since" "$TOP_LOG") == 2 ))'
grep -q "h1: service 5 calm again" "$TOP_LOG" || fail "the draining ring was not calm"
publish policy policy/decisions "{\"v\":1,\"engine\":\"pe-a\",\"ts_ms\":$((BASE + 2600)),\"service\":5,\"origin\":\"h1\",\"target\":\"h2\",\"cmd_id\":\"pe-a-1\",\"reason\":\"service 5 overloaded on h1; h2 has free cores\",\"shadow\":false}"
publish h2 hosts/h2/stats "{\"v\":1,\"host\":\"h2\",\"ts_ms\":$((BASE + 2700)),\"seq\":1,\"period_ms\":500,\"ports\":[],\"instances\":[],\"unserved\":[{\"service\":5,\"pps\":4000},{\"service\":2,\"pps\":100}]}"
wait_for 10 "h2's unserved demand told" grep -q "h2: service 5 unserved: 4000 pps" "$TOP_LOG"
# A row: h1 3 cores 1 free, 1 instance at 7.0k; h2 no instance, 4.0k unserved.
# Offered: 7000 sent by the generator plus 4000 unserved; dropped: the 4000.
wait_for 10 "a row with h2's unserved column" \
	grep -Eq '^ +[0-9.]+  11.0k   7.0k   4.0k   1 \|  1/3    1  7.0k     -  3/3    0     0  4.0k$' "$TOP_LOG"
publish policy policy/decisions "{\"v\":1,\"engine\":\"pe-a\",\"ts_ms\":$((BASE + 2800)),\"service\":5,\"origin\":null,\"target\":\"h2\",\"cmd_id\":\"pe-a-2\",\"reason\":\"below min 1\",\"shadow\":false}"
wait_for 10 "the repair told" grep -q "decision: repair: spawn service 5 on h2: below min 1" "$TOP_LOG"

kill -INT "$TOP_PID"
wait_for 10 "onvm-top's summary" grep -q "1 scale-outs, 1 repairs, 0 no-capacity decisions" "$TOP_LOG"
# The ring filled at seq 2 (+1000 by ts_ms) and held from seq 5 (+2500): the
# onset is +2500, 100 ms before the decision.
grep -q "^scale-out 1: service 5 h1 -> h2 (remote) onset->decision 100 ms," "$TOP_LOG" ||
	fail "the onset is not where the ring held: $(grep '^scale-out 1' "$TOP_LOG")"
grep -q "^repair 1: service 5 -> h2 (loss not seen, decided at +[0-9.]* s), command pe-a-2:" \
	"$TOP_LOG" || fail "no repair line"
grep -q "service 2" "$TOP_LOG" && fail "service 2 is not watched, yet onvm-top told of it"
kill -0 "$TOP_PID" 2>/dev/null && fail "onvm-top did not end at SIGINT"
exit 0
