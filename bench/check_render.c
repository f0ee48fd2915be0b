/*
 * The cost of check's renderers alone, per zone: the zone of bench/check.sh
 * (three servers answering the SOA with NSID, version and EDNS EXPIRE, in
 * sync) rendered N times as --json and as --nagios to /dev/null.
 *
 *   check_render [N]          (built into build/tests/unit/check_render)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "obs_fixture.h"
#include "render.h"

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench_zone(ss_zone_result_t *r)
{
	static const char *addr[] = {"127.55.0.1", "127.55.0.2", "127.55.0.3"};
	static const char *version[] = {"NSD 4.6.1", "Knot DNS 3.2.6", "9.18.49-1~deb12u3-Debian"};
	static const ss_vendor_t vendor[] = {SS_VENDOR_NSD, SS_VENDOR_KNOT, SS_VENDOR_BIND};
	fx_zone(r, "z00001.bench.");
	for (int i = 0; i < 3; i++) {
		ss_server_obs_t *s = fx_server(r, addr[i], NULL, 2025010101, false);
		s->rtt_us = 1618 + 170 * (uint32_t)i;
		s->vendor = vendor[i];
		s->version = strdup(version[i]);
		if (i == 1) {
			s->nsid = strdup("vm");
		}
		if (i > 0) {
			fx_expire(s, 1209600);
		}
	}
	ss_check_analyze(r);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	FILE *null = fopen("/dev/null", "w");
	ss_zone_result_t r;
	bench_zone(&r);
	double best_json = 1e9, best_nagios = 1e9;
	for (int run = 0; run < 3; run++) {
		double t0 = cpu_s();
		check_json_t *w = render_check_json_new(null);
		for (long i = 0; i < n; i++) {
			render_check_json_add(w, &r);
		}
		render_check_json_finish(w);
		fflush(null);
		double t1 = cpu_s();
		nagios_t ng = {0};
		for (long i = 0; i < n; i++) {
			render_nagios_add(&ng, &r);
		}
		render_nagios_print(null, &ng);
		render_nagios_free(&ng);
		double t2 = cpu_s();
		best_json = t1 - t0 < best_json ? t1 - t0 : best_json;
		best_nagios = t2 - t1 < best_nagios ? t2 - t1 : best_nagios;
	}
	printf("check --json   %.2f us per zone (%ld zones, best of 3, CPU)\n",
	       best_json * 1e6 / (double)n, n);
	printf("check --nagios %.2f us per zone\n", best_nagios * 1e6 / (double)n);
	ss_zone_result_clear(&r);
	fclose(null);
	return 0;
}
