/*
 * Transfers for every answering server of a zone, all concurrently; each
 * server's outcome lands in its observation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/checkxfr.h>
#include <soasync/error.h>
#include <soasync/xfr.h>

typedef enum { KIND_AXFR, KIND_AXFR_TSIG, KIND_IXFR } kind_t;

typedef struct {
	ss_zone_result_t *res;
	ss_xfr_plan_t plan;
	int pending;
	ss_check_xfr_cb cb;
	void *arg;
	char *(*errors)[3]; /* per server and kind, joined in a fixed order at the end */
} run_t;

typedef struct {
	run_t *run;
	size_t idx;
	kind_t kind;
} job_t;

static ss_xfr_state_t state_of(const ss_xfr_result_t *r)
{
	if (r->error == 0) {
		return SS_XFR_ALLOWED;
	}
	return r->error == SS_EREFUSED ? SS_XFR_REFUSED : SS_XFR_FAILED;
}

static const char *kind_name[] = {"AXFR", "AXFR with the key", "IXFR"};

static void note_error(run_t *run, size_t idx, kind_t kind, const ss_xfr_result_t *r)
{
	if (run->errors != NULL &&
	    asprintf(&run->errors[idx][kind], "%s: %s", kind_name[kind], r->detail) < 0) {
		run->errors[idx][kind] = NULL;
	}
}

/* "AXFR: ...; AXFR with the key: ...; IXFR: ..." whatever order they ended in. */
static void join_errors(run_t *run)
{
	ss_zone_obs_t *o = &run->res->obs;
	for (size_t i = 0; run->errors != NULL && i < o->nservers; i++) {
		char *joined = NULL;
		for (int k = 0; k < 3; k++) {
			char *e = run->errors[i][k], *next = NULL;
			if (e != NULL && asprintf(&next, "%s%s%s", joined ? joined : "",
			                          joined ? "; " : "", e) >= 0) {
				free(joined);
				joined = next;
			}
			free(e);
		}
		if (joined != NULL) {
			free(o->servers[i].xfr_error);
			o->servers[i].xfr_error = joined;
		}
	}
	free(run->errors);
}

static void step_done(run_t *run)
{
	if (--run->pending > 0) {
		return;
	}
	join_errors(run);
	ss_check_xfr_cb cb = run->cb;
	ss_zone_result_t *res = run->res;
	void *arg = run->arg;
	free(run);
	cb(res, arg);
}

static void xfr_done(const ss_xfr_result_t *r, void *arg)
{
	job_t *j = arg;
	ss_server_obs_t *s = &j->run->res->obs.servers[j->idx];
	ss_xfr_state_t st = state_of(r);
	switch (j->kind) {
	case KIND_AXFR:
		s->axfr = st;
		break;
	case KIND_AXFR_TSIG:
		s->axfr_tsig = st;
		break;
	case KIND_IXFR:
		s->ixfr = st;
		s->ixfr_kind = r->ixfr;
		break;
	}
	if (st != SS_XFR_ALLOWED) {
		note_error(j->run, j->idx, j->kind, r);
		s->xfr_too_large |= r->error == SS_ELIMIT;
	}
	if (st == SS_XFR_ALLOWED && j->kind != KIND_IXFR) {
		s->xfr_serial = r->serial;
		s->xfr_records = r->records;
	}
	run_t *run = j->run;
	free(j);
	step_done(run);
}

static void start_job(ss_engine_t *e, run_t *run, size_t idx, kind_t kind)
{
	const ss_server_obs_t *s = &run->res->obs.servers[idx];
	job_t *j = calloc(1, sizeof(*j));
	if (j == NULL) {
		return;
	}
	j->run = run;
	j->idx = idx;
	j->kind = kind;
	ss_xfr_opts_t o = {
	    .server = s->addr,
	    .zone = run->res->obs.zone,
	    .type = kind == KIND_IXFR ? KNOT_RRTYPE_IXFR : KNOT_RRTYPE_AXFR,
	    .ixfr_serial = s->soa.serial - 1,
	    .tsig = kind == KIND_AXFR_TSIG || (kind == KIND_IXFR && run->plan.tsig) ? run->plan.tsig
	                                                                            : NULL,
	    .limit_ms = run->plan.limit_ms,
	};
	run->pending++;
	if (ss_xfr_start(e, &o, NULL, xfr_done, j) != 0) {
		run->pending--;
		free(j);
	}
}

int ss_check_transfers(ss_engine_t *e, ss_zone_result_t *res, const ss_xfr_plan_t *plan,
                       ss_check_xfr_cb cb, void *arg)
{
	run_t *run = calloc(1, sizeof(*run));
	if (run == NULL) {
		return SS_ENOMEM;
	}
	run->res = res;
	run->plan = *plan;
	run->errors = calloc(res->obs.nservers + 1, sizeof(*run->errors));
	run->cb = cb;
	run->arg = arg;
	res->obs.xfr_check = !plan->digest;
	res->obs.content_check = plan->digest;
	res->obs.have_tsig = plan->tsig != NULL;
	run->pending = 1; /* guard */
	for (size_t i = 0; i < res->obs.nservers; i++) {
		if (!res->obs.servers[i].has_soa) {
			continue;
		}
		if (plan->axfr) {
			start_job(e, run, i, KIND_AXFR);
		}
		if (plan->tsig != NULL) {
			start_job(e, run, i, KIND_AXFR_TSIG);
		}
		if (plan->ixfr) {
			start_job(e, run, i, KIND_IXFR);
		}
	}
	step_done(run);
	return 0;
}
