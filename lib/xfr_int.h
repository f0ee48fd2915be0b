/*
 * Internal: the transfer stream checker, apart from the engine, so the
 * transfer fuzz target can feed it messages directly.
 */
#ifndef SOASYNC_XFR_INT_H
#define SOASYNC_XFR_INT_H

#include <soasync/xfr.h>

typedef struct {
	ss_engine_t *e; /* NULL when fed directly (the fuzz target) */
	ss_xfr_opts_t o;
	knot_dname_t *zone; /* owned */
	ss_xfr_rr_cb rr_cb;
	ss_xfr_done_cb done_cb;
	void *arg;
	ss_xfr_result_t res;
	uint64_t start;
	unsigned soas_after_first;
	bool diff_mode;
} ss_xfr_stream_t;

/* Set up x for opts (zone copied). Returns 0 or SS_ENOMEM. */
int ss_xfr_stream_init(ss_xfr_stream_t *x, const ss_xfr_opts_t *opts, ss_xfr_rr_cb rr_cb,
                       void *arg);

/* One parsed message of the stream: 0 to read on, 1 complete, <0 error
 * (x->res.detail says why). */
int ss_xfr_stream_message(const knot_pkt_t *pkt, void *x);

void ss_xfr_stream_clear(ss_xfr_stream_t *x);

#endif
