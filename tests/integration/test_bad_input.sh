#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
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
expect_exit2 nf_signed_service "bad service id" "$ONVM_BUILD/examples/bounce" $(onvm_nf_eal 2) -- -r +1

# onvm-policy --services FILE (live and replay): a strict file, exit 2 on any fault.
policy=("$ONVM_BUILD/onvm-policy" --replay /dev/null --services)
expect_exit2 services_missing "cannot read" "${policy[@]}" "$ONVM_TMP/none.json"
bad_services() { # NAME PATTERN JSON
	echo "$3" >"$ONVM_TMP/$1.json"
	expect_exit2 "services_$1" "$2" "${policy[@]}" "$ONVM_TMP/$1.json"
}
bad_services not_json "not valid JSON" '{"services": [{"id": 2}'
bad_services top_key 'unknown key "service"' '{"service": [{"id": 2, "min": 1}]}'
bad_services entry_key 'unknown key "mni"' '{"services": [{"id": 2, "mni": 1}]}'
bad_services no_id 'no "id"' '{"services": [{"min": 1}]}'
bad_services id_zero '"id" must be an integer in 1..65535' '{"services": [{"id": 0}]}'
bad_services id_text '"id" must be an integer' '{"services": [{"id": "2"}]}'
bad_services min_real '"min" must be an integer' '{"services": [{"id": 2, "min": 1.5}]}'
bad_services max_zero '"max" must be an integer in 1..' '{"services": [{"id": 2, "max": 0}]}'
bad_services min_over_max "min 3 > max 2" '{"services": [{"id": 2, "min": 3, "max": 2}]}'
bad_services after_zero '"scale_in_after_ms" must be' '{"services": [{"id": 2, "scale_in_after_ms": 0}]}'
bad_services duplicate "service 2 is listed twice" '{"services": [{"id": 2}, {"id": 3}, {"id": 2, "min": 1}]}'
bad_services duplicate_key "duplicate" '{"services": [{"id": 2, "min": 1, "min": 2}]}'
bad_services not_list '"services" must be an array' '{"services": {"id": 2}}'
echo '{"services": [{"id": 2, "mni": 1}]}' >"$ONVM_TMP/live.json"
expect_exit2 services_live 'unknown key "mni"' "$ONVM_BUILD/onvm-policy" --broker tcp://127.0.0.1:1 \
	--services "$ONVM_TMP/live.json"
echo '{"services": [{"id": 2, "min": 1, "max": 6, "scale_in_after_ms": 60000}, {"id": 7}]}' \
	>"$ONVM_TMP/good.json"
"${policy[@]}" "$ONVM_TMP/good.json" >/dev/null 2>&1 || fail "a good --services file was refused"

# --config FILE (onvm-mgr and onvm-policy): a strict file, exit 2 on any fault.
bad_config() { # NAME PATTERN JSON PROGRAM...
	local name=$1 pattern=$2 json=$3
	shift 3
	echo "$json" >"$ONVM_TMP/config_$name.json"
	expect_exit2 "config_$name" "$pattern" "$@" --config "$ONVM_TMP/config_$name.json"
}
bad_config mgr_key 'unknown key "catalgo"' '{"catalgo": "/c.json"}' "${mgr[@]}"
bad_config mgr_type '"quiet" takes true or false' '{"quiet": "yes"}' "${mgr[@]}"
bad_config mgr_eal '"eal" takes a list of strings' '{"eal": "-l 0,1"}' "$ONVM_BUILD/onvm-mgr"
bad_config mgr_value "bad stats period" '{"stats-period": 5}' "${mgr[@]}"
bad_config mgr_json "config_mgr_json.json:[0-9]*:[0-9]*: '}' expected" '{"quiet": true' "${mgr[@]}"
bad_config policy_key 'unknown key "enigne"' '{"enigne": "spread"}' "$ONVM_BUILD/onvm-policy"
bad_config policy_dup "duplicate" '{"verbose": true, "verbose": false}' "$ONVM_BUILD/onvm-policy"
expect_exit2 config_missing "cannot open" "$ONVM_BUILD/onvm-policy" --config "$ONVM_TMP/none.json"
expect_exit2 config_twice "given twice" "${mgr[@]}" --config a.json --config=b.json

# No manager was left behind, and none left files.
leftover=$(compgen -G "/dev/hugepages/${ONVM_PREFIX}map_*" | wc -l)
[[ $leftover -eq 0 ]] || fail "$leftover hugepage files left by failed starts"
