/*
 * The web faces on synthetic zones (tests/unit/web_fixture.h), for
 * benchmarks and for looking at the dashboard without a fleet:
 *
 *   web_serve render ZONES [per-zone] [metrics|api]  time the renderers, print sizes
 *   web_serve serve ZONES ADDR#PORT [per-zone]      serve until SIGTERM/SIGINT
 *   web_serve dump ZONES [per-zone] [site]          the exposition on stdout (tests)
 *
 * Built into build/tests/unit/web_serve (see bench/web.sh).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mon_http.h"
#include "web_fixture.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Render everything in 64 KiB steps, as the server does; keep only sizes.
 * which: 0 /metrics, 1 /api/v1/zones (with cache: the texts kept). */
static void render(const web_source_t *src, int which, api_cache_t *cache, size_t *bytes,
                   size_t *steps)
{
	metrics_cursor_t m;
	api_cursor_t a;
	metrics_cursor_init(&m, "bench");
	api_cursor_init(&a);
	a.cache = cache;
	wbuf_t b = {0};
	int r = 0;
	*bytes = *steps = 0;
	while (r == 0) {
		b.len = 0;
		r = which == 0 ? render_metrics_step(src, &m, &b, 65536)
		               : render_api_zones_step(src, &a, &b, 65536);
		*bytes += b.len;
		(*steps)++;
	}
	if (r < 0) {
		fprintf(stderr, "web_serve: out of memory\n");
		exit(1);
	}
	metrics_cursor_clear(&m);
	api_cursor_clear(&a);
	wbuf_free(&b);
}

static int only = -1; /* "metrics" or "api": that renderer alone */

static void bench_one(fx_web_t *fx, const web_source_t *src, int which, api_cache_t *cache,
                      const char *name)
{
	double best = 1e9, best_cpu = 1e9;
	size_t bytes = 0, steps = 0;
	for (int run = 0; run < 3; run++) {
		double t0 = now_s(), c0 = cpu_s();
		render(src, which, cache, &bytes, &steps);
		double t = now_s() - t0, c = cpu_s() - c0;
		best = t < best ? t : best;
		best_cpu = c < best_cpu ? c : best_cpu;
	}
	printf("%-22s zones=%zu per_address=%d bytes=%zu (%.0f per zone) steps=%zu "
	       "render=%.3fs cpu=%.3fs (%.0f MB/s)\n",
	       name, fx->n, fx->cfg.metrics_per_address, bytes,
	       (double)bytes / (double)(fx->n ? fx->n : 1), steps, best, best_cpu,
	       (double)bytes / best / 1e6);
}

/* The list twice: cold (every zone rendered), then warm (the texts kept by
 * the first run; zones with a server behind are rendered again). */
static int bench(fx_web_t *fx, const web_source_t *src)
{
	if (only != 1) {
		bench_one(fx, src, 0, NULL, "/metrics");
	}
	if (only != 0) {
		bench_one(fx, src, 1, NULL, "/api/v1/zones (cold)");
		api_cache_t *cache = api_cache_new();
		size_t bytes, steps;
		render(src, 1, cache, &bytes, &steps);
		bench_one(fx, src, 1, cache, "/api/v1/zones (kept)");
		api_cache_free(cache);
	}
	return 0;
}

static int dump(const web_source_t *src)
{
	metrics_cursor_t m;
	metrics_cursor_init(&m, "0.0-test");
	wbuf_t b = {0};
	int r = 0;
	while (r == 0) {
		b.len = 0;
		r = render_metrics_step(src, &m, &b, 65536);
		fwrite(b.s, 1, b.len, stdout);
	}
	metrics_cursor_clear(&m);
	wbuf_free(&b);
	return r == 1 ? 0 : 1;
}

static uv_signal_t sigs[2];
static mon_http_t *server;

/* What the monitor's checks would feel: a 10 ms timer on the same loop, and
 * the longest it waited beyond its due time while requests were served. */
static uv_timer_t probe;
static uint64_t probe_due, worst_late, ticks;

static void on_probe(uv_timer_t *t)
{
	uint64_t now = uv_now(t->loop);
	if (probe_due != 0 && now > probe_due && now - probe_due > worst_late) {
		worst_late = now - probe_due;
	}
	ticks++;
	probe_due = now + 10;
}

static void on_signal(uv_signal_t *s, int signum)
{
	(void)signum;
	mon_http_stop(server);
	uv_close((uv_handle_t *)&sigs[0], NULL);
	uv_close((uv_handle_t *)&sigs[1], NULL);
	uv_close((uv_handle_t *)&probe, NULL);
	fprintf(stderr,
	        "web_serve: a 10 ms timer on the loop was late by %llu ms at most (%llu ticks)\n",
	        (unsigned long long)worst_late, (unsigned long long)ticks);
	(void)s;
}

static int serve(const web_source_t *src, const char *addr_text)
{
	uv_loop_t *loop = uv_default_loop();
	ss_addr_t addr;
	char err[256];
	if (ss_addr_parse(&addr, addr_text, 9153) != 0) {
		fprintf(stderr, "web_serve: bad address %s\n", addr_text);
		return 2;
	}
	mon_http_opts_t o = {.version = "bench"};
	if (mon_http_start(loop, &addr, src, &o, &server, err, sizeof(err)) != 0) {
		fprintf(stderr, "web_serve: %s\n", err);
		return 1;
	}
	uv_signal_init(loop, &sigs[0]);
	uv_signal_init(loop, &sigs[1]);
	uv_signal_start(&sigs[0], on_signal, SIGTERM);
	uv_signal_start(&sigs[1], on_signal, SIGINT);
	uv_timer_init(loop, &probe);
	uv_timer_start(&probe, on_probe, 10, 10);
	fprintf(stderr, "web_serve: serving on %s\n", addr_text);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr,
		        "usage: web_serve render|dump ZONES [per-zone] [site] [metrics|api] | "
		        "serve ZONES ADDR#PORT [per-zone]\n");
		return 2;
	}
	fx_web_t fx;
	web_source_t src;
	if (fx_web_init(&fx, strtoul(argv[2], NULL, 10)) != 0) {
		fprintf(stderr, "web_serve: out of memory\n");
		return 1;
	}
	fx_web_source(&fx, &src);
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "per-zone") == 0) {
			fx.cfg.metrics_per_address = false;
		} else if (strcmp(argv[i], "site") == 0) {
			fx.cfg.site = "fra-1 \"edge\"";
		} else if (strcmp(argv[i], "metrics") == 0 || strcmp(argv[i], "api") == 0) {
			only = strcmp(argv[i], "api") == 0;
		}
	}
	int ret = 0;
	if (strcmp(argv[1], "serve") == 0 && argc >= 4) {
		ret = serve(&src, argv[3]);
	} else if (strcmp(argv[1], "dump") == 0) {
		ret = dump(&src);
	} else {
		ret = bench(&fx, &src);
	}
	fx_web_free(&fx);
	return ret;
}
