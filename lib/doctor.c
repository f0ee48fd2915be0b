#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/doctor.h>
#include <soasync/error.h>
#include <soasync/notify.h>
#include <soasync/serial.h>
#include <soasync/vendor.h>

#include "util_strbuf.h"

const char *ss_step_name(ss_step_t step)
{
	static const char *const names[SS_DOCTOR_NSTEPS] = {
	    "serials", "published", "serial-raised", "direction", "source",
	    "notify",  "transfer",  "converge",      "guard",
	};
	return (unsigned)step < SS_DOCTOR_NSTEPS ? names[step] : "unknown";
}

const char *ss_step_status_name(ss_step_status_t st)
{
	static const char *const names[] = {"pending", "ok",      "problem", "fixed",
	                                    "failed",  "skipped", "advice",  "blocked"};
	return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "unknown";
}

const char *ss_action_name(ss_action_kind_t k)
{
	static const char *const names[] = {"reload", "bump", "notify", "skipped"};
	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
}

const char *ss_doctor_verdict_name(ss_doctor_verdict_t v)
{
	static const char *const names[] = {"converged", "not-converged", "file-not-served",
	                                    "no-reference"};
	return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "unknown";
}

/* ---- helpers -------------------------------------------------------------- */

static const ss_server_obs_t *server_at(const ss_zone_result_t *r, const ss_addr_t *a)
{
	for (size_t i = 0; i < r->obs.nservers; i++) {
		if (ss_addr_equal(&r->obs.servers[i].addr, a)) {
			return &r->obs.servers[i];
		}
	}
	return NULL;
}

static const ss_finding_t *find(const ss_zone_result_t *r, ss_fcode_t code)
{
	for (size_t i = 0; i < r->nfindings; i++) {
		if (r->findings[i].id == code) {
			return &r->findings[i];
		}
	}
	return NULL;
}

/* "ns2.example. (192.0.2.2)", or the address alone when the name is unknown. */
/* The label of address a, named as in res. */
static void label(ss_strbuf_t *b, const ss_zone_result_t *res, const ss_addr_t *a)
{
	const ss_server_obs_t *s = server_at(res, a);
	ss_strbuf_server(b, a, s ? s->name : NULL);
}

/* What a server answered, when it is not the reference serial. */
static void describe(ss_strbuf_t *b, const ss_server_obs_t *s)
{
	const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, s->rcode);
	if (s->has_soa) {
		ss_strbuf_printf(b, " serves %" PRIu32, s->soa.serial);
	} else if (s->verdict == SS_VERDICT_UNREACHABLE || s->verdict == SS_VERDICT_LOCAL_ERROR) {
		ss_strbuf_printf(b, ": %s", ss_strerror(s->error));
	} else if (s->detail != NULL) {
		ss_strbuf_printf(b, ": %s", s->detail);
	} else {
		ss_strbuf_printf(b, ": %s", l ? l->name : "no answer");
	}
}

/* "2 s", "1.5 s". */
static const char *secs(char *buf, size_t len, uint64_t ms)
{
	if (ms % 1000 == 0) {
		snprintf(buf, len, "%" PRIu64 " s", ms / 1000);
	} else {
		snprintf(buf, len, "%.1f s", (double)ms / 1000.0);
	}
	return buf;
}

static int set_stepv(ss_doctor_t *d, ss_step_t i, ss_step_status_t st, const ss_addr_t *servers,
                     size_t n, const char *fmt, va_list ap)
{
	ss_doctor_step_t *s = &d->steps[i];
	ss_addr_t *copy = n ? malloc(n * sizeof(*copy)) : NULL;
	char *text = NULL;
	if ((n && copy == NULL) || vasprintf(&text, fmt, ap) < 0) {
		free(copy);
		return SS_ENOMEM;
	}
	if (n) {
		memcpy(copy, servers, n * sizeof(*copy));
	}
	free(s->observed);
	free(s->servers);
	s->observed = text;
	s->servers = copy;
	s->nservers = n;
	s->status = st;
	return 0;
}

static int set_step(ss_doctor_t *d, ss_step_t i, ss_step_status_t st, const ss_addr_t *servers,
                    size_t n, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int set_step(ss_doctor_t *d, ss_step_t i, ss_step_status_t st, const ss_addr_t *servers,
                    size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int ret = set_stepv(d, i, st, servers, n, fmt, ap);
	va_end(ap);
	return ret;
}

/* Set step i from a string buffer (taken). */
static int set_step_buf(ss_doctor_t *d, ss_step_t i, ss_step_status_t st, const ss_addr_t *servers,
                        size_t n, ss_strbuf_t *b)
{
	int ret =
	    ss_strbuf_ok(b) ? set_step(d, i, st, servers, n, "%s", b->s ? b->s : "") : SS_ENOMEM;
	ss_strbuf_free(b);
	return ret;
}

static int blocked(ss_doctor_t *d, ss_step_t i)
{
	return set_step(d, i, SS_STEP_BLOCKED, NULL, 0,
	                "not possible: no server answered with the zone's SOA, so there is no "
	                "reference serial");
}

/* A server that counts and does not serve the reference (and its data,
 * with content). */
static bool off_reference(const ss_server_obs_t *s, bool content)
{
	return ss_verdict_counts(s->verdict) &&
	       (s->verdict != SS_VERDICT_AT_REFERENCE || (content && s->content_differs));
}

/* The servers that count and are not converged (at most cap). */
static size_t unconverged(const ss_zone_result_t *res, bool content, ss_addr_t *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < res->obs.nservers && n < cap; i++) {
		if (off_reference(&res->obs.servers[i], content)) {
			out[n++] = res->obs.servers[i].addr;
		}
	}
	return n;
}

static bool serves_at_least(const ss_server_obs_t *s, uint32_t serial)
{
	if (s == NULL || !s->has_soa) {
		return false;
	}
	ss_serial_order_t o = ss_serial_cmp(s->soa.serial, serial);
	return o == SS_SERIAL_EQUAL || o == SS_SERIAL_GREATER;
}

static const ss_doctor_target_t *target_of(const ss_doctor_t *d, const ss_addr_t *a)
{
	for (size_t i = 0; i < d->ntargets; i++) {
		if (ss_addr_equal(&d->targets[i].addr, a)) {
			return &d->targets[i];
		}
	}
	return NULL;
}

static bool acked(const ss_doctor_target_t *t)
{
	return t->sent && t->answered && t->answer.status == SS_NOTIFY_ACKED;
}

/* ---- the run ---------------------------------------------------------------- */

void ss_doctor_init(ss_doctor_t *d, const ss_doctor_opts_t *o)
{
	memset(d, 0, sizeof(*d));
	d->o = *o;
	d->verdict = SS_DOCTOR_NOT_CONVERGED;
}

void ss_doctor_clear(ss_doctor_t *d)
{
	for (int i = 0; i < SS_DOCTOR_NSTEPS; i++) {
		free(d->steps[i].observed);
		free(d->steps[i].servers);
	}
	for (size_t i = 0; i < d->nactions; i++) {
		free(d->actions[i].target);
		free(d->actions[i].result);
	}
	free(d->actions);
	ss_zone_result_clear(&d->own);
	free(d->zone);
	free(d->file_seen);
	free(d->targets);
	memset(d, 0, sizeof(*d));
}

int ss_doctor_action(ss_doctor_t *d, ss_action_kind_t kind, const char *target, const char *fmt,
                     ...)
{
	ss_doctor_action_t *grown = realloc(d->actions, (d->nactions + 1) * sizeof(*grown));
	if (grown == NULL) {
		return SS_ENOMEM;
	}
	d->actions = grown;
	ss_doctor_action_t *a = &d->actions[d->nactions];
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&a->result, fmt, ap);
	va_end(ap);
	a->target = strdup(target ? target : "");
	if (n < 0 || a->target == NULL) {
		free(a->target);
		if (n >= 0) {
			free(a->result);
		}
		return SS_ENOMEM;
	}
	a->kind = kind;
	d->nactions++;
	return 0;
}

/* ---- 1: serials --------------------------------------------------------------- */

int ss_doctor_serials(ss_doctor_t *d, const ss_zone_result_t *res)
{
	const ss_zone_obs_t *o = &res->obs;
	ss_addr_t *off = calloc(o->nservers + 1, sizeof(*off));
	ss_strbuf_t b = SS_STRBUF_INIT;
	char pa[SS_ADDR_STRLEN];
	size_t at = 0, total = 0;
	free(d->zone);
	d->zone = strdup(o->zone_str ? o->zone_str : "");
	d->has_reference = res->has_reference;
	if (off == NULL || d->zone == NULL) {
		free(off);
		return SS_ENOMEM;
	}
	for (size_t i = 0; i < o->nservers; i++) {
		total += ss_verdict_counts(o->servers[i].verdict);
		at += o->servers[i].verdict == SS_VERDICT_AT_REFERENCE;
	}
	/* Every address that counts and is off the reference is a problem,
	 * whatever its finding (one this host could not ask included). */
	size_t noff = unconverged(res, false, off, o->nservers);
	bool problem = !res->has_reference || noff > 0;
	if (res->has_reference) {
		ss_strbuf_printf(&b, "%zu of %zu addresses serve the reference %" PRIu32 " (%s)",
		                 at, total, res->reference_serial,
		                 res->has_primary ? ss_addr_format(&res->primary, pa, sizeof(pa))
		                                  : "highest, no primary");
	} else {
		ss_strbuf_printf(&b, "no server answered with the zone's SOA");
	}
	for (size_t i = 0; i < noff; i++) {
		ss_strbuf_printf(&b, "; ");
		label(&b, res, &off[i]);
		describe(&b, server_at(res, &off[i]));
	}
	int ret =
	    set_step_buf(d, SS_STEP_SERIALS, problem ? SS_STEP_PROBLEM : SS_STEP_OK, off, noff, &b);
	free(off);
	return ret;
}

/* ---- 2 and 3: the zone file ----------------------------------------------------- */

/* A repair of step i may follow: remember what was seen (its finding's words
 * and servers); the probe the repair replaces takes them along. */
static bool repair_pending(ss_doctor_t *d, ss_step_t i, const ss_finding_t *f)
{
	free(d->file_seen);
	d->file_seen = strdup(f->message);
	return d->file_seen != NULL &&
	       set_step(d, i, SS_STEP_PENDING, f->servers, f->nservers, "%s", f->message) == 0;
}

static int repair_end(ss_doctor_t *d, ss_step_t i, bool repaired, const char *done,
                      const char *failed)
{
	ss_doctor_step_t *s = &d->steps[i];
	ss_addr_t *servers = s->servers;
	size_t n = s->nservers;
	s->servers = NULL; /* set_step frees the old list: hand it over */
	s->nservers = 0;
	int ret = set_step(d, i, repaired ? SS_STEP_FIXED : SS_STEP_FAILED, servers, n, "%s; %s",
	                   d->file_seen ? d->file_seen : "", repaired ? done : failed);
	free(servers);
	return ret;
}

bool ss_doctor_published_begin(ss_doctor_t *d, const ss_zone_result_t *res, uint32_t *want)
{
	const ss_finding_t *f = find(res, SS_F_ZONEFILE_NOT_PUBLISHED);
	if (d->o.zonefile == NULL) {
		set_step(d, SS_STEP_PUBLISHED, SS_STEP_SKIPPED, NULL, 0, "no --zonefile");
	} else if (!d->has_reference) {
		blocked(d, SS_STEP_PUBLISHED);
	} else if (f == NULL) {
		set_step(d, SS_STEP_PUBLISHED, SS_STEP_OK, NULL, 0,
		         "the primary serves the zone file's serial %" PRIu32 " or later",
		         res->obs.zonefile_serial);
	} else if (!d->o.fix) {
		set_step(d, SS_STEP_PUBLISHED, SS_STEP_PROBLEM, f->servers, f->nservers,
		         "%s (--fix --reload-cmd CMD loads it)", f->message);
	} else {
		*want = res->obs.zonefile_serial;
		return repair_pending(d, SS_STEP_PUBLISHED, f);
	}
	return false;
}

int ss_doctor_published_end(ss_doctor_t *d, bool repaired)
{
	return repair_end(d, SS_STEP_PUBLISHED, repaired, "reloaded: the primary serves it now",
	                  "still not served");
}

bool ss_doctor_raised_begin(ss_doctor_t *d, const ss_zone_result_t *res, uint32_t *above)
{
	const ss_finding_t *nb = find(res, SS_F_SERIAL_NOT_BUMPED);
	const ss_finding_t *f = nb ? nb : find(res, SS_F_SAME_SERIAL_DIFFERENT_DATA);
	if (d->o.zonefile == NULL && !d->o.content) {
		set_step(d, SS_STEP_RAISED, SS_STEP_SKIPPED, NULL, 0, "no --zonefile or --content");
	} else if (!d->has_reference) {
		blocked(d, SS_STEP_RAISED);
	} else if (f == NULL) {
		set_step(d, SS_STEP_RAISED, SS_STEP_OK, NULL, 0,
		         "no data changed without a serial change");
	} else if (!d->o.fix || d->o.zonefile == NULL) {
		set_step(d, SS_STEP_RAISED, SS_STEP_PROBLEM, f->servers, f->nservers, "%s%s",
		         f->message,
		         d->o.zonefile ? " (--fix raises the serial in the file and reloads it)"
		                       : " (give --zonefile FILE to let --fix raise the serial)");
	} else {
		*above = res->reference_serial;
		return repair_pending(d, SS_STEP_RAISED, f);
	}
	return false;
}

int ss_doctor_raised_end(ss_doctor_t *d, bool repaired)
{
	return repair_end(d, SS_STEP_RAISED, repaired, "serial raised and reloaded",
	                  "not repaired");
}

/* ---- 4 and 5: direction, source ----------------------------------------------- */

int ss_doctor_direction(ss_doctor_t *d, const ss_zone_result_t *res)
{
	static const ss_fcode_t codes[] = {SS_F_PRIMARY_BEHIND, SS_F_SERIAL_UNDEFINED,
	                                   SS_F_SERIAL_SANITY};
	if (!d->has_reference) {
		return blocked(d, SS_STEP_DIRECTION);
	}
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const ss_finding_t *f = find(res, codes[i]);
		if (f != NULL) {
			/* Lowering serials is the operator's call: doctor only plans it. */
			return set_step(d, SS_STEP_DIRECTION, SS_STEP_PROBLEM, f->servers,
			                f->nservers, "%s; %s", f->message, f->fix ? f->fix : "");
		}
	}
	return set_step(d, SS_STEP_DIRECTION, SS_STEP_OK, NULL, 0,
	                "no server is ahead of the reference; the serial looks sane");
}

int ss_doctor_source(ss_doctor_t *d, const ss_zone_result_t *res)
{
	const ss_finding_t *f = find(res, SS_F_SECONDARY_WRONG_SOURCE);
	if (d->o.ncandidates == 0) {
		return set_step(d, SS_STEP_SOURCE, SS_STEP_SKIPPED, NULL, 0,
		                "no --candidate-primary");
	}
	if (!d->has_reference) {
		return blocked(d, SS_STEP_SOURCE);
	}
	if (f != NULL) {
		return set_step(d, SS_STEP_SOURCE, SS_STEP_PROBLEM, f->servers, f->nservers,
		                "%s; %s", f->message, f->fix ? f->fix : "");
	}
	return set_step(d, SS_STEP_SOURCE, SS_STEP_OK, NULL, 0,
	                "no secondary holds a candidate's copy instead of the primary's");
}

/* ---- 6, 7: NOTIFY and transfers --------------------------------------------------- */

static ss_addr_t *target_addrs(const ss_doctor_t *d, bool only_acked, size_t *n)
{
	ss_addr_t *out = calloc(d->ntargets + 1, sizeof(*out));
	*n = 0;
	for (size_t i = 0; out != NULL && i < d->ntargets; i++) {
		if (!only_acked || acked(&d->targets[i])) {
			out[(*n)++] = d->targets[i].addr;
		}
	}
	return out;
}

/* "A, B and C" of the targets, with names from res. */
static void target_list(ss_strbuf_t *b, const ss_doctor_t *d, const ss_zone_result_t *res)
{
	for (size_t i = 0; i < d->ntargets; i++) {
		ss_strbuf_printf(b, "%s", i == 0 ? "" : i + 1 == d->ntargets ? " and " : ", ");
		label(b, res, &d->targets[i].addr);
	}
}

long ss_doctor_notify_begin(ss_doctor_t *d, const ss_zone_result_t *res)
{
	if (!d->has_reference) {
		int ret = blocked(d, SS_STEP_NOTIFY);
		return ret ? ret : blocked(d, SS_STEP_TRANSFER);
	}
	size_t cap = res->obs.nservers;
	ss_addr_t *lag = calloc(cap + 1, sizeof(*lag));
	free(d->targets);
	d->targets = calloc(cap + 1, sizeof(*d->targets));
	d->ntargets = 0;
	if (lag == NULL || d->targets == NULL) {
		free(lag);
		return SS_ENOMEM;
	}
	size_t n = ss_zone_laggards(res, false, lag, cap);
	for (size_t i = 0; i < n; i++) {
		d->targets[i].addr = lag[i];
	}
	d->ntargets = n;
	d->notified_serial = res->reference_serial;
	int ret = 0;
	if (n == 0) {
		ret = set_step(d, SS_STEP_NOTIFY, SS_STEP_OK, NULL, 0,
		               "no server is behind: nothing to notify");
		ret =
		    ret ? ret
		        : set_step(d, SS_STEP_TRANSFER, SS_STEP_OK, NULL, 0, "nothing to transfer");
	} else if (!d->o.fix) {
		ss_strbuf_t b = SS_STRBUF_INIT;
		ss_strbuf_printf(&b, "%zu server%s behind: --fix sends a NOTIFY to ", n,
		                 n > 1 ? "s are" : " is");
		target_list(&b, d, res);
		ret = set_step_buf(d, SS_STEP_NOTIFY, SS_STEP_PROBLEM, lag, n, &b);
		ret = ret ? ret
		          : set_step(d, SS_STEP_TRANSFER, SS_STEP_SKIPPED, NULL, 0,
		                     "not tried without --fix");
	}
	free(lag);
	return ret < 0 ? ret : d->o.fix ? (long)n : 0;
}

void ss_doctor_notify_sent(ss_doctor_t *d, size_t i)
{
	if (i < d->ntargets) {
		d->targets[i].sent = true;
	}
}

int ss_doctor_notified(ss_doctor_t *d, const ss_zone_result_t *res,
                       const ss_notify_result_t *answer)
{
	char a[SS_ADDR_STRLEN];
	ss_doctor_target_t *t = (ss_doctor_target_t *)target_of(d, &answer->target);
	const ss_server_obs_t *s = server_at(res, &answer->target);
	if (t != NULL) {
		t->answer = *answer;
		t->answered = true;
	}
	ss_addr_format(&answer->target, a, sizeof(a));
	int ret =
	    ss_doctor_action(d, SS_ACTION_NOTIFY, a, "%s", ss_notify_status_name(answer->status));
	if (ret == 0 && answer->status == SS_NOTIFY_REFUSED && s != NULL) {
		ret = ss_doctor_notify_refused(&d->own, res, s, answer->rcode, answer->tsig_error);
	}
	return ret;
}

/* "acknowledged", "refused (NOTAUTH, TSIG BADSIG)", "no answer (timed out)". */
static void answer_words(ss_strbuf_t *b, const ss_doctor_target_t *t)
{
	const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, t->answer.rcode);
	const char *te = ss_tsig_error_name(t->answer.tsig_error);
	if (!t->answered) {
		ss_strbuf_printf(b, " gave no answer");
	} else if (t->answer.status == SS_NOTIFY_ACKED) {
		ss_strbuf_printf(b, " acknowledged");
	} else if (t->answer.status == SS_NOTIFY_REFUSED) {
		ss_strbuf_printf(b, " refused (%s%s%s)", l ? l->name : "error", te ? ", TSIG " : "",
		                 te ? te : "");
	} else {
		ss_strbuf_printf(b, " gave no answer (%s)", ss_strerror(t->answer.error));
	}
}

bool ss_doctor_notify_end(ss_doctor_t *d, const ss_zone_result_t *res)
{
	size_t sent = 0, nacked = 0, n = 0;
	for (size_t i = 0; i < d->ntargets; i++) {
		sent += d->targets[i].sent;
		nacked += acked(&d->targets[i]);
	}
	ss_addr_t *all = target_addrs(d, false, &n);
	ss_strbuf_t b = SS_STRBUF_INIT;
	if (sent == 0) {
		ss_strbuf_printf(&b, "%zu server%s behind; no NOTIFY sent (not confirmed): ",
		                 d->ntargets, d->ntargets > 1 ? "s are" : " is");
		target_list(&b, d, res);
		set_step_buf(d, SS_STEP_NOTIFY, SS_STEP_SKIPPED, all, n, &b);
		set_step(d, SS_STEP_TRANSFER, SS_STEP_SKIPPED, NULL, 0, "nothing was notified");
		free(all);
		return false;
	}
	ss_strbuf_printf(&b, "%zu of %zu acknowledged the NOTIFY", nacked, sent);
	for (size_t i = 0, k = 0; i < d->ntargets; i++) {
		if (d->targets[i].sent) {
			ss_strbuf_printf(&b, "%s", k++ ? "; " : ": ");
			label(&b, res, &d->targets[i].addr);
			answer_words(&b, &d->targets[i]);
		}
	}
	set_step_buf(d, SS_STEP_NOTIFY, nacked == sent ? SS_STEP_FIXED : SS_STEP_FAILED, all, n,
	             &b);
	free(all);
	if (nacked == 0) {
		set_step(d, SS_STEP_TRANSFER, SS_STEP_FAILED, NULL, 0,
		         "no server acknowledged the NOTIFY: nothing could transfer");
	}
	return nacked > 0;
}

/* Target t acknowledged the NOTIFY and does not serve the notified serial yet. */
static bool transfer_awaited(const ss_doctor_t *d, const ss_doctor_target_t *t,
                             const ss_zone_result_t *res)
{
	return acked(t) && !serves_at_least(server_at(res, &t->addr), d->notified_serial);
}

bool ss_doctor_moved(const ss_doctor_t *d, const ss_zone_result_t *res)
{
	for (size_t i = 0; i < d->ntargets; i++) {
		if (transfer_awaited(d, &d->targets[i], res)) {
			return false;
		}
	}
	return true;
}

int ss_doctor_transfer(ss_doctor_t *d, const ss_zone_result_t *res, uint64_t waited_ms)
{
	size_t nacked = 0, nstuck = 0;
	ss_addr_t *stuck = calloc(d->ntargets + 1, sizeof(*stuck));
	ss_addr_t *moved = calloc(d->ntargets + 1, sizeof(*moved));
	char w[32];
	int ret = stuck && moved ? 0 : SS_ENOMEM;
	for (size_t i = 0; ret == 0 && i < d->ntargets; i++) {
		ss_doctor_target_t *t = &d->targets[i];
		const ss_server_obs_t *s = server_at(res, &t->addr);
		if (!acked(t)) {
			continue;
		}
		t->moved = serves_at_least(s, d->notified_serial);
		if (t->moved) {
			moved[nacked++] = t->addr;
		} else if (s != NULL) {
			stuck[nstuck++] = t->addr;
			ret = ss_doctor_not_transferring(&d->own, res, s, waited_ms);
		}
	}
	if (ret == 0 && nstuck > 0) {
		ret =
		    set_step(d, SS_STEP_TRANSFER, SS_STEP_PROBLEM, stuck, nstuck,
		             "%zu server%s acknowledged the NOTIFY but did not transfer within %s "
		             "(see secondary-not-transferring)",
		             nstuck, nstuck > 1 ? "s" : "", secs(w, sizeof(w), waited_ms));
	} else if (ret == 0) {
		ret = set_step(d, SS_STEP_TRANSFER, SS_STEP_FIXED, moved, nacked,
		               "%zu notified server%s transferred the zone", nacked,
		               nacked > 1 ? "s" : "");
	}
	free(stuck);
	free(moved);
	return ret;
}

/* ---- 8, 9 ---------------------------------------------------------------------- */

bool ss_zone_converged(const ss_zone_result_t *res, bool content)
{
	ss_addr_t one;
	return res->has_reference && res->obs.nservers > 0 &&
	       unconverged(res, content, &one, 1) == 0;
}

/* Waiting cannot move server s: it is diagnosed, or nothing set it in motion. */
static bool settled(const ss_doctor_t *d, const ss_server_obs_t *s)
{
	const ss_doctor_target_t *t = target_of(d, &s->addr);
	switch (s->verdict) {
	case SS_VERDICT_BEHIND:
	case SS_VERDICT_UNDEFINED:
	case SS_VERDICT_SERVFAIL:
		/* Not behind when notifying: the primary moved since, and its own
		 * NOTIFY moves it. Moved once: likewise. */
		return t != NULL && (!acked(t) || !t->moved);
	default:
		/* Ahead of a primary gone backwards, not serving the zone,
		 * unreachable, or the same serial with other data. */
		return true;
	}
}

bool ss_doctor_should_wait(const ss_doctor_t *d, const ss_zone_result_t *res)
{
	if (!d->o.fix || !d->has_reference || !res->has_reference ||
	    ss_zone_converged(res, d->o.content)) {
		return false;
	}
	for (size_t i = 0; i < res->obs.nservers; i++) {
		const ss_server_obs_t *s = &res->obs.servers[i];
		if (off_reference(s, d->o.content) && !settled(d, s)) {
			return true;
		}
	}
	return false;
}

size_t ss_doctor_awaited(const ss_doctor_t *d, const ss_zone_result_t *res, ss_step_t step,
                         ss_addr_t *out, size_t cap)
{
	if (step != SS_STEP_TRANSFER) {
		return unconverged(res, d->o.content, out, cap);
	}
	size_t n = 0;
	for (size_t i = 0; i < d->ntargets && n < cap; i++) {
		if (transfer_awaited(d, &d->targets[i], res)) {
			out[n++] = d->targets[i].addr;
		}
	}
	return n;
}

int ss_doctor_converge(ss_doctor_t *d, const ss_zone_result_t *res)
{
	if (!d->has_reference) {
		return blocked(d, SS_STEP_CONVERGE);
	}
	bool content = d->o.content;
	ss_addr_t *off = calloc(res->obs.nservers + 1, sizeof(*off));
	if (off == NULL) {
		return SS_ENOMEM;
	}
	size_t n = unconverged(res, content, off, res->obs.nservers);
	int ret;
	if (!res->has_reference) {
		ret = set_step(d, SS_STEP_CONVERGE, SS_STEP_PROBLEM, off, n,
		               "not converged: no server answered with the zone's SOA");
	} else if (ss_zone_converged(res, content)) {
		ret = set_step(d, SS_STEP_CONVERGE, SS_STEP_OK, NULL, 0,
		               "every server serves %" PRIu32 "%s", res->reference_serial,
		               content ? " with the same data" : "");
	} else {
		ret = set_step(d, SS_STEP_CONVERGE, SS_STEP_PROBLEM, off, n,
		               "not converged: the reference is %" PRIu32 "%s",
		               res->reference_serial, content ? " (data compared)" : "");
	}
	free(off);
	return ret;
}

int ss_doctor_guard(ss_doctor_t *d, const ss_zone_result_t *res)
{
	const char *zone = res->obs.zone_str ? res->obs.zone_str : "";
	if (d->o.zonefile != NULL) {
		return set_step(d, SS_STEP_GUARD, SS_STEP_ADVICE, NULL, 0,
		                "refuse unbumped edits before they ship: soasync guard "
		                "--install-hook in the repository of %s; and watch the zone: "
		                "soasync monitor with the zone's config lines shown (or soasync "
		                "check --nagios %s)",
		                d->o.zonefile, zone);
	}
	return set_step(d, SS_STEP_GUARD, SS_STEP_ADVICE, NULL, 0,
	                "watch the zone: soasync monitor with the zone's config lines shown (or "
	                "soasync check --nagios %s; add --content to compare data); keep zone "
	                "files under soasync guard",
	                zone);
}

ss_doctor_verdict_t ss_doctor_finish(ss_doctor_t *d, const ss_zone_result_t *res)
{
	ss_step_status_t pub = d->steps[SS_STEP_PUBLISHED].status;
	ss_step_status_t raised = d->steps[SS_STEP_RAISED].status;
	/* Servers that agree on an unpublished or unbumped file are not healed. */
	bool file_bad = pub == SS_STEP_PROBLEM || pub == SS_STEP_FAILED ||
	                raised == SS_STEP_PROBLEM || raised == SS_STEP_FAILED;
	d->converged = d->has_reference && ss_zone_converged(res, d->o.content);
	d->verdict = !d->has_reference ? SS_DOCTOR_NO_REFERENCE
	             : !d->converged   ? SS_DOCTOR_NOT_CONVERGED
	             : file_bad        ? SS_DOCTOR_FILE_NOT_SERVED
	                               : SS_DOCTOR_CONVERGED;
	return d->verdict;
}

int ss_doctor_exit_status(ss_doctor_verdict_t v)
{
	return v == SS_DOCTOR_CONVERGED ? 0 : 2;
}

bool ss_doctor_primary_serves(const ss_zone_result_t *res, uint32_t want)
{
	if (!res->has_reference) {
		return false;
	}
	ss_serial_order_t o = ss_serial_cmp(res->reference_serial, want);
	return o == SS_SERIAL_EQUAL || o == SS_SERIAL_GREATER;
}

size_t ss_zone_laggards(const ss_zone_result_t *res, bool all, ss_addr_t *out, size_t cap)
{
	const ss_zone_obs_t *o = &res->obs;
	size_t n = 0;
	for (size_t i = 0; i < o->nservers && n < cap; i++) {
		const ss_server_obs_t *s = &o->servers[i];
		/* The primary the model took (an MNAME server that is evidently a
		 * secondary can be notified); never a server known only as a primary. */
		if (s->primary_role || !(s->origin & ~(unsigned)SS_ORIGIN_PRIMARY)) {
			continue;
		}
		if (all || s->verdict == SS_VERDICT_BEHIND || s->verdict == SS_VERDICT_UNDEFINED ||
		    s->verdict == SS_VERDICT_SERVFAIL) {
			out[n++] = s->addr;
		}
	}
	return n;
}

/* ---- doctor's own findings ---------------------------------------------------------- */

int ss_doctor_notify_refused(ss_zone_result_t *out, const ss_zone_result_t *res,
                             const ss_server_obs_t *s, int rcode, int tsig_error)
{
	const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, rcode);
	const char *te = ss_tsig_error_name(tsig_error);
	ss_strbuf_t msg = SS_STRBUF_INIT;
	(void)res;
	ss_strbuf_server(&msg, &s->addr, s->name);
	ss_strbuf_printf(&msg,
	                 " refused the NOTIFY (%s%s%s): it will only catch up at its next refresh; "
	                 "check that it accepts NOTIFY from the primary (this host's address is "
	                 "not the primary's, so a refusal here is only a hint)",
	                 l ? l->name : "error", te ? ", TSIG " : "", te ? te : "");
	/* The vendor's words name the ways out (for PowerDNS, which accepts
	 * NOTIFY from its primaries only: retrieve, or a trusted proxy). */
	int ret = ss_strbuf_ok(&msg)
	              ? ss_result_add_finding(out, SS_F_NOTIFY_REFUSED, SS_SEV_WARNING, &s->addr, 1,
	                                      ss_fix_allow_notify(s->vendor), "%s", msg.s)
	              : SS_ENOMEM;
	ss_strbuf_free(&msg);
	return ret;
}

int ss_doctor_not_transferring(ss_zone_result_t *out, const ss_zone_result_t *res,
                               const ss_server_obs_t *s, uint64_t waited_ms)
{
	char a[SS_ADDR_STRLEN], w[32];
	const ss_server_obs_t *p = res->has_primary ? server_at(res, &res->primary) : NULL;
	ss_strbuf_t msg = SS_STRBUF_INIT, fix = SS_STRBUF_INIT;
	ss_addr_format(&s->addr, a, sizeof(a));
	ss_strbuf_server(&msg, &s->addr, s->name);
	if (s->has_soa) {
		ss_strbuf_printf(&msg,
		                 " acknowledged the NOTIFY but still serves %" PRIu32
		                 " after %s: its "
		                 "transfers are probably refused by the primary, or it pulls from "
		                 "another primary",
		                 s->soa.serial, secs(w, sizeof(w), waited_ms));
	} else {
		ss_strbuf_printf(&msg,
		                 " acknowledged the NOTIFY but did not answer with the zone's SOA "
		                 "%s later",
		                 secs(w, sizeof(w), waited_ms));
	}
	ss_strbuf_printf(&fix,
	                 "check %s; and on the primary, that %s may transfer the zone (%s), with "
	                 "its TSIG key; the secondary's log names the refusal (e.g. 'failed while "
	                 "receiving responses: REFUSED', 'refused, no acl matches', 'NOTAUTH')",
	                 ss_fix_transfer_source(s->vendor), a,
	                 ss_fix_transfer_acl(p ? p->vendor : SS_VENDOR_UNKNOWN));
	int ret = ss_strbuf_ok(&msg) && ss_strbuf_ok(&fix)
	              ? ss_result_add_finding(out, SS_F_SECONDARY_NOT_TRANSFERRING, SS_SEV_CRITICAL,
	                                      &s->addr, 1, fix.s, "%s", msg.s)
	              : SS_ENOMEM;
	ss_strbuf_free(&msg);
	ss_strbuf_free(&fix);
	return ret;
}
