#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
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
# The machine's CPUs are shared with other work, which takes turns from one
# system's run or another's: each run also reads the CPU time its two
# busiest threads (the forwarding ones) got, and the "per CPU" figures divide
# the Mpps by the smaller of their shares of the run's wall time, i.e. the
# rate had both had their CPU; the ratios are of those (the raw ones are
# printed too).
# net_null's frames are all alike, so they are one flow: with N instances the
# flow's one instance does all the work and the others idle; the ratio shows
# what choosing among N members costs per packet.
#
# DP_VARIANTS="label=DIR ..." also runs, in every round, onvm (1 and N
# instances) from each DIR's onvm-mgr and examples/simple_forward (copies of
# other builds), to compare versions under the same load.
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
# Not onvm*: other runs' cleanup (setup-host.sh) sweeps those it thinks stale.
PREFIX=dpbench_$$_
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

# onvm_mpps NAME NFS [DIR]: a manager (DIR's, default the build's) whose service 1 has NFS instances, all on
# CPU 0 (NF lcores 2, 4, ... map onto CPU lcore % 2).  Each *_mpps sets
# result to the Mpps it measured.
onvm_mpps() {
	local name=$1 nfs=$2 bin=${3:-$PWD/$BUILD} cores services
	local prefix=$PREFIX$name stats=$TMP/$name.stats
	cat >"$TMP/$name.catalog.json" <<JSON
{"services": [{"id": 1, "name": "fwd", "exec": "$bin/examples/simple_forward"}]}
JSON
	cores=$(seq -s, 2 2 $((2 * nfs)))
	services=$(printf '1,%.0s' $(seq "$nfs"))
	prefixes+=("$prefix")
	start "$name" "$bin/onvm-mgr" --lcores=0@0,1@1 --file-prefix="$prefix" --vdev=net_null0 \
		--vdev=net_null1 -- -c "$TMP/$name.catalog.json" -k "$cores" -s "${services%,}" \
		-p "0:1>1" -p "1:1>0" -q -t 500 -f "$stats"
	local pid=$last_pid
	wait_for 20 spawned_at_least "$TMP/$name.log" "$nfs" || { cat "$TMP/$name.log" >&2; return 1; }
	sleep "$WARMUP"
	local tx1 t1 tx2 t2
	tx1=$(port_tx_total "$stats")
	t1=$(awk 'NR == 1 { print $4 }' "$stats")
	cpu_snapshot "$TMP/cpu1" "$pid"
	sleep "$SECONDS_PER_RUN"
	tx2=$(port_tx_total "$stats")
	t2=$(awk 'NR == 1 { print $4 }' "$stats")
	cpu_snapshot "$TMP/cpu2" "$pid"
	stop_pid "$pid"
	result=$(awk -v a="$tx1" -v b="$tx2" -v t1="$t1" -v t2="$t2" \
		'BEGIN { printf "%.2f\n", (t2 > t1 ? (b - a) / ((t2 - t1) / 1000) / 1e6 : 0) }')
	share=$(cpu_share "$TMP/cpu1" "$TMP/cpu2")
	result_cpu=$(per_cpu "$result" "$share")
}

# Descendants of the given pids, themselves included.
tree_pids() {
	ps -e -o pid=,ppid= | awk -v roots="$*" '
		BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
		{ parent[$1] = $2 }
		END { do { added = 0; for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; added = 1 } } while (added)
		      for (p in keep) print p }'
}
# cpu_snapshot FILE PID...: "tid ticks" of every thread of the trees, then "wall <ns>".
cpu_snapshot() {
	local out=$1 pid task
	shift
	for pid in $(tree_pids "$@"); do
		for task in /proc/"$pid"/task/*; do
			# utime and stime: fields 14 and 15, 12 and 13 after "pid (comm) "
			# a thread may end between the glob and the read
			{ sed 's/.*) //' "$task/stat" 2>/dev/null || true; } |
				awk -v t="${task##*/}" '{ print t, $12 + $13 }'
		done
	done >"$out"
	echo "wall $(date +%s%N)" >>"$out"
}
# cpu_share BEFORE AFTER: the smaller CPU share (0..1) of the two threads that got the most.
cpu_share() {
	awk -v hz="$(getconf CLK_TCK)" '
		NR == FNR { if ($1 == "wall") w1 = $2; else t1[$1] = $2; next }
		$1 == "wall" { w2 = $2; next }
		{ d = $2 - t1[$1]; if (d > top1) { top2 = top1; top1 = d } else if (d > top2) top2 = d }
		END { wall = (w2 - w1) / 1e9; share = (wall > 0 ? top2 / hz / wall : 0)
		      printf "%.3f\n", (share > 1 ? 1 : share) }' "$1" "$2"
}
# per_cpu MPPS SHARE
per_cpu() { awk -v r="$1" -v s="$2" 'BEGIN { printf "%.2f\n", (s > 0.05 ? r / s : 0) }'; }

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
	# Under heavy load the example was seen to stall (its counters stop):
	# such a run is left out, and said so.
	if ! wait_for $((blocks + 10)) mp_blocks_at_least $((blocks - SECONDS_PER_RUN)) ||
		! cpu_snapshot "$TMP/cpu1" "$server" "$client" ||
		! wait_for $((SECONDS_PER_RUN + 10)) mp_blocks_at_least "$blocks"; then
		echo "dp.sh: client_server_mp stalled; run left out (logs: mp_server, mp_client)" >&2
		stop_pid "$client"
		stop_pid "$server"
		result=skip
		return 0
	fi
	cpu_snapshot "$TMP/cpu2" "$server" "$client"
	stop_pid "$client"
	stop_pid "$server"
	result=$(awk -v skip="$WARMUP" -v runs="$SECONDS_PER_RUN" '
		/PORTS/ { block++; tx[block] = 0 }
		/^Port [0-9]+ - rx:/ { tx[block] += $NF }
		END { first = block - runs; if (first < 1 + skip) first = 1 + skip
		      printf "%.2f\n", (block > first ? (tx[block] - tx[first]) / (block - first) / 1e6 : 0) }
	' "$TMP/mp_server.log")
	share=$(cpu_share "$TMP/cpu1" "$TMP/cpu2")
	result_cpu=$(per_cpu "$result" "$share")
}

testpmd_mpps() {
	local prefix=${PREFIX}pmd log=$TMP/testpmd.log
	prefixes+=("$prefix")
	start testpmd dpdk-testpmd --lcores=0@0,1@1,2@0 --no-pci --file-prefix="$prefix" \
		--vdev=net_null0 --vdev=net_null1 -- --forward-mode=io --nb-cores=2 \
		--stats-period=1 --no-lsc-interrupt --auto-start
	local pid=$last_pid
	sleep $((WARMUP + 1)) # testpmd's first report comes a second in
	cpu_snapshot "$TMP/cpu1" "$pid"
	sleep "$SECONDS_PER_RUN"
	cpu_snapshot "$TMP/cpu2" "$pid"
	stop_pid "$pid"
	# Mean of the per-second Tx-pps reports after the warm-up, summed over ports.
	result=$(awk -v skip="$WARMUP" '
		/Tx-pps:/ { n++; port = (n - 1) % 2; if (port == 0) report++;
			    if (report > skip) { sum += $2; count++ } }
		END { if (count) printf "%.2f\n", sum / (count / 2) / 1e6; else print "0" }' "$log")
	share=$(cpu_share "$TMP/cpu1" "$TMP/cpu2")
	result_cpu=$(per_cpu "$result" "$share")
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
declare -A raw cpu # "system" -> the runs' Mpps, raw and per CPU
read -r -a variants <<<"${DP_VARIANTS:-}"
keep() {
	# skip, or nothing forwarded at all (a peer that crashed): not a measurement
	[[ $result == skip || $result == 0.00 ]] && { line+=" $1 left out"; return; }
	raw[$1]+="$result " cpu[$1]+="$result_cpu " line+=" $1 $result ($result_cpu/cpu, share $share)"
}
for ((round = 1; round <= ROUNDS; round++)); do
	line="round $round:"
	# Called in this shell, not in $(...): the pids they start stay ours to stop.
	testpmd_mpps
	keep testpmd
	mp_mpps
	keep mp
	onvm_mpps "one$round" 1
	keep onvm
	onvm_mpps "multi$round" "$INSTANCES"
	keep onvm_multi
	for variant in "${variants[@]}"; do
		onvm_mpps "v${round}_1_${variant%%=*}" 1 "$(realpath "${variant#*=}")"
		keep "${variant%%=*}"
		onvm_mpps "v${round}_n_${variant%%=*}" "$INSTANCES" "$(realpath "${variant#*=}")"
		keep "${variant%%=*}_multi"
	done
	echo "$line"
done
# shellcheck disable=SC2086 # the lists are words
both() { # both LABEL SYSTEM
	report "$1" ${raw[$2]}
	report "  per CPU" ${cpu[$2]}
}
both "testpmd io-forward (2 lcores)" testpmd
both "client_server_mp (server + 1 client)" mp
both "onvm port -> NF -> port (1 instance)" onvm
both "onvm, a service of $INSTANCES instances" onvm_multi
for variant in "${variants[@]}"; do
	both "variant ${variant%%=*}: 1 instance" "${variant%%=*}"
	both "variant ${variant%%=*}: $INSTANCES instances" "${variant%%=*}_multi"
done
if command -v perf >/dev/null && perf stat -e instructions true 2>&1 | grep -q "not supported"; then
	echo "perf: no hardware counters here; perf record -e cpu-clock -p \$(pidof onvm-mgr) samples"
fi
ratio() { # ratio NAME A B (the lists' medians)
	# shellcheck disable=SC2086
	awk -v n="$1" -v a="$(median $2)" -v b="$(median $3)" \
		'BEGIN { printf "%s: %.3f\n", n, (b > 0 ? a / b : 0) }'
}
ratio multi_ratio_raw "${raw[onvm_multi]}" "${raw[onvm]}"
ratio peer_ratio_raw "${raw[onvm]}" "${raw[mp]}"
ratio dp_ratio_raw "${raw[onvm]}" "${raw[testpmd]}"
ratio multi_ratio "${cpu[onvm_multi]}" "${cpu[onvm]}"
ratio peer_ratio "${cpu[onvm]}" "${cpu[mp]}"
ratio dp_ratio "${cpu[onvm]}" "${cpu[testpmd]}"
