/*
 * /api/v1: the monitor's zones as JSON, in the vocabulary of check --json
 * (zone, status, primary, reference_serial, servers with name, address,
 * port, primary, serial; findings with code, severity, servers, message,
 * fix) plus what the monitor adds in time (lag, since when, convergence).
 * Keys are known ASCII: set without jansson's UTF-8 check; text that may
 * carry a server's bytes goes through json_string's check.
 */
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"
#include "render.h"
#include "render_history.h"
#include "web.h"

#define SET(o, k, v) json_object_set_new_nocheck((o), (k), (v))

/* An ASCII string we produced (enum names, addresses). */
static json_t *ascii(const char *s)
{
	return s ? json_string_nocheck(s) : json_null();
}

static json_t *time_or_null(int64_t ms)
{
	char t[32];
	return ms > 0 ? json_string_nocheck(web_time(ms, t, sizeof(t))) : json_null();
}

static json_t *seconds(int64_t ms)
{
	return json_real((double)ms / 1000.0);
}

static json_t *address(const ss_addr_t *a)
{
	char buf[SS_ADDR_STRLEN];
	return json_string_nocheck(ss_addr_format(a, buf, sizeof(buf)));
}

static json_t *server_json(const ss_mon_server_t *s, int64_t now_ms)
{
	char a[SS_ADDR_STRLEN];
	json_t *o = json_object();
	if (o == NULL) {
		return NULL;
	}
	SET(o, "name", jo_new_text(s->name));
	SET(o, "address", json_string_nocheck(ss_addr_ntop(&s->address, a, sizeof(a))));
	SET(o, "port", json_integer(ss_addr_port(&s->address)));
	SET(o, "primary", json_boolean(s->is_primary));
	SET(o, "serial", s->has_serial ? json_integer(s->serial) : json_null());
	SET(o, "verdict", ascii(ss_verdict_name(s->verdict)));
	SET(o, "behind", json_boolean(s->behind));
	SET(o, "lag_s", seconds(ss_mon_lag_ms(s, now_ms)));
	SET(o, "behind_since", time_or_null(s->behind ? s->behind_since_ms : 0));
	SET(o, "expire_s", s->has_expire ? json_integer(s->expire_s) : json_null());
	SET(o, "unreachable_since", time_or_null(s->unreachable_since_ms));
	SET(o, "last_converged", time_or_null(s->last_converged_ms));
	SET(o, "last_lag_s",
	    s->last_lag_ms >= 0 && s->last_converged_ms > 0 ? seconds(s->last_lag_ms)
	                                                    : json_null());
	return o;
}

json_t *render_api_zone(const ss_mon_zone_t *z, int64_t now_ms)
{
	json_t *o = json_object(), *servers = json_array();
	json_t *findings = render_findings_array(z->findings, z->nfindings);
	if (o == NULL || servers == NULL || findings == NULL) {
		json_decref(o);
		json_decref(servers);
		json_decref(findings);
		return NULL;
	}
	for (size_t i = 0; i < z->nservers; i++) {
		json_array_append_new(servers, server_json(&z->servers[i], now_ms));
	}
	SET(o, "zone", jo_new_text(z->name));
	SET(o, "status", ascii(ss_status_name(z->status)));
	SET(o, "status_since", time_or_null(z->status_since_ms));
	SET(o, "checked", json_boolean(z->checked));
	SET(o, "last_check", time_or_null(z->last_check_ms));
	SET(o, "next_check", time_or_null(z->next_check_ms));
	SET(o, "converging", json_boolean(z->converging));
	SET(o, "primary", z->has_primary ? address(&z->primary) : json_null());
	SET(o, "reference_serial",
	    z->has_reference ? json_integer(z->reference_serial) : json_null());
	SET(o, "reference_since", time_or_null(z->has_reference ? z->reference_since_ms : 0));
	SET(o, "reference_via",
	    z->has_reference ? ascii(ss_mon_via_name(z->reference_via)) : json_null());
	SET(o, "servers", servers);
	SET(o, "findings", findings);
	json_t *conv = json_object();
	if (conv != NULL) {
		SET(conv, "count", json_integer((json_int_t)z->convergence.count));
		SET(conv, "sum_s", json_real(z->convergence.sum));
		SET(o, "convergence", conv);
	}
	SET(o, "checks", json_integer((json_int_t)z->checks));
	return o;
}

/* ---- history: the objects of soasync history --json (render_history.c) ---- */

static int add_serial(const ss_mon_hist_serial_t *s, void *arg)
{
	return json_array_append_new(arg, render_history_serial_json(s));
}

static int add_event(const ss_mon_event_t *ev, void *arg)
{
	return json_array_append_new(arg, render_history_event_json(ev));
}

json_t *render_api_zone_full(const web_source_t *src, const ss_mon_zone_t *z, size_t last)
{
	json_t *o = render_api_zone(z, src->now_ms(src->ctx));
	json_t *hist = json_array(), *events = json_array();
	if (o == NULL || hist == NULL || events == NULL) {
		goto fail;
	}
	const char *zones[] = {z->name};
	ss_mon_hist_query_t q = {.zones = zones, .nzones = 1, .last = last};
	if (src->serials != NULL && src->serials(src->ctx, &q, add_serial, hist) != 0) {
		goto fail;
	}
	if (src->events != NULL && src->events(src->ctx, &q, add_event, events) != 0) {
		goto fail;
	}
	SET(o, "history", hist);
	SET(o, "events", events);
	return o;
fail:
	json_decref(o);
	json_decref(hist);
	json_decref(events);
	return NULL;
}

/* ---- the zone list, in steps ---------------------------------------------- */

/*
 * The list writes 100,000 zones per request: one zone object is built once
 * and its values are changed in place from zone to zone (integers and
 * strings set, enum names and booleans shared), so a zone costs no
 * allocation but its strings' copies and its findings.
 */
typedef struct {
	json_t *obj, *name, *address, *port, *serial, *lag, *zero;
} srv_tmpl_t;

struct api_tmpl {
	json_t *obj, *zone, *primary, *ref, *servers;
	srv_tmpl_t *srv; /* one per server of the largest zone so far */
	size_t nsrv;
};

static void srv_tmpl_free(srv_tmpl_t *s)
{
	json_t *v[] = {s->obj, s->name, s->address, s->port, s->serial, s->lag, s->zero};
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		json_decref(v[k]);
	}
}

static void tmpl_free(api_tmpl_t *t)
{
	if (t == NULL) {
		return;
	}
	json_t **all[] = {&t->obj, &t->zone, &t->primary, &t->ref, &t->servers};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		json_decref(*all[i]);
	}
	for (size_t i = 0; i < t->nsrv; i++) {
		srv_tmpl_free(&t->srv[i]);
	}
	free(t->srv);
	free(t);
}

static api_tmpl_t *tmpl_new(void)
{
	api_tmpl_t *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		return NULL;
	}
	t->obj = json_object();
	t->zone = json_string_nocheck("");
	t->primary = json_string_nocheck("");
	t->ref = json_integer(0);
	t->servers = json_array();
	if (!t->obj || !t->zone || !t->primary || !t->ref || !t->servers) {
		tmpl_free(t);
		return NULL;
	}
	return t;
}

/* Server slots for a zone of n servers. 0 or -1 (out of memory). */
static int tmpl_reserve(api_tmpl_t *t, size_t n)
{
	if (n <= t->nsrv) {
		return 0;
	}
	srv_tmpl_t *v = realloc(t->srv, n * sizeof(*v));
	if (v == NULL) {
		return -1;
	}
	t->srv = v;
	for (; t->nsrv < n; t->nsrv++) {
		srv_tmpl_t *s = &t->srv[t->nsrv];
		*s = (srv_tmpl_t){.obj = json_object(),
		                  .name = json_string_nocheck(""),
		                  .address = json_string_nocheck(""),
		                  .port = json_integer(0),
		                  .serial = json_integer(0),
		                  .lag = json_real(0),
		                  .zero = json_integer(0)};
		if (!s->obj || !s->name || !s->address || !s->port || !s->serial || !s->lag ||
		    !s->zero) {
			srv_tmpl_free(s);
			return -1;
		}
	}
	return 0;
}

static json_t *list_server(api_tmpl_t *t, size_t i, const ss_mon_server_t *s, int64_t now_ms)
{
	char a[SS_ADDR_STRLEN];
	srv_tmpl_t *st = &t->srv[i];
	ss_addr_ntop(&s->address, a, sizeof(a));
	jo_ascii(st->address, a);
	jo_int(st->port, ss_addr_port(&s->address));
	int64_t lag = ss_mon_lag_ms(s, now_ms);
	jo_put(st->obj, "name", jo_text(st->name, s->name));
	jo_put(st->obj, "address", st->address);
	jo_put(st->obj, "port", st->port);
	jo_put(st->obj, "primary", json_boolean(s->is_primary));
	jo_put(st->obj, "serial", s->has_serial ? jo_int(st->serial, s->serial) : json_null());
	jo_put(st->obj, "verdict", jo_static(ss_verdict_name(s->verdict)));
	jo_put(st->obj, "behind", json_boolean(s->behind));
	/* in sync (most servers): 0, an integer, dumps without printf's float path */
	jo_put(st->obj, "lag_s", lag != 0 ? jo_real(st->lag, (double)lag / 1000.0) : st->zero);
	return st->obj;
}

json_t *render_api_list_zone(api_cursor_t *c, const ss_mon_zone_t *z, int64_t now_ms)
{
	char pa[SS_ADDR_STRLEN];
	if (c->tmpl == NULL && (c->tmpl = tmpl_new()) == NULL) {
		return NULL;
	}
	api_tmpl_t *tm = c->tmpl;
	jo_put(tm->obj, "zone", jo_text(tm->zone, z->name));
	jo_put(tm->obj, "status", jo_static(ss_status_name(z->status)));
	jo_put(tm->obj, "checked", json_boolean(z->checked));
	jo_put(tm->obj, "primary",
	       z->has_primary ? jo_ascii(tm->primary, web_addr(&z->primary, pa, sizeof(pa)))
	                      : json_null());
	jo_put(tm->obj, "reference_serial",
	       z->has_reference ? jo_int(tm->ref, z->reference_serial) : json_null());
	json_array_clear(tm->servers);
	if (tmpl_reserve(tm, z->nservers) != 0) {
		return NULL;
	}
	for (size_t i = 0; i < z->nservers; i++) {
		json_array_append(tm->servers, list_server(tm, i, &z->servers[i], now_ms));
	}
	jo_put(tm->obj, "servers", tm->servers);
	json_t *findings = render_findings_array(z->findings, z->nfindings);
	if (findings == NULL) {
		return NULL;
	}
	json_object_set_new_nocheck(tm->obj, "findings", findings);
	return tm->obj;
}

/*
 * Most zones look the same from one scrape to the next: the list keeps each
 * zone's text, keyed by a hash of everything the text shows, and renders a
 * zone again only when that changed. A zone with a server behind is never
 * kept (its lag grows by the second). Collisions of the 64-bit key are as
 * likely as not to matter.
 */
typedef struct {
	uint64_t key; /* 0: nothing kept */
	char *text;
	size_t len;
} api_kept_t;

struct api_cache {
	api_kept_t *v;
	size_t n;
};

api_cache_t *api_cache_new(void)
{
	return calloc(1, sizeof(api_cache_t));
}

size_t api_cache_kept(const api_cache_t *k)
{
	size_t n = 0;
	for (size_t i = 0; k != NULL && i < k->n; i++) {
		n += k->v[i].key != 0;
	}
	return n;
}

static void cache_trim(api_cache_t *k, size_t n)
{
	for (size_t i = n; i < k->n; i++) {
		free(k->v[i].text);
		k->v[i] = (api_kept_t){0};
	}
	if (n < k->n) {
		k->n = n;
	}
}

void api_cache_free(api_cache_t *k)
{
	if (k != NULL) {
		cache_trim(k, 0);
		free(k->v);
		free(k);
	}
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h = (h ^ b[i]) * 0x100000001b3ULL;
	}
	return h;
}

static uint64_t mix_str(uint64_t h, const char *s)
{
	return s ? mix(h, s, strlen(s) + 1) : mix(h, "\xff", 1);
}

static uint64_t mix_u64(uint64_t h, uint64_t v)
{
	return mix(h, &v, sizeof(v));
}

/* The key of what the list shows of z; 0 when it must not be kept. */
static uint64_t zone_key(const ss_mon_zone_t *z)
{
	uint64_t h = mix_str(0xcbf29ce484222325ULL, z->name);
	h = mix_u64(h, (uint64_t)z->checked << 40 | (uint64_t)z->status << 32 | z->has_reference);
	h = mix_u64(h, (uint64_t)z->reference_serial << 1 | z->has_primary);
	h = mix_u64(h, z->has_primary ? ss_addr_hash(&z->primary) : 0);
	for (size_t i = 0; i < z->nservers; i++) {
		const ss_mon_server_t *s = &z->servers[i];
		if (s->behind) {
			return 0;
		}
		h = mix_str(h, s->name);
		h = mix_u64(h, (uint64_t)ss_addr_hash(&s->address) << 32 | s->serial);
		h = mix_u64(h, (uint64_t)s->verdict << 2 | s->is_primary << 1 | s->has_serial);
	}
	for (size_t i = 0; i < z->nfindings; i++) {
		const ss_finding_t *f = &z->findings[i];
		h = mix_u64(h, (uint64_t)f->id << 8 | f->severity);
		for (size_t k = 0; k < f->nservers; k++) {
			h = mix_u64(h, ss_addr_hash(&f->servers[k]));
		}
		h = mix_str(mix_str(h, f->message), f->fix);
	}
	h = mix_u64(h, (uint64_t)z->nservers << 32 | z->nfindings);
	return h ? h : 1;
}

static void cache_put(api_cache_t *k, size_t i, uint64_t key, const char *text, size_t len)
{
	if (i >= k->n) {
		api_kept_t *v = realloc(k->v, (i + 1) * sizeof(*v));
		if (v == NULL) {
			return;
		}
		memset(v + k->n, 0, (i + 1 - k->n) * sizeof(*v));
		k->v = v;
		k->n = i + 1;
	}
	char *copy = malloc(len);
	if (copy != NULL) {
		memcpy(copy, text, len);
	}
	free(k->v[i].text);
	k->v[i] = (api_kept_t){copy ? key : 0, copy, len};
}

/* Zone i's kept text if it still shows z, else NULL; *key: what z shows
 * now (0: never kept). */
static const api_kept_t *kept_text(const api_cursor_t *c, const ss_mon_zone_t *z, size_t i,
                                   uint64_t *key)
{
	const api_cache_t *k = c->cache;
	*key = k ? zone_key(z) : 0;
	return *key != 0 && i < k->n && k->v[i].key == *key ? &k->v[i] : NULL;
}

/* Zone i rendered onto out, and kept under key (unless 0). */
static int render_zone_text(api_cursor_t *c, const ss_mon_zone_t *z, size_t i, uint64_t key,
                            int64_t now, wbuf_t *out)
{
	size_t at = out->len;
	json_t *o = render_api_list_zone(c, z, now);
	if (o == NULL || wbuf_json(out, json_incref(o)) != 0) {
		return -1;
	}
	if (key != 0) {
		cache_put(c->cache, i, key, out->s + at, out->len - at);
	}
	return 0;
}

/* Zone i of the list onto out: the kept text, or rendered (and kept). */
static int list_zone_text(api_cursor_t *c, const ss_mon_zone_t *z, size_t i, int64_t now,
                          wbuf_t *out)
{
	uint64_t key;
	const api_kept_t *t = kept_text(c, z, i, &key);
	if (t != NULL) {
		wbuf_add(out, t->text, t->len);
		return 0;
	}
	return render_zone_text(c, z, i, key, now, out);
}

size_t render_api_warm(const web_source_t *src, api_cursor_t *c, size_t from, size_t max_zones)
{
	size_t n = src->zone_count(src->ctx), i = from < n ? from : 0;
	if (c->cache == NULL || n == 0) {
		return 0;
	}
	int64_t now = src->now_ms(src->ctx);
	wbuf_t scratch = {0};
	for (size_t done = 0; done < max_zones && done < n; done++, i = (i + 1) % n) {
		const ss_mon_zone_t *z = src->zone(src->ctx, i);
		uint64_t key;
		if (kept_text(c, z, i, &key) != NULL || key == 0) {
			continue;
		}
		scratch.len = 0;
		if (render_zone_text(c, z, i, key, now, &scratch) != 0) {
			break; /* out of memory: the list renders it when asked */
		}
	}
	wbuf_free(&scratch);
	return i;
}

void api_cursor_init(api_cursor_t *c)
{
	memset(c, 0, sizeof(*c));
}

void api_cursor_clear(api_cursor_t *c)
{
	free(c->last);
	c->last = NULL;
	tmpl_free(c->tmpl);
	c->tmpl = NULL;
}

/*
 * The document is {"time":...,"site":...,"zones":[...]} with 100,000 zones
 * in it: it streams. jansson writes the document without zones, ending in
 * "zones":[]}; the "]}" is held back and written after the zones, each of
 * which jansson writes too, comma separated.
 */
static void head(const web_source_t *src, wbuf_t *out)
{
	const ss_mon_config_t *cfg = src->config(src->ctx);
	char t[32];
	json_t *doc = json_object();
	if (doc == NULL) {
		out->failed = true;
		return;
	}
	json_object_set_new_nocheck(
	    doc, "time", json_string_nocheck(web_time(src->now_ms(src->ctx), t, sizeof(t))));
	json_object_set_new_nocheck(doc, "site",
	                            cfg && cfg->site ? jo_new_text(cfg->site) : json_null());
	json_object_set_new_nocheck(doc, "zones", json_array());
	size_t at = out->len;
	if (wbuf_json(out, doc) == 0 && out->len >= at + 2) {
		out->len -= 2; /* the "]}" */
		out->s[out->len] = '\0';
	}
}

int render_api_zones_step(const web_source_t *src, api_cursor_t *c, wbuf_t *out, size_t budget)
{
	size_t start = out->len;
	if (c->phase == 0) {
		head(src, out);
		c->phase = 1;
	}
	if (c->phase == 1) {
		size_t n = src->zone_count(src->ctx), i = c->zone;
		if (c->last != NULL &&
		    (i == 0 || i > n || strcmp(src->zone(src->ctx, i - 1)->name, c->last) != 0)) {
			i = web_zone_after(src, c->last);
		}
		int64_t now = src->now_ms(src->ctx);
		const ss_mon_zone_t *z = NULL;
		for (; i < n && out->len - start < budget; i++) {
			z = src->zone(src->ctx, i);
			if (c->written++ > 0) {
				wbuf_putc(out, ',');
			}
			if (list_zone_text(c, z, i, now, out) != 0) {
				return -1;
			}
		}
		c->zone = i;
		if (z != NULL) {
			free(c->last);
			c->last = strdup(z->name);
			if (c->last == NULL) {
				return -1;
			}
		}
		if (i >= n) {
			wbuf_puts(out, "]}\n");
			c->phase = 2;
			if (c->cache != NULL) {
				cache_trim(c->cache, n); /* zones a reload removed */
			}
		}
	}
	if (out->failed) {
		return -1;
	}
	return c->phase == 2 ? 1 : 0;
}
