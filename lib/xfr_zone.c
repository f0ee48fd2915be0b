/*
 * A transfer fed record by record into the zone model.
 */
#include <stdio.h>
#include <stdlib.h>

#include <soasync/error.h>
#include <soasync/xfr.h>
#include <soasync/zone.h>

#include "zone_int.h"

typedef struct {
	ss_engine_t *e;
	ss_zone_t *zone;
	ss_zone_xfr_cb cb;
	void *arg;
} zx_t;

static int add_rr(const knot_rrset_t *rr, void *arg)
{
	zx_t *z = arg;
	return ss_zone_add_rrset(z->zone, rr);
}

static void release_hold(void *hold)
{
	ss_xfr_hold_release(hold);
}

static void done(const ss_xfr_result_t *res, void *arg)
{
	zx_t *z = arg;
	ss_xfr_result_t r = *res;
	int ret = res->error;
	if (ret == 0) {
		ret = ss_zone_finish(z->zone);
		if (ret != 0) {
			r.error = ret;
			snprintf(r.detail, sizeof(r.detail), "the transferred zone: %s",
			         ss_strerror(ret));
		}
	}
	if (ret != 0) {
		ss_zone_free(z->zone);
		z->zone = NULL;
	} else {
		/* The zone keeps the transfer's share of the memory budget. */
		zone_on_free(z->zone, release_hold, ss_engine_stream_keep(z->e));
	}
	z->cb(z->zone, &r, z->arg);
	free(z);
}

int ss_zone_transfer(ss_engine_t *e, const ss_xfr_opts_t *opts, ss_zone_xfr_cb cb, void *arg)
{
	zx_t *z = calloc(1, sizeof(*z));
	if (z == NULL || (z->zone = ss_zone_new(opts->zone)) == NULL) {
		free(z);
		return SS_ENOMEM;
	}
	z->e = e;
	z->cb = cb;
	z->arg = arg;
	ss_xfr_opts_t o = *opts;
	o.type = KNOT_RRTYPE_AXFR;
	o.keep = true;
	int ret = ss_xfr_start(e, &o, add_rr, done, z);
	if (ret != 0) {
		ss_zone_free(z->zone);
		free(z);
	}
	return ret;
}
