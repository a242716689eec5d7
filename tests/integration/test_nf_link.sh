#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# An NF must be linked to DPDK as onvm-mgr is.  The shared pools name their
# mempool ops by an index into each process's own table, which fills in the
# order drivers register; a process linked otherwise (DPDK static against
# shared, another library order) can have another driver at that index.
# 1. The manager and every NF this build makes are linked the same way.
# 2. An NF whose table is shifted by one (skewed_ops_nf registers an ops of
#    its own before the drivers) is refused before it registers, and says why;
#    the manager counts no instance for it.
# 3. An NF linked as the manager is (bounce) still registers.
source "$(dirname "$0")/lib.sh"
onvm_test_init nf_link

# "shared" or "static": how a binary has DPDK's EAL.
linkage() { if ldd "$1" | grep -q 'librte_eal\.so'; then echo shared; else echo static; fi; }
want=$(linkage "$ONVM_BUILD/onvm-mgr")
for binary in "$ONVM_BUILD"/examples/* "$ONVM_BUILD/hostile_nf" "$ONVM_BUILD/skewed_ops_nf" \
	"$ONVM_BUILD/bench_flow_moves"; do
	[[ -x $binary && ! $binary == *.so ]] || continue
	got=$(linkage "$binary")
	[[ $got == "$want" ]] || fail "$(basename "$binary") has DPDK $got, onvm-mgr has it $want"
done
onvm_log "onvm-mgr and every NF have DPDK $want"

onvm_start_mgr mgr -l 0,1 --vdev=net_null0,no-rx=1 -- -k 2-3
onvm_spawn skewed "$ONVM_BUILD/skewed_ops_nf" $(onvm_nf_eal 2) -- -r 1
skewed=$LAST_PID
wait_for 30 "skewed_ops_nf ended" eval '! kill -0 "$skewed" 2>/dev/null'
status=0
wait "$skewed" || status=$?
grep -q "registered" "$ONVM_TMP/skewed.log" && fail "skewed_ops_nf registered: $(tail -n 2 "$ONVM_TMP/skewed.log")"
((status != 0)) || fail "skewed_ops_nf exited 0"
grep -q "uses mempool ops '.*' in the manager, but '.*' here" "$ONVM_TMP/skewed.log" ||
	fail "skewed_ops_nf did not say why: $(tail -n 2 "$ONVM_TMP/skewed.log")"
onvm_log "refused: $(grep -o "pool .* here" "$ONVM_TMP/skewed.log" | head -n 1)"
grep -q "event spawned" "$MGR_LOG" && fail "the manager took an instance for skewed_ops_nf"

onvm_spawn bounce "$ONVM_BUILD/examples/bounce" $(onvm_nf_eal 3) -- -r 1
wait_for 30 "bounce registered" grep -q "event spawned service 1" "$MGR_LOG"
onvm_log "bounce, linked as the manager is, registered"
