#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# With the ACL on: manager h1's identity cannot get a command to h2 (h2 never
# sees it), an anonymous client is refused, and the policy identity's command
# does reach h2.
source "$(dirname "$0")/lib.sh"
onvm_test_init bus_acl

onvm_start_broker h1 h2
onvm_catalog "$ONVM_TMP/catalog.json"
ONVM_PREFIX_H1=$ONVM_PREFIX
onvm_start_mgr h1 -l 0,1 --vdev=net_null0,no-rx=1 -- -c "$ONVM_TMP/catalog.json" -k 2-3 \
	$(onvm_bus_args h1)
H1_LOG=$MGR_LOG
ONVM_PREFIX=${ONVM_PREFIX_H1}_2
onvm_start_mgr h2 -l 0,1 --vdev=net_null0,no-rx=1 -- -c "$ONVM_TMP/catalog.json" -k 2-3 \
	$(onvm_bus_args h2)
H2_LOG=$MGR_LOG
# shellcheck disable=SC2016 # run by the cleanup, which removes h2's files itself
ONVM_EXIT_HOOKS+=('ONVM_PREFIX=$ONVM_PREFIX_H1 onvm_remove_hugepage_files')
wait_for 10 "both connected" eval 'grep -q "bus: connected" "$H1_LOG" && grep -q "bus: connected" "$H2_LOG"'
onvm_watch cmds 'onvm/hosts/+/cmd'
wait_for 5 "watcher subscribed" eval '[[ -s "$ONVM_TMP/cmds.log" ]] || as_identity policy mosquitto_pub -t onvm/hosts/h1/cmd -m ping 2>/dev/null; grep -q ping "$ONVM_TMP/cmds.log"'

# h1's own identity tries to command h2: the broker drops it silently (MQTT 3.1.1).
as_identity h1 mosquitto_pub -q 1 -t onvm/hosts/h2/cmd \
	-m '{"v":1,"id":"evil-1","engine":"h1","op":"spawn","service":1,"count":1,"reason":"x"}'
# Then a legitimate command to h2 from the policy identity, as a marker.
onvm_command h2 '{"v":1,"id":"good-1","engine":"test","op":"spawn","service":1,"count":1,"reason":"x"}'
wait_for 10 "h2 ran the policy's command" grep -q "command good-1" "$H2_LOG"
grep -q "evil-1" "$H2_LOG" && fail "h2 received a command published by h1's identity"
grep -q "evil-1" "$ONVM_TMP/cmds.log" && fail "the broker passed on h1's command to h2"

# Anonymous clients are refused outright.
if mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -t onvm/hosts/h2/cmd -m x 2>"$ONVM_TMP/anon.err"; then
	fail "an anonymous client could publish"
fi
grep -qi "not authori[sz]ed\|refused" "$ONVM_TMP/anon.err" || fail "anonymous refusal not reported: $(cat "$ONVM_TMP/anon.err")"
# A wrong password too.
if mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -u h1 -P wrong -t onvm/hosts/h1/state -m x 2>/dev/null; then
	fail "a wrong password was accepted"
fi
