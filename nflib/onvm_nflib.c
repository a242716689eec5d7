/* SPDX-License-Identifier: BSD-3-Clause */
/* onvm_nflib.c - the network function library (see onvm_nflib.h). */
#define _GNU_SOURCE /* CPU_SET, for moving a switched-on standby to its CPU */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf_dyn.h>
#include <rte_memzone.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>

#include "clock.h"
#include "number.h"
#include "onvm_backoff.h"
#include "onvm_direct_tx.h"
#include "onvm_log.h"
#include "onvm_nflib.h"
#include "onvm_phases.h"
#include "onvm_pktbuf.h"
#include "onvm_service_map.h"
#include "onvm_version.h"

#define REGISTER_TIMEOUT_MS   5000
#define UNREGISTER_TIMEOUT_MS 1000
#define MANAGER_CHECK_MS      200
#define FINISH_RING_MS	      200  /* at most this long to empty the ring when stopped */
#define ATTACH_LOCK_MS	      8000 /* at most this long to wait for other NFs' EAL init */
#define ATTACH_LOCK_NAME      "onvm_nf_attach.lock"

struct onvm_nf {
	struct onvm_shared *shm;
	struct onvm_instance *instance;
	struct rte_mempool *pktmbuf_pool;
	struct rte_mempool *msg_pool;
	struct rte_ring *manager_msgq;
	struct onvm_nf_info info;
	char name[ONVM_NAME_LEN];
	volatile sig_atomic_t stop;

	/* Packets waiting to be enqueued, one buffer per destination. */
	struct onvm_slot_buffers to_instance;
	struct onvm_burst_buffer to_manager;
	struct onvm_burst_buffer unserved; /* for the manager to count and drop */
	struct onvm_pick_cache picks;	   /* members of the services we send to */

	/* The ports, as read once at start: their number, and for each the TX
	 * queue this NF transmits on itself, or -1 (through the manager). */
	uint16_t nb_ports;
	int16_t direct_queue[ONVM_MAX_PORTS];
	uint32_t direct_ports;	  /* bit per port with a direct_queue */
	uint32_t to_port_pending; /* bit per port with packets in to_port */
	struct onvm_burst_buffer to_port[ONVM_MAX_PORTS];
};

/* Signals cannot carry a pointer: the one NF of this process. */
static struct onvm_nf *signal_nf;

static void handle_stop_signal(int signo)
{
	(void)signo;
	if (signal_nf)
		signal_nf->stop = 1;
}

static void print_usage(const char *prgname)
{
	fprintf(stderr,
		"usage: %s [EAL args] -- -r SERVICE [-n NAME] [-- app args]\n"
		"  -r, --service SERVICE  service id to serve (1..%d)\n"
		"  -n, --name NAME        instance name in reports (default: the program's)\n"
		"EAL args must make this a secondary of a running onvm-mgr:\n"
		"  --proc-type=secondary --file-prefix=<the manager's prefix>\n",
		prgname, ONVM_MAX_SERVICES - 1);
}

static int parse_service_id(const char *text, uint16_t *service)
{
	uint64_t value;
	if (onvm_parse_uint(text, 1, ONVM_MAX_SERVICES - 1, &value) < 0)
		return -1;
	*service = (uint16_t)value;
	return 0;
}

/* Parses "-r SERVICE [-n NAME]" up to an optional "--".  Returns argv entries used or -EINVAL. */
static int parse_nflib_args(struct onvm_nf *nf, int argc, char *argv[])
{
	static const struct option long_options[] = {
	    {"service", required_argument, NULL, 'r'},
	    {"name", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int have_service = 0;
	int opt;

	optind = 0; /* full getopt reset (glibc) */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+r:n:h", long_options, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (parse_service_id(optarg, &nf->info.service_id) < 0) {
				NF_LOG(ERR, "bad service id '%s'", optarg);
				return -EINVAL;
			}
			have_service = 1;
			break;
		case 'n':
			snprintf(nf->name, sizeof(nf->name), "%s", optarg);
			break;
		default:
			if (opt == '?')
				NF_LOG(ERR, "unknown or incomplete option '%s'", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (!have_service) {
		NF_LOG(ERR, "a service id (-r SERVICE) is required");
		return -EINVAL;
	}
	/* getopt stops after "--" or at the first non-option; both end our part. */
	return optind - 1;
}

/* 0 when this process's mempool ops at the pool's index are the ones the
 * manager made it with (recorded, a name of the manager's, possibly
 * unterminated); the manager's index is checked before it is used. */
static int check_pool_ops(const char *pool_name, const struct rte_mempool *pool,
			  const char *recorded, size_t recorded_size)
{
	const char *ours =
	    pool->ops_index >= 0 && (unsigned)pool->ops_index < rte_mempool_ops_table.num_ops
		? rte_mempool_get_ops(pool->ops_index)->name
		: "(none)";
	if (strnlen(recorded, recorded_size) < recorded_size && strcmp(ours, recorded) == 0)
		return 0;
	NF_LOG(ERR,
	       "pool %s uses mempool ops '%.*s' in the manager, but '%s' here: this NF "
	       "is linked otherwise than onvm-mgr (DPDK static or shared, the library order); "
	       "build both the same way",
	       pool_name, (int)strnlen(recorded, recorded_size), recorded, ours);
	return -1;
}

static int attach_shared_memory(struct onvm_nf *nf)
{
	const struct rte_memzone *zone = rte_memzone_lookup(ONVM_SHM_NAME);
	if (zone == NULL) {
		NF_LOG(ERR,
		       "no manager shared memory '%s' (is onvm-mgr running "
		       "with this --file-prefix?)",
		       ONVM_SHM_NAME);
		return -ENOENT;
	}
	nf->shm = zone->addr;
	if (nf->shm->magic != ONVM_SHM_MAGIC || nf->shm->version != ONVM_SHM_VERSION) {
		NF_LOG(ERR, "shared memory has the wrong magic or version");
		return -EPROTO;
	}
	nf->pktmbuf_pool = rte_mempool_lookup(ONVM_PKTMBUF_POOL_NAME);
	nf->msg_pool = rte_mempool_lookup(ONVM_MSG_POOL_NAME);
	nf->manager_msgq = rte_ring_lookup(ONVM_MGR_MSG_RING_NAME);
	if (!nf->pktmbuf_pool || !nf->msg_pool || !nf->manager_msgq) {
		NF_LOG(ERR, "manager pools or message ring missing");
		return -ENOENT;
	}
	const struct rte_memzone *ops_zone = rte_memzone_lookup(ONVM_POOL_OPS_NAME);
	if (ops_zone == NULL || ops_zone->len < sizeof(struct onvm_pool_ops)) {
		NF_LOG(ERR, "the manager did not record its mempool ops");
		return -ENOENT;
	}
	const struct onvm_pool_ops *ops = ops_zone->addr;
	if (check_pool_ops(ONVM_PKTMBUF_POOL_NAME, nf->pktmbuf_pool, ops->pktmbuf,
			   sizeof(ops->pktmbuf)) < 0 ||
	    check_pool_ops(ONVM_MSG_POOL_NAME, nf->msg_pool, ops->msg, sizeof(ops->msg)) < 0)
		return -EPROTO;
	/* The manager registered the field; the lookup gives this process its offset. */
	if (rte_mbuf_dynfield_lookup(ONVM_META_DYNFIELD_NAME, NULL) != nf->shm->meta_offset) {
		NF_LOG(ERR, "packet metadata field not found");
		return -ENOENT;
	}
	return 0;
}

/* Wait up to timeout_ms for msg's status to leave from. */
static uint32_t wait_status(struct onvm_msg *msg, uint32_t from, unsigned timeout_ms)
{
	uint64_t deadline = rte_get_timer_cycles() + rte_get_timer_hz() * timeout_ms / 1000;
	struct onvm_backoff backoff = {0};
	uint32_t status;
	while ((status = __atomic_load_n(&msg->status, __ATOMIC_ACQUIRE)) == from &&
	       rte_get_timer_cycles() <= deadline)
		onvm_backoff_idle(&backoff);
	return status;
}

/* Send a message and wait for the manager's answer, up to timeout_ms.  The
 * message stays ours to free either way, except on timeout: then it is
 * marked abandoned, which the manager will not act on and frees (see
 * onvm_msg_status), or, taken by the manager too late to wait for, left to
 * the pool's owner. */
static int send_message(struct onvm_nf *nf, struct onvm_msg *msg, unsigned timeout_ms)
{
	msg->status = ONVM_MSG_PENDING;
	if (rte_ring_enqueue(nf->manager_msgq, msg) != 0)
		return -EBUSY;
	uint32_t status = wait_status(msg, ONVM_MSG_PENDING, timeout_ms);
	if (status == ONVM_MSG_PENDING &&
	    __atomic_compare_exchange_n(&msg->status, &status, ONVM_MSG_ABANDONED, 0,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return -ETIMEDOUT;
	if (status == ONVM_MSG_TAKEN) /* acting on it: the answer follows at once */
		status = wait_status(msg, ONVM_MSG_TAKEN, timeout_ms);
	return status == ONVM_MSG_TAKEN ? -ETIMEDOUT : 0;
}

static int register_instance(struct onvm_nf *nf)
{
	struct onvm_msg *msg;
	if (rte_mempool_get(nf->msg_pool, (void **)&msg) != 0)
		return -ENOMEM;
	memset(msg, 0, sizeof(*msg));
	msg->type = ONVM_MSG_REGISTER;
	msg->pid = getpid();
	msg->service_id = nf->info.service_id;
	msg->core = (int32_t)rte_lcore_id();
	snprintf(msg->name, sizeof(msg->name), "%s", nf->name);

	int ret = send_message(nf, msg, REGISTER_TIMEOUT_MS);
	if (ret == -ETIMEDOUT) {
		NF_LOG(ERR, "the manager did not answer the registration");
		return ret;
	}
	if (ret == 0 && msg->status != ONVM_MSG_OK) {
		NF_LOG(ERR, "registration refused: %s", msg->error);
		ret = -EPERM;
	}
	if (ret == 0) {
		nf->info.slot = msg->slot;
		nf->info.instance_id = msg->instance_id;
		nf->info.core = msg->core;
		nf->instance = &nf->shm->instances[msg->slot];
	}
	rte_mempool_put(nf->msg_pool, msg);
	return ret;
}

/*
 * Which ports this NF transmits on itself (onvm_direct_tx.h), decided once
 * its slot is known.  Shared memory says where the manager set up a queue
 * for the slot, but any NF can write it: the port must be one this process
 * has, its driver one of the list, and the queue one of its queues.
 */
static void setup_direct_tx(struct onvm_nf *nf)
{
	char direct[128] = "";
	size_t used = 0;
	nf->nb_ports = RTE_MIN(nf->shm->nb_ports, (uint16_t)ONVM_MAX_PORTS);
	for (uint16_t port = 0; port < ONVM_MAX_PORTS; port++) {
		struct rte_eth_dev_info info;
		uint16_t base = nf->shm->ports[port].nf_tx_queue_base;
		int queue = -1;
		if (port < nf->nb_ports && base != 0 && rte_eth_dev_is_valid_port(port) &&
		    rte_eth_dev_info_get(port, &info) == 0)
			queue = onvm_direct_tx_queue(base, nf->info.slot, info.driver_name,
						     info.nb_tx_queues);
		nf->direct_queue[port] = (int16_t)queue;
		if (queue >= 0)
			nf->direct_ports |= 1u << port;
		if (queue >= 0 && used < sizeof(direct)) {
			int length = snprintf(direct + used, sizeof(direct) - used,
					      " %u (queue %d)", port, queue);
			used += length > 0 ? (size_t)length : 0;
		}
	}
	if (direct[0])
		NF_LOG(INFO, "%s transmits itself on port%s", nf->name, direct);
}

#define STANDBY_POLL_US 200 /* how soon a standby notices it was switched on */

/*
 * A warm standby: idle until the manager switches it on (or stops it), then
 * move to the CPU of the core it was given.  Its lcore id stays the one it
 * started with: unique, as mempool caches need.  0 when switched on.
 */
static int wait_until_switched_on(struct onvm_nf *nf)
{
	NF_LOG(INFO, "%s is a warm standby (slot %u); waiting to be switched on", nf->name,
	       nf->info.slot);
	fflush(stdout);
	while (__atomic_load_n(&nf->instance->state, __ATOMIC_ACQUIRE) == ONVM_INST_STANDBY) {
		if (nf->stop || nf->instance->stop_requested || nf->shm->manager_stopping)
			return -1;
		usleep(STANDBY_POLL_US);
	}
	if (nf->instance->state != ONVM_INST_RUNNING)
		return -1;
	nf->info.instance_id = nf->instance->instance_id;
	nf->info.core = nf->instance->core;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	rte_cpuset_t cpuset;
	CPU_ZERO(&cpuset);
	CPU_SET((unsigned)nf->info.core % (unsigned)(cpus > 0 ? cpus : 1), &cpuset);
	if (rte_thread_set_affinity(&cpuset) != 0)
		NF_LOG(ERR, "cannot move to the CPU of core %d", nf->info.core);
	return 0;
}

/* The --file-prefix among the EAL arguments, or NULL. */
static const char *eal_file_prefix(int eal_argc, char *argv[])
{
	static const char option[] = "--file-prefix";
	const size_t length = sizeof(option) - 1;
	for (int i = 1; i < eal_argc; i++) {
		if (strncmp(argv[i], option, length) != 0)
			continue;
		if (argv[i][length] == '=')
			return argv[i] + length + 1;
		if (argv[i][length] == '\0' && i + 1 < eal_argc)
			return argv[i + 1];
	}
	return NULL;
}

/*
 * One NF at a time through rte_eal_init.  Secondaries of DPDK 22.11 that
 * attach at the same moment can fail ("couldn't lock
 * .../fbarray_memseg-..._<pid>", then "Cannot init memory"), as 16 and more
 * NFs started together showed.  A lock in the manager's runtime folder keeps
 * them in turn; one attach takes ~30 ms of CPU, so the queue costs no more
 * than the CPUs would.  Best effort: without the folder, or after
 * ATTACH_LOCK_MS behind other NFs (32 take ~5 s on two busy CPUs), go on
 * unlocked.
 * Returns the held lock's fd, or -1.
 */
static int lock_attach(int eal_argc, char *argv[])
{
	const char *prefix = eal_file_prefix(eal_argc, argv);
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	char path[PATH_MAX];
	int length;
	if (geteuid() == 0 || runtime == NULL)
		runtime = geteuid() == 0 ? "/var/run" : "/tmp";
	length = snprintf(path, sizeof(path), "%s/dpdk/%s/" ATTACH_LOCK_NAME, runtime,
			  prefix ? prefix : "rte");
	if (length < 0 || (size_t)length >= sizeof(path) || (prefix && strchr(prefix, '/')))
		return -1;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	uint64_t deadline = onvm_mono_ms() + ATTACH_LOCK_MS;
	struct onvm_backoff backoff = {0};
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK || onvm_mono_ms() >= deadline) {
			NF_LOG(ERR, "%s: %s; starting without it", path,
			       errno == EWOULDBLOCK ? "still held by another NF" : strerror(errno));
			close(fd);
			return -1;
		}
		onvm_backoff_idle(&backoff);
	}
	return fd;
}

static void unlock_attach(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the flock */
}

int onvm_nflib_init(int argc, char *argv[], const char *nf_name, struct onvm_nf **nf_out)
{
	const char *prgname = argc > 0 ? argv[0] : nf_name;
	onvm_log_stream_init(); /* EAL's lines stamped too (ONVM_START_PHASES: its own) */
	onvm_phases_begin();
	onvm_phases_end(ONVM_PHASE_MAIN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		onvm_version_print(stdout, nf_name);
		return -ECANCELED;
	}
	struct onvm_nf *nf = calloc(1, sizeof(*nf));
	if (nf == NULL)
		return -ENOMEM;
	snprintf(nf->name, sizeof(nf->name), "%s", nf_name);

	/* Check our own arguments before EAL, so a typo fails fast and cleanly. */
	int separator = 0;
	while (separator < argc && strcmp(argv[separator], "--") != 0)
		separator++;
	int nf_argc = argc - separator;
	char **nf_argv = argv + separator;
	if (nf_argc == 0) {
		NF_LOG(ERR, "missing \"--\" and the NF's own arguments");
		print_usage(prgname);
		free(nf);
		return -EINVAL;
	}
	char *saved_separator = nf_argv[0];
	nf_argv[0] = (char *)(uintptr_t)prgname;
	int nf_used = parse_nflib_args(nf, nf_argc, nf_argv);
	nf_argv[0] = saved_separator;
	if (nf_used < 0) {
		print_usage(prgname);
		free(nf);
		return nf_used;
	}

	int attach_lock = lock_attach(separator, argv);
	onvm_phases_end(ONVM_PHASE_LOCK);
	int eal_used = rte_eal_init(separator, argv);
	unlock_attach(attach_lock);
	onvm_phases_end(ONVM_PHASE_EAL);
	if (eal_used < 0) {
		NF_LOG(ERR, "EAL init failed: %s", rte_strerror(rte_errno));
		free(nf);
		return rte_errno == EINVAL ? -EINVAL : -ENODEV;
	}
	if (rte_eal_process_type() != RTE_PROC_SECONDARY) {
		NF_LOG(ERR, "an NF must run as a secondary (--proc-type=secondary)");
		rte_eal_cleanup();
		free(nf);
		return -EINVAL;
	}

	int ret = attach_shared_memory(nf);
	onvm_phases_end(ONVM_PHASE_ATTACH);
	if (ret == 0)
		ret = register_instance(nf);
	onvm_phases_end(ONVM_PHASE_REGISTER);
	if (ret < 0) {
		rte_eal_cleanup();
		free(nf);
		return ret;
	}
	setup_direct_tx(nf);

	signal_nf = nf;
	struct sigaction action = {.sa_handler = handle_stop_signal};
	sigemptyset(&action.sa_mask);
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);

	if (nf->instance->state == ONVM_INST_STANDBY && wait_until_switched_on(nf) < 0) {
		/* Stopped before it ever served: nothing for the application to do. */
		onvm_nflib_finish(nf);
		return -ECANCELED;
	}
	onvm_phases_report(stdout);
	NF_LOG(INFO, "%s registered: service %u instance %u slot %u core %d", nf->name,
	       nf->info.service_id, nf->info.instance_id, nf->info.slot, nf->info.core);
	fflush(stdout);
	*nf_out = nf;

	/* The app's arguments follow; argv[used] becomes its argv[0]. */
	int used = separator + nf_used;
	argv[used] = (char *)(uintptr_t)prgname;
	return used;
}

static inline void counter_add(uint64_t *counter, uint64_t amount)
{
	/* Single writer: a plain load and an untorn store are enough. */
	__atomic_store_n(counter, *counter + amount, __ATOMIC_RELAXED);
}

static void flush_to_manager(struct onvm_nf *nf)
{
	struct onvm_burst_buffer *buffer = &nf->to_manager;
	unsigned sent = rte_ring_enqueue_burst(nf->instance->tx_ring, (void **)buffer->pkts,
					       buffer->count, NULL);
	if (sent < buffer->count) {
		rte_pktmbuf_free_bulk(&buffer->pkts[sent], buffer->count - sent);
		counter_add(&nf->instance->counters.tx_drop, buffer->count - sent);
	}
	counter_add(&nf->instance->counters.tx, sent);
	buffer->count = 0;
}

static void count_flush(struct onvm_nf *nf, const struct onvm_flush_result *result)
{
	if (result->sent)
		counter_add(&nf->instance->counters.tx, result->sent);
	if (result->lost)
		counter_add(&nf->instance->counters.tx_drop, result->lost);
}

/* Already counted as tx_drop: whether the manager or we free them. */
static void flush_unserved(struct onvm_nf *nf)
{
	struct onvm_burst_buffer *buffer = &nf->unserved;
	unsigned sent = rte_ring_enqueue_burst(nf->instance->tx_ring, (void **)buffer->pkts,
					       buffer->count, NULL);
	if (sent < buffer->count)
		rte_pktmbuf_free_bulk(&buffer->pkts[sent], buffer->count - sent);
	buffer->count = 0;
}

/* Transmit on our own queue of the port; what it will not take is freed. */
static void transmit(struct onvm_nf *nf, uint16_t port, struct rte_mbuf **pkts, uint16_t count)
{
	uint16_t sent = rte_eth_tx_burst(port, (uint16_t)nf->direct_queue[port], pkts, count);
	struct onvm_port_tx *port_tx = &nf->instance->port_tx[port];
	if (unlikely(sent < count)) {
		rte_pktmbuf_free_bulk(&pkts[sent], count - sent);
		counter_add(&nf->instance->counters.tx_drop, count - sent);
		counter_add(&port_tx->refused, count - sent);
	}
	counter_add(&nf->instance->counters.tx, sent);
	counter_add(&port_tx->sent, sent);
}

static void flush_to_port(struct onvm_nf *nf, uint16_t port)
{
	struct onvm_burst_buffer *buffer = &nf->to_port[port];
	transmit(nf, port, buffer->pkts, buffer->count);
	buffer->count = 0;
	nf->to_port_pending &= ~(1u << port);
}

static void flush_all(struct onvm_nf *nf)
{
	struct onvm_flush_result result = {0};
	onvm_slot_flush_all(nf->shm, &nf->to_instance, &result);
	count_flush(nf, &result);
	while (nf->to_port_pending)
		flush_to_port(nf, (uint16_t)__builtin_ctz(nf->to_port_pending));
	if (nf->to_manager.count)
		flush_to_manager(nf);
	if (unlikely(nf->unserved.count))
		flush_unserved(nf);
}

static void queue_to_member(struct onvm_nf *nf, unsigned slot, struct rte_mbuf *pkt,
			    struct onvm_pkt_meta *meta)
{
	struct onvm_flush_result result = {0};
	onvm_member_queue(nf->shm, &nf->to_instance, slot, pkt, meta, &result);
	count_flush(nf, &result);
}

/* What one burst's dispatch dropped, added to the counters once per burst. */
struct dispatch_tally {
	unsigned act_drop;
	unsigned tx_drop;
};

/* The service has no member anywhere: hand the packet to the manager, which
 * counts the service's unserved demand from the packets it gets (it never
 * trusts a count an NF writes), instead of freeing it here. */
static void queue_unserved(struct onvm_nf *nf, struct rte_mbuf *pkt, uint16_t service,
			   struct dispatch_tally *tally)
{
	struct onvm_burst_buffer *buffer = &nf->unserved;
	tally->tx_drop++;
	pkt->port = (uint16_t)(ONVM_UNSERVED_PORT_BASE + service);
	buffer->pkts[buffer->count++] = pkt;
	if (buffer->count == ONVM_BURST)
		flush_unserved(nf);
}

static void queue_to_manager(struct onvm_nf *nf, struct rte_mbuf *pkt)
{
	struct onvm_burst_buffer *buffer = &nf->to_manager;
	buffer->pkts[buffer->count++] = pkt;
	if (buffer->count == ONVM_BURST)
		flush_to_manager(nf);
}

static void queue_to_port(struct onvm_nf *nf, uint16_t port, struct rte_mbuf *pkt)
{
	struct onvm_burst_buffer *buffer = &nf->to_port[port];
	buffer->pkts[buffer->count++] = pkt;
	nf->to_port_pending |= 1u << port;
	if (buffer->count == ONVM_BURST)
		flush_to_port(nf, port);
}

/* Resolve NEXT into a service or a port, following the packet's chain. */
static void resolve_next(const struct onvm_shared *shm, struct onvm_pkt_meta *meta)
{
	const struct onvm_port_info *port = &shm->ports[meta->chain_port % ONVM_MAX_PORTS];
	unsigned next = meta->chain_pos + 1u;
	if (next < RTE_MIN(port->chain_len, (unsigned)ONVM_MAX_CHAIN)) {
		meta->chain_pos = (uint8_t)next;
		meta->action = ONVM_ACTION_TO_SERVICE;
		meta->destination = port->chain[next];
	} else {
		meta->action = ONVM_ACTION_TO_PORT;
		meta->destination = port->egress_port;
	}
}

static inline void dispatch_one(struct onvm_nf *nf, struct rte_mbuf *pkt,
				struct onvm_pkt_meta *meta, struct dispatch_tally *tally)
{
	if (meta->action == ONVM_ACTION_NEXT)
		resolve_next(nf->shm, meta);
	switch (meta->action) {
	case ONVM_ACTION_TO_SERVICE: {
		int slot =
		    onvm_pick_cache_pkt(&nf->picks, &nf->shm->map, meta->destination, pkt, meta, 0);
		if (likely(slot >= 0 && onvm_member_slot_valid((unsigned)slot))) {
			queue_to_member(nf, (unsigned)slot, pkt, meta);
			return;
		}
		if (slot < 0 && onvm_service_valid(meta->destination)) {
			queue_unserved(nf, pkt, meta->destination, tally);
			return;
		}
		break;
	}
	case ONVM_ACTION_TO_PORT:
		if (meta->destination >= nf->nb_ports)
			break;
		if (nf->direct_queue[meta->destination] >= 0) {
			queue_to_port(nf, meta->destination, pkt);
			return;
		}
		/* The manager's TX reads the port from the mbuf's first cache line,
		 * so it need not touch the metadata in the second. */
		pkt->port = meta->destination;
		queue_to_manager(nf, pkt);
		return;
	case ONVM_ACTION_DROP:
		tally->act_drop++;
		rte_pktmbuf_free(pkt);
		return;
	default:
		break;
	}
	/* Nowhere to go: no instance of the service, or a bad port or action. */
	tally->tx_drop++;
	rte_pktmbuf_free(pkt);
}

/* The port a packet of the last service of its chain, or sent to a port,
 * leaves by; -1 for any other action or a port this NF does not have. */
static int egress_of(const struct onvm_nf *nf, const struct onvm_pkt_meta *meta)
{
	unsigned port = meta->destination;
	if (meta->action == ONVM_ACTION_NEXT) {
		const struct onvm_port_info *info =
		    &nf->shm->ports[meta->chain_port % ONVM_MAX_PORTS];
		if (meta->chain_pos + 1u < RTE_MIN(info->chain_len, (unsigned)ONVM_MAX_CHAIN))
			return -1;
		port = info->egress_port;
	} else if (meta->action != ONVM_ACTION_TO_PORT) {
		return -1;
	}
	return port < nf->nb_ports ? (int)port : -1;
}

/* How many packets from the first have the same way on as it: the same
 * action, destination and place in the same chain. */
static unsigned same_way_run(struct onvm_pkt_meta *const *metas, unsigned count)
{
	const struct onvm_pkt_meta *first = metas[0];
	unsigned run = 1;
	while (run < count) {
		const struct onvm_pkt_meta *meta = metas[run];
		if (meta->action != first->action || meta->destination != first->destination ||
		    meta->chain_port != first->chain_port || meta->chain_pos != first->chain_pos)
			break;
		run++;
	}
	return run;
}

/*
 * Carry out a burst's actions, then enqueue what they queued.  Returns how
 * many packets were sent on (queued for an instance, a port or the tunnel).
 *
 * The common case is a chain's last service: a run of packets (an RX burst
 * comes from one port, so its packets share a chain) leaves by one port
 * that this NF transmits on itself.  With nothing of that port's buffered
 * before it, such a run goes out as it came, without buffering.
 */
static unsigned dispatch_burst(struct onvm_nf *nf, struct rte_mbuf **pkts,
			       struct onvm_pkt_meta **metas, unsigned count)
{
	struct dispatch_tally tally = {0};
	for (unsigned i = 0; i < count;) {
		unsigned run = same_way_run(&metas[i], count - i);
		int port = egress_of(nf, metas[i]);
		if (port >= 0 && nf->direct_queue[port] >= 0 && nf->to_port[port].count == 0) {
			transmit(nf, (uint16_t)port, &pkts[i], (uint16_t)run);
			i += run;
			continue;
		}
		for (unsigned end = i + run; i < end; i++)
			dispatch_one(nf, pkts[i], metas[i], &tally);
	}
	flush_all(nf);
	if (tally.act_drop)
		counter_add(&nf->instance->counters.act_drop, tally.act_drop);
	if (tally.tx_drop)
		counter_add(&nf->instance->counters.tx_drop, tally.tx_drop);
	return count - tally.act_drop - tally.tx_drop;
}

unsigned onvm_nflib_send(struct onvm_nf *nf, struct rte_mbuf **pkts, unsigned count)
{
	struct onvm_pkt_meta *metas[ONVM_BURST];
	unsigned sent = 0;
	while (count) {
		unsigned burst = RTE_MIN(count, (unsigned)ONVM_BURST);
		for (unsigned i = 0; i < burst; i++)
			metas[i] = onvm_meta(nf->shm, pkts[i]);
		sent += dispatch_burst(nf, pkts, metas, burst);
		pkts += burst;
		count -= burst;
	}
	return sent;
}

static int manager_alive(const struct onvm_nf *nf)
{
	if (nf->shm->manager_stopping || nf->instance->stop_requested)
		return 0;
	return kill(nf->shm->manager_pid, 0) == 0 || errno != ESRCH;
}

/* Record when the instance handled its first packet: scale-out reaction time
 * ends there, measured against other hosts' ts_ms, so it is wall time. */
static void note_first_packet(struct onvm_instance *instance)
{
	__atomic_store_n(&instance->first_rx_ms, onvm_wall_ms(), __ATOMIC_RELAXED);
}

/* The per-packet handler, run as a burst handler. */
static void handle_each(struct onvm_nf *nf, const struct onvm_nf_handlers *handlers,
			struct rte_mbuf **pkts, struct onvm_pkt_meta **metas, unsigned count)
{
	if (handlers->packet == NULL) {
		for (unsigned i = 0; i < count; i++)
			metas[i]->action = ONVM_ACTION_DROP;
		return;
	}
	for (unsigned i = 0; i < count; i++)
		handlers->packet(nf, pkts[i], metas[i], handlers->ctx);
}

/* Take up to budget packets from the RX ring, handle and pass them on. */
static unsigned receive_and_handle(struct onvm_nf *nf, const struct onvm_nf_handlers *handlers,
				   unsigned budget)
{
	struct rte_mbuf *pkts[ONVM_BURST];
	struct onvm_pkt_meta *metas[ONVM_BURST];
	unsigned received = rte_ring_dequeue_burst(nf->instance->rx_ring, (void **)pkts,
						   RTE_MIN(budget, ONVM_BURST), NULL);
	if (received == 0)
		return 0;
	if (unlikely(nf->instance->counters.rx == 0))
		note_first_packet(nf->instance);
	counter_add(&nf->instance->counters.rx, received);
	/* The metadata lives in the mbuf's second cache line: fetch them all first. */
	for (unsigned i = 0; i < received; i++) {
		metas[i] = onvm_meta(nf->shm, pkts[i]);
		rte_prefetch0(metas[i]);
	}
	/* A port's driver frees what it sent and reads the first line then. */
	if (nf->direct_ports)
		for (unsigned i = 0; i < received; i++)
			rte_prefetch0(pkts[i]);
	if (handlers->burst)
		handlers->burst(nf, pkts, metas, received, handlers->ctx);
	else
		handle_each(nf, handlers, pkts, metas, received);
	dispatch_burst(nf, pkts, metas, received);
	return received;
}

/*
 * Asked to stop by the manager (scale-in): it no longer sends us packets, so
 * finish those already in the ring rather than leave them to be dropped.
 */
static void finish_ring(struct onvm_nf *nf, const struct onvm_nf_handlers *handlers)
{
	uint64_t deadline = rte_get_timer_cycles() + rte_get_timer_hz() * FINISH_RING_MS / 1000;
	while (rte_get_timer_cycles() < deadline) {
		unsigned budget =
		    handlers->budget ? handlers->budget(nf, handlers->ctx) : ONVM_BURST;
		if (budget && receive_and_handle(nf, handlers, budget) == 0 &&
		    rte_ring_count(nf->instance->rx_ring) == 0)
			break;
	}
}

int onvm_nflib_run(struct onvm_nf *nf, const struct onvm_nf_handlers *handlers)
{
	struct onvm_backoff backoff = {0};
	struct onvm_nf_counters *counters = &nf->instance->counters;
	const uint64_t check_interval = rte_get_tsc_hz() * MANAGER_CHECK_MS / 1000;
	uint64_t last_tsc = rte_rdtsc();
	uint64_t next_check = last_tsc + check_interval;

	while (!nf->stop) {
		int did_work = handlers->tick ? handlers->tick(nf, handlers->ctx) : 0;
		unsigned budget =
		    handlers->budget ? handlers->budget(nf, handlers->ctx) : ONVM_BURST;
		unsigned received = budget ? receive_and_handle(nf, handlers, budget) : 0;

		uint64_t now = rte_rdtsc();
		if (received || did_work) {
			counter_add(&counters->busy_cycles, now - last_tsc);
			onvm_backoff_reset(&backoff);
		} else {
			onvm_backoff_idle(&backoff);
			now = rte_rdtsc();
		}
		counter_add(&counters->loop_cycles, now - last_tsc);
		last_tsc = now;

		if (now > next_check || nf->instance->stop_requested) {
			next_check = now + check_interval;
			if (!manager_alive(nf))
				nf->stop = 1;
		}
	}
	if (nf->instance->stop_requested && !nf->shm->manager_stopping)
		finish_ring(nf, handlers);
	flush_all(nf);
	return 0;
}

void onvm_nflib_stop(struct onvm_nf *nf)
{
	nf->stop = 1;
}

int onvm_nflib_stopping(const struct onvm_nf *nf)
{
	return nf->stop != 0;
}

void onvm_nflib_finish(struct onvm_nf *nf)
{
	if (nf == NULL)
		return;
	struct onvm_msg *msg;
	if (!nf->shm->manager_stopping && rte_mempool_get(nf->msg_pool, (void **)&msg) == 0) {
		memset(msg, 0, sizeof(*msg));
		msg->type = ONVM_MSG_UNREGISTER;
		msg->pid = getpid();
		msg->slot = nf->info.slot;
		msg->instance_id = nf->info.instance_id;
		if (send_message(nf, msg, UNREGISTER_TIMEOUT_MS) != -ETIMEDOUT)
			rte_mempool_put(nf->msg_pool, msg);
	}
	NF_LOG(INFO, "%s instance %u stopped: rx %" PRIu64 " tx %" PRIu64, nf->name,
	       nf->info.instance_id, nf->instance->counters.rx, nf->instance->counters.tx);
	fflush(stdout);
	signal_nf = NULL;
	/* A secondary's EAL cleanup detaches its memory under a lock in shared
	 * memory that every NF takes in turn.  When the whole host stops, NFs
	 * were seen to wait there past the manager's grace, and one killed in it
	 * leaves the lock held.  The process's exit releases the same memory. */
	if (!nf->shm->manager_stopping)
		rte_eal_cleanup();
	free(nf);
}

const struct onvm_nf_info *onvm_nflib_info(const struct onvm_nf *nf)
{
	return &nf->info;
}

struct rte_mempool *onvm_nflib_pktmbuf_pool(const struct onvm_nf *nf)
{
	return nf->pktmbuf_pool;
}

struct onvm_pkt_meta *onvm_nflib_meta(const struct onvm_nf *nf, struct rte_mbuf *pkt)
{
	return onvm_meta(nf->shm, pkt);
}

const struct onvm_nf_counters *onvm_nflib_counters(const struct onvm_nf *nf)
{
	return &nf->instance->counters;
}

int onvm_nflib_chain_position(const struct onvm_nf *nf, uint16_t port, uint16_t service)
{
	if (port >= nf->nb_ports)
		return -1;
	const struct onvm_port_info *info = &nf->shm->ports[port];
	for (unsigned i = 0; i < info->chain_len; i++)
		if (info->chain[i] == service)
			return (int)i;
	return -1;
}

int onvm_nflib_exit_status(int init_result)
{
	if (init_result >= 0 || init_result == -ECANCELED)
		return 0;
	return init_result == -EINVAL ? 2 : 1;
}
