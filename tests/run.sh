#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# run.sh - the project's test command (the README's, and CI's).
#
# Sets the machine up (packages, hugepages), then builds twice, plainly and
# with AddressSanitizer + UndefinedBehaviorSanitizer, and runs every test
# (cmocka unit tests and integration tests with real DPDK, real NFs and real
# brokers) against each build; last, runs the libFuzzer targets for a bounded
# time (ONVM_FUZZ_SECONDS, default 30 each).
#
#   sudo tests/run.sh [ctest args...]      e.g. tests/run.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."

bash dp/setup-host.sh
jobs=$(nproc)

build_and_test() {
	local dir=$1
	shift
	echo "=== build $dir ($*)"
	cmake -S . -B "$dir" "$@" >/dev/null
	cmake --build "$dir" -j"$jobs"
	echo "=== test $dir"
	ctest --test-dir "$dir" --output-on-failure -j"$jobs" "${CTEST_ARGS[@]}"
}

CTEST_ARGS=("$@")
build_and_test build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DONVM_WERROR=ON
build_and_test build-asan -DCMAKE_BUILD_TYPE=Debug -DONVM_SANITIZE=ON -DONVM_WERROR=ON
bash tests/fuzz/run.sh
