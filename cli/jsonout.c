#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonout.h"

#define BLOCK  65536
#define NNAMES 512 /* distinct static names: a few dozen in use */

void jo_put(json_t *o, const char *key, json_t *v)
{
	json_object_set_nocheck(o, key, v);
}

json_t *jo_static(const char *name)
{
	static struct {
		const char *name;
		json_t *v;
	} t[NNAMES];
	if (name == NULL) {
		return json_null();
	}
	size_t h = ((size_t)name >> 3) % NNAMES;
	for (size_t i = 0; i < NNAMES; i++, h = (h + 1) % NNAMES) {
		if (t[h].name == name) {
			return t[h].v;
		}
		if (t[h].name == NULL) {
			json_t *v = json_string(name);
			if (v == NULL) {
				return json_null();
			}
			t[h].name = name;
			t[h].v = v;
			return v;
		}
	}
	return json_null(); /* never: there are not that many names */
}

json_t *jo_ascii(json_t *slot, const char *text)
{
	if (text == NULL) {
		return json_null();
	}
	if (strcmp(json_string_value(slot), text) != 0) {
		json_string_set_nocheck(slot, text);
	}
	return slot;
}

/* text with every byte >= 0x80 as '?' (malloc'd), for text that is not UTF-8. */
static char *ascii_copy(const char *text)
{
	char *copy = strdup(text);
	for (char *p = copy; p && *p; p++) {
		if ((unsigned char)*p >= 0x80) {
			*p = '?';
		}
	}
	return copy;
}

json_t *jo_text(json_t *slot, const char *text)
{
	if (text == NULL) {
		return json_null();
	}
	if (strcmp(json_string_value(slot), text) == 0 || json_string_set(slot, text) == 0) {
		return slot;
	}
	char *copy = ascii_copy(text);
	if (copy == NULL) {
		return json_null();
	}
	json_string_set_nocheck(slot, copy);
	free(copy);
	return slot;
}

json_t *jo_new_text(const char *text)
{
	if (text == NULL) {
		return json_null();
	}
	json_t *v = json_string(text);
	if (v == NULL) {
		char *copy = ascii_copy(text);
		v = copy ? json_string_nocheck(copy) : NULL;
		free(copy);
	}
	return v;
}

json_t *jo_int(json_t *slot, json_int_t v)
{
	json_integer_set(slot, v);
	return slot;
}

json_t *jo_real(json_t *slot, double v)
{
	json_real_set(slot, v);
	return slot;
}

/* jansson hands over every token apart (a quote, a key, a colon): the
 * common case, room in the buffer, is a bare copy. */
static int to_buf(const char *data, size_t size, void *arg)
{
	ss_strbuf_t *b = arg;
	if (b->len + size < b->cap) {
		memcpy(b->s + b->len, data, size);
		b->len += size;
		return 0;
	}
	ss_strbuf_append(b, data, size);
	return b->failed ? -1 : 0;
}

int jo_dump(ss_strbuf_t *b, json_t *v)
{
	if (v == NULL || json_dump_callback(v, to_buf, b,
	                                    JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY |
	                                        JSON_REAL_PRECISION(6)) != 0) {
		b->failed = true;
	}
	if (b->s != NULL) {
		b->s[b->len] = '\0';
	}
	return b->failed ? -1 : 0;
}

void jo_lines_init(jo_lines_t *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->eager = isatty(fileno(f));
}

static int write_out(jo_lines_t *w)
{
	if (w->buf.len > 0 && fwrite(w->buf.s, 1, w->buf.len, w->f) != w->buf.len) {
		w->failed = true;
	}
	w->buf.len = 0;
	if (w->eager && fflush(w->f) != 0) {
		w->failed = true;
	}
	return w->failed ? -1 : 0;
}

int jo_lines_add(jo_lines_t *w, json_t *v)
{
	size_t at = w->buf.len;
	if (jo_dump(&w->buf, v) != 0) { /* keep the lines before, drop this one */
		w->buf.failed = false;
		w->buf.len = at;
		if (w->buf.s != NULL) {
			w->buf.s[at] = '\0';
		}
		return -1;
	}
	ss_strbuf_append(&w->buf, "\n", 1);
	return w->eager || w->buf.len >= BLOCK ? write_out(w) : 0;
}

int jo_lines_finish(jo_lines_t *w)
{
	int ret = write_out(w);
	ss_strbuf_free(&w->buf);
	return ret;
}
