#!/usr/bin/env bash
# start-broker.sh - start the project's Mosquitto broker on loopback.
#
#   mosquitto/start-broker.sh [--dir DIR] [--port PORT] [--ws-port PORT] [HOST...]
#
# DIR (default: run/broker in the project) holds the generated configuration,
# credentials (see make-credentials.sh; HOSTs get manager identities), the
# persistence database and the log.  Listeners: MQTT on 127.0.0.1:PORT
# (default 18830) and websockets on 127.0.0.1:WS_PORT (default PORT + 1).
# Anonymous clients are refused.  Waits until the broker answers.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$here/../run/broker
port=18830
ws_port=

usage() {
	echo "usage: $0 [--dir DIR] [--port PORT] [--ws-port PORT] [HOST...]" >&2
	exit 2
}
while (($#)); do
	case $1 in
	--dir) dir=${2:?}; shift 2 ;;
	--port) [[ ${2:-} =~ ^[0-9]+$ ]] || usage; port=$2; shift 2 ;;
	--ws-port) [[ ${2:-} =~ ^[0-9]+$ ]] || usage; ws_port=$2; shift 2 ;;
	-*) usage ;;
	*) break ;;
	esac
done
ws_port=${ws_port:-$((port + 1))}
mkdir -p "$dir/data"
dir=$(cd "$dir" && pwd)

if [[ -f $dir/mosquitto.pid ]] && kill -0 "$(cat "$dir/mosquitto.pid")" 2>/dev/null; then
	echo "broker: already running (pid $(cat "$dir/mosquitto.pid")) in $dir"
	exit 0
fi

bash "$here/make-credentials.sh" "$dir" "$@" >/dev/null
sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@WS_PORT@|$ws_port|g" -e "s|@USER@|$(id -un)|g" \
	"$here/mosquitto.conf.in" >"$dir/mosquitto.conf"
rm -f "$dir/mosquitto.pid"
mosquitto -c "$dir/mosquitto.conf" -d

# Ready when the monitor identity can read $SYS.
deadline=$((SECONDS + 10))
until mosquitto_sub -h 127.0.0.1 -p "$port" -u monitor -P "$(cat "$dir/secrets/monitor.pass")" \
	-t '$SYS/broker/version' -C 1 -W 1 >/dev/null 2>&1; do
	if ((SECONDS >= deadline)); then
		echo "broker: did not come up; see $dir/mosquitto.log" >&2
		tail -n 20 "$dir/mosquitto.log" >&2 || true
		exit 1
	fi
	sleep 0.1
done
echo "broker: up on 127.0.0.1:$port (websockets $ws_port), pid $(cat "$dir/mosquitto.pid"), dir $dir"
