#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The project installed as a user gets it: `cmake --install` into a fresh
# prefix gives programs that say their version; an NF written outside the
# tree builds with nothing but `pkg-config libonvm_nflib`, links the
# installed shared library, and serves traffic under the installed manager
# (started from a --config file);
# the .deb holds the same files and depends on Debian's packages, with the
# DPDK pinned; and the tree configures without cmocka when tests are off.
source "$(dirname "$0")/lib.sh"
onvm_test_init install

prefix=$ONVM_TMP/prefix
cmake --install "$ONVM_BUILD" --prefix "$prefix" >"$ONVM_TMP/install.log" ||
	fail "cmake --install failed: $(tail -n 5 "$ONVM_TMP/install.log")"
version=$(sed -n 's/^#define ONVM_VERSION "\(.*\)"$/\1/p' "$ONVM_BUILD/generated/onvm_version.h")
[[ -n $version ]] || fail "no version in the build's onvm_version.h"
for program in bin/onvm-mgr bin/onvm-policy bin/onvm-top bin/onvm-ctl bin/onvm-exporter; do
	[[ -x $prefix/$program ]] || fail "not installed: $program"
	out=$("$prefix/$program" --version) || fail "$program --version exited $?"
	[[ $out == "$(basename "$program") (Distributed OpenNetVM) $version" ]] ||
		fail "$program --version said: $out"
done
for nf in bounce simple_forward slow_thing monitor speed_tester load_generator; do
	out=$("$prefix/libexec/onvm/$nf" --version) || fail "$nf --version exited $?"
	[[ $out == "$nf (Distributed OpenNetVM) $version" ]] || fail "$nf --version said: $out"
done
for file in lib/libonvm_nflib.a lib/libonvm_nflib.so lib/pkgconfig/libonvm_nflib.pc \
	include/onvm/onvm_nflib.h include/onvm/engine_api.h libexec/onvm/simple_forward \
	share/onvm/mosquitto/start-broker.sh share/onvm/scripts/setup-host.sh \
	share/doc/distributed_onvm/docs/bus.md; do
	[[ -e $prefix/$file ]] || fail "not installed: $file"
done
# docs/README.md is the docs' index, not the project's README.
cmp -s "$prefix/share/doc/distributed_onvm/README.md" "$ONVM_SRC/README.md" ||
	fail "the installed README.md is not the project's"

# The systemd units name the installed programs, and systemd accepts them
# (when systemd-analyze can run here at all).
units=$prefix/lib/systemd/system
for unit in onvm-broker.service onvm-mgr@.service onvm-policy.service onvm-exporter.service; do
	[[ -f $units/$unit ]] || fail "not installed: lib/systemd/system/$unit"
done
grep -q "^ExecStart=$prefix/bin/onvm-mgr --config /etc/onvm/mgr-%i.json\$" "$units/onvm-mgr@.service" ||
	fail "onvm-mgr@.service does not run the installed manager: $(grep ExecStart "$units/onvm-mgr@.service")"
probe=$ONVM_TMP/probe.service
printf '[Service]\nExecStart=/bin/true\n' >"$probe"
if systemd-analyze verify "$probe" >/dev/null 2>&1; then
	cp "$units/onvm-mgr@.service" "$ONVM_TMP/onvm-mgr@h1.service"
	systemd-analyze verify "$units/onvm-broker.service" "$units/onvm-policy.service" \
		"$units/onvm-exporter.service" \
		"$ONVM_TMP/onvm-mgr@h1.service" >"$ONVM_TMP/verify.log" 2>&1 ||
		fail "systemd-analyze verify: $(cat "$ONVM_TMP/verify.log")"
	onvm_log "systemd-analyze verify: the units are valid"
else
	onvm_log "systemd-analyze verify does not work here: units checked by content only"
fi
# The example configurations are valid for their programs.
echo '{"services": [{"id": 2, "min": 1}]}' >"$ONVM_TMP/services.json"
sed "s|/etc/onvm/services.json|$ONVM_TMP/services.json|" \
	"$prefix/share/doc/distributed_onvm/examples/onvm-policy.example.json" >"$ONVM_TMP/policy.json"
"$prefix/bin/onvm-policy" --config "$ONVM_TMP/policy.json" --replay /dev/null >"$ONVM_TMP/policy.out" 2>&1 ||
	fail "the example policy configuration is refused: $(cat "$ONVM_TMP/policy.out")"

# An NF from outside the tree: it answers each frame out of its port and
# counts them, built only from what pkg-config says.
outside=$ONVM_TMP/outside
mkdir -p "$outside"
cat >"$outside/reflect.c" <<'C'
#include <errno.h>
#include <stdio.h>

#include <onvm_nflib.h>

static unsigned long reflected;

static void reflect(struct onvm_nf *nf, struct rte_mbuf *pkt, struct onvm_pkt_meta *meta, void *ctx)
{
	(void)nf;
	(void)pkt;
	(void)ctx;
	reflected++;
	meta->action = ONVM_ACTION_TO_PORT;
	meta->destination = meta->chain_port;
}

int main(int argc, char *argv[])
{
	struct onvm_nf *nf;
	int used = onvm_nflib_init(argc, argv, "reflect", &nf);
	if (used < 0)
		return onvm_nflib_exit_status(used);
	struct onvm_nf_handlers handlers = {.packet = reflect};
	onvm_nflib_run(nf, &handlers);
	onvm_nflib_finish(nf);
	printf("reflected %lu\n", reflected);
	return 0;
}
C
sanitize=()
grep -q '^ONVM_SANITIZE:BOOL=ON' "$ONVM_BUILD/CMakeCache.txt" &&
	sanitize=(-fsanitize=address,undefined) # the installed library was built so
read -ra nf_flags <<<"$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs libonvm_nflib)" ||
	fail "pkg-config does not know libonvm_nflib"
cc -std=gnu11 -O2 -Wall -Wextra -Werror "${sanitize[@]}" -o "$outside/reflect" "$outside/reflect.c" \
	"${nf_flags[@]}" -Wl,-rpath,"$prefix/lib" 2>"$ONVM_TMP/cc.log" ||
	fail "the outside NF does not build: $(head -n 20 "$ONVM_TMP/cc.log")"
ldd "$outside/reflect" | grep -q "libonvm_nflib.so.[0-9]* => $prefix/lib/" ||
	fail "the outside NF does not link the installed shared library: $(ldd "$outside/reflect" | grep onvm)"

onvm_veth "oi$$a" "oi$$b"
cat >"$ONVM_TMP/catalog.json" <<JSON
{"services": [{"id": 1, "name": "reflect", "exec": "$outside/reflect"}]}
JSON
MGR_STATS=$ONVM_TMP/mgr.stats
MGR_LOG=$ONVM_TMP/mgr.log
# As a service unit runs it: everything in one --config file, and the stats
# period of the command line overriding the file's.
mkdir -p "$ONVM_TMP/nf-logs"
cat >"$ONVM_TMP/mgr.json" <<JSON
{"eal": ["--file-prefix=$ONVM_PREFIX", "-l", "0,1",
         "--vdev=net_af_packet0,iface=oi$$a,qpairs=1,framecnt=4096"],
 "catalog": "$ONVM_TMP/catalog.json", "nf-cores": "2-3", "start": "1",
 "stats-file": "$MGR_STATS", "stats-period": 60000, "quiet": true,
 "nf-log-dir": "$ONVM_TMP/nf-logs"}
JSON
onvm_spawn mgr "$prefix/bin/onvm-mgr" --config "$ONVM_TMP/mgr.json" -- -t 100
MGR_PID=$LAST_PID
onvm_wait_up "the installed manager" "$MGR_PID" "$MGR_LOG"
wait_for 20 "the outside NF registered" grep -q "event spawned service 1 instance 1 core 2" "$MGR_LOG"
onvm_spawn counter "$ONVM_BUILD/pktio" count "oi$$b" 30 1000
wait_for 5 "counter ready" grep -q ready "$ONVM_TMP/counter.log"
"$ONVM_BUILD/pktio" send "oi$$b" 1000 16 64 20000 >/dev/null || fail "send failed"
wait_for 30 "frames reflected back" grep -q "^received" "$ONVM_TMP/counter.log"
received=$(awk '/^received/ {print $2}' "$ONVM_TMP/counter.log")
[[ $received -eq 1000 ]] || fail "received $received of 1000 frames back"
wait_for 3 "the manager counted them" eval '[[ $(mgr_counter "$MGR_STATS" instance 1 rx) -eq 1000 ]]'
grep -q "nflib: reflect registered" "$ONVM_TMP/nf-logs/reflect-1-1.log" ||
	fail "the outside NF's output is not in --nf-log-dir: $(ls "$ONVM_TMP/nf-logs")"
onvm_log "outside NF under the installed manager: 1000 of 1000 frames reflected"

# The .deb: same layout under /usr, Debian's packages as dependencies.
cpack --config "$ONVM_BUILD/CPackConfig.cmake" -B "$ONVM_TMP/deb" >"$ONVM_TMP/cpack.log" 2>&1 ||
	fail "cpack failed: $(tail -n 5 "$ONVM_TMP/cpack.log")"
deb=$(ls "$ONVM_TMP"/deb/distributed-onvm_"$version"_*.deb 2>/dev/null | head -n 1)
[[ -f $deb ]] || fail "no .deb made: $(ls "$ONVM_TMP/deb")"
dpkg-deb -c "$deb" >"$ONVM_TMP/deb.files"
for file in ./usr/bin/onvm-mgr ./usr/bin/onvm-policy ./usr/lib/pkgconfig/libonvm_nflib.pc \
	./usr/include/onvm/onvm_nflib.h ./usr/libexec/onvm/simple_forward; do
	grep -q " $file\$" "$ONVM_TMP/deb.files" || fail "the .deb lacks $file"
done
depends=$(dpkg-deb -f "$deb" Depends)
dpdk_version=$(dpkg-query -W -f='${Version}' librte-eal23)
for dep in "librte-eal23 (= $dpdk_version)" libjansson4 libpaho-mqtt1.3 librte-net-null23 mosquitto; do
	[[ $depends == *"$dep"* ]] || fail "the .deb should depend on $dep: $depends"
done
onvm_log "deb: $(basename "$deb"), $(wc -l <"$ONVM_TMP/deb.files") entries"

# Without cmocka, with tests off, the tree still configures.
pcdir=$ONVM_TMP/pc-without-cmocka
mkdir -p "$pcdir"
for dir in $(pkg-config --variable pc_path pkg-config | tr : ' '); do
	[[ -d $dir ]] && find "$dir" -maxdepth 1 -name '*.pc' ! -name 'cmocka.pc' -exec cp -n {} "$pcdir/" \;
done
[[ -f $pcdir/libdpdk.pc && ! -f $pcdir/cmocka.pc ]] || fail "cannot make a pkg-config path without cmocka"
PKG_CONFIG_LIBDIR=$pcdir cmake -S "$ONVM_SRC" -B "$ONVM_TMP/no-tests" -DONVM_TESTS=OFF \
	>"$ONVM_TMP/no-tests.log" 2>&1 || fail "no cmocka, tests off: configure failed: $(tail -n 5 "$ONVM_TMP/no-tests.log")"
PKG_CONFIG_LIBDIR=$pcdir cmake -S "$ONVM_SRC" -B "$ONVM_TMP/with-tests" >/dev/null 2>&1 &&
	fail "without cmocka a build with tests should not configure"
onvm_log "tests optional: configures without cmocka when ONVM_TESTS=OFF"
