#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# coldstart.sh - where an NF's cold start goes: exec -> registered.
#
# One manager (as bus.sh's cold spawn has it); RUNS starts of bounce with
# the EAL arguments the manager's nursery gives an NF (dp/nf_process.c),
# each stopped once registered.  A launcher reads CLOCK_MONOTONIC just
# before its exec and hands it over in ONVM_START_PHASES, so nflib prints
# its phases from the exec on (nflib/onvm_phases.h):
#   main      exec -> onvm_nflib_init: the dynamic loader (DPDK's ~55 libraries), constructors
#   lock      waiting for other NFs' rte_eal_init (none here)
#   eal       rte_eal_init
#   attach    the manager's memzone, pools and rings
#   register  REGISTER -> the manager's answer (its control thread ticks every 0.5 ms)
# Then DEBUG_RUNS more with --log-level=lib.eal:debug, whose time-stamped EAL
# lines split "eal" (debug logging itself makes these runs slower):
#   cpu       rte_eal_cpu_init: ~5000 sysfs access() calls, every possible
#             lcore x NUMA node (it runs before EAL reads its options)
#   drivers   argument parsing, then dlopen of every .so in Debian's driver
#             directory (384 names, ~130 libraries and what they pull in:
#             ibverbs, mlx5, ...), config attach
#   bus       the multi-process channel, the vdev list from the primary, bus scans, IOVA mode
#   memory    hugepage info, memseg lists, mapping the primary's segments
#   rest      threads, service cores, device probe
# Medians of each; the last line is the median total.
#
#   sudo tests/bench/coldstart.sh [RUNS] [DEBUG_RUNS]      (defaults 15 and 5)
# MGR_EAL="..." adds EAL arguments to the manager (to compare a layout).
#
# Figures here (2 CPUs shared with other work, load 7-12; medians of 11, ms;
# the same runs alternated build / build-static, 2 Dec 2026):
#   shared DPDK (default):  main 2.8-4.2  eal 53-113  register 2.2-2.6  total 58-121
#                           eal: cpu 16-30  drivers 39-78  bus 1-1.6  memory 8-14
#   -DONVM_DPDK_STATIC=ON:  main 8.9-12.9  eal 23-29  register 2.5-4.1  total 36-44
#                           eal: cpu 14-24  drivers 1.3-1.4  bus 1-1.4  memory 4-8
#   (the static binary is 37 MB: its loader and constructors take longer,
#   the plugins are gone; bus.sh cold-plain p50 78-92 against 51-55 ms).
# Last line: coldstart_ms_p50: <ms>
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-15}
DEBUG_RUNS=${2:-5}
BUILD=${ONVM_BUILD:-build}
PREFIX=onvmbenchcold_$$
TMP=$(mktemp -d /tmp/onvm_bench_cold.XXXXXX)
MGR_PID=""

bash dp/setup-host.sh --no-packages >/dev/null
[[ -f $BUILD/CMakeCache.txt ]] || cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j2 >/dev/null

cleanup() {
	if [[ -n $MGR_PID ]]; then
		kill -INT "$MGR_PID" 2>/dev/null || true
		wait "$MGR_PID" 2>/dev/null || true
	fi
	rm -f /dev/hugepages/"$PREFIX"map_[0-9]*
	rm -rf "/var/run/dpdk/$PREFIX" "$TMP"
}
trap cleanup EXIT

# shellcheck disable=SC2086
"$BUILD/onvm-mgr" -l 0,1 --file-prefix="$PREFIX" --no-pci --vdev=net_null0,no-rx=1 ${MGR_EAL:-} -- \
	-k 2 -q >"$TMP/mgr.log" 2>&1 &
MGR_PID=$!
deadline=$((SECONDS + 30))
until grep -qs "onvm-mgr: up" "$TMP/mgr.log"; do
	kill -0 "$MGR_PID" 2>/dev/null && ((SECONDS < deadline)) || {
		echo "the manager did not come up:" >&2
		tail -n 5 "$TMP/mgr.log" >&2
		exit 1
	}
	sleep 0.1
done
grep "Selected IOVA" "$TMP/mgr.log" | sed 's/^/manager: /'

# start_once LOG EAL_LOG_LEVEL: one NF, from exec to registered, then stopped.
start_once() {
	local log=$1 level=$2 pid deadline=$((SECONDS + 30))
	perl -MTime::HiRes=clock_gettime,CLOCK_MONOTONIC -e \
		'$ENV{ONVM_START_PHASES} = sprintf("%.0f", clock_gettime(CLOCK_MONOTONIC) * 1e9);
		 exec @ARGV or die "exec: $!"' \
		"$BUILD/examples/bounce" --lcores=2@$((2 % $(nproc))) --proc-type=secondary --file-prefix="$PREFIX" \
		--no-pci --no-telemetry --log-level=lib.eal:"$level" -- -r 1 -n cold -- >"$log" 2>&1 &
	pid=$!
	until grep -qs "registered:" "$log"; do
		kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)) || {
			echo "the NF did not register:" >&2
			tail -n 5 "$log" >&2
			exit 1
		}
		sleep 0.005
	done
	kill -TERM "$pid"
	wait "$pid" || true
}

# median: of the numbers on stdin, one a line.
median() { sort -g | awk '{ v[NR] = $1 } END { printf "%.1f", NR ? v[int((NR + 1) / 2)] : 0 }'; }

for run in $(seq 1 "$RUNS"); do
	start_once "$TMP/nf-$run.log" warning
	grep -h "start phases" "$TMP/nf-$run.log" >>"$TMP/phases"
done
# "... main M lock L eal E attach A register R total T": field after each name.
field() { awk -v name="$1" '{ for (i = 1; i < NF; i++) if ($i == name) print $(i + 1) }' "$TMP/phases"; }
line="exec -> registered (median of $RUNS, ms):"
for name in main lock eal attach register total; do
	line+=" $name $(field $name | median)"
done
echo "$line"

# The EAL phases, from the time stamps (ms since exec) of its debug lines.
for run in $(seq 1 "$DEBUG_RUNS"); do
	log=$TMP/debug-$run.log
	start_once "$log" debug
	awk '
		function at(line) { return substr(line, 2, index(line, " ms]") - 2) + 0 }
		/start phases/ { for (i = 1; i < NF; i++) v[$i] = $(i + 1) }
		/Detected CPU lcores/ && !cpu { cpu = at($0) }
		/Multi-process socket/ && !mp { mp = at($0) }
		/Probing VFIO support/ && !vfio { vfio = at($0) }
		/Main lcore .* is ready/ && !ready { ready = at($0) }
		END {
			eal_start = v["main"] + v["lock"]; eal_end = eal_start + v["eal"]
			printf "%.3f %.3f %.3f %.3f %.3f %.3f\n", cpu - eal_start, mp - cpu, vfio - mp,
				ready - vfio, eal_end - ready, v["eal"]
		}' "$log" >>"$TMP/eal"
done
if ((DEBUG_RUNS > 0)); then
	line="inside rte_eal_init, debug log on (median of $DEBUG_RUNS, ms):"
	col=1
	for name in cpu drivers bus memory rest eal; do
		line+=" $name $(awk -v c=$col '{ print $c }' "$TMP/eal" | median)"
		col=$((col + 1))
	done
	echo "$line"
	echo "driver files EAL opened: $(grep -c 'open shared lib' "$TMP/debug-1.log")"
fi
echo "coldstart_ms_p50: $(field total | median)"
