/*
 * The content phase (lib/check_content.c) in a check run against scripted servers:
 * copies transferred and compared with the reference record by record, a
 * server refusing the transfer asked RRset by RRset, the reference itself
 * refusing, a zone file as the source of truth, its ZONEMD verdict, and a
 * candidate primary a secondary is pulling from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <soasync/checkrun.h>
#include <soasync/error.h>

#include "fake_dns.h"

#define ZONE "c.test."

enum { PRI, SAME, OTHER, REFUSING, BEHIND, CAND, NSRV };

static fk_server_t S[NSRV];
static fk_server_t *const ALL[NSRV] = {&S[PRI],      &S[SAME],   &S[OTHER],
                                       &S[REFUSING], &S[BEHIND], &S[CAND]};

/* The zone at serial on s, www's address given. */
static void zone_data(fk_server_t *s, uint32_t serial, const char *www, const char *mail)
{
	s->mode = FK_AUTH;
	fk_add(s, ZONE " 300 SOA ns1." ZONE " hostmaster." ZONE " %u 3600 600 86400 300", serial);
	fk_add(s, ZONE " 300 NS ns1." ZONE);
	fk_add(s, "ns1." ZONE " 300 A 192.0.2.53");
	fk_add(s, "www." ZONE " 300 A %s", www);
	fk_add(s, "mail." ZONE " 300 A %s", mail);
	fk_add(s, ZONE " 300 TXT \"content test\"");
}

/* The primary and a copy in sync at 10; a copy at 10 with another www; one
 * refusing transfers, at 10 with another mail; a secondary at 9 that holds
 * exactly the candidate's (old provider's) copy. */
static void fleet(void)
{
	memset(S, 0, sizeof(S));
	fk_place(ALL, NSRV);
	zone_data(&S[PRI], 10, "192.0.2.1", "192.0.2.2");
	zone_data(&S[SAME], 10, "192.0.2.1", "192.0.2.2");
	zone_data(&S[OTHER], 10, "192.0.2.99", "192.0.2.2");
	zone_data(&S[REFUSING], 10, "192.0.2.1", "192.0.2.77");
	S[REFUSING].refuse_axfr = true;
	zone_data(&S[BEHIND], 9, "192.0.2.9", "192.0.2.2");
	zone_data(&S[CAND], 9, "192.0.2.9", "192.0.2.2");
}

static ss_zone_result_t RES;

static void keep(ss_zone_result_t *res, void *arg)
{
	(void)arg;
	RES = *res;
	memset(res, 0, sizeof(*res));
}

static bool kept(void *arg)
{
	(void)arg;
	return RES.obs.zone_str != NULL;
}

/* Check ZONE on the first nns servers of the fleet (the first given as the
 * primary) with these content options. */
static void check(size_t nns, ss_content_opts_t *content)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	fk_start(&loop, ALL, NSRV);
	ss_engine_opts_t eo;
	ss_engine_opts_default(&eo);
	eo.timeout_ms = 500;
	ss_engine_t *e = ss_engine_new(&loop, &eo);
	ss_addr_t ns[NSRV], cand;
	for (size_t i = 0; i < NSRV; i++) {
		fk_addr(ALL[i], &ns[i]);
	}
	fk_addr(&S[CAND], &cand);
	if (content->ncandidates > 0) {
		content->candidates = &cand;
	}
	ss_check_opts_t o = {
	    .ns = ns,
	    .nns = nns,
	    .primary = &ns[PRI],
	    .nprimary = 1,
	    .no_vendor = true,
	    .content = *content,
	};
	memset(&RES, 0, sizeof(RES));
	ss_check_t *c = ss_check_new(e, &o, keep, NULL);
	assert_int_equal(ss_check_add(c, ZONE), 0);
	assert_true(rsp_run_until(&loop, kept, NULL, 20000));
	ss_check_free(c);
	ss_engine_close(e);
	assert_int_equal(fk_finish(&loop, ALL, NSRV), 0);
}

static const ss_server_obs_t *srv(size_t k)
{
	char want[SS_ADDR_STRLEN], a[SS_ADDR_STRLEN];
	snprintf(want, sizeof(want), "%s", S[k].ip);
	for (size_t i = 0; i < RES.obs.nservers; i++) {
		if (strcmp(ss_addr_ntop(&RES.obs.servers[i].addr, a, sizeof(a)), want) == 0) {
			return &RES.obs.servers[i];
		}
	}
	fail_msg("no observation of %s", want);
	return NULL;
}

static const ss_finding_t *finding(ss_fcode_t id)
{
	for (size_t i = 0; i < RES.nfindings; i++) {
		if (RES.findings[i].id == id) {
			return &RES.findings[i];
		}
	}
	return NULL;
}

/* Whether finding f names server k. */
static bool names(const ss_finding_t *f, size_t k)
{
	ss_addr_t a;
	fk_addr(&S[k], &a);
	for (size_t i = 0; f != NULL && i < f->nservers; i++) {
		if (ss_addr_equal(&f->servers[i], &a)) {
			return true;
		}
	}
	return false;
}

static void test_transfers_and_queries(void **state)
{
	(void)state;
	fleet();
	ss_content_opts_t co = {.all = true};
	check(BEHIND + 1, &co);
	assert_true(RES.has_primary);
	assert_int_equal(RES.reference_serial, 10);
	const ss_server_obs_t *p = srv(PRI), *same = srv(SAME), *other = srv(OTHER),
	                      *refusing = srv(REFUSING), *behind = srv(BEHIND);
	assert_int_equal(p->content, SS_CONTENT_DIGEST);
	assert_int_equal(p->axfr, SS_XFR_ALLOWED);
	assert_int_equal(p->xfr_serial, 10);
	assert_int_equal(p->xfr_records, 6); /* the SOA once and the five others */
	assert_false(same->content_differs);
	assert_memory_equal(same->digest, p->digest, sizeof(p->digest));
	assert_true(other->content_differs);
	assert_int_equal(other->content_ndiff, 2);
	assert_non_null(strstr(other->content_diff, "- www." ZONE " 300 IN A 192.0.2.1"));
	assert_non_null(strstr(other->content_diff, "+ www." ZONE " 300 IN A 192.0.2.99"));
	assert_int_equal(refusing->axfr, SS_XFR_REFUSED);
	assert_int_equal(refusing->content, SS_CONTENT_QUERIED);
	assert_true(refusing->content_differs);
	assert_int_equal(refusing->content_ndiff, 1);
	assert_non_null(strstr(refusing->content_diff, "mail." ZONE " A: serves "));
	assert_int_equal(behind->verdict, SS_VERDICT_BEHIND);
	assert_false(behind->content_differs); /* another serial: judged by serial-behind */
	const ss_finding_t *f = finding(SS_F_SAME_SERIAL_DIFFERENT_DATA);
	assert_non_null(f);
	assert_int_equal(f->nservers, 2);
	assert_true(names(f, OTHER) && names(f, REFUSING));
	assert_true(names(finding(SS_F_SERIAL_BEHIND), BEHIND));
	assert_true(names(finding(SS_F_TRANSFER_REFUSED), REFUSING));
	assert_int_equal(finding(SS_F_TRANSFER_REFUSED)->severity, SS_SEV_WARNING);
	ss_zone_result_clear(&RES);
}

/* The reference refuses to transfer: it is asked for the RRsets of every
 * copy that did transfer; equal copies are asked about once. */
static void test_reference_refuses(void **state)
{
	(void)state;
	fleet();
	S[PRI].refuse_axfr = true;
	ss_content_opts_t co = {.all = true};
	check(OTHER + 1, &co);
	const ss_server_obs_t *p = srv(PRI), *same = srv(SAME), *other = srv(OTHER);
	assert_int_equal(p->axfr, SS_XFR_REFUSED);
	assert_false(same->content_differs);
	assert_true(other->content_differs);
	assert_non_null(strstr(other->content_diff, "www." ZONE " A: the primary serves "));
	assert_true(names(finding(SS_F_SAME_SERIAL_DIFFERENT_DATA), OTHER));
	ss_zone_result_clear(&RES);
}

/* A zone file at the served serial with other data (serial-not-bumped), and
 * a ZONEMD nobody can verify in it (zonemd-unsupported). */
static void test_zonefile(void **state)
{
	(void)state;
	char path[] = "/tmp/soasync-test-content-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fprintf(f,
	        "$ORIGIN " ZONE "\n$TTL 300\n"
	        "@ SOA ns1 hostmaster 10 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.53\n"
	        "www A 192.0.2.1\nmail A 192.0.2.3\n@ TXT \"content test\"\n"
	        "@ ZONEMD 10 240 1 %s\n",
	        "ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
	        "ef0123456789abcdef");
	fclose(f);
	fleet();
	ss_content_opts_t co = {.zonefile = path};
	check(SAME + 1, &co);
	unlink(path);
	ss_zone_obs_t *o = &RES.obs;
	assert_null(o->zonefile_error);
	assert_true(o->has_zonefile_serial);
	assert_int_equal(o->zonefile_serial, 10);
	assert_true(o->zonefile_compared);
	assert_true(o->zonefile_differs);
	assert_int_equal(o->zonefile_ndiff, 3); /* mail changed, the ZONEMD added */
	assert_int_equal(o->zonefile_zonemd, SS_ZONEMD_UNSUPPORTED);
	assert_int_equal(o->zonefile_zonemd_list.n, 1);
	assert_int_equal(o->zonefile_zonemd_list.rr[0].scheme, 240);
	assert_int_equal(o->zonefile_zonemd_list.rr[0].algorithm, 1);
	assert_non_null(finding(SS_F_SERIAL_NOT_BUMPED));
	const ss_finding_t *u = finding(SS_F_ZONEMD_UNSUPPORTED);
	assert_non_null(u);
	assert_int_equal(u->severity, SS_SEV_WARNING);
	assert_non_null(strstr(u->message, path));
	/* Only the reference was transferred (no --content). */
	assert_int_equal(S[PRI].axfrs, 1);
	assert_int_equal(S[SAME].axfrs, 0);
	ss_zone_result_clear(&RES);
}

/* A secondary behind the primary holding exactly a candidate's copy. */
static void test_candidate(void **state)
{
	(void)state;
	fleet();
	ss_content_opts_t co = {.ncandidates = 1};
	check(BEHIND + 1, &co);
	assert_int_equal(RES.obs.ncandidates, 1);
	const ss_server_obs_t *cand = &RES.obs.candidates[0];
	assert_true(cand->has_soa);
	assert_int_equal(cand->soa.serial, 9);
	assert_true(cand->has_digest);
	const ss_finding_t *f = finding(SS_F_SECONDARY_WRONG_SOURCE);
	assert_non_null(f);
	assert_int_equal(f->nservers, 1);
	assert_true(names(f, BEHIND));
	assert_non_null(strstr(f->message, S[CAND].ip));
	/* The servers behind and the reference were transferred; the others not. */
	assert_int_equal(S[BEHIND].axfrs, 1);
	assert_int_equal(S[PRI].axfrs, 1);
	assert_int_equal(S[OTHER].axfrs, 0);
	ss_zone_result_clear(&RES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_transfers_and_queries),
	    cmocka_unit_test(test_reference_refuses),
	    cmocka_unit_test(test_zonefile),
	    cmocka_unit_test(test_candidate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
