#!/usr/bin/env bash
# bus.sh - what the bus costs and how fast it acts.
#
# 1. The manager's CPU cost of publishing stats every 100 ms for 64
#    instances: the CPU time of the manager's non-data-plane threads with 64 idle NFs,
#    on the bus at a 100 ms period, minus the same without the bus, in the
#    same run; as a share of one core.
# 2. Spawn latency: from mosquitto_pub of a spawn command to the manager's
#    "spawned" event (a cold NF start), over RUNS runs: p50 and max.
#
#   sudo tests/bench/bus.sh [RUNS] [SECONDS]      (defaults 7 and 15)
# Last line: spawn_ms_p50: <ms>
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
[[ -x $BUILD/onvm-mgr ]] || { cmake -S . -B "$BUILD" >/dev/null && cmake --build "$BUILD" -j"$ncpu" >/dev/null; }

PORT=$((30000 + RANDOM % 20000))
cleanup() {
	pkill -f -- "-p $PORT -u monitor" 2>/dev/null || true
	pkill -INT -f -- "--file-prefix=$PREFIX" 2>/dev/null || true
	sleep 1
	pkill -9 -f -- "--file-prefix=$PREFIX" 2>/dev/null || true
	bash mosquitto/stop-broker.sh --dir "$TMP/broker" >/dev/null 2>&1 || true
	rm -f /dev/hugepages/${PREFIX}*map_* 2>/dev/null
	rm -rf /var/run/dpdk/${PREFIX}* "$TMP"
}
trap cleanup EXIT
bash mosquitto/start-broker.sh --dir "$TMP/broker" --port "$PORT" h1 >/dev/null
MON=$(cat "$TMP/broker/secrets/monitor.pass")
POL=$(cat "$TMP/broker/secrets/policy.pass")

cat >"$TMP/catalog.json" <<JSON
{"services": [{"id": 1, "name": "bounce", "exec": "$PWD/$BUILD/examples/bounce"}]}
JSON

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
	"$BUILD/onvm-mgr" -l 0,1 --file-prefix="$PREFIX$name" --vdev=net_null0,no-rx=1 -- \
		-k 2-3 -q -t 100 -f "$TMP/$name.stats" "$@" >"$TMP/$name.log" 2>&1 &
	MGR=$!
	until grep -q "onvm-mgr: up" "$TMP/$name.log"; do sleep 0.1; done
	for i in $(seq 1 $NFS); do
		# In a subshell, so the shell does not report each NF's end.
		("$BUILD/examples/bounce" --lcores=$((10 + i))@$((i % ncpu)) --proc-type=secondary \
			--file-prefix="$PREFIX$name" --no-pci --log-level=lib.eal:error -- -r 1 \
			>>"$TMP/$name.nfs.log" 2>&1 &)
	done
	local deadline=$((SECONDS + 120))
	until [[ $(grep -c "event spawned" "$TMP/$name.log") -ge $NFS ]]; do
		((SECONDS < deadline)) || { echo "NFs did not all register" >&2; exit 1; }
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

echo "bus bench: spawn latency over $RUNS runs, then stats of $NFS instances every 100 ms (${MEASURE_S}s)"
# Spawn latency: a fresh manager with one free core; spawn, wait, stop, repeat.
"$BUILD/onvm-mgr" -l 0,1 --file-prefix="${PREFIX}spawn" --vdev=net_null0,no-rx=1 -- \
	-c "$TMP/catalog.json" -k 2 -q -t 1000 -H h1 -b "tcp://127.0.0.1:$PORT" \
	--bus-password-file "$TMP/broker/secrets/h1.pass" >"$TMP/spawn.log" 2>&1 &
SPAWN_MGR=$!
until grep -q "bus: connected" "$TMP/spawn.log"; do sleep 0.1; done
mosquitto_sub -h 127.0.0.1 -p "$PORT" -u monitor -P "$MON" -t onvm/hosts/h1/events \
	-F '%U %p' >"$TMP/events.log" &
SUB=$!
sleep 0.5
latencies=()
for run in $(seq 1 "$RUNS"); do
	sent=$(date +%s%N)
	mosquitto_pub -h 127.0.0.1 -p "$PORT" -u policy -P "$POL" -q 1 -t onvm/hosts/h1/cmd \
		-m "{\"v\":1,\"id\":\"bench-$run\",\"engine\":\"bench\",\"op\":\"spawn\",\"service\":1,\"count\":1,\"reason\":\"bench\"}"
	until grep -q "\"cmd_id\":\"bench-$run\",\"event\":\"spawned\"" "$TMP/events.log"; do sleep 0.005; done
	line=$(grep "\"cmd_id\":\"bench-$run\",\"event\":\"spawned\"" "$TMP/events.log")
	got=$(awk '{ split($1, t, "."); printf "%s%s", t[1], substr(t[2] "000000000", 1, 9) }' <<<"$line")
	instance=$(grep -o '"instance":[0-9]*' <<<"$line" | cut -d: -f2)
	latencies+=($(((got - sent) / 1000000)))
	echo "  spawn $run: ${latencies[-1]} ms"
	mosquitto_pub -h 127.0.0.1 -p "$PORT" -u policy -P "$POL" -q 1 -t onvm/hosts/h1/cmd \
		-m "{\"v\":1,\"id\":\"bench-stop-$run\",\"engine\":\"bench\",\"op\":\"stop\",\"service\":1,\"instance\":$instance,\"reason\":\"bench\"}"
	until grep -q "\"cmd_id\":\"bench-stop-$run\",\"event\":\"stopped\"" "$TMP/events.log"; do sleep 0.01; done
	sleep 0.3
done
sorted=($(printf '%s\n' "${latencies[@]}" | sort -n))
p50=${sorted[$(((${#sorted[@]} - 1) / 2))]}
echo "spawn latency over $RUNS runs: p50 $p50 ms, max ${sorted[-1]} ms"
kill -INT "$SPAWN_MGR" "$SUB" 2>/dev/null || true
wait "$SPAWN_MGR" 2>/dev/null || true

start_manager base
base=$(measure_cpu)
start_manager bus -H h1 -b "tcp://127.0.0.1:$PORT" --bus-password-file "$TMP/broker/secrets/h1.pass"
mosquitto_sub -h 127.0.0.1 -p "$PORT" -u monitor -P "$MON" -t onvm/hosts/h1/stats -C 5 -W 30 \
	>"$TMP/stats.sample" || { echo "no stats on the bus" >&2; exit 1; }
bus=$(measure_cpu)
size=$(tail -n 1 "$TMP/stats.sample" | wc -c)
echo "manager control CPU without the bus:   $base % of a core"
echo "manager control CPU with stats @100ms: $bus % of a core (stats message: $size bytes)"
awk -v a="$base" -v b="$bus" 'BEGIN { printf "stats_publish_cpu_pct: %.3f\n", b - a }'
echo "spawn_ms_p50: $p50"

