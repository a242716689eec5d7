#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# stop-broker.sh - stop a broker started by start-broker.sh (same --dir).
#
#   mosquitto/stop-broker.sh [--dir DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [[ -f $here/../CMakeLists.txt ]]; then # the same default as start-broker.sh
	dir=$here/../run/broker
else
	dir=${ONVM_STATE_DIR:-/var/lib/onvm}/broker
fi
if [[ ${1:-} == --dir ]]; then dir=${2:?}; elif (($#)); then echo "usage: $0 [--dir DIR]" >&2; exit 2; fi
pid_file=$dir/mosquitto.pid
[[ -f $pid_file ]] || { echo "broker: not running (no $pid_file)"; exit 0; }
pid=$(cat "$pid_file")
kill "$pid" 2>/dev/null || true
deadline=$((SECONDS + 10))
while kill -0 "$pid" 2>/dev/null; do
	((SECONDS < deadline)) || { kill -9 "$pid" 2>/dev/null || true; break; }
	sleep 0.05
done
rm -f "$pid_file"
echo "broker: stopped"
