#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The dashboard (mosquitto/dashboard) in a real browser: headless Chromium
# driven by dashboard_check.js (playwright-core) against a live cluster:
# the broker serving the page, two hosts, the policy.  h1 runs a load
# generator and one slow_thing and has no core left; h2 has two.
# Expected:
#   - the page is served by the broker's websockets listener, refuses a
#     wrong password with a clear message, and shows h1 and h2 online;
#   - an overload makes the policy spawn slow_thing on h2, and the page shows
#     the new instance and the decision (with its reaction times) within 2 s
#     of their arrival on the bus;
#   - with the broker stopped, the page says the broker is unreachable;
#   - once it is back the page reconnects, and a scale-out whose messages
#     arrive latest first (first packet, spawned, alarm, decision) shows the
#     reaction times the timestamps give (onset -> decision 1000 ms, ...).
# Screenshots: run/dashboard.png and run/dashboard-down.png.
# Needs chromium, node and npm (dp/setup-host.sh); playwright-core and mqtt
# are installed from npm into $ONVM_BUILD/node.
source "$(dirname "$0")/lib.sh"
onvm_test_init dashboard

command -v chromium >/dev/null || fail "no chromium (dp/setup-host.sh installs it)"
command -v node >/dev/null && command -v npm >/dev/null || fail "no node/npm (dp/setup-host.sh installs them)"
NODE_DIR=$ONVM_BUILD/node
if [[ ! -d $NODE_DIR/node_modules/playwright-core || ! -d $NODE_DIR/node_modules/mqtt ]]; then
	npm install --silent --no-audit --no-fund --prefix "$NODE_DIR" playwright-core mqtt \
		>"$ONVM_TMP/npm.log" 2>&1 || fail "npm install failed: $(tail -n 5 "$ONVM_TMP/npm.log")"
fi

onvm_hosts 2
onvm_start_broker h1 h2 bridge:order
WS_PORT=$((BROKER_PORT + 1))
curl -sf "http://127.0.0.1:$WS_PORT/" | grep -q '<title>onvm dashboard</title>' ||
	fail "the broker does not serve the dashboard on its websockets port $WS_PORT"

CAPACITY=2000
OFFERED=4500
onvm_scale_catalog "$ONVM_TMP/catalog.json" "$CAPACITY"
onvm_start_host 1 -c "$ONVM_TMP/catalog.json" -k 2-3 -s 9,2 -p '0:2>0' -p '1:2>0' -t 200
onvm_start_host 2 -c "$ONVM_TMP/catalog.json" -k 2-3 -p '0:2>0' -p '1:2>0' -t 200
onvm_wait_scale_start
# shellcheck disable=SC2046
onvm_spawn policy "$ONVM_BUILD/onvm-policy" -i pe-t $(onvm_client_args policy)

mkdir -p "$ONVM_SRC/run"
DASH_URL=http://127.0.0.1:$WS_PORT/ DASH_BROKER=mqtt://127.0.0.1:$BROKER_PORT \
	DASH_MONITOR_PASS=$BROKER_DIR/secrets/monitor.pass DASH_RATE_FILE=$ONVM_TMP/rate DASH_RATE=$OFFERED \
	DASH_STOP_BROKER="bash $ONVM_SRC/mosquitto/stop-broker.sh --dir $BROKER_DIR" DASH_SHOT_DIR=$ONVM_SRC/run \
	DASH_START_BROKER="bash $ONVM_SRC/mosquitto/start-broker.sh --dir $BROKER_DIR --port $BROKER_PORT --tls 127.0.0.1:$BROKER_TLS_PORT" \
	DASH_ORDER_PASS=$BROKER_DIR/secrets/order.pass \
	NODE_PATH=$NODE_DIR/node_modules timeout 150 node "$ONVM_SRC/tests/integration/dashboard_check.js" ||
	fail "dashboard_check.js failed"
