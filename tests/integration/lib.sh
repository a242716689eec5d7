# SPDX-License-Identifier: BSD-3-Clause
# lib.sh - helpers for integration tests: real managers, NFs and brokers.
#
# Each test sources this file, calls onvm_test_init NAME, and registers what
# it starts; onvm_cleanup (run on exit) stops processes, removes interfaces
# and hugepage files of the test's own --file-prefix.
#
# ONVM_MACHINES=1 runs several hosts as separate machines would (see
# onvm_hosts): the broker and the control plane (policy, onvm-top, watchers)
# in namespace TAG-ctl, each manager wholly inside its host's namespace,
# reaching the broker over the management network with TLS and its own
# certificate.  Tests start control-plane programs with "${ONVM_CTL[@]}" in
# front and take bus arguments from onvm_client_args, so the same scenario
# runs either way.
set -u

ONVM_BUILD=${ONVM_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
ONVM_SRC=${ONVM_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
export LSAN_OPTIONS="suppressions=$ONVM_SRC/tests/sanitizer/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

ONVM_MACHINES=${ONVM_MACHINES:-0}
ONVM_CTL=()              # the prefix that runs a program on the control machine
ONVM_CLIENT_SUFFIX=""    # mosquitto_* option files: "" (password) or ".tls"
ONVM_CONTROL_IP=10.251.0.254
ONVM_PIDS=()
ONVM_LINKS=()
ONVM_BROKERS=()
ONVM_NETNS_TAG=""
ONVM_FAILED=0

onvm_log() { printf '[%s] %s\n' "$ONVM_TEST" "$*"; }

fail() {
	onvm_log "FAIL: $*"
	ONVM_FAILED=1
	exit 1
}

onvm_test_init() {
	ONVM_TEST=$1
	ONVM_PREFIX="onvmt_${ONVM_TEST}_$$"
	ONVM_TMP=$(mktemp -d "/tmp/onvm_${ONVM_TEST}.XXXXXX")
	trap onvm_cleanup EXIT
	[[ $(id -u) -eq 0 ]] || fail "integration tests need root (hugepages, veth)"
	local free
	free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
	[[ ${free:-0} -ge 128 ]] || fail "need >= 128 free 2 MiB hugepages (have ${free:-0}); run dp/setup-host.sh"
}

# Run a command in the background, logging to $ONVM_TMP/<name>.log; sets LAST_PID.
onvm_spawn() {
	local name=$1
	shift
	"$@" >"$ONVM_TMP/$name.log" 2>&1 &
	LAST_PID=$!
	ONVM_PIDS+=("$LAST_PID")
}

# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND until it succeeds.
wait_for() {
	local seconds=$1 what=$2
	shift 2
	local deadline=$((SECONDS + seconds))
	until "$@"; do
		if ((SECONDS >= deadline)); then
			fail "timed out after ${seconds}s waiting for: $what"
		fi
		sleep 0.05
	done
}

# Wait for a manager to say it is up; fail at once if it died instead.
onvm_wait_up() {
	local what=$1 pid=$2 log=$3
	wait_for 20 "$what up" eval 'grep -q "onvm-mgr: up" "$log" || ! kill -0 "$pid" 2>/dev/null'
	kill -0 "$pid" 2>/dev/null || fail "$what exited while starting: $(tail -n 3 "$log" | tr '\n' ' ')"
}

# Start a manager: onvm_start_mgr NAME EAL_ARGS... -- MGR_ARGS...; sets MGR_PID, MGR_STATS.
onvm_start_mgr() {
	local name=$1
	shift
	MGR_STATS="$ONVM_TMP/$name.stats"
	MGR_LOG="$ONVM_TMP/$name.log"
	onvm_spawn "$name" "$ONVM_BUILD/onvm-mgr" --file-prefix="$ONVM_PREFIX" "$@" \
		-f "$MGR_STATS" -q -t 100
	MGR_PID=$LAST_PID
	onvm_wait_up "manager $name" "$MGR_PID" "$MGR_LOG"
}

# mgr_counter FILE port|instance ID FIELD: a counter from a manager's stats file
# (not "stat", which would hide the command).
mgr_counter() {
	awk -v kind="$2" -v id="$3" -v field="$4" '
		$1 == kind && $2 == id { for (i = 3; i < NF; i += 2) if ($i == field) { print $(i + 1); exit } }
	' "$1" 2>/dev/null
}

# Instances of a service in a stats file, one id a line.
instances_of() {
	awk -v service="$2" '$1 == "instance" && $4 == service { print $2 }' "$1" 2>/dev/null
}

stat_header() {
	awk -v field="$2" 'NR == 1 { for (i = 1; i < NF; i += 2) if ($i == field) print $(i + 1) }' "$1" 2>/dev/null
}

# A veth pair with IPv6 off so the kernel stays quiet on it.
onvm_veth() {
	local a=$1 b=$2
	ip link del "$a" 2>/dev/null || true
	ip link add "$a" type veth peer name "$b" || fail "cannot create veth $a/$b"
	ONVM_LINKS+=("$a")
	for link in "$a" "$b"; do
		sysctl -qw "net.ipv6.conf.$link.disable_ipv6=1" 2>/dev/null || true
		ip link set "$link" up
	done
}

# Hosts' managers use ${ONVM_PREFIX}_hN: the patterns cover them too.
onvm_remove_hugepage_files() {
	rm -f /dev/hugepages/"${ONVM_PREFIX}"map_* /dev/hugepages/"${ONVM_PREFIX}"_h*map_* 2>/dev/null
	rm -rf "/var/run/dpdk/${ONVM_PREFIX}" "/var/run/dpdk/${ONVM_PREFIX}"_h* 2>/dev/null
}

# The NFs a manager started, one pid a line: its nursery's children.
onvm_nfs_of() {
	local nursery
	nursery=$(pgrep -P "$1" -x onvm-nursery) || return 0
	pgrep -P "$nursery"
}

# Where each thread of a process that will not finish is: its state, what it
# waits in, its kernel stack, and (with gdb) its user stack.
onvm_dump_threads() {
	local pid=$1 task
	echo "----- threads of pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80))"
	for task in /proc/"$pid"/task/*; do
		echo "$(cat "$task/comm" 2>/dev/null) $(awk '/^State:/ {print $2}' "$task/status" 2>/dev/null)" \
			"wchan $(cat "$task/wchan" 2>/dev/null)"
		sed 's/^/    /' "$task/stack" 2>/dev/null
	done
	command -v gdb >/dev/null && timeout 20 gdb -batch -p "$pid" -ex "thread apply all bt" 2>/dev/null |
		grep -E '^(Thread|#)'
}

# Commands a test adds to the cleanup (before processes are stopped).
ONVM_EXIT_HOOKS=()

# onvm_stop SIGNAL PID...: send SIGNAL (-INT, -TERM...), give them 5 s in
# all to end, then kill what is left with its children and theirs (a
# manager's NFs are its nursery's children).
onvm_stop() {
	local signal=$1 pid child grandchild
	shift
	# Safe under set -e (the demo): a process may be gone at any point.
	for pid in "$@"; do kill "$signal" "$pid" 2>/dev/null || true; done
	local deadline=$((SECONDS + 5))
	for pid in "$@"; do
		while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
		kill -0 "$pid" 2>/dev/null || continue
		for child in $(pgrep -P "$pid" 2>/dev/null || true); do
			for grandchild in $(pgrep -P "$child" 2>/dev/null || true); do
				kill -9 "$grandchild" 2>/dev/null || true
			done
			kill -9 "$child" 2>/dev/null || true
		done
		kill -9 "$pid" 2>/dev/null || true
	done
	return 0
}

onvm_cleanup() {
	local status=$?
	((ONVM_FAILED)) && status=1
	local hook
	for hook in "${ONVM_EXIT_HOOKS[@]}"; do eval "$hook"; done
	((${#ONVM_PIDS[@]})) && onvm_stop -INT "${ONVM_PIDS[@]}"
	wait 2>/dev/null
	local broker
	for broker in "${ONVM_BROKERS[@]}"; do
		bash "$ONVM_SRC/mosquitto/stop-broker.sh" --dir "$broker" >/dev/null 2>&1
	done
	local link
	for link in "${ONVM_LINKS[@]}"; do ip link del "$link" 2>/dev/null; done
	[[ -n $ONVM_NETNS_TAG ]] && bash "$ONVM_SRC/dp/netns-hosts.sh" down "$ONVM_NETNS_TAG"
	onvm_remove_hugepage_files
	if ((status != 0 || ONVM_FAILED)); then
		onvm_log "logs in $ONVM_TMP:"
		local log
		for log in "$ONVM_TMP"/*.log; do
			[[ -f $log ]] || continue
			echo "----- $log (last 30 lines)"
			tail -n 30 "$log"
		done
	else
		[[ -n ${ONVM_KEEP:-} ]] && echo "logs kept in $ONVM_TMP" || rm -rf "$ONVM_TMP"
		[[ -n ${ONVM_BENCH:-} ]] || onvm_log "PASS"
	fi
	exit $status
}

# A catalog naming the example NFs: onvm_catalog FILE [slow_thing cycles].
onvm_catalog() {
	cat >"$1" <<JSON
{"services": [
  {"id": 1, "name": "bounce", "exec": "$ONVM_BUILD/examples/bounce"},
  {"id": 2, "name": "slow_thing", "exec": "$ONVM_BUILD/examples/slow_thing", "args": ["-c", "${2:-2000}"]},
  {"id": 3, "name": "simple_forward", "exec": "$ONVM_BUILD/examples/simple_forward"},
  {"id": 4, "name": "forward_b", "exec": "$ONVM_BUILD/examples/simple_forward"},
  {"id": 5, "name": "monitor", "exec": "$ONVM_BUILD/examples/monitor", "args": ["-e", "0"]}
]}
JSON
}

# Secondary EAL arguments for an NF started by hand on lcore $1.
onvm_nf_eal() {
	echo "--lcores=$1@$(($1 % $(nproc))) --proc-type=secondary --file-prefix=$ONVM_PREFIX --no-pci --log-level=lib.eal:warning"
}

# ---- the broker ----

# A free TCP port on loopback (and the two after it, for websockets and TLS):
# below the kernel's ephemeral range (32768..), where a client's own end of
# a connection could hold it, and used by no socket in any state.
onvm_free_port() {
	local port
	for _ in $(seq 50); do
		port=$((20000 + RANDOM % 12000))
		if ! ss -tan | awk '{print $4}' | grep -qE ":($port|$((port + 1))|$((port + 2)))\$"; then
			echo "$port"
			return
		fi
	done
	fail "no free port"
}

# Start a broker for this test: onvm_start_broker IDENTITY...; sets
# BROKER_PORT (passwords), BROKER_TLS_PORT (certificates, on 127.0.0.1),
# BROKER_DIR, BROKER_URI and BROKER_TLS_URI; the cleanup stops it.
# With ONVM_MACHINES=1 (after onvm_hosts) the broker runs on the control
# machine, TLS on its management address, and clients use TLS.
onvm_start_broker() {
	BROKER_DIR=$ONVM_TMP/broker
	local tls_address=127.0.0.1 san=()
	if ((ONVM_MACHINES)); then
		[[ -n $ONVM_NETNS_TAG ]] || fail "ONVM_MACHINES=1: onvm_hosts comes before the broker"
		BROKER_PORT=18830
		BROKER_TLS_PORT=8883
		tls_address=$ONVM_CONTROL_IP
		san=(--san "IP:$ONVM_CONTROL_IP,IP:127.0.0.1")
		ONVM_CTL=(ip netns exec "$ONVM_NETNS_TAG-ctl")
		ONVM_CLIENT_SUFFIX=.tls
	else
		BROKER_PORT=$(onvm_free_port)
		BROKER_TLS_PORT=$((BROKER_PORT + 2))
	fi
	BROKER_URI=tcp://127.0.0.1:$BROKER_PORT
	BROKER_TLS_URI=ssl://$tls_address:$BROKER_TLS_PORT
	"${ONVM_CTL[@]}" bash "$ONVM_SRC/mosquitto/start-broker.sh" --dir "$BROKER_DIR" \
		--port "$BROKER_PORT" --tls "$tls_address:$BROKER_TLS_PORT" "${san[@]}" "$@" \
		>"$ONVM_TMP/broker-start.log" 2>&1
	local started=$?
	ONVM_BROKERS+=("$BROKER_DIR")
	if ((started != 0)) && ((!ONVM_MACHINES && ${ONVM_BROKER_TRIES:-0} < 3)) &&
		grep -q "Address already in use" "$BROKER_DIR/mosquitto.log" 2>/dev/null; then
		# Taken between the look and the bind: again, elsewhere.
		onvm_log "broker port $BROKER_PORT was taken meanwhile; trying another"
		rm -f "$BROKER_DIR/mosquitto.conf" "$BROKER_DIR/mosquitto.log"
		ONVM_BROKER_TRIES=$((${ONVM_BROKER_TRIES:-0} + 1)) onvm_start_broker "$@"
		return
	fi
	((started == 0)) || fail "broker did not start: $(tail -n 5 "$ONVM_TMP/broker-start.log")"
}

onvm_stop_broker() {
	bash "$ONVM_SRC/mosquitto/stop-broker.sh" --dir "$BROKER_DIR" >/dev/null 2>&1
}

# A mosquitto client as an identity, with the option file start-broker.sh
# wrote for it (broker, user, password or certificate, client id
# IDENTITY/PID), on the control machine: no secret on the command line.
# as_identity IDENTITY mosquitto_sub|mosquitto_pub ARGS...; for onvm_spawn,
# "${ONVM_CTL[@]}" $(identity_env IDENTITY) mosquitto_sub ARGS...
identity_env() { echo "env XDG_CONFIG_HOME=$BROKER_DIR/clients/$1$ONVM_CLIENT_SUFFIX"; }
as_identity() {
	local identity=$1
	shift
	"${ONVM_CTL[@]}" $(identity_env "$identity") "$@"
}

# Watch topics as the monitor: onvm_watch NAME FILTER; lines "topic payload" in $ONVM_TMP/NAME.log.
onvm_watch() {
	# shellcheck disable=SC2046
	onvm_spawn "$1" "${ONVM_CTL[@]}" $(identity_env monitor) mosquitto_sub -v -t "$2"
}

# Publish as an identity: publish_as IDENTITY TOPIC PAYLOAD [mosquitto_pub args...].
publish_as() {
	local identity=$1 topic=$2 payload=$3
	shift 3
	as_identity "$identity" mosquitto_pub -t "$topic" -m "$payload" "$@" ||
		fail "could not publish on $topic"
}

# The wall clock in ms, what ts_ms and first_rx_ms on the bus are.
now_ms() { date +%s%3N; }

# Publish as the policy engine: onvm_command HOST PAYLOAD.
onvm_command() {
	as_identity policy mosquitto_pub -q 1 -t "onvm/hosts/$1/cmd" -m "$2" ||
		fail "could not publish a command to $1"
}

# Bus arguments of a tool (onvm-mgr, onvm-policy, onvm-top) for an identity:
# onvm_client_args IDENTITY (the password listener, or TLS with
# ONVM_MACHINES=1), onvm_client_tls_args IDENTITY [URI] (TLS with its
# certificate).
onvm_client_args() {
	if ((ONVM_MACHINES)); then
		onvm_client_tls_args "$1"
	else
		echo "-b $BROKER_URI -u $1 -P $BROKER_DIR/secrets/$1.pass"
	fi
}
onvm_client_tls_args() {
	echo "-b ${2:-$BROKER_TLS_URI} -u $1 --bus-ca $BROKER_DIR/pki/ca.crt" \
		"--bus-cert $BROKER_DIR/certs/$1.crt --bus-key $BROKER_DIR/certs/$1.key"
}

# A manager's bus arguments: onvm_bus_args HOST.
onvm_bus_args() {
	echo "-H $1 $(onvm_client_args "$1")"
}

# ---- several hosts (network namespaces, dp/netns-hosts.sh) ----

# Make hosts h1..hN; the cleanup removes them.  Sets ONVM_NETNS_TAG.
onvm_hosts() {
	ONVM_NETNS_TAG="o$(($$ % 10000000))"
	bash "$ONVM_SRC/dp/netns-hosts.sh" up "$ONVM_NETNS_TAG" "$1" >"$ONVM_TMP/hosts.log" 2>&1 ||
		fail "cannot make $1 hosts: $(cat "$ONVM_TMP/hosts.log")"
}

# Start host N's manager on the bus: port 0 a sink (net_null), port 1 the
# tunnel on the host's veth.  onvm_start_host N MGR_ARGS...; sets HOST_PID[N],
# HOST_STATS[N] (its counters file) and HOST_LOG[N].
# With ONVM_MACHINES=1 the manager runs wholly inside the namespace (ports,
# NFs and bus connection), with only the CA, its certificate and its key,
# copied to $ONVM_TMP/hN-pki as an operator copies them to a server; the
# broker's log must show it connected from its management address.
# HOST_EAL[N], if set, adds EAL arguments (another port) to host N's manager.
declare -A HOST_PID HOST_STATS HOST_LOG HOST_EAL
onvm_start_host() {
	local index=$1 name="h$1"
	shift
	HOST_STATS[$index]="$ONVM_TMP/$name.stats"
	HOST_LOG[$index]="$ONVM_TMP/$name.log"
	local place=(--netns "$ONVM_NETNS_TAG-$name") run=() bus
	bus=$(onvm_bus_args "$name")
	if ((ONVM_MACHINES)); then
		local pki=$ONVM_TMP/$name-pki
		mkdir -p "$pki"
		cp "$BROKER_DIR/pki/ca.crt" "$BROKER_DIR/certs/$name.crt" "$BROKER_DIR/certs/$name.key" "$pki/"
		place=()
		run=(ip netns exec "$ONVM_NETNS_TAG-$name")
		bus="-H $name -b $BROKER_TLS_URI --bus-ca $pki/ca.crt --bus-cert $pki/$name.crt"
		bus+=" --bus-key $pki/$name.key"
	fi
	# shellcheck disable=SC2086
	onvm_spawn "$name" "${run[@]}" "$ONVM_BUILD/onvm-mgr" -l 0,1 --file-prefix="${ONVM_PREFIX}_$name" \
		--vdev=net_null0,no-rx=1 --vdev=net_af_packet0,iface=tun0,framecnt=4096 ${HOST_EAL[$index]:-} -- \
		"${place[@]}" -T "1:10.250.0.$index" -f "${HOST_STATS[$index]}" -q -m 16383 $bus "$@"
	HOST_PID[$index]=$LAST_PID
	onvm_wait_up "manager of $name" "$LAST_PID" "${HOST_LOG[$index]}"
	if ((ONVM_MACHINES)); then
		wait_for 10 "$name connected to the broker from 10.251.0.$index over TLS" grep -qE \
			"New client connected from 10\.251\.0\.$index:[0-9]+ as $name " "$BROKER_DIR/mosquitto.log"
	fi
}

# Sum of a counter over the instances of a service in a stats file.
service_total() {
	awk -v service="$2" -v field="$3" '
		$1 == "instance" && $4 == service { for (i = 3; i < NF; i += 2) if ($i == field) sum += $(i + 1) }
		END { print sum + 0 }' "$1" 2>/dev/null
}

# A field of the tunnel line of a stats file.
tunnel_stat() {
	awk -v field="$2" '$1 == "tunnel" { for (i = 2; i < NF; i += 2) if ($i == field) print $(i + 1) }' "$1" 2>/dev/null
}

# Wait until h1 runs the scale-out catalog's load generator and one slow_thing.
onvm_wait_scale_start() {
	wait_for 20 "h1 runs the generator and slow_thing" \
		eval '[[ $(instances_of "${HOST_STATS[1]}" 2 | wc -l) -eq 1 && $(instances_of "${HOST_STATS[1]}" 9 | wc -l) -eq 1 ]]'
}

# The scale-out catalog: slow_thing (service 2) carrying CAPACITY packets a
# second, and a load generator (service 9) sending to it at the rate written
# in $ONVM_TMP/rate (0 to start).  onvm_scale_catalog FILE CAPACITY [WARM]
onvm_scale_catalog() {
	cat >"$1" <<JSON
{"services": [
  {"id": 2, "name": "slow_thing", "exec": "$ONVM_BUILD/examples/slow_thing",
   "args": ["-c", "0", "-R", "$2"], "warm": ${3:-0}},
  {"id": 9, "name": "load_generator", "exec": "$ONVM_BUILD/examples/load_generator",
   "args": ["-d", "2", "-p", "0", "-f", "1024", "-R", "0", "-F", "$ONVM_TMP/rate"]}
]}
JSON
	echo 0 >"$ONVM_TMP/rate"
}

# ---- self-healing (test_self_heal.sh, tests/bench/repair.sh) ----

# Host N gets a second data port, port 2: veth in0 inside its namespace,
# whose peer in1 takes test traffic (pktio send in1 ...).  Before
# onvm_start_host N.
onvm_ingress_port() {
	local ns="$ONVM_NETNS_TAG-h$1" link
	ip -n "$ns" link add in0 type veth peer name in1 || fail "cannot make h$1's ingress veth"
	for link in in0 in1; do ip -n "$ns" link set "$link" up; done
	HOST_EAL[$1]="--vdev=net_af_packet1,iface=in0"
}

# A catalog of simple_forward as SERVICE (warm standbys: WARM) and a
# monitor as service 5, to hold a core: onvm_heal_catalog FILE SERVICE WARM.
onvm_heal_catalog() {
	cat >"$1" <<JSON
{"services": [
  {"id": $2, "name": "simple_forward", "exec": "$ONVM_BUILD/examples/simple_forward", "warm": $3},
  {"id": 5, "name": "monitor", "exec": "$ONVM_BUILD/examples/monitor", "args": ["-e", "0"]}
]}
JSON
}

# Wait until nothing of host N's last manager runs: its NFs end about a
# second after it, and a new manager cannot start while they hold its memory.
onvm_host_gone() {
	local prefix="--file-prefix=${ONVM_PREFIX}_h$1( |\$)"
	wait_for 15 "h$1's manager and NFs gone" eval '[[ -z $(pgrep -f -- "$prefix") ]]'
	rm -f "${HOST_STATS[$1]}"
}

# The bus log ($ONVM_TMP/bus.log, from onvm_watch bus) after line MARK:
# bus_after MARK [HOST KIND]: with HOST and KIND, only those payloads.
bus_mark() { wc -l <"$ONVM_TMP/bus.log"; }
bus_after() {
	if (($# == 1)); then
		tail -n +"$(($1 + 1))" "$ONVM_TMP/bus.log"
	else
		tail -n +"$(($1 + 1))" "$ONVM_TMP/bus.log" | grep "^onvm/hosts/$2/$3 " | cut -d' ' -f2-
	fi
}
# The first first_rx_ms of a service's instances in HOST's stats after MARK
# (empty until one got a packet): first_rx_after HOST SERVICE MARK.
first_rx_after() {
	bus_after "$3" "$1" stats |
		jq -r --argjson s "$2" '.instances[] | select(.service == $s) | .first_rx_ms // empty' |
		sort -n | head -1
}
# HOST's unserved pps of SERVICE in each of its stats after MARK, one a line.
unserved_after() {
	bus_after "$3" "$1" stats | jq -r --argjson s "$2" '[.unserved[]? | select(.service == $s) | .pps] | add // 0'
}

# A benchmark's start: set the machine up, build, and start like a test
# whose cleanup prints no PASS line (the benchmark's last line is its figure).
# Run from the source tree: onvm_bench_init NAME
onvm_bench_init() {
	export ONVM_BENCH=1
	bash "$ONVM_SRC/dp/setup-host.sh" --no-packages >/dev/null
	{ cmake -S "$ONVM_SRC" -B "$ONVM_BUILD" && cmake --build "$ONVM_BUILD" -j"$(nproc)"; } \
		>/dev/null || { echo "$1: build failed" >&2; exit 1; }
	onvm_test_init "$1"
}
