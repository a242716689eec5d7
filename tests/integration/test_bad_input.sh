#!/usr/bin/env bash
# Bad command lines and catalogs: a usage message or a clear error, exit 2,
# and nothing started.
source "$(dirname "$0")/lib.sh"
onvm_test_init bad_input

# expect_exit2 NAME PATTERN COMMAND...: exit status 2 and PATTERN on stderr.
expect_exit2() {
	local name=$1 pattern=$2
	shift 2
	"$@" >"$ONVM_TMP/$name.out" 2>"$ONVM_TMP/$name.err"
	local status=$?
	[[ $status -eq 2 ]] || fail "$name: exit status $status, expected 2"
	grep -q -- "$pattern" "$ONVM_TMP/$name.err" || fail "$name: stderr lacks '$pattern'"
}

mgr=("$ONVM_BUILD/onvm-mgr" -l 0,1 --file-prefix="$ONVM_PREFIX" --vdev=net_null0 --)
expect_exit2 unknown_option "usage:" "${mgr[@]}" --bogus
expect_exit2 bad_period "bad stats period" "${mgr[@]}" -t 5
expect_exit2 bad_chain "bad port chain" "${mgr[@]}" -p 0:
expect_exit2 bad_cores "bad core list" "${mgr[@]}" -k 5-2
expect_exit2 missing_catalog "cannot open catalog" "${mgr[@]}" -c "$ONVM_TMP/none.json"
echo '{"services": [{"id": 2, "name": "x", "exec": "/bin/true", "cores": 0}]}' >"$ONVM_TMP/bad1.json"
expect_exit2 bad_catalog "services\[0\].cores" "${mgr[@]}" -c "$ONVM_TMP/bad1.json"
echo '{"services": [{"id": 2, "name": "x", "exec": "/bin/true"}' >"$ONVM_TMP/bad2.json"
expect_exit2 truncated_catalog "not valid JSON" "${mgr[@]}" -c "$ONVM_TMP/bad2.json"
echo '{"services": [{"id": 2, "name": "x", "exec": "/nonexistent/nf"}]}' >"$ONVM_TMP/bad3.json"
expect_exit2 missing_program "/nonexistent/nf" "${mgr[@]}" -c "$ONVM_TMP/bad3.json"
onvm_catalog "$ONVM_TMP/catalog.json"
expect_exit2 start_not_in_catalog "service 9 is not in the catalog" "${mgr[@]}" -c "$ONVM_TMP/catalog.json" -s 9

# An NF with a bad command line exits 2 before touching any manager.
expect_exit2 nf_no_service "service id" "$ONVM_BUILD/examples/bounce" $(onvm_nf_eal 2) --
expect_exit2 nf_bad_service "bad service id" "$ONVM_BUILD/examples/bounce" $(onvm_nf_eal 2) -- -r 0

# No manager was left behind, and none left files.
leftover=$(compgen -G "/dev/hugepages/${ONVM_PREFIX}map_*" | wc -l)
[[ $leftover -eq 0 ]] || fail "$leftover hugepage files left by failed starts"
