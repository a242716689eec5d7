/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_policy_view.c - unit tests of the cluster view (policy/view.c),
 * pending commands (policy/pending.c) and scale-in (policy/scale_in.c):
 * host table and order, liveness, overload streaks across seq gaps,
 * restarts and duplicates, services changes, capacity learning, promises
 * and their ends, and the choice of the instance to stop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pending.h"
#include "scale_in.h"
#include "view.h"

static struct policy_params params(void)
{
	struct policy_params p;
	policy_params_default(&p);
	return p;
}

static void put_state(struct view *view, const char *host, uint32_t total, uint32_t free,
		      uint64_t now)
{
	struct bus_state state = {.status = BUS_STATUS_ONLINE,
				  .has_cores = true,
				  .has_epoch = true,
				  .epoch_ms = 1,
				  .cores = {total, free}};
	snprintf(state.host, sizeof(state.host), "%s", host);
	assert_int_equal(view_apply_state(view, &state, false, now), 0);
}

static void put_offline(struct view *view, const char *host, uint64_t now)
{
	struct bus_state state = {.status = BUS_STATUS_OFFLINE};
	snprintf(state.host, sizeof(state.host), "%s", host);
	assert_int_equal(view_apply_state(view, &state, false, now), 0);
}

/* insts: service, instance pairs */
static void put_services(struct view *view, const char *host, const uint32_t *pairs, uint32_t n,
			 uint64_t now)
{
	struct bus_service_inst insts[16];
	for (uint32_t i = 0; i < n; i++)
		insts[i] = (struct bus_service_inst){(uint16_t)pairs[2 * i], pairs[2 * i + 1], 1,
						     BUS_INST_RUNNING};
	struct bus_services services = {.n_insts = n, .insts = insts, .insts_cap = 16};
	snprintf(services.host, sizeof(services.host), "%s", host);
	assert_int_equal(view_apply_services(view, &services, false, now), 0);
}

/* One instance (service 2, instance 1) with this drop rate and ring fill. */
static int put_stats(struct view *view, const char *host, uint64_t seq, double drop, double fill,
		     uint64_t now)
{
	struct bus_inst_stats inst = {
	    .instance = 1, .service = 2, .rx_pps = 100000, .drop_pps = drop, .ring_fill = fill};
	struct bus_stats stats = {.seq = seq, .period_ms = 500, .n_insts = 1, .insts = &inst};
	snprintf(stats.host, sizeof(stats.host), "%s", host);
	return view_apply_stats(view, &stats, false, now);
}

static uint32_t streak(struct view *view, const char *host)
{
	const struct view_host *h = view_host_find(view, host);
	const struct view_host_svc *svc = view_host_svc_find(h, 2);
	return svc ? view_streak_len(h, svc) : 0;
}

static void test_hosts_table_and_order(void **state)
{
	(void)state;
	struct policy_params p = params();
	struct view *view = view_create(&p);
	char name[16];
	for (int i = 999; i >= 0; i--) {
		snprintf(name, sizeof(name), "h%03d", i);
		assert_non_null(view_host_get(view, name));
	}
	assert_int_equal(view->n_hosts, 1000);
	for (uint32_t i = 1; i < view->n_hosts; i++)
		assert_true(strcmp(view->sorted[i - 1]->name, view->sorted[i]->name) < 0);
	assert_string_equal(view_host_find(view, "h537")->name, "h537");
	assert_null(view_host_find(view, "nope"));
	assert_ptr_equal(view_host_get(view, "h001"), view_host_find(view, "h001"));
	view_destroy(view);
}

static void test_liveness(void **state)
{
	(void)state;
	struct policy_params p = params();
	struct view *view = view_create(&p);
	struct view_host *h = view_host_get(view, "alpha");
	assert_false(view_host_usable(view, h, 0));
	put_state(view, "alpha", 4, 2, 1000);
	assert_true(view_host_usable(view, h, 1000));
	assert_true(view_host_usable(view, h, 1000 + p.stale_ms));
	assert_false(view_host_usable(view, h, 1001 + p.stale_ms));
	put_stats(view, "alpha", 1, 0, 0, 7000);
	assert_true(view_host_usable(view, h, 7000));
	put_offline(view, "alpha", 7100);
	assert_false(view_host_usable(view, h, 7100));

	/* Retained history does not prove a host alive. */
	struct bus_state retained = {
	    .status = BUS_STATUS_ONLINE, .has_cores = true, .cores = {4, 4}};
	snprintf(retained.host, sizeof(retained.host), "beta");
	view_apply_state(view, &retained, true, 100);
	assert_false(view_host_usable(view, view_host_find(view, "beta"), 100));

	/* A slow stats period stretches the bound to three periods. */
	put_state(view, "gamma", 4, 4, 0);
	struct bus_stats slow = {.seq = 1, .period_ms = 4000};
	snprintf(slow.host, sizeof(slow.host), "gamma");
	view_apply_stats(view, &slow, false, 0);
	assert_true(view_host_usable(view, view_host_find(view, "gamma"), 12000));
	assert_false(view_host_usable(view, view_host_find(view, "gamma"), 12001));
	view_destroy(view);
}

static void test_streaks(void **state)
{
	(void)state;
	struct policy_params p = params();
	struct view *view = view_create(&p);
	put_state(view, "alpha", 4, 2, 0);
	assert_int_equal(put_stats(view, "alpha", 1, 5000, 0.99, 500), 1);
	assert_int_equal(put_stats(view, "alpha", 2, 5000, 0.99, 1000), 1);
	assert_int_equal(streak(view, "alpha"), 2);
	/* A duplicate seq is ignored. */
	assert_int_equal(put_stats(view, "alpha", 2, 0, 0, 1100), 0);
	assert_int_equal(streak(view, "alpha"), 2);
	/* Lost periods between overloaded reports are bridged. */
	put_stats(view, "alpha", 5, 5000, 0.5, 2500);
	assert_int_equal(streak(view, "alpha"), 5);
	/* A calm report ends it; ring fill alone starts one. */
	put_stats(view, "alpha", 6, 0, 0.1, 3000);
	assert_int_equal(streak(view, "alpha"), 0);
	put_stats(view, "alpha", 7, 0, 0.85, 3500);
	assert_int_equal(streak(view, "alpha"), 1);
	/* Thresholds: drops must exceed, fill must reach. */
	put_stats(view, "alpha", 8, 1000, 0.79, 4000);
	assert_int_equal(streak(view, "alpha"), 0);
	put_stats(view, "alpha", 9, 1001, 0, 4500);
	put_stats(view, "alpha", 10, 0, 0.8, 5000);
	assert_int_equal(streak(view, "alpha"), 2);
	/* seq going back: the manager restarted; the streak starts again. */
	put_stats(view, "alpha", 1, 5000, 0.99, 5500);
	assert_int_equal(streak(view, "alpha"), 1);
	/* Silence past the staleness bound forgets the streak too. */
	put_stats(view, "alpha", 2, 5000, 0.99, 6000);
	put_stats(view, "alpha", 30, 5000, 0.99, 6000 + p.stale_ms + 1);
	assert_int_equal(streak(view, "alpha"), 1);
	/* A new epoch (restart) forgets it. */
	put_stats(view, "alpha", 31, 5000, 0.99, 12000);
	struct bus_state restarted = {.status = BUS_STATUS_ONLINE,
				      .has_epoch = true,
				      .epoch_ms = 2,
				      .has_cores = true,
				      .cores = {4, 2}};
	snprintf(restarted.host, sizeof(restarted.host), "alpha");
	view_apply_state(view, &restarted, false, 12100);
	assert_int_equal(streak(view, "alpha"), 0);
	view_reset_streaks(view, 2);
	view_destroy(view);
}

static void test_capacity_and_calm(void **state)
{
	(void)state;
	struct policy_params p = params();
	struct view *view = view_create(&p);
	put_state(view, "alpha", 4, 2, 0);
	put_stats(view, "alpha", 1, 0, 0.01, 500);
	const struct view_host_svc *svc = view_host_svc_find(view_host_find(view, "alpha"), 2);
	assert_true(svc->calm);
	assert_int_equal(svc->calm_since_ms, 500);
	assert_true(view_capacity(view, 2) == 0);
	put_stats(view, "alpha", 2, 50000, 0.99, 1000);
	svc = view_host_svc_find(view_host_find(view, "alpha"), 2);
	assert_false(svc->calm);
	assert_true(svc->has_capacity);
	assert_true(view_capacity(view, 2) == 100000);
	view_destroy(view);
}

static void test_services_changes(void **state)
{
	(void)state;
	struct policy_params p = params();
	struct view *view = view_create(&p);
	const uint32_t one[] = {2, 1, 5, 2};
	const uint32_t two[] = {2, 1, 2, 3, 5, 2};
	put_services(view, "alpha", one, 2, 100);
	assert_int_equal(view_service_find(view, 2)->changed_ms, 100);
	assert_int_equal(view_service_find(view, 5)->changed_ms, 100);
	put_services(view, "alpha", two, 3, 200);
	assert_int_equal(view_service_find(view, 2)->changed_ms, 200);
	assert_int_equal(view_service_find(view, 5)->changed_ms, 100);
	const struct view_host *h = view_host_find(view, "alpha");
	assert_int_equal(view_host_instances(h, 2), 2);
	assert_true(view_host_has_instance(h, 2, 3));
	assert_false(view_host_has_instance(h, 5, 3));
	/* What an alarm may name: an instance in the map, starting or running. */
	assert_true(view_host_runs_instance(h, 2, 3));
	assert_false(view_host_runs_instance(h, 5, 3));
	assert_false(view_host_runs_instance(h, 7, 1));
	h->insts[1].state = BUS_INST_STOPPING; /* (2, 3): sorted after (2, 1) */
	assert_true(view_host_has_instance(h, 2, 3));
	assert_false(view_host_runs_instance(h, 2, 3));
	struct bus_services cleared = {.cleared = true};
	snprintf(cleared.host, sizeof(cleared.host), "alpha");
	view_apply_services(view, &cleared, false, 300);
	assert_int_equal(view_host_instances(h, 2), 0);
	assert_int_equal(view_service_find(view, 5)->changed_ms, 300);
	view_destroy(view);
}

static void test_avoid(void **state)
{
	(void)state;
	struct policy_params p = params();
	struct view *view = view_create(&p);
	struct view_host *h = view_host_get(view, "beta");
	assert_false(view_avoided(h, 2, 0));
	view_avoid(h, 2, 1000);
	assert_true(view_avoided(h, 2, 999));
	assert_false(view_avoided(h, 2, 1000));
	assert_false(view_avoided(h, 3, 0));
	/* Many services, in any order: each found (by binary search), renewed in place. */
	for (uint32_t i = 0; i < 500; i++)
		assert_int_equal(view_avoid(h, (uint16_t)((i * 7919) % 1000 + 10), 5000 + i), 0);
	assert_int_equal(h->n_avoid, 501);
	for (uint32_t i = 1; i < h->n_avoid; i++)
		assert_true(h->avoid[i - 1].service < h->avoid[i].service);
	assert_true(view_avoided(h, (uint16_t)((17 * 7919) % 1000 + 10), 5016));
	assert_false(view_avoided(h, (uint16_t)((17 * 7919) % 1000 + 10), 5017));
	view_avoid(h, 2, 9000);
	assert_int_equal(h->n_avoid, 501);
	assert_true(view_avoided(h, 2, 8999));
	view_destroy(view);
}

/* ---- pending ---- */

struct ends {
	int count[8];
	enum pending_outcome last;
};

static void on_end(void *ctx, const struct pending *pending, enum pending_outcome outcome,
		   uint64_t now)
{
	struct ends *ends = ctx;
	(void)pending;
	(void)now;
	ends->count[outcome]++;
	ends->last = outcome;
}

static void test_pending_spawn_life(void **state)
{
	(void)state;
	struct policy_params p = params();
	struct view *view = view_create(&p);
	struct ends ends = {0};
	struct pending_hooks hooks = {on_end, &ends};
	struct pending_set set;
	assert_int_equal(pending_init(&set, &p, &hooks), 0);
	const uint32_t before[] = {2, 1};
	const uint32_t after[] = {2, 1, 2, 4};
	put_state(view, "beta", 4, 2, 0);
	put_services(view, "beta", before, 1, 0);
	const struct view_host *beta = view_host_find(view, "beta");

	assert_int_equal(pending_add_spawn(&set, beta, "e-1", false, 2, "alpha", 1, 100), 0);
	assert_true(pending_spawn_blocks(&set, 2));
	assert_false(pending_spawn_blocks(&set, 3));
	assert_int_equal(pending_promised(&set, "beta"), 1);
	assert_non_null(pending_find_id(&set, "e-1"));

	/* Shows up: no longer blocks, but keeps its core until a state arrives. */
	put_services(view, "beta", after, 2, 200);
	pending_on_services(&set, beta, 200);
	assert_int_equal(ends.count[PENDING_CARRIED_OUT], 1);
	assert_false(pending_spawn_blocks(&set, 2));
	pending_expire(&set, view, 300);
	assert_int_equal(pending_promised(&set, "beta"), 1);
	pending_on_state(&set, beta, 400);
	pending_expire(&set, view, 400);
	assert_int_equal(pending_promised(&set, "beta"), 0);
	assert_int_equal(ends.count[PENDING_SETTLED], 1);
	assert_int_equal(set.n, 0);

	/* Time out. */
	pending_add_spawn(&set, beta, "e-2", false, 2, "alpha", 1, 1000);
	pending_expire(&set, view, 1000 + p.pending_ms - 1);
	assert_true(pending_spawn_blocks(&set, 2));
	pending_expire(&set, view, 1000 + p.pending_ms);
	assert_int_equal(ends.last, PENDING_TIMED_OUT);
	assert_false(pending_spawn_blocks(&set, 2));

	/* Rejected by its id; another host's event does not count. */
	pending_add_spawn(&set, beta, "e-3", false, 2, "alpha", 1, 2000);
	struct bus_event event = {.event = BUS_EV_REJECTED, .has_cmd_id = true, .service = 2};
	snprintf(event.host, sizeof(event.host), "gamma");
	snprintf(event.cmd_id, sizeof(event.cmd_id), "e-3");
	pending_on_event(&set, &event, 2100);
	assert_int_equal(set.n, 1);
	snprintf(event.host, sizeof(event.host), "beta");
	pending_on_event(&set, &event, 2100);
	assert_int_equal(ends.last, PENDING_REJECTED);
	assert_int_equal(set.n, 0);

	/* The host goes offline. */
	pending_add_spawn(&set, beta, "e-4", false, 2, "alpha", 1, 3000);
	put_offline(view, "beta", 3100);
	pending_on_state(&set, beta, 3100);
	pending_expire(&set, view, 3100);
	assert_int_equal(ends.last, PENDING_HOST_GONE);
	pending_free(&set);
	view_destroy(view);
}

static void test_pending_shadow_and_foreign(void **state)
{
	(void)state;
	struct policy_params p = params();
	struct view *view = view_create(&p);
	struct ends ends = {0};
	struct pending_hooks hooks = {on_end, &ends};
	struct pending_set set;
	assert_int_equal(pending_init(&set, &p, &hooks), 0);
	struct view_host *gamma = view_host_get(view, "gamma");
	pending_add_spawn(&set, gamma, "", true, 2, "alpha", 1, 100);
	assert_int_equal(pending_promised(&set, "gamma"), 1);

	struct bus_cmd cmd = {.op = BUS_OP_SPAWN, .service = 2, .count = 1};
	snprintf(cmd.id, sizeof(cmd.id), "lead-7");
	snprintf(cmd.target, sizeof(cmd.target), "beta");
	assert_int_equal(pending_take_command(&set, view, &cmd, 110), 0);
	assert_int_equal(ends.count[PENDING_REPLACED], 1);
	assert_int_equal(pending_promised(&set, "gamma"), 0);
	assert_int_equal(pending_promised(&set, "beta"), 1);
	assert_true(set.first->foreign);
	/* Seen twice: taken once. */
	pending_take_command(&set, view, &cmd, 120);
	assert_int_equal(set.n, 1);

	pending_add_spawn(&set, gamma, "", true, 5, "alpha", 1, 130);
	pending_drop_shadow(&set, 140);
	assert_int_equal(ends.count[PENDING_DROPPED], 1);
	assert_int_equal(set.n, 1);

	/* A stop: ends when the instance leaves the map or an event says so. */
	const uint32_t map[] = {2, 9};
	put_services(view, "gamma", map, 1, 150);
	pending_add_stop(&set, "gamma", "lead-8", false, 2, 9, 150);
	assert_true(pending_stop_blocks(&set, 2));
	assert_true(pending_stopping(&set, "gamma", 9));
	put_services(view, "gamma", NULL, 0, 160);
	pending_on_services(&set, gamma, 160);
	assert_false(pending_stop_blocks(&set, 2));
	pending_free(&set);
	view_destroy(view);
}

/* A thousand hosts with a spawn pending on each: every index answers for
 * the right entry (ids past several table growths, per host, per service),
 * and the ends come in the order the rules give. */
static void test_pending_many(void **state)
{
	(void)state;
	struct policy_params p = params();
	struct view *view = view_create(&p);
	struct ends ends = {0};
	struct pending_hooks hooks = {on_end, &ends};
	struct pending_set set;
	assert_int_equal(pending_init(&set, &p, &hooks), 0);
	char name[16], id[16];
	for (uint32_t h = 0; h < 1000; h++) {
		snprintf(name, sizeof(name), "h%04u", h);
		snprintf(id, sizeof(id), "e-%u", h);
		put_state(view, name, 4, 2, 0);
		assert_int_equal(pending_add_spawn(&set, view_host_find(view, name), id, false,
						   (uint16_t)(h + 1), "", 1, 100 + h),
				 0);
	}
	assert_int_equal(set.n, 1000);
	for (uint32_t h = 0; h < 1000; h++) {
		snprintf(name, sizeof(name), "h%04u", h);
		snprintf(id, sizeof(id), "e-%u", h);
		assert_int_equal(pending_promised(&set, name), 1);
		assert_true(pending_spawn_blocks(&set, (uint16_t)(h + 1)));
		struct pending *found = pending_find_id(&set, id);
		assert_non_null(found);
		assert_string_equal(found->host, name);
	}
	assert_false(pending_spawn_blocks(&set, 1001));
	assert_int_equal(pending_promised(&set, "nobody"), 0);

	/* h0500 rejects; h0700's instance shows up; h0900 goes offline. */
	struct bus_event event = {.event = BUS_EV_REJECTED, .has_cmd_id = true, .service = 501};
	snprintf(event.host, sizeof(event.host), "h0500");
	snprintf(event.cmd_id, sizeof(event.cmd_id), "e-500");
	pending_on_event(&set, &event, 2000);
	assert_null(pending_find_id(&set, "e-500"));
	assert_false(pending_spawn_blocks(&set, 501));
	const uint32_t shown[] = {701, 3};
	put_services(view, "h0700", shown, 1, 2000);
	pending_on_services(&set, view_host_find(view, "h0700"), 2000);
	assert_false(pending_spawn_blocks(&set, 701));
	assert_int_equal(pending_promised(&set, "h0700"), 1); /* until a state or settle_ms */
	put_offline(view, "h0900", 2000);
	pending_on_state(&set, view_host_find(view, "h0900"), 2000);
	pending_expire(&set, view, 2001);
	assert_int_equal(ends.count[PENDING_REJECTED], 1);
	assert_int_equal(ends.count[PENDING_CARRIED_OUT], 1);
	assert_int_equal(ends.count[PENDING_HOST_GONE], 1);
	assert_int_equal(set.n, 998);

	/* Timeouts come in creation order: at 100 + 499 + pending_ms, the first 499. */
	pending_expire(&set, view, 100 + 498 + p.pending_ms);
	assert_int_equal(ends.count[PENDING_TIMED_OUT], 499);
	assert_int_equal(ends.count[PENDING_SETTLED], 1); /* h0700: settle_ms passed */
	assert_true(pending_spawn_blocks(&set, 500));
	assert_false(pending_spawn_blocks(&set, 499));
	pending_expire(&set, view, 100 + 999 + p.pending_ms);
	assert_int_equal(ends.count[PENDING_TIMED_OUT], 997);
	assert_int_equal(set.n, 0);
	assert_null(set.first);
	pending_free(&set);
	view_destroy(view);
}

/* ---- scale-in ---- */

/* Two calm instances of service 2: alpha's 1 and beta's 5, each at rx. */
static struct view *calm_pair(const struct policy_params *p, double rx)
{
	struct view *view = view_create(p);
	const uint32_t a[] = {2, 1};
	const uint32_t b[] = {2, 5};
	put_state(view, "alpha", 4, 2, 0);
	put_state(view, "beta", 4, 2, 0);
	put_services(view, "alpha", a, 1, 0);
	put_services(view, "beta", b, 1, 0);
	for (uint64_t seq = 1; seq <= 20; seq++) {
		struct bus_inst_stats ia = {.instance = 1, .service = 2, .rx_pps = rx};
		struct bus_inst_stats ib = {.instance = 5, .service = 2, .rx_pps = rx};
		struct bus_stats sa = {.seq = seq, .period_ms = 500, .n_insts = 1, .insts = &ia};
		struct bus_stats sb = {.seq = seq, .period_ms = 500, .n_insts = 1, .insts = &ib};
		snprintf(sa.host, sizeof(sa.host), "alpha");
		snprintf(sb.host, sizeof(sb.host), "beta");
		view_apply_stats(view, &sa, false, seq * 500);
		view_apply_stats(view, &sb, false, seq * 500);
	}
	return view;
}

static void test_scale_in(void **state)
{
	(void)state;
	struct policy_params p = params();
	p.scale_in_ms = 5000;
	struct view *view = calm_pair(&p, 30000);
	struct pending_set set;
	assert_int_equal(pending_init(&set, &p, NULL), 0);
	struct scale_in_choice choice;
	assert_int_equal(scale_in_check(view, &set, 2, &(struct scale_in_limits){1, p.scale_in_ms},
					5499, &choice),
			 0);
	assert_int_equal(scale_in_check(view, &set, 2, &(struct scale_in_limits){1, p.scale_in_ms},
					10000, &choice),
			 1);
	assert_string_equal(choice.host->name, "beta"); /* alpha is home: same count, first name */
	assert_int_equal(choice.instance, 5);
	assert_int_equal(choice.n_live, 2);

	/* The origin of the latest overload is home. */
	struct view_service *svc = view_service_get(view, 2);
	snprintf(svc->home, sizeof(svc->home), "beta");
	assert_int_equal(scale_in_check(view, &set, 2, &(struct scale_in_limits){1, p.scale_in_ms},
					10000, &choice),
			 1);
	assert_string_equal(choice.host->name, "alpha");

	/* A learnt capacity: 60 kpps offered does not fit 0.7 * 1 * 80 kpps. */
	struct view_host_svc *learnt = view_host_svc_find(view_host_find(view, "alpha"), 2);
	learnt->has_capacity = true;
	learnt->capacity_pps = 80000;
	assert_int_equal(scale_in_check(view, &set, 2, &(struct scale_in_limits){1, p.scale_in_ms},
					10000, &choice),
			 0);
	learnt->capacity_pps = 100000;
	assert_int_equal(scale_in_check(view, &set, 2, &(struct scale_in_limits){1, p.scale_in_ms},
					10000, &choice),
			 1);

	/* Pending work, a stale host, or scale-in off: nothing. */
	pending_add_stop(&set, "alpha", "x-1", false, 2, 1, 9000);
	assert_int_equal(scale_in_check(view, &set, 2, &(struct scale_in_limits){1, p.scale_in_ms},
					10000, &choice),
			 0);
	pending_free(&set);
	assert_int_equal(pending_init(&set, &p, NULL), 0);
	assert_int_equal(scale_in_check(view, &set, 2, &(struct scale_in_limits){1, p.scale_in_ms},
					10000 + p.stale_ms + 1, &choice),
			 0);
	view->params.scale_in = false;
	assert_int_equal(scale_in_check(view, &set, 2, &(struct scale_in_limits){1, p.scale_in_ms},
					10000, &choice),
			 0);
	pending_free(&set);
	view_destroy(view);
}

static void test_scale_in_never_last(void **state)
{
	(void)state;
	struct policy_params p = params();
	p.scale_in_ms = 1000;
	struct view *view = calm_pair(&p, 1000);
	put_offline(view, "beta", 10000); /* its instance counts as gone */
	struct pending_set set;
	assert_int_equal(pending_init(&set, &p, NULL), 0);
	struct scale_in_choice choice;
	assert_int_equal(scale_in_check(view, &set, 2, &(struct scale_in_limits){1, p.scale_in_ms},
					10000, &choice),
			 0);
	pending_free(&set);
	view_destroy(view);
}

/* One instance's report on host: service 2, this instance, rx and drops. */
static void put_inst(struct view *view, const char *host, uint32_t instance, uint64_t seq,
		     double rx, double drop, uint64_t now)
{
	struct bus_inst_stats inst = {.instance = instance,
				      .service = 2,
				      .rx_pps = rx,
				      .drop_pps = drop,
				      .ring_fill = drop > 0 ? 0.99 : 0.01};
	struct bus_stats stats = {.seq = seq, .period_ms = 500, .n_insts = 1, .insts = &inst};
	snprintf(stats.host, sizeof(stats.host), "%s", host);
	view_apply_stats(view, &stats, false, now);
}

/*
 * Two instances of service 2, calm at 60 kpps each after a saturated
 * instance showed 100 kpps: 120 kpps do not fit 0.7 * 1 * 100 kpps, so no
 * scale-in, whatever one wild report (rx_pps 1e308) said meanwhile.
 */
static void test_capacity_bounded(void **state)
{
	(void)state;
	struct policy_params p = params();
	p.scale_in_ms = 1000;
	struct pending_set set;
	assert_int_equal(pending_init(&set, &p, NULL), 0);
	struct scale_in_choice choice;

	/* Another host's wild number. */
	struct view *view = view_create(&p);
	const uint32_t a[] = {2, 1};
	const uint32_t b[] = {2, 5};
	put_state(view, "alpha", 4, 2, 0);
	put_state(view, "beta", 4, 2, 0);
	put_services(view, "alpha", a, 1, 0);
	put_services(view, "beta", b, 1, 0);
	put_inst(view, "alpha", 1, 1, 100000, 50000, 500);
	put_inst(view, "beta", 5, 1, 1e308, 50000, 500);
	for (uint64_t seq = 2; seq <= 20; seq++) {
		put_inst(view, "alpha", 1, seq, 60000, 0, seq * 500);
		put_inst(view, "beta", 5, seq, 60000, 0, seq * 500);
	}
	assert_true(view_capacity(view, 2) == 100000);
	assert_int_equal(scale_in_check(view, &set, 2, &(struct scale_in_limits){1, p.scale_in_ms},
					10000, &choice),
			 0);
	view_destroy(view);

	/* The same host's: one report moves the capacity by 30 % at most. */
	view = view_create(&p);
	const uint32_t both[] = {2, 1, 2, 3};
	put_state(view, "alpha", 4, 2, 0);
	put_services(view, "alpha", both, 2, 0);
	put_inst(view, "alpha", 1, 1, 100000, 50000, 500);
	put_inst(view, "alpha", 3, 2, 1e308, 50000, 1000);
	assert_true(view_capacity(view, 2) == 130000);
	for (uint64_t seq = 3; seq <= 20; seq++) {
		struct bus_inst_stats insts[2] = {
		    {.instance = 1, .service = 2, .rx_pps = 60000, .ring_fill = 0.01},
		    {.instance = 3, .service = 2, .rx_pps = 60000, .ring_fill = 0.01}};
		struct bus_stats stats = {
		    .seq = seq, .period_ms = 500, .n_insts = 2, .insts = insts};
		snprintf(stats.host, sizeof(stats.host), "alpha");
		view_apply_stats(view, &stats, false, seq * 500);
	}
	assert_int_equal(scale_in_check(view, &set, 2, &(struct scale_in_limits){1, p.scale_in_ms},
					10000, &choice),
			 0);

	/* Never above the ceiling, however long a host insists. */
	for (uint64_t seq = 21; seq <= 200; seq++)
		put_inst(view, "alpha", 3, seq, 1e308, 50000, seq * 500);
	assert_true(view_capacity(view, 2) <= VIEW_CAPACITY_MAX_PPS);
	assert_true(view_capacity(view, 2) > 0);
	view_destroy(view);
	pending_free(&set);
}

/* Three periods of overload need three periods of time: seq jumping ahead
 * does not make the streak longer than the time its reports took. */
static void test_streak_bounded_by_time(void **state)
{
	(void)state;
	struct policy_params p = params();
	struct view *view = view_create(&p);
	put_state(view, "alpha", 4, 2, 0);
	put_stats(view, "alpha", 1, 5000, 0.99, 500);
	put_stats(view, "alpha", 101, 5000, 0.99, 1000); /* 100 seq in one period */
	assert_int_equal(streak(view, "alpha"), 2);
	put_stats(view, "alpha", 201, 5000, 0.99, 1000); /* and again at once */
	assert_int_equal(streak(view, "alpha"), 2);
	put_stats(view, "alpha", 202, 5000, 0.99, 1500);
	assert_int_equal(streak(view, "alpha"), 3);
	/* A little jitter costs nothing: 3 reports 990 ms apart are 3 periods. */
	put_stats(view, "alpha", 203, 0, 0, 2000);
	put_stats(view, "alpha", 204, 5000, 0.99, 2500);
	put_stats(view, "alpha", 206, 5000, 0.99, 3490);
	assert_int_equal(streak(view, "alpha"), 3);
	view_destroy(view);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hosts_table_and_order),
	    cmocka_unit_test(test_liveness),
	    cmocka_unit_test(test_streaks),
	    cmocka_unit_test(test_capacity_and_calm),
	    cmocka_unit_test(test_capacity_bounded),
	    cmocka_unit_test(test_streak_bounded_by_time),
	    cmocka_unit_test(test_services_changes),
	    cmocka_unit_test(test_avoid),
	    cmocka_unit_test(test_pending_spawn_life),
	    cmocka_unit_test(test_pending_shadow_and_foreign),
	    cmocka_unit_test(test_pending_many),
	    cmocka_unit_test(test_scale_in),
	    cmocka_unit_test(test_scale_in_never_last),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
