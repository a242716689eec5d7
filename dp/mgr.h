/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mgr.h - the manager (onvm-mgr), a DPDK primary process.
 *
 * It owns the ports, the packet pool and every ring, moves packets between
 * ports and NFs (RX and TX lcores), and on its control thread registers NFs,
 * spawns and stops them from the catalog, notices dead ones and keeps the
 * statistics.  The bus drives it through the functions declared here.
 */
#ifndef MGR_H
#define MGR_H

#include <stdint.h>
#include <sys/types.h>

#include "catalog.h"
#include "mgr_alarm.h"
#include "mgr_args.h"
#include "mgr_tunnel.h"
#include "mgr_unserved.h"
#include "nf_process.h"
#include "nf_nursery.h"
#include "onvm_common.h"

#define MGR_SPAWN_TIMEOUT_MS 10000 /* a spawned NF must register by then */
#define MGR_STOP_GRACE_MS    2000  /* then SIGTERM, then SIGKILL */
#define MGR_DRAIN_GRACE_MS   20	   /* senders that picked a gone instance finish */
#define MGR_LIVENESS_MS	     20	   /* how often dead NFs and timeouts are looked for */
#define MGR_STANDBY_RETRY_MS 2000  /* after a standby died, before starting another */
#define MGR_MSG_POOL_SIZE    1023  /* NF -> manager messages */

/*
 * Manager-private bookkeeping of an instance slot.  Shared memory holds a
 * copy of state, service, instance id and core for NFs to read; any NF can
 * overwrite it, so the manager never reads that copy back: these are the
 * values it acts on.
 */
struct mgr_slot {
	uint32_t state; /* enum onvm_instance_state */
	uint16_t service_id;
	uint32_t instance_id;
	int32_t core;
	uint64_t state_since_ms; /* when the slot entered its current state */
	uint16_t cores_held[8];
	uint8_t nb_cores_held;
	uint8_t standby;	/* started as a warm standby, not yet switched on */
	uint16_t standby_lcore; /* its lcore id, outside the NF core pool */
	uint8_t term_sent;
	uint8_t unannounced;	   /* never announced as spawned: its end says nothing */
	struct nf_process process; /* the NF's process: never the pid in shared memory */
	char cmd_id[64];	   /* the command that spawned it, for its event */
};

enum mgr_event_kind {
	MGR_EVENT_SPAWNED,  /* a spawned or hand-started instance registered */
	MGR_EVENT_REJECTED, /* a spawn or stop could not be carried out */
	MGR_EVENT_STOPPED,  /* an instance stopped when asked to */
	MGR_EVENT_EXITED,   /* an instance ended on its own (crash, kill) */
};

struct mgr_event {
	enum mgr_event_kind kind;
	uint16_t service;
	uint32_t instance; /* 0 when none */
	int core;	   /* -1 when none */
	const char *cmd_id;
	const char *error;
};

typedef void (*mgr_event_fn)(void *ctx, const struct mgr_event *event);

/* An instance overloaded for the alarm time (mgr_alarm.h), as the bus says it. */
struct mgr_alarm_report {
	uint16_t service;
	uint32_t instance;
	uint64_t ts_ms;	   /* wall */
	uint64_t since_ms; /* wall: the onset */
	double drop_pps;
	double ring_fill;
};

typedef void (*mgr_alarm_fn)(void *ctx, const struct mgr_alarm_report *alarm);

struct mgr_stats_snapshot;
struct mgr_bus;
typedef void (*mgr_stats_fn)(void *ctx, const struct mgr_stats_snapshot *snapshot);

/* The RX side is written by the RX lcore, the TX side by the TX lcore: on
 * lines of their own, as with two data-plane lcores they are two cores. */
struct mgr_port_counters {
	/* RX side */
	uint64_t rx;
	uint64_t no_instance_drops; /* its service had no instance */
	uint64_t bad_member_drops;  /* the service map named no instance: written by an NF */
	/* TX side */
	uint64_t tx __rte_cache_aligned;
	uint64_t tx_drops; /* the port would not take them */
} __rte_cache_aligned;

struct onvm_mgr {
	struct mgr_config config;
	struct catalog catalog;
	struct onvm_shared *shm;
	struct rte_mempool *pktmbuf_pool;
	struct rte_mempool *msg_pool;
	struct rte_ring *msgq;
	/* What the manager put in shared memory, kept where NFs cannot write:
	 * the rings it created, the metadata offset and the ports' chains. */
	struct rte_ring *rx_rings[ONVM_MAX_INSTANCES];
	struct rte_ring *tx_rings[ONVM_MAX_INSTANCES];
	struct rte_ring *tunnel_ring;
	int meta_offset;
	struct onvm_port_info ports[ONVM_MAX_PORTS];
	void *msgs[MGR_MSG_POOL_SIZE]; /* the message pool's objects, sorted */
	unsigned nb_msgs;
	uint64_t refused_msgs;		/* messages that were not the pool's, or not acted on */
	uint64_t bad_member_drops_said; /* the port counters' total last logged */
	uint16_t nb_ports;
	struct mgr_port_counters port_counters[ONVM_MAX_PORTS];
	/* Direct TX (onvm_direct_tx.h): what NFs sent on their own queues, per
	 * port, added up by the control thread from each slot's port_tx; and per
	 * slot, how much of that slot's counters is in the totals. */
	struct onvm_port_tx direct_tx[ONVM_MAX_PORTS];
	struct onvm_port_tx direct_tx_seen[ONVM_MAX_INSTANCES][ONVM_MAX_PORTS];
	/* Packets dropped because their service had no instance anywhere, by
	 * the thread that dropped them (mgr_unserved.h). */
	struct mgr_unserved_counters unserved[MGR_UNSERVED_SOURCES];
	struct mgr_tunnel tunnel;   /* enabled with -T */
	int home_netns, host_netns; /* with --netns: handles (netns.h), else -1 */
	int wake_fd;		    /* eventfd: wakes the control thread */
	/* Slots the TX thread must poll (running, stopping, draining). */
	volatile uint64_t active_slots;
	struct mgr_slot slots[ONVM_MAX_INSTANCES];
	struct nf_nursery nursery; /* starts, reports and reaps the NFs we spawn */
	char nf_log_dir[PATH_MAX]; /* spawned NFs' log files; "": the manager's output */
	uint64_t nf_logs_made;	   /* numbers the files */
	uint32_t next_instance_id;
	uint32_t host_hash; /* of the host's bus name: the high half of member keys */
	uint64_t last_liveness_ms;
	uint64_t standby_retry_ms[ONVM_MAX_SERVICES]; /* a standby died: not before then */
	int stopping_nfs;			      /* mgr_nf_stop_all has begun */
	unsigned nb_cpus;
	volatile int quit;

	struct mgr_bus *bus; /* NULL when not on the bus */
	mgr_event_fn event_fn;
	void *event_ctx;
	mgr_stats_fn stats_fn; /* called with every stats snapshot */
	void *stats_ctx;
	mgr_alarm_fn alarm_fn; /* called with every alarm */
	void *alarm_ctx;

	/* Overload alarms (config.alarm_ms > 0), sampled on the control thread
	 * (mgr_stats_sample_alarms). */
	struct mgr_alarm_params alarm_params;
	struct mgr_alarm_inst alarms[ONVM_MAX_INSTANCES]; /* by slot */
	uint64_t alarms_raised;
	uint64_t next_alarm_sample_ms;
	int alarm_work; /* the last sample found work: sample again at the fine period */
	/* Set whenever free cores or the service map change; the bus clears it. */
	volatile int topology_changed;
};

/* Shared memory, pools and rings (mgr_shm.c). */
int mgr_shm_create(struct onvm_mgr *mgr);
/* Whether msg is one of the message pool's objects. */
int mgr_shm_is_msg(const struct onvm_mgr *mgr, const void *msg);

/*
 * The manager's memory is set once, at start-up, and NFs never make it grow.
 * Growing the heap while secondaries attach is what broke concurrent NF
 * starts: the primary adds pages and tells every secondary (mp_malloc_sync),
 * and an NF that is reading the memory map at that moment fails its EAL init
 * ("Cannot init memory").  So the manager preallocates (EAL -m) what its
 * pools need plus what ONVM_MAX_INSTANCES NFs' EAL init takes, and after
 * start-up refuses any growth: an NF then finds its memory there, or fails
 * cleanly with ENOMEM.
 */
unsigned mgr_shm_prealloc_mb(const struct mgr_config *config); /* for EAL -m */
int mgr_shm_hold_memory(void); /* after start-up: no growth from now on */

/* Ports from the EAL vdevs/devices (mgr_ports.c). */
int mgr_ports_init(struct onvm_mgr *mgr);
void mgr_ports_close(struct onvm_mgr *mgr);
/* Control thread: add what slot's NF sent on its own queues since the last
 * call to mgr->direct_tx; before a slot's counters are cleared for its next
 * NF, forget what was seen of them. */
void mgr_ports_collect_direct(struct onvm_mgr *mgr, unsigned slot);
void mgr_ports_forget_slot(struct onvm_mgr *mgr, unsigned slot);

/* The RX/TX lcore loops (mgr_dataplane.c). */
int mgr_dataplane_launch(struct onvm_mgr *mgr);
void mgr_dataplane_wait(struct onvm_mgr *mgr);

/* NF lifecycle (mgr_nf.c): all on the control thread. */
int mgr_nf_spawn(struct onvm_mgr *mgr, uint16_t service, const char *cmd_id, char *err,
		 size_t errlen);
int mgr_nf_stop(struct onvm_mgr *mgr, uint32_t instance_id, const char *cmd_id, char *err,
		size_t errlen);
void mgr_nf_poll(struct onvm_mgr *mgr, uint64_t now_ms);
void mgr_nf_stop_all(struct onvm_mgr *mgr);
unsigned mgr_free_cores(const struct onvm_mgr *mgr);
/* Whether an NF is starting, stopping or draining: the control thread then
 * ticks fast. */
int mgr_nf_busy(const struct onvm_mgr *mgr);
unsigned mgr_total_cores(const struct onvm_mgr *mgr);
const char *mgr_instance_state_name(uint32_t state);

/* Top level (mgr.c). */
int mgr_init(struct onvm_mgr *mgr, int argc, char *argv[]);
int mgr_run(struct onvm_mgr *mgr); /* until mgr->quit */
void mgr_shutdown(struct onvm_mgr *mgr);
void mgr_emit(struct onvm_mgr *mgr, const struct mgr_event *event);
/* Any thread: wake the control thread now (a bus message arrived). */
void mgr_wake(struct onvm_mgr *mgr);
/* Monotonic ms (onvm_mono_ms): every local deadline of the manager is measured
 * on it.  Wall time (onvm_wall_ms) is for the bus's timestamps only. */
uint64_t mgr_now_ms(void);

#endif
