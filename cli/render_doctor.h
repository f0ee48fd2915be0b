/*
 * soasync CLI: the renderer of `soasync doctor`. Text: the heading and each
 * step as soon as the model assessed it, each action on stderr as it
 * happens (before the step it explains), a progress line on a terminal,
 * then the server table, doctor's findings, the monitor's config lines and
 * the verdict as the last line. JSON: one object at the end (the progress
 * line still shows on a terminal). It formats what lib/doctor.c decided.
 */
#ifndef SOASYNC_RENDER_DOCTOR_H
#define SOASYNC_RENDER_DOCTOR_H

#include <stdbool.h>
#include <stdio.h>

#include <soasync/doctor.h>

typedef struct {
	FILE *out, *err;
	bool json;
	bool progress;       /* draw a progress line on err (a terminal) */
	bool progress_shown; /* one is on the screen now */
	bool began;          /* the heading is out */
	size_t actions_shown;
	int steps_shown;
} render_doctor_t;

void render_doctor_init(render_doctor_t *r, bool json, bool progress, FILE *out, FILE *err);

/* The actions and steps that are new since the last call (text; JSON keeps
 * them for the end). The first call prints the heading. */
void render_doctor_update(render_doctor_t *r, const ss_doctor_t *d);

/* The progress line: what doctor does or waits for now, e.g. "7 transfer:
 * waiting for ns2.example. (192.0.2.2) [3s/15s]" (awaited may be empty). */
void render_doctor_progress(render_doctor_t *r, const ss_doctor_t *d, const ss_zone_result_t *res,
                            ss_step_t step, const char *doing, double elapsed_s, double limit_s);

/* Erase the progress line (before a prompt, or anything else on the terminal). */
void render_doctor_progress_clear(render_doctor_t *r);

/* The YAML lines of `soasync monitor`'s config that watch this zone, each
 * line prefixed with indent. */
void render_doctor_monitor_yaml(FILE *f, const ss_doctor_t *d, const char *indent);

/* The end of the report (after ss_doctor_finish): res is the last probe.
 * Returns 0 or -1 (out of memory). */
int render_doctor_end(render_doctor_t *r, const ss_doctor_t *d, const ss_zone_result_t *res);

#endif
