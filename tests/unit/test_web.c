/* The monitor's web faces from synthetic zones: /metrics, the API, the
 * dashboard, and the HTTP server on a libuv loop (libcurl as the client). */
#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include <soasync/error.h>

#include "mon_http.h"
#include "web_fixture.h"

/* ---- helpers ------------------------------------------------------------- */

static char *metrics_all(const web_source_t *src, size_t budget, size_t *steps)
{
	metrics_cursor_t c;
	metrics_cursor_init(&c, "1.2.3");
	wbuf_t b = {0};
	int r;
	size_t n = 0;
	while ((r = render_metrics_step(src, &c, &b, budget)) == 0) {
		n++;
	}
	assert_int_equal(r, 1);
	metrics_cursor_clear(&c);
	if (steps != NULL) {
		*steps = n + 1;
	}
	return b.s;
}

/* By hand: under ASan, strstr() measures the whole haystack on every call. */
static size_t occurrences(const char *hay, const char *needle)
{
	size_t n = 0, len = strlen(needle), have = strlen(hay);
	for (size_t i = 0; i + len <= have; i++) {
		n += hay[i] == needle[0] && memcmp(hay + i, needle, len) == 0;
	}
	return n;
}

/* The one line starting with prefix, its value as text (or NULL). */
static const char *line_value(const char *text, const char *prefix, char *out, size_t len)
{
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (strncmp(p, prefix, strlen(prefix)) == 0 && p[strlen(prefix)] == ' ') {
			size_t v = n - strlen(prefix) - 1;
			snprintf(out, len, "%.*s", (int)v, p + strlen(prefix) + 1);
			return out;
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static const char *families[] = {
    "soasync_zone_status",
    "soasync_serial",
    "soasync_reference_serial",
    "soasync_server_behind",
    "soasync_lag_seconds",
    "soasync_convergence_seconds",
    "soasync_expire_seconds",
    "soasync_findings",
    "soasync_notify_received_total",
    "soasync_queries_total",
    "soasync_query_errors_total",
    "soasync_checks_total",
    "soasync_check_duration_seconds",
    "soasync_build_info",
};
#define NFAM (sizeof(families) / sizeof(families[0]))

/* Every series belongs to the family whose TYPE came last (one group per
 * family, as the format wants). */
static void assert_grouped(const char *text)
{
	char family[128] = "";
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (strncmp(p, "# TYPE ", 7) == 0) {
			snprintf(family, sizeof(family), "%.*s", (int)strcspn(p + 7, " "), p + 7);
		} else if (p[0] != '#') {
			if (family[0] == '\0' || strncmp(p, family, strlen(family)) != 0) {
				fail_msg("a series outside its family (%s): %.*s", family, (int)n,
				         p);
			}
		}
		p = nl ? nl + 1 : p + n;
	}
}

/* ---- /metrics ------------------------------------------------------------ */

static void test_metrics_families(void **state)
{
	(void)state;
	fx_web_t fx;
	web_source_t src;
	assert_int_equal(fx_web_setup(&fx, 20, &src), 0);
	char *m = metrics_all(&src, 1 << 20, NULL);
	char v[64], key[256];
	for (size_t i = 0; i < NFAM; i++) {
		snprintf(key, sizeof(key), "# HELP %s ", families[i]);
		assert_int_equal(occurrences(m, key), 1);
		snprintf(key, sizeof(key), "# TYPE %s ", families[i]);
		assert_int_equal(occurrences(m, key), 1);
	}
	assert_non_null(strstr(m, "# TYPE soasync_convergence_seconds histogram\n"));
	assert_non_null(strstr(m, "# TYPE soasync_queries_total counter\n"));
	/* zone 3: ns3 behind for 400 s, ns2 in sync */
	assert_string_equal(line_value(m,
	                               "soasync_server_behind{zone=\"z000003.example.\","
	                               "server=\"ns3.example.\",address=\"192.0.2.3#5300\"}",
	                               v, sizeof(v)),
	                    "1");
	assert_string_equal(line_value(m,
	                               "soasync_server_behind{zone=\"z000003.example.\","
	                               "server=\"ns2.example.\",address=\"192.0.2.2\"}",
	                               v, sizeof(v)),
	                    "0");
	assert_string_equal(line_value(m,
	                               "soasync_lag_seconds{zone=\"z000003.example.\","
	                               "server=\"ns3.example.\",address=\"192.0.2.3#5300\"}",
	                               v, sizeof(v)),
	                    "400");
	assert_string_equal(
	    line_value(m, "soasync_reference_serial{zone=\"z000003.example.\"}", v, sizeof(v)),
	    "2024010103");
	assert_string_equal(line_value(m,
	                               "soasync_findings{zone=\"z000007.example.\","
	                               "code=\"unreachable\",severity=\"critical\"}",
	                               v, sizeof(v)),
	                    "1");
	assert_string_equal(
	    line_value(m, "soasync_zone_status{zone=\"z000007.example.\"}", v, sizeof(v)), "2");
	/* cumulative buckets: 3 at le=2, 4 from le=10 on */
	assert_string_equal(
	    line_value(m,
	               "soasync_convergence_seconds_bucket{zone=\"z000000.example.\","
	               "le=\"2\"}",
	               v, sizeof(v)),
	    "3");
	assert_string_equal(
	    line_value(m,
	               "soasync_convergence_seconds_bucket{zone=\"z000000.example.\","
	               "le=\"+Inf\"}",
	               v, sizeof(v)),
	    "4");
	assert_string_equal(line_value(m, "soasync_build_info{version=\"1.2.3\"}", v, sizeof(v)),
	                    "1");
	assert_string_equal(
	    line_value(m, "soasync_query_errors_total{reason=\"timeout\"}", v, sizeof(v)), "17");
	assert_string_equal(
	    line_value(m, "soasync_notify_received_total{result=\"unknown-zone\"}", v, sizeof(v)),
	    "2");
	free(m);
	fx_web_free(&fx);
}

/* Small steps give the same exposition as one big one; families stay
 * contiguous. */
static void test_metrics_steps(void **state)
{
	(void)state;
	fx_web_t fx;
	web_source_t src;
	assert_int_equal(fx_web_setup(&fx, 200, &src), 0);
	size_t steps = 0;
	char *whole = metrics_all(&src, 1 << 24, NULL);
	char *parts = metrics_all(&src, 300, &steps);
	assert_true(steps > 100);
	assert_string_equal(whole, parts);
	assert_grouped(whole);
	free(whole);
	free(parts);
	fx_web_free(&fx);
}

/* A reload between two steps (zones removed) neither repeats nor skips
 * the zones that stay. */
static void test_metrics_reload(void **state)
{
	(void)state;
	fx_web_t fx;
	web_source_t src;
	assert_int_equal(fx_web_setup(&fx, 100, &src), 0);
	metrics_cursor_t c;
	metrics_cursor_init(&c, "x");
	wbuf_t b = {0};
	assert_int_equal(render_metrics_step(&src, &c, &b, 2000), 0);
	assert_non_null(strstr(b.s, "z000010.example."));
	assert_null(strstr(b.s, "z000090.example."));
	/* drop zones 0..49: the rest move 50 places up */
	memmove(fx.zones, fx.zones + 50, 50 * sizeof(fx.zones[0]));
	fx.n = 50;
	while (render_metrics_step(&src, &c, &b, 2000) == 0) {
	}
	metrics_cursor_clear(&c);
	assert_int_equal(occurrences(b.s, "soasync_zone_status{zone=\"z000090.example.\"}"), 1);
	assert_int_equal(occurrences(b.s, "soasync_zone_status{zone=\"z000060.example.\"}"), 1);
	assert_int_equal(occurrences(b.s, "soasync_zone_status{zone=\"z000001.example.\"}"), 1);
	wbuf_free(&b);
	fx_web_free(&fx);
}

/* metrics.per_address turned off by a reload in the middle of a scrape:
 * the rest of the per-address family is left out, the next family still
 * gets its HELP and TYPE. */
static void test_metrics_reload_per_address(void **state)
{
	(void)state;
	fx_web_t fx;
	web_source_t src;
	assert_int_equal(fx_web_setup(&fx, 50, &src), 0);
	metrics_cursor_t c;
	metrics_cursor_init(&c, "x");
	wbuf_t b = {0};
	while (strstr(b.s ? b.s : "", "soasync_serial{zone=\"z000003") == NULL) {
		assert_int_equal(render_metrics_step(&src, &c, &b, 200), 0);
	}
	fx.cfg.metrics_per_address = false;
	while (render_metrics_step(&src, &c, &b, 200) == 0) {
	}
	metrics_cursor_clear(&c);
	assert_grouped(b.s);
	assert_null(strstr(b.s, "soasync_serial{zone=\"z000049"));
	assert_int_equal(occurrences(b.s, "# TYPE soasync_reference_serial gauge"), 1);
	assert_int_equal(occurrences(b.s, "# TYPE soasync_build_info gauge"), 1);
	wbuf_free(&b);
	fx_web_free(&fx);
}

static void test_metrics_escape_site_per_zone(void **state)
{
	(void)state;
	fx_web_t fx;
	web_source_t src;
	assert_int_equal(fx_web_setup(&fx, 4, &src), 0);
	char weird[] = "a\"b\\c\nd.example.";
	fx.zones[1].name = weird;
	fx.cfg.site = "fra\"1";
	fx.cfg.metrics_per_address = false;
	char *m = metrics_all(&src, 1 << 20, NULL);
	char v[32];
	assert_string_equal(
	    line_value(m,
	               "soasync_zone_status{site=\"fra\\\"1\",zone=\"a\\\"b\\\\c\\nd."
	               "example.\"}",
	               v, sizeof(v)),
	    "0");
	assert_null(strstr(m, "soasync_serial{"));
	assert_null(strstr(m, "# TYPE soasync_server_behind"));
	assert_null(strstr(m, "address=\""));
	assert_non_null(strstr(m, "soasync_build_info{site=\"fra\\\"1\",version="));
	free(m);
	fx_web_free(&fx);
}

/* ---- the API ------------------------------------------------------------- */

static char *api_text(const web_source_t *src, size_t budget, api_cache_t *cache)
{
	api_cursor_t c;
	api_cursor_init(&c);
	c.cache = cache;
	wbuf_t b = {0};
	int r;
	while ((r = render_api_zones_step(src, &c, &b, budget)) == 0) {
	}
	assert_int_equal(r, 1);
	api_cursor_clear(&c);
	return b.s;
}

static json_t *parse(const char *text)
{
	json_error_t err;
	json_t *doc = json_loads(text, 0, &err);
	if (doc == NULL) {
		fail_msg("not JSON at %d: %s", err.position, err.text);
	}
	return doc;
}

static json_t *api_all(const web_source_t *src, size_t budget)
{
	char *text = api_text(src, budget, NULL);
	json_t *doc = parse(text);
	free(text);
	return doc;
}

/* The list's kept texts: the same list again, then only what changed
 * differs (a serial, a growing lag, zones a reload removed). */
static void test_api_cache(void **state)
{
	(void)state;
	fx_web_t fx;
	web_source_t src;
	assert_int_equal(fx_web_setup(&fx, 40, &src), 0);
	api_cache_t *cache = api_cache_new();
	char *cold = api_text(&src, 700, NULL);
	char *first = api_text(&src, 700, cache);
	char *again = api_text(&src, 900, cache);
	assert_string_equal(cold, first);
	assert_string_equal(first, again);
	free(again);

	fx.servers[3 * 5 + 1].serial = 7; /* zone 5, ns2 */
	fx.now += 60000;                  /* zone 3's laggard: 60 s more */
	char *warm = api_text(&src, 700, cache);
	char *fresh = api_text(&src, 700, NULL);
	assert_string_equal(warm, fresh);
	free(warm);
	free(fresh);
	memmove(fx.zones, fx.zones + 2, 38 * sizeof(fx.zones[0])); /* zones 0, 1 gone */
	fx.n = 38;
	warm = api_text(&src, 700, cache);
	fresh = api_text(&src, 700, NULL);
	assert_string_equal(warm, fresh);
	json_t *doc = parse(warm);
	json_t *zones = json_object_get(doc, "zones");
	assert_int_equal(json_array_size(zones), 38);
	json_t *z3 = json_array_get(zones, 1), *z5 = json_array_get(zones, 3);
	assert_string_equal(json_string_value(json_object_get(z5, "zone")), "z000005.example.");
	assert_int_equal(json_integer_value(json_object_get(
	                     json_array_get(json_object_get(z5, "servers"), 1), "serial")),
	                 7);
	assert_true(json_number_value(json_object_get(
	                json_array_get(json_object_get(z3, "servers"), 2), "lag_s")) == 460.0);
	json_decref(doc);
	free(cold);
	free(first);
	free(warm);
	free(fresh);
	api_cache_free(cache);
	fx_web_free(&fx);
}

/* A zone on more servers than the list's template has slots for: every
 * server in the list has the list's keys, the first as the last. */
static void test_api_list_many_servers(void **state)
{
	(void)state;
	fx_web_t fx;
	web_source_t src;
	assert_int_equal(fx_web_setup(&fx, 2, &src), 0);
	ss_mon_server_t many[12];
	char addr[12][32];
	for (size_t i = 0; i < 12; i++) {
		snprintf(addr[i], sizeof(addr[i]), "192.0.2.%u", (unsigned)(10 + i));
		fx_web_server(&many[i], addr[i], "ns.example.", 2024010100, i == 0);
	}
	fx.zones[1].servers = many;
	fx.zones[1].nservers = 12;
	json_t *doc = api_all(&src, 500);
	json_t *servers =
	    json_object_get(json_array_get(json_object_get(doc, "zones"), 1), "servers");
	assert_int_equal(json_array_size(servers), 12);
	for (size_t i = 0; i < 12; i++) {
		json_t *s = json_array_get(servers, i);
		assert_int_equal(json_object_size(s), 8);
		assert_null(json_object_get(s, "behind_since"));
		assert_string_equal(json_string_value(json_object_get(s, "address")), addr[i]);
		assert_true(json_is_integer(json_object_get(s, "lag_s")));
	}
	json_decref(doc);
	fx_web_free(&fx);
}

/* Texts rendered ahead, a slice at a time, wrapping: a zone with a server
 * behind is never kept; the list made from them is the list made afresh. */
static void test_api_warm(void **state)
{
	(void)state;
	fx_web_t fx;
	web_source_t src;
	assert_int_equal(fx_web_setup(&fx, 40, &src), 0);
	api_cache_t *cache = api_cache_new();
	api_cursor_t w;
	api_cursor_init(&w);
	w.cache = cache;
	assert_int_equal(render_api_warm(&src, &w, 0, 10), 10);
	assert_int_equal(api_cache_kept(cache), 8); /* zones 3 and 7 have a server behind */
	assert_int_equal(render_api_warm(&src, &w, 10, 35), 5);
	assert_int_equal(api_cache_kept(cache), 35);
	assert_int_equal(render_api_warm(&src, &w, 99, 1000), 0); /* past the end: from 0 */
	char *warm = api_text(&src, 700, cache);
	char *fresh = api_text(&src, 700, NULL);
	assert_string_equal(warm, fresh);
	free(warm);
	free(fresh);

	fx.servers[3 * 5 + 1].serial = 7; /* zone 5's kept text is stale now */
	render_api_warm(&src, &w, 5, 1);
	fx.servers[3 * 5 + 1].serial = 8; /* and again, after the step */
	warm = api_text(&src, 700, cache);
	fresh = api_text(&src, 700, NULL);
	assert_string_equal(warm, fresh);
	assert_non_null(strstr(warm, "\"serial\":8"));
	free(warm);
	free(fresh);
	api_cursor_clear(&w);
	api_cache_free(cache);
	fx_web_free(&fx);
}

static void test_api_zones(void **state)
{
	(void)state;
	fx_web_t fx;
	web_source_t src;
	assert_int_equal(fx_web_setup(&fx, 30, &src), 0);
	json_t *doc = api_all(&src, 500);
	json_t *zones = json_object_get(doc, "zones");
	assert_int_equal(json_array_size(zones), 30);
	assert_string_equal(json_string_value(json_object_get(doc, "time")),
	                    "2023-11-14T22:13:20.000Z");
	json_t *z3 = json_array_get(zones, 3);
	assert_string_equal(json_string_value(json_object_get(z3, "zone")), "z000003.example.");
	assert_string_equal(json_string_value(json_object_get(z3, "status")), "warning");
	assert_int_equal(json_integer_value(json_object_get(z3, "reference_serial")), 2024010103);
	json_t *s = json_array_get(json_object_get(z3, "servers"), 2);
	assert_string_equal(json_string_value(json_object_get(s, "address")), "192.0.2.3");
	assert_int_equal(json_integer_value(json_object_get(s, "port")), 5300);
	assert_true(json_is_true(json_object_get(s, "behind")));
	assert_true(json_number_value(json_object_get(s, "lag_s")) == 400.0);
	assert_string_equal(json_string_value(json_object_get(s, "verdict")), "behind");
	json_t *f = json_array_get(json_object_get(z3, "findings"), 0);
	assert_int_equal(json_object_size(f), 5);
	assert_string_equal(json_string_value(json_object_get(f, "code")), "serial-behind");
	assert_string_equal(json_string_value(json_array_get(json_object_get(f, "servers"), 0)),
	                    "192.0.2.3#5300");
	assert_string_equal(json_string_value(json_object_get(f, "fix")),
	                    "on 192.0.2.3: rndc retransfer example.");
	json_decref(doc);

	fx.n = 0;
	doc = api_all(&src, 500);
	assert_int_equal(json_array_size(json_object_get(doc, "zones")), 0);
	json_decref(doc);
	fx_web_free(&fx);
}

static void test_api_zone_history(void **state)
{
	(void)state;
	fx_web_t fx;
	web_source_t src;
	assert_int_equal(fx_web_setup(&fx, 3, &src), 0);
	json_t *o = render_api_zone_full(&src, &fx.zones[0], 3);
	assert_non_null(o);
	json_t *h = json_object_get(o, "history");
	assert_int_equal(json_array_size(h), 3);
	json_t *last = json_array_get(h, 2);
	assert_int_equal(json_integer_value(json_object_get(last, "serial")), 2024010104);
	const char *keys[] = {"zone", "serial", "first_seen", "via", "servers"};
	assert_int_equal(json_object_size(last), 5);
	for (size_t i = 0; i < 5; i++) {
		assert_non_null(json_object_get(last, keys[i]));
	}
	json_t *ns3 = json_array_get(json_object_get(last, "servers"), 1);
	assert_true(json_is_null(json_object_get(ns3, "lag_s")));
	assert_true(json_is_null(json_object_get(ns3, "converged_at")));
	json_t *ns2 = json_array_get(json_object_get(last, "servers"), 0);
	assert_true(json_real_value(json_object_get(ns2, "lag_s")) == 1.2);
	json_t *ev = json_object_get(o, "events");
	assert_int_equal(json_array_size(ev), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 0), "event")),
	                    "status");
	assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 0), "previous")),
	                    "ok");
	json_decref(o);
	fx_web_free(&fx);
}

/* A zone not checked yet (the monitor gives it as unknown) is unknown on
 * every face. */
static void test_unchecked_zone(void **state)
{
	(void)state;
	fx_web_t fx;
	web_source_t src;
	assert_int_equal(fx_web_setup(&fx, 2, &src), 0);
	fx.zones[1].checked = false;
	fx.zones[1].status = SS_STATUS_UNKNOWN;
	char v[64];
	char *m = metrics_all(&src, 1 << 20, NULL);
	assert_string_equal(
	    line_value(m, "soasync_zone_status{zone=\"z000001.example.\"}", v, sizeof(v)), "3");
	free(m);
	json_t *doc = api_all(&src, 500);
	json_t *z1 = json_array_get(json_object_get(doc, "zones"), 1);
	assert_string_equal(json_string_value(json_object_get(z1, "status")), "unknown");
	json_decref(doc);
	json_t *o = render_api_zone(&fx.zones[1], fx.now);
	assert_string_equal(json_string_value(json_object_get(o, "status")), "unknown");
	json_decref(o);
	dash_opts_t opts = {.status = "unknown"};
	wbuf_t b = {0};
	assert_int_equal(render_dashboard(&src, &opts, &b), 0);
	assert_non_null(strstr(b.s, "z000001.example."));
	assert_null(strstr(b.s, "z000000.example."));
	wbuf_free(&b);
	fx_web_free(&fx);
}

/* ---- the dashboard ------------------------------------------------------- */

static void test_dashboard_matrix(void **state)
{
	(void)state;
	fx_web_t fx;
	web_source_t src;
	assert_int_equal(fx_web_setup(&fx, 120, &src), 0);
	char weird[] = "<b>\"x.example.";
	fx.zones[119].name = weird;
	dash_opts_t o = {.refresh_s = 5};
	wbuf_t b = {0};
	assert_int_equal(render_dashboard(&src, &o, &b), 0);
	/* critical zones (7, 107) first, then warnings (3, 13...) */
	char *z7 = strstr(b.s, "data-zone=\"z000007.example.\"");
	char *z107 = strstr(b.s, "data-zone=\"z000107.example.\"");
	char *z3 = strstr(b.s, "data-zone=\"z000003.example.\"");
	char *z0 = strstr(b.s, "data-zone=\"z000000.example.\"");
	assert_non_null(z7);
	assert_true(z7 < z107 && z107 < z3 && z3 < z0);
	/* the laggard's cell: marked, its lag in words */
	const char *cell = "<td class=\"cell lag-warning\" data-state=\"lag-warning\" "
	                   "data-address=\"192.0.2.3#5300\" data-lag-s=\"400\"><span "
	                   "class=\"serial\">2024010102</span><span class=\"state\">behind 6m "
	                   "40s</span></td>";
	assert_non_null(strstr(z3, cell));
	assert_non_null(strstr(b.s, "<span class=\"n\">2</span><span class=\"l\">critical</span>"));
	assert_non_null(strstr(b.s, "&lt;b&gt;&quot;x.example."));
	assert_null(strstr(b.s, "<b>\"x"));
	assert_non_null(strstr(b.s, "href=\"/zone/%3Cb%3E%22x.example.\""));
	assert_non_null(strstr(b.s, "<meta http-equiv=\"refresh\" content=\"5\">"));
	wbuf_free(&b);

	o.filter = "00011";
	o.max_rows = 3;
	assert_int_equal(render_dashboard(&src, &o, &b), 0);
	/* z000011, z000110..118 match; the warning (113) first, then name order */
	assert_int_equal(occurrences(b.s, "<tr class="), 3);
	assert_non_null(strstr(b.s, "<tr class=\"warning\" data-zone=\"z000113.example.\"><th"));
	assert_true(strstr(b.s, "z000113.example.") < strstr(b.s, "data-zone=\"z000011.example."));
	assert_non_null(strstr(b.s, "Showing 3 of 10 matching zones"));
	wbuf_free(&b);
	fx_web_free(&fx);
}

static void test_zone_page(void **state)
{
	(void)state;
	fx_web_t fx;
	web_source_t src;
	assert_int_equal(fx_web_setup(&fx, 4, &src), 0);
	dash_opts_t o = {.refresh_s = 10};
	wbuf_t b = {0};
	/* zone 0 carries the history; give it zone 3's laggard too */
	fx.zones[0].findings = fx.zones[3].findings;
	fx.zones[0].nfindings = fx.zones[3].nfindings;
	assert_int_equal(render_zone_page(&src, &fx.zones[0], &o, &b), 0);
	assert_non_null(strstr(b.s, "<code>serial-behind</code>"));
	assert_non_null(strstr(b.s, "<b>Fix:</b> <span>on 192.0.2.3: rndc retransfer example."));
	assert_int_equal(occurrences(b.s, "<g class=\"serial\""), 5);
	assert_int_equal(occurrences(b.s, "<g class=\"lane never\""), 1);
	assert_int_equal(occurrences(b.s, "<g class=\"lane waiting\""), 1);
	assert_non_null(strstr(b.s, ">still behind</text>"));
	/* ns3 took 4 s * k^2: 1m 40s on the 5th serial but one: over 1 min, under 5 */
	assert_non_null(strstr(b.s, "ns3 &lt;behind&gt; &amp; &quot;late&quot;"));
	/* events newest first */
	char *conv = strstr(b.s, "<td>converged</td>"), *st = strstr(b.s, "<td>status</td>");
	assert_true(conv != NULL && st != NULL && conv < st);
	assert_int_equal(occurrences(b.s, "<g class=\"lane in-sync\""), 8);
	/* the bars graded by lag: ns3's 36 s past lag_warning, 64 s past lag_critical */
	fx.cfg.lag_warning_ms = 30000;
	fx.cfg.lag_critical_ms = 60000;
	b.len = 0;
	assert_int_equal(render_zone_page(&src, &fx.zones[0], &o, &b), 0);
	assert_int_equal(occurrences(b.s, "<g class=\"lane in-sync\""), 6);
	assert_int_equal(occurrences(b.s, "<g class=\"lane lag-warning\""), 1);
	assert_int_equal(occurrences(b.s, "<g class=\"lane lag-critical\""), 1);
	wbuf_free(&b);
	fx_web_free(&fx);
}

/* ---- the server ---------------------------------------------------------- */

typedef struct {
	long code;
	char *body;
	size_t len, cap;
	char headers[4096];
} reply_t;

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	reply_t *r = arg;
	if (r->len + sz * n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 65536;
		while (cap < r->len + sz * n + 1) {
			cap *= 2;
		}
		char *nb = realloc(r->body, cap);
		if (nb == NULL) {
			return 0;
		}
		r->body = nb;
		r->cap = cap;
	}
	memcpy(r->body + r->len, p, sz * n);
	r->len += sz * n;
	r->body[r->len] = '\0';
	return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
	reply_t *r = arg;
	size_t have = strlen(r->headers);
	snprintf(r->headers + have, sizeof(r->headers) - have, "%.*s", (int)(sz * n), p);
	return sz * n;
}

typedef struct {
	char base[64];
	uv_async_t done;
	fx_web_t *fx;
	/* results, checked on the loop's thread */
	reply_t root, metrics, head, post, missing, api_zone, api_missing, api_list, health, sick,
	    css, css304, big_header, after_idle, bad_last;
	int idle_refused;
	uv_timer_t tick;
	unsigned ticks, ticks_during_metrics;
	volatile int phase;
} client_t;

static void get(client_t *c, reply_t *r, const char *path, const char *method, const char *header)
{
	CURL *h = curl_easy_init();
	char url[4096 + 128];
	struct curl_slist *hl = header ? curl_slist_append(NULL, header) : NULL;
	snprintf(url, sizeof(url), "%s%s", c->base, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (hl != NULL) {
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	}
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	if (curl_easy_perform(h) == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->code);
	}
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
}

/* Connections that send nothing, from one address (the per-address limit). */
static int idle_connections(const char *from, int port, int n, int *fds)
{
	int ok = 0;
	for (int i = 0; i < n; i++) {
		struct sockaddr_in src = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET};
		inet_pton(AF_INET, from, &src.sin_addr);
		inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
		dst.sin_port = htons((uint16_t)port);
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (bind(fds[i], (struct sockaddr *)&src, sizeof(src)) == 0 &&
		    connect(fds[i], (struct sockaddr *)&dst, sizeof(dst)) == 0) {
			ok++;
		}
	}
	return ok;
}

/* The server closes what is over the per-address limit at once. */
static int closed_by_peer(const int *fds, int n)
{
	int closed = 0;
	for (int i = 0; i < n; i++) {
		char c;
		struct timeval tv = {0, 300000};
		setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		closed += recv(fds[i], &c, 1, 0) == 0;
	}
	return closed;
}

static void *client_main(void *arg)
{
	client_t *c = arg;
	get(c, &c->root, "/", "GET", NULL);
	c->phase = 1;
	get(c, &c->metrics, "/metrics", "GET", NULL);
	c->phase = 2;
	get(c, &c->head, "/metrics", "HEAD", NULL);
	get(c, &c->post, "/metrics", "POST", NULL);
	get(c, &c->missing, "/etc/passwd", "GET", NULL);
	get(c, &c->api_zone, "/api/v1/zones/Z000003.example?last=2", "GET", NULL);
	get(c, &c->api_missing, "/api/v1/zones/nope.example.", "GET", NULL);
	get(c, &c->bad_last, "/api/v1/zones/z000003.example?last=+2", "GET", NULL);
	get(c, &c->api_list, "/api/v1/zones", "GET", NULL);
	get(c, &c->health, "/healthz", "GET", NULL);
	c->phase = 3; /* the loop makes the fixture sick */
	while (c->phase != 4) {
		usleep(1000);
	}
	get(c, &c->sick, "/healthz", "GET", NULL);
	get(c, &c->css, "/assets/dashboard.css?v=x", "GET", NULL);
	char inm[128] = "If-None-Match: ";
	const char *etag = strstr(c->css.headers, "ETag: ");
	if (etag != NULL) {
		snprintf(inm + 15, sizeof(inm) - 15, "%.*s", (int)strcspn(etag + 6, "\r\n"),
		         etag + 6);
	}
	get(c, &c->css304, "/assets/dashboard.css", "GET", inm);
	static char big[12000];
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "X-Big: ", 7);
	get(c, &c->big_header, "/metrics", "GET", big);
	int fds[40];
	int port = atoi(strrchr(c->base, ':') + 1);
	idle_connections("127.0.0.77", port, 40, fds);
	c->idle_refused = closed_by_peer(fds, 40);
	snprintf(c->base, sizeof(c->base), "http://127.0.0.1:%d", port);
	get(c, &c->after_idle, "/api/v1/zones/z000001.example.", "GET", NULL);
	for (int i = 0; i < 40; i++) {
		close(fds[i]);
	}
	uv_async_send(&c->done);
	return NULL;
}

static void on_done(uv_async_t *a)
{
	uv_stop(a->loop);
}

static void on_tick(uv_timer_t *t)
{
	client_t *c = t->data;
	c->ticks++;
	c->ticks_during_metrics += c->phase == 1;
	if (c->phase == 3) {
		c->fx->healthy = false;
		c->phase = 4;
	}
}

static void free_reply(reply_t *r)
{
	free(r->body);
}

static void test_server(void **state)
{
	(void)state;
	fx_web_t fx;
	web_source_t src;
	assert_int_equal(fx_web_setup(&fx, 5000, &src), 0);
	uv_loop_t loop;
	uv_loop_init(&loop);
	ss_addr_t addr;
	ss_addr_parse(&addr, "127.0.0.1", 0);
	mon_http_t *h = NULL;
	char err[256];
	mon_http_opts_t o = {.version = "9.9", .chunk = 16384, .per_ip = 8};
	int ret = mon_http_start(&loop, &addr, &src, &o, &h, err, sizeof(err));
	if (ret != 0) {
		fail_msg("%s", err);
	}
	static client_t c;
	memset(&c, 0, sizeof(c));
	c.fx = &fx;
	snprintf(c.base, sizeof(c.base), "http://127.0.0.1:%u", ss_addr_port(mon_http_address(h)));
	uv_async_init(&loop, &c.done, on_done);
	uv_timer_init(&loop, &c.tick);
	c.tick.data = &c;
	uv_timer_start(&c.tick, on_tick, 1, 1);
	pthread_t th;
	pthread_create(&th, NULL, client_main, &c);
	uv_run(&loop, UV_RUN_DEFAULT);
	pthread_join(th, NULL);
	mon_http_stop(h);
	uv_close((uv_handle_t *)&c.done, NULL);
	uv_close((uv_handle_t *)&c.tick, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);

	assert_int_equal(c.root.code, 200);
	assert_non_null(strstr(c.root.headers, "Content-Type: text/html; charset=utf-8"));
	assert_non_null(strstr(c.root.body, "class=\"matrix\""));
	assert_int_equal(c.metrics.code, 200);
	assert_non_null(
	    strstr(c.metrics.headers, "Content-Type: text/plain; version=0.0.4; charset=utf-8"));
	assert_non_null(strstr(c.metrics.body, "soasync_build_info{version=\"9.9\"} 1\n"));
	assert_int_equal(occurrences(c.metrics.body, "soasync_zone_status{zone="), 5000);
	/* the loop ran while the 5,000 zones (11 MB) were rendered and sent */
	assert_true(c.ticks_during_metrics >= 2);
	assert_int_equal(c.head.code, 200);
	assert_int_equal(c.head.len, 0);
	assert_int_equal(c.post.code, 405);
	assert_non_null(strstr(c.post.headers, "Allow: GET, HEAD"));
	assert_int_equal(c.missing.code, 404);
	assert_int_equal(c.api_zone.code, 200);
	json_t *z = json_loads(c.api_zone.body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(z, "zone")), "z000003.example.");
	json_decref(z);
	assert_int_equal(c.api_missing.code, 404);
	assert_int_equal(c.bad_last.code, 400); /* strtoul alone took "+2" */
	assert_non_null(strstr(c.api_missing.body, "\"error\""));
	assert_int_equal(c.api_list.code, 200);
	z = json_loads(c.api_list.body, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(z, "zones")), 5000);
	json_decref(z);
	assert_int_equal(c.health.code, 200);
	assert_int_equal(c.sick.code, 503);
	assert_int_equal(c.css.code, 200);
	assert_non_null(strstr(c.css.headers, "Content-Type: text/css"));
	assert_int_equal(c.css304.code, 304);
	assert_true(c.big_header.code == 431 || c.big_header.code == 413);
	/* 8 idle connections kept from 127.0.0.77, the other 32 closed; another
	 * address is still served */
	assert_int_equal(c.idle_refused, 32);
	assert_int_equal(c.after_idle.code, 200);
	reply_t *all[] = {&c.root,     &c.metrics,     &c.head,       &c.post,      &c.missing,
	                  &c.api_zone, &c.api_missing, &c.api_list,   &c.health,    &c.sick,
	                  &c.css,      &c.css304,      &c.big_header, &c.after_idle};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		free_reply(all[i]);
	}
	fx_web_free(&fx);
}

static void test_server_bind_error(void **state)
{
	(void)state;
	fx_web_t fx;
	web_source_t src;
	assert_int_equal(fx_web_setup(&fx, 1, &src), 0);
	uv_loop_t loop;
	uv_loop_init(&loop);
	ss_addr_t addr;
	ss_addr_parse(&addr, "127.0.0.1", 0);
	mon_http_t *a = NULL, *b = NULL;
	char err[256];
	assert_int_equal(mon_http_start(&loop, &addr, &src, NULL, &a, err, sizeof(err)), 0);
	assert_int_equal(
	    mon_http_start(&loop, mon_http_address(a), &src, NULL, &b, err, sizeof(err)),
	    SS_ENETWORK);
	assert_non_null(strstr(err, "listen.http 127.0.0.1#"));
	assert_non_null(strstr(err, "Address already in use"));
	mon_http_stop(a);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	fx_web_free(&fx);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_metrics_families),
	    cmocka_unit_test(test_metrics_steps),
	    cmocka_unit_test(test_metrics_reload),
	    cmocka_unit_test(test_metrics_reload_per_address),
	    cmocka_unit_test(test_metrics_escape_site_per_zone),
	    cmocka_unit_test(test_api_zones),
	    cmocka_unit_test(test_api_cache),
	    cmocka_unit_test(test_api_warm),
	    cmocka_unit_test(test_api_list_many_servers),
	    cmocka_unit_test(test_api_zone_history),
	    cmocka_unit_test(test_unchecked_zone),
	    cmocka_unit_test(test_dashboard_matrix),
	    cmocka_unit_test(test_zone_page),
	    cmocka_unit_test(test_server),
	    cmocka_unit_test(test_server_bind_error),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return r;
}
