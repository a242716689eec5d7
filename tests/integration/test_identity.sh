#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Attacks on the bus that must fail.  Managers h1, h2 and h3 are on the
# broker's TLS listener with their own certificates; a monitor watches
# everything on the password listener.  Each attack is tried, and what must
# (not) happen is checked:
#   1. monitor, with its password, takes h2's client id ("h2", and the old
#      "onvm-mgr-h2"); h1's certificate tries too; monitor's certificate asks
#      for id "h2" on TLS: all refused or renamed, h2 stays connected and
#      nobody hears an offline h2;
#   2. a host writes another host's state, services and cmd, and its own cmd;
#      the policy writes a host's state; monitor and a host announce an
#      engine; monitor poses as a host named after itself: all dropped;
#   3. a client without a certificate on the TLS listener: no handshake;
#   4. h3's certificate is revoked: its connection is closed (its Last Will
#      says offline) and it cannot come back;
#   5. a 300 KiB payload (over the broker's 256 KiB message_size_limit) is
#      dropped, a 100 KiB one (under it, over the bus's 64 KiB) is rejected
#      by the managers, who stay up.
# And the way in for a new host, on the running broker, with no restart: a
# certificate alone (h4 comes online over TLS), or start-broker.sh again
# (h5's password works after its reload).
# A publish that is dropped is acknowledged all the same (MQTT 3.1.1), so
# each is followed by a marker from the policy: once the marker is seen,
# the broker has handled the attack.
source "$(dirname "$0")/lib.sh"
onvm_test_init identity
onvm_start_broker h1 h2 h3
onvm_catalog "$ONVM_TMP/catalog.json"

onvm_watch bus 'onvm/#'
start_host() { # start_host NAME: a manager on TLS; sets its PID and LOG variables
	local base=$ONVM_PREFIX
	ONVM_PREFIX=${base}_$1
	# shellcheck disable=SC2046
	onvm_start_mgr "$1" -l 0,1 --vdev=net_null0,no-rx=1 -- -c "$ONVM_TMP/catalog.json" -k 2 \
		-H "$1" $(onvm_client_tls_args "$1")
	ONVM_PREFIX=$base
	printf -v "PID_$1" '%s' "$MGR_PID"
	printf -v "LOG_$1" '%s' "$MGR_LOG"
}
start_host h1
start_host h2
start_host h3
for h in h1 h2 h3; do
	wait_for 10 "$h online over TLS" grep -q "onvm/hosts/$h/state {.*\"status\":\"online\"" "$ONVM_TMP/bus.log"
done

# A mosquitto client with options of our own (an attacker's), in a file.
attacker() { # attacker NAME OPTION-LINE...: option file $ONVM_TMP/NAME/mosquitto_{sub,pub}
	local name=$1
	shift
	mkdir -p "$ONVM_TMP/$name"
	printf '%s\n' "$@" >"$ONVM_TMP/$name/mosquitto_pub"
	cp "$ONVM_TMP/$name/mosquitto_pub" "$ONVM_TMP/$name/mosquitto_sub"
}
as_attacker() { local name=$1; shift; XDG_CONFIG_HOME=$ONVM_TMP/$name "$@"; }
tls_opts() { # tls_opts IDENTITY: TLS options with IDENTITY's certificate
	printf '%s\n' "-h 127.0.0.1" "-p $BROKER_TLS_PORT" "--cafile $BROKER_DIR/pki/ca.crt" \
		"--cert $BROKER_DIR/certs/$1.crt" "--key $BROKER_DIR/certs/$1.key"
}
marker=0
mark() { # the broker has handled everything published before this returns
	marker=$((marker + 1))
	as_identity policy mosquitto_pub -q 1 -t onvm/policy/test-marker -m "marker-$marker"
	wait_for 10 "marker $marker" grep -q "onvm/policy/test-marker marker-$marker" "$ONVM_TMP/bus.log"
}
h2_offline() { grep -q 'onvm/hosts/h2/state {.*"status":"offline"' "$ONVM_TMP/bus.log"; }

# ---- 1. taking h2's client id ----
for id in h2 onvm-mgr-h2; do
	attacker "monitor-as-$id" "-h 127.0.0.1" "-p $BROKER_PORT" "-u monitor" \
		"-P $(cat "$BROKER_DIR/secrets/monitor.pass")" "-i $id"
	if as_attacker "monitor-as-$id" mosquitto_sub -E -t onvm/x 2>"$ONVM_TMP/take-$id.err"; then
		fail "monitor connected with client id $id"
	fi
	grep -qi "not authori[sz]ed" "$ONVM_TMP/take-$id.err" ||
		fail "monitor as $id: not refused as unauthorised: $(cat "$ONVM_TMP/take-$id.err")"
	grep -q "onvm_identity: refused client id '$id' for user 'monitor'" "$BROKER_DIR/mosquitto.log" ||
		fail "the broker did not log the refusal of $id"
done
attacker h1-as-h2 "-h 127.0.0.1" "-p $BROKER_PORT" "-u h1" "-P $(cat "$BROKER_DIR/secrets/h1.pass")" "-i h2"
as_attacker h1-as-h2 mosquitto_sub -E -t onvm/x 2>/dev/null && fail "h1 connected with client id h2"
# On TLS the client id is the certificate's CN, whatever the client asks for.
attacker monitor-cert-as-h2 "$(tls_opts monitor)" "-i h2"
as_attacker monitor-cert-as-h2 mosquitto_sub -E -t onvm/x || fail "monitor's certificate was refused"
grep -q "New client connected from 127.0.0.1:[0-9]* as monitor (" "$BROKER_DIR/mosquitto.log" ||
	fail "monitor's certificate did not connect as 'monitor'"
mark
h2_offline && fail "h2 was reported offline after the client id attacks"
grep -q "connection lost" "$LOG_h2" && fail "h2 lost its connection to the attacks"
onvm_log "1. client id takeover: refused (password) or renamed to the CN (TLS); h2 stayed online"

# ---- 2. writing where an identity may not ----
evil() { # evil IDENTITY TOPIC PAYLOAD [-r]: publish with IDENTITY's certificate
	attacker "evil-$1" "$(tls_opts "$1")"
	as_attacker "evil-$1" mosquitto_pub -q 1 -t "$2" -m "$3" "${@:4}" ||
		fail "$1 could not even publish to $2"
}
evil h1 onvm/hosts/h2/state '{"v":1,"host":"h2","status":"offline","evil":"e1"}' -r
evil h1 onvm/hosts/h2/services '{"v":1,"host":"h2","ts_ms":1,"services":{},"evil":"e2"}' -r
evil h1 onvm/hosts/h2/cmd '{"v":1,"id":"evil-3","engine":"h1","op":"spawn","service":1,"count":1,"reason":"e3"}'
evil h1 onvm/hosts/h1/cmd '{"v":1,"id":"evil-4","engine":"h1","op":"spawn","service":1,"count":1,"reason":"e4"}'
evil policy onvm/hosts/h1/state '{"v":1,"host":"h1","status":"offline","evil":"e5"}' -r
evil monitor onvm/policy/engines/0 '{"v":1,"status":"online","name":"evil-6","started_ms":1}' -r
evil h1 onvm/policy/engines/0 '{"v":1,"status":"online","name":"evil-7","started_ms":1}' -r
evil monitor onvm/hosts/monitor/state '{"v":1,"host":"monitor","status":"online","evil":"e8"}' -r
mark
grep -q 'evil' "$ONVM_TMP/bus.log" && fail "a forbidden publish got through: $(grep evil "$ONVM_TMP/bus.log" | head -n 3)"
grep -q 'evil-[34]' "$LOG_h1" "$LOG_h2" && fail "a manager received a command from a host"
h2_offline && fail "h1 made h2 look offline"
onvm_log "2. other hosts' topics, cmd, state as the policy, engine announcements, monitor as a host: all dropped"

# ---- 3. no certificate on the TLS listener ----
attacker no-cert "-h 127.0.0.1" "-p $BROKER_TLS_PORT" "--cafile $BROKER_DIR/pki/ca.crt" "-u h2"
if as_attacker no-cert mosquitto_sub -E -t onvm/x 2>"$ONVM_TMP/no-cert.err"; then
	fail "a client without a certificate connected over TLS"
fi
grep -q "peer did not return a certificate" "$BROKER_DIR/mosquitto.log" ||
	fail "the broker did not refuse the handshake for lack of a certificate"
onvm_log "3. no certificate: handshake refused ($(head -n 1 "$ONVM_TMP/no-cert.err"))"

# ---- 4. revocation ----
before=$(date +%s%N)
bash "$ONVM_SRC/mosquitto/make-certs.sh" "$BROKER_DIR" --revoke h3 >/dev/null || fail "revoke failed"
wait_for 10 "h3's connection closed, its Last Will published" \
	grep -q 'onvm/hosts/h3/state {"v":1,"host":"h3","status":"offline"' "$ONVM_TMP/bus.log"
onvm_log "4. revoked h3: disconnected and offline in $((($(date +%s%N) - before) / 1000000)) ms"
wait_for 10 "h3's reconnection refused" grep -q "bus: cannot connect to .* as h3" "$LOG_h3"
mark
[[ $(grep -c 'onvm/hosts/h3/state {.*"status":"online"' "$ONVM_TMP/bus.log") -eq 1 ]] ||
	fail "the revoked h3 came back online"
attacker revoked "$(tls_opts h3)"
as_attacker revoked mosquitto_sub -E -t onvm/x 2>/dev/null && fail "h3's revoked certificate connected"
onvm_log "   h3 retries: $(grep -m1 "bus: cannot connect" "$LOG_h3")"

# ---- 5. oversized payloads ----
head -c 300000 /dev/zero | tr '\0' 'x' | sed 's/^/{"v":1,"host":"h1","big":"huge-marker/; s/$/"}/' >"$ONVM_TMP/huge.json"
head -c 100000 /dev/zero | tr '\0' 'y' | sed 's/^/{"v":1,"host":"h1","big":"large-marker/; s/$/"}/' >"$ONVM_TMP/large.json"
as_attacker evil-h1 mosquitto_pub -q 1 -t onvm/hosts/h1/stats -f "$ONVM_TMP/huge.json" || fail "publishing 300 KiB failed"
as_attacker evil-h1 mosquitto_pub -q 1 -t onvm/hosts/h1/stats -f "$ONVM_TMP/large.json" || fail "publishing 100 KiB failed"
mark
grep -q "huge-marker" "$ONVM_TMP/bus.log" && fail "the broker passed on a 300 KiB payload"
grep -q "large-marker" "$ONVM_TMP/bus.log" || fail "the 100 KiB payload did not reach the monitor"
wait_for 10 "h2 rejected the 100 KiB stats" grep -q "rejected message on onvm/hosts/h1/stats" "$LOG_h2"
for h in h1 h2; do
	pid=PID_$h
	kill -0 "${!pid}" || fail "manager $h died"
done
h2_offline && fail "h2 went offline"
# ---- a new host needs a credential, nothing else ----
broker_pid=$(cat "$BROKER_DIR/mosquitto.pid")
bash "$ONVM_SRC/mosquitto/make-certs.sh" "$BROKER_DIR" h4 >/dev/null || fail "cannot issue h4's certificate"
start_host h4
wait_for 10 "h4, a certificate issued to the running broker, online" \
	grep -q 'onvm/hosts/h4/state {.*"status":"online"' "$ONVM_TMP/bus.log"
bash "$ONVM_SRC/mosquitto/start-broker.sh" --dir "$BROKER_DIR" --port "$BROKER_PORT" \
	--tls "127.0.0.1:$BROKER_TLS_PORT" h5 >"$ONVM_TMP/add-h5.log" 2>&1 || fail "adding h5 failed"
grep -q "already running" "$ONVM_TMP/add-h5.log" || fail "start-broker.sh restarted the broker"
wait_for 10 "h5's password accepted after the reload" \
	as_identity h5 mosquitto_pub -q 1 -t onvm/hosts/h5/events -m '{"v":1,"host":"h5","event":"hello"}'
[[ $(cat "$BROKER_DIR/mosquitto.pid") == "$broker_pid" ]] && kill -0 "$broker_pid" ||
	fail "the broker was restarted"
onvm_log "new hosts: h4 by its certificate alone, h5 by start-broker.sh; the broker (pid $broker_pid) kept running"

onvm_log "5. 300 KiB: dropped by the broker; 100 KiB: $(grep -m1 "rejected message on onvm/hosts/h1/stats" "$LOG_h2" | cut -c1-120)"
