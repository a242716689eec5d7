#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# dashboard.sh - the dashboard's frame rate and CPU at scale: a broker, a
# generated bus of HOSTS hosts x INSTS instances with stats every PERIOD ms
# (dashboard_stream.js), and the page in headless Chromium
# (dashboard_bench.js) measured for SECONDS.  Prints the figures; the last
# line is the frame rate.  A screenshot goes to run/dashboard-bench.png.
#
#   sudo tests/bench/dashboard.sh [SECONDS]   (default 20; HOSTS=200 INSTS=8 PERIOD=100)
# Last line: dashboard_fps: <frames a second>
set -uo pipefail
cd "$(dirname "$0")/../.."
SECONDS_MEASURED=${1:-20}
HOSTS=${HOSTS:-200}
INSTS=${INSTS:-8}
PERIOD=${PERIOD:-100}
export ONVM_BUILD=${ONVM_BUILD:-$PWD/build}
source tests/integration/lib.sh
onvm_bench_init bench_dashboard

NODE_DIR=$ONVM_BUILD/node
if [[ ! -d $NODE_DIR/node_modules/playwright-core || ! -d $NODE_DIR/node_modules/mqtt ]]; then
	npm install --silent --no-audit --no-fund --prefix "$NODE_DIR" playwright-core mqtt \
		>"$ONVM_TMP/npm.log" 2>&1 || fail "npm install failed: $(tail -n 5 "$ONVM_TMP/npm.log")"
fi
export NODE_PATH=$NODE_DIR/node_modules

# The stream publishes every host's topics: an identity that may write onvm/#.
onvm_start_broker bridge:stream
onvm_spawn stream node tests/bench/dashboard_stream.js "mqtt://127.0.0.1:$BROKER_PORT" stream \
	"$BROKER_DIR/secrets/stream.pass" "$HOSTS" "$INSTS" "$PERIOD"
wait_for 20 "the stream is publishing" grep -q '^streaming' "$ONVM_TMP/stream.log"

mkdir -p run
echo "publisher: $HOSTS hosts x $INSTS instances, stats every $PERIOD ms" \
	"($((HOSTS * 1000 / PERIOD)) stats messages a second)"
DASH_URL=http://127.0.0.1:$((BROKER_PORT + 1))/ DASH_MONITOR_PASS=$BROKER_DIR/secrets/monitor.pass \
	DASH_HOSTS=$HOSTS DASH_SHOT=$PWD/run/dashboard-bench.png \
	timeout $((SECONDS_MEASURED + 120)) node tests/bench/dashboard_bench.js "$SECONDS_MEASURED" |
	tee "$ONVM_TMP/bench.out" | grep -v '^dashboard_fps:' || fail "dashboard_bench.js failed"
echo "publisher, its last 10 s: $(grep '^published' "$ONVM_TMP/stream.log" | tail -n 1)"
grep '^dashboard_fps:' "$ONVM_TMP/bench.out"
