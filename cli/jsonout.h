/*
 * soasync CLI: JSON for renderers that write many objects of one shape
 * (check --json over 10,000 zones, the monitor's zone list). Still all
 * jansson, but without its per-object costs: the objects are kept and their
 * values changed in place (no json_pack format parsed per value, no
 * allocation for a value that did not change), names from static tables
 * are shared strings, and the text goes to one buffer written in large
 * blocks.
 *
 * Threads: none; the shared strings live for the whole process.
 */
#ifndef SOASYNC_JSONOUT_H
#define SOASYNC_JSONOUT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "util_strbuf.h"

/* Set key of o to v, borrowed (o takes its own reference): for values kept
 * in a slot or shared. Keys are ASCII literals. */
void jo_put(json_t *o, const char *key, json_t *v);

/* The shared string of a name from a static table (ss_verdict_name(),
 * render_rcode()...), keyed by its address: created once, borrowed. NULL:
 * json null. */
json_t *jo_static(const char *name);

/* A string slot set to text we produced (names in presentation form,
 * addresses: ASCII), copied only when it changed; returns the slot, or json
 * null for NULL. */
json_t *jo_ascii(json_t *slot, const char *text);

/* The same for text from elsewhere (a server's version, an error): as it is
 * when it is valid UTF-8, else with every byte >= 0x80 replaced by '?'. */
json_t *jo_text(json_t *slot, const char *text);

/* A new string from text from elsewhere (NULL: json null), as jo_text
 * treats it; NULL out of memory. */
json_t *jo_new_text(const char *text);

/* An integer (real) slot set to v; returns the slot. */
json_t *jo_int(json_t *slot, json_int_t v);
json_t *jo_real(json_t *slot, double v);

/* Append v (compact, ASCII, reals with 6 digits, any value) to b; v is not
 * released. 0, or -1 (b failed). */
int jo_dump(ss_strbuf_t *b, json_t *v);

/* A writer of JSON Lines: lines gather in memory and go out in blocks of
 * 64 KiB (at once on a terminal, where one waits for each line). */
typedef struct {
	FILE *f;
	ss_strbuf_t buf;
	bool eager; /* a terminal: write every line */
	bool failed;
} jo_lines_t;

void jo_lines_init(jo_lines_t *w, FILE *f);
/* One line: v's text and a newline (v not released). 0 or -1. */
int jo_lines_add(jo_lines_t *w, json_t *v);
/* Write what is gathered and free the buffer. 0, or -1 (a write failed). */
int jo_lines_finish(jo_lines_t *w);

#endif
