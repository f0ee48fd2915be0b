/*
 * The dashboard: a zones x servers matrix (problem zones first) and a page
 * per zone. Plain HTML that works without JavaScript (the filter is a GET
 * form, a <noscript> refresh); dashboard.js only refreshes in place and
 * filters as one types. Every state is a word as well as a color.
 */
#include <stdlib.h>
#include <string.h>

#include "web.h"

#define DEF_ROWS 500
#define MAX_COLS 24 /* distinct servers shown as columns; more: by position */

/* ---- page frame ---------------------------------------------------------- */

static void asset_url(wbuf_t *b, const dash_opts_t *o, const char *name)
{
	wbuf_puts(b, "/assets/");
	wbuf_puts(b, name);
	if (o->asset_hash != NULL) {
		wbuf_puts(b, "?v=");
		wbuf_puts(b, o->asset_hash);
	}
}

static void page_head(wbuf_t *b, const dash_opts_t *o, const char *title, const char *site)
{
	wbuf_puts(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	             "<meta name=\"color-scheme\" content=\"light dark\">\n<title>");
	wbuf_html(b, title);
	wbuf_puts(b, "</title>\n<link rel=\"icon\" type=\"image/svg+xml\" href=\"");
	asset_url(b, o, "favicon.svg");
	wbuf_puts(b, "\">\n<link rel=\"stylesheet\" href=\"");
	asset_url(b, o, "dashboard.css");
	wbuf_puts(b, "\">\n<script defer src=\"");
	asset_url(b, o, "dashboard.js");
	wbuf_printf(
	    b,
	    "\"></script>\n<noscript><meta http-equiv=\"refresh\" content=\"%u\"></noscript>\n"
	    "</head>\n<body data-refresh=\"%u\">\n<header class=\"bar\">\n"
	    "<a class=\"brand\" href=\"/\"><span class=\"logo\" aria-hidden=\"true\"></span>"
	    "soasync</a>\n",
	    o->refresh_s ? o->refresh_s : 10, o->refresh_s ? o->refresh_s : 10);
	if (site != NULL) {
		wbuf_puts(b, "<span class=\"site\">site <b>");
		wbuf_html(b, site);
		wbuf_puts(b, "</b></span>\n");
	}
}

static void page_foot(wbuf_t *b, const web_source_t *src)
{
	const ss_mon_config_t *cfg = src->config(src->ctx);
	char t[32];
	wbuf_puts(b, "<footer>\n<span>");
	if (cfg != NULL) {
		char i[24], w[24], c[24];
		wbuf_printf(b,
		            "every zone checked every %s; lag warning after %s, critical after %s",
		            web_duration((int64_t)cfg->interval_ms, i, sizeof(i)),
		            web_duration((int64_t)cfg->lag_warning_ms, w, sizeof(w)),
		            web_duration((int64_t)cfg->lag_critical_ms, c, sizeof(c)));
	}
	wbuf_puts(b, "</span>\n<span><a href=\"/metrics\">metrics</a> · "
	             "<a href=\"/api/v1/zones\">API</a> · <a href=\"/healthz\">health</a></span>\n"
	             "<span class=\"updated\">page of ");
	wbuf_puts(b, web_time(src->now_ms(src->ctx), t, sizeof(t)));
	wbuf_puts(b, "</span>\n</footer>\n</body>\n</html>\n");
}

static const char *zone_status(const ss_mon_zone_t *z)
{
	return ss_status_name(z->status);
}

static void badge(wbuf_t *b, const char *status)
{
	wbuf_puts(b, "<span class=\"badge ");
	wbuf_puts(b, status);
	wbuf_puts(b, "\">");
	wbuf_puts(b, status);
	wbuf_puts(b, "</span>");
}

static void serial_or_dash(wbuf_t *b, bool has, uint32_t serial)
{
	if (has) {
		wbuf_u64(b, serial);
	} else {
		wbuf_puts(b, "—");
	}
}

static void zone_link(wbuf_t *b, const char *zone)
{
	wbuf_puts(b, "<a href=\"/zone/");
	wbuf_url(b, zone);
	wbuf_puts(b, "\">");
	wbuf_html(b, zone);
	wbuf_puts(b, "</a>");
}

/* The state of a server in words, with its lag when it is behind. */
static void state_words(wbuf_t *b, web_cell_t st, int64_t lag_ms)
{
	char d[24];
	switch (st) {
	case WEB_CELL_BEHIND:
	case WEB_CELL_LAG_WARNING:
	case WEB_CELL_LAG_CRITICAL:
		wbuf_puts(b, "behind ");
		wbuf_puts(b, web_duration(lag_ms, d, sizeof(d)));
		break;
	default:
		wbuf_puts(b, web_cell_words(st));
	}
}

/* ---- the matrix ---------------------------------------------------------- */

typedef struct {
	ss_addr_t addr;
	const char *name;
	bool primary;
} column_t;

typedef struct {
	size_t count[4], zones, shown, matching, behind, converging;
	size_t *rows, nrows;
	column_t cols[MAX_COLS];
	size_t ncols;
	bool by_position; /* too many servers for one column each */
	size_t positions; /* most servers in a shown zone */
} matrix_t;

/* Problem zones first: critical, unknown, warning, then ok zones with a
 * server behind (converging), then the rest; name order within each. */
static int rank(const ss_mon_zone_t *z)
{
	switch (z->status) {
	case SS_STATUS_CRITICAL:
		return 0;
	case SS_STATUS_UNKNOWN:
		return 1;
	case SS_STATUS_WARNING:
		return 2;
	default:
		break;
	}
	for (size_t i = 0; i < z->nservers; i++) {
		if (z->servers[i].behind) {
			return 3;
		}
	}
	return 4;
}

/* Case-insensitive substring (zone names are ASCII presentation form). */
static bool wanted(const ss_mon_zone_t *z, const dash_opts_t *o)
{
	if (o->filter != NULL && *o->filter && strcasestr(z->name, o->filter) == NULL) {
		return false;
	}
	if (o->status == NULL || *o->status == '\0') {
		return true;
	}
	if (strcmp(o->status, "problems") == 0) {
		return rank(z) < 3;
	}
	return strcmp(o->status, zone_status(z)) == 0;
}

static void add_column(matrix_t *m, const ss_mon_server_t *s)
{
	for (size_t i = 0; i < m->ncols; i++) {
		if (ss_addr_equal(&m->cols[i].addr, &s->address)) {
			m->cols[i].primary |= s->is_primary;
			if (m->cols[i].name == NULL) {
				m->cols[i].name = s->name;
			}
			return;
		}
	}
	if (m->ncols == MAX_COLS) {
		m->by_position = true;
		return;
	}
	m->cols[m->ncols++] = (column_t){s->address, s->name, s->is_primary};
}

static int col_cmp(const void *a, const void *b)
{
	const column_t *x = a, *y = b;
	if (x->primary != y->primary) {
		return x->primary ? -1 : 1;
	}
	if ((x->name == NULL) != (y->name == NULL)) {
		return x->name ? -1 : 1;
	}
	int c = x->name ? strcmp(x->name, y->name) : 0;
	return c ? c : ss_addr_cmp(&x->addr, &y->addr);
}

/* One pass over every zone: the counts, and the rows to show. */
static int select_rows(const web_source_t *src, const dash_opts_t *o, matrix_t *m)
{
	size_t max = o->max_rows ? o->max_rows : DEF_ROWS;
	size_t *bucket[5] = {0}, nb[5] = {0};
	int ret = -1;
	for (int r = 0; r < 5; r++) {
		if ((bucket[r] = malloc(max * sizeof(size_t))) == NULL) {
			goto fail;
		}
	}
	m->zones = src->zone_count(src->ctx);
	for (size_t i = 0; i < m->zones; i++) {
		const ss_mon_zone_t *z = src->zone(src->ctx, i);
		m->count[z->status]++;
		m->converging += z->converging;
		for (size_t k = 0; k < z->nservers; k++) {
			m->behind += z->servers[k].behind;
		}
		if (!wanted(z, o)) {
			continue;
		}
		m->matching++;
		int r = rank(z);
		if (nb[r] < max) {
			bucket[r][nb[r]++] = i;
		}
	}
	if ((m->rows = malloc(max * sizeof(size_t))) == NULL) {
		goto fail;
	}
	for (int r = 0; r < 5; r++) {
		for (size_t k = 0; k < nb[r] && m->nrows < max; k++) {
			m->rows[m->nrows++] = bucket[r][k];
		}
	}
	for (size_t k = 0; k < m->nrows; k++) {
		const ss_mon_zone_t *z = src->zone(src->ctx, m->rows[k]);
		for (size_t i = 0; i < z->nservers; i++) {
			add_column(m, &z->servers[i]);
		}
		if (z->nservers > m->positions) {
			m->positions = z->nservers;
		}
	}
	qsort(m->cols, m->ncols, sizeof(m->cols[0]), col_cmp);
	ret = 0;
fail:
	for (int r = 0; r < 5; r++) {
		free(bucket[r]);
	}
	return ret;
}

static void tile(wbuf_t *b, const char *cls, const char *href, size_t n, const char *label)
{
	wbuf_printf(b,
	            "<a class=\"tile %s\" href=\"%s\"><span class=\"n\">%zu</span>"
	            "<span class=\"l\">%s</span></a>\n",
	            cls, href, n, label);
}

static void summary(wbuf_t *b, const matrix_t *m)
{
	wbuf_puts(b, "<section class=\"tiles\" aria-label=\"Zones by status\">\n");
	tile(b, "critical", "/?status=critical", m->count[SS_STATUS_CRITICAL], "critical");
	tile(b, "warning", "/?status=warning", m->count[SS_STATUS_WARNING], "warning");
	tile(b, "unknown", "/?status=unknown", m->count[SS_STATUS_UNKNOWN], "unknown");
	tile(b, "ok", "/?status=ok", m->count[SS_STATUS_OK], "ok");
	tile(b, "total", "/", m->zones, m->zones == 1 ? "zone" : "zones");
	tile(b, "behind", "/?status=problems", m->behind,
	     m->behind == 1 ? "server behind" : "servers behind");
	tile(b, "converging", "/", m->converging, "converging");
	wbuf_puts(b, "</section>\n");
}

static void filter_form(wbuf_t *b, const dash_opts_t *o)
{
	wbuf_puts(b, "<form class=\"filter\" method=\"get\" action=\"/\" role=\"search\">\n"
	             "<input id=\"q\" type=\"search\" name=\"q\" value=\"");
	wbuf_html(b, o->filter);
	wbuf_puts(b, "\" placeholder=\"Filter zones  ( / )\" aria-label=\"Filter zones by name\" "
	             "autocomplete=\"off\" spellcheck=\"false\">\n");
	if (o->status != NULL && *o->status) {
		wbuf_puts(b, "<input type=\"hidden\" name=\"status\" value=\"");
		wbuf_html(b, o->status);
		wbuf_puts(b, "\">\n");
	}
	wbuf_puts(b, "<button type=\"submit\">Filter</button>\n</form>\n");
}

static void legend(wbuf_t *b)
{
	static const web_cell_t shown[] = {
	    WEB_CELL_IN_SYNC,     WEB_CELL_BEHIND,   WEB_CELL_LAG_WARNING, WEB_CELL_LAG_CRITICAL,
	    WEB_CELL_UNREACHABLE, WEB_CELL_NOT_AUTH, WEB_CELL_SERVFAIL};
	wbuf_puts(b, "<ul class=\"legend\" aria-label=\"Cell states\">");
	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		wbuf_printf(b, "<li class=\"cell %s\">%s</li>", web_cell_class(shown[i]),
		            web_cell_words(shown[i]));
	}
	wbuf_puts(b, "</ul>\n");
}

static void head_row(wbuf_t *b, const matrix_t *m)
{
	wbuf_puts(b, "<thead><tr><th scope=\"col\" class=\"zcol\">Zone</th>"
	             "<th scope=\"col\">Status</th><th scope=\"col\" class=\"ref\">Reference</th>");
	if (m->by_position) {
		for (size_t i = 0; i < m->positions; i++) {
			wbuf_printf(b, "<th scope=\"col\" class=\"srv\">%s</th>",
			            i == 0 ? "server" : "");
		}
	}
	for (size_t i = 0; !m->by_position && i < m->ncols; i++) {
		char a[SS_ADDR_STRLEN];
		wbuf_puts(b, "<th scope=\"col\" class=\"srv\"><span class=\"sn\">");
		wbuf_html(b, m->cols[i].name ? m->cols[i].name : "");
		wbuf_puts(b, "</span><span class=\"sa\">");
		wbuf_html(b, ss_addr_format(&m->cols[i].addr, a, sizeof(a)));
		wbuf_puts(b, m->cols[i].primary ? "</span><span class=\"role\">primary" : "");
		wbuf_puts(b, "</span></th>");
	}
	wbuf_puts(b, "</tr></thead>\n");
}

static void cell(wbuf_t *b, const ss_mon_server_t *s, int64_t now, const ss_mon_config_t *cfg,
                 bool with_name)
{
	char a[SS_ADDR_STRLEN];
	int64_t lag = ss_mon_lag_ms(s, now);
	web_cell_t st = web_cell_state(s, lag, cfg);
	ss_addr_format(&s->address, a, sizeof(a));
	wbuf_printf(b, "<td class=\"cell %s\" data-state=\"%s\" data-address=\"",
	            web_cell_class(st), web_cell_class(st));
	wbuf_html(b, a);
	wbuf_printf(b, "\" data-lag-s=\"%lld\">", (long long)(lag / 1000));
	if (with_name) {
		wbuf_puts(b, "<span class=\"sn\">");
		wbuf_html(b, s->name ? s->name : a);
		wbuf_puts(b, "</span>");
	}
	wbuf_puts(b, "<span class=\"serial\">");
	serial_or_dash(b, s->has_serial, s->serial);
	wbuf_puts(b, "</span><span class=\"state\">");
	state_words(b, st, lag);
	wbuf_puts(b, "</span></td>");
}

static void row(wbuf_t *b, const ss_mon_zone_t *z, const matrix_t *m, int64_t now,
                const ss_mon_config_t *cfg)
{
	wbuf_printf(b, "<tr class=\"%s\" data-zone=\"", zone_status(z));
	wbuf_html(b, z->name);
	wbuf_puts(b, "\"><th scope=\"row\" class=\"zcol\">");
	zone_link(b, z->name);
	wbuf_puts(b, "</th><td>");
	badge(b, zone_status(z));
	wbuf_puts(b, "</td><td class=\"ref\">");
	serial_or_dash(b, z->has_reference, z->reference_serial);
	wbuf_puts(b, "</td>");
	if (m->by_position) {
		for (size_t i = 0; i < m->positions; i++) {
			if (i < z->nservers) {
				cell(b, &z->servers[i], now, cfg, true);
			} else {
				wbuf_puts(b, "<td class=\"cell none\"></td>");
			}
		}
	}
	for (size_t c = 0; !m->by_position && c < m->ncols; c++) {
		const ss_mon_server_t *s = NULL;
		for (size_t i = 0; i < z->nservers && s == NULL; i++) {
			if (ss_addr_equal(&z->servers[i].address, &m->cols[c].addr)) {
				s = &z->servers[i];
			}
		}
		if (s != NULL) {
			cell(b, s, now, cfg, false);
		} else {
			wbuf_puts(
			    b, "<td class=\"cell none\" aria-label=\"not a server of this zone\">"
			       "</td>");
		}
	}
	wbuf_puts(b, "</tr>\n");
}

static void title_of(char *t, size_t len, const matrix_t *m)
{
	if (m->count[SS_STATUS_CRITICAL] + m->count[SS_STATUS_WARNING] +
	        m->count[SS_STATUS_UNKNOWN] ==
	    0) {
		snprintf(t, len, "soasync · %zu zones in sync", m->zones);
	} else {
		snprintf(t, len, "soasync · %zu critical · %zu warning · %zu unknown",
		         m->count[SS_STATUS_CRITICAL], m->count[SS_STATUS_WARNING],
		         m->count[SS_STATUS_UNKNOWN]);
	}
}

int render_dashboard(const web_source_t *src, const dash_opts_t *o, wbuf_t *out)
{
	matrix_t m = {0};
	const ss_mon_config_t *cfg = src->config(src->ctx);
	int64_t now = src->now_ms(src->ctx);
	if (select_rows(src, o, &m) != 0) {
		out->failed = true;
		return -1;
	}
	char title[160];
	title_of(title, sizeof(title), &m);
	page_head(out, o, title, cfg ? cfg->site : NULL);
	wbuf_puts(out, "</header>\n");
	filter_form(out, o);
	wbuf_puts(out, "<main id=\"main\">\n");
	summary(out, &m);
	legend(out);
	if (o->status != NULL && *o->status) {
		wbuf_puts(out, "<p class=\"filtered\">Only ");
		wbuf_html(out,
		          strcmp(o->status, "problems") == 0 ? "zones with a problem" : o->status);
		wbuf_puts(out, strcmp(o->status, "problems") == 0 ? "" : " zones");
		wbuf_puts(out, " · <a href=\"/\">show all</a></p>\n");
	}
	if (m.nrows == 0) {
		wbuf_puts(out, m.zones == 0 ? "<p class=\"empty\">No zones are watched yet.</p>\n"
		                            : "<p class=\"empty\">No zone matches.</p>\n");
	} else {
		wbuf_puts(out, "<div class=\"scroll fit\"><table class=\"matrix\">\n");
		head_row(out, &m);
		wbuf_puts(out, "<tbody>\n");
		for (size_t k = 0; k < m.nrows; k++) {
			row(out, src->zone(src->ctx, m.rows[k]), &m, now, cfg);
		}
		wbuf_puts(out, "</tbody></table></div>\n");
	}
	if (m.matching > m.nrows) {
		wbuf_printf(out,
		            "<p class=\"more\">Showing %zu of %zu matching zones, problems first; "
		            "filter by name to find the others.</p>\n",
		            m.nrows, m.matching);
	}
	wbuf_puts(out, "</main>\n");
	page_foot(out, src);
	free(m.rows);
	return out->failed ? -1 : 0;
}

/* ---- the zone page -------------------------------------------------------- */

static void fact(wbuf_t *b, const char *term)
{
	wbuf_puts(b, "<div><dt>");
	wbuf_puts(b, term);
	wbuf_puts(b, "</dt><dd>");
}

static void ago(wbuf_t *b, int64_t then, int64_t now)
{
	char t[32], d[24];
	if (then <= 0) {
		wbuf_puts(b, "—");
		return;
	}
	wbuf_puts(b, "<time datetime=\"");
	wbuf_puts(b, web_time(then, t, sizeof(t)));
	wbuf_puts(b, "\">");
	wbuf_add(b, t + 11, 8); /* hh:mm:ss */
	wbuf_puts(b, " UTC</time> <span class=\"muted\">(");
	wbuf_puts(b, web_duration(now - then, d, sizeof(d)));
	wbuf_puts(b, " ago)</span>");
}

static void zone_facts(wbuf_t *b, const ss_mon_zone_t *z, int64_t now)
{
	char a[SS_ADDR_STRLEN];
	wbuf_puts(b, "<dl class=\"facts\">");
	fact(b, "Reference serial");
	serial_or_dash(b, z->has_reference, z->reference_serial);
	wbuf_puts(b, "</dd></div>");
	fact(b, "Primary");
	wbuf_html(b, z->has_primary ? ss_addr_format(&z->primary, a, sizeof(a)) : "not found");
	wbuf_puts(b, "</dd></div>");
	fact(b, "Published");
	if (z->has_reference) {
		ago(b, z->reference_since_ms, now);
		wbuf_puts(b, " via ");
		wbuf_puts(b, ss_mon_via_name(z->reference_via));
	} else {
		wbuf_puts(b, "—");
	}
	wbuf_puts(b, "</dd></div>");
	fact(b, "Status since");
	ago(b, z->status_since_ms, now);
	wbuf_puts(b, "</dd></div>");
	fact(b, "Last check");
	ago(b, z->last_check_ms, now);
	wbuf_puts(b, z->converging ? " <span class=\"pill\">converging</span>" : "");
	wbuf_puts(b, "</dd></div>");
	fact(b, "Convergences");
	if (z->convergence.count > 0) {
		char d[24];
		wbuf_printf(b, "%llu, mean %s", (unsigned long long)z->convergence.count,
		            web_duration((int64_t)(z->convergence.sum * 1000.0 /
		                                   (double)z->convergence.count),
		                         d, sizeof(d)));
	} else {
		wbuf_puts(b, "none yet");
	}
	wbuf_puts(b, "</dd></div></dl>\n");
}

/* A server's state cell on the zone page: words, and for how long. */
static void state_cell(wbuf_t *b, const ss_mon_server_t *s, int64_t now, const ss_mon_config_t *cfg)
{
	char d[24];
	int64_t lag = ss_mon_lag_ms(s, now);
	web_cell_t st = web_cell_state(s, lag, cfg);
	wbuf_printf(b, "<td class=\"cell %s\" data-state=\"%s\"><span class=\"state\">",
	            web_cell_class(st), web_cell_class(st));
	state_words(b, st, lag);
	if (s->unreachable_since_ms > 0) {
		wbuf_puts(b, " for ");
		wbuf_puts(b, web_duration(now - s->unreachable_since_ms, d, sizeof(d)));
	}
	wbuf_puts(b, "</span></td>");
}

/* State first after the name: on a phone the table scrolls, and that is
 * what one looks for. */
static void server_rows(wbuf_t *b, const ss_mon_zone_t *z, int64_t now, const ss_mon_config_t *cfg)
{
	wbuf_puts(b, "<div class=\"scroll\"><table class=\"servers\">\n<thead><tr>"
	             "<th scope=\"col\">Server</th><th scope=\"col\">State</th>"
	             "<th scope=\"col\">Serial</th><th scope=\"col\">Address</th>"
	             "<th scope=\"col\">Role</th><th scope=\"col\">Expires in</th>"
	             "<th scope=\"col\">Last converged</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < z->nservers; i++) {
		const ss_mon_server_t *s = &z->servers[i];
		char a[SS_ADDR_STRLEN], d[24];
		ss_addr_format(&s->address, a, sizeof(a));
		wbuf_puts(b, "<tr data-address=\"");
		wbuf_html(b, a);
		wbuf_puts(b, "\"><th scope=\"row\">");
		wbuf_html(b, s->name ? s->name : a);
		wbuf_puts(b, "</th>");
		state_cell(b, s, now, cfg);
		wbuf_puts(b, "<td class=\"mono\">");
		serial_or_dash(b, s->has_serial, s->serial);
		wbuf_puts(b, "</td><td class=\"mono\">");
		wbuf_html(b, a);
		wbuf_puts(b, s->is_primary ? "</td><td>primary</td>" : "</td><td>secondary</td>");
		wbuf_puts(b, "<td class=\"num\">");
		wbuf_puts(b, s->has_expire ? web_duration((int64_t)s->expire_s * 1000, d, sizeof(d))
		                           : "—");
		wbuf_puts(b, "</td><td>");
		ago(b, s->last_converged_ms, now);
		if (s->last_converged_ms > 0 && s->last_lag_ms >= 0) {
			wbuf_puts(b, " <span class=\"muted\">after ");
			wbuf_puts(b, web_duration(s->last_lag_ms, d, sizeof(d)));
			wbuf_puts(b, "</span>");
		}
		wbuf_puts(b, "</td></tr>\n");
	}
	wbuf_puts(b, "</tbody></table></div>\n");
}

static void findings(wbuf_t *b, const ss_mon_zone_t *z)
{
	if (z->nfindings == 0) {
		wbuf_puts(b, "<p class=\"empty\">No open findings: every server serves the "
		             "reference serial.</p>\n");
		return;
	}
	wbuf_puts(b, "<ul class=\"findings\">\n");
	for (size_t i = 0; i < z->nfindings; i++) {
		const ss_finding_t *f = &z->findings[i];
		const char *sev = ss_severity_name(f->severity);
		wbuf_printf(b, "<li class=\"finding %s\" data-code=\"%s\">", sev,
		            ss_fcode_name(f->id));
		wbuf_printf(
		    b, "<div class=\"fhead\"><span class=\"badge %s\">%s</span> <code>%s</code>",
		    sev, sev, ss_fcode_name(f->id));
		for (size_t k = 0; k < f->nservers; k++) {
			char a[SS_ADDR_STRLEN];
			wbuf_puts(b, " <span class=\"pill mono\">");
			wbuf_html(b, ss_addr_format(&f->servers[k], a, sizeof(a)));
			wbuf_puts(b, "</span>");
		}
		wbuf_puts(b, "</div><p class=\"msg\">");
		wbuf_html(b, f->message);
		wbuf_puts(b, "</p>");
		if (f->fix != NULL) {
			wbuf_puts(b, "<p class=\"fix\"><b>Fix:</b> <span>");
			wbuf_html(b, f->fix);
			wbuf_puts(b, "</span></p>");
		}
		wbuf_puts(b, "</li>\n");
	}
	wbuf_puts(b, "</ul>\n");
}

/* The last events of the zone, newest first (the history gives them oldest
 * first): each row rendered apart, then written in reverse. */
#define LAST_EVENTS 20

typedef struct {
	char *rows[LAST_EVENTS];
	size_t n;
} ev_rows_t;

static int event_row(const ss_mon_event_t *ev, void *arg)
{
	ev_rows_t *c = arg;
	wbuf_t row = {0};
	char t[32], a[SS_ADDR_STRLEN];
	web_time(ev->time_ms, t, sizeof(t));
	t[10] = ' ';
	t[19] = '\0';
	wbuf_printf(&row, "<tr><td class=\"mono\">%s</td><td>%s</td><td>", t,
	            ss_mon_event_name(ev->kind));
	if (ev->kind == SS_MON_EV_STATUS) {
		wbuf_printf(&row, "%s → %s", ss_status_name(ev->previous),
		            ss_status_name(ev->status));
	} else if (ev->kind == SS_MON_EV_FINDING_OPENED || ev->kind == SS_MON_EV_FINDING_CLOSED) {
		wbuf_printf(&row, "<code>%s</code> ", ss_fcode_name(ev->code));
	} else if (ev->has_serial) {
		wbuf_u64(&row, ev->serial);
		wbuf_putc(&row, ' ');
	}
	if (ev->has_address) {
		wbuf_puts(&row, "<span class=\"mono\">");
		wbuf_html(&row, ss_addr_format(&ev->address, a, sizeof(a)));
		wbuf_puts(&row, "</span> ");
	}
	if (ev->message != NULL) {
		wbuf_html(&row, ev->message);
	}
	wbuf_puts(&row, "</td></tr>\n");
	if (row.failed) {
		wbuf_free(&row);
		return -1;
	}
	if (c->n == LAST_EVENTS) {
		free(c->rows[0]);
		memmove(&c->rows[0], &c->rows[1], sizeof(c->rows[0]) * (LAST_EVENTS - 1));
		c->n--;
	}
	c->rows[c->n++] = row.s;
	return 0;
}

static void events(wbuf_t *b, const web_source_t *src, const ss_mon_zone_t *z)
{
	ev_rows_t c = {0};
	const char *zones[] = {z->name};
	ss_mon_hist_query_t q = {.zones = zones, .nzones = 1, .last = LAST_EVENTS};
	if (src->events != NULL) {
		src->events(src->ctx, &q, event_row, &c);
	}
	if (c.n == 0) {
		wbuf_puts(b, "<p class=\"empty\">No events recorded for this zone yet.</p>\n");
		return;
	}
	wbuf_puts(b, "<div class=\"scroll\"><table class=\"events\"><thead><tr>"
	             "<th scope=\"col\">Time (UTC)</th><th scope=\"col\">Event</th>"
	             "<th scope=\"col\">Details</th></tr></thead><tbody>\n");
	for (size_t i = c.n; i-- > 0;) {
		wbuf_puts(b, c.rows[i] ? c.rows[i] : "");
		free(c.rows[i]);
	}
	wbuf_puts(b, "</tbody></table></div>\n");
}

int render_zone_page(const web_source_t *src, const ss_mon_zone_t *z, const dash_opts_t *o,
                     wbuf_t *out)
{
	const ss_mon_config_t *cfg = src->config(src->ctx);
	int64_t now = src->now_ms(src->ctx);
	char title[300];
	snprintf(title, sizeof(title), "%s %s · soasync", z->name, zone_status(z));
	page_head(out, o, title, cfg ? cfg->site : NULL);
	wbuf_puts(out, "<nav class=\"crumbs\"><a href=\"/\">All zones</a></nav>\n</header>\n"
	               "<main id=\"main\" class=\"zone\">\n<section class=\"zonehead\"><h1>");
	wbuf_html(out, z->name);
	wbuf_puts(out, " ");
	badge(out, zone_status(z));
	wbuf_puts(out, "</h1>\n");
	zone_facts(out, z, now);
	wbuf_puts(out, "</section>\n<section><h2>Servers</h2>\n");
	server_rows(out, z, now, cfg);
	wbuf_puts(out, "</section>\n<section><h2>Findings</h2>\n");
	findings(out, z);
	wbuf_puts(out, "</section>\n<section><h2>Last changes</h2>\n");
	render_timeline(out, src, z);
	wbuf_puts(out, "</section>\n<section><h2>Events</h2>\n");
	events(out, src, z);
	wbuf_puts(out, "</section>\n</main>\n");
	page_foot(out, src);
	return out->failed ? -1 : 0;
}
