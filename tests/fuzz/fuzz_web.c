/*
 * Fuzz target: the monitor's web renderers on hostile text. Zone names
 * come from configs and from the network (discovery), a filter and a
 * status from request URLs, the site from the config, findings' words from
 * servers: the input gives all of them, newline separated:
 *
 *   NAME1 \n NAME2 \n FILTER \n STATUS \n SITE \n MESSAGE
 *
 * Every exposition line must still be a comment or a series (a newline in
 * a label value escaped), the API must parse as JSON, the pages must
 * render, and a name must be found by itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web_fixture.h"

#define PARTS 6

static void split(const uint8_t *data, size_t size, char *part[PARTS])
{
	size_t at = 0;
	for (int i = 0; i < PARTS; i++) {
		size_t end = at;
		while (end < size && data[end] != '\n') {
			end++;
		}
		part[i] = malloc(end - at + 1);
		if (part[i] != NULL) {
			memcpy(part[i], data + at, end - at);
			part[i][end - at] = '\0'; /* a NUL inside ends the text there */
		}
		at = end < size ? end + 1 : size;
	}
}

static void check_metrics(const web_source_t *src)
{
	metrics_cursor_t c;
	metrics_cursor_init(&c, "fuzz\"\\\n");
	wbuf_t b = {0};
	int r;
	while ((r = render_metrics_step(src, &c, &b, 97)) == 0) {
	}
	metrics_cursor_clear(&c);
	if (r != 1) {
		abort();
	}
	for (const char *p = b.s; p != NULL && *p;) {
		if (strncmp(p, "# ", 2) != 0 && strncmp(p, "soasync_", 8) != 0) {
			abort(); /* a label value broke out of its line */
		}
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	wbuf_free(&b);
}

static void check_api(const web_source_t *src)
{
	api_cursor_t c;
	api_cursor_init(&c);
	c.cache = api_cache_new();
	for (int round = 0; round < 2; round++) { /* cold, then from the kept texts */
		wbuf_t b = {0};
		int r;
		while ((r = render_api_zones_step(src, &c, &b, 61)) == 0) {
		}
		json_t *doc = r == 1 ? json_loads(b.s, 0, NULL) : NULL;
		if (doc == NULL) {
			abort();
		}
		json_decref(doc);
		wbuf_free(&b);
		api_cache_t *k = c.cache;
		api_cursor_clear(&c);
		api_cursor_init(&c);
		c.cache = k;
	}
	api_cache_free(c.cache);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16) {
		return 0;
	}
	char *part[PARTS];
	split(data, size, part);
	fx_web_t fx;
	web_source_t src;
	if (fx_web_setup(&fx, 12, &src) == 0 && part[0] && part[1] && part[5]) {
		fx.zones[3].name = part[0];
		fx.zones[7].name = part[1];
		fx.cfg.site = part[4] && *part[4] ? part[4] : NULL;
		fx.findings[2 * 3].message = part[5]; /* zone 3's laggard */
		fx.servers[3 * 3 + 2].name = part[1];
		check_metrics(&src);
		check_api(&src);
		dash_opts_t o = {.filter = part[2], .status = part[3], .refresh_s = 5};
		wbuf_t b = {0};
		if (render_dashboard(&src, &o, &b) != 0 ||
		    render_zone_page(&src, &fx.zones[3], &o, &b) != 0) {
			abort();
		}
		wbuf_free(&b);
		json_decref(render_api_zone_full(&src, &fx.zones[7], 3));
		if (fx_find_zone(&fx, part[0]) == NULL) {
			abort();
		}
	}
	fx_web_free(&fx);
	for (int i = 0; i < PARTS; i++) {
		free(part[i]);
	}
	return 0;
}
