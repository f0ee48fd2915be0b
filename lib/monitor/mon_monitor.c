/*
 * The monitor: zones, their schedule and the polls. Every poll is a run of
 * the check (lib/check_run.c) for one zone; its result goes through the
 * state machine, the events to the store, the listeners and the alerts.
 *
 * Scheduling: each zone has a phase within `interval`, the zones spread
 * evenly, so the checks are a steady trickle, not bursts; one timer wakes at
 * the earliest due zone (at most every TICK_MS). After a change a zone is
 * polled every fast_interval until it converged or converge_timeout passed;
 * a NOTIFY polls it at once.
 *
 * Discovery is not repeated on every poll: a zone is discovered on its
 * first poll, again every discover_interval, and at its next regular poll
 * after a poll that looked like a discovery problem (discovery failed, a
 * server unreachable or not authoritative); in between, the discovered
 * servers, NS sets and MNAME are handed to the check (ss_check_add_zone's
 * `discovered`), so the findings are exactly check's. Check runs are
 * replaced every RUN_ROTATE_MS (their resolver caches every answer for
 * their life, and they keep a slot per zone added).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/checkrun.h>
#include <soasync/error.h>
#include <soasync/resolver.h>

#include "mon_int.h"

#define TICK_MS       10
#define RUN_ROTATE_MS 60000
#define RETENTION_MS  (6 * 3600 * 1000)
#define COMMIT_MS     1000
#define MAX_IN_FLIGHT 4096

typedef struct mon_run mon_run_t;

/* An accepted NOTIFY (ms 0: none). */
typedef struct {
	int64_t ms;
	bool has_serial;
	uint32_t serial;
} mon_notified_t;

typedef struct {
	ss_mon_zone_t view; /* what the read API returns */
	char *name;
	const ss_mon_zone_config_t *cfg; /* in m->cfg */
	int64_t db_id;
	mon_zstate_t st;
	ss_finding_t *findings; /* of the last check, owned */
	size_t nfindings;
	ss_zone_obs_t *discovered; /* owned; NULL: discover at the next poll */
	int64_t discovered_ms;
	bool rediscover;
	int64_t content_due_ms;
	int64_t phase_ms;
	int64_t due_ms;
	size_t heap_i;
	bool in_heap;
	bool in_flight, poll_discovers;
	int64_t poll_started_ms;
	mon_notified_t notify;  /* the first NOTIFY no check has started for yet */
	mon_notified_t serving; /* the one the check in flight answers */
	int64_t last_alert_ms, problem_since_ms;
} mon_zone_t;

struct mon_run {
	ss_monitor_t *m;
	ss_check_t *c;
	bool content, retired;
	size_t outstanding;
	int64_t created_ms;
	knot_tsig_key_t tsig; /* a copy: a reload frees the config's */
	bool has_tsig;
	mon_run_t *next;
};

typedef struct {
	ss_mon_event_cb cb;
	void *arg;
} listener_t;

struct ss_monitor {
	uv_loop_t *loop;
	ss_mon_config_t *cfg;
	ss_mon_hooks_t hooks;
	listener_t *listeners;
	size_t nlisteners;
	ss_engine_t *engine;
	ss_vendor_cache_t *vendors;
	ss_addr_t resolver;
	mon_run_t *runs, *cur[2];
	mon_listener_t *notify;
	mon_alerts_t *alerts;
	ss_mon_store_t *store;
	mon_zone_t **zones; /* sorted by name */
	size_t nzones;
	mon_zone_t **limbo; /* removed while polled: freed when the result comes */
	size_t nlimbo;
	mon_zone_t **heap;
	size_t nheap, cap_heap;
	uv_timer_t tick, commit, retention;
	bool timers_init, started, stopping;
	bool db_broken; /* the last write or commit failed: not healthy */
	int pending_close;
	void (*done)(void *arg);
	void *done_arg;
	ss_mon_counters_t counters;
};

#define say(m, zone, ...) mon_say((m)->hooks.log, (m)->hooks.log_arg, zone, __VA_ARGS__)

static mon_policy_t policy(const ss_monitor_t *m)
{
	mon_policy_t p = {m->cfg->lag_warning_ms, m->cfg->lag_critical_ms,
	                  m->cfg->converge_timeout_ms};
	return p;
}

/* ---- zones by name ------------------------------------------------------------- */

static int cmp_zone(const void *a, const void *b)
{
	return strcmp((*(mon_zone_t *const *)a)->name, (*(mon_zone_t *const *)b)->name);
}

static mon_zone_t *find_zone(const ss_monitor_t *m, const char *name)
{
	mon_zone_t key = {.name = (char *)name}, *kp = &key;
	mon_zone_t **hit =
	    m->nzones ? bsearch(&kp, m->zones, m->nzones, sizeof(*m->zones), cmp_zone) : NULL;
	return hit ? *hit : NULL;
}

static bool zone_known(const char *zone, void *arg)
{
	return find_zone(arg, zone) != NULL;
}

/* A kept discovery (ss_obs_copy_discovery), freed whole; NULL is fine. */
static void discovered_free(ss_zone_obs_t *d)
{
	if (d != NULL) {
		ss_zone_result_t tmp = {.obs = *d};
		ss_zone_result_clear(&tmp);
		free(d);
	}
}

static void zone_free(mon_zone_t *z)
{
	if (z == NULL) {
		return;
	}
	mon_zstate_clear(&z->st);
	ss_zone_result_t tmp = {.findings = z->findings, .nfindings = z->nfindings};
	ss_zone_result_clear(&tmp);
	discovered_free(z->discovered);
	free(z->name);
	free(z);
}

/* ---- the schedule: a min-heap by due time ------------------------------------------ */

static bool earlier(const ss_monitor_t *m, size_t a, size_t b)
{
	return m->heap[a]->due_ms < m->heap[b]->due_ms;
}

static void heap_swap(ss_monitor_t *m, size_t a, size_t b)
{
	mon_zone_t *t = m->heap[a];
	m->heap[a] = m->heap[b];
	m->heap[b] = t;
	m->heap[a]->heap_i = a;
	m->heap[b]->heap_i = b;
}

static void heap_fix(ss_monitor_t *m, size_t i)
{
	while (i > 0 && earlier(m, i, (i - 1) / 2)) {
		heap_swap(m, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, min = i;
		min = l < m->nheap && earlier(m, l, min) ? l : min;
		min = r < m->nheap && earlier(m, r, min) ? r : min;
		if (min == i) {
			return;
		}
		heap_swap(m, i, min);
		i = min;
	}
}

static void heap_remove(ss_monitor_t *m, mon_zone_t *z)
{
	if (!z->in_heap) {
		return;
	}
	size_t i = z->heap_i;
	z->in_heap = false;
	if (--m->nheap > i) {
		m->heap[i] = m->heap[m->nheap];
		m->heap[i]->heap_i = i;
		heap_fix(m, i);
	}
}

static void tick_cb(uv_timer_t *t);

static void arm(ss_monitor_t *m, int64_t now)
{
	if (m->stopping || m->nheap == 0) {
		uv_timer_stop(&m->tick);
		return;
	}
	int64_t wait = m->heap[0]->due_ms - now;
	uv_timer_start(&m->tick, tick_cb, wait > 0 ? (uint64_t)wait : 0, 0);
}

static void schedule(ss_monitor_t *m, mon_zone_t *z, int64_t due)
{
	z->due_ms = due;
	if (!z->in_heap) {
		if (m->nheap == m->cap_heap) {
			size_t ncap = m->cap_heap ? m->cap_heap * 2 : 256;
			mon_zone_t **grown = realloc(m->heap, ncap * sizeof(*grown));
			if (grown == NULL) {
				say(m, z->name, "out of memory: not scheduled");
				return;
			}
			m->heap = grown;
			m->cap_heap = ncap;
		}
		z->heap_i = m->nheap;
		m->heap[m->nheap++] = z;
		z->in_heap = true;
	}
	heap_fix(m, z->heap_i);
	z->view.next_check_ms = due;
}

/* The zone's next regular slot after now. */
static int64_t next_slot(const ss_monitor_t *m, const mon_zone_t *z, int64_t now)
{
	int64_t iv = (int64_t)m->cfg->interval_ms;
	int64_t k = (now - z->phase_ms) / iv + 1;
	return z->phase_ms + k * iv;
}

/* The regular slot after the one just polled: a zone is polled up to
 * TICK_MS / 2 early, so the slot after `now` can still be that same one. */
static int64_t slot_after_poll(const ss_monitor_t *m, const mon_zone_t *z, int64_t now)
{
	return next_slot(m, z, z->due_ms > now ? z->due_ms : now);
}

/* Spread the zones evenly over the interval, starting now. */
static void spread(ss_monitor_t *m, int64_t now)
{
	int64_t iv = (int64_t)m->cfg->interval_ms;
	for (size_t i = 0; i < m->nzones; i++) {
		m->zones[i]->phase_ms =
		    (now + (int64_t)((double)i * (double)iv / (double)m->nzones)) % iv;
	}
}

/* ---- check runs ----------------------------------------------------------------- */

static void on_result(ss_zone_result_t *res, void *arg);

static mon_run_t *run_new(ss_monitor_t *m, bool content, int64_t now)
{
	mon_run_t *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return NULL;
	}
	r->m = m;
	r->content = content;
	r->created_ms = now;
	if (m->cfg->has_tsig && knot_tsig_key_copy(&r->tsig, &m->cfg->tsig) == KNOT_EOK) {
		r->has_tsig = true;
	}
	ss_check_opts_t o = {
	    .resolver = m->resolver,
	    .vendors = m->vendors,
	    .expire = true,
	    .expire_warn_s = m->cfg->expire_warn_s,
	    .max_zones = MAX_IN_FLIGHT,
	    .unordered = true,
	    .content = {.all = content, .tsig = r->has_tsig ? &r->tsig : NULL},
	};
	if ((r->c = ss_check_new(m->engine, &o, on_result, r)) == NULL) {
		if (r->has_tsig) {
			knot_tsig_key_deinit(&r->tsig);
		}
		free(r);
		return NULL;
	}
	r->next = m->runs;
	m->runs = r;
	return r;
}

static void run_free(mon_run_t *r)
{
	ss_check_free(r->c);
	if (r->has_tsig) {
		knot_tsig_key_deinit(&r->tsig);
	}
	free(r);
}

static mon_run_t *current_run(ss_monitor_t *m, bool content, int64_t now)
{
	mon_run_t *r = m->cur[content];
	if (r != NULL && !r->retired && now - r->created_ms < RUN_ROTATE_MS) {
		return r;
	}
	if (r != NULL) {
		r->retired = true;
	}
	return m->cur[content] = run_new(m, content, now);
}

/* Runs retired and finished are freed here, never from their own callback. */
static void reap_runs(ss_monitor_t *m)
{
	for (mon_run_t **pp = &m->runs; *pp != NULL;) {
		mon_run_t *r = *pp;
		if (r->retired && r->outstanding == 0) {
			*pp = r->next;
			run_free(r);
		} else {
			pp = &r->next;
		}
	}
}

static void retire_runs(ss_monitor_t *m)
{
	for (mon_run_t *r = m->runs; r != NULL; r = r->next) {
		r->retired = true;
	}
	m->cur[0] = m->cur[1] = NULL;
}

/* ---- polling ---------------------------------------------------------------------- */

static bool wants_discovery(const ss_monitor_t *m, const mon_zone_t *z, int64_t now, bool regular)
{
	if (z->cfg->nns > 0) {
		return false;
	}
	if (z->discovered == NULL) {
		return true;
	}
	return regular &&
	       (z->rediscover || now - z->discovered_ms >= (int64_t)m->cfg->discover_interval_ms);
}

static void poll_zone(ss_monitor_t *m, mon_zone_t *z, int64_t now)
{
	bool regular = !z->st.converging && z->notify.ms == 0;
	bool content = z->cfg->content_ms > 0 && regular && now >= z->content_due_ms;
	bool discover = wants_discovery(m, z, now, regular);
	ss_check_zone_opts_t zo = {
	    .ns = z->cfg->ns,
	    .nns = z->cfg->nns,
	    .primary = z->cfg->primary,
	    .nprimary = z->cfg->nprimary,
	    .discovered = discover ? NULL : z->discovered,
	};
	mon_run_t *r = current_run(m, content, now);
	int ret = r ? ss_check_add_zone(r->c, z->name, &zo) : SS_ENOMEM;
	if (ret != 0) {
		say(m, z->name, "cannot start a check: %s", ss_strerror(ret));
		schedule(m, z, slot_after_poll(m, z, now));
		return;
	}
	r->outstanding++;
	z->in_flight = true;
	z->serving = z->notify;
	z->notify = (mon_notified_t){0};
	z->poll_discovers = discover;
	z->poll_started_ms = now;
	if (content) {
		z->content_due_ms = now + (int64_t)z->cfg->content_ms;
	}
}

static void tick_cb(uv_timer_t *t)
{
	ss_monitor_t *m = t->data;
	int64_t now = mon_now_ms();
	reap_runs(m);
	while (!m->stopping && m->nheap > 0 && m->heap[0]->due_ms <= now + TICK_MS / 2) {
		mon_zone_t *z = m->heap[0];
		heap_remove(m, z);
		poll_zone(m, z, now);
	}
	if (m->nheap > 0 && !m->stopping) {
		int64_t wait = m->heap[0]->due_ms - now;
		uv_timer_start(&m->tick, tick_cb, wait > TICK_MS ? (uint64_t)wait : TICK_MS, 0);
	}
}

/* ---- applying a result ------------------------------------------------------------ */

static void count_check(ss_monitor_t *m, const ss_zone_result_t *res, int64_t took)
{
	ss_mon_counters_t *c = &m->counters;
	c->checks++;
	mon_hist_add(&c->check_duration, (double)took / 1000.0);
	for (size_t i = 0; i < res->obs.nservers; i++) {
		const ss_server_obs_t *s = &res->obs.servers[i];
		int q = -1;
		switch (s->kind) {
		case SS_ANS_SOA:
			break;
		case SS_ANS_SERVFAIL:
			q = SS_MON_QERR_SERVFAIL;
			break;
		case SS_ANS_NOT_AUTH:
		case SS_ANS_REFERRAL:
		case SS_ANS_NO_SOA:
			q = SS_MON_QERR_NOT_AUTH;
			break;
		case SS_ANS_MALFORMED:
			q = SS_MON_QERR_MALFORMED;
			break;
		case SS_ANS_NONE:
			q = s->error == SS_ETIMEOUT       ? SS_MON_QERR_TIMEOUT
			    : s->error == SS_ECONNREFUSED ? SS_MON_QERR_CONNREFUSED
			    : s->error == SS_ENETWORK     ? SS_MON_QERR_NETWORK
			                                  : SS_MON_QERR_OTHER;
			break;
		}
		if (q >= 0 && s->verdict != SS_VERDICT_HIDDEN_PRIMARY) {
			c->query_errors[q]++;
		}
	}
}

/* Keep what this poll discovered for the next ones; a poll that looks like
 * a discovery problem makes the next regular poll discover again. */
static void keep_discovery(ss_monitor_t *m, mon_zone_t *z, const ss_zone_result_t *res, int64_t now)
{
	const ss_zone_obs_t *o = &res->obs;
	bool trouble = o->discovery_error != 0 || o->not_found || o->nservers == 0;
	for (size_t i = 0; i < o->nservers; i++) {
		ss_verdict_t v = o->servers[i].verdict;
		trouble = trouble || v == SS_VERDICT_UNREACHABLE || v == SS_VERDICT_NOT_AUTH ||
		          v == SS_VERDICT_NO_SOA;
	}
	z->rediscover = trouble && z->cfg->nns == 0;
	if (!z->poll_discovers || o->nservers == 0) {
		return;
	}
	ss_zone_obs_t *d = calloc(1, sizeof(*d));
	if (d == NULL || ss_obs_copy_discovery(d, o) != 0) {
		discovered_free(d);
		say(m, z->name, "out of memory: discovery not kept");
		return;
	}
	discovered_free(z->discovered);
	z->discovered = d;
	z->discovered_ms = now;
}

static void take_findings(mon_zone_t *z, ss_zone_result_t *res)
{
	ss_zone_result_t old = {.findings = z->findings, .nfindings = z->nfindings};
	ss_zone_result_clear(&old);
	z->findings = res->findings;
	z->nfindings = res->nfindings;
	res->findings = NULL;
	res->nfindings = 0;
}

static void update_view(mon_zone_t *z, const ss_zone_result_t *res, int64_t now)
{
	ss_mon_zone_t *v = &z->view;
	v->name = z->name;
	v->status = z->st.checked ? z->st.status : SS_STATUS_UNKNOWN;
	v->status_since_ms = z->st.status_since_ms;
	v->checked = z->st.checked;
	v->converging = z->st.converging;
	v->has_reference = z->st.has_reference;
	v->reference_serial = z->st.reference;
	v->reference_since_ms = z->st.reference_since_ms;
	v->reference_via = z->st.reference_via;
	v->servers = z->st.servers;
	v->nservers = z->st.nservers;
	v->findings = z->findings;
	v->nfindings = z->nfindings;
	if (res != NULL) {
		v->last_check_ms = now;
		v->checks++;
		v->has_primary = res->has_primary;
		v->primary = res->primary;
	}
}

static void emit(ss_monitor_t *m, const ss_mon_event_t *e)
{
	m->counters.events++;
	if (m->hooks.event != NULL) {
		m->hooks.event(e, m->hooks.event_arg);
	}
	for (size_t i = 0; i < m->nlisteners; i++) {
		m->listeners[i].cb(e, m->listeners[i].arg);
	}
}

static void alert(ss_monitor_t *m, mon_zone_t *z, ss_status_t previous, bool repeat, int64_t now)
{
	if (m->cfg->alert_command == NULL && m->cfg->alert_webhook == NULL) {
		return;
	}
	mon_alert_t al = {
	    .zone = &z->view,
	    .previous = previous,
	    .repeat = repeat,
	    .now_ms = now,
	    .problem_since_ms = z->problem_since_ms,
	    .site = m->cfg->site,
	};
	char *json = mon_alert_json(&al);
	if (json == NULL) {
		say(m, z->name, "out of memory: alert not sent");
		return;
	}
	mon_alerts_send(m->alerts, z->name, ss_status_name(z->view.status), json);
	free(json);
	z->last_alert_ms = now;
}

static void record(ss_monitor_t *m, mon_zone_t *z, const mon_events_t *ev)
{
	if (ev->n == 0 || m->store == NULL) {
		return;
	}
	if (mon_store_record(m->store, z->db_id, &z->st, ev) != 0) {
		m->counters.db_errors++;
		if (!m->db_broken) {
			say(m, NULL, "%s: cannot write the history: %s", m->cfg->database,
			    mon_store_errmsg(m->store));
		}
		m->db_broken = true;
	}
}

/* The events of one check: stored, told, counted, alerted (one alert per
 * status change: a step gives at most one STATUS event). */
static void publish(ss_monitor_t *m, mon_zone_t *z, const mon_events_t *ev, int64_t now)
{
	record(m, z, ev);
	for (size_t i = 0; i < ev->n; i++) {
		const ss_mon_event_t *e = &ev->v[i];
		emit(m, e);
		if (e->kind == SS_MON_EV_CONVERGED && e->via != SS_MON_VIA_START) {
			mon_hist_add(&z->view.convergence, (double)e->lag_ms / 1000.0);
		}
		if (e->kind != SS_MON_EV_STATUS) {
			continue;
		}
		if (e->previous == SS_STATUS_OK) {
			z->problem_since_ms = now;
		}
		alert(m, z, e->previous, false, now);
		if (e->status == SS_STATUS_OK) {
			z->problem_since_ms = 0;
		}
	}
}

static void repeat_alert(ss_monitor_t *m, mon_zone_t *z, int64_t now)
{
	uint64_t every = m->cfg->alert_repeat_ms;
	if (every > 0 && z->view.status != SS_STATUS_OK && z->last_alert_ms > 0 &&
	    now - z->last_alert_ms >= (int64_t)every) {
		alert(m, z, z->view.status, true, now);
	}
}

static void reschedule(ss_monitor_t *m, mon_zone_t *z, int64_t now)
{
	if (z->notify.ms != 0) {
		schedule(m, z, now); /* a NOTIFY came during the check */
	} else if (z->st.converging) {
		schedule(m, z, now + (int64_t)m->cfg->fast_interval_ms);
	} else {
		schedule(m, z, slot_after_poll(m, z, now));
	}
	if (m->nheap > 0 && m->heap[0] == z) {
		arm(m, now);
	}
}

static void apply(ss_monitor_t *m, mon_zone_t *z, ss_zone_result_t *res)
{
	int64_t now = mon_now_ms();
	z->in_flight = false;
	count_check(m, res, now - z->poll_started_ms);
	keep_discovery(m, z, res, now);
	mon_input_t in = {.now_ms = now, .policy = policy(m)};
	in.notify_ms = z->serving.ms;
	in.has_notify_serial = z->serving.has_serial;
	in.notify_serial = z->serving.serial;
	z->serving = (mon_notified_t){0};
	mon_events_t ev = {0};
	if (mon_state_step(&z->st, res, &in, z->name, &ev) != 0) {
		say(m, z->name, "out of memory: this check's changes may be missing");
	}
	take_findings(z, res);
	update_view(z, res, now);
	publish(m, z, &ev, now);
	mon_events_clear(&ev);
	repeat_alert(m, z, now);
	reschedule(m, z, now);
}

static void limbo_drop(ss_monitor_t *m, const char *name)
{
	for (size_t i = 0; i < m->nlimbo; i++) {
		if (strcmp(m->limbo[i]->name, name) == 0) {
			zone_free(m->limbo[i]);
			m->limbo[i] = m->limbo[--m->nlimbo];
			return;
		}
	}
}

static void on_result(ss_zone_result_t *res, void *arg)
{
	mon_run_t *r = arg;
	ss_monitor_t *m = r->m;
	r->outstanding--;
	if (m->stopping) {
		return;
	}
	const char *name = res->obs.zone_str ? res->obs.zone_str : "";
	mon_zone_t *z = find_zone(m, name);
	if (z == NULL || !z->in_flight) {
		limbo_drop(m, name);
		return;
	}
	apply(m, z, res);
}

/* ---- NOTIFY ---------------------------------------------------------------------- */

static void on_notify(const mon_notify_msg_t *msg, void *arg)
{
	ss_monitor_t *m = arg;
	int64_t now = mon_now_ms();
	m->counters.notify[msg->result]++;
	mon_zone_t *z = msg->has_zone ? find_zone(m, msg->zone) : NULL;
	if (z != NULL) {
		z->view.notify[msg->result]++;
	}
	if (msg->result == SS_MON_NOTIFY_MALFORMED) {
		return; /* garbage is counted, not told */
	}
	char a[SS_ADDR_STRLEN], serial[32] = "";
	ss_addr_ntop(&msg->from, a, sizeof(a));
	if (msg->has_serial) {
		snprintf(serial, sizeof(serial), " (serial %u)", msg->serial);
	}
	say(m, msg->has_zone ? msg->zone : NULL, "NOTIFY%s from %s: %s", serial, a,
	    ss_mon_notify_result_name(msg->result));
	if (msg->result != SS_MON_NOTIFY_ACCEPTED || z == NULL || m->stopping) {
		return;
	}
	if (z->notify.ms == 0) {
		z->notify = (mon_notified_t){now, msg->has_serial, msg->serial};
	}
	if (!z->in_flight) {
		schedule(m, z, now);
		arm(m, now);
	}
}

/* ---- zones from the config -------------------------------------------------------- */

static int zone_open(ss_monitor_t *m, const ss_mon_zone_config_t *zc, int64_t now, mon_zone_t **out)
{
	mon_zone_t *z = calloc(1, sizeof(*z));
	if (z == NULL || (z->name = strdup(zc->name)) == NULL) {
		free(z);
		return SS_ENOMEM;
	}
	z->cfg = zc;
	z->view.name = z->name;
	mon_hist_init(&z->view.convergence, mon_conv_bounds, mon_nconv_bounds);
	bool fresh = false;
	int ret = mon_store_zone(m->store, z->name, now, &z->db_id, &fresh);
	ret = ret ? ret : mon_store_load(m->store, z->db_id, &z->st);
	if (ret != 0) {
		zone_free(z);
		return ret;
	}
	if (z->st.status != SS_STATUS_OK) {
		z->problem_since_ms = z->st.status_since_ms;
		z->last_alert_ms = now; /* alerted before the restart; repeat from here */
	}
	update_view(z, NULL, now);
	if (fresh) {
		mon_events_t ev = {0};
		ss_mon_event_t e = mon_event(SS_MON_EV_ZONE_ADDED, now, z->name);
		if (mon_events_push(&ev, &e) == 0) {
			publish(m, z, &ev, now);
		}
		mon_events_clear(&ev);
	}
	*out = z;
	return 0;
}

static void zone_close(ss_monitor_t *m, mon_zone_t *z, int64_t now)
{
	mon_events_t ev = {0};
	mon_state_close(&z->st, now, z->name, &ev);
	ss_mon_event_t e = mon_event(SS_MON_EV_ZONE_REMOVED, now, z->name);
	mon_events_push(&ev, &e);
	publish(m, z, &ev, now);
	mon_events_clear(&ev);
	if (m->store != NULL) {
		mon_store_zone_removed(m->store, z->db_id, now);
	}
	heap_remove(m, z);
}

/* ---- lifecycle -------------------------------------------------------------------- */

int ss_monitor_new(uv_loop_t *loop, ss_mon_config_t *cfg, const ss_mon_hooks_t *hooks,
                   ss_monitor_t **out, ss_mon_error_t *err)
{
	*out = NULL;
	ss_monitor_t *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		ss_mon_config_free(cfg);
		mon_error_set(err, "", 0, 0, "out of memory");
		return SS_ENOMEM;
	}
	m->loop = loop;
	m->cfg = cfg;
	if (hooks != NULL) {
		m->hooks = *hooks;
	}
	m->counters.started_ms = mon_now_ms();
	mon_hist_init(&m->counters.check_duration, mon_dur_bounds, mon_ndur_bounds);
	mon_notify_ctx_t ctx = {.allow = cfg->notify_allow,
	                        .nallow = cfg->nnotify_allow,
	                        .tsig = cfg->has_tsig ? &cfg->tsig : NULL,
	                        .known = zone_known,
	                        .arg = m};
	int ret = mon_listener_new(loop, &ctx, on_notify, m, &m->notify);
	ret = ret ? ret : mon_alerts_new(loop, m->hooks.log, m->hooks.log_arg, &m->alerts);
	ret = ret ? ret : mon_alerts_configure(m->alerts, cfg->alert_command, cfg->alert_webhook);
	if (ret != 0) {
		mon_error_set(err, "", 0, 0, "out of memory");
		ss_monitor_free(m);
		return ret;
	}
	*out = m;
	return 0;
}

int ss_monitor_bind(ss_monitor_t *m, ss_mon_error_t *err)
{
	if (!m->cfg->has_notify) {
		return 0;
	}
	int ret = mon_listener_bind(m->notify, &m->cfg->notify, err);
	if (ret != 0) {
		snprintf(err->file, sizeof(err->file), "%s", m->cfg->path);
	}
	return ret;
}

static bool needs_resolver(const ss_mon_config_t *cfg)
{
	for (size_t i = 0; i < cfg->nzones; i++) {
		if (cfg->zones[i].nns == 0) {
			return true;
		}
	}
	return false;
}

static int find_resolver(ss_monitor_t *m, const ss_mon_config_t *cfg, ss_mon_error_t *err)
{
	if (cfg->has_resolver) {
		m->resolver = cfg->resolver;
		return 0;
	}
	if (ss_resolver_from_conf("/etc/resolv.conf", &m->resolver) == 0 || !needs_resolver(cfg)) {
		return 0;
	}
	mon_error_set(err, cfg->path, 0, 0,
	              "resolver: not set and /etc/resolv.conf has no usable nameserver "
	              "(zones without ns: need discovery)");
	return SS_EINVAL;
}

static int start_engine(ss_monitor_t *m)
{
	ss_engine_opts_t eo;
	ss_engine_opts_default(&eo);
	eo.timeout_ms = m->cfg->query_timeout_ms;
	eo.tries = m->cfg->tries;
	eo.max_inflight = m->cfg->max_inflight;
	eo.per_server = m->cfg->per_server;
	eo.has_source4 = m->cfg->has_source4;
	eo.source4 = m->cfg->source4;
	eo.has_source6 = m->cfg->has_source6;
	eo.source6 = m->cfg->source6;
	m->engine = ss_engine_new(m->loop, &eo);
	m->vendors = ss_vendor_cache_new();
	if (m->engine != NULL && m->cfg->has_resolver) {
		/* a recursive resolver takes fewer queries at once than an authority */
		ss_engine_set_server_limit(m->engine, &m->resolver, 20);
	}
	return m->engine && m->vendors ? 0 : SS_ENOMEM;
}

/* The zones of cfg, sorted; existing ones (by name) are reused from old. */
static int build_zones(ss_monitor_t *m, const ss_mon_config_t *cfg, int64_t now, mon_zone_t ***out)
{
	mon_zone_t **v = calloc(cfg->nzones ? cfg->nzones : 1, sizeof(*v));
	if (v == NULL) {
		return SS_ENOMEM;
	}
	int ret = 0;
	for (size_t i = 0; i < cfg->nzones && ret == 0; i++) {
		mon_zone_t *z = find_zone(m, cfg->zones[i].name);
		if (z != NULL) {
			z->cfg = &cfg->zones[i];
			v[i] = z;
		} else {
			ret = zone_open(m, &cfg->zones[i], now, &v[i]);
		}
	}
	if (ret != 0) {
		for (size_t i = 0; i < cfg->nzones; i++) {
			if (v[i] != NULL && find_zone(m, v[i]->name) != v[i]) {
				zone_free(v[i]);
			}
		}
		free(v);
		return ret;
	}
	qsort(v, cfg->nzones, sizeof(*v), cmp_zone);
	*out = v;
	return 0;
}

static void commit_cb(uv_timer_t *t)
{
	ss_monitor_t *m = t->data;
	if (m->store == NULL) {
		return;
	}
	bool ok = mon_store_commit(m->store) == 0;
	if (!ok) {
		m->counters.db_errors++;
		if (!m->db_broken) {
			say(m, NULL, "%s: cannot commit the history: %s", m->cfg->database,
			    mon_store_errmsg(m->store));
		}
	} else if (m->db_broken) {
		say(m, NULL, "%s: writing the history again", m->cfg->database);
	}
	m->db_broken = !ok;
}

static void retention_cb(uv_timer_t *t)
{
	ss_monitor_t *m = t->data;
	int64_t cutoff = mon_now_ms() - (int64_t)m->cfg->history_days * 86400000;
	if (m->store != NULL &&
	    (mon_store_retention(m->store, cutoff) != 0 || mon_store_commit(m->store) != 0)) {
		say(m, NULL, "%s: retention failed: %s", m->cfg->database,
		    mon_store_errmsg(m->store));
	}
}

static void schedule_all(ss_monitor_t *m, int64_t now)
{
	spread(m, now);
	for (size_t i = 0; i < m->nzones; i++) {
		mon_zone_t *z = m->zones[i];
		if (z->in_flight || z->in_heap) {
			continue;
		}
		/* A zone caught mid-change (restored) goes on fast at once. */
		schedule(m, z, z->st.converging ? now : next_slot(m, z, now - 1));
	}
	arm(m, now);
}

int ss_monitor_start(ss_monitor_t *m, ss_mon_error_t *err)
{
	int64_t now = mon_now_ms();
	int ret = mon_store_open(m->cfg->database, &m->store, err);
	ret = ret ? ret : find_resolver(m, m->cfg, err);
	if (ret == 0 && (ret = start_engine(m)) != 0) {
		mon_error_set(err, "", 0, 0, "out of memory");
	}
	if (ret == 0 && (ret = build_zones(m, m->cfg, now, &m->zones)) != 0) {
		mon_error_set(err, m->cfg->database, 0, 0, "cannot load the zones' state: %s",
		              ret == SS_ENOMEM ? "out of memory" : mon_store_errmsg(m->store));
	}
	if (ret != 0) {
		return ret;
	}
	m->nzones = m->cfg->nzones;
	uv_timer_init(m->loop, &m->tick);
	uv_timer_init(m->loop, &m->commit);
	uv_timer_init(m->loop, &m->retention);
	m->tick.data = m->commit.data = m->retention.data = m;
	m->timers_init = true;
	m->started = true;
	mon_store_commit(m->store);
	uv_timer_start(&m->commit, commit_cb, COMMIT_MS, COMMIT_MS);
	uv_timer_start(&m->retention, retention_cb, 0, RETENTION_MS);
	schedule_all(m, now);
	return 0;
}

/* ---- reload --------------------------------------------------------------------------- */

static bool addr_lists_equal(const ss_addr_t *a, size_t na, const ss_addr_t *b, size_t nb)
{
	if (na != nb) {
		return false;
	}
	for (size_t i = 0; i < na; i++) {
		if (!ss_addr_equal(&a[i], &b[i])) {
			return false;
		}
	}
	return true;
}

/* What needs a restart keeps its old value (in the new config too, so the
 * read API says what is in force). */
static void keep_fixed(ss_monitor_t *m, ss_mon_config_t *cfg)
{
	ss_mon_config_t *old = m->cfg;
	if (strcmp(old->database, cfg->database) != 0) {
		say(m, NULL, "reload: database changed: needs a restart; still writing %s",
		    old->database);
		char *t = cfg->database;
		cfg->database = old->database;
		old->database = t;
	}
	if (old->has_notify != cfg->has_notify ||
	    (old->has_notify && !ss_addr_equal(&old->notify, &cfg->notify))) {
		say(m, NULL, "reload: listen.notify changed: needs a restart; kept as it was");
		cfg->has_notify = old->has_notify;
		cfg->notify = old->notify;
	}
	if ((old->user == NULL) != (cfg->user == NULL) ||
	    (old->user && strcmp(old->user, cfg->user) != 0)) {
		say(m, NULL, "reload: user changed: needs a restart");
	}
	bool engine = old->max_inflight != cfg->max_inflight ||
	              old->per_server != cfg->per_server || old->has_source4 != cfg->has_source4 ||
	              old->has_source6 != cfg->has_source6 ||
	              (old->has_source4 && !ss_addr_equal(&old->source4, &cfg->source4)) ||
	              (old->has_source6 && !ss_addr_equal(&old->source6, &cfg->source6));
	if (engine) {
		say(m, NULL, "reload: source, max_inflight or per_server changed: needs a restart");
	}
}

/* Zones whose servers are given differently are discovered again. */
static void zone_changes(ss_monitor_t *m, const ss_mon_config_t *cfg)
{
	for (size_t i = 0; i < cfg->nzones; i++) {
		mon_zone_t *z = find_zone(m, cfg->zones[i].name);
		const ss_mon_zone_config_t *n = &cfg->zones[i];
		if (z != NULL && (!addr_lists_equal(z->cfg->ns, z->cfg->nns, n->ns, n->nns) ||
		                  !addr_lists_equal(z->cfg->primary, z->cfg->nprimary, n->primary,
		                                    n->nprimary))) {
			z->rediscover = true;
			discovered_free(z->discovered);
			z->discovered = NULL;
		}
	}
}

/* The zones the new list (sorted by name, from build_zones) lacks are
 * closed: a binary search each (a linear one made a reload of 40,000 zones
 * take 5 s of the loop). */
static void remove_zones(ss_monitor_t *m, mon_zone_t **keep, size_t nkeep, int64_t now)
{
	for (size_t i = 0; i < m->nzones; i++) {
		mon_zone_t *z = m->zones[i];
		if (nkeep > 0 && bsearch(&z, keep, nkeep, sizeof(*keep), cmp_zone) != NULL) {
			continue;
		}
		say(m, z->name, "no longer watched (its history stays)");
		zone_close(m, z, now);
		mon_zone_t **grown =
		    z->in_flight ? realloc(m->limbo, (m->nlimbo + 1) * sizeof(*grown)) : NULL;
		if (grown != NULL) {
			m->limbo = grown;
			m->limbo[m->nlimbo++] = z;
		} else {
			/* in flight and no room in limbo: its late result finds no zone */
			zone_free(z);
		}
	}
}

int ss_monitor_reload(ss_monitor_t *m, ss_mon_config_t *cfg)
{
	int64_t now = mon_now_ms();
	if (!m->started || m->stopping) {
		ss_mon_config_free(cfg);
		return SS_ESTATE;
	}
	keep_fixed(m, cfg);
	zone_changes(m, cfg);
	mon_zone_t **zones = NULL;
	int ret = build_zones(m, cfg, now, &zones);
	ret = ret ? ret : mon_alerts_configure(m->alerts, cfg->alert_command, cfg->alert_webhook);
	if (ret != 0) {
		say(m, NULL, "reload failed (%s): the old config stays in force", ss_strerror(ret));
		free(zones);
		ss_mon_config_free(cfg);
		return ret;
	}
	size_t before = m->nzones;
	remove_zones(m, zones, cfg->nzones, now);
	free(m->zones);
	m->zones = zones;
	m->nzones = cfg->nzones;
	if (cfg->has_resolver) {
		m->resolver = cfg->resolver;
	}
	ss_engine_set_timeout(m->engine, cfg->query_timeout_ms, cfg->tries);
	ss_mon_config_t *old = m->cfg;
	m->cfg = cfg;
	mon_notify_ctx_t ctx = {.allow = cfg->notify_allow,
	                        .nallow = cfg->nnotify_allow,
	                        .tsig = cfg->has_tsig ? &cfg->tsig : NULL,
	                        .known = zone_known,
	                        .arg = m};
	mon_listener_set_ctx(m->notify, &ctx);
	retire_runs(m);
	/* Back to even slots (zones changing fast keep their pace). */
	for (size_t i = 0; i < m->nzones; i++) {
		if (!m->zones[i]->st.converging) {
			heap_remove(m, m->zones[i]);
		}
	}
	schedule_all(m, now);
	ss_mon_config_free(old);
	say(m, NULL, "config reloaded: %zu zones (was %zu)", m->nzones, before);
	return 0;
}

int ss_monitor_subscribe(ss_monitor_t *m, ss_mon_event_cb cb, void *arg)
{
	listener_t *grown = realloc(m->listeners, (m->nlisteners + 1) * sizeof(*grown));
	if (grown == NULL) {
		return SS_ENOMEM;
	}
	m->listeners = grown;
	grown[m->nlisteners++] = (listener_t){cb, arg};
	return 0;
}

/* ---- stopping -------------------------------------------------------------------------- */

static void part_closed(void *arg)
{
	ss_monitor_t *m = arg;
	if (--m->pending_close == 0 && m->done != NULL) {
		void (*done)(void *) = m->done;
		m->done = NULL;
		done(m->done_arg);
	}
}

static void timer_closed(uv_handle_t *h)
{
	part_closed(h->data);
}

void ss_monitor_stop(ss_monitor_t *m, void (*done)(void *arg), void *arg)
{
	if (m->stopping) {
		return;
	}
	m->stopping = true;
	m->done = done;
	m->done_arg = arg;
	m->pending_close = 1; /* this function's own reference */
	for (mon_run_t *r = m->runs; r != NULL; r = r->next) {
		ss_check_abort(r->c);
	}
	if (m->engine != NULL) {
		ss_engine_cancel_all(m->engine);
	}
	for (mon_run_t *r = m->runs; r != NULL;) {
		mon_run_t *next = r->next;
		run_free(r);
		r = next;
	}
	m->runs = m->cur[0] = m->cur[1] = NULL;
	if (m->engine != NULL) {
		ss_engine_close(m->engine);
		m->engine = NULL;
	}
	if (m->store != NULL) {
		mon_store_commit(m->store);
		ss_mon_store_close(m->store);
		m->store = NULL;
	}
	m->pending_close += 2;
	mon_listener_close(m->notify, part_closed, m);
	mon_alerts_close(m->alerts, part_closed, m);
	if (m->timers_init) {
		m->pending_close += 3;
		uv_close((uv_handle_t *)&m->tick, timer_closed);
		uv_close((uv_handle_t *)&m->commit, timer_closed);
		uv_close((uv_handle_t *)&m->retention, timer_closed);
	}
	part_closed(m);
}

void ss_monitor_free(ss_monitor_t *m)
{
	if (m == NULL) {
		return;
	}
	for (mon_run_t *r = m->runs; r != NULL;) {
		mon_run_t *next = r->next;
		run_free(r);
		r = next;
	}
	for (size_t i = 0; i < m->nzones; i++) {
		zone_free(m->zones[i]);
	}
	for (size_t i = 0; i < m->nlimbo; i++) {
		zone_free(m->limbo[i]);
	}
	ss_vendor_cache_free(m->vendors);
	ss_mon_store_close(m->store);
	mon_listener_free(m->notify);
	mon_alerts_free(m->alerts);
	free(m->zones);
	free(m->limbo);
	free(m->heap);
	free(m->listeners);
	ss_mon_config_free(m->cfg);
	free(m);
}

/* ---- the read API ------------------------------------------------------------------------ */

const ss_mon_config_t *ss_monitor_config(const ss_monitor_t *m)
{
	return m->cfg;
}

size_t ss_monitor_zone_count(const ss_monitor_t *m)
{
	return m->nzones;
}

const ss_mon_zone_t *ss_monitor_zone(const ss_monitor_t *m, size_t i)
{
	return i < m->nzones ? &m->zones[i]->view : NULL;
}

const ss_mon_zone_t *ss_monitor_zone_find(const ss_monitor_t *m, const char *name)
{
	char *norm = NULL;
	if (mon_zone_name_norm(name, &norm) != 0) {
		return NULL;
	}
	mon_zone_t *z = find_zone(m, norm);
	free(norm);
	return z ? &z->view : NULL;
}

const ss_mon_counters_t *ss_monitor_counters(ss_monitor_t *m)
{
	if (m->engine != NULL) {
		ss_engine_stats_t st;
		ss_engine_stats(m->engine, &st);
		m->counters.queries = st.queries;
	}
	mon_alerts_counts(m->alerts, &m->counters.alerts_sent, &m->counters.alerts_failed);
	return &m->counters;
}

int64_t ss_monitor_now_ms(const ss_monitor_t *m)
{
	(void)m;
	return mon_now_ms();
}

bool ss_monitor_healthy(const ss_monitor_t *m)
{
	return m->started && !m->stopping && !m->db_broken;
}

ss_mon_store_t *ss_monitor_store(ss_monitor_t *m)
{
	return m->store;
}
