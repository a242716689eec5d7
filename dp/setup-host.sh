#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# setup-host.sh - prepare this machine to build and run Distributed OpenNetVM.
#
# Idempotent; needs root.  Installs the Debian packages that are missing,
# reserves hugepages and mounts hugetlbfs, and removes the hugepage files and
# runtime folders that dead runs of this project (prefixes onvm*) left behind.
#
#   dp/setup-host.sh [--hugepages N] [--no-packages]
#
# N is a count of 2 MiB pages (default: $ONVM_HUGEPAGES or 512, i.e. 1 GiB);
# the reservation is only ever raised, never lowered.
set -euo pipefail

# dpdk-dev also holds DPDK's tools: dpdk-telemetry.py, dpdk-proc-info and
# dpdk-dumpcap (docs/operations-telemetry.md); tshark reads their captures.
# chromium, nodejs and npm run the dashboard's browser test and bench
# (tests/integration/test_dashboard.sh, tests/bench/dashboard.sh);
# libmicrohttpd-dev is onvm-exporter's HTTP, and prometheus brings promtool,
# which tests/integration/test_exporter.sh checks /metrics with.
PACKAGES=(build-essential cmake pkg-config clang libclang-rt-14-dev dpdk dpdk-dev libdpdk-dev libnuma-dev
	libjansson-dev libpaho-mqtt-dev libcmocka-dev mosquitto mosquitto-clients mosquitto-dev
	libmosquitto-dev openssl iproute2
	tshark gnuplot-nox procps faketime jq
	chromium nodejs npm curl libmicrohttpd-dev prometheus)
hugepages=${ONVM_HUGEPAGES:-512}
install_packages=1

usage() {
	echo "usage: $0 [--hugepages N] [--no-packages]" >&2
	exit 2
}

while (($#)); do
	case $1 in
	--hugepages)
		[[ ${2:-} =~ ^[0-9]+$ ]] || usage
		hugepages=$2
		shift 2
		;;
	--no-packages)
		install_packages=0
		shift
		;;
	*) usage ;;
	esac
done

say() { echo "setup-host: $*"; }

[[ $(id -u) -eq 0 ]] || { say "must run as root (hugepages, packages, veth)"; exit 1; }

# Packages another package may stand in for: a nodejs from elsewhere
# (NodeSource's) brings its own npm and conflicts with Debian's.
declare -A COMMAND_OF=([nodejs]=node [npm]=npm)

install_missing_packages() {
	local missing=() package
	for package in "${PACKAGES[@]}"; do
		[[ -n ${COMMAND_OF[$package]:-} ]] && command -v "${COMMAND_OF[$package]}" >/dev/null &&
			continue
		dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$package")
	done
	((${#missing[@]})) || return 0
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	# Debian starts its own broker on port 1883; the project runs its own brokers.
	if pidof mosquitto >/dev/null && [[ -f /etc/init.d/mosquitto ]]; then
		/etc/init.d/mosquitto stop >/dev/null 2>&1 || true
	fi
}

reserve_hugepages() {
	local nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
	local current
	current=$(cat "$nr")
	if ((current < hugepages)); then
		echo "$hugepages" >"$nr"
		current=$(cat "$nr")
		((current >= hugepages)) || say "warning: asked for $hugepages hugepages, got $current"
	fi
	mkdir -p /dev/hugepages
	if ! grep -qs " /dev/hugepages hugetlbfs " /proc/mounts; then
		mount -t hugetlbfs nodev /dev/hugepages
	fi
	say "hugepages: $current x 2 MiB reserved, $(awk '/HugePages_Free/ {print $2}' /proc/meminfo) free"
}

# Prefixes that a live process (manager or NF) uses right now.
live_prefixes() {
	local cmdline
	for cmdline in /proc/[0-9]*/cmdline; do
		{ tr '\0' ' ' <"$cmdline"; } 2>/dev/null | grep -o -- '--file-prefix[= ][^ ]*' || true
	done | sed 's/--file-prefix[= ]//' | sort -u
}

remove_stale_files() {
	local live file prefix removed=0
	live=$(live_prefixes)
	for file in /dev/hugepages/onvm*map_*; do
		[[ -e $file ]] || continue
		prefix=$(basename "$file")
		prefix=${prefix%map_*}
		grep -qx -- "$prefix" <<<"$live" && continue
		rm -f "$file"
		removed=$((removed + 1))
	done
	for file in /var/run/dpdk/onvm*; do
		[[ -d $file ]] || continue
		grep -qx -- "$(basename "$file")" <<<"$live" && continue
		rm -rf "$file"
	done
	((removed == 0)) || say "removed $removed stale hugepage files"
}

((install_packages)) && install_missing_packages
reserve_hugepages
remove_stale_files
