/*
 * The monitor's state machine: previous state + one check result + now ->
 * new state + events. Pure: no I/O, no clock, so every transition is unit
 * tested from synthetic results. The verdicts are the check model's; what
 * is decided here is only what needs time: when a serial was first seen,
 * when each server followed, and how long a server has been behind (the
 * serial-behind finding graded by lag_warning / lag_critical).
 */
#include <stdlib.h>
#include <string.h>

#include <soasync/error.h>
#include <soasync/serial.h>

#include "mon_int.h"

/* ---- events ---------------------------------------------------------------- */

int mon_events_push(mon_events_t *ev, const ss_mon_event_t *e)
{
	if (ev->n == ev->cap) {
		size_t ncap = ev->cap ? ev->cap * 2 : 16;
		ss_mon_event_t *grown = realloc(ev->v, ncap * sizeof(*grown));
		if (grown == NULL) {
			return SS_ENOMEM;
		}
		ev->v = grown;
		ev->cap = ncap;
	}
	ss_mon_event_t *d = &ev->v[ev->n];
	*d = *e;
	d->name = e->name ? strdup(e->name) : NULL;
	d->message = e->message ? strdup(e->message) : NULL;
	if ((e->name && !d->name) || (e->message && !d->message)) {
		free((char *)d->name);
		free((char *)d->message);
		return SS_ENOMEM;
	}
	ev->n++;
	return 0;
}

void mon_events_clear(mon_events_t *ev)
{
	for (size_t i = 0; i < ev->n; i++) {
		free((char *)ev->v[i].name);
		free((char *)ev->v[i].message);
	}
	free(ev->v);
	memset(ev, 0, sizeof(*ev));
}

ss_mon_event_t mon_event(ss_mon_event_kind_t kind, int64_t now, const char *zone)
{
	ss_mon_event_t e = {
	    .kind = kind, .time_ms = now, .zone = zone, .lag_ms = -1, .code = SS_F_COUNT};
	return e;
}

static void at_server(ss_mon_event_t *e, const ss_addr_t *a, const char *name)
{
	e->has_address = true;
	e->address = *a;
	e->name = name;
}

static void on_serial(ss_mon_event_t *e, uint32_t serial)
{
	e->has_serial = true;
	e->serial = serial;
}

/* ---- state ----------------------------------------------------------------- */

static void servers_free(ss_mon_server_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)s[i].name);
	}
	free(s);
}

static void serial_clear(mon_serial_t *o)
{
	for (size_t i = 0; i < o->nw; i++) {
		free(o->w[i].name);
	}
	free(o->w);
	memset(o, 0, sizeof(*o));
}

void mon_zstate_clear(mon_zstate_t *st)
{
	servers_free(st->servers, st->nservers);
	for (size_t i = 0; i < st->nopen; i++) {
		serial_clear(&st->open[i]);
	}
	free(st->open);
	memset(st, 0, sizeof(*st));
}

ss_status_t mon_status_of(const ss_finding_t *f, size_t n)
{
	ss_status_t st = SS_STATUS_OK;
	for (size_t i = 0; i < n; i++) {
		if (f[i].severity != SS_SEV_INFO && (int)f[i].severity > (int)st) {
			st = (ss_status_t)f[i].severity;
		}
	}
	return st;
}

static const ss_mon_server_t *find_server(const ss_mon_server_t *s, size_t n, const ss_addr_t *a)
{
	for (size_t i = 0; i < n; i++) {
		if (ss_addr_equal(&s[i].address, a)) {
			return &s[i];
		}
	}
	return NULL;
}

/* A server that must follow the primary: it counts and is not the primary. */
static bool follower(const ss_mon_server_t *s)
{
	return ss_verdict_counts(s->verdict) && !s->is_primary;
}

/* serves serial or a later one */
static bool serves(const ss_mon_server_t *s, uint32_t serial)
{
	if (!s->has_serial) {
		return false;
	}
	ss_serial_order_t o = ss_serial_cmp(s->serial, serial);
	return o == SS_SERIAL_EQUAL || o == SS_SERIAL_GREATER;
}

/* The servers of this check, with what the previous ones carried over. */
static int build_servers(const mon_zstate_t *st, const ss_zone_result_t *res, ss_mon_server_t **out)
{
	const ss_zone_obs_t *o = &res->obs;
	ss_mon_server_t *v = calloc(o->nservers, sizeof(*v));
	if (v == NULL) {
		return SS_ENOMEM;
	}
	for (size_t i = 0; i < o->nservers; i++) {
		const ss_server_obs_t *s = &o->servers[i];
		const ss_mon_server_t *old = find_server(st->servers, st->nservers, &s->addr);
		ss_mon_server_t *d = &v[i];
		d->address = s->addr;
		d->is_primary = s->primary_role; /* taken as the primary, not only named */
		d->verdict = s->verdict;
		d->has_serial = s->has_soa;
		d->serial = s->soa.serial;
		d->behind = ss_verdict_counts(s->verdict) && !ss_verdict_current(s->verdict);
		d->has_expire = s->has_expire;
		d->expire_s = s->expire_s;
		d->last_lag_ms = -1;
		if (old != NULL) {
			d->behind_since_ms = old->behind_since_ms;
			d->unreachable_since_ms = old->unreachable_since_ms;
			d->last_converged_ms = old->last_converged_ms;
			d->last_lag_ms = old->last_lag_ms;
		}
		if (s->name != NULL && (d->name = strdup(s->name)) == NULL) {
			servers_free(v, i + 1);
			return SS_ENOMEM;
		}
	}
	*out = v;
	return 0;
}

/* ---- serials ----------------------------------------------------------------- */

static int open_serial(mon_zstate_t *st, uint32_t serial, int64_t first_seen, ss_mon_via_t via,
                       const ss_mon_server_t *srv, size_t n)
{
	mon_serial_t *grown = realloc(st->open, (st->nopen + 1) * sizeof(*grown));
	if (grown == NULL) {
		return SS_ENOMEM;
	}
	st->open = grown;
	mon_serial_t *o = &grown[st->nopen];
	memset(o, 0, sizeof(*o));
	o->serial = serial;
	o->first_seen_ms = first_seen;
	o->via = via;
	if (n > 0 && (o->w = calloc(n, sizeof(*o->w))) == NULL) {
		return SS_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (!follower(&srv[i])) {
			continue;
		}
		mon_wait_t *w = &o->w[o->nw++];
		w->addr = srv[i].address;
		if (srv[i].name != NULL && (w->name = strdup(srv[i].name)) == NULL) {
			serial_clear(o);
			return SS_ENOMEM;
		}
	}
	st->nopen++;
	return 0;
}

static int give_up(mon_serial_t *o, int64_t now, const char *zone, mon_events_t *ev)
{
	int ret = 0;
	for (size_t i = 0; i < o->nw && ret == 0; i++) {
		mon_wait_t *w = &o->w[i];
		if (w->converged || w->never) {
			continue;
		}
		w->never = true;
		ss_mon_event_t e = mon_event(SS_MON_EV_NEVER, now, zone);
		on_serial(&e, o->serial);
		at_server(&e, &w->addr, w->name);
		ret = mon_events_push(ev, &e);
	}
	return ret;
}

static void drop_open(mon_zstate_t *st, size_t i)
{
	serial_clear(&st->open[i]);
	memmove(&st->open[i], &st->open[i + 1], (st->nopen - i - 1) * sizeof(*st->open));
	st->nopen--;
}

static int close_all(mon_zstate_t *st, int64_t now, const char *zone, mon_events_t *ev)
{
	int ret = 0;
	while (st->nopen > 0 && ret == 0) {
		ret = give_up(&st->open[0], now, zone, ev);
		drop_open(st, 0);
	}
	return ret;
}

int mon_state_close(mon_zstate_t *st, int64_t now_ms, const char *zone, mon_events_t *ev)
{
	st->converging = false;
	return close_all(st, now_ms, zone, ev);
}

/* A NOTIFY that came before this check announced this serial: it carried
 * none, this one or a newer one. */
static bool by_notify(const mon_input_t *in, uint32_t serial)
{
	return in->notify_ms > 0 && (!in->has_notify_serial ||
	                             ss_serial_cmp(in->notify_serial, serial) != SS_SERIAL_LESS);
}

static int publish(mon_zstate_t *st, uint32_t serial, int64_t first_seen, ss_mon_via_t via,
                   const ss_mon_server_t *srv, size_t n, const char *zone, mon_events_t *ev)
{
	st->has_reference = true;
	st->reference = serial;
	st->reference_since_ms = first_seen;
	st->reference_via = via;
	ss_mon_event_t e = mon_event(SS_MON_EV_SERIAL, first_seen, zone);
	on_serial(&e, serial);
	e.via = via;
	int ret = mon_events_push(ev, &e);
	return ret ? ret : open_serial(st, serial, first_seen, via, srv, n);
}

/* The reference serial: new (poll or NOTIFY), the first one, or backwards. */
static int track_reference(mon_zstate_t *st, const ss_zone_result_t *res, const mon_input_t *in,
                           const ss_mon_server_t *srv, size_t n, const char *zone, mon_events_t *ev)
{
	int64_t now = in->now_ms;
	if (!res->has_reference) {
		return 0;
	}
	uint32_t r = res->reference_serial;
	if (!st->has_reference) {
		return publish(st, r, now, SS_MON_VIA_START, srv, n, zone, ev);
	}
	switch (ss_serial_cmp(r, st->reference)) {
	case SS_SERIAL_EQUAL:
		return 0;
	case SS_SERIAL_GREATER:
		if (by_notify(in, r)) {
			return publish(st, r, in->notify_ms, SS_MON_VIA_NOTIFY, srv, n, zone, ev);
		}
		return publish(st, r, now, SS_MON_VIA_POLL, srv, n, zone, ev);
	default:
		break;
	}
	/* Backwards (or 2^31 away): what was waited for will not come. */
	ss_mon_event_t e = mon_event(SS_MON_EV_REGRESSION, now, zone);
	on_serial(&e, r);
	e.old_serial = st->reference;
	int ret = close_all(st, now, zone, ev);
	ret = ret ? ret : mon_events_push(ev, &e);
	return ret ? ret : publish(st, r, now, SS_MON_VIA_POLL, srv, n, zone, ev);
}

static int waiter_step(mon_serial_t *o, mon_wait_t *w, ss_mon_server_t *srv, size_t n, int64_t now,
                       const char *zone, mon_events_t *ev)
{
	ss_mon_server_t *s = (ss_mon_server_t *)find_server(srv, n, &w->addr);
	ss_mon_event_t e = mon_event(SS_MON_EV_CONVERGED, now, zone);
	on_serial(&e, o->serial);
	at_server(&e, &w->addr, w->name);
	if (s == NULL) {
		/* Rediscovery dropped the address: nobody waits for it any more. */
		w->never = true;
		e.kind = SS_MON_EV_NEVER;
		return mon_events_push(ev, &e);
	}
	if (!serves(s, o->serial)) {
		return 0;
	}
	w->converged = true;
	w->converged_ms = now;
	e.lag_ms = now - o->first_seen_ms;
	e.via = o->via;
	s->last_converged_ms = now;
	s->last_lag_ms = e.lag_ms;
	return mon_events_push(ev, &e);
}

static bool pending(const mon_serial_t *o)
{
	for (size_t i = 0; i < o->nw; i++) {
		if (!o->w[i].converged && !o->w[i].never) {
			return true;
		}
	}
	return false;
}

static int timeout_step(mon_serial_t *o, const mon_input_t *in, const char *zone, mon_events_t *ev)
{
	if (o->timed_out ||
	    in->now_ms - o->first_seen_ms < (int64_t)in->policy.converge_timeout_ms) {
		return 0;
	}
	o->timed_out = true;
	int ret = 0;
	for (size_t i = 0; i < o->nw && ret == 0; i++) {
		if (o->w[i].converged || o->w[i].never) {
			continue;
		}
		ss_mon_event_t e = mon_event(SS_MON_EV_CONVERGE_TIMEOUT, in->now_ms, zone);
		on_serial(&e, o->serial);
		at_server(&e, &o->w[i].addr, o->w[i].name);
		ret = mon_events_push(ev, &e);
	}
	return ret;
}

/* Who followed which open serial; time-outs; serials nobody waits for closed. */
static int track_convergence(mon_zstate_t *st, ss_mon_server_t *srv, size_t n,
                             const mon_input_t *in, const char *zone, mon_events_t *ev)
{
	int ret = 0;
	for (size_t k = 0; k < st->nopen && ret == 0; k++) {
		mon_serial_t *o = &st->open[k];
		for (size_t i = 0; i < o->nw && ret == 0; i++) {
			if (!o->w[i].converged && !o->w[i].never) {
				ret = waiter_step(o, &o->w[i], srv, n, in->now_ms, zone, ev);
			}
		}
		ret = ret ? ret : timeout_step(o, in, zone, ev);
	}
	for (size_t k = st->nopen; k-- > 0;) {
		if (!pending(&st->open[k])) {
			drop_open(st, k);
		}
	}
	while (ret == 0 && st->nopen > MON_MAX_OPEN) {
		ret = give_up(&st->open[0], in->now_ms, zone, ev);
		drop_open(st, 0);
	}
	st->converging = false;
	for (size_t k = 0; k < st->nopen; k++) {
		st->converging = st->converging || !st->open[k].timed_out;
	}
	return ret;
}

/* Since when each server has lacked a serial (its lag). */
static void behind_since(const mon_zstate_t *st, ss_mon_server_t *srv, size_t n, int64_t now)
{
	for (size_t i = 0; i < n; i++) {
		ss_mon_server_t *s = &srv[i];
		int64_t since = 0;
		for (size_t k = 0; k < st->nopen && s->behind; k++) {
			const mon_serial_t *o = &st->open[k];
			for (size_t j = 0; j < o->nw; j++) {
				const mon_wait_t *w = &o->w[j];
				if (ss_addr_equal(&w->addr, &s->address) && !w->converged &&
				    !w->never && (since == 0 || o->first_seen_ms < since)) {
					since = o->first_seen_ms;
				}
			}
		}
		if (since == 0 && s->behind && s->verdict == SS_VERDICT_BEHIND) {
			/* behind, but on nothing waited for (a new address): from now */
			since = s->behind_since_ms ? s->behind_since_ms : now;
		}
		s->behind_since_ms = since;
	}
}

/* ---- servers answering or not ----------------------------------------------- */

static const char *why_unreachable(const ss_server_obs_t *s)
{
	return s->detail ? s->detail : ss_strerror(s->error);
}

static int track_reachability(ss_mon_server_t *srv, const ss_zone_result_t *res, int64_t now,
                              const char *zone, mon_events_t *ev)
{
	int ret = 0;
	for (size_t i = 0; i < res->obs.nservers && ret == 0; i++) {
		ss_mon_server_t *s = &srv[i];
		bool down = s->verdict == SS_VERDICT_UNREACHABLE;
		if (down == (s->unreachable_since_ms != 0)) {
			continue;
		}
		ss_mon_event_t e =
		    mon_event(down ? SS_MON_EV_UNREACHABLE : SS_MON_EV_REACHABLE, now, zone);
		at_server(&e, &s->address, s->name);
		if (down) {
			e.message = why_unreachable(&res->obs.servers[i]);
			s->unreachable_since_ms = now;
		} else {
			e.lag_ms = now - s->unreachable_since_ms;
			s->unreachable_since_ms = 0;
		}
		ret = mon_events_push(ev, &e);
	}
	return ret;
}

/* ---- findings and status ------------------------------------------------------ */

static ss_severity_t lag_grade(int64_t lag, uint64_t warning_ms, uint64_t critical_ms)
{
	if (lag >= (int64_t)critical_ms) {
		return SS_SEV_CRITICAL;
	}
	return lag >= (int64_t)warning_ms ? SS_SEV_WARNING : SS_SEV_INFO;
}

ss_severity_t ss_mon_lag_severity(const ss_mon_config_t *cfg, int64_t lag_ms)
{
	return lag_grade(lag_ms, cfg->lag_warning_ms, cfg->lag_critical_ms);
}

/* serial-behind as the check gives it, graded by how long each server lags. */
static void grade(ss_zone_result_t *res, const ss_mon_server_t *srv, size_t n,
                  const mon_input_t *in)
{
	for (size_t i = 0; i < res->nfindings; i++) {
		ss_finding_t *f = &res->findings[i];
		if (f->id != SS_F_SERIAL_BEHIND) {
			continue;
		}
		int64_t lag = 0;
		for (size_t k = 0; k < f->nservers; k++) {
			const ss_mon_server_t *s = find_server(srv, n, &f->servers[k]);
			int64_t l = s ? ss_mon_lag_ms(s, in->now_ms) : 0;
			lag = l > lag ? l : lag;
		}
		f->severity = lag_grade(lag, in->policy.lag_warning_ms, in->policy.lag_critical_ms);
	}
	bool failed = res->status == SS_STATUS_UNKNOWN && res->nfindings == 0;
	res->status = failed ? SS_STATUS_UNKNOWN : mon_status_of(res->findings, res->nfindings);
}

static int track_findings(mon_zstate_t *st, const ss_zone_result_t *res, int64_t now,
                          const char *zone, mon_events_t *ev)
{
	uint8_t now_sev[SS_F_COUNT] = {0};
	const ss_finding_t *first[SS_F_COUNT] = {NULL};
	for (size_t i = 0; i < res->nfindings; i++) {
		const ss_finding_t *f = &res->findings[i];
		if (f->id >= SS_F_COUNT || f->severity == SS_SEV_INFO) {
			continue;
		}
		if (first[f->id] == NULL || (int)f->severity + 1 > now_sev[f->id]) {
			first[f->id] = f;
			now_sev[f->id] = (uint8_t)(f->severity + 1);
		}
	}
	int ret = 0;
	for (int c = 0; c < SS_F_COUNT && ret == 0; c++) {
		if (now_sev[c] == st->finding[c]) {
			continue;
		}
		ss_mon_event_t e = mon_event(
		    now_sev[c] ? SS_MON_EV_FINDING_OPENED : SS_MON_EV_FINDING_CLOSED, now, zone);
		e.code = (ss_fcode_t)c;
		e.status = res->status;
		if (now_sev[c]) {
			e.severity = (ss_severity_t)(now_sev[c] - 1);
			e.message = first[c]->message;
			if (first[c]->nservers == 1) {
				at_server(&e, &first[c]->servers[0], NULL);
			}
		}
		st->finding[c] = now_sev[c];
		ret = mon_events_push(ev, &e);
	}
	return ret;
}

static int track_status(mon_zstate_t *st, ss_status_t status, int64_t now, const char *zone,
                        mon_events_t *ev)
{
	if (st->status_since_ms == 0) {
		st->status_since_ms = now;
	}
	if (status == st->status) {
		return 0;
	}
	ss_mon_event_t e = mon_event(SS_MON_EV_STATUS, now, zone);
	e.status = status;
	e.previous = st->status;
	st->status = status;
	st->status_since_ms = now;
	return mon_events_push(ev, &e);
}

int mon_state_step(mon_zstate_t *st, ss_zone_result_t *res, const mon_input_t *in, const char *zone,
                   mon_events_t *ev)
{
	int ret = 0;
	int64_t now = in->now_ms;
	/* Without any server (discovery failed) nothing is known about the
	 * servers: their state and the serials waited for stay as they were. */
	if (res->obs.nservers > 0) {
		ss_mon_server_t *srv = NULL;
		size_t n = res->obs.nservers;
		ret = build_servers(st, res, &srv);
		ret = ret ? ret : track_reference(st, res, in, srv, n, zone, ev);
		ret = ret ? ret : track_convergence(st, srv, n, in, zone, ev);
		if (ret == 0) {
			behind_since(st, srv, n, now);
			ret = track_reachability(srv, res, now, zone, ev);
		}
		if (srv != NULL) {
			servers_free(st->servers, st->nservers);
			st->servers = srv;
			st->nservers = n;
		}
	}
	grade(res, st->servers, st->nservers, in);
	ret = ret ? ret : track_findings(st, res, now, zone, ev);
	ret = ret ? ret : track_status(st, res->status, now, zone, ev);
	st->checked = true;
	return ret;
}

int64_t ss_mon_lag_ms(const ss_mon_server_t *s, int64_t now_ms)
{
	if (!s->behind || s->behind_since_ms == 0 || now_ms < s->behind_since_ms) {
		return 0;
	}
	return now_ms - s->behind_since_ms;
}
