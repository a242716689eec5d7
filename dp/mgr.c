/* SPDX-License-Identifier: BSD-3-Clause */
/* mgr.c - the manager's start-up, control loop and shutdown (see mgr.h). */
#define _GNU_SOURCE /* ppoll */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <mntent.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "clock.h"
#include "mgr.h"
#include "onvm_log.h"
#include "mgr_bus.h"
#include "mgr_stats.h"
#include "mgr_telemetry.h"
#include "netns.h"
#include "onvm_flow.h"

/* The control thread wakes every CONTROL_TICK_US while an NF is starting,
 * stopping or draining (registration is on the scale-out path), else every
 * CONTROL_IDLE_TICK_US; a bus message wakes it at once (mgr_wake).  With
 * alarms on, it also wakes for their samples every MGR_ALARM_SAMPLE_MS while
 * some instance has work (packets in its ring, drops); when none has, the
 * alarms are sampled at the idle tick and cost no wake-up of their own. */
#define CONTROL_TICK_US	     500
#define CONTROL_IDLE_TICK_US 5000

static struct onvm_mgr *signal_mgr;

static void handle_quit_signal(int signo)
{
	(void)signo;
	if (signal_mgr)
		signal_mgr->quit = 1;
}

uint64_t mgr_now_ms(void)
{
	return onvm_mono_ms();
}

static const char *const event_names[] = {"spawned", "rejected", "stopped", "exited"};

void mgr_emit(struct onvm_mgr *mgr, const struct mgr_event *event)
{
	MGR_LOG(INFO, "event %s service %u instance %u core %d%s%s%s%s", event_names[event->kind],
		event->service, event->instance, event->core, event->cmd_id ? " cmd " : "",
		event->cmd_id ? event->cmd_id : "", event->error ? ": " : "",
		event->error ? event->error : "");
	fflush(stdout);
	if (mgr->event_fn)
		mgr->event_fn(mgr->event_ctx, event);
}

/* Default NF pool: the CPUs the manager's own lcores do not use. */
static void default_core_pool(struct onvm_mgr *mgr)
{
	unsigned lcore;
	uint8_t used[CORE_POOL_MAX_LCORE] = {0};
	RTE_LCORE_FOREACH(lcore)
	{
		if (lcore < CORE_POOL_MAX_LCORE)
			used[lcore] = 1;
	}
	for (unsigned cpu = 0; cpu < mgr->nb_cpus && cpu < CORE_POOL_MAX_LCORE; cpu++)
		mgr->config.nf_cores.in_pool[cpu] = !used[cpu];
}

static int load_catalog(struct onvm_mgr *mgr)
{
	char err[512];
	if (mgr->config.catalog_path[0] == '\0') {
		if (mgr->config.nb_start > 0) {
			MGR_LOG(ERR, "--start needs a --catalog");
			return -1;
		}
		return 0;
	}
	if (catalog_load(mgr->config.catalog_path, &mgr->catalog, err, sizeof(err)) < 0 ||
	    catalog_check_programs(&mgr->catalog, err, sizeof(err)) < 0) {
		MGR_LOG(ERR, "%s", err);
		return -1;
	}
	for (unsigned i = 0; i < mgr->config.nb_start; i++) {
		if (catalog_find(&mgr->catalog, mgr->config.start_services[i]) == NULL) {
			MGR_LOG(ERR, "--start: service %u is not in the catalog",
				mgr->config.start_services[i]);
			return -1;
		}
	}
	return 0;
}

/*
 * NFs map the manager's memory at the same addresses, so those must be free
 * in every NF too.  Left to chance, the area lands among the shared
 * libraries, where another process (an ASan build for sure) may already
 * have something: ask for an address far above them unless the user chose.
 */
static char base_virtaddr_flag[] = "--base-virtaddr=0x200000000000";
static char single_file_flag[] = "--single-file-segments";
static char memory_flag[] = "-m";

/* EAL options that choose how memory is laid out: the user's choice wins. */
static int is_memory_option(const char *arg)
{
	static const char *const options[] = {
	    "-m",	   "--socket-mem", "--socket-limit",	    "--legacy-mem",
	    "--in-memory", "--no-huge",	   "--single-file-segments"};
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		size_t length = strlen(options[i]);
		if (strncmp(arg, options[i], length) == 0 &&
		    (arg[length] == '\0' || arg[length] == '=' || options[i][1] == 'm'))
			return 1;
	}
	return 0;
}

/*
 * The EAL argv: the user's, plus the base address, and unless the user
 * chose, the memory as NFs attach to it fastest and safely: one file per
 * memseg list (--single-file-segments: an NF opens and maps one file, not one
 * per 2 MiB page) and all of it allocated at start (-m; see
 * mgr_shm_prealloc_mb).  memory_mb holds the -m value; *chose_memory says
 * whether the manager chose (then it also holds the heap at that size).
 */
static int eal_args_with_base(const struct mgr_config *config, char **eal_argv, char *memory_mb,
			      size_t memory_mb_size, int *chose_memory)
{
	int argc = 0, has_base = 0, has_memory = 0;
	for (int i = 0; i < config->eal_argc; i++) {
		has_base |= strncmp(config->eal_argv[i], "--base-virtaddr", 15) == 0;
		has_memory |= is_memory_option(config->eal_argv[i]);
		eal_argv[argc++] = config->eal_argv[i];
	}
	if (!has_base)
		eal_argv[argc++] = base_virtaddr_flag;
	if (!has_memory) {
		snprintf(memory_mb, memory_mb_size, "%u", mgr_shm_prealloc_mb(config));
		eal_argv[argc++] = single_file_flag;
		eal_argv[argc++] = memory_flag;
		eal_argv[argc++] = memory_mb;
	}
	*chose_memory = !has_memory;
	eal_argv[argc] = NULL;
	return argc;
}

/* The tunnel port's address, with the MAC the port has. */
static int tunnel_init(struct onvm_mgr *mgr)
{
	const struct mgr_config *config = &mgr->config;
	if (!config->tunnel_set)
		return 0;
	if (config->tunnel_port >= mgr->nb_ports) {
		MGR_LOG(ERR, "--tunnel: no port %u (%u ports)", config->tunnel_port, mgr->nb_ports);
		return -1;
	}
	struct rte_ether_addr mac;
	int ret = rte_eth_macaddr_get(config->tunnel_port, &mac);
	if (ret < 0) {
		MGR_LOG(ERR, "--tunnel: port %u has no MAC address: %s", config->tunnel_port,
			rte_strerror(-ret));
		return -1;
	}
	mgr_tunnel_init(&mgr->tunnel, config->tunnel_port, config->tunnel_ip, &mac);
	MGR_LOG(INFO, "tunnel: port %u, %u.%u.%u.%u, " RTE_ETHER_ADDR_PRT_FMT ", UDP %u",
		config->tunnel_port, config->tunnel_ip[0], config->tunnel_ip[1],
		config->tunnel_ip[2], config->tunnel_ip[3], RTE_ETHER_ADDR_BYTES(&mac),
		MGR_TUNNEL_UDP_PORT);
	return 0;
}

/* The bus client's threads and socket belong in the namespace the manager
 * was started in, where the broker is, even when its ports are elsewhere. */
static int bus_start_at_home(struct onvm_mgr *mgr)
{
	char err[160];
	if (mgr->home_netns != NETNS_NONE && netns_switch(mgr->home_netns, err, sizeof(err)) < 0) {
		MGR_LOG(ERR, "%s", err);
		return -1;
	}
	int ret = mgr_bus_start(mgr, &mgr->bus);
	if (mgr->host_netns != NETNS_NONE && netns_switch(mgr->host_netns, err, sizeof(err)) < 0) {
		MGR_LOG(ERR, "%s", err);
		return -1;
	}
	return ret;
}

static int enter_host_netns(struct onvm_mgr *mgr)
{
	char err[160];
	if (mgr->config.netns[0] == '\0')
		return 0;
	mgr->home_netns = netns_enter(mgr->config.netns, err, sizeof(err));
	if (mgr->home_netns == NETNS_NONE) {
		MGR_LOG(ERR, "--netns: %s", err);
		return -1;
	}
	mgr->host_netns = netns_current();
	return 0;
}

/* Where spawned NFs write: --nf-log-dir, else the runtime folder's
 * nf-logs/ (made here), or nowhere of their own with "-". */
static int nf_log_dir_init(struct onvm_mgr *mgr)
{
	const char *dir = mgr->config.nf_log_dir;
	if (strcmp(dir, "-") == 0) {
		mgr->nf_log_dir[0] = '\0';
		return 0;
	}
	if (dir[0] == '\0')
		snprintf(mgr->nf_log_dir, sizeof(mgr->nf_log_dir), "%s/nf-logs",
			 rte_eal_get_runtime_dir());
	else
		snprintf(mgr->nf_log_dir, sizeof(mgr->nf_log_dir), "%s", dir);
	if (mkdir(mgr->nf_log_dir, 0750) < 0 && errno != EEXIST) {
		MGR_LOG(ERR, "cannot make the NF log folder %s: %s", mgr->nf_log_dir,
			strerror(errno));
		return -1;
	}
	MGR_LOG(INFO, "NFs' output goes to %s/", mgr->nf_log_dir);
	return 0;
}

int mgr_init(struct onvm_mgr *mgr, int argc, char *argv[])
{
	memset(mgr, 0, sizeof(*mgr));
	mgr->home_netns = mgr->host_netns = NETNS_NONE;
	mgr->wake_fd = -1;
	mgr->nursery = (struct nf_nursery){.spawn_fd = -1, .deaths_fd = -1};
	int ret = mgr_args_parse(argc, argv, &mgr->config);
	if (ret != 0)
		return ret < 0 ? -EINVAL : 1;
	onvm_log_stream_init(); /* every line from here on, EAL's too, stamped */
	if (load_catalog(mgr) < 0 || enter_host_netns(mgr) < 0)
		return -EINVAL;
	if (mgr->config.bus.uri[0])
		mgr->host_hash = onvm_host_hash(mgr->config.host);
	mgr_alarm_params_default(&mgr->alarm_params, mgr->config.alarm_ms);

	/* Before EAL starts its threads: the nursery's fork must be clean. */
	int rc = nf_nursery_start(&mgr->nursery);
	if (rc < 0) {
		MGR_LOG(ERR, "cannot start the NF nursery: %s", strerror(-rc));
		return -EIO;
	}
	char *eal_argv[MGR_MAX_EAL_ARGS + 5], memory_mb[16];
	int chose_memory;
	int eal_argc =
	    eal_args_with_base(&mgr->config, eal_argv, memory_mb, sizeof(memory_mb), &chose_memory);
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		/* A prefix another primary holds fails with rte_errno unset. */
		if (rte_errno == 0)
			MGR_LOG(ERR, "EAL init failed (another manager uses --file-prefix=%s?)",
				mgr->config.file_prefix);
		else
			MGR_LOG(ERR, "EAL init failed: %s", rte_strerror(rte_errno));
		return rte_errno == EINVAL ? -EINVAL : -EIO;
	}
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		MGR_LOG(ERR,
			"must be the primary process (another manager uses "
			"--file-prefix=%s?)",
			mgr->config.file_prefix);
		rte_eal_cleanup();
		return -EIO;
	}
	if (nf_log_dir_init(mgr) < 0) {
		rte_eal_cleanup();
		return -EIO;
	}
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	mgr->nb_cpus = cpus > 0 ? (unsigned)cpus : 1;
	if (!mgr->config.nf_cores_given)
		default_core_pool(mgr);

	signal_mgr = mgr;
	struct sigaction action = {.sa_handler = handle_quit_signal};
	sigemptyset(&action.sa_mask);
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	signal(SIGPIPE, SIG_IGN);

	mgr->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (mgr->wake_fd < 0) {
		MGR_LOG(ERR, "eventfd: %s", strerror(errno));
		mgr_shutdown(mgr);
		return -EIO;
	}
	if (mgr_shm_create(mgr) < 0 || mgr_ports_init(mgr) < 0 || tunnel_init(mgr) < 0 ||
	    mgr_telemetry_init(mgr) < 0 || mgr_dataplane_launch(mgr) < 0 ||
	    (chose_memory && mgr_shm_hold_memory() < 0)) {
		mgr_shutdown(mgr);
		return -EIO;
	}
	if (mgr->config.bus.uri[0] && bus_start_at_home(mgr) < 0) {
		mgr_shutdown(mgr);
		return -EINVAL;
	}
	MGR_LOG(INFO, "up: prefix %s, %u ports, %u NF cores, %u catalog services",
		mgr->config.file_prefix, mgr->nb_ports, mgr_total_cores(mgr), mgr->catalog.count);
	for (unsigned i = 0; i < mgr->config.nb_start; i++) {
		char err[256];
		if (mgr_nf_spawn(mgr, mgr->config.start_services[i], NULL, err, sizeof(err)) < 0)
			MGR_LOG(WARNING, "--start %u: %s", mgr->config.start_services[i], err);
	}
	return 0;
}

static void publish_stats(struct onvm_mgr *mgr, struct mgr_stats_state *state, uint64_t now_ms)
{
	static struct mgr_stats_snapshot snapshot;
	mgr_stats_collect(mgr, state, now_ms, &snapshot);
	mgr_stats_log_unserved(&snapshot);
	if (!mgr->config.quiet)
		mgr_stats_print(&snapshot, stdout);
	if (mgr->config.stats_file[0] &&
	    mgr_stats_write_file(&snapshot, mgr->config.stats_file) < 0)
		MGR_LOG(ERR, "cannot write %s: %s", mgr->config.stats_file, strerror(errno));
	if (mgr->stats_fn)
		mgr->stats_fn(mgr->stats_ctx, &snapshot);
	mgr_telemetry_publish(mgr, &snapshot);
}

void mgr_wake(struct onvm_mgr *mgr)
{
	uint64_t one = 1;
	if (mgr->wake_fd >= 0 && write(mgr->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		MGR_LOG(ERR, "wake: %s", strerror(errno));
}

/* Sleep for the tick, or until the next stats or alarm sample are due, or a
 * wake-up. */
static void wait_for_work(struct onvm_mgr *mgr, uint64_t next_stats_ms)
{
	uint64_t tick_us = mgr_nf_busy(mgr) ? CONTROL_TICK_US : CONTROL_IDLE_TICK_US;
	uint64_t now_ms = mgr_now_ms();
	uint64_t next_ms = next_stats_ms;
	if (mgr->config.alarm_ms && mgr->alarm_work && mgr->next_alarm_sample_ms < next_ms)
		next_ms = mgr->next_alarm_sample_ms;
	if (next_ms <= now_ms)
		return;
	if ((next_ms - now_ms) * 1000 < tick_us)
		tick_us = (next_ms - now_ms) * 1000;
	struct timespec timeout = {.tv_sec = 0, .tv_nsec = (long)tick_us * 1000};
	struct pollfd wake = {.fd = mgr->wake_fd, .events = POLLIN};
	if (ppoll(&wake, 1, &timeout, NULL) > 0) {
		uint64_t count;
		if (read(mgr->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
			MGR_LOG(ERR, "wake: %s", strerror(errno));
	}
}

int mgr_run(struct onvm_mgr *mgr)
{
	struct mgr_stats_state *stats_state = calloc(1, sizeof(*stats_state));
	if (stats_state == NULL)
		return -ENOMEM;
	uint64_t next_stats_ms = mgr_now_ms();
	while (!mgr->quit) {
		uint64_t now_ms = mgr_now_ms();
		mgr_nf_poll(mgr, now_ms);
		if (mgr->bus)
			mgr_bus_poll(mgr->bus, now_ms);
		if (mgr->config.alarm_ms && now_ms >= mgr->next_alarm_sample_ms) {
			mgr_stats_sample_alarms(mgr, now_ms);
			mgr->next_alarm_sample_ms = now_ms + MGR_ALARM_SAMPLE_MS;
		}
		if (now_ms >= next_stats_ms) {
			publish_stats(mgr, stats_state, now_ms);
			next_stats_ms += mgr->config.stats_period_ms;
			if (next_stats_ms <= now_ms) /* we were late: do not catch up in a burst */
				next_stats_ms = now_ms + mgr->config.stats_period_ms;
		}
		wait_for_work(mgr, next_stats_ms);
	}
	free(stats_state);
	return 0;
}

static int prefix_file(const char *name, const char *prefix)
{
	size_t length = strlen(prefix);
	return strncmp(name, prefix, length) == 0 && strncmp(name + length, "map_", 4) == 0;
}

static void remove_files_in(const char *dir_path, const char *prefix)
{
	DIR *dir = opendir(dir_path);
	if (dir == NULL)
		return;
	struct dirent *entry;
	char path[PATH_MAX];
	while ((entry = readdir(dir)) != NULL) {
		if (entry->d_name[0] == '.')
			continue;
		if (prefix && !prefix_file(entry->d_name, prefix))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir_path, entry->d_name);
		unlink(path);
	}
	closedir(dir);
}

/* EAL leaves the hugepage files of a primary behind: remove ours. */
static void remove_hugepage_files(const struct mgr_config *config)
{
	if (config->huge_dir[0]) {
		remove_files_in(config->huge_dir, config->file_prefix);
		return;
	}
	FILE *mounts = setmntent("/proc/mounts", "r");
	if (mounts == NULL)
		return;
	struct mntent *mount;
	while ((mount = getmntent(mounts)) != NULL)
		if (strcmp(mount->mnt_type, "hugetlbfs") == 0)
			remove_files_in(mount->mnt_dir, config->file_prefix);
	endmntent(mounts);
}

static void remove_runtime_dir(const struct mgr_config *config)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "/var/run/dpdk/%s", config->file_prefix);
	remove_files_in(path, NULL);
	rmdir(path);
}

/*
 * DPDK's own cleanup (closing ports, rte_eal_cleanup) takes locks that live
 * in shared memory, and an NF killed in the middle of its EAL init can die
 * holding one: the manager would then spin there for ever.  So the files
 * are removed first (the mappings outlive them), and a watchdog ends the
 * process if that cleanup has not returned in MGR_CLEANUP_GRACE_MS.
 */
#define MGR_CLEANUP_GRACE_MS 2000

static void *cleanup_watchdog(void *arg)
{
	const volatile int *done = arg;
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += MGR_CLEANUP_GRACE_MS / 1000;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == EINTR)
		;
	if (*done)
		return NULL;
	static const char message[] = "onvm-mgr: DPDK cleanup still running after 2 s (a lock held "
				      "by an NF killed while starting?): leaving without it\n";
	if (write(STDERR_FILENO, message, sizeof(message) - 1) < 0) {
		/* nothing more to say it with */
	}
	_exit(0);
	return NULL;
}

void mgr_shutdown(struct onvm_mgr *mgr)
{
	MGR_LOG(INFO, "shutting down");
	fflush(stdout);
	uint64_t start_ms = mgr_now_ms();
	if (mgr->shm)
		mgr_nf_stop_all(mgr);
	nf_nursery_stop(&mgr->nursery); /* it ends once its last reaps are done */
	uint64_t nfs_ms = mgr_now_ms() - start_ms;
	mgr_bus_stop(mgr->bus);
	mgr->bus = NULL;
	mgr_dataplane_wait(mgr);
	remove_hugepage_files(&mgr->config);
	remove_runtime_dir(&mgr->config);

	static volatile int cleaned_up;
	pthread_t watchdog;
	int watched = pthread_create(&watchdog, NULL, cleanup_watchdog, (void *)&cleaned_up) == 0;
	if (watched)
		pthread_detach(watchdog);
	mgr_telemetry_uninit();
	mgr_ports_close(mgr);
	catalog_free(&mgr->catalog);
	rte_eal_cleanup();
	cleaned_up = 1;
	remove_runtime_dir(&mgr->config); /* what the cleanup may have left */
	if (mgr->wake_fd >= 0)
		close(mgr->wake_fd);
	mgr->wake_fd = -1;
	netns_close(mgr->home_netns);
	netns_close(mgr->host_netns);
	mgr->home_netns = mgr->host_netns = NETNS_NONE;
	signal_mgr = NULL;
	MGR_LOG(INFO, "stopped in %" PRIu64 " ms (NFs %" PRIu64 " ms)", mgr_now_ms() - start_ms,
		nfs_ms);
	fflush(stdout);
}
