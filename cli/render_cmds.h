/*
 * soasync CLI: the renderers of notify, xfr-check, diff, serial and guard.
 * They print what the library decided (results to stdout, refusals and
 * explanations to stderr as "soasync: NAME: ..."); they decide nothing.
 * Every JSON document is built with jansson.
 */
#ifndef SOASYNC_RENDER_CMDS_H
#define SOASYNC_RENDER_CMDS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include <soasync/check.h>
#include <soasync/notify.h>
#include <soasync/serial.h>
#include <soasync/zone.h>

/* A JSON string of s (new reference): s itself when it is UTF-8, else with
 * every byte above 0x7f written \DDD, as zone files write it. NULL: null. */
json_t *render_json_text(const char *s);

/* notify: one line per target, or one JSON object (zone, serial, targets;
 * n may be 0: nothing was to be notified). */
void render_notify(FILE *f, bool json, const char *zone, uint32_t serial,
                   const ss_notify_result_t *res, size_t n);

/* xfr-check: the table and findings, or one JSON line. 0 or -1 (no memory). */
void render_xfr_table(FILE *f, const ss_zone_result_t *res, bool color);
int render_xfr_json(FILE *f, const ss_zone_result_t *res);

/* diff: "- record" / "+ record" lines as they come, or one JSON object
 * {"only_in_a": [...], "only_in_b": [...]} at the end. */
typedef struct render_diff render_diff_t;
render_diff_t *render_diff_new(FILE *f, bool json);
/* An ss_diff_cb: arg is the render_diff_t. */
int render_diff_record(int side, const ss_zone_t *z, size_t index, void *arg);
/* Finish the output (the JSON object); 0 or a negative SS_E* code. */
int render_diff_end(render_diff_t *r);
void render_diff_free(render_diff_t *r);

/* serial: "FILE: OLD -> NEW", the order word, the plan (the serials on f,
 * the explanation on stderr). */
void render_bump(FILE *f, const char *path, uint32_t from, uint32_t to);
void render_serial_order(FILE *f, ss_serial_order_t order);
void render_plan(FILE *f, const char *zone, uint32_t from, const uint32_t *steps, int n);

/* guard: why name was refused (on stderr), with the changed records (at most
 * a screenful, the rest counted). */
void render_guard_refusal(const char *name, const ss_zone_change_t *v, const ss_zone_t *old,
                          const ss_zone_t *nz);

#endif
