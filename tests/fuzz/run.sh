#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# run.sh - build the libFuzzer targets with clang and run each for a bounded
# time; any crash, leak or sanitizer report fails.
#
#   tests/fuzz/run.sh [SECONDS]      (default $ONVM_FUZZ_SECONDS or 30 per target)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-${ONVM_FUZZ_SECONDS:-30}}
out=${ONVM_FUZZ_BUILD:-build-fuzz}
mkdir -p "$out"
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Ibus -Ipolicy)
bus_sources=(bus/codec.c bus/topics.c bus/trace.c bus/json_scan.c bus/bus_err.c)
policy_sources=(policy/params.c policy/view.c policy/pending.c policy/scale_in.c
	policy/engines.c policy/core.c policy/ingest.c policy/replay.c policy/service_rules.c)

clang "${flags[@]}" tests/fuzz/fuzz_bus_decode.c "${bus_sources[@]}" -ljansson \
	-o "$out/fuzz_bus_decode"
clang "${flags[@]}" tests/fuzz/fuzz_policy_replay.c "${policy_sources[@]}" "${bus_sources[@]}" \
	-ljansson -ldl -lm -o "$out/fuzz_policy_replay"

run() {
	local name=$1
	shift
	local corpus="$out/corpus_$name"
	mkdir -p "$corpus"
	echo "=== fuzz $name for ${seconds}s"
	"$out/$name" -max_total_time="$seconds" -print_final_stats=1 "$corpus" "$@" \
		>"$out/$name.log" 2>&1 || { tail -n 40 "$out/$name.log"; echo "fuzz $name FAILED"; exit 1; }
	grep -E "stat::number_of_executed_units" "$out/$name.log" | sed "s/^/$name: /"
}
run fuzz_bus_decode tests/fuzz/corpus
run fuzz_policy_replay -max_len=65536 tests/traces
echo "fuzz: no crash, leak or sanitizer report"
