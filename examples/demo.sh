#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# demo.sh - the main demo: event-driven scale-out, first on the host, then
# across hosts, watched live with onvm-top.
#
# Three hosts (network namespaces on one bridge, dp/netns-hosts.sh) and a
# control machine, deployed as on separate servers: the broker, the policy
# daemon and onvm-top run on the control machine (namespace demo-ctl); each
# manager runs wholly inside its host's namespace and reaches the broker's
# TLS listener over the management network with its own certificate.  On h1
# a load generator feeds
# slow_thing (service SERVICE, 2; a fixed capacity per instance).  The offered load
# rises step by step: slow_thing overloads, a second instance starts on h1,
# h1 runs out of cores, and the next instances start on h2, which then
# carries part of the traffic through the VXLAN tunnel.  In the final act
# the remote host with the most instances dies and the policy repairs them
# (slow_thing is declared with a minimum).  onvm-top prints the
# cluster every second with the events in between, and at the end how fast
# each scale-out reacted.  Results: run/demo-timeline.png (offered,
# delivered, drops, instances over time), run/demo-timeline.tsv,
# run/demo-summary.txt, run/demo-bus.trace (every bus message; replay it with
# onvm-policy --replay), logs in run/demo/.  Everything started is stopped
# and removed on exit and on Ctrl-C.
#
#   sudo examples/demo.sh [--hosts N] [--cores-per-host K] [--duration S]
#                         [--engine NAME] [--capacity PPS] [--warm N] [--build DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
# The integration tests' helpers: wait_for, instances_of, onvm_client_tls_args,
# onvm_stop (this script's fail replaces theirs, below).
# shellcheck source=tests/integration/lib.sh
source "$SRC/tests/integration/lib.sh"

HOSTS=3
CORES=3
DURATION=70
ENGINE=local-first
CAPACITY=20000
WARM=1
BUILD=build
TAG=demo
PREFIX=onvmdemo
STATS_MS=200
# The service ids of the catalog, the port chains, the managers and onvm-top.
SERVICE=2     # slow_thing, the service that scales
GEN_SERVICE=9 # the load generator feeding it

usage() {
	cat >&2 <<EOF
usage: $0 [options]
  --hosts N            hosts (network namespaces), 1..8 (default $HOSTS)
  --cores-per-host K   NF cores per host, 2..8 (default $CORES); on h1 one
                       of them runs the load generator
  --duration S         seconds of load, 30..600 (default $DURATION)
  --engine NAME        policy engine (default $ENGINE; onvm-policy --list-engines)
  --capacity PPS       packets per second one slow_thing handles,
                       1000..200000 (default $CAPACITY)
  --warm N             warm standbys of slow_thing per host, 0..4 (default $WARM):
                       started and idle, switched on in microseconds by a spawn
  --build DIR          build folder (default $BUILD)
EOF
	exit 2
}

# in_range VALUE MIN MAX: an integer in MIN..MAX, or the usage.
in_range() {
	if ! [[ $1 =~ ^[0-9]+$ ]] || (($1 < $2 || $1 > $3)); then usage; fi
}

while (($#)); do
	(($# >= 2)) || usage
	case $1 in
	--hosts) in_range "$2" 1 8 && HOSTS=$2 ;;
	--cores-per-host) in_range "$2" 2 8 && CORES=$2 ;;
	--duration) in_range "$2" 30 600 && DURATION=$2 ;;
	--engine) ENGINE=$2 ;;
	--capacity) in_range "$2" 1000 200000 && CAPACITY=$2 ;;
	--warm) in_range "$2" 0 4 && WARM=$2 ;;
	--build) BUILD=$2 ;;
	*) usage ;;
	esac
	shift 2
done
[[ -n $ENGINE && -n $BUILD ]] || usage
[[ $BUILD == /* ]] || BUILD=$SRC/$BUILD

say() { echo "demo: $*"; }
[[ $(id -u) -eq 0 ]] || { say "run as root: sudo $0"; exit 1; }

RUN=$SRC/run/demo
BROKER_DIR=$RUN/broker
MGR_PIDS=()
POLICY_PID=
RECORDER_PID=
DRIVER_PID=
INTERRUPTED=0

# ---- cleanup ----

# The policy daemon first (no decisions about hosts going away), then the
# managers (they stop their NFs), then the recorder, so the trace ends with
# every host offline.
stop_processes() {
	[[ -n $DRIVER_PID ]] && onvm_stop -TERM "$DRIVER_PID"
	[[ -n $POLICY_PID ]] && onvm_stop -TERM "$POLICY_PID"
	((${#MGR_PIDS[@]})) && onvm_stop -TERM "${MGR_PIDS[@]}"
	[[ -n $RECORDER_PID ]] && { sleep 0.2; onvm_stop -TERM "$RECORDER_PID"; }
	wait 2>/dev/null || true
	DRIVER_PID='' POLICY_PID='' RECORDER_PID=''
	MGR_PIDS=()
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	local status=$?
	trap - EXIT INT TERM
	stop_processes
	bash mosquitto/stop-broker.sh --dir "$BROKER_DIR" >/dev/null 2>&1 || true
	bash dp/netns-hosts.sh down "$TAG" >/dev/null 2>&1 || true
	rm -f /dev/hugepages/"$PREFIX"_h*map_* 2>/dev/null || true
	rm -rf /var/run/dpdk/"$PREFIX"_h* 2>/dev/null || true
	say "cleaned up (processes, namespaces, hugepage files, broker); logs in run/demo/"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# fail WHAT [LOG...]: say what went wrong, show the end of the logs (all of
# the run's when none is named, as when lib.sh's wait_for times out), exit.
fail() {
	local what=$1 log
	shift
	say "FAILED: $what"
	(($#)) || set -- "$RUN"/*.log
	for log in "$@"; do
		[[ -f $log ]] || continue
		echo "----- ${log#"$SRC"/} (last 15 lines)"
		tail -n 15 "$log"
	done
	exit 1
}

# ---- set-up ----

rm -rf "$RUN"
mkdir -p "$RUN"
say "preparing the machine and building (logs in run/demo/)"
bash dp/setup-host.sh >"$RUN/setup.log" 2>&1 || fail "dp/setup-host.sh" "$RUN/setup.log"
{ cmake -S . -B "$BUILD" && cmake --build "$BUILD" -j"$(nproc)" --target onvm-mgr onvm-policy \
	onvm-top slow_thing load_generator; } >"$RUN/build.log" 2>&1 || fail "build" "$RUN/build.log"

if [[ $ENGINE != */* ]] && ! "$BUILD/onvm-policy" --list-engines | awk '{print $1}' | grep -qx -- "$ENGINE"; then
	say "unknown engine '$ENGINE'; the built-in ones:"
	"$BUILD/onvm-policy" --list-engines
	exit 2
fi

hosts=()
for ((i = 1; i <= HOSTS; i++)); do hosts+=("h$i"); done
bash dp/netns-hosts.sh up "$TAG" "$HOSTS" >"$RUN/hosts.log" 2>&1 || fail "namespaces" "$RUN/hosts.log"
CONTROL_IP=10.251.0.254
ON_CONTROL=(ip netns exec "$TAG-ctl")
# The control machine is a namespace of its own: the default ports are free there.
"${ON_CONTROL[@]}" bash mosquitto/start-broker.sh --dir "$BROKER_DIR" --tls "0.0.0.0:8883" \
	--san "IP:$CONTROL_IP,IP:127.0.0.1" "${hosts[@]}" >"$RUN/broker-start.log" 2>&1 ||
	fail "broker" "$RUN/broker-start.log"
BROKER_TLS_URI=ssl://$CONTROL_IP:8883
say "broker on the control machine ($TAG-ctl), TLS on $CONTROL_IP:8883; hosts ${hosts[*]}" \
	"(namespaces $TAG-h1..$TAG-h$HOSTS; management 10.251.0.0/24, tunnel 10.250.0.0/24)"

# The recorder is a local tool of the control machine: the loopback password listener.
"${ON_CONTROL[@]}" env XDG_CONFIG_HOME="$BROKER_DIR/clients/monitor" mosquitto_sub -v -F '%j' \
	-t 'onvm/#' >"$RUN/bus.trace" 2>"$RUN/recorder.log" &
RECORDER_PID=$!

cat >"$RUN/catalog.json" <<JSON
{"services": [
  {"id": $SERVICE, "name": "slow_thing", "exec": "$BUILD/examples/slow_thing",
   "args": ["-c", "500", "-R", "$CAPACITY"], "warm": $WARM},
  {"id": $GEN_SERVICE, "name": "load_generator", "exec": "$BUILD/examples/load_generator",
   "args": ["-d", "$SERVICE", "-p", "0", "-f", "1024", "-R", "0", "-F", "$RUN/rate"]}
]}
JSON
echo 0 >"$RUN/rate"

# Host i, wholly inside its namespace: port 0 a sink (net_null), port 1 the
# VXLAN tunnel on its veth; slow_thing's packets leave by port 0 whichever
# port brought them.  Its bus connection crosses the management network with
# its own certificate.
start_manager() {
	local i=$1 extra=()
	((i == 1)) && extra=(-s "$SERVICE,$GEN_SERVICE")
	# shellcheck disable=SC2046
	ip netns exec "$TAG-h$i" "$BUILD/onvm-mgr" -l 0,1 --file-prefix="${PREFIX}_h$i" \
		--vdev=net_null0,no-rx=1 --vdev=net_af_packet0,iface=tun0,framecnt=4096 -- \
		-T "1:10.250.0.$i" -c "$RUN/catalog.json" -k "2-$((CORES + 1))" -p "0:$SERVICE>0" -p "1:$SERVICE>0" \
		-t "$STATS_MS" -q -f "$RUN/h$i.stats" -H "h$i" $(onvm_client_tls_args "h$i") "${extra[@]}" \
		>"$RUN/h$i.log" 2>&1 &
	MGR_PIDS+=($!)
}

say "starting $HOSTS managers ($CORES NF cores each), then the policy daemon ($ENGINE)"
for ((i = 1; i <= HOSTS; i++)); do start_manager "$i"; done
for ((i = 1; i <= HOSTS; i++)); do
	wait_for 40 "the manager of h$i up" grep -q "onvm-mgr: up" "$RUN/h$i.log"
done

# shellcheck disable=SC2016 # expanded by eval, on every try
wait_for 20 "h1 runs slow_thing and the generator" \
	eval '(( $(instances_of "$RUN/h1.stats" "$SERVICE" | wc -l) == 1 &&
		$(instances_of "$RUN/h1.stats" "$GEN_SERVICE" | wc -l) == 1 ))'

# The operator's declaration: slow_thing always runs at least once (the
# final act raises it to what runs then, and the policy rereads it on SIGHUP).
echo "{\"services\": [{\"id\": $SERVICE, \"min\": 1}]}" >"$RUN/services.json"
# shellcheck disable=SC2046
"${ON_CONTROL[@]}" "$BUILD/onvm-policy" -i pe-a $(onvm_client_tls_args policy) --engine "$ENGINE" \
	--services "$RUN/services.json" >"$RUN/policy.log" 2>&1 &
POLICY_PID=$!
wait_for 10 "the policy daemon connected" grep -q "connected" "$RUN/policy.log"

# ---- the load, step by step (in the background, while onvm-top runs) ----

# "WHEN LOAD WHAT": at WHEN % of the duration, offer LOAD % of one slow_thing's capacity.
STEPS=(
	"0 50 one slow_thing carries it"
	"8 150 slow_thing overloads; expect a second instance on h1"
	"30 250 both overload and h1 has no free core: expect the next instance on another host"
	"55 350 more load: more instances remotely, carrying part of the traffic over the tunnel"
)
if ((HOSTS == 1)); then
	STEPS[2]="30 250 both overload and h1 has no free core: with no other host, expect \"no capacity\""
	STEPS[3]="55 350 more load, still nowhere to go"
fi

# The final act, at FINAL_ACT % of the duration (with more than one host):
# the operator pins the instances that run as the service's minimum, then
# the remote host with the most of them dies (kill -9 of its manager; its
# NFs go with it).  The policy repairs: the lost instances start elsewhere,
# with no host asking ("origin": null), and onvm-top lists each repair.
FINAL_ACT=78
final_act() {
	local i count total=0 victim=0 most=0
	for ((i = 1; i <= HOSTS; i++)); do
		count=$(instances_of "$RUN/h$i.stats" "$SERVICE" | wc -l)
		total=$((total + count))
		((i > 1 && count > most)) && most=$count victim=$i
	done
	if ((victim == 0)); then
		printf '>>> demo: final act skipped: no host but h1 runs slow_thing\n'
		return
	fi
	echo "{\"services\": [{\"id\": $SERVICE, \"min\": $total}]}" >"$RUN/services.json.new"
	mv "$RUN/services.json.new" "$RUN/services.json"
	local reloads
	reloads=$(grep -c "reloaded --services" "$RUN/policy.log" || true)
	kill -HUP "$POLICY_PID"
	local deadline=$((SECONDS + 5)) # a warning, not a failure: the act goes on
	until (($(grep -c "reloaded --services" "$RUN/policy.log") > reloads)); do
		if ((SECONDS >= deadline)); then
			printf '>>> demo: the policy did not reread %s\n' "$RUN/services.json"
			break
		fi
		sleep 0.1
	done
	printf '>>> demo: final act: slow_thing declared min %d (what runs now); h%d, with %d of them, dies (kill -9): expect %d repairs elsewhere\n' \
		"$total" "$victim" "$most" "$most"
	kill -9 "${MGR_PIDS[victim - 1]}"
}

drive_load() {
	local step at pct what now=0
	for step in "${STEPS[@]}"; do
		read -r at pct what <<<"$step"
		at=$((DURATION * at * 10)) # in ms
		((at > now)) && sleep "$(printf '%d.%03d' $(((at - now) / 1000)) $(((at - now) % 1000)))"
		now=$at
		echo $((CAPACITY * pct / 100)) >"$RUN/rate.new"
		mv "$RUN/rate.new" "$RUN/rate"
		printf '>>> demo: offered load %d pps = %d.%d x one slow_thing: %s\n' \
			$((CAPACITY * pct / 100)) $((pct / 100)) $((pct % 100 / 10)) "$what"
	done
	((HOSTS > 1)) || return 0
	at=$((DURATION * FINAL_ACT * 10))
	sleep "$(printf '%d.%03d' $(((at - now) / 1000)) $(((at - now) % 1000)))"
	final_act
}

say "one slow_thing handles $CAPACITY pps; the load rises for $DURATION s (Ctrl-C stops early)"
echo
drive_load &
DRIVER_PID=$!
trap 'INTERRUPTED=1' INT TERM
# shellcheck disable=SC2046
"${ON_CONTROL[@]}" "$BUILD/onvm-top" $(onvm_client_tls_args monitor) -s "$SERVICE" -g "$GEN_SERVICE" \
	-T "$RUN/timeline.tsv" \
	-d "$DURATION" 2>"$RUN/top.log" | tee -i "$RUN/top.out" || true
trap 'exit 130' INT TERM
onvm_stop -TERM "$DRIVER_PID"
DRIVER_PID=

# ---- results ----

echo
say "stopping the cluster"
stop_processes
sed -n '/^== reaction times/,$p' "$RUN/top.out" >"$SRC/run/demo-summary.txt"
cp "$RUN/timeline.tsv" "$SRC/run/demo-timeline.tsv" 2>/dev/null || true
cp "$RUN/bus.trace" "$SRC/run/demo-bus.trace"

# gnuplot commands marking each scale-out's decision on the plot.
scale_out_marks() {
	awk '
		/^scale-out [0-9]+: service .* -> new instance on / {
			target = $0; sub(/.* -> new instance on /, "", target); sub(/,.*/, "", target)
		}
		/^  decision .*\(at \+[0-9.]+ s\)/ && target != "" {
			t = $0; sub(/.*\(at \+/, "", t); sub(/ s\).*/, "", t)
			printf "set arrow from %s, graph 0 to %s, graph 1 nohead dt 2 lc rgb \"gray40\"\n", t, t
			printf "set label \"%s\" at %s, graph 0.98 right rotate by 90 offset -0.2,0 font \",9\"\n", target, t
			target = ""
		}' "$SRC/run/demo-summary.txt"
}

# axis_max FIRST LAST: 1.15 x the largest value of columns FIRST..LAST of the timeline (>= 1).
axis_max() {
	awk -v first="$1" -v last="$2" '!/^#/ { for (i = first; i <= last; i++) if ($i > max) max = $i }
		END { print (max * 1.15 > 1 ? max * 1.15 : 1) }' "$RUN/timeline.tsv"
}

plot_timeline() {
	local terminal=pngcairo
	gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1 || terminal=png
	gnuplot >"$RUN/gnuplot.log" 2>&1 <<EOF
set terminal $terminal size 1200,650 noenhanced
set output '$SRC/run/demo-timeline.png'
set title "Distributed OpenNetVM demo: $HOSTS hosts x $CORES NF cores, slow_thing $CAPACITY pps per instance, engine $ENGINE"
set xlabel 'seconds'
set ylabel 'packets per second'
set y2label 'instances of slow_thing'
set ytics nomirror
set y2tics 1
set yrange [0:$(axis_max 2 4)]
set y2range [0:$(axis_max 5 5)]
set grid
set key outside bottom center horizontal
$(scale_out_marks)
plot '$RUN/timeline.tsv' using 1:2 with lines lw 2 title 'offered', \
     '' using 1:3 with lines lw 2 title 'delivered', \
     '' using 1:4 with lines lw 2 title 'dropped', \
     '' using 1:6 with lines lw 1 title 'unserved (no instance anywhere)', \
     '' using 1:5 axes x1y2 with steps lw 3 dt 2 title 'instances of slow_thing (right axis)'
EOF
}
if plot_timeline; then
	say "timeline plot: run/demo-timeline.png (data: run/demo-timeline.tsv)"
else
	say "could not draw the plot (see run/demo/gnuplot.log)"
fi
say "bus trace: run/demo-bus.trace ($(wc -l <"$SRC/run/demo-bus.trace") messages; try:" \
	"${BUILD#"$SRC"/}/onvm-policy --replay run/demo-bus.trace)"
say "reaction times: run/demo-summary.txt"
grep '^scale-out [0-9]*: service [0-9]* [^ ]* -> ' "$SRC/run/demo-summary.txt" || say "no scale-out happened"
grep '^repair [0-9]*: ' "$SRC/run/demo-summary.txt" || ((HOSTS == 1)) || say "no repair happened"
((INTERRUPTED)) && say "interrupted"
exit $((INTERRUPTED ? 130 : 0))
