/*
 * soasync CLI: renderers for check results. They format what the model
 * decided; they never decide anything themselves.
 */
#ifndef SOASYNC_RENDER_H
#define SOASYNC_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include <soasync/check.h>

/* The JSON object of one zone (new reference, caller decrefs). */
json_t *render_check_json_obj(const ss_zone_result_t *res);

/* check --json over many zones: the objects are reused from zone to zone
 * and the lines written to f in blocks of 64 KiB (each at once on a
 * terminal). add: 0 or -1 (out of memory); finish writes the rest and frees
 * w: 0 or -1 (a write failed). */
typedef struct check_json check_json_t;
check_json_t *render_check_json_new(FILE *f);
int render_check_json_add(check_json_t *w, const ss_zone_result_t *res);
int render_check_json_finish(check_json_t *w);

/* One zone's line at once (a writer for one zone). Returns 0 or -1. */
int render_check_json(FILE *f, const ss_zone_result_t *res);

/* The human table and findings. */
void render_check_table(FILE *f, const ss_zone_result_t *res, bool color);

/* Monitoring-plugin output gathers all zones, then prints once. The texts
 * grow in memory streams (open_memstream), opened on the first zone. */
typedef struct {
	unsigned count[4]; /* zones per status */
	size_t nzones;
	unsigned servers, answered;
	double max_rtt_ms;
	FILE *problems, *summary, *perf; /* long output; first line; first zone's perfdata */
	char *problems_s, *summary_s, *perf_s;
	size_t problems_n, summary_n, perf_n;
} nagios_t;

void render_nagios_add(nagios_t *n, const ss_zone_result_t *res);
/* Print and return the worst status. */
int render_nagios_print(FILE *f, nagios_t *n);
void render_nagios_free(nagios_t *n);

/* The findings array of a result (new reference). */
json_t *render_findings_json(const ss_zone_result_t *res);
/* The same for any list of findings (the monitor's open findings): each
 * {code, severity, servers, message, fix}. New reference; NULL out of memory. */
json_t *render_findings_array(const ss_finding_t *f, size_t n);

/* One line per expected RRset (check --expect). */
void render_expect_text(FILE *f, const ss_zone_result_t *res);

/* The findings as text lines under a table. */
void render_findings_text(FILE *f, const ss_zone_result_t *res, bool color);

/* Print a JSON value as one line on f and drop the reference. 0 or -1. */
int render_json_line(FILE *f, json_t *obj);

/* "NOERROR" etc., or "-" for no answer. */
const char *render_rcode(int rcode);

#endif
