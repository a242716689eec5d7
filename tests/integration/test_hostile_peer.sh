#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A host describes only itself, and is checked.  h3 holds a valid host
# credential and lies on the bus (mosquitto_pub as h3); h2 is an honest
# peer, also played by mosquitto_pub.  h1's manager, tunnel port on a veth
# (10.250.0.1, fabric 10.250.0.0/24), must:
#   - ignore each bad tunnel endpoint h3 claims (loopback, 0.0.0.0,
#     multicast, broadcast, outside the fabric, a broadcast or multicast MAC,
#     a UDP port other than 4789, h2's address), with a log line, and take
#     none of h3's instances as members, while a valid endpoint is taken;
#   - ignore a services message listing more running instances than the
#     host has cores;
#   - decapsulate VXLAN only from an accepted peer's address: forged frames
#     from elsewhere, and frames for a VNI that is not in the tunnel port's
#     chain, are counted as rx_rejects and reach no service.
source "$(dirname "$0")/lib.sh"
onvm_test_init hostile_peer
onvm_start_broker h1 h2 h3
onvm_catalog "$ONVM_TMP/catalog.json"
LINK=ohp$(($$ % 100000))
onvm_veth "${LINK}a" "${LINK}b"
onvm_watch h1state 'onvm/hosts/h1/state'
onvm_watch h1stats 'onvm/hosts/h1/stats'
# shellcheck disable=SC2046
onvm_start_mgr h1 -l 0,1 --vdev=net_null0,no-rx=1 --vdev="net_af_packet0,iface=${LINK}a" -- \
	-c "$ONVM_TMP/catalog.json" -k 2-3 -T 1:10.250.0.1 -p '0:2>0' -p '1:2>0' $(onvm_bus_args h1)
wait_for 10 "manager connected" grep -q "bus: connected" "$MGR_LOG"

# says HOST TOPIC RETAIN PAYLOAD: publish as that host's identity.
says() {
	local retain=()
	[[ $3 == retained ]] && retain=(-r)
	as_identity "$1" mosquitto_pub -q 1 "${retain[@]}" -t "onvm/hosts/$1/$2" -m "$4" ||
		fail "could not publish $1/$2"
}
# state_of HOST IP MAC PORT [TOTAL_CORES]
state_of() {
	local t
	t=$(now_ms)
	says "$1" state retained "{\"v\":1,\"host\":\"$1\",\"status\":\"online\",\"epoch\":$t,\"ts_ms\":$t,\"cores\":{\"total\":${5:-2},\"free\":0},\"tunnel\":{\"ip\":\"$2\",\"mac\":\"$3\",\"udp_port\":$4}}"
}
# services_of HOST COUNT: COUNT running instances of service 2.
services_of() {
	local instances="" i
	for ((i = 1; i <= $2; i++)); do
		instances+="${instances:+,}{\"instance\":$i,\"core\":$((i + 1)),\"state\":\"running\"}"
	done
	says "$1" services retained "{\"v\":1,\"host\":\"$1\",\"ts_ms\":$(now_ms),\"services\":{\"2\":[$instances]}}"
}
# Keep h2's and h3's stats fresh, as a live manager would.
cat >"$ONVM_TMP/fresh.sh" <<'SH'
for ((seq = 1; ; seq++)); do
	for host in h2 h3; do
		now=$(($(date +%s%N) / 1000000))
		XDG_CONFIG_HOME=$CLIENTS/$host$SUFFIX mosquitto_pub -q 0 -t "onvm/hosts/$host/stats" \
			-m "{\"v\":1,\"host\":\"$host\",\"ts_ms\":$now,\"seq\":$seq,\"period_ms\":500,\"ports\":[],\"instances\":[]}"
	done
	sleep 0.3
done
SH
onvm_spawn fresh env CLIENTS="$BROKER_DIR/clients" SUFFIX="$ONVM_CLIENT_SUFFIX" bash "$ONVM_TMP/fresh.sh"
joined() { grep -c "peers: $1's instance .* of service 2 joins" "$MGR_LOG"; }
refusals() { grep -c "peers: ignoring h3's $1" "$MGR_LOG"; }

# The honest peer first: its endpoint is taken, and later claims of its
# address by h3 are refused.
state_of h2 10.250.0.2 02:00:0a:fa:00:02 4789
services_of h2 1
wait_for 10 "h2's instance joins h1's map" eval '(( $(joined h2) == 1 ))'

# h3 lists one running instance, then claims one bad endpoint after another.
services_of h3 1
bad_endpoints=(
	"127.0.0.1 02:00:0a:fa:00:03 4789 loopback"
	"0.0.0.0 02:00:0a:fa:00:03 4789 unspecified"
	"224.0.0.5 02:00:0a:fa:00:03 4789 multicast"
	"255.255.255.255 02:00:0a:fa:00:03 4789 broadcast"
	"10.250.0.255 02:00:0a:fa:00:03 4789 the fabric's broadcast"
	"10.99.0.3 02:00:0a:fa:00:03 4789 outside the fabric"
	"192.0.2.1 02:00:0a:fa:00:03 4789 a third party"
	"10.250.0.1 02:00:0a:fa:00:03 4789 h1's own address"
	"10.250.0.3 ff:ff:ff:ff:ff:ff 4789 broadcast MAC"
	"10.250.0.4 03:00:0a:fa:00:03 4789 multicast MAC"
	"10.250.0.5 00:00:00:00:00:00 4789 no MAC"
	"10.250.0.3 02:00:0a:fa:00:03 9999 another UDP port"
	"10.250.0.2 02:00:0a:fa:00:33 4789 h2's address"
	"10.250.0.33 02:00:0a:fa:00:02 4789 h2's MAC"
)
for claim in "${bad_endpoints[@]}"; do
	read -r ip mac port what <<<"$claim"
	before=$(refusals "tunnel endpoint")
	state_of h3 "$ip" "$mac" "$port"
	wait_for 10 "h3's endpoint refused: $what ($ip $mac $port)" \
		eval '(( $(refusals "tunnel endpoint") > before ))'
	onvm_log "refused $what: $(grep "peers: ignoring h3's tunnel endpoint" "$MGR_LOG" | tail -n 1 | sed 's/.*: ignoring //')"
done
# Each claim was heard (the refusal) and, with the peers re-applied at
# least once since (two stats periods), none of h3's instances joined.
seq_now=$(stat_header "$MGR_STATS" seq)
wait_for 10 "two more stats periods" eval '(( $(stat_header "$MGR_STATS" seq)+0 >= seq_now + 2 ))'
(($(joined h3) == 0)) || fail "an instance behind a bad endpoint joined: $(grep "h3's instance" "$MGR_LOG")"
[[ $(tunnel_stat "$MGR_STATS" encapsulated) -eq 0 ]] || fail "h1 sent VXLAN to a bad endpoint"

# More running instances than cores: believed for none of them.  The map
# comes first, so a valid endpoint afterwards has nothing to take.
services_of h3 40
wait_for 10 "h3's 40 instances on 2 cores refused" eval '(( $(refusals services) >= 1 ))'
onvm_log "refused: $(grep -m1 "peers: ignoring h3's services" "$MGR_LOG" | sed 's/.*: ignoring //')"
seq_now=$(stat_header "$MGR_STATS" seq)
wait_for 10 "two more stats periods" eval '(( $(stat_header "$MGR_STATS" seq)+0 >= seq_now + 2 ))'
state_of h3 10.250.0.3 02:00:0a:fa:00:03 4789 2
seq_now=$(stat_header "$MGR_STATS" seq)
wait_for 10 "two more stats periods" eval '(( $(stat_header "$MGR_STATS" seq)+0 >= seq_now + 2 ))'
(($(joined h3) == 0)) || fail "h3's instances joined although it has 2 cores for 40"

# The same host with a valid endpoint and a believable map is taken: the
# refusals above are the checks, not a deaf manager.
services_of h3 1
wait_for 10 "h3's one instance joins once its claims are sound" eval '(( $(joined h3) == 1 ))'

# VXLAN ingress.  Service 2 has no local instance, so an accepted frame is
# counted as rx_no_instance and a refused one as rx_rejects.
mac=$(grep -o '"mac":"[0-9a-f:]*"' "$ONVM_TMP/h1state.log" | tail -n 1 | cut -d'"' -f4)
[[ -n $mac ]] || fail "h1's state names no tunnel MAC"
ingress() { # ingress SRC_IP VNI COUNT: wait until COUNT frames have been counted
	local count=$3 rejects=$(($(tunnel_stat "$MGR_STATS" rx_rejects))) unserved=$(($(tunnel_stat "$MGR_STATS" rx_no_instance)))
	"$ONVM_BUILD/pktio" vxlan "${LINK}b" "$3" "$mac" "$1" 10.250.0.1 "$2" >/dev/null ||
		fail "pktio could not send"
	wait_for 10 "$3 frames from $1 (VNI $2) counted" eval \
		'(( $(tunnel_stat "$MGR_STATS" rx_rejects) + $(tunnel_stat "$MGR_STATS" rx_no_instance) >= rejects + unserved + count ))'
	INGRESS_REJECTED=$(($(tunnel_stat "$MGR_STATS" rx_rejects) - rejects))
	INGRESS_ACCEPTED=$(($(tunnel_stat "$MGR_STATS" rx_no_instance) - unserved))
	onvm_log "from $1, VNI $2: $INGRESS_ACCEPTED accepted, $INGRESS_REJECTED rejected"
}
ingress 10.250.0.2 2 50
((INGRESS_ACCEPTED == 50)) || fail "frames from the peer h2 were not accepted"
ingress 10.250.0.77 2 50
((INGRESS_ACCEPTED == 0 && INGRESS_REJECTED == 50)) || fail "forged frames from 10.250.0.77 were accepted"
ingress 10.250.0.2 3 50
((INGRESS_ACCEPTED == 0 && INGRESS_REJECTED == 50)) || fail "VNI 3, not in the tunnel chain, was accepted"
[[ $(tunnel_stat "$MGR_STATS" decapsulated) -eq 0 ]] || fail "a frame reached a service"

# Every refusal is counted where operators look: h1's stats on the bus.  A
# malformed message from h3 is counted as a bus reject.
says h3 state not-retained '{"v":1,"host":"h3","status":"online","cores":{"total":"many"}}'
bus_count() { grep -o "\"$1\":[0-9]*" "$ONVM_TMP/h1stats.log" | tail -n 1 | cut -d: -f2; }
wait_for 10 "h1's stats count the malformed message" eval '(( $(bus_count bus_rejects)+0 >= 1 ))'
(($(bus_count peer_endpoint_rejects) >= ${#bad_endpoints[@]})) ||
	fail "h1's stats count $(bus_count peer_endpoint_rejects) endpoint refusals, not ${#bad_endpoints[@]}"
(($(bus_count peer_services_rejects) >= 1)) || fail "h1's stats do not count the services refusal"
onvm_log "h1's stats: bus_rejects $(bus_count bus_rejects), peer_endpoint_rejects" \
	"$(bus_count peer_endpoint_rejects), peer_services_rejects $(bus_count peer_services_rejects)"
kill -0 "$MGR_PID" || fail "the manager died"
