#!/usr/bin/env bash
# dp.sh - data-plane throughput: onvm port -> NF -> port against its peers.
#
# All run on the same vdevs (two net_null ports, 64-byte packets) and the
# same two CPUs: one busy thread on CPU 1 that owns the ports, one on CPU 0
# that forwards, the rest mostly asleep on CPU 0.
#   onvm              the manager's RX/TX lcore on CPU 1, one simple_forward
#                     NF on CPU 0 (port 0 -> NF -> port 1 and back);
#   onvm, N instances the same with a service of N instances, all on CPU 0;
#   client_server_mp  DPDK's multi-process example that onvm grew from (from
#                     the dpdk-doc package, built here with its Makefile):
#                     the server's RX lcore on CPU 1, one client on CPU 0
#                     (the client transmits on the ports itself);
#   testpmd io        two forwarding lcores, one on each CPU.
# Runs alternate (testpmd, client_server_mp, onvm, onvm N) ROUNDS times in
# one invocation, so that the machine's other load falls on all of them; each
# prints the median Mpps with the spread (min..max), then
#   multi_ratio  onvm with N instances / onvm with one (the issue: >= 0.9)
#   peer_ratio   onvm / client_server_mp
#   dp_ratio     onvm / testpmd                      (the last line)
# net_null's frames are all alike, so they are one flow: with N instances the
# flow's one instance does all the work and the others idle; the ratio shows
# what choosing among N members costs per packet.
#
#   sudo tests/bench/dp.sh [SECONDS [ROUNDS [INSTANCES]]]   (default 5 3 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-5}
ROUNDS=${2:-3}
INSTANCES=${3:-3}
[[ $SECONDS_PER_RUN =~ ^[1-9][0-9]*$ && $ROUNDS =~ ^[1-9][0-9]*$ &&
	$INSTANCES =~ ^[2-9]$ ]] || { echo "usage: $0 [SECONDS [ROUNDS [INSTANCES 2..9]]]" >&2; exit 2; }
BUILD=${ONVM_BUILD:-build}
WARMUP=2
PREFIX=onvmbench_$$_
TMP=$(mktemp -d /tmp/onvm_bench.XXXXXX)
MP_SRC=/usr/share/dpdk/examples/multi_process/client_server_mp
MP_DIR=$BUILD/bench/client_server_mp

pids=()	    # every process this script started
prefixes=() # every --file-prefix it used

stop_pid() {
	local pid=$1 deadline=$((SECONDS + 5))
	kill -0 "$pid" 2>/dev/null || return 0
	kill -INT "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local pid prefix
	for pid in "${pids[@]}"; do stop_pid "$pid"; done
	for prefix in "${prefixes[@]}"; do
		rm -f /dev/hugepages/"${prefix}"map_*
		rm -rf /var/run/dpdk/"${prefix:?}"
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

# Hugepages: set up only when missing (setup-host.sh also clears other runs'
# stale files, which is not this script's business when they are there).
if ! grep -qs " /dev/hugepages hugetlbfs " /proc/mounts ||
	(($(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) < 512)); then
	bash dp/setup-host.sh --no-packages >/dev/null
fi
# Always the incremental build: a stale binary would measure old code.
cmake -S . -B "$BUILD" >/dev/null
cmake --build "$BUILD" -j2 >/dev/null
if [[ ! -d $MP_SRC ]]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dpdk-doc \
		>/dev/null || { echo "dp.sh: needs the dpdk-doc package ($MP_SRC)" >&2; exit 1; }
fi
mkdir -p "$MP_DIR"
cp -ru "$MP_SRC"/. "$MP_DIR"/
make -C "$MP_DIR" >"$TMP/mp_build.log" 2>&1 || { cat "$TMP/mp_build.log" >&2; exit 1; }

# Run NAME CMD...: start a process in the background, remember its pid.
start() {
	local log=$TMP/$1.log
	shift
	"$@" >"$log" 2>&1 </dev/null &
	pids+=($!)
	last_pid=$!
}

wait_for() { # wait_for SECONDS CONDITION...: poll the condition until true or time is up
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
}

# Total port TX counter in a manager stats file.
port_tx_total() { awk '$1 == "port" { total += $6 } END { print total + 0 }' "$1"; }
spawned_at_least() { (($(grep -c "event spawned" "$1" 2>/dev/null) >= $2)); }

cat >"$TMP/catalog.json" <<JSON
{"services": [{"id": 1, "name": "fwd", "exec": "$PWD/$BUILD/examples/simple_forward"}]}
JSON

# onvm_mpps NAME NFS: a manager whose service 1 has NFS instances, all on
# CPU 0 (NF lcores 2, 4, ... map onto CPU lcore % 2).  Each *_mpps sets
# result to the Mpps it measured.
onvm_mpps() {
	local name=$1 nfs=$2 cores services
	local prefix=$PREFIX$name stats=$TMP/$name.stats
	cores=$(seq -s, 2 2 $((2 * nfs)))
	services=$(printf '1,%.0s' $(seq "$nfs"))
	prefixes+=("$prefix")
	start "$name" "$BUILD/onvm-mgr" --lcores=0@0,1@1 --file-prefix="$prefix" --vdev=net_null0 \
		--vdev=net_null1 -- -c "$TMP/catalog.json" -k "$cores" -s "${services%,}" \
		-p "0:1>1" -p "1:1>0" -q -t 500 -f "$stats"
	local pid=$last_pid
	wait_for 20 spawned_at_least "$TMP/$name.log" "$nfs" || { cat "$TMP/$name.log" >&2; return 1; }
	sleep "$WARMUP"
	local tx1 t1 tx2 t2
	tx1=$(port_tx_total "$stats")
	t1=$(awk 'NR == 1 { print $4 }' "$stats")
	sleep "$SECONDS_PER_RUN"
	tx2=$(port_tx_total "$stats")
	t2=$(awk 'NR == 1 { print $4 }' "$stats")
	stop_pid "$pid"
	result=$(awk -v a="$tx1" -v b="$tx2" -v t1="$t1" -v t2="$t2" \
		'BEGIN { printf "%.2f\n", (t2 > t1 ? (b - a) / ((t2 - t1) / 1000) / 1e6 : 0) }')
}

mp_blocks_at_least() { (($(grep -c PORTS "$TMP/mp_server.log" 2>/dev/null) >= $1)); }

# client_server_mp: the server's main lcore 0 does RX on CPU 1; its lcore 1
# (CPU 0) only prints the stats once a second; the client is lcore 2 on CPU 0
# (lcore ids differ across the processes: they index the mempool's caches).
mp_mpps() {
	local prefix=${PREFIX}mp
	prefixes+=("$prefix")
	start mp_server stdbuf -oL "$MP_DIR/mp_server/build/mp_server" --lcores=0@1,1@0 --no-pci \
		--file-prefix="$prefix" --vdev=net_null0 --vdev=net_null1 -- -p 3 -n 1
	local server=$last_pid
	wait_for 20 grep -q "Finished Process Init" "$TMP/mp_server.log" ||
		{ cat "$TMP/mp_server.log" >&2; return 1; }
	start mp_client "$MP_DIR/mp_client/build/mp_client" --lcores=2@0 --no-pci \
		--proc-type=secondary --file-prefix="$prefix" -- -n 0
	local client=$last_pid
	# The server prints a block of counters every second (after 3 s): count
	# the blocks rather than trust the time they were read at.
	local blocks=$((3 + WARMUP + SECONDS_PER_RUN + 1))
	wait_for $((blocks + 10)) mp_blocks_at_least "$blocks" ||
		{ cat "$TMP/mp_server.log" "$TMP/mp_client.log" >&2; return 1; }
	stop_pid "$client"
	stop_pid "$server"
	result=$(awk -v skip="$WARMUP" -v runs="$SECONDS_PER_RUN" '
		/PORTS/ { block++; tx[block] = 0 }
		/^Port [0-9]+ - rx:/ { tx[block] += $NF }
		END { first = block - runs; if (first < 1 + skip) first = 1 + skip
		      printf "%.2f\n", (block > first ? (tx[block] - tx[first]) / (block - first) / 1e6 : 0) }
	' "$TMP/mp_server.log")
}

testpmd_mpps() {
	local prefix=${PREFIX}pmd log=$TMP/testpmd.log
	prefixes+=("$prefix")
	start testpmd dpdk-testpmd --lcores=0@0,1@1,2@0 --no-pci --file-prefix="$prefix" \
		--vdev=net_null0 --vdev=net_null1 -- --forward-mode=io --nb-cores=2 \
		--stats-period=1 --no-lsc-interrupt --auto-start
	local pid=$last_pid
	sleep $((WARMUP + SECONDS_PER_RUN))
	stop_pid "$pid"
	# Mean of the per-second Tx-pps reports after the warm-up, summed over ports.
	result=$(awk -v skip="$WARMUP" '
		/Tx-pps:/ { n++; port = (n - 1) % 2; if (port == 0) report++;
			    if (report > skip) { sum += $2; count++ } }
		END { if (count) printf "%.2f\n", sum / (count / 2) / 1e6; else print "0" }' "$log")
}

# median_spread VALUES...: "median (min..max)"
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
spread() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%s..%s", v[1], v[NR] }'; }
report() { # report LABEL VALUES...
	local label=$1
	shift
	printf '%-40s %6s Mpps  (spread %s; runs %s)\n' "$label" "$(median "$@")" "$(spread "$@")" "$*"
}

echo "dp bench: $(nproc) CPUs, ${SECONDS_PER_RUN}s per run, $ROUNDS rounds, 64-byte packets on net_null"
pmd=() mp=() one=() multi=()
for ((round = 1; round <= ROUNDS; round++)); do
	# Called in this shell, not in $(...): the pids they start stay ours to stop.
	testpmd_mpps; pmd+=("$result")
	mp_mpps; mp+=("$result")
	onvm_mpps "one$round" 1; one+=("$result")
	onvm_mpps "multi$round" "$INSTANCES"; multi+=("$result")
	echo "round $round: testpmd ${pmd[-1]}  client_server_mp ${mp[-1]}  onvm ${one[-1]}" \
		" onvm x$INSTANCES ${multi[-1]} Mpps"
done
report "testpmd io-forward (2 lcores)" "${pmd[@]}"
report "client_server_mp (server + 1 client)" "${mp[@]}"
report "onvm port -> NF -> port (1 instance)" "${one[@]}"
report "onvm, a service of $INSTANCES instances" "${multi[@]}"
m_pmd=$(median "${pmd[@]}") m_mp=$(median "${mp[@]}")
m_one=$(median "${one[@]}") m_multi=$(median "${multi[@]}")
if command -v perf >/dev/null && perf stat -e instructions true 2>&1 | grep -q "not supported"; then
	echo "perf: no hardware counters here; perf record -e cpu-clock -p \$(pidof onvm-mgr) samples"
fi
awk -v a="$m_multi" -v b="$m_one" 'BEGIN { printf "multi_ratio: %.3f\n", (b > 0 ? a / b : 0) }'
awk -v a="$m_one" -v b="$m_mp" 'BEGIN { printf "peer_ratio: %.3f\n", (b > 0 ? a / b : 0) }'
awk -v a="$m_one" -v b="$m_pmd" 'BEGIN { printf "dp_ratio: %.3f\n", (b > 0 ? a / b : 0) }'
