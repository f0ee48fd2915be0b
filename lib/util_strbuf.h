/*
 * Internal: a growable string for building messages. An allocation failure
 * is sticky (ss_strbuf_ok() turns false) so callers check once at the end.
 */
#ifndef SOASYNC_UTIL_STRBUF_H
#define SOASYNC_UTIL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

#include <soasync/addr.h>

typedef struct {
	char *s;    /* NUL-terminated, or NULL before the first append */
	size_t len; /* bytes before the NUL */
	size_t cap;
	bool failed;
} ss_strbuf_t;

#define SS_STRBUF_INIT                                                                             \
	{                                                                                          \
		NULL, 0, 0, false                                                                  \
	}

void ss_strbuf_printf(ss_strbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ss_strbuf_append(ss_strbuf_t *b, const char *data, size_t len);
/* A server as messages name it: "NAME (ADDRESS)", or "ADDRESS" when name
 * is NULL. */
void ss_strbuf_server(ss_strbuf_t *b, const ss_addr_t *a, const char *name);
/* No allocation failed so far. */
bool ss_strbuf_ok(const ss_strbuf_t *b);
/* The string, taken by the caller (never NULL unless allocation failed). */
char *ss_strbuf_take(ss_strbuf_t *b);
void ss_strbuf_free(ss_strbuf_t *b);

#endif
