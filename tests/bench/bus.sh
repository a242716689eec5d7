#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# bus.sh - what the bus costs and how fast it acts.
#
# 1. The manager's CPU cost of publishing stats every 100 ms for 64
#    instances: the CPU time of the manager's non-data-plane threads with 64 idle NFs,
#    on the bus at a 100 ms period, minus the same without the bus, in the
#    same run; as a share of one core.
# 2. Spawn latency: from mosquitto_pub of a spawn command to the manager's
#    "spawned" event, over RUNS runs: p50 and max.  Cold (a new NF process)
#    on plain loopback; and with a warm standby, where the bus is most of
#    the time, three ways in the same run: plain loopback (passwords), TLS
#    with client certificates, and through a bridge (the manager on broker
#    B, the command and the event crossing the bridge to and from broker A).
# 3. Connect time: a client's connect and subscribe (mosquitto_sub -E),
#    plain against TLS; and the delay a bridge adds to one message (seen on
#    A, then on B).
#
#   sudo tests/bench/bus.sh [RUNS] [SECONDS]      (defaults 7 and 15)
# Where a cold spawn's NF start goes, phase by phase: tests/bench/coldstart.sh
# (about half of it is EAL loading Debian's driver plugins; with
# -DONVM_DPDK_STATIC=ON cold-plain went from 78-92 to 51-55 ms here, load 7-12).
# Last line: spawn_ms_p50: <ms> (cold, plain loopback)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-7}
MEASURE_S=${2:-15}
BUILD=${ONVM_BUILD:-build}
NFS=64
PREFIX=onvmbenchbus_$$
TMP=$(mktemp -d /tmp/onvm_bench_bus.XXXXXX)
ncpu=$(nproc)

bash dp/setup-host.sh --no-packages >/dev/null
# Always the incremental build: a stale binary would measure old code.
[[ -f $BUILD/CMakeCache.txt ]] || cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j2 >/dev/null

PORT=$((30000 + RANDOM % 20000))
PORT_B=$((PORT + 10))
PIDS=()     # every process this run started in the background
PREFIXES=() # every --file-prefix it used
# started PID: remember a background process for cleanup.
started() { PIDS+=("$1"); }
cleanup() {
	local pid prefix deadline=$((SECONDS + 3))
	((${#PIDS[@]} == 0)) || kill -INT "${PIDS[@]}" 2>/dev/null || true
	for pid in "${PIDS[@]}"; do
		while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
		kill -9 "$pid" 2>/dev/null || true
	done
	for broker in "$TMP/broker-b" "$TMP/broker"; do
		bash mosquitto/stop-broker.sh --dir "$broker" >/dev/null 2>&1 || true
	done
	# Exactly this run's prefixes: "<prefix>map_<n>" is how EAL names them.
	for prefix in "${PREFIXES[@]}"; do
		rm -f /dev/hugepages/"$prefix"map_[0-9]*
		rm -rf "/var/run/dpdk/$prefix"
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
A=$TMP/broker
bash mosquitto/start-broker.sh --dir "$A" --port "$PORT" --tls "127.0.0.1:$((PORT + 2))" \
	h1 bridge:site-b >/dev/null
bash mosquitto/start-broker.sh --dir "$TMP/broker-b" --port "$PORT_B" --tls "127.0.0.1:$((PORT_B + 2))" \
	--bridge "127.0.0.1:$((PORT + 2))" --bridge-ca "$A/pki/ca.crt" --bridge-cert "$A/certs/site-b.crt" \
	--bridge-key "$A/certs/site-b.key" h2 >/dev/null
until grep -q "New bridge connected .* as site-b" "$A/mosquitto.log"; do sleep 0.1; done
# as BROKER_DIR IDENTITY COMMAND...: a mosquitto client with the identity's option file.
as() { local dir=$1 identity=$2; shift 2; XDG_CONFIG_HOME=$dir/clients/$identity "$@"; }
PLAIN=(-b "tcp://127.0.0.1:$PORT" --bus-password-file "$A/secrets/h1.pass")
tls_args() { # tls_args BROKER_DIR TLS_PORT IDENTITY
	echo "-b ssl://127.0.0.1:$2 --bus-ca $1/pki/ca.crt --bus-cert $1/certs/$3.crt --bus-key $1/certs/$3.key"
}

cat >"$TMP/catalog.json" <<JSON
{"services": [{"id": 1, "name": "bounce", "exec": "$PWD/$BUILD/examples/bounce"},
              {"id": 2, "name": "bounce_warm", "exec": "$PWD/$BUILD/examples/bounce", "warm": 1}]}
JSON

ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; } # microseconds to "12.3"

# p50_max VALUES...: "p50 max" of integers.
p50_max() {
	local sorted
	mapfile -t sorted < <(printf '%s\n' "$@" | sort -n)
	echo "${sorted[$(((${#sorted[@]} - 1) / 2))]} ${sorted[-1]}"
}

# spawn_runs LABEL SERVICE HOST MGR_BUS_ARGS...: RUNS spawns of SERVICE on a
# fresh manager HOST, commands published on broker A and events seen there;
# prints "LABEL: p50 P ms, max M ms" and sets P50.
spawn_runs() {
	local label=$1 service=$2 host=$3 log=$TMP/spawn-$1.log
	shift 3
	PREFIXES+=("${PREFIX}$label")
	"$BUILD/onvm-mgr" -l 0,1 --file-prefix="${PREFIX}$label" --vdev=net_null0,no-rx=1 -- \
		-c "$TMP/catalog.json" -k 2 -q -t 1000 -H "$host" "$@" >"$log" 2>&1 &
	local manager=$!
	started "$manager"
	until grep -qs "bus: connected" "$log"; do sleep 0.1; done
	env XDG_CONFIG_HOME="$A/clients/monitor" mosquitto_sub -t "onvm/hosts/$host/events" -F '%U %p' \
		>"$TMP/events-$label.log" &
	local watcher=$!
	started "$watcher"
	sleep 0.5
	local latencies=() run
	for run in $(seq 1 "$RUNS"); do
		if [[ $service == 2 ]]; then # a standby is ready: this is the bus, not a cold start
			until (($(grep -c "warm standby of service 2 ready" "$log") >= run)); do sleep 0.05; done
		fi
		local id="$label-$run" sent got line instance
		sent=$(date +%s%N)
		as "$A" policy mosquitto_pub -q 1 -t "onvm/hosts/$host/cmd" \
			-m "{\"v\":1,\"id\":\"$id\",\"engine\":\"bench\",\"op\":\"spawn\",\"service\":$service,\"count\":1,\"reason\":\"bench\"}"
		until grep -q "\"cmd_id\":\"$id\",\"event\":\"spawned\"" "$TMP/events-$label.log"; do sleep 0.002; done
		line=$(grep "\"cmd_id\":\"$id\",\"event\":\"spawned\"" "$TMP/events-$label.log")
		got=$(awk '{ split($1, t, "."); printf "%s%s", t[1], substr(t[2] "000000000", 1, 9) }' <<<"$line")
		instance=$(grep -o '"instance":[0-9]*' <<<"$line" | cut -d: -f2)
		latencies+=($(((got - sent) / 1000)))
		as "$A" policy mosquitto_pub -q 1 -t "onvm/hosts/$host/cmd" \
			-m "{\"v\":1,\"id\":\"$id-stop\",\"engine\":\"bench\",\"op\":\"stop\",\"service\":$service,\"instance\":$instance,\"reason\":\"bench\"}"
		until grep -q "\"cmd_id\":\"$id-stop\",\"event\":\"stopped\"" "$TMP/events-$label.log"; do sleep 0.01; done
	done
	kill -INT "$manager" "$watcher" 2>/dev/null || true
	wait "$manager" 2>/dev/null || true
	local p50 max
	read -r p50 max < <(p50_max "${latencies[@]}")
	printf '  %-22s p50 %s ms, max %s ms\n' "$label:" "$(ms "$p50")" "$(ms "$max")"
	P50=$p50
}

# connect_runs LABEL OPTION_DIR: RUNS connect-and-subscribe's; sets P50 (us).
connect_runs() {
	local label=$1 dir=$2 times=() run start
	for run in $(seq 1 "$RUNS"); do
		start=$(date +%s%N)
		XDG_CONFIG_HOME=$dir mosquitto_sub -E -t onvm/bench/x >/dev/null
		times+=($((($(date +%s%N) - start) / 1000)))
	done
	local p50 max
	read -r p50 max < <(p50_max "${times[@]}")
	printf '  %-22s p50 %s ms, max %s ms\n' "$label:" "$(ms "$p50")" "$(ms "$max")"
	P50=$p50
}

# CPU seconds (user + system) of a process's threads other than its polling
# data-plane lcores: the control thread, where stats are made and published,
# and paho's threads.  (The RX/TX lcore polls, so its time says nothing here.)
cpu_seconds() {
	local task total=0
	for task in /proc/"$1"/task/*; do
		grep -qE '^(lcore|rte)-worker' "$task/comm" 2>/dev/null && continue
		total=$(awk -v t="$total" -v hz="$(getconf CLK_TCK)" '{
			sub(/^.*\) /, ""); print t + ($12 + $13) / hz }' "$task/stat")
	done
	echo "$total"
}

# start_manager NAME [bus args...]: a manager with $NFS idle NFs started by hand.
start_manager() {
	local name=$1
	shift
	PREFIXES+=("$PREFIX$name")
	"$BUILD/onvm-mgr" -l 0,1 --file-prefix="$PREFIX$name" --vdev=net_null0,no-rx=1 -- \
		-k 2-3 -q -t 100 -f "$TMP/$name.stats" "$@" >"$TMP/$name.log" 2>&1 &
	MGR=$!
	started "$MGR"
	until grep -qs "onvm-mgr: up" "$TMP/$name.log"; do sleep 0.1; done
	for i in $(seq 1 $NFS); do
		# Over two services: a service has at most 32 instances on a host.
		"$BUILD/examples/bounce" --lcores=$((10 + i))@$((i % ncpu)) --proc-type=secondary \
			--file-prefix="$PREFIX$name" --no-pci --log-level=lib.eal:error -- -r $((1 + i % 2)) \
			>>"$TMP/$name.nfs.log" 2>&1 &
		started $!
	done
	local deadline=$((SECONDS + 120))
	until [[ $(grep -c "event spawned" "$TMP/$name.log") -ge $NFS ]]; do
		((SECONDS < deadline)) || {
			echo "NFs did not all register: $(grep -c "event spawned" "$TMP/$name.log") of $NFS" >&2
			grep -h "EAL\|nflib" "$TMP/$name.nfs.log" | sort | uniq -c | sort -rn | head -5 >&2
			exit 1
		}
		sleep 0.2
	done
	sleep 2
}

measure_cpu() {
	local before after
	before=$(cpu_seconds "$MGR")
	sleep "$MEASURE_S"
	after=$(cpu_seconds "$MGR")
	kill -INT "$MGR"
	wait "$MGR" 2>/dev/null || true
	awk -v a="$before" -v b="$after" -v s="$MEASURE_S" 'BEGIN { printf "%.3f\n", (b - a) / s * 100 }'
}

echo "bus bench: $RUNS runs each; then stats of $NFS instances every 100 ms (${MEASURE_S}s)"
echo "connect and subscribe (mosquitto_sub -E, a process each):"
connect_runs "plain loopback" "$A/clients/monitor"
connect_plain=$P50
connect_runs "TLS, certificate" "$A/clients/monitor.tls"
connect_tls=$P50
echo "spawn command -> spawned event:"
spawn_runs cold-plain 1 h1 "${PLAIN[@]}"
p50=$((P50 / 1000))
spawn_runs warm-plain 2 h1 "${PLAIN[@]}"
warm_plain=$P50
# shellcheck disable=SC2046
spawn_runs warm-tls 2 h1 $(tls_args "$A" $((PORT + 2)) h1)
warm_tls=$P50
# shellcheck disable=SC2046
spawn_runs warm-bridge 2 h2 $(tls_args "$TMP/broker-b" $((PORT_B + 2)) h2)
warm_bridge=$P50

# One message, published on A, seen by a subscriber on A and one on B.
env XDG_CONFIG_HOME="$A/clients/monitor" mosquitto_sub -t onvm/policy/bench -F '%U %p' >"$TMP/on-a.log" &
sub_a=$!
started "$sub_a"
env XDG_CONFIG_HOME="$TMP/broker-b/clients/monitor" mosquitto_sub -t onvm/policy/bench -F '%U %p' \
	>"$TMP/on-b.log" &
sub_b=$!
started "$sub_b"
sleep 0.5
for i in $(seq 1 50); do
	as "$A" policy mosquitto_pub -q 1 -t onvm/policy/bench -m "m$i"
done
until (($(wc -l <"$TMP/on-b.log") >= 50)); do sleep 0.05; done
kill "$sub_a" "$sub_b" 2>/dev/null || true
mapfile -t bridge_delays < <(join -1 2 -2 2 <(sort -k2 "$TMP/on-a.log") <(sort -k2 "$TMP/on-b.log") |
	awk '{ printf "%d\n", ($3 - $2) * 1000000 }')
read -r bridge_p50 bridge_max < <(p50_max "${bridge_delays[@]}")
echo "a message published on A, seen on B after it was seen on A: p50 $bridge_p50 us, max $bridge_max us (50 messages)"
awk -v p="$connect_plain" -v t="$connect_tls" -v wp="$warm_plain" -v wt="$warm_tls" -v wb="$warm_bridge" 'BEGIN {
	printf "tls_connect_ratio: %.2f (TLS %.1f ms against plain %.1f ms)\n", t / p, t / 1000, p / 1000
	printf "tls_spawn_ratio: %.2f (warm spawn over TLS %.1f ms against plain %.1f ms)\n", wt / wp, wt / 1000, wp / 1000
	printf "bridge_spawn_ratio: %.2f (warm spawn through a bridge %.1f ms against plain %.1f ms)\n", wb / wp, wb / 1000, wp / 1000
}'
MON_DIR=$A/clients/monitor

start_manager base
base=$(measure_cpu)
start_manager bus -H h1 "${PLAIN[@]}"
XDG_CONFIG_HOME=$MON_DIR mosquitto_sub -t onvm/hosts/h1/stats -C 5 -W 30 \
	>"$TMP/stats.sample" || { echo "no stats on the bus" >&2; exit 1; }
bus=$(measure_cpu)
size=$(tail -n 1 "$TMP/stats.sample" | wc -c)
echo "manager control CPU without the bus:   $base % of a core"
echo "manager control CPU with stats @100ms: $bus % of a core (stats message: $size bytes)"
awk -v a="$base" -v b="$bus" 'BEGIN { printf "stats_publish_cpu_pct: %.3f\n", b - a }'
echo "spawn_ms_p50: $p50"

