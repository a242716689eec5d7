#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Replay every trace of tests/traces against its expect files (all rules of
# the engines), twice for byte-identical output, and once corrupted with bad
# lines, bad payloads and odd topics, which must change nothing. No broker,
# no DPDK: this test needs neither root nor hugepages.
set -u
ONVM_BUILD=${ONVM_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
ONVM_SRC=${ONVM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
export LSAN_OPTIONS="suppressions=$ONVM_SRC/tests/sanitizer/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
POLICY=$ONVM_BUILD/onvm-policy
TRACES=$ONVM_SRC/tests/traces
GEN=$TRACES/gen.sh
TMP=$(mktemp -d /tmp/onvm_policy_replay.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
failures=0

say() { printf '[policy_replay] %s\n' "$*"; }
fail() {
	say "FAIL: $*"
	failures=$((failures + 1))
}

[[ -x $POLICY ]] || { say "FAIL: no $POLICY"; exit 1; }

# The trace of NAME: committed, or generated.
trace_of() {
	local name=$1
	if [[ -f $TRACES/$name.jsonl ]]; then
		echo "$TRACES/$name.jsonl"
	elif [[ $name == many_hosts ]]; then
		[[ -f $TMP/many_hosts.jsonl ]] || bash "$GEN" many-hosts 300 >"$TMP/many_hosts.jsonl"
		echo "$TMP/many_hosts.jsonl"
	else
		return 1
	fi
}

# Committed traces are what their scenarios make.
for scn in "$TRACES"/*.scn; do
	name=$(basename "$scn" .scn)
	bash "$GEN" scenario "$scn" | cmp -s - "$TRACES/$name.jsonl" ||
		fail "$name.jsonl differs from what gen.sh makes of $name.scn"
done

# .args may name files beside the traces (--services NAME.services.json).
cd "$TRACES" || exit 1
checked=0
for expect in "$TRACES"/*.expect.json; do
	label=$(basename "$expect" .expect.json) # NAME or NAME.VARIANT
	name=${label%%.*}
	trace=$(trace_of "$name") || { fail "$label: no trace $name"; continue; }
	args=()
	[[ -f $TRACES/$label.args ]] && read -r -a args <"$TRACES/$label.args"
	if ! "$POLICY" --replay "$trace" --check "$expect" "${args[@]}" >"$TMP/$label.1" 2>"$TMP/$label.err"; then
		fail "$label: $(grep '^check:' "$TMP/$label.err" | tr '\n' ' ')"
		continue
	fi
	"$POLICY" --replay "$trace" "${args[@]}" >"$TMP/$label.2" 2>/dev/null
	cmp -s "$TMP/$label.1" "$TMP/$label.2" || fail "$label: two replays differ"
	bash "$GEN" corrupt <"$trace" >"$TMP/$label.dirty"
	"$POLICY" --replay "$TMP/$label.dirty" "${args[@]}" >"$TMP/$label.3" 2>"$TMP/$label.dirty.err" ||
		fail "$label: the corrupted trace made replay fail"
	cmp -s "$TMP/$label.1" "$TMP/$label.3" || fail "$label: the corrupted trace changed the decisions"
	grep -q "rejected payloads" "$TMP/$label.dirty.err" || fail "$label: no summary for the corrupted trace"
	checked=$((checked + 1))
done

# A shared-object engine (examples/engine_least_loaded.c), built here with
# the documented command: on scale_remote it prefers beta (as little load as
# gamma, more free cores).
if cc -shared -fPIC -I "$ONVM_SRC/policy" -I "$ONVM_SRC/bus" "$ONVM_SRC/examples/engine_least_loaded.c" \
	-o "$TMP/libengine_least_loaded.so" 2>"$TMP/cc.err"; then
	"$POLICY" --replay "$TRACES/scale_remote.jsonl" --engine "$TMP/libengine_least_loaded.so" \
		>"$TMP/plugin.out" 2>/dev/null || fail "replay with the shared-object engine failed"
	grep -q '"topic":"onvm/hosts/beta/cmd".*least-loaded' "$TMP/plugin.out" ||
		fail "the shared-object engine did not choose beta"
	"$POLICY" --replay "$TRACES/scale_remote.jsonl" --engine "$TMP/libengine_least_loaded.so" \
		--engine-args max_pps=1 >"$TMP/plugin2.out" 2>/dev/null
	grep -q 'target..:null' "$TMP/plugin2.out" || fail "engine args did not reach the engine"
	"$POLICY" --replay "$TRACES/scale_remote.jsonl" --engine "$TMP/libengine_least_loaded.so" \
		--engine-args nonsense >/dev/null 2>&1 && fail "bad engine args should fail"
	# A repair (no origin) placed by the plugin CMake builds: repair_offline
	# with its own expectations (not NAME.VARIANT.expect.json: it needs the
	# plugin's path).
	plugin=$ONVM_BUILD/examples/libengine_least_loaded.so
	[[ -f $plugin ]] || plugin=$TMP/libengine_least_loaded.so
	"$POLICY" --replay "$TRACES/repair_offline.jsonl" --engine "$plugin" \
		--services "$TRACES/repair_offline.services.json" \
		--check "$TRACES/repair_offline.least_loaded.check.json" >"$TMP/plugin3.out" 2>"$TMP/plugin3.err" ||
		fail "the shared-object engine's repair: $(grep '^check:' "$TMP/plugin3.err" | tr '\n' ' ')"
	"$POLICY" --replay "$TRACES/repair_offline.jsonl" --engine "$plugin" \
		--services "$TRACES/repair_offline.services.json" 2>/dev/null | cmp -s - "$TMP/plugin3.out" ||
		fail "two replays with the shared-object engine differ"
else
	fail "cannot build the example engine: $(cat "$TMP/cc.err")"
fi

# An engine built for API version 1 (never asked a repair, whose origin is
# NULL) is refused with the reason, exit 1.
cat >"$TMP/old_engine.c" <<'EOF'
#include "engine_api.h"
static void place(void *s, const struct policy_request *r, struct policy_choice *c)
{
	(void)s;
	(void)r;
	c->index = 0;
}
static const struct policy_engine old = {.api_version = 1, .name = "old", .place = place};
const struct policy_engine *onvm_policy_engine(void);
const struct policy_engine *onvm_policy_engine(void) { return &old; }
EOF
if cc -shared -fPIC -I "$ONVM_SRC/policy" -I "$ONVM_SRC/bus" "$TMP/old_engine.c" -o "$TMP/libold.so" 2>"$TMP/cc2.err"; then
	"$POLICY" --replay "$TRACES/scale_local.jsonl" --engine "$TMP/libold.so" >/dev/null 2>"$TMP/old.err"
	[[ $? -eq 1 ]] || fail "an API version 1 engine should exit 1"
	grep -q "engine API version 1, this daemon speaks 2" "$TMP/old.err" ||
		fail "no clear reason for refusing an old engine: $(cat "$TMP/old.err")"
else
	fail "cannot build the old engine: $(cat "$TMP/cc2.err")"
fi
"$POLICY" --replay "$TRACES/scale_remote.jsonl" --engine "$TMP/no-such.so" >/dev/null 2>&1
[[ $? -eq 1 ]] || fail "a shared object that does not load should exit 1"

# Command line: usage and exit 2; unreadable trace: exit 1; stdin works.
"$POLICY" --replay >/dev/null 2>&1
[[ $? -eq 2 ]] || fail "--replay without a trace should exit 2"
"$POLICY" --replay "$TRACES/scale_local.jsonl" --periods 0 >/dev/null 2>&1
[[ $? -eq 2 ]] || fail "--periods 0 should exit 2"
"$POLICY" --replay "$TRACES/scale_local.jsonl" --engine no-such >/dev/null 2>&1
[[ $? -eq 2 ]] || fail "an unknown engine should exit 2"
"$POLICY" --replay "$TMP/does-not-exist" >/dev/null 2>&1
[[ $? -eq 1 ]] || fail "a missing trace should exit 1"
"$POLICY" --replay - <"$TRACES/scale_local.jsonl" 2>/dev/null | cmp -s - "$TMP/scale_local.1" ||
	fail "replay from stdin differs"
"$POLICY" --replay /dev/null >"$TMP/empty" 2>/dev/null && [[ ! -s $TMP/empty ]] || fail "an empty trace"

if ((failures)); then
	say "FAIL: $failures failure(s) ($checked expect files passed)"
	exit 1
fi
say "PASS ($checked expect files)"
