#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# start-broker.sh - start the project's Mosquitto broker, or add identities
# to a running one.
#
#   mosquitto/start-broker.sh [--dir DIR] [--port PORT] [--ws-port PORT]
#                             [--tls ADDR[:PORT] | --no-tls] [--san LIST]
#                             [--bridge ADDR:PORT --bridge-ca F --bridge-cert F --bridge-key F]
#                             [IDENTITY...]
#
# DIR (default: run/broker in the source tree; installed, $ONVM_STATE_DIR/broker,
# /var/lib/onvm/broker by default) holds the generated configuration,
# the identities (IDENTITY is NAME or ROLE:NAME, see identities.sh; bare
# names are hosts; policy and monitor always exist) with their passwords
# (make-credentials.sh) and certificates (make-certs.sh), the persistence
# database and the log.  Listeners:
#   127.0.0.1:PORT     MQTT with passwords, for local tools (default 18830)
#   127.0.0.1:WS_PORT  websockets with passwords (default PORT + 1), which
#                      also serves the dashboard: http://127.0.0.1:WS_PORT/
#   ADDR:PORT          MQTT over TLS with client certificates, for other
#                      machines (default 0.0.0.0:8883); LIST is the broker
#                      certificate's subjectAltName (default: ADDR unless
#                      0.0.0.0, 127.0.0.1, localhost and this machine's name)
# For each identity, DIR/clients/NAME/ (password, loopback) and
# DIR/clients/NAME.tls/ (certificate) hold option files for mosquitto_sub and
# mosquitto_pub: XDG_CONFIG_HOME=DIR/clients/monitor mosquitto_sub -v -t 'onvm/#'.
# --bridge joins this broker to another one over TLS (bridge.conf.in): with
# the remote CA, and a certificate the remote broker issued to this site
# with role bridge (start-broker.sh there with bridge:NAME; the CN names the
# bridge).
# If the broker of DIR is already running, the identities are made and it
# reloads them (SIGHUP): nothing is restarted.  Waits until the broker answers.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# In the source tree: run/broker; installed: the state directory.
if [[ -f $here/../CMakeLists.txt ]]; then
	dir=$here/../run/broker
else
	dir=${ONVM_STATE_DIR:-/var/lib/onvm}/broker
fi
port=18830
ws_port=
tls=0.0.0.0:8883
san=
bridge=
bridge_ca=
bridge_cert=
bridge_key=

usage() {
	echo "usage: $0 [--dir DIR] [--port PORT] [--ws-port PORT] [--tls ADDR[:PORT] | --no-tls]" \
		"[--san LIST] [IDENTITY...]" >&2
	exit 2
}
while (($#)); do
	case $1 in
	--dir) dir=${2:?}; shift 2 ;;
	--port) [[ ${2:-} =~ ^[0-9]+$ ]] || usage; port=$2; shift 2 ;;
	--ws-port) [[ ${2:-} =~ ^[0-9]+$ ]] || usage; ws_port=$2; shift 2 ;;
	--tls) [[ ${2:-} =~ ^[0-9.]+(:[0-9]+)?$ ]] || usage; tls=$2; shift 2 ;;
	--no-tls) tls=; shift ;;
	--san) [[ -n ${2:-} ]] || usage; san=$2; shift 2 ;;
	--bridge) [[ ${2:-} =~ ^[A-Za-z0-9.-]+:[0-9]+$ ]] || usage; bridge=$2; shift 2 ;;
	--bridge-ca) [[ -f ${2:-} ]] || usage; bridge_ca=$(realpath "$2"); shift 2 ;;
	--bridge-cert) [[ -f ${2:-} ]] || usage; bridge_cert=$(realpath "$2"); shift 2 ;;
	--bridge-key) [[ -f ${2:-} ]] || usage; bridge_key=$(realpath "$2"); shift 2 ;;
	-*) usage ;;
	*) break ;;
	esac
done
ws_port=${ws_port:-$((port + 1))}
if [[ -n $bridge ]]; then
	[[ -n $bridge_ca && -n $bridge_cert && -n $bridge_key ]] || usage
	bridge_name=$(openssl x509 -in "$bridge_cert" -noout -subject -nameopt RFC2253 | sed -n 's/^subject=.*CN=\([^,]*\).*/\1/p')
	[[ $bridge_name =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ ]] ||
		{ echo "broker: the bridge certificate has no usable CN" >&2; exit 2; }
fi
tls_addr=${tls%%:*}
tls_port=8883
[[ $tls == *:* ]] && tls_port=${tls##*:}
if [[ -z $san ]]; then
	san="IP:127.0.0.1,DNS:localhost,DNS:$(hostname)"
	[[ -n $tls_addr && $tls_addr != 0.0.0.0 && $tls_addr != 127.0.0.1 ]] && san="IP:$tls_addr,$san"
fi
mkdir -p "$dir/data"
dir=$(cd "$dir" && pwd)

bash "$here/make-credentials.sh" "$dir" "$@" >/dev/null
# Every identity (policy and monitor too) gets a certificate.
mapfile -t every_identity < <(awk '{ print $1 ":" $2 }' "$dir/identities")
bash "$here/make-certs.sh" "$dir" "${every_identity[@]}" >/dev/null
bash "$here/make-certs.sh" "$dir" --broker "$san" >/dev/null

# Option files for mosquitto_sub/pub: nothing secret reaches a command line.
tls_dial=$tls_addr
[[ $tls_dial == 0.0.0.0 ]] && tls_dial=127.0.0.1
while read -r _ name; do
	mkdir -p "$dir/clients/$name" "$dir/clients/$name.tls"
	chmod 700 "$dir/clients/$name"
	for tool in mosquitto_sub mosquitto_pub mosquitto_rr; do
		(umask 077 && printf -- '-h 127.0.0.1\n-p %s\n-u %s\n-P %s\n-I %s/\n' \
			"$port" "$name" "$(cat "$dir/secrets/$name.pass")" "$name" >"$dir/clients/$name/$tool")
		[[ -n $tls ]] && printf -- '-h %s\n-p %s\n--cafile %s\n--cert %s\n--key %s\n' "$tls_dial" \
			"$tls_port" "$dir/pki/ca.crt" "$dir/certs/$name.crt" "$dir/certs/$name.key" \
			>"$dir/clients/$name.tls/$tool"
	done
done <"$dir/identities"

if [[ -f $dir/mosquitto.pid ]] && kill -0 "$(cat "$dir/mosquitto.pid")" 2>/dev/null; then
	echo "broker: already running (pid $(cat "$dir/mosquitto.pid")) in $dir; identities reloaded"
	exit 0
fi

# The identity plugin is one C file against Mosquitto's plugin headers; an
# installed copy comes built, next to this script.
plugin=$dir/onvm_identity.so
if [[ -f $here/onvm_identity.so && ! $here/onvm_identity.c -nt $here/onvm_identity.so ]]; then
	cp "$here/onvm_identity.so" "$plugin"
elif [[ ! -f $plugin || $here/onvm_identity.c -nt $plugin ]]; then
	cc -std=c11 -O2 -Wall -Wextra -shared -fPIC -o "$plugin" "$here/onvm_identity.c" ||
		{ echo "broker: cannot build the identity plugin (mosquitto-dev installed?)" >&2; exit 1; }
fi

tls_lines='/^#TLS /d'
[[ -n $tls ]] && tls_lines='s/^#TLS //'
# The dashboard, where it is: served on the websockets listener.
http_lines='/^#HTTP /d'
[[ -f $here/dashboard/index.html ]] && http_lines="s|^#HTTP ||; s|@HTTP_DIR@|$here/dashboard|g"
sed -e "$tls_lines" -e "$http_lines" -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@WS_PORT@|$ws_port|g" \
	-e "s|@TLS_ADDR@|$tls_addr|g" -e "s|@TLS_PORT@|$tls_port|g" -e "s|@USER@|$(id -un)|g" \
	"$here/mosquitto.conf.in" >"$dir/mosquitto.conf"
if [[ -n $bridge ]]; then
	sed -e "s|@NAME@|$bridge_name|g" -e "s|@REMOTE@|$bridge|g" -e "s|@CA@|$bridge_ca|g" \
		-e "s|@CERT@|$bridge_cert|g" -e "s|@KEY@|$bridge_key|g" "$here/bridge.conf.in" \
		>>"$dir/mosquitto.conf"
fi
rm -f "$dir/mosquitto.pid"
log_start=$(($(stat -c %s "$dir/mosquitto.log" 2>/dev/null || echo 0) + 1))
mosquitto -c "$dir/mosquitto.conf" -d
# An error in this start's log (a port in use, a bad file) ends the wait at once.
start_failed() { tail -c +"$log_start" "$dir/mosquitto.log" 2>/dev/null | grep -q '^[0-9]*: Error: '; }

# Ready when the monitor identity can read $SYS.
deadline=$((SECONDS + 10))
until XDG_CONFIG_HOME=$dir/clients/monitor mosquitto_sub -t '$SYS/broker/version' -C 1 -W 1 \
	>/dev/null 2>&1; do
	if ((SECONDS >= deadline)) || start_failed; then
		echo "broker: did not come up; see $dir/mosquitto.log" >&2
		tail -n 20 "$dir/mosquitto.log" >&2 || true
		exit 1
	fi
	sleep 0.1
done
echo "broker: up on 127.0.0.1:$port (websockets $ws_port)${tls:+, TLS $tls_addr:$tls_port}${bridge:+, bridge $bridge_name to $bridge}," \
	"pid $(cat "$dir/mosquitto.pid"), dir $dir"
