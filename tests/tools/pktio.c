/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pktio - test traffic on a Linux interface, through an AF_PACKET socket.
 *
 *   pktio send  IFACE COUNT [FLOWS [BYTES [PPS]]]  send COUNT marked UDP frames
 *   pktio vxlan IFACE COUNT DST_MAC SRC_IP DST_IP VNI
 *                                             send COUNT marked frames inside
 *                                             VXLAN, as a peer (or a forger) would
 *   pktio count IFACE SECONDS [EXPECT]        count marked frames arriving
 *
 * "count" prints "ready" once listening, then "received N" when EXPECT frames
 * came and no more arrived for half a second, or when SECONDS ran out.
 * Frames are marked by a payload tag, so the kernel's own traffic on the
 * interface (IPv6 neighbour discovery and the like) is never counted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TAG	   "ONVMTEST"
#define TAG_OFFSET 42 /* Ethernet + IPv4 + UDP */
#define QUIET_MS   500

static void usage(void)
{
	fprintf(stderr, "usage: pktio send IFACE COUNT [FLOWS [BYTES [PPS]]]\n"
			"       pktio vxlan IFACE COUNT DST_MAC SRC_IP DST_IP VNI\n"
			"       pktio count IFACE SECONDS [EXPECT]\n");
	exit(2);
}

static long parse_number(const char *text, long min, long max)
{
	char *end;
	errno = 0;
	long value = strtol(text, &end, 10);
	if (errno || *end || end == text || value < min || value > max)
		usage();
	return value;
}

static uint64_t now_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
}

static int open_socket(const char *iface, struct sockaddr_ll *address)
{
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0) {
		perror("pktio: socket");
		exit(1);
	}
	memset(address, 0, sizeof(*address));
	address->sll_family = AF_PACKET;
	address->sll_protocol = htons(ETH_P_ALL);
	address->sll_ifindex = (int)if_nametoindex(iface);
	if (address->sll_ifindex == 0 ||
	    bind(fd, (struct sockaddr *)address, sizeof(*address)) < 0) {
		fprintf(stderr, "pktio: interface %s: %s\n", iface, strerror(errno));
		exit(1);
	}
	return fd;
}

static uint16_t ip_checksum(const uint8_t *header, size_t length)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < length; i += 2)
		sum += (uint32_t)(header[i] << 8 | header[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An IPv4 + UDP header at ip, for payload_length bytes after the UDP header. */
static void write_ipv4_udp(uint8_t *ip, const uint8_t src_ip[4], const uint8_t dst_ip[4],
			   uint16_t src_port, uint16_t dst_port, size_t payload_length)
{
	size_t ip_length = 20 + 8 + payload_length;
	memset(ip, 0, 28);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(ip_length >> 8);
	ip[3] = (uint8_t)ip_length;
	ip[8] = 64;
	ip[9] = 17; /* UDP */
	memcpy(ip + 12, src_ip, 4);
	memcpy(ip + 16, dst_ip, 4);
	uint16_t checksum = ip_checksum(ip, 20);
	ip[10] = (uint8_t)(checksum >> 8);
	ip[11] = (uint8_t)checksum;

	uint8_t *udp = ip + 20;
	udp[0] = (uint8_t)(src_port >> 8);
	udp[1] = (uint8_t)src_port;
	udp[2] = (uint8_t)(dst_port >> 8);
	udp[3] = (uint8_t)dst_port;
	udp[4] = (uint8_t)((payload_length + 8) >> 8);
	udp[5] = (uint8_t)(payload_length + 8);
}

static size_t build_frame(uint8_t *frame, long flow, size_t length)
{
	static const uint8_t dst_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
	static const uint8_t src_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
	static const uint8_t dst_ip[4] = {10, 1, 0, 1};
	memset(frame, 0, length);
	memcpy(frame, dst_mac, 6);
	memcpy(frame + 6, src_mac, 6);
	frame[12] = 0x08; /* IPv4 */
	uint8_t src_ip[4] = {10, 0, (uint8_t)(flow >> 8), (uint8_t)flow};
	write_ipv4_udp(frame + 14, src_ip, dst_ip, (uint16_t)(1024 + flow % 60000), 9,
		       length - TAG_OFFSET);
	memcpy(frame + TAG_OFFSET, TAG, strlen(TAG));
	return length;
}

/* What a VXLAN frame from a (maybe forged) peer is made of. */
struct vxlan_spec {
	uint8_t dst_mac[6];
	uint8_t src_ip[4], dst_ip[4];
	uint32_t vni;
};

#define VXLAN_OUTER 50 /* Ethernet + IPv4 + UDP + VXLAN */

/* A marked 64-byte frame inside VXLAN, from spec's source to its destination. */
static size_t build_vxlan_frame(uint8_t *frame, const struct vxlan_spec *spec, long flow)
{
	static const uint8_t src_mac[6] = {0x02, 0, 0, 0, 0, 0xee};
	size_t inner = build_frame(frame + VXLAN_OUTER, flow, 64);
	memcpy(frame, spec->dst_mac, 6);
	memcpy(frame + 6, src_mac, 6);
	frame[12] = 0x08;
	frame[13] = 0;
	write_ipv4_udp(frame + 14, spec->src_ip, spec->dst_ip, (uint16_t)(49152 + flow % 16384),
		       4789, 8 + inner);
	uint8_t *vxlan = frame + 42;
	memset(vxlan, 0, 8);
	vxlan[0] = 0x08; /* the VNI is valid */
	vxlan[4] = (uint8_t)(spec->vni >> 16);
	vxlan[5] = (uint8_t)(spec->vni >> 8);
	vxlan[6] = (uint8_t)spec->vni;
	return VXLAN_OUTER + inner;
}

static void pace(uint64_t start_us, long sent, long rate_pps)
{
	if (rate_pps <= 0)
		return;
	uint64_t due_us = start_us + (uint64_t)sent * 1000000u / (uint64_t)rate_pps;
	uint64_t now = now_ms() * 1000u;
	if (due_us > now + 1000)
		usleep((useconds_t)(due_us - now));
}

/* COUNT frames over FLOWS flows: plain ones of length bytes, or inside VXLAN. */
static int send_frames(const char *iface, long count, long flows, long length, long rate_pps,
		       const struct vxlan_spec *vxlan)
{
	struct sockaddr_ll address;
	int fd = open_socket(iface, &address);
	uint8_t frame[1514];
	uint64_t start_us = now_ms() * 1000u;
	for (long i = 0; i < count; i++) {
		pace(start_us, i, rate_pps);
		size_t size = vxlan ? build_vxlan_frame(frame, vxlan, i % flows)
				    : build_frame(frame, i % flows, (size_t)length);
		while (sendto(fd, frame, size, 0, (struct sockaddr *)&address, sizeof(address)) <
		       0) {
			if (errno != ENOBUFS && errno != EAGAIN) {
				perror("pktio: send");
				return 1;
			}
			usleep(100);
		}
	}
	printf("sent %ld\n", count);
	close(fd);
	return 0;
}

static int count_frames(const char *iface, long seconds, long expect)
{
	struct sockaddr_ll address;
	int fd = open_socket(iface, &address);
	int buffer_bytes = 64 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_bytes, sizeof(buffer_bytes));
	uint8_t frame[2048];
	long received = 0;
	uint64_t deadline = now_ms() + (uint64_t)seconds * 1000u;
	uint64_t quiet_until = 0;

	printf("ready\n");
	fflush(stdout);
	for (;;) {
		uint64_t now = now_ms();
		if (now >= deadline || (quiet_until && now >= quiet_until))
			break;
		struct pollfd poller = {.fd = fd, .events = POLLIN};
		uint64_t wait = (quiet_until ? quiet_until : deadline) - now;
		if (poll(&poller, 1, (int)(wait > 100 ? 100 : wait)) <= 0)
			continue;
		struct sockaddr_ll from;
		socklen_t from_length = sizeof(from);
		ssize_t size =
		    recvfrom(fd, frame, sizeof(frame), 0, (struct sockaddr *)&from, &from_length);
		if (size < TAG_OFFSET + (ssize_t)strlen(TAG) || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		if (memcmp(frame + TAG_OFFSET, TAG, strlen(TAG)) != 0)
			continue;
		received++;
		if (expect > 0 && received >= expect)
			quiet_until = now_ms() + QUIET_MS;
	}
	printf("received %ld\n", received);
	close(fd);
	return 0;
}

static void parse_mac(const char *text, uint8_t mac[6])
{
	unsigned bytes[6];
	char extra;
	if (sscanf(text, "%x:%x:%x:%x:%x:%x%c", &bytes[0], &bytes[1], &bytes[2], &bytes[3],
		   &bytes[4], &bytes[5], &extra) != 6)
		usage();
	for (int i = 0; i < 6; i++) {
		if (bytes[i] > 0xff)
			usage();
		mac[i] = (uint8_t)bytes[i];
	}
}

static void parse_ip(const char *text, uint8_t ip[4])
{
	if (inet_pton(AF_INET, text, ip) != 1)
		usage();
}

static int send_vxlan(char *argv[])
{
	struct vxlan_spec spec;
	parse_mac(argv[4], spec.dst_mac);
	parse_ip(argv[5], spec.src_ip);
	parse_ip(argv[6], spec.dst_ip);
	spec.vni = (uint32_t)parse_number(argv[7], 0, 0xffffff);
	return send_frames(argv[2], parse_number(argv[3], 0, 100000000), 16, 0, 0, &spec);
}

int main(int argc, char *argv[])
{
	if (argc < 4)
		usage();
	if (strcmp(argv[1], "send") == 0 && argc <= 7)
		return send_frames(argv[2], parse_number(argv[3], 0, 100000000),
				   argc > 4 ? parse_number(argv[4], 1, 65536) : 16,
				   argc > 5 ? parse_number(argv[5], 60, 1514) : 64,
				   argc > 6 ? parse_number(argv[6], 0, 100000000) : 0, NULL);
	if (strcmp(argv[1], "vxlan") == 0 && argc == 8)
		return send_vxlan(argv);
	if (strcmp(argv[1], "count") == 0 && argc <= 5)
		return count_frames(argv[2], parse_number(argv[3], 1, 3600),
				    argc > 4 ? parse_number(argv[4], 0, 100000000) : 0);
	usage();
	return 2;
}
