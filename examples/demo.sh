#!/usr/bin/env bash
# demo.sh - the main demo (single host, for now).
#
# A manager with one port, a load generator feeding the "slow thing" NF
# (service 2), and a monitor after it, on the MQTT bus of a project broker.
# The offered load rises step by step past what one slow_thing instance can
# carry; the manager's table, printed every second, shows its RX ring filling
# and packets being dropped.  Then a spawn command is sent on the bus, as a
# policy engine would, a second slow_thing instance starts, and the drops
# stop, because the flows spread over both instances.  The bus traffic is
# recorded as a trace.  Everything is cleaned up on exit and on Ctrl-C.
#
#   sudo examples/demo.sh [--build DIR] [--capacity PPS]   (one slow_thing's capacity)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build
CAPACITY=50000
while (($#)); do
	case $1 in
	--build) BUILD=$2; shift 2 ;;
	--capacity) CAPACITY=$2; shift 2 ;;
	*) echo "usage: $0 [--build DIR] [--capacity PPS]" >&2; exit 2 ;;
	esac
done

bash dp/setup-host.sh
cmake -S . -B "$BUILD" >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target onvm-mgr slow_thing monitor load_generator >/dev/null

PREFIX=onvmdemo
RUN=$(mktemp -d /tmp/onvm_demo.XXXXXX)
PIDS=()
cleanup() {
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
	sleep 1
	for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	bash mosquitto/stop-broker.sh --dir "$RUN/broker" >/dev/null 2>&1 || true
	rm -f /dev/hugepages/${PREFIX}map_* 2>/dev/null
	rm -rf "/var/run/dpdk/$PREFIX"
	mkdir -p run && cp "$RUN/bus.trace" run/demo-bus.trace 2>/dev/null &&
		echo "demo: the bus trace is in run/demo-bus.trace"
	rm -rf "$RUN"
	echo "demo: cleaned up"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$RUN/catalog.json" <<JSON
{"services": [
  {"id": 2, "name": "slow_thing", "exec": "$PWD/$BUILD/examples/slow_thing", "args": ["-c", "500", "-R", "$CAPACITY"]},
  {"id": 3, "name": "monitor", "exec": "$PWD/$BUILD/examples/monitor", "args": ["-e", "0"]},
  {"id": 9, "name": "load_generator", "exec": "$PWD/$BUILD/examples/load_generator",
   "args": ["-d", "2", "-f", "256", "-R", "0", "-F", "$RUN/rate"]}
]}
JSON
echo 0 >"$RUN/rate"

BROKER_PORT=${ONVM_DEMO_PORT:-18830}
bash mosquitto/start-broker.sh --dir "$RUN/broker" --port "$BROKER_PORT" h1
secret() { cat "$RUN/broker/secrets/$1.pass"; }
mosquitto_sub -p "$BROKER_PORT" -u monitor -P "$(secret monitor)" -v -F '%j' -t 'onvm/#' \
	>"$RUN/bus.trace" &
PIDS+=($!)

echo "demo: starting the manager (1 port: net_null0, a sink; chain: slow_thing -> monitor -> out)"
"$BUILD/onvm-mgr" -l 0,1 --file-prefix=$PREFIX --vdev=net_null0,no-rx=1 -- -c "$RUN/catalog.json" \
	-k 2-5 -s 2,3,9 -p "0:2,3>0" -t 1000 -f "$RUN/stats" -H h1 -b "tcp://127.0.0.1:$BROKER_PORT" \
	--bus-password-file "$RUN/broker/secrets/h1.pass" \
	> >(grep --line-buffered -v "^EAL\|^TELEMETRY") 2>&1 &
PIDS+=($!)
sleep 3

capacity=$CAPACITY
echo "demo: one slow_thing carries about $capacity pps"
for fraction in 25 50 100 150 200; do
	rate=$((capacity * fraction / 100))
	echo "demo: offered load -> $rate pps ($fraction% of one instance)"
	echo "$rate" >"$RUN/rate"
	sleep 4
done

echo "demo: sending a spawn command for service 2 on the bus (as a policy engine would)"
mosquitto_pub -p "$BROKER_PORT" -u policy -P "$(secret policy)" -q 1 -t onvm/hosts/h1/cmd \
	-m '{"v":1,"id":"demo-1","engine":"demo","op":"spawn","service":2,"count":1,"reason":"slow_thing drops packets"}'
sleep 6
echo "demo: final counters:"
cat "$RUN/stats"
echo "demo: what the bus carried about the command (see run/demo-bus.trace for all):"
grep -o '"topic":"onvm/hosts/h1/\(cmd\|events\)".*' "$RUN/bus.trace" | cut -c1-200
