/*
 * Master-file entries and tokens (see zone_text.h).
 */
#include <string.h>
#include <strings.h>

#include "zone_text.h"

static bool is_delim(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '(' || c == ')' || c == '"';
}

/* A plain or quoted token from pos; returns the position after it, or len + 1
 * when a quote is not closed. A backslash takes the next byte whatever it is. */
static size_t scan_token(const char *t, size_t len, size_t pos)
{
	bool quoted = t[pos] == '"';
	if (quoted) {
		pos++;
	}
	while (pos < len && (quoted ? t[pos] != '"' : !is_delim(t[pos]))) {
		pos += t[pos] == '\\' && pos + 1 < len ? 2 : 1;
	}
	if (quoted) {
		return pos < len ? pos + 1 : len + 1;
	}
	return pos;
}

int zt_entry(const char *t, size_t len, size_t pos, zt_entry_t *e)
{
	bool open = false;
	e->start = pos;
	e->ntok = 0;
	while (pos < len) {
		char c = t[pos];
		if (c == '\n') {
			pos++;
			if (!open) {
				break;
			}
		} else if (c == ' ' || c == '\t') {
			pos++;
		} else if (c == ';') {
			const char *nl = memchr(t + pos, '\n', len - pos);
			pos = nl != NULL ? (size_t)(nl - t) : len;
		} else if (c == '(' || c == ')') {
			if (open == (c == '(')) {
				e->next = len;
				return -1;
			}
			open = c == '(';
			pos++;
		} else {
			size_t end = scan_token(t, len, pos);
			if (end > len) {
				e->next = len;
				return -1;
			}
			if (e->ntok < ZT_MAX_TOK) {
				e->tok[e->ntok] = (zt_span_t){pos, end};
			}
			e->ntok++;
			pos = end;
		}
	}
	e->next = pos;
	return open ? -1 : 0;
}

bool zt_tok_is(const char *t, zt_span_t s, const char *word)
{
	size_t n = strlen(word);
	return s.end - s.start == n && strncasecmp(t + s.start, word, n) == 0;
}

bool zt_is_generate(const char *t, const zt_entry_t *e)
{
	return e->ntok > 0 && e->tok[0].start == e->start && zt_tok_is(t, e->tok[0], "$GENERATE");
}

bool zt_may_generate(const char *t, size_t len)
{
	for (const char *p = t, *end = t + len; (p = memchr(p, '$', (size_t)(end - p))) != NULL;
	     p++) {
		if ((size_t)(end - p) > 9 && strncasecmp(p + 1, "generate", 8) == 0) {
			return true;
		}
	}
	return false;
}
