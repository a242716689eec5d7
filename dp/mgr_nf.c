/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mgr_nf.c - NF lifecycle on the manager's control thread: registration,
 * spawning catalog services on free cores, stopping, and noticing NFs that
 * died, whose slots are then drained and reused.
 *
 * A slot goes FREE -> (STARTING ->) RUNNING -> (STOPPING ->) DRAINING -> FREE.
 * Only RUNNING instances are in the service map.
 *
 * Warm standbys (catalog "warm"): an NF started ahead of need goes STARTING
 * -> STANDBY when it registers, and idles, holding no core of the pool and
 * invisible on the bus.  A spawn of its service then takes a core and
 * switches it to RUNNING in microseconds instead of the ~0.3 s a DPDK
 * secondary needs to start; a new standby is started behind it.  A standby
 * runs on an lcore id outside the pool, so that no two NFs ever share one
 * (mempool caches are per lcore id), and moves to its core's CPU when
 * switched on.
 */
#define _GNU_SOURCE /* close_range */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "onvm_log.h"
#include "mgr.h"
#include "onvm_service_map.h"

static const char *const state_names[] = {"free",     "starting", "running",
					  "stopping", "draining", "standby"};

const char *mgr_instance_state_name(uint32_t state)
{
	return state < sizeof(state_names) / sizeof(state_names[0]) ? state_names[state] : "?";
}

/* Copy the manager's record of a slot into shared memory, for NFs to read. */
static void publish_slot(struct onvm_mgr *mgr, unsigned slot)
{
	struct onvm_instance *instance = &mgr->shm->instances[slot];
	const struct mgr_slot *bookkeeping = &mgr->slots[slot];
	instance->slot = (uint16_t)slot;
	instance->service_id = bookkeeping->service_id;
	instance->instance_id = bookkeeping->instance_id;
	instance->core = bookkeeping->core;
	instance->pid = bookkeeping->process.pid;
}

static void set_state(struct onvm_mgr *mgr, unsigned slot, uint32_t state, uint64_t now_ms)
{
	mgr->slots[slot].state = state;
	mgr->slots[slot].state_since_ms = now_ms;
	publish_slot(mgr, slot);
	__atomic_store_n(&mgr->shm->instances[slot].state, state, __ATOMIC_RELEASE);
	mgr->topology_changed = 1;
}

static int find_free_slot(const struct onvm_mgr *mgr)
{
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++)
		if (mgr->slots[slot].state == ONVM_INST_FREE)
			return (int)slot;
	return -1;
}

static int find_instance(const struct onvm_mgr *mgr, uint32_t instance_id)
{
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++)
		if (mgr->slots[slot].state != ONVM_INST_FREE &&
		    mgr->slots[slot].instance_id == instance_id)
			return (int)slot;
	return -1;
}

static void release_cores(struct onvm_mgr *mgr, unsigned slot)
{
	struct mgr_slot *bookkeeping = &mgr->slots[slot];
	for (unsigned i = 0; i < bookkeeping->nb_cores_held; i++)
		core_pool_release(&mgr->config.nf_cores, bookkeeping->cores_held[i]);
	bookkeeping->nb_cores_held = 0;
}

static void emit(struct onvm_mgr *mgr, enum mgr_event_kind kind, unsigned slot, const char *error)
{
	const struct mgr_slot *bookkeeping = &mgr->slots[slot];
	struct mgr_event event = {
	    .kind = kind,
	    .service = bookkeeping->service_id,
	    .instance = bookkeeping->instance_id,
	    .core = bookkeeping->core,
	    .cmd_id = bookkeeping->cmd_id[0] ? bookkeeping->cmd_id : NULL,
	    .error = error,
	};
	mgr_emit(mgr, &event);
}

/* Take an instance out of service: it stops getting packets, its cores are
 * free again, and its rings are emptied before the slot is reused. */
static void retire(struct onvm_mgr *mgr, unsigned slot, enum mgr_event_kind kind, const char *error,
		   uint64_t now_ms)
{
	struct mgr_slot *bookkeeping = &mgr->slots[slot];
	onvm_service_map_remove(&mgr->shm->map, bookkeeping->service_id, (uint16_t)slot);
	release_cores(mgr, slot);
	set_state(mgr, slot, ONVM_INST_DRAINING, now_ms);
	if (bookkeeping->unannounced) {
		bookkeeping->unannounced = 0; /* its spawn was rejected: nothing to say */
	} else if (bookkeeping->standby) {
		/* Never seen on the bus: no event; try again a little later. */
		MGR_LOG(INFO, "warm standby of service %u ended%s%s", bookkeeping->service_id,
			error ? ": " : "", error ? error : "");
		mgr->standby_retry_ms[bookkeeping->service_id] = now_ms + MGR_STANDBY_RETRY_MS;
		bookkeeping->standby = 0;
	} else {
		emit(mgr, kind, slot, error);
	}
	bookkeeping->process = (struct nf_process){0};
	publish_slot(mgr, slot);
}

/* Nothing of a slot's previous instance may show through to the next: a
 * stale stop_requested would stop an NF as soon as it registers. */
static void clear_instance(struct onvm_mgr *mgr, unsigned slot)
{
	struct onvm_instance *instance = &mgr->shm->instances[slot];
	memset(&instance->counters, 0, sizeof(instance->counters));
	memset(instance->port_tx, 0, sizeof(instance->port_tx));
	mgr_ports_forget_slot(mgr, slot);
	instance->rx_ring_drops = 0;
	instance->first_rx_ms = 0;
	instance->stop_requested = 0;
}

#define MAP_FULL_ERROR "service map full"

/* The instance in slot goes into service: running, in the map, announced.
 * One without an instance id yet (started by hand, or a standby) gets one.
 * When the service's map entry is full (remote members count too), the
 * instance could never get a packet: it is refused, told to stop, and its
 * end is not announced.  0, or -1 then. */
static int activate(struct onvm_mgr *mgr, unsigned slot, uint64_t now_ms)
{
	struct mgr_slot *bookkeeping = &mgr->slots[slot];
	if (bookkeeping->instance_id == 0)
		bookkeeping->instance_id = ++mgr->next_instance_id;
	if (onvm_service_map_add(&mgr->shm->map, bookkeeping->service_id, (uint16_t)slot,
				 onvm_member_key(mgr->host_hash, bookkeeping->instance_id)) < 0) {
		MGR_LOG(ERR, "instance %u of service %u refused: %s", bookkeeping->instance_id,
			bookkeeping->service_id, MAP_FULL_ERROR);
		emit(mgr, MGR_EVENT_REJECTED, slot, MAP_FULL_ERROR);
		bookkeeping->unannounced = 1;
		__atomic_store_n(&mgr->shm->instances[slot].stop_requested, 1, __ATOMIC_RELEASE);
		set_state(mgr, slot, ONVM_INST_STOPPING, now_ms);
		return -1;
	}
	__atomic_fetch_or(&mgr->active_slots, 1ULL << slot, __ATOMIC_RELEASE);
	set_state(mgr, slot, ONVM_INST_RUNNING, now_ms);
	emit(mgr, MGR_EVENT_SPAWNED, slot, NULL);
	return 0;
}

/* Members the service has or is about to have here: its map entry (local
 * and remote) and the instances of it still starting. */
static unsigned members_planned(const struct onvm_mgr *mgr, uint16_t service_id)
{
	unsigned planned = onvm_service_map_count(&mgr->shm->map, service_id);
	for (unsigned i = 0; i < ONVM_MAX_INSTANCES; i++) {
		const struct mgr_slot *bookkeeping = &mgr->slots[i];
		planned += bookkeeping->state == ONVM_INST_STARTING && !bookkeeping->standby &&
			   bookkeeping->service_id == service_id;
	}
	return planned;
}

static void answer(struct onvm_msg *msg, uint16_t slot, uint32_t instance_id, int32_t core)
{
	msg->slot = slot;
	msg->instance_id = instance_id;
	msg->core = core;
	__atomic_store_n(&msg->status, ONVM_MSG_OK, __ATOMIC_RELEASE);
}

/* A standby registered: it waits, out of the map, for a spawn to switch it on. */
static void park(struct onvm_mgr *mgr, unsigned slot, struct onvm_msg *msg, uint64_t now_ms)
{
	const struct mgr_slot *bookkeeping = &mgr->slots[slot];
	set_state(mgr, slot, ONVM_INST_STANDBY, now_ms);
	answer(msg, (uint16_t)slot, 0, bookkeeping->core);
	MGR_LOG(INFO, "warm standby of service %u ready (pid %d)", bookkeeping->service_id,
		(int)bookkeeping->process.pid);
}

static void refuse(struct onvm_msg *msg, pid_t pid, const char *why)
{
	MGR_LOG(INFO, "request of pid %d refused: %s", (int)pid, why);
	snprintf(msg->error, sizeof(msg->error), "%s", why);
	__atomic_store_n(&msg->status, ONVM_MSG_REFUSED, __ATOMIC_RELEASE);
}

/* Why an NF started by hand may not run on lcore id core, or NULL when it
 * may.  Processes with the same lcore id share its mempool caches, which
 * are not safe to share: the lcore must be no other live NF's, not held
 * from the pool, and not one of the manager's own. */
static const char *core_unavailable(const struct onvm_mgr *mgr, int32_t core)
{
	if (core < 0 || core >= RTE_MAX_LCORE)
		return "core out of range";
	if (rte_lcore_is_enabled((unsigned)core))
		return "core is the manager's";
	if (core_pool_contains(&mgr->config.nf_cores, core) && mgr->config.nf_cores.held[core])
		return "core is not free";
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++) {
		const struct mgr_slot *bookkeeping = &mgr->slots[slot];
		if (bookkeeping->state != ONVM_INST_FREE &&
		    bookkeeping->state != ONVM_INST_DRAINING && bookkeeping->core == core)
			return "core is not free";
	}
	return NULL;
}

/* request: the NF's message as read once (msg is the NF's to change). */
static void handle_register(struct onvm_mgr *mgr, struct onvm_msg *msg,
			    const struct onvm_msg *request, uint64_t now_ms)
{
	if (mgr->stopping_nfs) {
		refuse(msg, request->pid, "the manager is stopping");
		return;
	}
	if (request->service_id < 1 || request->service_id >= ONVM_MAX_SERVICES) {
		refuse(msg, request->pid, "service id out of range");
		return;
	}
	int slot = -1;
	for (unsigned i = 0; i < ONVM_MAX_INSTANCES && request->pid > 0; i++)
		if (mgr->slots[i].state == ONVM_INST_STARTING &&
		    mgr->slots[i].process.pid == request->pid)
			slot = (int)i;
	if (slot < 0) {
		/* Started by hand: it brings its own core, and must be a live process
		 * of this manager (the pid is the NF's word: it is what the manager
		 * will signal). */
		struct nf_process process;
		const char *why = NULL;
		if (nf_process_record(&process, request->pid, 0) < 0)
			why = "pid is not a live process";
		else if (!nf_process_maps(&process, rte_eal_get_runtime_dir()))
			why = "pid is not a process of this manager";
		else if ((why = core_unavailable(mgr, request->core)) == NULL &&
			 (slot = find_free_slot(mgr)) < 0)
			why = "no free instance slot";
		if (why) {
			refuse(msg, request->pid, why);
			return;
		}
		struct mgr_slot *bookkeeping = &mgr->slots[slot];
		memset(bookkeeping, 0, sizeof(*bookkeeping));
		clear_instance(mgr, (unsigned)slot);
		bookkeeping->service_id = request->service_id;
		bookkeeping->core = request->core;
		bookkeeping->process = process;
		if (core_pool_hold(&mgr->config.nf_cores, request->core) == 0)
			bookkeeping->cores_held[bookkeeping->nb_cores_held++] =
			    (uint16_t)request->core;
	} else if (request->service_id != mgr->slots[slot].service_id) {
		refuse(msg, request->pid, "spawned for another service");
		return;
	}
	snprintf(mgr->shm->instances[slot].name, ONVM_NAME_LEN, "%s", request->name);
	if (mgr->slots[slot].standby) {
		park(mgr, (unsigned)slot, msg, now_ms);
		return;
	}
	activate(mgr, (unsigned)slot, now_ms); /* refused: it registers, then is told to stop */
	const struct mgr_slot *bookkeeping = &mgr->slots[slot];
	answer(msg, (uint16_t)slot, bookkeeping->instance_id, bookkeeping->core);
}

static void handle_unregister(struct onvm_mgr *mgr, struct onvm_msg *msg,
			      const struct onvm_msg *request, uint64_t now_ms)
{
	if (request->slot >= ONVM_MAX_INSTANCES) {
		refuse(msg, request->pid, "bad slot");
		return;
	}
	const struct mgr_slot *bookkeeping = &mgr->slots[request->slot];
	if (bookkeeping->process.pid != request->pid ||
	    bookkeeping->instance_id != request->instance_id ||
	    (bookkeeping->state != ONVM_INST_RUNNING && bookkeeping->state != ONVM_INST_STOPPING &&
	     bookkeeping->state != ONVM_INST_STANDBY)) {
		refuse(msg, request->pid, "not a registered instance");
		return;
	}
	int asked = bookkeeping->state == ONVM_INST_STOPPING;
	retire(mgr, request->slot, asked ? MGR_EVENT_STOPPED : MGR_EVENT_EXITED, NULL, now_ms);
	__atomic_store_n(&msg->status, ONVM_MSG_OK, __ATOMIC_RELEASE);
}

/* A message the manager will not act on: said at the 1st, 2nd, 4th, 8th...
 * so that an NF flooding the ring cannot flood the log. */
static void not_acted_on(struct onvm_mgr *mgr, const void *msg, const char *why)
{
	uint64_t count = ++mgr->refused_msgs;
	if ((count & (count - 1)) == 0)
		MGR_LOG(WARNING, "message %p not acted on: %s (%" PRIu64 " so far)", msg, why,
			count);
}

/*
 * The ring holds pointers NFs enqueued: only the message pool's messages are
 * read.  The manager takes a message (PENDING -> TAKEN) before acting on it;
 * an NF that stopped waiting marked it ABANDONED first (onvm_common.h), and
 * such a registration is never carried out late, for a process that is gone,
 * or is another by now.  The manager then returns the message to the pool.
 */
static void handle_messages(struct onvm_mgr *mgr, uint64_t now_ms)
{
	void *messages[16];
	unsigned count = rte_ring_dequeue_burst(mgr->msgq, messages, 16, NULL);
	for (unsigned i = 0; i < count; i++) {
		struct onvm_msg *msg = messages[i];
		if (!mgr_shm_is_msg(mgr, msg)) {
			not_acted_on(mgr, msg, "not a message of the pool");
			continue;
		}
		uint32_t status = ONVM_MSG_PENDING;
		if (!__atomic_compare_exchange_n(&msg->status, &status, ONVM_MSG_TAKEN, 0,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			if (status == ONVM_MSG_ABANDONED &&
			    __atomic_compare_exchange_n(&msg->status, &status, ONVM_MSG_TAKEN, 0,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				MGR_LOG(INFO,
					"a message of pid %d was given up by its NF; "
					"not acted on",
					(int)msg->pid);
				rte_mempool_put(mgr->msg_pool, msg);
			} else {
				not_acted_on(mgr, msg, "not pending");
			}
			continue;
		}
		struct onvm_msg request = *msg; /* read once: the NF may write it meanwhile */
		request.name[ONVM_NAME_LEN - 1] = '\0';
		if (request.type == ONVM_MSG_REGISTER)
			handle_register(mgr, msg, &request, now_ms);
		else if (request.type == ONVM_MSG_UNREGISTER)
			handle_unregister(mgr, msg, &request, now_ms);
		else
			refuse(msg, request.pid, "unknown message");
	}
}

static void describe_exit(const struct nf_exit *how, char *text, size_t size)
{
	if (how->signaled)
		snprintf(text, size, "killed by signal %d (%s)", how->code, strsignal(how->code));
	else
		snprintf(text, size, "exited with status %d", how->code);
}

static void process_gone(struct onvm_mgr *mgr, unsigned slot, const char *how, uint64_t now_ms)
{
	uint32_t state = mgr->slots[slot].state;
	char error[128];
	enum mgr_event_kind kind = MGR_EVENT_EXITED;

	if (state == ONVM_INST_STARTING) {
		snprintf(error, sizeof(error), "NF %s before registering", how);
	} else if (state == ONVM_INST_STOPPING) {
		kind = MGR_EVENT_STOPPED;
		snprintf(error, sizeof(error), "%s", how);
	} else {
		snprintf(error, sizeof(error), "NF %s", how);
	}
	retire(mgr, slot, kind, kind == MGR_EVENT_STOPPED ? NULL : error, now_ms);
}

/* The slot of the process a death report names, or -1 (its slot already
 * retired it, or a reused pid). */
static int slot_of_death(const struct onvm_mgr *mgr, const struct nf_death *death)
{
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++) {
		const struct mgr_slot *bookkeeping = &mgr->slots[slot];
		if (bookkeeping->process.pid == death->pid && bookkeeping->process.child &&
		    bookkeeping->process.start_time == death->start_time &&
		    bookkeeping->state != ONVM_INST_FREE &&
		    bookkeeping->state != ONVM_INST_DRAINING)
			return (int)slot;
	}
	return -1;
}

/* The slot of the next NF the nursery reported dead, how in *death; -1 when
 * no report waits.  Reports of processes already retired are passed over. */
static int next_reported_death(struct onvm_mgr *mgr, struct nf_death *death)
{
	while (nf_nursery_next_death(&mgr->nursery, death) > 0) {
		int slot = slot_of_death(mgr, death);
		if (slot >= 0)
			return slot;
	}
	return -1;
}

/*
 * Notice NFs that ended: first those the nursery reported, with how they
 * ended; then any recorded process that is gone (started by hand, or the
 * nursery is gone).  A report is written before its reap, so a spawned NF
 * missing from /proc has had its report read by then.
 */
static void check_liveness(struct onvm_mgr *mgr, uint64_t now_ms)
{
	struct nf_death death;
	char how[96];
	int dead;
	while ((dead = next_reported_death(mgr, &death)) >= 0) {
		describe_exit(&death.how, how, sizeof(how));
		process_gone(mgr, (unsigned)dead, how, now_ms);
	}
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++) {
		const struct mgr_slot *bookkeeping = &mgr->slots[slot];
		if (bookkeeping->state == ONVM_INST_FREE ||
		    bookkeeping->state == ONVM_INST_DRAINING || bookkeeping->process.pid == 0)
			continue;
		if (!nf_process_alive(&bookkeeping->process))
			process_gone(mgr, slot, "is gone", now_ms);
	}
}

static void drain_ring(struct rte_ring *ring)
{
	void *pkts[ONVM_BURST];
	unsigned count;
	while ((count = rte_ring_dequeue_burst(ring, pkts, ONVM_BURST, NULL)) > 0)
		rte_pktmbuf_free_bulk((struct rte_mbuf **)pkts, count);
}

/* Timeouts of starting and stopping NFs, and the end of draining. */
static void check_timeouts(struct onvm_mgr *mgr, uint64_t now_ms)
{
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++) {
		struct mgr_slot *bookkeeping = &mgr->slots[slot];
		uint64_t age_ms = now_ms - bookkeeping->state_since_ms;

		if (bookkeeping->state == ONVM_INST_STARTING && age_ms > MGR_SPAWN_TIMEOUT_MS) {
			/* reaped as "exited before registering" */
			nf_process_signal(&bookkeeping->process, SIGKILL);
			bookkeeping->state_since_ms = now_ms;
		} else if (bookkeeping->state == ONVM_INST_STOPPING && age_ms > MGR_STOP_GRACE_MS) {
			nf_process_signal(&bookkeeping->process,
					  bookkeeping->term_sent ? SIGKILL : SIGTERM);
			bookkeeping->term_sent = 1;
			bookkeeping->state_since_ms = now_ms;
		} else if (bookkeeping->state == ONVM_INST_DRAINING &&
			   age_ms > MGR_DRAIN_GRACE_MS) {
			/* The NF is gone, so this thread may read its RX ring. */
			drain_ring(mgr->rx_rings[slot]);
			if (rte_ring_count(mgr->tx_rings[slot]) == 0) {
				__atomic_fetch_and(&mgr->active_slots, ~(1ULL << slot),
						   __ATOMIC_RELEASE);
				mgr_ports_collect_direct(mgr, slot); /* its last counts */
				bookkeeping->core = -1;
				set_state(mgr, slot, ONVM_INST_FREE, now_ms);
			}
		}
	}
}

/* Start the NF of service (by the nursery) into slot on lcores; the slot is STARTING. */
static int start_process(struct onvm_mgr *mgr, const struct catalog_service *service, unsigned slot,
			 const uint16_t *lcores, unsigned nb_lcores, char *err, size_t errlen)
{
	struct nf_launch launch;
	const struct nf_launch_spec spec = {
	    .service = service,
	    .file_prefix = mgr->config.file_prefix,
	    .huge_dir = mgr->config.huge_dir,
	    .lcores = lcores,
	    .nb_lcores = nb_lcores,
	    .nb_cpus = mgr->nb_cpus,
	};
	if (nf_launch_build(&launch, &spec) < 0) {
		snprintf(err, errlen, "the command line of service %u does not fit", service->id);
		return -1;
	}
	if (mgr->nf_log_dir[0]) {
		int length =
		    snprintf(launch.log_path, sizeof(launch.log_path), "%s/%s-%u-%" PRIu64 ".log",
			     mgr->nf_log_dir, service->name, service->id, ++mgr->nf_logs_made);
		if (length < 0 || (size_t)length >= sizeof(launch.log_path)) {
			snprintf(err, errlen, "the log file name of service %u does not fit",
				 service->id);
			return -1;
		}
		MGR_LOG(INFO, "starting %s (service %u), output in %s", service->name, service->id,
			launch.log_path);
	}
	struct onvm_instance *instance = &mgr->shm->instances[slot];
	clear_instance(mgr, slot); /* before the NF can see the slot */
	fflush(NULL);
	pid_t pid;
	if (nf_nursery_spawn(&mgr->nursery, &launch, &pid, err, errlen) < 0)
		return -1;

	struct mgr_slot *bookkeeping = &mgr->slots[slot];
	if (nf_process_record(&bookkeeping->process, pid, 1) < 0) /* gone already: seen as such */
		bookkeeping->process = (struct nf_process){.pid = pid, .child = 1};
	bookkeeping->service_id = service->id;
	bookkeeping->core = lcores[0];
	bookkeeping->instance_id = 0;
	snprintf(instance->name, sizeof(instance->name), "%s", service->name);
	set_state(mgr, slot, ONVM_INST_STARTING, mgr_now_ms());
	return 0;
}

static int find_standby(const struct onvm_mgr *mgr, uint16_t service_id)
{
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++) {
		const struct mgr_slot *bookkeeping = &mgr->slots[slot];
		if (bookkeeping->state == ONVM_INST_STANDBY &&
		    bookkeeping->service_id == service_id && bookkeeping->standby)
			return (int)slot;
	}
	return -1;
}

/* Switch a standby on: it takes cores from the pool and joins the map.  The
 * NF sees its state change, moves to its core's CPU and starts reading. */
static int switch_on(struct onvm_mgr *mgr, unsigned slot, const struct catalog_service *service,
		     const char *cmd_id)
{
	struct mgr_slot *bookkeeping = &mgr->slots[slot];
	for (unsigned i = 0; i < service->cores; i++)
		bookkeeping->cores_held[bookkeeping->nb_cores_held++] =
		    (uint16_t)core_pool_take(&mgr->config.nf_cores);
	bookkeeping->standby = 0;
	snprintf(bookkeeping->cmd_id, sizeof(bookkeeping->cmd_id), "%s", cmd_id ? cmd_id : "");
	bookkeeping->core = bookkeeping->cores_held[0];
	/* Gives it its instance id.  mgr_nf_spawn checked that the map has room;
	 * a refusal here would be said by activate itself. */
	activate(mgr, slot, mgr_now_ms());
	MGR_LOG(INFO,
		"switched on the warm standby of %s (service %u) as instance %u on "
		"lcore %d, pid %d",
		service->name, service->id, bookkeeping->instance_id, bookkeeping->core,
		(int)bookkeeping->process.pid);
	return (int)slot;
}

/* An lcore id for a new standby: outside the pool, not the manager's, and
 * not another standby's. */
static int standby_lcore(const struct onvm_mgr *mgr)
{
	for (int lcore = CORE_POOL_MAX_LCORE - 1; lcore >= 0; lcore--) {
		if (mgr->config.nf_cores.in_pool[lcore] || rte_lcore_is_enabled((unsigned)lcore))
			continue;
		int taken = 0;
		for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES && !taken; slot++)
			taken = mgr->slots[slot].state != ONVM_INST_FREE &&
				mgr->slots[slot].standby_lcore == lcore;
		if (!taken)
			return lcore;
	}
	return -1;
}

static int start_standby(struct onvm_mgr *mgr, const struct catalog_service *service)
{
	char err[128];
	int slot = find_free_slot(mgr);
	int lcore = standby_lcore(mgr);
	if (slot < 0 || lcore < 0)
		return -1;
	struct mgr_slot *bookkeeping = &mgr->slots[slot];
	memset(bookkeeping, 0, sizeof(*bookkeeping));
	bookkeeping->standby = 1;
	bookkeeping->standby_lcore = (uint16_t)lcore;
	uint16_t lcores[1] = {(uint16_t)lcore};
	if (start_process(mgr, service, (unsigned)slot, lcores, 1, err, sizeof(err)) < 0) {
		MGR_LOG(WARNING, "warm standby of %s: %s", service->name, err);
		bookkeeping->standby = 0;
		return -1;
	}
	return 0;
}

/* Keep each catalog service's number of warm standbys, one start per call. */
static void keep_standbys(struct onvm_mgr *mgr, uint64_t now_ms)
{
	if (mgr->stopping_nfs)
		return;
	for (unsigned i = 0; i < mgr->catalog.count; i++) {
		const struct catalog_service *service = &mgr->catalog.services[i];
		if (service->warm == 0 || now_ms < mgr->standby_retry_ms[service->id])
			continue;
		unsigned standbys = 0;
		for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++)
			standbys += mgr->slots[slot].standby &&
				    mgr->slots[slot].service_id == service->id &&
				    mgr->slots[slot].state != ONVM_INST_FREE;
		if (standbys < service->warm) {
			if (start_standby(mgr, service) < 0)
				mgr->standby_retry_ms[service->id] = now_ms + MGR_STANDBY_RETRY_MS;
			return;
		}
	}
}

/* Packets RX dropped because the service map named no instance: the map
 * is in shared memory, and only an NF writes such a slot.  Said when the
 * count grows, at most once a liveness period. */
static void check_bad_members(struct onvm_mgr *mgr)
{
	uint64_t drops = 0;
	for (unsigned port = 0; port < mgr->nb_ports; port++)
		drops +=
		    __atomic_load_n(&mgr->port_counters[port].bad_member_drops, __ATOMIC_RELAXED);
	if (drops != mgr->bad_member_drops_said) {
		MGR_LOG(WARNING,
			"%" PRIu64 " packets dropped: the service map in shared memory "
			"named no instance (written by an NF)",
			drops);
		mgr->bad_member_drops_said = drops;
	}
}

void mgr_nf_poll(struct onvm_mgr *mgr, uint64_t now_ms)
{
	handle_messages(mgr, now_ms); /* every tick: registration is on the scale-out path */
	if (now_ms - mgr->last_liveness_ms >= MGR_LIVENESS_MS) {
		/* A syscall per instance: not every tick. */
		mgr->last_liveness_ms = now_ms;
		check_liveness(mgr, now_ms);
		check_timeouts(mgr, now_ms);
		keep_standbys(mgr, now_ms);
		check_bad_members(mgr);
	}
}

int mgr_nf_spawn(struct onvm_mgr *mgr, uint16_t service_id, const char *cmd_id, char *err,
		 size_t errlen)
{
	const struct catalog_service *service = catalog_find(&mgr->catalog, service_id);
	if (service == NULL) {
		snprintf(err, errlen, "service %u is not in this host's catalog", service_id);
		return -1;
	}
	if (core_pool_free_count(&mgr->config.nf_cores) < service->cores) {
		snprintf(err, errlen, "no free core for service %u (needs %u, %u free)", service_id,
			 service->cores, core_pool_free_count(&mgr->config.nf_cores));
		return -1;
	}
	unsigned planned = members_planned(mgr, service_id);
	if (planned >= ONVM_MAX_MEMBERS) {
		snprintf(err, errlen,
			 MAP_FULL_ERROR ": service %u has %u members here, remote ones included "
					"(at most %d)",
			 service_id, planned, ONVM_MAX_MEMBERS);
		return -1;
	}
	int standby = find_standby(mgr, service_id);
	if (standby >= 0)
		return switch_on(mgr, (unsigned)standby, service, cmd_id);
	int slot = find_free_slot(mgr);
	if (slot < 0) {
		snprintf(err, errlen, "no free instance slot (%d in use)", ONVM_MAX_INSTANCES);
		return -1;
	}

	struct mgr_slot *bookkeeping = &mgr->slots[slot];
	memset(bookkeeping, 0, sizeof(*bookkeeping));
	for (unsigned i = 0; i < service->cores; i++)
		bookkeeping->cores_held[bookkeeping->nb_cores_held++] =
		    (uint16_t)core_pool_take(&mgr->config.nf_cores);
	snprintf(bookkeeping->cmd_id, sizeof(bookkeeping->cmd_id), "%s", cmd_id ? cmd_id : "");
	if (start_process(mgr, service, (unsigned)slot, bookkeeping->cores_held,
			  bookkeeping->nb_cores_held, err, errlen) < 0) {
		release_cores(mgr, (unsigned)slot);
		return -1;
	}
	bookkeeping->instance_id = ++mgr->next_instance_id;
	publish_slot(mgr, (unsigned)slot);
	MGR_LOG(INFO, "spawning %s (service %u) as instance %u on lcore %d, pid %d", service->name,
		service_id, bookkeeping->instance_id, bookkeeping->core,
		(int)bookkeeping->process.pid);
	return slot;
}

int mgr_nf_stop(struct onvm_mgr *mgr, uint32_t instance_id, const char *cmd_id, char *err,
		size_t errlen)
{
	int slot = find_instance(mgr, instance_id);
	if (slot < 0 || mgr->slots[slot].state != ONVM_INST_RUNNING) {
		snprintf(err, errlen, "no running instance %u on this host", instance_id);
		return -1;
	}
	struct mgr_slot *bookkeeping = &mgr->slots[slot];
	snprintf(bookkeeping->cmd_id, sizeof(bookkeeping->cmd_id), "%s", cmd_id ? cmd_id : "");
	onvm_service_map_remove(&mgr->shm->map, bookkeeping->service_id, (uint16_t)slot);
	__atomic_store_n(&mgr->shm->instances[slot].stop_requested, 1, __ATOMIC_RELEASE);
	set_state(mgr, (unsigned)slot, ONVM_INST_STOPPING, mgr_now_ms());
	return 0;
}

/* NFs still running: the ones reported dead, or gone, are forgotten. */
static unsigned live_processes(struct onvm_mgr *mgr)
{
	struct nf_death death;
	int dead;
	while ((dead = next_reported_death(mgr, &death)) >= 0)
		mgr->slots[dead].process = (struct nf_process){0};
	unsigned live = 0;
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++) {
		struct mgr_slot *bookkeeping = &mgr->slots[slot];
		if (bookkeeping->state == ONVM_INST_FREE || bookkeeping->process.pid == 0)
			continue;
		if (nf_process_alive(&bookkeeping->process))
			live++;
		else
			bookkeeping->process = (struct nf_process){0};
	}
	return live;
}

void mgr_nf_stop_all(struct onvm_mgr *mgr)
{
	mgr->stopping_nfs = 1;
	mgr->shm->manager_stopping = 1;
	/* One still starting is not signalled: killed inside its EAL init, it
	 * could leave a shared lock held.  Its registration is refused, and it
	 * ends by itself. */
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++)
		mgr->shm->instances[slot].stop_requested = 1;

	uint64_t deadline = mgr_now_ms() + MGR_STOP_GRACE_MS;
	while (live_processes(mgr) > 0 && mgr_now_ms() < deadline) {
		handle_messages(mgr, mgr_now_ms()); /* unregistrations; no registration */
		usleep(10000);
	}
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++) {
		const struct nf_process *process = &mgr->slots[slot].process;
		if (mgr->slots[slot].state != ONVM_INST_FREE && process->pid != 0) {
			MGR_LOG(WARNING, "NF pid %d did not stop; killing it", (int)process->pid);
			nf_process_signal(process, SIGKILL);
		}
	}
	deadline = mgr_now_ms() + 1000;
	while (live_processes(mgr) > 0 && mgr_now_ms() < deadline)
		usleep(10000);
}

int mgr_nf_busy(const struct onvm_mgr *mgr)
{
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++) {
		uint32_t state = mgr->slots[slot].state;
		if (state == ONVM_INST_STARTING || state == ONVM_INST_STOPPING ||
		    state == ONVM_INST_DRAINING)
			return 1;
	}
	return 0;
}

unsigned mgr_free_cores(const struct onvm_mgr *mgr)
{
	return core_pool_free_count(&mgr->config.nf_cores);
}

unsigned mgr_total_cores(const struct onvm_mgr *mgr)
{
	return core_pool_size(&mgr->config.nf_cores);
}
