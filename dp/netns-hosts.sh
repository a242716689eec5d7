#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# netns-hosts.sh - several "hosts" on one machine, as network namespaces.
#
#   dp/netns-hosts.sh up TAG N     make hosts 1..N of TAG, joined by a bridge
#   dp/netns-hosts.sh control TAG NAME IP
#                                  another control machine TAG-NAME on the
#                                  management network (mgmt0 IP/24)
#   dp/netns-hosts.sh down TAG     remove every namespace of TAG
#   dp/netns-hosts.sh list TAG     print "host namespace interface tunnel-ip mgmt-ip"
#
# Host i is namespace TAG-hI, with two links, as a server has a data-plane
# NIC and a management NIC:
#   tun0   the inter-host (data-plane) link; its peer "hI" sits on bridge br0
#          in namespace TAG-fab, so every host reaches every other on one L2
#          segment, as hosts on a rack switch would.  The tunnel address
#          10.250.0.I is the manager's (given with onvm-mgr -T), not the
#          kernel's: tun0 has no address, so the kernel neither answers nor
#          forwards the VXLAN traffic the managers exchange.
#   mgmt0  the management link, 10.251.0.I/24 in the kernel, on bridge br1 of
#          TAG-fab: what a manager run wholly inside the namespace uses to
#          reach the broker.
# Namespace TAG-ctl is the control machine on br1 (mgmt0 10.251.0.254): the
# broker and the policy run there.  IPv6 is off in these namespaces so the
# links carry nothing but that traffic.  Nothing is created in, or addressed
# from, the machine's own namespace.
set -euo pipefail

MTU=1600 # room for the 50-byte VXLAN header around a 1500-byte frame
MAX_HOSTS=200
CONTROL_IP=10.251.0.254

usage() {
	echo "usage: $0 up TAG N | control TAG NAME 10.251.0.X | down TAG | list TAG" \
		"(TAG, NAME: [a-z0-9]{1,8}; N: 1..$MAX_HOSTS)" >&2
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
	for ns in $(ip netns list | awk '{print $1}' | grep -E "^$tag-" | grep -vx "$tag-fab"); do
		ip netns del "$ns" 2>/dev/null || true
	done
	ip netns del "$tag-fab" 2>/dev/null || true
}

up() {
	local tag=$1 count=$2 fabric="$1-fab" i ns
	down "$tag"
	ip netns add "$fabric"
	quiet_ipv6 "$fabric"
	ip -n "$fabric" link add br0 type bridge
	ip -n "$fabric" link set br0 mtu "$MTU" up
	ip -n "$fabric" link add br1 type bridge
	ip -n "$fabric" link set br1 up
	mgmt_link "$tag-ctl" ctl "$CONTROL_IP"
	for ((i = 1; i <= count; i++)); do
		ns="$tag-h$i"
		ip link add tun0 netns "$(make_ns "$ns")" mtu "$MTU" type veth peer name "h$i" \
			netns "$fabric" mtu "$MTU"
		ip -n "$fabric" link set "h$i" master br0 up
		ip -n "$ns" link set tun0 up
		mgmt_link "$ns" "m$i" "10.251.0.$i"
	done
	list "$tag"
}

# make_ns NAME: a namespace with loopback up and IPv6 off; prints NAME.
make_ns() {
	ip netns add "$1"
	quiet_ipv6 "$1"
	ip -n "$1" link set lo up
	echo "$1"
}

# mgmt_link NS PEER IP: NS's mgmt0 with IP/24, its peer PEER on br1.
mgmt_link() {
	local ns=$1 peer=$2 address=$3
	ip netns list | grep -qx "$ns" || make_ns "$ns" >/dev/null
	ip link add mgmt0 netns "$ns" type veth peer name "$peer" netns "$fabric"
	ip -n "$fabric" link set "$peer" master br1 up
	ip -n "$ns" addr add "$address/24" dev mgmt0
	ip -n "$ns" link set mgmt0 up
}

list() {
	local ns
	for ns in $(hosts_of "$1"); do
		local i=${ns##*-h}
		echo "h$i $ns tun0 10.250.0.$i 10.251.0.$i"
	done
	ip netns list | grep -q "^$1-ctl" && echo "control $1-ctl mgmt0 - $CONTROL_IP"
	return 0
}

(($# >= 2)) || usage
[[ $2 =~ ^[a-z0-9]{1,8}$ ]] || usage
case $1 in
up)
	(($# == 3)) && [[ $3 =~ ^[0-9]+$ ]] && (($3 >= 1 && $3 <= MAX_HOSTS)) || usage
	up "$2" "$3"
	;;
control)
	(($# == 4)) && [[ $3 =~ ^[a-z0-9]{1,8}$ && $4 =~ ^10\.251\.0\.[0-9]+$ ]] || usage
	ip netns list | grep -q "^$2-fab" || { echo "$0: no hosts of $2" >&2; exit 1; }
	fabric=$2-fab
	mgmt_link "$2-$3" "c$3" "$4"
	;;
down) down "$2" ;;
list) list "$2" ;;
*) usage ;;
esac
