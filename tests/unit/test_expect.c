#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <soasync/error.h>
#include <soasync/expect.h>

static knot_dname_t *origin(void)
{
	return knot_dname_from_str_alloc("example.test.");
}

/* A parsed authoritative answer with the given records (zone-file lines). */
static knot_pkt_t *answer(const char *qname, uint16_t qtype, uint8_t rcode, const char **rrs,
                          size_t n)
{
	knot_dname_t *o = origin();
	ss_expect_set_t tmp = {0};
	char err[256];
	knot_pkt_t *pkt = knot_pkt_new(NULL, 4096, NULL);
	knot_dname_t *qn = knot_dname_from_str_alloc(qname);
	assert_int_equal(knot_pkt_put_question(pkt, qn, KNOT_CLASS_IN, qtype), KNOT_EOK);
	knot_wire_set_qr(pkt->wire);
	knot_wire_set_aa(pkt->wire);
	knot_wire_set_rcode(pkt->wire, rcode);
	knot_pkt_begin(pkt, KNOT_ANSWER);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ss_expect_add_line(&tmp, o, rrs[i], err, sizeof(err)), 0);
	}
	for (size_t i = 0; i < tmp.n; i++) {
		knot_rrset_t rr;
		knot_rrset_init(&rr, tmp.items[i].owner, tmp.items[i].type, KNOT_CLASS_IN, 300);
		rr.rrs = tmp.items[i].rrs;
		assert_int_equal(knot_pkt_put(pkt, 0, &rr, 0), KNOT_EOK);
	}
	uint8_t *wire = malloc(pkt->size);
	memcpy(wire, pkt->wire, pkt->size);
	knot_pkt_t *parsed = knot_pkt_new(wire, (uint16_t)pkt->size, NULL);
	assert_int_equal(knot_pkt_parse(parsed, 0), KNOT_EOK);
	knot_pkt_free(pkt);
	ss_expect_set_clear(&tmp);
	free(qn);
	free(o);
	return parsed;
}

static void free_answer(knot_pkt_t *p)
{
	uint8_t *wire = p->wire;
	knot_pkt_free(p);
	free(wire);
}

static void test_parse_and_merge(void **state)
{
	(void)state;
	knot_dname_t *o = origin();
	ss_expect_set_t set = {0};
	char err[256];
	assert_int_equal(ss_expect_add_line(&set, o, "www A 192.0.2.1", err, sizeof(err)), 0);
	assert_int_equal(
	    ss_expect_add_line(&set, o, "WWW.example.test. 1h IN A 192.0.2.2", err, sizeof(err)),
	    0);
	assert_int_equal(ss_expect_add_line(&set, o, "www A 192.0.2.1", err, sizeof(err)), 0);
	assert_int_equal(set.n, 1); /* one RRset, case and form do not count */
	assert_int_equal(set.items[0].rrs.count, 2);
	assert_true(set.items[0].ttl_given);
	assert_int_equal(set.items[0].ttl, 3600);
	assert_int_equal(ss_expect_add_line(&set, o, "@ MX 10 Mail", err, sizeof(err)), 0);
	assert_int_equal(set.n, 2);
	assert_false(set.items[1].ttl_given);
	assert_int_equal(ss_expect_add_absent(&set, o, "old A", err, sizeof(err)), 0);
	assert_true(set.items[2].absent);
	/* Conflicts and errors. */
	assert_int_equal(ss_expect_add_line(&set, o, "old A 192.0.2.9", err, sizeof(err)),
	                 SS_EINVAL);
	assert_int_equal(ss_expect_add_line(&set, o, "www A not-an-address", err, sizeof(err)),
	                 SS_EPARSE);
	assert_int_equal(
	    ss_expect_add_line(&set, o, "www.other.test. A 192.0.2.1", err, sizeof(err)),
	    SS_EINVAL);
	assert_non_null(strstr(err, "outside the zone"));
	/* "a\\." ends in an escaped dot: relative, a label "a." under the origin
	 * (taken as absolute, it was outside the zone). */
	assert_int_equal(ss_expect_add_absent(&set, o, "a\\. TXT", err, sizeof(err)), 0);
	assert_int_equal(knot_dname_labels(set.items[set.n - 1].owner, NULL),
	                 knot_dname_labels(o, NULL) + 1);
	assert_int_equal(ss_expect_add_absent(&set, o, "www", err, sizeof(err)), SS_EPARSE);
	assert_int_equal(ss_expect_add_absent(&set, o, "www BOGUSTYPE", err, sizeof(err)),
	                 SS_EPARSE);
	ss_expect_set_clear(&set);
	free(o);
}

static void test_judge(void **state)
{
	(void)state;
	knot_dname_t *o = origin();
	ss_expect_set_t set = {0};
	char err[256];
	assert_int_equal(ss_expect_add_line(&set, o, "www A 192.0.2.1", err, sizeof(err)), 0);
	assert_int_equal(ss_expect_add_line(&set, o, "www A 192.0.2.2", err, sizeof(err)), 0);
	ss_expect_obs_t x;

	/* Same set in another order: a match. */
	const char *same[] = {"www A 192.0.2.2", "www A 192.0.2.1"};
	knot_pkt_t *p = answer("www.example.test.", KNOT_RRTYPE_A, 0, same, 2);
	ss_expect_judge(&set.items[0], p, NULL, &x);
	assert_int_equal(x.status, SS_EXPECT_MATCH);
	assert_int_equal(x.nserved, 2);
	ss_expect_obs_clear(&x);
	free_answer(p);

	/* One value missing: differs, and the served record is shown. */
	const char *partial[] = {"www A 192.0.2.1"};
	p = answer("www.example.test.", KNOT_RRTYPE_A, 0, partial, 1);
	ss_expect_judge(&set.items[0], p, NULL, &x);
	assert_int_equal(x.status, SS_EXPECT_DIFFERS);
	assert_int_equal(x.nserved, 1);
	assert_string_equal(x.served[0], "www.example.test. 300 A 192.0.2.1");
	ss_expect_obs_clear(&x);
	free_answer(p);

	/* NODATA and NXDOMAIN: missing. */
	p = answer("www.example.test.", KNOT_RRTYPE_A, 0, NULL, 0);
	ss_expect_judge(&set.items[0], p, NULL, &x);
	assert_int_equal(x.status, SS_EXPECT_MISSING);
	ss_expect_obs_clear(&x);
	free_answer(p);
	p = answer("www.example.test.", KNOT_RRTYPE_A, KNOT_RCODE_NXDOMAIN, NULL, 0);
	ss_expect_judge(&set.items[0], p, NULL, &x);
	assert_int_equal(x.status, SS_EXPECT_MISSING);
	ss_expect_obs_clear(&x);
	free_answer(p);

	/* No answer at all. */
	ss_expect_judge(&set.items[0], NULL, "timed out", &x);
	assert_int_equal(x.status, SS_EXPECT_ERROR);
	assert_string_equal(x.error, "timed out");
	ss_expect_obs_clear(&x);
	ss_expect_set_clear(&set);

	/* TTL counts only when given. */
	assert_int_equal(ss_expect_add_line(&set, o, "www 60 A 192.0.2.1", err, sizeof(err)), 0);
	p = answer("www.example.test.", KNOT_RRTYPE_A, 0, partial, 1); /* TTL 300 */
	ss_expect_judge(&set.items[0], p, NULL, &x);
	assert_int_equal(x.status, SS_EXPECT_DIFFERS);
	ss_expect_obs_clear(&x);
	free_answer(p);
	ss_expect_set_clear(&set);

	/* Absent. */
	assert_int_equal(ss_expect_add_absent(&set, o, "www A", err, sizeof(err)), 0);
	p = answer("www.example.test.", KNOT_RRTYPE_A, 0, partial, 1);
	ss_expect_judge(&set.items[0], p, NULL, &x);
	assert_int_equal(x.status, SS_EXPECT_PRESENT);
	ss_expect_obs_clear(&x);
	free_answer(p);
	p = answer("www.example.test.", KNOT_RRTYPE_A, KNOT_RCODE_NXDOMAIN, NULL, 0);
	ss_expect_judge(&set.items[0], p, NULL, &x);
	assert_int_equal(x.status, SS_EXPECT_ABSENT);
	ss_expect_obs_clear(&x);
	free_answer(p);
	ss_expect_set_clear(&set);
	free(o);
}

static void test_file(void **state)
{
	(void)state;
	char path[] = "/tmp/soasync-expect-XXXXXX";
	int fd = mkstemp(path);
	const char *text = "$TTL 120\nwww A 192.0.2.1\n; comment\n@ TXT \"v=spf1 -all\"\nbad A x\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	knot_dname_t *o = origin();
	ss_expect_set_t set = {0};
	char err[512];
	assert_int_equal(ss_expect_add_file(&set, o, path, err, sizeof(err)), SS_EPARSE);
	assert_non_null(strstr(err, ":5:")); /* names the line */
	ss_expect_set_clear(&set);
	unlink(path);
	free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_and_merge),
	    cmocka_unit_test(test_judge),
	    cmocka_unit_test(test_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
