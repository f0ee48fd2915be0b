/* check --json through kept objects (cli/jsonout.c, render_check.c): every
 * line the same as a fresh object's, whatever shapes the zones come in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "jsonout.h"
#include "obs_fixture.h"
#include "render.h"

/* A zone of n servers; flags vary its shape. */
enum { F_VERSION = 1, F_EXPIRE = 2, F_BEHIND = 4, F_DEAD = 8, F_NAMES = 16 };

static void zone(ss_zone_result_t *r, const char *name, size_t n, unsigned flags)
{
	static const char *addr[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3#5300", "2001:db8::4"};
	fx_zone(r, name);
	for (size_t i = 0; i < n && i < 4; i++) {
		ss_server_obs_t *s;
		if ((flags & F_DEAD) && i == n - 1) {
			s = fx_bad(r, addr[i], SS_ANS_NONE, -1, SS_ETIMEOUT);
			continue;
		}
		uint32_t serial = (flags & F_BEHIND) && i == 1 ? 6 : 7;
		s = fx_server(r, addr[i], flags & F_NAMES ? "ns.example.test." : NULL, serial,
		              i == 0);
		s->rtt_us = 1000 + 7 * (uint32_t)i;
		if (flags & F_VERSION) {
			s->version = strdup(i == 1 ? "Knot DNS 3.2.6" : "NSD 4.6.1");
		}
		if ((flags & F_EXPIRE) && i > 0) {
			fx_expire(s, 1209600 - (uint32_t)i);
		}
	}
	assert_int_equal(ss_check_analyze(r), 0);
}

static char *fresh_line(const ss_zone_result_t *r)
{
	json_t *o = render_check_json_obj(r);
	assert_non_null(o);
	char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6));
	json_decref(o);
	return s;
}

static void test_lines_as_fresh(void **state)
{
	(void)state;
	static const struct {
		size_t n;
		unsigned flags;
	} seq[] = {
	    {3, F_VERSION | F_EXPIRE}, {3, F_VERSION | F_EXPIRE}, {3, 0}, {2, F_EXPIRE},
	    {3, F_VERSION | F_BEHIND}, {4, F_DEAD | F_NAMES},     {1, 0}, {3, F_VERSION | F_EXPIRE},
	    {4, F_VERSION | F_DEAD},   {3, F_NAMES | F_EXPIRE},
	};
	size_t n = sizeof(seq) / sizeof(seq[0]);
	char *text = NULL, *want = NULL;
	size_t tlen = 0, wlen = 0;
	FILE *f = open_memstream(&text, &tlen), *w = open_memstream(&want, &wlen);
	check_json_t *cj = render_check_json_new(f);
	assert_non_null(cj);
	for (size_t i = 0; i < n; i++) {
		ss_zone_result_t r;
		char name[32];
		snprintf(name, sizeof(name), "z%zu.example.test.", i);
		zone(&r, name, seq[i].n, seq[i].flags);
		assert_int_equal(render_check_json_add(cj, &r), 0);
		char *line = fresh_line(&r);
		fprintf(w, "%s\n", line);
		free(line);
		ss_zone_result_clear(&r);
	}
	assert_int_equal(render_check_json_finish(cj), 0);
	fclose(f);
	fclose(w);
	assert_string_equal(text, want);
	assert_non_null(strstr(text, "\"version\":\"Knot DNS 3.2.6\""));
	assert_non_null(strstr(text, "\"error\":\"timed out\""));
	free(text);
	free(want);
}

/* Strings from a server: invalid UTF-8 becomes '?', never a missing key. */
static void test_text_slots(void **state)
{
	(void)state;
	json_t *slot = json_string("");
	assert_string_equal(json_string_value(jo_text(slot, "ok")), "ok");
	assert_string_equal(json_string_value(jo_text(slot, "bad \xff\xfe end")), "bad ?? end");
	assert_true(json_is_null(jo_text(slot, NULL)));
	assert_ptr_equal(jo_static(ss_verdict_name(SS_VERDICT_BEHIND)),
	                 jo_static(ss_verdict_name(SS_VERDICT_BEHIND)));
	assert_string_equal(json_string_value(jo_static("behind")), "behind");
	json_decref(slot);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines_as_fresh),
	    cmocka_unit_test(test_text_slots),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
