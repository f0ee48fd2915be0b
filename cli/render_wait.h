/*
 * soasync CLI: the renderer of `soasync wait`: the progress line, the last
 * line (or the servers still behind), the JSON object. It formats what
 * lib/doctor_wait.c decided.
 */
#ifndef SOASYNC_RENDER_WAIT_H
#define SOASYNC_RENDER_WAIT_H

#include <stdbool.h>
#include <stdio.h>

#include <soasync/wait.h>

typedef struct {
	FILE *out, *err;
	bool json;
	bool progress;        /* draw a progress line on err (a terminal) */
	uint64_t deadline_ms; /* the whole wait, for the progress line */
	const ss_wait_target_t *target;
} render_wait_t;

/* "soasync: ZONE: 2/3 at 101 or later [3s/30s] waiting for ..." (replaced
 * by the next one; nothing unless r->progress). */
void render_wait_progress(const render_wait_t *r, const ss_zone_result_t *res, double elapsed_s);

/*
 * The end: the JSON object, or on a verdict the line on out, or at the
 * deadline the servers not at the target on err. Returns 0 or -1 (out of
 * memory).
 */
int render_wait_end(const render_wait_t *r, const ss_zone_result_t *res, ss_wait_verdict_t v,
                    double elapsed_s, unsigned rounds);

#endif
