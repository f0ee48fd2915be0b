/*
 * /metrics: the Prometheus text exposition (format 0.0.4). Every family is
 * one contiguous group (HELP, TYPE, then its series), so the zones are
 * walked once per family; a step stops after about `budget` bytes, so a
 * scrape of 100,000 zones gives the loop back between pieces. Formatting is
 * by hand (no printf per value): this is the hot path of a large fleet.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"

typedef struct {
	const ss_mon_config_t *cfg;
	const char *site;
	const char *version;
	int64_t now_ms;
	bool comma;           /* a label was written in the current series */
	const char *valid[2]; /* names last found valid UTF-8 (zone, server) */
	const double *le_of;  /* the bounds le[] was formatted from */
	char le[SS_MON_HIST_MAX][24];
} mctx_t;

/* ---- series -------------------------------------------------------------- */

static void begin(wbuf_t *b, mctx_t *c, const char *name, const char *suffix)
{
	wbuf_puts(b, name);
	if (suffix != NULL) {
		wbuf_puts(b, suffix);
	}
	c->comma = false;
	if (c->site != NULL) {
		wbuf_puts(b, "{site=\"");
		wbuf_label(b, c->site);
		wbuf_putc(b, '"');
		c->comma = true; /* (the site: checked in every series, it is short) */
	}
}

/* A label whose value we made (enum names, addresses, bounds): ASCII. */
static void label(wbuf_t *b, mctx_t *c, const char *key, const char *value)
{
	wbuf_putc(b, c->comma ? ',' : '{');
	wbuf_puts(b, key);
	wbuf_add(b, "=\"", 2);
	wbuf_label_utf8(b, value);
	wbuf_putc(b, '"');
	c->comma = true;
}

/* A label whose value came from elsewhere (zone and NS names, the site):
 * checked as UTF-8, once per name and step (each name stands in many series). */
static void label_text(wbuf_t *b, mctx_t *c, const char *key, const char *value)
{
	wbuf_putc(b, c->comma ? ',' : '{');
	wbuf_puts(b, key);
	wbuf_add(b, "=\"", 2);
	if (value != NULL && (value == c->valid[0] || value == c->valid[1])) {
		wbuf_label_utf8(b, value);
	} else if (value != NULL && web_utf8_valid(value)) {
		c->valid[1] = c->valid[0];
		c->valid[0] = value;
		wbuf_label_utf8(b, value);
	} else {
		wbuf_label(b, value);
	}
	wbuf_putc(b, '"');
	c->comma = true;
}

static void close_labels(wbuf_t *b, mctx_t *c)
{
	wbuf_add(b, c->comma ? "} " : " ", c->comma ? 2 : 1);
}

static void end_u64(wbuf_t *b, mctx_t *c, uint64_t v)
{
	close_labels(b, c);
	wbuf_u64(b, v);
	wbuf_putc(b, '\n');
}

/* Milliseconds as seconds with three decimals, without printf. */
static void end_ms(wbuf_t *b, mctx_t *c, int64_t ms)
{
	close_labels(b, c);
	if (ms < 0) {
		wbuf_putc(b, '-');
		ms = -ms;
	}
	wbuf_u64(b, (uint64_t)ms / 1000);
	unsigned frac = (unsigned)(ms % 1000);
	if (frac != 0) {
		char f[4] = {'.', (char)('0' + frac / 100), (char)('0' + frac / 10 % 10),
		             (char)('0' + frac % 10)};
		wbuf_add(b, f, 4);
	}
	wbuf_putc(b, '\n');
}

static void end_double(wbuf_t *b, mctx_t *c, double v)
{
	close_labels(b, c);
	if (isinf(v)) {
		wbuf_puts(b, v > 0 ? "+Inf" : "-Inf");
	} else if (isnan(v)) {
		wbuf_puts(b, "NaN");
	} else {
		wbuf_printf(b, "%.17g", v);
	}
	wbuf_putc(b, '\n');
}

static void zone_label(wbuf_t *b, mctx_t *c, const char *name, const char *suffix,
                       const ss_mon_zone_t *z)
{
	begin(b, c, name, suffix);
	label_text(b, c, "zone", z->name);
}

static void server_labels(wbuf_t *b, mctx_t *c, const char *name, const ss_mon_zone_t *z,
                          const ss_mon_server_t *s)
{
	char a[SS_ADDR_STRLEN];
	zone_label(b, c, name, NULL, z);
	label_text(b, c, "server", s->name ? s->name : "");
	label(b, c, "address", web_addr(&s->address, a, sizeof(a)));
}

/* A histogram: cumulative buckets, sum, count; extra: one more label (zone). */
static void histogram(wbuf_t *b, mctx_t *c, const char *name, const ss_mon_zone_t *z,
                      const ss_mon_histogram_t *h)
{
	uint64_t cum = 0;
	if (c->le_of != h->le) { /* the bounds are static: formatted once a step */
		for (size_t i = 0; i < h->n && i < SS_MON_HIST_MAX; i++) {
			snprintf(c->le[i], sizeof(c->le[i]), isinf(h->le[i]) ? "+Inf" : "%g",
			         h->le[i]);
		}
		c->le_of = h->le;
	}
	for (size_t i = 0; i < h->n && i < SS_MON_HIST_MAX; i++) {
		cum += h->counts[i];
		begin(b, c, name, "_bucket");
		if (z != NULL) {
			label_text(b, c, "zone", z->name);
		}
		label(b, c, "le", c->le[i]);
		end_u64(b, c, cum);
	}
	begin(b, c, name, "_sum");
	if (z != NULL) {
		label_text(b, c, "zone", z->name);
	}
	/* seconds to the millisecond, like every other time here */
	if (isfinite(h->sum) && fabs(h->sum) < 9e12) {
		end_ms(b, c, llround(h->sum * 1000.0));
	} else {
		end_double(b, c, h->sum);
	}
	begin(b, c, name, "_count");
	if (z != NULL) {
		label_text(b, c, "zone", z->name);
	}
	end_u64(b, c, h->count);
}

/* ---- the families -------------------------------------------------------- */

static void f_status(wbuf_t *b, mctx_t *c, const ss_mon_zone_t *z)
{
	zone_label(b, c, "soasync_zone_status", NULL, z);
	end_u64(b, c, (uint64_t)z->status);
}

/* The per-address families: one series per server address that has the value. */
typedef enum { PA_SERIAL, PA_BEHIND, PA_LAG, PA_EXPIRE } per_address_t;

static void per_address(wbuf_t *b, mctx_t *c, const ss_mon_zone_t *z, const char *name,
                        per_address_t what)
{
	for (size_t i = 0; i < z->nservers; i++) {
		const ss_mon_server_t *s = &z->servers[i];
		bool counts =
		    s->verdict != SS_VERDICT_NONE && s->verdict != SS_VERDICT_HIDDEN_PRIMARY;
		bool has = what == PA_SERIAL   ? s->has_serial
		           : what == PA_EXPIRE ? s->has_expire
		                               : counts;
		if (!has) {
			continue;
		}
		server_labels(b, c, name, z, s);
		if (what == PA_LAG) {
			end_ms(b, c, ss_mon_lag_ms(s, c->now_ms));
		} else {
			end_u64(b, c,
			        what == PA_SERIAL   ? s->serial
			        : what == PA_EXPIRE ? s->expire_s
			                            : (uint64_t)s->behind);
		}
	}
}

static void f_serial(wbuf_t *b, mctx_t *c, const ss_mon_zone_t *z)
{
	per_address(b, c, z, "soasync_serial", PA_SERIAL);
}

static void f_reference(wbuf_t *b, mctx_t *c, const ss_mon_zone_t *z)
{
	if (z->has_reference) {
		zone_label(b, c, "soasync_reference_serial", NULL, z);
		end_u64(b, c, z->reference_serial);
	}
}

static void f_behind(wbuf_t *b, mctx_t *c, const ss_mon_zone_t *z)
{
	per_address(b, c, z, "soasync_server_behind", PA_BEHIND);
}

static void f_lag(wbuf_t *b, mctx_t *c, const ss_mon_zone_t *z)
{
	per_address(b, c, z, "soasync_lag_seconds", PA_LAG);
}

static void f_convergence(wbuf_t *b, mctx_t *c, const ss_mon_zone_t *z)
{
	/* A zone that never changed while watched has no convergence to
	 * show: no series (14 per zone would dominate a large fleet's scrape). */
	if (z->convergence.count > 0 && z->convergence.le != NULL) {
		histogram(b, c, "soasync_convergence_seconds", z, &z->convergence);
	}
}

static void f_expire(wbuf_t *b, mctx_t *c, const ss_mon_zone_t *z)
{
	per_address(b, c, z, "soasync_expire_seconds", PA_EXPIRE);
}

static void f_findings(wbuf_t *b, mctx_t *c, const ss_mon_zone_t *z)
{
	for (size_t i = 0; i < z->nfindings; i++) {
		const ss_finding_t *f = &z->findings[i];
		bool seen = false;
		uint64_t n = 0;
		for (size_t k = 0; k < z->nfindings && !seen; k++) {
			const ss_finding_t *g = &z->findings[k];
			if (g->id == f->id && g->severity == f->severity) {
				seen = k < i;
				n++;
			}
		}
		if (!seen) {
			zone_label(b, c, "soasync_findings", NULL, z);
			label(b, c, "code", ss_fcode_name(f->id));
			label(b, c, "severity", ss_severity_name(f->severity));
			end_u64(b, c, n);
		}
	}
}

static void f_notify(wbuf_t *b, mctx_t *c, const ss_mon_zone_t *z)
{
	for (int r = 0; r < SS_MON_NOTIFY_RESULTS; r++) {
		if (r == SS_MON_NOTIFY_ACCEPTED || z->notify[r] > 0) {
			zone_label(b, c, "soasync_notify_received_total", NULL, z);
			label(b, c, "result", ss_mon_notify_result_name((ss_mon_notify_result_t)r));
			end_u64(b, c, z->notify[r]);
		}
	}
}

/* NOTIFYs no watched zone can count: for unknown zones, or unparsable. */
static void g_notify(wbuf_t *b, mctx_t *c, const ss_mon_counters_t *k)
{
	static const ss_mon_notify_result_t global[] = {SS_MON_NOTIFY_UNKNOWN_ZONE,
	                                                SS_MON_NOTIFY_MALFORMED};
	for (size_t i = 0; i < sizeof(global) / sizeof(global[0]); i++) {
		begin(b, c, "soasync_notify_received_total", NULL);
		label(b, c, "result", ss_mon_notify_result_name(global[i]));
		end_u64(b, c, k->notify[global[i]]);
	}
}

static void g_queries(wbuf_t *b, mctx_t *c, const ss_mon_counters_t *k)
{
	begin(b, c, "soasync_queries_total", NULL);
	end_u64(b, c, k->queries);
}

static void g_query_errors(wbuf_t *b, mctx_t *c, const ss_mon_counters_t *k)
{
	for (int q = 0; q < SS_MON_QERR_COUNT; q++) {
		begin(b, c, "soasync_query_errors_total", NULL);
		label(b, c, "reason", ss_mon_qerr_name((ss_mon_qerr_t)q));
		end_u64(b, c, k->query_errors[q]);
	}
}

static void g_checks(wbuf_t *b, mctx_t *c, const ss_mon_counters_t *k)
{
	begin(b, c, "soasync_checks_total", NULL);
	end_u64(b, c, k->checks);
}

static void g_duration(wbuf_t *b, mctx_t *c, const ss_mon_counters_t *k)
{
	if (k->check_duration.le != NULL) {
		histogram(b, c, "soasync_check_duration_seconds", NULL, &k->check_duration);
	}
}

static void g_build(wbuf_t *b, mctx_t *c, const ss_mon_counters_t *k)
{
	(void)k;
	begin(b, c, "soasync_build_info", NULL);
	label_text(b, c, "version", c->version ? c->version : "");
	end_u64(b, c, 1);
}

typedef struct {
	const char *name, *type, *help;
	bool per_address; /* left out with metrics.per_address: false */
	void (*zone)(wbuf_t *b, mctx_t *c, const ss_mon_zone_t *z);
	void (*global)(wbuf_t *b, mctx_t *c, const ss_mon_counters_t *k);
} family_t;

static const family_t families[] = {
    {"soasync_zone_status", "gauge", "Zone status: 0 ok, 1 warning, 2 critical, 3 unknown.", false,
     f_status, NULL},
    {"soasync_serial", "gauge", "The SOA serial a server address serves.", true, f_serial, NULL},
    {"soasync_reference_serial", "gauge", "The zone's reference serial (the primary's).", false,
     f_reference, NULL},
    {"soasync_server_behind", "gauge",
     "1 while the address does not serve the reference serial (or newer), else 0.", true, f_behind,
     NULL},
    {"soasync_lag_seconds", "gauge",
     "Seconds since the serial the address lacks was first seen on the primary; 0 in sync.", true,
     f_lag, NULL},
    {"soasync_convergence_seconds", "histogram",
     "Time the secondaries took to serve a new serial of the zone.", false, f_convergence, NULL},
    {"soasync_expire_seconds", "gauge",
     "Seconds until the address's copy expires (EDNS EXPIRE), where answered.", true, f_expire,
     NULL},
    {"soasync_findings", "gauge", "Findings now open, by code and severity.", false, f_findings,
     NULL},
    {"soasync_notify_received_total", "counter", "NOTIFY messages received, by result.", false,
     f_notify, g_notify},
    {"soasync_queries_total", "counter", "DNS queries sent.", false, NULL, g_queries},
    {"soasync_query_errors_total", "counter", "SOA queries without a usable answer, by reason.",
     false, NULL, g_query_errors},
    {"soasync_checks_total", "counter", "Zone checks finished.", false, NULL, g_checks},
    {"soasync_check_duration_seconds", "histogram", "Duration of one zone check.", false, NULL,
     g_duration},
    {"soasync_build_info", "gauge", "The running soasync's version.", false, NULL, g_build},
};

#define NFAMILIES (sizeof(families) / sizeof(families[0]))

/* ---- the steps ----------------------------------------------------------- */

void metrics_cursor_init(metrics_cursor_t *c, const char *version)
{
	memset(c, 0, sizeof(*c));
	c->version = version;
}

void metrics_cursor_clear(metrics_cursor_t *c)
{
	free(c->last);
	c->last = NULL;
}

/* Where the zone walk goes on: the saved index, unless a reload moved it. */
static size_t resume(const web_source_t *src, metrics_cursor_t *c, size_t n)
{
	if (c->last == NULL) {
		return c->zone;
	}
	if (c->zone > 0 && c->zone <= n &&
	    strcmp(src->zone(src->ctx, c->zone - 1)->name, c->last) == 0) {
		return c->zone;
	}
	return web_zone_after(src, c->last);
}

static int remember(metrics_cursor_t *c, const char *name)
{
	free(c->last);
	c->last = strdup(name);
	return c->last ? 0 : -1;
}

int render_metrics_step(const web_source_t *src, metrics_cursor_t *c, wbuf_t *out, size_t budget)
{
	const ss_mon_config_t *cfg = src->config(src->ctx);
	mctx_t m = {.cfg = cfg,
	            .site = cfg ? cfg->site : NULL,
	            .version = c->version,
	            .now_ms = src->now_ms(src->ctx)};
	bool per_address = cfg == NULL || cfg->metrics_per_address;
	size_t start = out->len;
	while (c->family < NFAMILIES && out->len - start < budget) {
		const family_t *f = &families[c->family];
		if (f->per_address && !per_address) { /* also when a reload just said so */
			c->family++;
			c->in_family = false;
			continue;
		}
		if (!c->in_family) {
			wbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
			            f->type);
			c->in_family = true;
			c->zone = 0;
			free(c->last);
			c->last = NULL;
		}
		size_t n = f->zone ? src->zone_count(src->ctx) : 0;
		size_t i = f->zone ? resume(src, c, n) : 0;
		const ss_mon_zone_t *z = NULL;
		for (; i < n && out->len - start < budget; i++) {
			z = src->zone(src->ctx, i);
			f->zone(out, &m, z);
		}
		if (i < n) {
			c->zone = i;
			if (z != NULL && remember(c, z->name) != 0) {
				return -1;
			}
			break;
		}
		if (f->global != NULL) {
			f->global(out, &m, src->counters(src->ctx));
		}
		c->family++;
		c->in_family = false;
	}
	if (out->failed) {
		return -1;
	}
	return c->family >= NFAMILIES ? 1 : 0;
}
