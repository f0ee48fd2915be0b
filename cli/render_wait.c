#include <inttypes.h>
#include <string.h>

#include <jansson.h>

#include <soasync/error.h>

#include "render.h"
#include "render_wait.h"

/* "ns2 (192.0.2.2) serves 5" for each server not at the target. */
static void describe_laggards(FILE *f, const ss_zone_result_t *r, const ss_wait_target_t *t)
{
	size_t n = 0;
	for (size_t i = 0; i < r->obs.nservers; i++) {
		const ss_server_obs_t *s = &r->obs.servers[i];
		ss_wait_state_t st = ss_wait_server(s, t);
		if (st == SS_WAIT_IGNORED || st == SS_WAIT_AT_TARGET) {
			continue;
		}
		char a[SS_ADDR_STRLEN];
		const char *name = s->name;
		fprintf(f, "%s%s%s%s%s", n++ ? "; " : "", name ? name : "", name ? " (" : "",
		        ss_addr_format(&s->addr, a, sizeof(a)), name ? ")" : "");
		if (s->has_soa) {
			fprintf(f, " serves %" PRIu32 "%s", s->soa.serial,
			        st == SS_WAIT_MISSING ? " without the expected records" : "");
		} else {
			fprintf(f, ": %s",
			        st == SS_WAIT_DEAD
			            ? ss_strerror(s->error)
			            : (s->detail ? s->detail : render_rcode(s->rcode)));
		}
	}
}

/* "30s", "1.5s". */
static void print_limit(FILE *f, uint64_t ms)
{
	if (ms % 1000 == 0) {
		fprintf(f, "%" PRIu64 "s", ms / 1000);
	} else {
		fprintf(f, "%.1fs", (double)ms / 1000.0);
	}
}

void render_wait_progress(const render_wait_t *r, const ss_zone_result_t *res, double elapsed_s)
{
	if (!r->progress) {
		return;
	}
	ss_wait_tally_t t = ss_wait_tally(res, r->target);
	fprintf(r->err, "\r\033[Ksoasync: %s: %zu/%zu at %" PRIu32 " or later [%.0fs/",
	        res->obs.zone_str, t.ok, t.total, r->target->serial, elapsed_s);
	print_limit(r->err, r->deadline_ms);
	fputs("] waiting for ", r->err);
	describe_laggards(r->err, res, r->target);
	fflush(r->err);
}

static int end_json(const render_wait_t *r, const ss_zone_result_t *res, bool ok, double elapsed,
                    unsigned rounds)
{
	json_t *servers = json_array();
	for (size_t i = 0; servers && i < res->obs.nservers; i++) {
		const ss_server_obs_t *s = &res->obs.servers[i];
		char addr[SS_ADDR_STRLEN];
		json_array_append_new(
		    servers,
		    json_pack("{s:o, s:s, s:i, s:o, s:b}", "name",
		              s->name ? json_string(s->name) : json_null(), "address",
		              ss_addr_ntop(&s->addr, addr, sizeof(addr)), "port",
		              (int)ss_addr_port(&s->addr), "serial",
		              s->has_soa ? json_integer(s->soa.serial) : json_null(), "at_target",
		              ss_wait_server(s, r->target) == SS_WAIT_AT_TARGET));
	}
	return render_json_line(r->out, json_pack("{s:s, s:b, s:I, s:f, s:i, s:o}", "zone",
	                                          res->obs.zone_str, "converged", ok, "serial",
	                                          (json_int_t)r->target->serial, "elapsed_s",
	                                          (double)(long long)(elapsed * 1000) / 1000.0,
	                                          "rounds", (int)rounds, "servers", servers));
}

int render_wait_end(const render_wait_t *r, const ss_zone_result_t *res, ss_wait_verdict_t v,
                    double elapsed_s, unsigned rounds)
{
	const char *z = res->obs.zone_str;
	uint32_t serial = r->target->serial;
	ss_wait_tally_t t = ss_wait_tally(res, r->target);
	if (r->progress) {
		fputs("\r\033[K", r->err);
	}
	if (r->json) {
		return end_json(r, res, v != SS_WAIT_NOT_YET, elapsed_s, rounds);
	}
	switch (v) {
	case SS_WAIT_NOT_YET:
		fprintf(r->err, "soasync: %s: deadline passed after %.0f s: not at %" PRIu32 ": ",
		        z, elapsed_s, serial);
		describe_laggards(r->err, res, r->target);
		fputc('\n', r->err);
		return 0;
	case SS_WAIT_ALL:
		fprintf(r->out, "%s: every server serves %" PRIu32 " or later", z, serial);
		break;
	case SS_WAIT_QUORUM:
		fprintf(r->out,
		        "%s: %zu of %zu servers serve %" PRIu32 " or later (quorum %u reached)", z,
		        t.ok, t.total, serial, r->target->quorum);
		break;
	case SS_WAIT_ANSWERING:
		fprintf(r->out,
		        "%s: every answering server serves %" PRIu32
		        " or later (%zu not answering, "
		        "ignored)",
		        z, serial, t.dead);
		break;
	}
	fprintf(r->out, " (%.1f s, %u round%s)\n", elapsed_s, rounds, rounds == 1 ? "" : "s");
	return 0;
}
