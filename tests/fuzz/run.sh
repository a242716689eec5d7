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
# The fuzzers link the project's own libraries (onvm_bus_codec and
# onvm_policy_core), built with clang and the fuzzer's instrumentation.
cmake -S . -B "$out" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DONVM_FUZZ=ON \
	-DONVM_TESTS=OFF -DONVM_WERROR=ON >/dev/null
cmake --build "$out" -j"$(nproc)" --target fuzz_bus_decode fuzz_policy_replay fuzz_exporter >/dev/null

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
# The exporter starts from the documented messages, as mosquitto_sub -v prints them.
mkdir -p "$out/seed_exporter"
grep -h '^    onvm/' docs/bus.md | sed 's/^    //' >"$out/seed_exporter/bus_md"
run fuzz_exporter -max_len=65536 "$out/seed_exporter"
echo "fuzz: no crash, leak or sanitizer report"
