#!/usr/bin/env bash
# dp.sh - data-plane throughput: onvm port -> NF -> port against testpmd.
#
# Both run on the same vdevs (two net_null ports, 64-byte packets) with the
# same number of lcores: three, on the machine's CPUs.  onvm: control + RX/TX +
# one forwarding NF (port 0 -> NF -> port 1 and back); testpmd: main + two
# io-forwarding lcores.  Also a two-NF chain.  Prints Mpps of each and, last,
# dp_ratio: <onvm Mpps / testpmd Mpps>.
#
#   sudo tests/bench/dp.sh [SECONDS]     (default 6 s per measurement)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-6}
BUILD=${ONVM_BUILD:-build}
WARMUP=2
PREFIX=onvmbench_$$
TMP=$(mktemp -d /tmp/onvm_bench.XXXXXX)
ncpu=$(nproc)

bash dp/setup-host.sh --no-packages >/dev/null
[[ -x $BUILD/onvm-mgr ]] || { cmake -S . -B "$BUILD" >/dev/null && cmake --build "$BUILD" -j"$ncpu" >/dev/null; }

cleanup() {
	pkill -INT -f -- "--file-prefix=$PREFIX" 2>/dev/null || true
	sleep 1
	pkill -9 -f -- "--file-prefix=$PREFIX" 2>/dev/null || true
	rm -f /dev/hugepages/${PREFIX}*map_* 2>/dev/null
	rm -rf /var/run/dpdk/${PREFIX}* "$TMP"
}
trap cleanup EXIT

# Three lcores each: testpmd main + 2 forwarding; onvm control + RX/TX, and
# the NF's own lcore 2 (the manager maps NF lcores onto CPUs modulo their count).
lcores="0@0,1@$((1 % ncpu)),2@$((2 % ncpu))"
mgr_lcores="0@0,1@$((1 % ncpu))"

# Total port TX counter in a manager stats file.
port_tx_total() { awk '$1 == "port" { total += $6 } END { print total + 0 }' "$1"; }
stats_seq() { awk 'NR == 1 { print $2 }' "$1"; }

# onvm_mpps NAME CHAIN...: run a manager with the chain's NFs, print Mpps.
onvm_mpps() {
	local name=$1 services=$2 chain=$3 nfs=$4
	local stats=$TMP/$name.stats
	cat >"$TMP/catalog.json" <<JSON
{"services": [
  {"id": 1, "name": "fwd_a", "exec": "$PWD/$BUILD/examples/simple_forward"},
  {"id": 2, "name": "fwd_b", "exec": "$PWD/$BUILD/examples/simple_forward"}
]}
JSON
	"$BUILD/onvm-mgr" --lcores="$mgr_lcores" --file-prefix="$PREFIX$name" --vdev=net_null0 \
		--vdev=net_null1 -- -c "$TMP/catalog.json" -k 2-$((1 + nfs)) -s "$services" \
		-p "0:$chain>1" -p "1:$chain>0" -q -t 500 -f "$stats" >"$TMP/$name.log" 2>&1 &
	local pid=$!
	local deadline=$((SECONDS + 20))
	until [[ $(grep -c "event spawned" "$TMP/$name.log" 2>/dev/null) -ge $nfs ]]; do
		((SECONDS < deadline)) || { cat "$TMP/$name.log" >&2; return 1; }
		sleep 0.1
	done
	sleep "$WARMUP"
	local tx1 t1 tx2 t2
	tx1=$(port_tx_total "$stats")
	t1=$(awk 'NR == 1 { print $4 }' "$stats")
	sleep "$SECONDS_PER_RUN"
	tx2=$(port_tx_total "$stats")
	t2=$(awk 'NR == 1 { print $4 }' "$stats")
	kill -INT "$pid"
	wait "$pid" || true
	awk -v a="$tx1" -v b="$tx2" -v t1="$t1" -v t2="$t2" 'BEGIN { printf "%.2f\n", (b - a) / ((t2 - t1) / 1000) / 1e6 }'
}

testpmd_mpps() {
	local log=$TMP/testpmd.log
	dpdk-testpmd --lcores="$lcores" --no-pci --file-prefix="${PREFIX}pmd" --vdev=net_null0 \
		--vdev=net_null1 -- --forward-mode=io --nb-cores=2 --stats-period=1 \
		--no-lsc-interrupt --auto-start >"$log" 2>&1 </dev/null &
	local pid=$!
	sleep $((WARMUP + SECONDS_PER_RUN))
	kill -INT "$pid" 2>/dev/null
	wait "$pid" || true
	# Mean of the per-second Tx-pps reports after the warm-up, summed over ports.
	awk -v skip="$WARMUP" '
		/Tx-pps:/ { n++; port = (n - 1) % 2; if (port == 0) report++;
			    if (report > skip) { sum += $2; count++ } }
		END { if (count) printf "%.2f\n", sum / (count / 2) / 1e6; else print "0" }' "$log"
}

echo "dp bench: $ncpu CPUs, lcores $lcores, ${SECONDS_PER_RUN}s per run, 64-byte packets on net_null"
pmd=$(testpmd_mpps)
echo "testpmd io-forward (2 forwarding lcores):      $pmd Mpps"
one=$(onvm_mpps one 1 1 1)
echo "onvm port -> simple_forward -> port (1 NF):    $one Mpps"
two=$(onvm_mpps two 1,2 1,2 2)
echo "onvm port -> fwd -> fwd -> port (2-NF chain):  $two Mpps (4 busy threads on $ncpu CPUs)"
if command -v perf >/dev/null && perf stat -e instructions true 2>&1 | grep -q "not supported"; then
	echo "perf: no hardware counters on this machine (perf record still samples; see README)"
elif command -v perf >/dev/null; then
	echo "perf: hardware counters available: perf stat -p \$(pidof onvm-mgr) during a run"
fi
awk -v a="$one" -v b="$pmd" 'BEGIN { printf "dp_ratio: %.3f\n", (b > 0 ? a / b : 0) }'
