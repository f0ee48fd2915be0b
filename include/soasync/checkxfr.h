/*
 * soasync: zone transfers for the servers of a checked zone: the transfer
 * policy (xfr-check) and the transferred content (check --content). Fills
 * the transfer fields of each ss_server_obs_t; the findings come from
 * ss_check_analyze().
 */
#ifndef SOASYNC_CHECKXFR_H
#define SOASYNC_CHECKXFR_H

#include <stdbool.h>

#include <libknot/libknot.h>

#include <soasync/api.h>
#include <soasync/check.h>
#include <soasync/engine.h>

typedef struct {
	bool axfr;                   /* an unsigned AXFR */
	const knot_tsig_key_t *tsig; /* also a signed AXFR (borrowed until done) */
	bool ixfr;                   /* an IXFR from the server's serial - 1 */
	bool digest;                 /* keep the transferred zone's content digest */
	unsigned limit_ms;           /* per transfer (0: 600 s) */
} ss_xfr_plan_t;

typedef void (*ss_check_xfr_cb)(ss_zone_result_t *res, void *arg);

/*
 * Run the plan against every server of res that answered with the zone's
 * SOA (res borrowed until cb). Sets res->obs.xfr_check / content_check /
 * have_tsig from the plan. Returns 0 (cb will be called) or SS_ENOMEM.
 */
SS_API int ss_check_transfers(ss_engine_t *e, ss_zone_result_t *res, const ss_xfr_plan_t *plan,
                              ss_check_xfr_cb cb, void *arg);

#endif
