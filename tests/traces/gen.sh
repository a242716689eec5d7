#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# gen.sh - make policy traces (docs/traces.md) from short scenarios.
#
#   gen.sh scenario FILE.scn         a scenario (format below) -> trace on stdout
#   gen.sh many-hosts N              N hosts, one overload with a unique answer
#   gen.sh bench HOSTS INSTANCES PERIODS   the replay benchmark's trace
#   gen.sh pending HOSTS PERIODS     every host overloads a service of its
#                                    own and never answers: HOSTS pending spawns
#   gen.sh corrupt < CLEAN           CLEAN with bad lines, payloads and odd
#                                    topics after every line (same decisions)
#
# Scenario lines ('#' starts a comment; P is a stats period number, period 0
# is the start; times are P * period ms after 2026-11-24T00:26:40Z; an "at"
# line's P may have a fraction, 2.05, for a message between two periods):
#   period MS                       stats period (default 500)
#   periods N                       stats at periods 1..N
#   host NAME TOTAL FREE [S:I[:C],...]   retained state and services at 0;
#                                   instance I of service S (on core C)
#   load NAME S FROM TO [PATTERN] [drop|ring|mild|drain]   service S on NAME
#                                   is overloaded in periods FROM..TO (PATTERN
#                                   of 0/1 repeats, 1 = overloaded; "mild"
#                                   is busy but under the default thresholds;
#                                   "drain" is a full ring emptying by 3 % a
#                                   period from FROM on, without drops)
#   unserved NAME S FROM TO PPS     NAME's stats of periods FROM..TO list PPS
#                                   of unserved demand for service S (one
#                                   entry per line: two lines, two entries)
#   lose NAME P[,P...]              those stats of NAME are lost
#   at P state NAME FREE            state online with FREE free cores
#   at P offline NAME               the Last Will: offline; its stats stop
#   at P silent NAME                its stats stop (it goes stale)
#   at P services NAME [S:I[:C],...]  a new services map (and stats list)
#   at P event NAME KIND S [INSTANCE] [CMD_ID]   spawned/rejected/stopped/exited
#   at P alarm NAME S INSTANCE DROP FILL FOR_MS   NAME's alarm (docs/bus.md):
#                                   instance INSTANCE of S overloaded for
#                                   FOR_MS (since_ms = its ts_ms - FOR_MS)
set -euo pipefail

BASE_MS=1795480000000 # 2026-11-24T00:26:40Z
BASE_SOD=1600         # its second of the day

# shellcheck disable=SC2016
AWK_COMMON='
function tst(ms,    sod, h, m, s, us) {
	sod = BASE_SOD + int(ms / 1000); us = (ms % 1000) * 1000
	h = int(sod / 3600); m = int((sod % 3600) / 60); s = sod % 60
	return sprintf("2026-11-24T%02d:%02d:%02d.%06dZ+0000", h, m, s, us)
}
function line(ms, topic, qos, retain, payload,    esc) {
	esc = payload; gsub(/"/, "\\\"", esc)
	printf "{\"tst\":\"%s\",\"topic\":\"%s\",\"qos\":%d,\"retain\":%d,\"payloadlen\":%d,\"payload\":\"%s\"}\n", tst(ms), topic, qos, retain, length(payload), esc
}
function state_payload(host, ms, total, free) {
	return sprintf("{\"v\":1,\"host\":\"%s\",\"status\":\"online\",\"epoch\":1795476400000,\"ts_ms\":%.0f,\"cores\":{\"total\":%d,\"free\":%d}}", host, BASE_MS + ms, total, free)
}
'

scenario() {
	awk -v BASE_MS=$BASE_MS -v BASE_SOD=$BASE_SOD "$AWK_COMMON"'
	function set_insts(host, spec,    n, parts, i, f) {
		n = (spec == "") ? 0 : split(spec, parts, ",")
		ninst[host] = n
		for (i = 1; i <= n; i++) {
			split(parts[i], f, ":")
			isvc[host, i] = f[1]; iid[host, i] = f[2]; icore[host, i] = (3 in f) ? f[3] : f[2]
			delete f
		}
	}
	function services_payload(host, ms,    s, i, out, cur, first) {
		out = sprintf("{\"v\":1,\"host\":\"%s\",\"ts_ms\":%.0f,\"services\":{", host, BASE_MS + ms)
		cur = ""; first = 1
		for (i = 1; i <= ninst[host]; i++) {
			if (isvc[host, i] != cur) {
				if (cur != "") out = out "]"
				out = out (first ? "" : ",") "\"" isvc[host, i] "\":["
				first = 0; cur = isvc[host, i]
			} else out = out ","
			out = out sprintf("{\"instance\":%d,\"core\":%d,\"state\":\"running\"}", iid[host, i], icore[host, i])
		}
		if (cur != "") out = out "]"
		return out "}}"
	}
	function level(host, svc, p,    k, r, pat, idx) {
		r = "calm"
		for (k = 1; k <= nload; k++) {
			if (lhost[k] != host || lsvc[k] != svc || p < lfrom[k] || p > lto[k]) continue
			pat = lpat[k]
			idx = (p - lfrom[k]) % length(pat) + 1
			r = (substr(pat, idx, 1) == "1") ? llevel[k] : "calm"
			lstep = p - lfrom[k]
		}
		return r
	}
	function stats_payload(host, ms, p,    i, k, first, out, lv, drop, fill, rx) {
		out = sprintf("{\"v\":1,\"host\":\"%s\",\"ts_ms\":%.0f,\"seq\":%d,\"period_ms\":%d,\"ports\":[{\"port\":0,\"rx_pps\":%d,\"tx_pps\":%d,\"drop_pps\":0}],\"instances\":[", host, BASE_MS + ms, p, period, 120000 * ninst[host], 120000 * ninst[host])
		for (i = 1; i <= ninst[host]; i++) {
			lv = level(host, isvc[host, i], p)
			drop = 0; fill = "0.03"; rx = 120000
			if (lv == "drop") { drop = 290000; fill = "0.99" }
			else if (lv == "ring") { fill = "0.9" }
			else if (lv == "mild") { drop = 500; fill = "0.7" }
			else if (lv == "drain") { fill = sprintf("%.2f", 0.99 - 0.03 * lstep) }
			out = out (i > 1 ? "," : "") sprintf("{\"instance\":%d,\"service\":%d,\"core\":%d,\"rx_pps\":%d,\"tx_pps\":%d,\"drop_pps\":%d,\"ring_fill\":%s,\"busy\":0.15}", iid[host, i], isvc[host, i], icore[host, i], rx, rx, drop, fill)
		}
		out = out "]"
		first = 1
		for (k = 1; k <= nuns; k++) {
			if (uhost[k] != host || p < ufrom[k] || p > uto[k]) continue
			out = out (first ? ",\"unserved\":[" : ",") sprintf("{\"service\":%d,\"pps\":%d}", usvc[k], upps[k])
			first = 0
		}
		if (!first) out = out "]"
		return out "}"
	}
	function do_at(k, ms,    f, n, payload) {
		n = split(atline[k], f, " ")
		if (f[3] == "state") { free[f[4]] = f[5]; line(ms, "onvm/hosts/" f[4] "/state", 1, 0, state_payload(f[4], ms, total[f[4]], f[5])) }
		else if (f[3] == "offline") { up[f[4]] = 0; line(ms, "onvm/hosts/" f[4] "/state", 1, 0, "{\"v\":1,\"host\":\"" f[4] "\",\"status\":\"offline\"}") }
		else if (f[3] == "silent") { up[f[4]] = 0 }
		else if (f[3] == "services") { set_insts(f[4], n >= 5 ? f[5] : ""); line(ms, "onvm/hosts/" f[4] "/services", 1, 0, services_payload(f[4], ms)) }
		else if (f[3] == "event") {
			payload = sprintf("{\"v\":1,\"host\":\"%s\",\"ts_ms\":%.0f,", f[4], BASE_MS + ms)
			if (n >= 8) payload = payload "\"cmd_id\":\"" f[8] "\","
			payload = payload "\"event\":\"" f[5] "\",\"service\":" f[6]
			if (n >= 7 && f[7] != "-") payload = payload ",\"instance\":" f[7]
			if (f[5] == "rejected") payload = payload ",\"error\":\"not in the catalog\""
			line(ms, "onvm/hosts/" f[4] "/events", 1, 0, payload "}")
		}
		else if (f[3] == "alarm" && n == 9) {
			payload = sprintf("{\"v\":1,\"host\":\"%s\",\"ts_ms\":%.0f,\"service\":%d,\"instance\":%d,\"drop_pps\":%d,\"ring_fill\":%s,\"since_ms\":%.0f}", f[4], BASE_MS + ms, f[5], f[6], f[7], f[8], BASE_MS + ms - f[9])
			line(ms, "onvm/hosts/" f[4] "/alarms", 1, 0, payload)
		}
		else { print "gen.sh: bad at line: " atline[k] > "/dev/stderr"; exit 2 }
	}
	BEGIN { period = 500; periods = 20 }
	{ sub(/#.*/, "") }
	NF == 0 { next }
	$1 == "period" { period = $2; next }
	$1 == "periods" { periods = $2; next }
	$1 == "host" { nh++; hname[nh] = $2; total[$2] = $3; free[$2] = $4; up[$2] = 1; set_insts($2, NF >= 5 ? $5 : ""); next }
	$1 == "load" { nload++; lhost[nload] = $2; lsvc[nload] = $3; lfrom[nload] = $4; lto[nload] = $5
		lpat[nload] = (NF >= 6 && $6 ~ /^[01]+$/) ? $6 : "1"
		llevel[nload] = ($NF == "ring" || $NF == "mild" || $NF == "drain") ? $NF : "drop"; next }
	$1 == "unserved" { nuns++; uhost[nuns] = $2; usvc[nuns] = $3; ufrom[nuns] = $4; uto[nuns] = $5; upps[nuns] = $6; next }
	$1 == "lose" { n = split($3, lp, ","); for (i = 1; i <= n; i++) lost[$2, lp[i]] = 1; next }
	$1 == "at" { nat++; atp[nat] = $2; atline[nat] = $0; next }
	{ print "gen.sh: bad line: " $0 > "/dev/stderr"; exit 2 }
	END {
		for (h = 1; h <= nh; h++) {
			line(0, "onvm/hosts/" hname[h] "/state", 1, 1, state_payload(hname[h], 0, total[hname[h]], free[hname[h]]))
			line(0, "onvm/hosts/" hname[h] "/services", 1, 1, services_payload(hname[h], 0))
		}
		for (p = 1; p <= periods; p++) {
			ms = p * period
			for (k = 1; k <= nat; k++) if (atp[k] > p - 1 && atp[k] <= p) do_at(k, int(atp[k] * period + 0.5))
			for (h = 1; h <= nh; h++) {
				host = hname[h]
				if (up[host] && !((host, p) in lost)) line(ms, "onvm/hosts/" host "/stats", 0, 0, stats_payload(host, ms, p))
			}
		}
	}' "$1"
}

# N hosts h000..: h000 runs service 7 with no free core and overloads from
# period 6; free cores are i % 5; every host i with i % 10 == 3 runs service
# 7 too, with 3 free cores, except h153, which has 6: local-first's unique
# answer. h271 has the most free cores (9) and does not run it: spread's.
# pack's: h001, the first with a single free core.
many_hosts() {
	local n=$1 i name free insts
	echo "periods 16"
	for ((i = 0; i < n; i++)); do
		name=$(printf 'h%03d' "$i")
		free=$((i % 5))
		((i == 0)) && free=0
		((i == 153)) && free=6
		((i == 271)) && free=9 # the most free cores overall, but not running service 7
		insts="1:1"
		((i % 10 == 3 || i == 0)) && insts="1:1,7:2"
		echo "host $name 16 $free $insts"
	done
	echo "load h000 7 6 16"
}

bench() {
	local hosts=$1 insts=$2 periods=$3
	awk -v BASE_MS=$BASE_MS -v BASE_SOD=$BASE_SOD -v H="$hosts" -v I="$insts" -v P="$periods" "$AWK_COMMON"'
	BEGIN {
		for (h = 0; h < H; h++) {
			name = sprintf("b%04d", h)
			line(0, "onvm/hosts/" name "/state", 1, 1, state_payload(name, 0, I + 2, 2))
			sv = sprintf("{\"v\":1,\"host\":\"%s\",\"ts_ms\":%.0f,\"services\":{", name, BASE_MS)
			for (i = 1; i <= I; i++) sv = sv (i > 1 ? "," : "") sprintf("\"%d\":[{\"instance\":%d,\"core\":%d,\"state\":\"running\"}]", i, i, i)
			line(0, "onvm/hosts/" name "/services", 1, 1, sv "}}")
		}
		for (p = 1; p <= P; p++) {
			ms = p * 500
			for (h = 0; h < H; h++) {
				name = sprintf("b%04d", h)
				out = sprintf("{\"v\":1,\"host\":\"%s\",\"ts_ms\":%.0f,\"seq\":%d,\"period_ms\":500,\"ports\":[{\"port\":0,\"rx_pps\":%d,\"tx_pps\":%d,\"drop_pps\":0}],\"instances\":[", name, BASE_MS + ms, p, 100000 * I, 100000 * I)
				for (i = 1; i <= I; i++) {
					# Host b0000 overloads service 1 from period 20: one decision.
					hot = (h == 0 && i == 1 && p >= 20)
					out = out (i > 1 ? "," : "") sprintf("{\"instance\":%d,\"service\":%d,\"core\":%d,\"rx_pps\":%d,\"tx_pps\":%d,\"drop_pps\":%d,\"ring_fill\":%s,\"busy\":0.%02d}", i, i, i, 90000 + (h * 7 + i * 13 + p) % 20000, 90000 + (h * 3 + i) % 20000, hot ? 250000 : 0, hot ? "0.99" : sprintf("0.%02d", (h + i + p) % 40), (h + p) % 100)
				}
				line(ms, "onvm/hosts/" name "/stats", 0, 0, out "]}")
			}
		}
	}'
}

# HOSTS hosts p0000..; host h runs service h + 1 (one instance) with two
# free cores and overloads it from period 2 on, and no spawn is ever carried
# out: after period 4 there is one pending spawn per host, which a replay
# with a long --pending-ms keeps for the whole trace. Per message, the
# policy's cost must not grow with them (tests/bench/replay.sh).
pending() {
	local hosts=$1 periods=$2
	((hosts >= 1 && hosts <= 65535)) || { echo "gen.sh: pending: 1..65535 hosts" >&2; exit 2; }
	awk -v BASE_MS=$BASE_MS -v BASE_SOD=$BASE_SOD -v H="$hosts" -v P="$periods" "$AWK_COMMON"'
	BEGIN {
		for (h = 0; h < H; h++) {
			name = sprintf("p%04d", h)
			line(0, "onvm/hosts/" name "/state", 1, 1, state_payload(name, 0, 4, 2))
			line(0, "onvm/hosts/" name "/services", 1, 1, sprintf("{\"v\":1,\"host\":\"%s\",\"ts_ms\":%.0f,\"services\":{\"%d\":[{\"instance\":1,\"core\":1,\"state\":\"running\"}]}}", name, BASE_MS, h + 1))
		}
		for (p = 1; p <= P; p++) {
			ms = p * 500
			for (h = 0; h < H; h++) {
				name = sprintf("p%04d", h)
				hot = p >= 2
				line(ms, "onvm/hosts/" name "/stats", 0, 0, sprintf("{\"v\":1,\"host\":\"%s\",\"ts_ms\":%.0f,\"seq\":%d,\"period_ms\":500,\"ports\":[{\"port\":0,\"rx_pps\":100000,\"tx_pps\":100000,\"drop_pps\":0}],\"instances\":[{\"instance\":1,\"service\":%d,\"core\":1,\"rx_pps\":100000,\"tx_pps\":100000,\"drop_pps\":%d,\"ring_fill\":%s,\"busy\":0.5}]}", name, BASE_MS + ms, p, h + 1, hot ? 250000 : 0, hot ? "0.99" : "0.10"))
			}
		}
	}'
}

# After every line of a clean trace, bad lines at the same time: the replay
# must skip them all and decide exactly as on the clean trace.
corrupt() {
	awk '
	BEGIN {
		big = "a"; for (i = 0; i < 17; i++) big = big big   # 128 KiB
		n = 0
		bad[n++] = "garbage that is not JSON {{{"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/alpha/stats\",\"qos\":0,\"retain\":0}"
		bad[n++] = "{\"tst\":\"yesterday\",\"topic\":\"onvm/hosts/alpha/stats\",\"payload\":\"{}\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/alpha/stats\",\"qos\":0,\"retain\":0,\"payloadlen\":9,\"payload\":\"{not json\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/alpha/stats\",\"qos\":0,\"retain\":0,\"payloadlen\":2,\"payload\":\"[]\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/alpha/stats\",\"qos\":0,\"retain\":0,\"payloadlen\":0,\"payload\":null}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/alpha/stats\",\"qos\":0,\"retain\":0,\"payloadlen\":90,\"payload\":\"{\\\"v\\\":2,\\\"host\\\":\\\"alpha\\\",\\\"ts_ms\\\":1,\\\"seq\\\":999999,\\\"period_ms\\\":500,\\\"ports\\\":[],\\\"instances\\\":[]}\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/alpha/stats\",\"qos\":0,\"retain\":0,\"payloadlen\":90,\"payload\":\"{\\\"v\\\":1,\\\"host\\\":\\\"beta\\\",\\\"ts_ms\\\":1,\\\"seq\\\":999999,\\\"period_ms\\\":500,\\\"ports\\\":[],\\\"instances\\\":[]}\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/alpha/stats\",\"qos\":0,\"retain\":0,\"payloadlen\":200,\"payload\":\"{\\\"v\\\":1,\\\"host\\\":\\\"alpha\\\",\\\"ts_ms\\\":1,\\\"seq\\\":999999,\\\"period_ms\\\":500,\\\"ports\\\":[],\\\"instances\\\":[{\\\"instance\\\":1,\\\"service\\\":2,\\\"core\\\":1,\\\"rx_pps\\\":1,\\\"tx_pps\\\":1,\\\"drop_pps\\\":0,\\\"ring_fill\\\":1.5,\\\"busy\\\":0}]}\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/alpha/stats\",\"qos\":0,\"retain\":0,\"payloadlen\":200,\"payload\":\"{\\\"v\\\":1,\\\"host\\\":\\\"alpha\\\",\\\"ts_ms\\\":1,\\\"seq\\\":\\\"7\\\",\\\"period_ms\\\":500,\\\"ports\\\":[],\\\"instances\\\":[]}\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/alpha/stats\",\"qos\":0,\"retain\":0,\"payloadlen\":200,\"payload\":\"{\\\"v\\\":1,\\\"host\\\":\\\"alpha\\\",\\\"ts_ms\\\":1,\\\"seq\\\":999999,\\\"period_ms\\\":500,\\\"ports\\\":[],\\\"instances\\\":[{\\\"instance\\\":1,\\\"service\\\":2,\\\"core\\\":1,\\\"rx_pps\\\":1,\\\"tx_pps\\\":1,\\\"drop_pps\\\":-5,\\\"ring_fill\\\":0.5,\\\"busy\\\":0}]}\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/alpha/state\",\"qos\":1,\"retain\":0,\"payloadlen\":99,\"payload\":\"{\\\"v\\\":1,\\\"host\\\":\\\"alpha\\\",\\\"status\\\":\\\"online\\\",\\\"epoch\\\":1,\\\"ts_ms\\\":1,\\\"cores\\\":{\\\"total\\\":2,\\\"free\\\":9}}\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/alpha/state\",\"qos\":1,\"retain\":0,\"payloadlen\":60,\"payload\":\"{\\\"v\\\":1,\\\"host\\\":\\\"alpha\\\",\\\"status\\\":\\\"asleep\\\"}\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/alpha/services\",\"qos\":1,\"retain\":0,\"payloadlen\":99,\"payload\":\"{\\\"v\\\":1,\\\"host\\\":\\\"alpha\\\",\\\"ts_ms\\\":1,\\\"services\\\":{\\\"2\\\":[{\\\"instance\\\":0,\\\"core\\\":1,\\\"state\\\":\\\"running\\\"}]}}\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/alpha/events\",\"qos\":1,\"retain\":0,\"payloadlen\":60,\"payload\":\"{\\\"v\\\":1,\\\"host\\\":\\\"alpha\\\",\\\"ts_ms\\\":1,\\\"event\\\":\\\"exploded\\\",\\\"service\\\":2}\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/beta/alarms\",\"qos\":1,\"retain\":0,\"payloadlen\":120,\"payload\":\"{\\\"v\\\":1,\\\"host\\\":\\\"alpha\\\",\\\"ts_ms\\\":1,\\\"service\\\":2,\\\"instance\\\":1,\\\"drop_pps\\\":9000,\\\"ring_fill\\\":1.0,\\\"since_ms\\\":1}\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/alpha/alarms\",\"qos\":1,\"retain\":0,\"payloadlen\":120,\"payload\":\"{\\\"v\\\":1,\\\"host\\\":\\\"alpha\\\",\\\"ts_ms\\\":1,\\\"service\\\":2,\\\"instance\\\":1,\\\"drop_pps\\\":9000,\\\"ring_fill\\\":1.5,\\\"since_ms\\\":1}\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/alpha/stats\",\"qos\":0,\"retain\":0,\"payloadlen\":131072,\"payload\":\"{\\\"v\\\":1,\\\"pad\\\":\\\"" big "\\\"}\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/alpha/stats\",\"qos\":0,\"retain\":0,\"payloadlen\":8,\"payload\":\"\377\376\375{\\\"v\\\":1}\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/alpha/stats\",\"qos\":0,\"retain\":0,\"payloadlen\":70,\"payload\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/alpha/stats/extra\",\"qos\":0,\"retain\":0,\"payloadlen\":2,\"payload\":\"{}\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"other/root/thing\",\"qos\":0,\"retain\":0,\"payloadlen\":2,\"payload\":\"{}\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/+/stats\",\"qos\":0,\"retain\":0,\"payloadlen\":2,\"payload\":\"{}\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts//state\",\"qos\":0,\"retain\":0,\"payloadlen\":2,\"payload\":\"{}\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"$SYS/broker/uptime\",\"qos\":0,\"retain\":0,\"payloadlen\":9,\"payload\":\"1 seconds\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/al pha/state\",\"qos\":0,\"retain\":0,\"payloadlen\":2,\"payload\":\"{}\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/policy/decisions\",\"qos\":1,\"retain\":0,\"payloadlen\":5,\"payload\":\"{\\\"v\\\"\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/hosts/beta/cmd\",\"qos\":1,\"retain\":0,\"payloadlen\":5,\"payload\":\"{\\\"v\\\":1,\\\"op\\\":\\\"format-disk\\\"}\"}"
		bad[n++] = "{\"tst\":\"TST\",\"topic\":\"onvm/policy/engines/x\",\"qos\":1,\"retain\":1,\"payloadlen\":5,\"payload\":\"{\\\"v\\\":1,\\\"status\\\":1}\"}"
		bad[n++] = "\"just a string\""
		bad[n++] = "{\"tst\":\"TST\",\"topic\":42,\"payload\":\"{}\"}"
		nbad = n
	}
	{
		print
		if (match($0, /"tst":"[^"]*"/)) t = substr($0, RSTART + 7, RLENGTH - 8)
		for (k = 0; k < 3; k++) {
			b = bad[(NR * 3 + k) % nbad]
			gsub(/TST/, t, b)
			print b
		}
	}'
}

case ${1:-} in
scenario) scenario "${2:?scenario file}" ;;
many-hosts) scenario <(many_hosts "${2:?number of hosts}") ;;
bench) bench "${2:?hosts}" "${3:?instances}" "${4:?periods}" ;;
pending) pending "${2:?hosts}" "${3:?periods}" ;;
corrupt) corrupt ;;
*)
	sed -n '2,14p' "$0" >&2
	exit 2
	;;
esac
