/*
 * Internal: master-file text (RFC 1035 5) split into entries, for the code
 * that must see the text itself, not only what libzscanner makes of it:
 * serial edits in place, and $GENERATE, which libzscanner does not know.
 *
 * An entry is a line, or several joined by parentheses; its tokens are
 * plain or quoted words (a backslash takes the next byte whatever it is);
 * comments run from ';' to the end of the line. zscanner allows no nested
 * parentheses, and neither does this.
 */
#ifndef SOASYNC_ZONE_TEXT_H
#define SOASYNC_ZONE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#define ZT_MAX_TOK 8

typedef struct {
	size_t start, end;
} zt_span_t;

typedef struct {
	size_t start; /* its first byte: the start of a line */
	size_t next;  /* just past the newline that ends it (or the end) */
	size_t ntok;  /* tokens seen, also those past ZT_MAX_TOK */
	zt_span_t tok[ZT_MAX_TOK];
} zt_entry_t;

/* The entry starting at pos (the start of a line). 0, or -1 for unbalanced
 * parentheses or an open quote (e->next is then the end of the text). */
int zt_entry(const char *t, size_t len, size_t pos, zt_entry_t *e);

/* Token s is word, case-insensitively. */
bool zt_tok_is(const char *t, zt_span_t s, const char *word);

/* A $GENERATE directive: its first token starts the line. */
bool zt_is_generate(const char *t, const zt_entry_t *e);

/* The text may hold a $GENERATE (a cheap look for "$generate", any case). */
bool zt_may_generate(const char *t, size_t len);

/* $GENERATE (zone_generate.c): hands zone-file lines to emit in batches;
 * a non-zero return stops the expansion and is returned. */
typedef int (*zt_emit_fn)(const char *lines, size_t len, void *arg);

/*
 * Expand the $GENERATE entry e of text t into lines (BIND's semantics),
 * counting the records made in *count, at most max in all. Returns 0,
 * emit's value, or -1 with a one-line reason in why (a syntax error, more
 * than max records, no memory).
 */
int zt_generate(const char *t, const zt_entry_t *e, size_t max, size_t *count, zt_emit_fn emit,
                void *arg, char *why, size_t wlen);

#endif
