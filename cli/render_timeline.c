/*
 * The zone page's timeline: for each of the last serials the primary
 * published, a group of bars, one per secondary, from the moment the
 * primary served the serial to the moment the secondary followed. The time
 * axis is logarithmic (1 s, 10 s, 1 min... share the width), so a
 * convergence of 2 s and one of 40 min are both readable; a secondary that
 * never followed (or still has not) gets a hatched bar to the right edge.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"

#define LAST_SERIALS 8
#define MAX_LANES    16

#define W      900.0 /* viewBox width: drawn at most this wide (CSS), so 1 unit = 1 px */
#define LABEL  190.0 /* left column: serial, server names */
#define RIGHT  96.0  /* right column: the lag in words */
#define HEAD_H 20.0  /* a serial's header line */
#define LANE_H 17.0
#define GAP    8.0
#define AXIS_H 22.0

typedef struct {
	char address[SS_ADDR_STRLEN];
	char name[64];
	bool converged, never;
	int64_t lag_ms;
	int64_t converged_ms;
} lane_t;

typedef struct {
	uint32_t serial;
	int64_t first_seen_ms;
	ss_mon_via_t via;
	lane_t lanes[MAX_LANES];
	size_t nlanes;
} group_t;

typedef struct {
	group_t g[LAST_SERIALS];
	size_t n;
} hist_t;

static int collect(const ss_mon_hist_serial_t *s, void *arg)
{
	hist_t *h = arg;
	if (h->n == LAST_SERIALS) {
		memmove(&h->g[0], &h->g[1], sizeof(h->g[0]) * (LAST_SERIALS - 1));
		h->n--;
	}
	group_t *g = &h->g[h->n++];
	memset(g, 0, sizeof(*g));
	g->serial = s->serial;
	g->first_seen_ms = s->first_seen_ms;
	g->via = s->via;
	for (size_t i = 0; i < s->nservers && g->nlanes < MAX_LANES; i++) {
		const ss_mon_hist_server_t *v = &s->servers[i];
		lane_t *l = &g->lanes[g->nlanes++];
		snprintf(l->address, sizeof(l->address), "%s", v->address ? v->address : "?");
		snprintf(l->name, sizeof(l->name), "%s", v->name ? v->name : l->address);
		char *comma = strchr(l->name, ',');
		if (comma != NULL) {
			*comma = '\0'; /* the first of several NS names is enough here */
		}
		l->converged = v->converged;
		l->never = v->never;
		l->lag_ms = v->lag_ms;
		l->converged_ms = v->converged_ms;
	}
	return 0;
}

/* The axis: 0, then ticks up to the first one past the longest bar. */
static const struct {
	double s;
	const char *label;
} ticks[] = {{1, "1s"},     {10, "10s"},   {60, "1m"},     {600, "10m"},    {3600, "1h"},
             {21600, "6h"}, {86400, "1d"}, {604800, "7d"}, {2592000, "30d"}};
#define NTICKS (sizeof(ticks) / sizeof(ticks[0]))

typedef struct {
	double max_s; /* the axis ends here */
	size_t nticks;
} axis_t;

static double xpos(const axis_t *ax, double s)
{
	double plot = W - LABEL - RIGHT;
	if (s <= 0) {
		return LABEL;
	}
	if (s > ax->max_s) {
		s = ax->max_s;
	}
	return LABEL + plot * log10(1.0 + s) / log10(1.0 + ax->max_s);
}

/* How long a bar lasts: its lag, or until now for one still behind. */
static double bar_s(const group_t *g, const lane_t *l, int64_t now)
{
	if (l->converged) {
		return (double)l->lag_ms / 1000.0;
	}
	return (double)(now - g->first_seen_ms) / 1000.0;
}

static axis_t make_axis(const hist_t *h, int64_t now)
{
	double longest = 1;
	for (size_t i = 0; i < h->n; i++) {
		for (size_t k = 0; k < h->g[i].nlanes; k++) {
			double s = bar_s(&h->g[i], &h->g[i].lanes[k], now);
			longest = s > longest ? s : longest;
		}
	}
	axis_t ax = {ticks[NTICKS - 1].s, NTICKS};
	for (size_t i = 0; i < NTICKS; i++) {
		if (ticks[i].s >= longest) {
			ax.max_s = ticks[i].s;
			ax.nticks = i + 1;
			break;
		}
	}
	return ax;
}

static const char *bar_class(const lane_t *l, const ss_mon_config_t *cfg)
{
	if (l->never) {
		return "never";
	}
	if (!l->converged) {
		return "waiting";
	}
	web_cell_t c = web_lag_cell(l->lag_ms, cfg);
	return c == WEB_CELL_BEHIND ? web_cell_class(WEB_CELL_IN_SYNC) : web_cell_class(c);
}

static void axis(wbuf_t *b, const axis_t *ax, double height)
{
	wbuf_printf(
	    b, "<g class=\"axis\"><text x=\"%.1f\" y=\"14\" class=\"tick end\">published</text>",
	    LABEL + 3);
	for (size_t i = 0; i < ax->nticks; i++) {
		double x = xpos(ax, ticks[i].s);
		wbuf_printf(b,
		            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
		            "<text x=\"%.1f\" y=\"14\" class=\"tick\">%s</text>",
		            x, AXIS_H - 4, x, height, x, ticks[i].label);
	}
	wbuf_printf(b,
	            "<line class=\"zero\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/></g>\n",
	            LABEL, AXIS_H - 4, LABEL, height);
}

static void lane(wbuf_t *b, const group_t *g, const lane_t *l, const axis_t *ax, double y,
                 int64_t now, const ss_mon_config_t *cfg)
{
	char d[24], t[32];
	double s = bar_s(g, l, now);
	double x1 = xpos(ax, s);
	const char *cls = bar_class(l, cfg);
	wbuf_printf(b, "<g class=\"lane %s\" data-address=\"", cls);
	wbuf_html(b, l->address);
	wbuf_printf(b, "\"><text x=\"%.1f\" y=\"%.1f\" class=\"who\">", LABEL - 8, y + 12);
	wbuf_html(b, l->name);
	wbuf_printf(b,
	            "</text><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"10\" rx=\"2\">"
	            "<title>",
	            LABEL, y + 3, x1 - LABEL < 2 ? 2 : x1 - LABEL);
	wbuf_html(b, l->name);
	wbuf_puts(b, " (");
	wbuf_html(b, l->address);
	if (l->converged) {
		wbuf_printf(b, ") served %u at %s UTC, %s after the primary", g->serial,
		            web_time(l->converged_ms, t, sizeof(t)),
		            web_duration(l->lag_ms, d, sizeof(d)));
	} else {
		wbuf_printf(b, ") %s %u (%s since the primary served it)",
		            l->never ? "never served" : "still does not serve", g->serial,
		            web_duration((int64_t)(s * 1000), d, sizeof(d)));
	}
	wbuf_printf(b, "</title></rect><text x=\"%.1f\" y=\"%.1f\" class=\"lag\">", x1 + 6, y + 12);
	if (l->converged) {
		wbuf_puts(b, web_duration(l->lag_ms, d, sizeof(d)));
	} else {
		wbuf_puts(b, l->never ? "never" : "still behind");
	}
	wbuf_puts(b, "</text></g>\n");
}

static void group(wbuf_t *b, const group_t *g, const axis_t *ax, double y, int64_t now,
                  const ss_mon_config_t *cfg)
{
	char t[32];
	web_time(g->first_seen_ms, t, sizeof(t));
	t[10] = ' ';
	t[16] = '\0';
	wbuf_printf(
	    b,
	    "<g class=\"serial\" data-serial=\"%u\"><rect class=\"band\" x=\"0\" y=\"%.1f\" "
	    "width=\"%.0f\" height=\"%.1f\"/>"
	    "<text x=\"4\" y=\"%.1f\" class=\"sn\">%u</text>"
	    "<text x=\"%.1f\" y=\"%.1f\" class=\"when\">%s UTC · %s</text>"
	    "<path class=\"pub\" d=\"M%.1f %.1f l5 5 l-5 5 l-5 -5 z\"><title>the primary "
	    "served %u at %s UTC (%s)</title></path></g>\n",
	    g->serial, y, W, HEAD_H + LANE_H * (double)g->nlanes, y + 14, g->serial, LABEL + 10,
	    y + 14, t, ss_mon_via_name(g->via), LABEL, y + 4, g->serial, t,
	    ss_mon_via_name(g->via));
	for (size_t k = 0; k < g->nlanes; k++) {
		lane(b, g, &g->lanes[k], ax, y + HEAD_H + LANE_H * (double)k, now, cfg);
	}
}

/* The same data as a table, for screen readers and copy and paste. */
static void table(wbuf_t *b, const hist_t *h)
{
	wbuf_puts(b, "<details><summary>As a table</summary><div class=\"scroll\">"
	             "<table class=\"events\"><thead><tr><th scope=\"col\">Serial</th>"
	             "<th scope=\"col\">Published (UTC)</th><th scope=\"col\">Server</th>"
	             "<th scope=\"col\">Served (UTC)</th><th scope=\"col\">Lag</th></tr></thead>"
	             "<tbody>\n");
	for (size_t i = h->n; i-- > 0;) {
		const group_t *g = &h->g[i];
		for (size_t k = 0; k < g->nlanes; k++) {
			const lane_t *l = &g->lanes[k];
			char t1[32], t2[32], d[24];
			wbuf_printf(b,
			            "<tr><td class=\"mono\">%u</td><td class=\"mono\">%s</td><td>",
			            g->serial, web_time(g->first_seen_ms, t1, sizeof(t1)));
			wbuf_html(b, l->name);
			wbuf_printf(b, "</td><td class=\"mono\">%s</td><td>%s</td></tr>\n",
			            l->converged ? web_time(l->converged_ms, t2, sizeof(t2)) : "—",
			            l->converged ? web_duration(l->lag_ms, d, sizeof(d))
			            : l->never   ? "never"
			                         : "still behind");
		}
	}
	wbuf_puts(b, "</tbody></table></div></details>\n");
}

void render_timeline(wbuf_t *b, const web_source_t *src, const ss_mon_zone_t *z)
{
	hist_t *h = calloc(1, sizeof(*h));
	if (h == NULL) {
		b->failed = true;
		return;
	}
	const char *zones[] = {z->name};
	ss_mon_hist_query_t q = {.zones = zones, .nzones = 1, .last = LAST_SERIALS};
	if (src->serials != NULL) {
		src->serials(src->ctx, &q, collect, h);
	}
	if (h->n == 0) {
		wbuf_puts(b, "<p class=\"empty\">No change recorded yet: the timeline starts with "
		             "the next serial the primary publishes.</p>\n");
		free(h);
		return;
	}
	int64_t now = src->now_ms(src->ctx);
	const ss_mon_config_t *cfg = src->config(src->ctx);
	axis_t ax = make_axis(h, now);
	double height = AXIS_H;
	for (size_t i = 0; i < h->n; i++) {
		height += HEAD_H + LANE_H * (double)h->g[i].nlanes + GAP;
	}
	wbuf_printf(b,
	            "<figure class=\"timeline\"><svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
	            "aria-labelledby=\"tl-cap\" preserveAspectRatio=\"xMinYMin meet\">\n",
	            W, height);
	axis(b, &ax, height);
	double y = AXIS_H;
	for (size_t i = h->n; i-- > 0;) { /* newest first */
		group(b, &h->g[i], &ax, y, now, cfg);
		y += HEAD_H + LANE_H * (double)h->g[i].nlanes + GAP;
	}
	wbuf_puts(b, "</svg><figcaption id=\"tl-cap\">Each serial the primary published (newest "
	             "first) and how long every secondary took to serve it; the time axis is "
	             "logarithmic.</figcaption></figure>\n");
	table(b, h);
	free(h);
}
