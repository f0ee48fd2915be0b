/*
 * soasync diff: the records only in A or only in B, as lines while the
 * diff runs, or as one JSON object at the end.
 */
#include <stdlib.h>
#include <string.h>

#include <soasync/error.h>

#include "render_cmds.h"

json_t *render_json_text(const char *s)
{
	if (s == NULL) {
		return json_null();
	}
	json_t *j = json_string(s);
	if (j != NULL) {
		return j;
	}
	/* Not UTF-8: bytes above 0x7f become \DDD, as in the zone file syntax. */
	size_t n = strlen(s);
	char *esc = malloc(4 * n + 1), *p = esc;
	if (esc == NULL) {
		return NULL;
	}
	for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++) {
		p += *c < 0x80 ? sprintf(p, "%c", *c) : sprintf(p, "\\%03u", *c);
	}
	j = json_string(esc);
	free(esc);
	return j;
}

struct render_diff {
	FILE *f;
	bool json;
	char *text;      /* one record in presentation format */
	json_t *side[2]; /* only_in_a, only_in_b */
};

render_diff_t *render_diff_new(FILE *f, bool json)
{
	render_diff_t *r = calloc(1, sizeof(*r));
	if (r == NULL || (r->text = malloc(SS_RR_TEXT_MAX)) == NULL) {
		free(r);
		return NULL;
	}
	r->f = f;
	r->json = json;
	if (json && ((r->side[0] = json_array()) == NULL || (r->side[1] = json_array()) == NULL)) {
		render_diff_free(r);
		return NULL;
	}
	return r;
}

int render_diff_record(int side, const ss_zone_t *z, size_t index, void *arg)
{
	render_diff_t *r = arg;
	int len = ss_zone_rr_to_text(z, index, r->text, SS_RR_TEXT_MAX);
	if (len < 0) {
		return len;
	}
	if (r->json) {
		return json_array_append_new(r->side[side < 0 ? 0 : 1],
		                             render_json_text(r->text)) == 0
		           ? 0
		           : SS_ENOMEM;
	}
	fputc(side < 0 ? '-' : '+', r->f);
	fputc(' ', r->f);
	fwrite(r->text, 1, (size_t)len, r->f);
	fputc('\n', r->f);
	return 0;
}

int render_diff_end(render_diff_t *r)
{
	if (r->json) {
		json_t *obj = json_object();
		if (obj == NULL || json_object_set(obj, "only_in_a", r->side[0]) != 0 ||
		    json_object_set(obj, "only_in_b", r->side[1]) != 0 ||
		    json_dumpf(obj, r->f, JSON_COMPACT) != 0) {
			json_decref(obj);
			return SS_ENOMEM;
		}
		fputc('\n', r->f);
		json_decref(obj);
	}
	return fflush(r->f) != 0 || ferror(r->f) ? SS_EIO : 0;
}

void render_diff_free(render_diff_t *r)
{
	if (r != NULL) {
		json_decref(r->side[0]);
		json_decref(r->side[1]);
		free(r->text);
		free(r);
	}
}
