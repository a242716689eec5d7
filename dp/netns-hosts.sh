#!/usr/bin/env bash
# netns-hosts.sh - several "hosts" on one machine, as network namespaces.
#
#   dp/netns-hosts.sh up TAG N     make hosts 1..N of TAG, joined by a bridge
#   dp/netns-hosts.sh down TAG     remove every namespace of TAG
#   dp/netns-hosts.sh list TAG     print "host namespace interface tunnel-ip"
#
# Host i is namespace TAG-hI.  Its inter-host link is the veth "tun0", whose
# peer "hI" sits on bridge br0 in namespace TAG-fab, so every host reaches
# every other on one L2 segment, as hosts on a rack switch would.  The tunnel
# address 10.250.0.I is the manager's (given with onvm-mgr -T), not the
# kernel's: tun0 has no address, so the kernel neither answers nor forwards
# the VXLAN traffic the managers exchange.  IPv6 is off in these namespaces
# so the links carry nothing but that traffic.  Nothing is created in, or
# addressed from, the machine's own namespace.
set -euo pipefail

MTU=1600 # room for the 50-byte VXLAN header around a 1500-byte frame
MAX_HOSTS=200

usage() {
	echo "usage: $0 up TAG N | down TAG | list TAG   (TAG: [a-z0-9]{1,8}, N: 1..$MAX_HOSTS)" >&2
	exit 2
}

quiet_ipv6() {
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null
}

hosts_of() {
	ip netns list | awk '{print $1}' | grep -E "^$1-h[0-9]+$" | sort -V || true
}

down() {
	local tag=$1 ns
	for ns in $(hosts_of "$tag") "$tag-fab"; do
		ip netns del "$ns" 2>/dev/null || true
	done
}

up() {
	local tag=$1 count=$2 fabric="$1-fab" i ns
	down "$tag"
	ip netns add "$fabric"
	quiet_ipv6 "$fabric"
	ip -n "$fabric" link add br0 type bridge
	ip -n "$fabric" link set br0 mtu "$MTU" up
	for ((i = 1; i <= count; i++)); do
		ns="$tag-h$i"
		ip netns add "$ns"
		quiet_ipv6 "$ns"
		ip link add tun0 netns "$ns" mtu "$MTU" type veth peer name "h$i" netns "$fabric" mtu "$MTU"
		ip -n "$fabric" link set "h$i" master br0 up
		ip -n "$ns" link set tun0 up
		ip -n "$ns" link set lo up
	done
	list "$tag"
}

list() {
	local ns
	for ns in $(hosts_of "$1"); do
		local i=${ns##*-h}
		echo "h$i $ns tun0 10.250.0.$i"
	done
}

(($# >= 2)) || usage
[[ $2 =~ ^[a-z0-9]{1,8}$ ]] || usage
case $1 in
up)
	(($# == 3)) && [[ $3 =~ ^[0-9]+$ ]] && (($3 >= 1 && $3 <= MAX_HOSTS)) || usage
	up "$2" "$3"
	;;
down) down "$2" ;;
list) list "$2" ;;
*) usage ;;
esac
