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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "mgr.h"
#include "onvm_service_map.h"

static const char *const state_names[] = {"free",     "starting", "running",
					  "stopping", "draining", "standby"};

const char *mgr_instance_state_name(uint32_t state)
{
	return state < sizeof(state_names) / sizeof(state_names[0]) ? state_names[state] : "?";
}

static void set_state(struct onvm_mgr *mgr, unsigned slot, uint32_t state, uint64_t now_ms)
{
	__atomic_store_n(&mgr->shm->instances[slot].state, state, __ATOMIC_RELEASE);
	mgr->slots[slot].state_since_ms = now_ms;
	mgr->topology_changed = 1;
}

static int find_free_slot(const struct onvm_mgr *mgr)
{
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++)
		if (mgr->shm->instances[slot].state == ONVM_INST_FREE)
			return (int)slot;
	return -1;
}

static struct onvm_instance *find_instance(struct onvm_mgr *mgr, uint32_t instance_id)
{
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++) {
		struct onvm_instance *instance = &mgr->shm->instances[slot];
		if (instance->state != ONVM_INST_FREE && instance->instance_id == instance_id)
			return instance;
	}
	return NULL;
}

static void release_cores(struct onvm_mgr *mgr, unsigned slot)
{
	struct mgr_slot *bookkeeping = &mgr->slots[slot];
	for (unsigned i = 0; i < bookkeeping->nb_cores_held; i++)
		core_pool_release(&mgr->config.nf_cores, bookkeeping->cores_held[i]);
	bookkeeping->nb_cores_held = 0;
}

static void emit(struct onvm_mgr *mgr, enum mgr_event_kind kind,
		 const struct onvm_instance *instance, const char *cmd_id, const char *error)
{
	struct mgr_event event = {
	    .kind = kind,
	    .service = instance->service_id,
	    .instance = instance->instance_id,
	    .core = instance->core,
	    .cmd_id = (cmd_id && *cmd_id) ? cmd_id : NULL,
	    .error = error,
	};
	mgr_emit(mgr, &event);
}

/* Take an instance out of service: it stops getting packets, its cores are
 * free again, and its rings are emptied before the slot is reused. */
static void retire(struct onvm_mgr *mgr, unsigned slot, enum mgr_event_kind kind, const char *error,
		   uint64_t now_ms)
{
	struct onvm_instance *instance = &mgr->shm->instances[slot];
	onvm_service_map_remove(&mgr->shm->map, instance->service_id, (uint16_t)slot);
	release_cores(mgr, slot);
	set_state(mgr, slot, ONVM_INST_DRAINING, now_ms);
	if (mgr->slots[slot].unannounced) {
		mgr->slots[slot].unannounced = 0; /* its spawn was rejected: nothing to say */
	} else if (mgr->slots[slot].standby) {
		/* Never seen on the bus: no event; try again a little later. */
		printf("onvm-mgr: warm standby of service %u ended%s%s\n", instance->service_id,
		       error ? ": " : "", error ? error : "");
		mgr->standby_retry_ms[instance->service_id] = now_ms + MGR_STANDBY_RETRY_MS;
		mgr->slots[slot].standby = 0;
	} else {
		emit(mgr, kind, instance, mgr->slots[slot].cmd_id, error);
	}
	instance->pid = 0;
	mgr->slots[slot].process = (struct nf_process){0};
}

/* Nothing of a slot's previous instance may show through to the next: a
 * stale stop_requested would stop an NF as soon as it registers. */
static void clear_instance(struct onvm_instance *instance)
{
	memset(&instance->counters, 0, sizeof(instance->counters));
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
	struct onvm_instance *instance = &mgr->shm->instances[slot];
	if (instance->instance_id == 0)
		instance->instance_id = ++mgr->next_instance_id;
	if (onvm_service_map_add(&mgr->shm->map, instance->service_id, (uint16_t)slot,
				 onvm_member_key(mgr->host_hash, instance->instance_id)) < 0) {
		fprintf(stderr, "onvm-mgr: instance %u of service %u refused: %s\n",
			instance->instance_id, instance->service_id, MAP_FULL_ERROR);
		emit(mgr, MGR_EVENT_REJECTED, instance, mgr->slots[slot].cmd_id, MAP_FULL_ERROR);
		mgr->slots[slot].unannounced = 1;
		__atomic_store_n(&instance->stop_requested, 1, __ATOMIC_RELEASE);
		set_state(mgr, slot, ONVM_INST_STOPPING, now_ms);
		return -1;
	}
	__atomic_fetch_or(&mgr->active_slots, 1ULL << slot, __ATOMIC_RELEASE);
	set_state(mgr, slot, ONVM_INST_RUNNING, now_ms);
	emit(mgr, MGR_EVENT_SPAWNED, instance, mgr->slots[slot].cmd_id, NULL);
	return 0;
}

/* Members the service has or is about to have here: its map entry (local
 * and remote) and the instances of it still starting. */
static unsigned members_planned(const struct onvm_mgr *mgr, uint16_t service_id)
{
	unsigned planned = onvm_service_map_count(&mgr->shm->map, service_id);
	for (unsigned i = 0; i < ONVM_MAX_INSTANCES; i++) {
		const struct onvm_instance *instance = &mgr->shm->instances[i];
		planned += instance->state == ONVM_INST_STARTING && !mgr->slots[i].standby &&
			   instance->service_id == service_id;
	}
	return planned;
}

/* A standby registered: it waits, out of the map, for a spawn to switch it on. */
static void park(struct onvm_mgr *mgr, unsigned slot, struct onvm_msg *msg, uint64_t now_ms)
{
	const struct onvm_instance *instance = &mgr->shm->instances[slot];
	set_state(mgr, slot, ONVM_INST_STANDBY, now_ms);
	msg->slot = (uint16_t)slot;
	msg->instance_id = 0;
	msg->core = instance->core;
	__atomic_store_n(&msg->status, ONVM_MSG_OK, __ATOMIC_RELEASE);
	printf("onvm-mgr: warm standby of service %u ready (pid %d)\n", instance->service_id,
	       (int)instance->pid);
}

static void refuse(struct onvm_msg *msg, const char *why)
{
	snprintf(msg->error, sizeof(msg->error), "%s", why);
	__atomic_store_n(&msg->status, ONVM_MSG_REFUSED, __ATOMIC_RELEASE);
}

static void handle_register(struct onvm_mgr *mgr, struct onvm_msg *msg, uint64_t now_ms)
{
	if (msg->service_id < 1 || msg->service_id >= ONVM_MAX_SERVICES) {
		refuse(msg, "service id out of range");
		return;
	}
	int slot = -1;
	for (unsigned i = 0; i < ONVM_MAX_INSTANCES; i++) {
		const struct onvm_instance *instance = &mgr->shm->instances[i];
		if (instance->state == ONVM_INST_STARTING && mgr->slots[i].process.pid == msg->pid)
			slot = (int)i;
	}
	if (slot < 0) {
		/* Started by hand: it brings its own core, and must be a live process
		 * (the pid is the NF's word: it is what the manager will signal). */
		struct nf_process process;
		if (nf_process_record(&process, msg->pid, 0) < 0) {
			refuse(msg, "pid is not a live process");
			return;
		}
		slot = find_free_slot(mgr);
		if (slot < 0) {
			refuse(msg, "no free instance slot");
			return;
		}
		struct onvm_instance *instance = &mgr->shm->instances[slot];
		struct mgr_slot *bookkeeping = &mgr->slots[slot];
		memset(bookkeeping, 0, sizeof(*bookkeeping));
		clear_instance(instance);
		instance->instance_id = 0;
		instance->service_id = msg->service_id;
		instance->pid = msg->pid;
		bookkeeping->process = process;
		instance->core = msg->core;
		if (core_pool_hold(&mgr->config.nf_cores, msg->core) == 0)
			bookkeeping->cores_held[bookkeeping->nb_cores_held++] = (uint16_t)msg->core;
	} else if (msg->service_id != mgr->shm->instances[slot].service_id) {
		refuse(msg, "spawned for another service");
		return;
	}
	snprintf(mgr->shm->instances[slot].name, ONVM_NAME_LEN, "%s", msg->name);
	if (mgr->slots[slot].standby) {
		park(mgr, (unsigned)slot, msg, now_ms);
		return;
	}
	activate(mgr, (unsigned)slot, now_ms); /* refused: it registers, then is told to stop */
	const struct onvm_instance *instance = &mgr->shm->instances[slot];
	msg->slot = (uint16_t)slot;
	msg->instance_id = instance->instance_id;
	msg->core = instance->core;
	__atomic_store_n(&msg->status, ONVM_MSG_OK, __ATOMIC_RELEASE);
}

static void handle_unregister(struct onvm_mgr *mgr, struct onvm_msg *msg, uint64_t now_ms)
{
	if (msg->slot >= ONVM_MAX_INSTANCES) {
		refuse(msg, "bad slot");
		return;
	}
	struct onvm_instance *instance = &mgr->shm->instances[msg->slot];
	if (mgr->slots[msg->slot].process.pid != msg->pid ||
	    instance->instance_id != msg->instance_id ||
	    (instance->state != ONVM_INST_RUNNING && instance->state != ONVM_INST_STOPPING &&
	     instance->state != ONVM_INST_STANDBY)) {
		refuse(msg, "not a registered instance");
		return;
	}
	int asked = instance->state == ONVM_INST_STOPPING;
	retire(mgr, msg->slot, asked ? MGR_EVENT_STOPPED : MGR_EVENT_EXITED, NULL, now_ms);
	__atomic_store_n(&msg->status, ONVM_MSG_OK, __ATOMIC_RELEASE);
}

static void handle_messages(struct onvm_mgr *mgr, uint64_t now_ms)
{
	void *messages[16];
	unsigned count = rte_ring_dequeue_burst(mgr->msgq, messages, 16, NULL);
	for (unsigned i = 0; i < count; i++) {
		struct onvm_msg *msg = messages[i];
		if (msg->type == ONVM_MSG_REGISTER)
			handle_register(mgr, msg, now_ms);
		else if (msg->type == ONVM_MSG_UNREGISTER)
			handle_unregister(mgr, msg, now_ms);
		else
			refuse(msg, "unknown message");
	}
}

static int slot_of_pid(const struct onvm_mgr *mgr, pid_t pid)
{
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++) {
		const struct onvm_instance *instance = &mgr->shm->instances[slot];
		if (mgr->slots[slot].process.pid == pid && instance->state != ONVM_INST_FREE &&
		    instance->state != ONVM_INST_DRAINING)
			return (int)slot;
	}
	return -1;
}

static void describe_exit(int status, char *text, size_t size)
{
	if (WIFSIGNALED(status))
		snprintf(text, size, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(text, size, "exited with status %d", WEXITSTATUS(status));
}

static void process_gone(struct onvm_mgr *mgr, unsigned slot, const char *how, uint64_t now_ms)
{
	struct onvm_instance *instance = &mgr->shm->instances[slot];
	char error[128];
	enum mgr_event_kind kind = MGR_EVENT_EXITED;

	if (instance->state == ONVM_INST_STARTING) {
		snprintf(error, sizeof(error), "NF %s before registering", how);
	} else if (instance->state == ONVM_INST_STOPPING) {
		kind = MGR_EVENT_STOPPED;
		snprintf(error, sizeof(error), "%s", how);
	} else {
		snprintf(error, sizeof(error), "NF %s", how);
	}
	retire(mgr, slot, kind, kind == MGR_EVENT_STOPPED ? NULL : error, now_ms);
}

/* Reap our children and notice hand-started NFs that are gone. */
static void check_liveness(struct onvm_mgr *mgr, uint64_t now_ms)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		int slot = slot_of_pid(mgr, pid);
		if (slot >= 0) {
			char how[96];
			describe_exit(status, how, sizeof(how));
			process_gone(mgr, (unsigned)slot, how, now_ms);
		}
	}
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++) {
		struct onvm_instance *instance = &mgr->shm->instances[slot];
		if (instance->state == ONVM_INST_FREE || instance->state == ONVM_INST_DRAINING ||
		    mgr->slots[slot].process.child) /* reaped by waitpid above */
			continue;
		if (!nf_process_alive(&mgr->slots[slot].process))
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
		struct onvm_instance *instance = &mgr->shm->instances[slot];
		struct mgr_slot *bookkeeping = &mgr->slots[slot];
		uint64_t age_ms = now_ms - bookkeeping->state_since_ms;

		if (instance->state == ONVM_INST_STARTING && age_ms > MGR_SPAWN_TIMEOUT_MS) {
			/* reaped as "exited before registering" */
			nf_process_signal(&bookkeeping->process, SIGKILL);
			bookkeeping->state_since_ms = now_ms;
		} else if (instance->state == ONVM_INST_STOPPING && age_ms > MGR_STOP_GRACE_MS) {
			nf_process_signal(&bookkeeping->process,
					  bookkeeping->term_sent ? SIGKILL : SIGTERM);
			bookkeeping->term_sent = 1;
			bookkeeping->state_since_ms = now_ms;
		} else if (instance->state == ONVM_INST_DRAINING && age_ms > MGR_DRAIN_GRACE_MS) {
			/* The NF is gone, so this thread may read its RX ring. */
			drain_ring(instance->rx_ring);
			if (rte_ring_count(instance->tx_ring) == 0) {
				__atomic_fetch_and(&mgr->active_slots, ~(1ULL << slot),
						   __ATOMIC_RELEASE);
				instance->core = -1;
				set_state(mgr, slot, ONVM_INST_FREE, now_ms);
			}
		}
	}
}

/* The child of fork(): only async-signal-safe calls from here to exec. */
static void exec_nf(const struct nf_launch *launch)
{
	/* Die with the manager rather than linger attached to dead shared memory. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	/* Nothing of the manager's but stdio: its broker connection (which would
	 * otherwise outlive it, hiding its death from the broker), its port
	 * sockets, its hugepage files. */
	close_range(3, ~0U, 0);
	execv(launch->exec, launch->argv);
	ssize_t written = write(STDERR_FILENO, launch->exec_error, strlen(launch->exec_error));
	(void)written;
	_exit(127);
}

/* Fork and exec the NF of service into slot on lcores; the slot is STARTING. */
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
	struct onvm_instance *instance = &mgr->shm->instances[slot];
	clear_instance(instance); /* before the NF can see the slot */
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork failed: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		exec_nf(&launch);

	instance->pid = pid;
	if (nf_process_record(&mgr->slots[slot].process, pid, 1) < 0) /* our child all the same */
		mgr->slots[slot].process = (struct nf_process){.pid = pid, .child = 1};
	instance->service_id = service->id;
	instance->core = lcores[0];
	instance->instance_id = 0;
	snprintf(instance->name, sizeof(instance->name), "%s", service->name);
	set_state(mgr, slot, ONVM_INST_STARTING, mgr_now_ms());
	return 0;
}

static int find_standby(const struct onvm_mgr *mgr, uint16_t service_id)
{
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++) {
		const struct onvm_instance *instance = &mgr->shm->instances[slot];
		if (instance->state == ONVM_INST_STANDBY && instance->service_id == service_id &&
		    mgr->slots[slot].standby)
			return (int)slot;
	}
	return -1;
}

/* Switch a standby on: it takes cores from the pool and joins the map.  The
 * NF sees its state change, moves to its core's CPU and starts reading. */
static int switch_on(struct onvm_mgr *mgr, unsigned slot, const struct catalog_service *service,
		     const char *cmd_id)
{
	struct onvm_instance *instance = &mgr->shm->instances[slot];
	struct mgr_slot *bookkeeping = &mgr->slots[slot];
	for (unsigned i = 0; i < service->cores; i++)
		bookkeeping->cores_held[bookkeeping->nb_cores_held++] =
		    (uint16_t)core_pool_take(&mgr->config.nf_cores);
	bookkeeping->standby = 0;
	snprintf(bookkeeping->cmd_id, sizeof(bookkeeping->cmd_id), "%s", cmd_id ? cmd_id : "");
	instance->core = bookkeeping->cores_held[0];
	/* Gives it its instance id.  mgr_nf_spawn checked that the map has room;
	 * a refusal here would be said by activate itself. */
	activate(mgr, slot, mgr_now_ms());
	printf("onvm-mgr: switched on the warm standby of %s (service %u) as instance %u on "
	       "lcore %d, pid %d\n",
	       service->name, service->id, instance->instance_id, instance->core,
	       (int)instance->pid);
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
			taken = mgr->shm->instances[slot].state != ONVM_INST_FREE &&
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
		fprintf(stderr, "onvm-mgr: warm standby of %s: %s\n", service->name, err);
		bookkeeping->standby = 0;
		return -1;
	}
	return 0;
}

/* Keep each catalog service's number of warm standbys, one start per call. */
static void keep_standbys(struct onvm_mgr *mgr, uint64_t now_ms)
{
	if (mgr->shm->manager_stopping)
		return;
	for (unsigned i = 0; i < mgr->catalog.count; i++) {
		const struct catalog_service *service = &mgr->catalog.services[i];
		if (service->warm == 0 || now_ms < mgr->standby_retry_ms[service->id])
			continue;
		unsigned standbys = 0;
		for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++)
			standbys += mgr->slots[slot].standby &&
				    mgr->shm->instances[slot].service_id == service->id &&
				    mgr->shm->instances[slot].state != ONVM_INST_FREE;
		if (standbys < service->warm) {
			if (start_standby(mgr, service) < 0)
				mgr->standby_retry_ms[service->id] = now_ms + MGR_STANDBY_RETRY_MS;
			return;
		}
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
	struct onvm_instance *instance = &mgr->shm->instances[slot];
	instance->instance_id = ++mgr->next_instance_id;
	printf("onvm-mgr: spawning %s (service %u) as instance %u on lcore %d, pid %d\n",
	       service->name, service_id, instance->instance_id, instance->core,
	       (int)instance->pid);
	return slot;
}

int mgr_nf_stop(struct onvm_mgr *mgr, uint32_t instance_id, const char *cmd_id, char *err,
		size_t errlen)
{
	struct onvm_instance *instance = find_instance(mgr, instance_id);
	if (instance == NULL || instance->state != ONVM_INST_RUNNING) {
		snprintf(err, errlen, "no running instance %u on this host", instance_id);
		return -1;
	}
	struct mgr_slot *bookkeeping = &mgr->slots[instance->slot];
	snprintf(bookkeeping->cmd_id, sizeof(bookkeeping->cmd_id), "%s", cmd_id ? cmd_id : "");
	onvm_service_map_remove(&mgr->shm->map, instance->service_id, instance->slot);
	__atomic_store_n(&instance->stop_requested, 1, __ATOMIC_RELEASE);
	set_state(mgr, instance->slot, ONVM_INST_STOPPING, mgr_now_ms());
	return 0;
}

static unsigned live_processes(struct onvm_mgr *mgr)
{
	unsigned live = 0;
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		int slot = slot_of_pid(mgr, pid);
		if (slot >= 0) /* reaped: its pid may be anyone's now */
			mgr->slots[slot].process = (struct nf_process){0};
	}
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++) {
		struct mgr_slot *bookkeeping = &mgr->slots[slot];
		if (mgr->shm->instances[slot].state == ONVM_INST_FREE ||
		    bookkeeping->process.pid == 0)
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
	mgr->shm->manager_stopping = 1;
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++)
		mgr->shm->instances[slot].stop_requested = 1;

	uint64_t deadline = mgr_now_ms() + MGR_STOP_GRACE_MS;
	while (live_processes(mgr) > 0 && mgr_now_ms() < deadline)
		usleep(10000);
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++) {
		const struct nf_process *process = &mgr->slots[slot].process;
		if (mgr->shm->instances[slot].state != ONVM_INST_FREE && process->pid != 0) {
			fprintf(stderr, "onvm-mgr: NF pid %d did not stop; killing it\n",
				(int)process->pid);
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
		uint32_t state = mgr->shm->instances[slot].state;
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
