/* The monitor's state machine, from synthetic check results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <soasync/checkrun.h>

#include "mon_fixture.h"

static void test_start_then_change_by_poll(void **state)
{
	(void)state;
	fx_t f = {0};
	char a[SS_ADDR_STRLEN];
	assert_int_equal(step(&f, T0, 0, 5, 5, 5), SS_STATUS_OK);
	/* What the monitor first sees: a serial "via start", both in sync with lag 0. */
	assert_int_equal(count(&f, SS_MON_EV_SERIAL), 1);
	assert_int_equal(nth(&f, SS_MON_EV_SERIAL, 0)->via, SS_MON_VIA_START);
	assert_int_equal(count(&f, SS_MON_EV_CONVERGED), 2);
	assert_int_equal(nth(&f, SS_MON_EV_CONVERGED, 0)->lag_ms, 0);
	assert_int_equal(count(&f, SS_MON_EV_STATUS), 0);
	assert_false(f.st.converging);
	assert_int_equal(f.st.nopen, 0);

	/* The primary moves; a poll sees it; the secondaries follow one by one. */
	assert_int_equal(step(&f, T0 + 1000, 0, 6, 5, 5), SS_STATUS_OK);
	assert_int_equal(count(&f, SS_MON_EV_SERIAL), 1);
	const ss_mon_event_t *e = nth(&f, SS_MON_EV_SERIAL, 0);
	assert_int_equal(e->serial, 6);
	assert_int_equal(e->via, SS_MON_VIA_POLL);
	assert_int_equal(e->time_ms, T0 + 1000);
	assert_true(f.st.converging);
	assert_int_equal(f.st.nservers, 3);
	assert_true(f.st.servers[1].behind);
	assert_int_equal(ss_mon_lag_ms(&f.st.servers[1], T0 + 1500), 500);

	step(&f, T0 + 1300, 0, 6, 6, 5);
	assert_int_equal(count(&f, SS_MON_EV_CONVERGED), 1);
	e = nth(&f, SS_MON_EV_CONVERGED, 0);
	assert_string_equal(addr_of(e, a), "192.0.2.2");
	assert_string_equal(e->name, "ns2.example.test.");
	assert_int_equal(e->lag_ms, 300);
	assert_int_equal(e->serial, 6);
	assert_true(f.st.converging);

	step(&f, T0 + 1600, 0, 6, 6, 6);
	assert_int_equal(count(&f, SS_MON_EV_CONVERGED), 1);
	assert_int_equal(nth(&f, SS_MON_EV_CONVERGED, 0)->lag_ms, 600);
	assert_false(f.st.converging);
	assert_int_equal(f.st.nopen, 0);
	assert_int_equal(f.st.servers[2].last_lag_ms, 600);

	/* Nothing changed: nothing said. */
	step(&f, T0 + 2000, 0, 6, 6, 6);
	assert_int_equal(f.ev.n, 0);
	fx_free(&f);
}

static void test_notify_time_and_skipped_serials(void **state)
{
	(void)state;
	fx_t f = {0};
	step(&f, T0, 0, 5, 5, 5);
	/* Announced by NOTIFY 200 ms before the check: that is when it was first seen. */
	step(&f, T0 + 1000, T0 + 800, 6, 5, 5);
	const ss_mon_event_t *e = nth(&f, SS_MON_EV_SERIAL, 0);
	assert_int_equal(e->via, SS_MON_VIA_NOTIFY);
	assert_int_equal(e->time_ms, T0 + 800);
	/* A third serial before the second converged. */
	step(&f, T0 + 2000, 0, 7, 6, 5);
	assert_int_equal(count(&f, SS_MON_EV_CONVERGED), 1); /* .2 on 6, lag 1200 */
	assert_int_equal(nth(&f, SS_MON_EV_CONVERGED, 0)->lag_ms, 1200);
	assert_int_equal(f.st.nopen, 2);
	/* .3 lacks 6 (first seen T0+800): its lag counts from there. */
	assert_int_equal(ss_mon_lag_ms(&f.st.servers[2], T0 + 2000), 1200);
	/* .3 jumps straight to 7: converged on 6 and 7 at once. */
	step(&f, T0 + 2500, 0, 7, 7, 7);
	assert_int_equal(count(&f, SS_MON_EV_CONVERGED), 3);
	assert_int_equal(f.st.nopen, 0);
	fx_free(&f);

	/* A NOTIFY that carried an older serial did not announce this one. */
	fx_t g = {0};
	step(&g, T0, 0, 5, 5);
	mon_events_clear(&g.ev);
	ss_zone_result_t r;
	result(&r, 7, (const int64_t[]){5}, 1);
	mon_input_t in = {.now_ms = T0 + 1000,
	                  .notify_ms = T0 + 900,
	                  .has_notify_serial = true,
	                  .notify_serial = 6,
	                  .policy = policy};
	assert_int_equal(mon_state_step(&g.st, &r, &in, ZONE, &g.ev), 0);
	assert_int_equal(nth(&g, SS_MON_EV_SERIAL, 0)->via, SS_MON_VIA_POLL);
	ss_zone_result_clear(&r);
	fx_free(&g);
}

static void test_lag_grades_status(void **state)
{
	(void)state;
	fx_t f = {0};
	char a[SS_ADDR_STRLEN];
	step(&f, T0, 0, 5, 5, 5);
	/* Behind for less than lag_warning: the check's finding stays, as info. */
	assert_int_equal(step(&f, T0 + 1000, 0, 6, 6, 5), SS_STATUS_OK);
	assert_int_equal(count(&f, SS_MON_EV_STATUS), 0);
	assert_int_equal(count(&f, SS_MON_EV_FINDING_OPENED), 0);
	assert_int_equal(step(&f, T0 + 5999, 0, 6, 6, 5), SS_STATUS_OK);
	/* lag_warning reached: warning, once. */
	assert_int_equal(step(&f, T0 + 6000, 0, 6, 6, 5), SS_STATUS_WARNING);
	const ss_mon_event_t *e = nth(&f, SS_MON_EV_STATUS, 0);
	assert_int_equal(e->previous, SS_STATUS_OK);
	assert_int_equal(e->status, SS_STATUS_WARNING);
	e = nth(&f, SS_MON_EV_FINDING_OPENED, 0);
	assert_int_equal(e->code, SS_F_SERIAL_BEHIND);
	assert_int_equal(e->severity, SS_SEV_WARNING);
	assert_string_equal(addr_of(e, a), "192.0.2.3");
	assert_int_equal(step(&f, T0 + 7000, 0, 6, 6, 5), SS_STATUS_WARNING);
	assert_int_equal(f.ev.n, 0);
	/* lag_critical reached: critical. */
	assert_int_equal(step(&f, T0 + 21000, 0, 6, 6, 5), SS_STATUS_CRITICAL);
	assert_int_equal(nth(&f, SS_MON_EV_STATUS, 0)->previous, SS_STATUS_WARNING);
	assert_int_equal(nth(&f, SS_MON_EV_FINDING_OPENED, 0)->severity, SS_SEV_CRITICAL);
	assert_int_equal(f.st.status_since_ms, T0 + 21000);
	/* It catches up: recovery. */
	assert_int_equal(step(&f, T0 + 22000, 0, 6, 6, 6), SS_STATUS_OK);
	e = nth(&f, SS_MON_EV_STATUS, 0);
	assert_int_equal(e->previous, SS_STATUS_CRITICAL);
	assert_int_equal(e->status, SS_STATUS_OK);
	assert_int_equal(nth(&f, SS_MON_EV_FINDING_CLOSED, 0)->code, SS_F_SERIAL_BEHIND);
	assert_int_equal(nth(&f, SS_MON_EV_CONVERGED, 0)->lag_ms, 21000);
	fx_free(&f);
}

static void test_converge_timeout_and_late_convergence(void **state)
{
	(void)state;
	fx_t f = {0};
	step(&f, T0, 0, 5, 5);
	step(&f, T0 + 1000, 0, 6, 5);
	assert_true(f.st.converging);
	step(&f, T0 + 61000, 0, 6, 5);
	assert_int_equal(count(&f, SS_MON_EV_CONVERGE_TIMEOUT), 1);
	assert_int_equal(nth(&f, SS_MON_EV_CONVERGE_TIMEOUT, 0)->serial, 6);
	assert_false(f.st.converging); /* back to the normal interval */
	step(&f, T0 + 62000, 0, 6, 5);
	assert_int_equal(count(&f, SS_MON_EV_CONVERGE_TIMEOUT), 0); /* said once */
	/* Still recorded when it finally follows. */
	step(&f, T0 + 91000, 0, 6, 6);
	assert_int_equal(nth(&f, SS_MON_EV_CONVERGED, 0)->lag_ms, 90000);
	assert_int_equal(f.st.nopen, 0);
	fx_free(&f);
}

static void test_regression(void **state)
{
	(void)state;
	fx_t f = {0};
	step(&f, T0, 0, 20, 20, 20);
	step(&f, T0 + 1000, 0, 21, 20, 20); /* waiting for 21 */
	assert_int_equal(step(&f, T0 + 2000, 0, 10, 20, 20), SS_STATUS_CRITICAL);
	const ss_mon_event_t *e = nth(&f, SS_MON_EV_REGRESSION, 0);
	assert_int_equal(e->old_serial, 21);
	assert_int_equal(e->serial, 10);
	/* 21 will not come: both secondaries given up on it. */
	assert_int_equal(count(&f, SS_MON_EV_NEVER), 2);
	assert_int_equal(nth(&f, SS_MON_EV_FINDING_OPENED, 0)->code, SS_F_PRIMARY_BEHIND);
	/* The lower serial is published too; the secondaries hold a newer one. */
	assert_int_equal(nth(&f, SS_MON_EV_SERIAL, 0)->serial, 10);
	assert_int_equal(count(&f, SS_MON_EV_CONVERGED), 2);
	assert_int_equal(f.st.reference, 10);
	fx_free(&f);
}

static void test_unreachable_period(void **state)
{
	(void)state;
	fx_t f = {0};
	char a[SS_ADDR_STRLEN];
	step(&f, T0, 0, 5, 5, 5);
	assert_int_equal(step(&f, T0 + 1000, 0, 5, 5, -1), SS_STATUS_WARNING);
	const ss_mon_event_t *e = nth(&f, SS_MON_EV_UNREACHABLE, 0);
	assert_string_equal(addr_of(e, a), "192.0.2.3");
	assert_non_null(e->message);
	assert_int_equal(nth(&f, SS_MON_EV_FINDING_OPENED, 0)->code, SS_F_UNREACHABLE);
	assert_true(f.st.servers[2].behind);
	assert_int_equal(ss_mon_lag_ms(&f.st.servers[2], T0 + 1500), 0); /* lacks no serial */
	step(&f, T0 + 2000, 0, 5, 5, -1);
	assert_int_equal(count(&f, SS_MON_EV_UNREACHABLE), 0);
	assert_int_equal(step(&f, T0 + 4000, 0, 5, 5, 5), SS_STATUS_OK);
	e = nth(&f, SS_MON_EV_REACHABLE, 0);
	assert_int_equal(e->lag_ms, 3000);
	assert_int_equal(nth(&f, SS_MON_EV_FINDING_CLOSED, 0)->code, SS_F_UNREACHABLE);
	fx_free(&f);
}

static void test_flapping_one_event_per_change(void **state)
{
	(void)state;
	fx_t f = {0};
	step(&f, T0, 0, 5, 5);
	for (int i = 1; i <= 6; i++) {
		bool down = i % 2;
		step(&f, T0 + i * 1000, 0, 5, down ? -2 : 5);
		assert_int_equal(count(&f, SS_MON_EV_STATUS), 1);
		step(&f, T0 + i * 1000 + 500, 0, 5, down ? -2 : 5);
		assert_int_equal(f.ev.n, 0); /* the same round again: nothing new */
	}
	fx_free(&f);
}

static void test_cap_and_removed_server(void **state)
{
	(void)state;
	fx_t f = {0};
	step(&f, T0, 0, 1, 1, 1);
	/* .3 never follows; serials pile up to the cap, then the oldest is given up. */
	for (int s = 2; s <= MON_MAX_OPEN + 2; s++) {
		step(&f, T0 + s * 1000, 0, s, s, 1);
	}
	assert_int_equal(f.st.nopen, MON_MAX_OPEN);
	assert_int_equal(count(&f, SS_MON_EV_NEVER), 1);
	assert_int_equal(nth(&f, SS_MON_EV_NEVER, 0)->serial, 2);
	/* Rediscovery drops .3: the remaining serials give it up. */
	step(&f, T0 + 100000, 0, MON_MAX_OPEN + 2, MON_MAX_OPEN + 2);
	assert_int_equal(count(&f, SS_MON_EV_NEVER), MON_MAX_OPEN);
	assert_int_equal(f.st.nopen, 0);
	fx_free(&f);
}

static void test_discovery_failure_keeps_state(void **state)
{
	(void)state;
	fx_t f = {0};
	step(&f, T0, 0, 5, 5);
	step(&f, T0 + 1000, 0, 6, 5);
	ss_zone_result_t r;
	fx_zone(&r, ZONE);
	assert_int_equal(ss_check_analyze(&r), 0); /* no server at all */
	mon_events_clear(&f.ev);
	mon_input_t in = {.now_ms = T0 + 2000, .policy = policy};
	assert_int_equal(mon_state_step(&f.st, &r, &in, ZONE, &f.ev), 0);
	assert_int_equal(r.status, SS_STATUS_UNKNOWN);
	assert_int_equal(count(&f, SS_MON_EV_NEVER), 0);
	assert_int_equal(nth(&f, SS_MON_EV_STATUS, 0)->status, SS_STATUS_UNKNOWN);
	assert_int_equal(f.st.nservers, 2);
	assert_int_equal(f.st.nopen, 1);
	ss_zone_result_clear(&r);
	/* Discovery works again: the wait goes on where it was. */
	step(&f, T0 + 3000, 0, 6, 6);
	assert_int_equal(nth(&f, SS_MON_EV_CONVERGED, 0)->lag_ms, 2000);
	fx_free(&f);
}

static void test_no_primary_and_close(void **state)
{
	(void)state;
	fx_t f = {0};
	/* The primary does not answer: the highest serial is the reference. */
	step(&f, T0, 0, -1, 7, 7);
	assert_true(f.st.has_reference);
	assert_int_equal(f.st.reference, 7);
	step(&f, T0 + 1000, 0, -1, 8, 7);
	assert_int_equal(nth(&f, SS_MON_EV_SERIAL, 0)->serial, 8);
	/* .2 served it when it was seen: lag 0. */
	assert_int_equal(nth(&f, SS_MON_EV_CONVERGED, 0)->lag_ms, 0);
	/* The zone is no longer watched: the wait ends. */
	mon_events_clear(&f.ev);
	assert_int_equal(mon_state_close(&f.st, T0 + 2000, ZONE, &f.ev), 0);
	assert_int_equal(count(&f, SS_MON_EV_NEVER), 1);
	assert_int_equal(f.st.nopen, 0);
	fx_free(&f);
}

/* What the monitor keeps of a discovery between polls (checkrun.h). */
static void test_copy_discovery(void **state)
{
	(void)state;
	ss_zone_result_t r;
	result(&r, 5, (const int64_t[]){4, -1}, 2);
	ss_zone_obs_t *o = &r.obs;
	o->have_ns_sets = true;
	o->mname = strdup("ns1.example.test.");
	o->discovery_detail = strdup("partly");
	o->parent_ns = calloc(1, sizeof(*o->parent_ns));
	o->parent_ns[0] = knot_dname_from_str_alloc("ns1.example.test.");
	o->nparent_ns = 1;
	o->unresolved_ns = calloc(1, sizeof(*o->unresolved_ns));
	o->unresolved_ns[0] = strdup("ns9.example.test.");
	o->nunresolved_ns = 1;
	ss_zone_result_t c;
	memset(&c, 0, sizeof(c));
	assert_int_equal(ss_obs_copy_discovery(&c.obs, o), 0);
	assert_int_equal(c.obs.nservers, 3);
	assert_true(c.obs.servers[0].is_primary);
	assert_string_equal(c.obs.servers[1].name, "ns2.example.test.");
	assert_int_equal(c.obs.servers[1].origin, SS_ORIGIN_CHILD);
	/* no answers copied: the next poll asks again */
	assert_false(c.obs.servers[1].has_soa);
	assert_int_equal(c.obs.servers[1].kind, SS_ANS_NONE);
	assert_int_equal(c.obs.servers[1].rcode, -1);
	assert_true(c.obs.have_ns_sets);
	assert_string_equal(c.obs.mname, "ns1.example.test.");
	assert_string_equal(c.obs.discovery_detail, "partly");
	assert_int_equal(c.obs.nparent_ns, 1);
	assert_true(knot_dname_is_equal(c.obs.parent_ns[0], o->parent_ns[0]));
	assert_int_equal(c.obs.nchild_ns, 0);
	assert_string_equal(c.obs.unresolved_ns[0], "ns9.example.test.");
	/* the copy is independent of the original */
	ss_zone_result_clear(&r);
	assert_string_equal(c.obs.servers[1].name, "ns2.example.test.");
	assert_null(c.obs.servers[2].name);
	ss_zone_result_clear(&c);
}

static void test_helpers(void **state)
{
	(void)state;
	ss_mon_prefix_t p;
	ss_addr_t a;
	assert_int_equal(mon_prefix_parse("192.0.2.0/24", &p), 0);
	ss_addr_parse(&a, "192.0.2.77", 53);
	assert_true(mon_prefix_match(&p, &a));
	ss_addr_parse(&a, "192.0.3.1", 53);
	assert_false(mon_prefix_match(&p, &a));
	ss_addr_parse(&a, "::ffff:192.0.2.5", 53);
	assert_true(mon_prefix_match(&p, &a)); /* v4-mapped */
	assert_int_equal(mon_prefix_parse("2001:db8::/33", &p), 0);
	ss_addr_parse(&a, "2001:db8:7fff::1", 53);
	assert_true(mon_prefix_match(&p, &a));
	ss_addr_parse(&a, "2001:db8:8000::1", 53);
	assert_false(mon_prefix_match(&p, &a));
	assert_int_equal(mon_prefix_parse("10.0.0.1", &p), 0);
	assert_int_equal(p.bits, 32);
	assert_int_not_equal(mon_prefix_parse("10.0.0.1/33", &p), 0);
	assert_int_not_equal(mon_prefix_parse("10.0.0.1#53", &p), 0);
	assert_int_not_equal(mon_prefix_parse("10.0.0.1/", &p), 0);

	char buf[SS_ADDR_STRLEN];
	assert_int_equal(mon_addr_parse("127.0.0.1:5300", 53, &a), 0);
	assert_string_equal(ss_addr_format(&a, buf, sizeof(buf)), "127.0.0.1#5300");
	assert_int_equal(mon_addr_parse("[::1]:5300", 53, &a), 0);
	assert_string_equal(ss_addr_format(&a, buf, sizeof(buf)), "::1#5300");
	assert_int_equal(mon_addr_parse("2001:db8::1", 53, &a), 0);
	assert_int_equal(ss_addr_port(&a), 53);
	assert_int_equal(mon_addr_parse("192.0.2.1#5353", 53, &a), 0);
	assert_int_not_equal(mon_addr_parse("[::1]x", 53, &a), 0);
	assert_int_not_equal(mon_addr_parse("host.example:53", 53, &a), 0);

	ss_mon_histogram_t h;
	mon_hist_init(&h, mon_conv_bounds, mon_nconv_bounds);
	mon_hist_add(&h, 0.5);
	mon_hist_add(&h, 1.0);
	mon_hist_add(&h, 7200);
	assert_int_equal(h.counts[0], 2);
	assert_int_equal(h.counts[mon_nconv_bounds - 1], 1);
	assert_int_equal(h.count, 3);
}

/* The one grading of a lag, as the findings and the web faces use it. */
static void test_lag_severity(void **state)
{
	(void)state;
	ss_mon_config_t cfg = {.lag_warning_ms = 300000, .lag_critical_ms = 1800000};
	assert_int_equal(ss_mon_lag_severity(&cfg, 0), SS_SEV_INFO);
	assert_int_equal(ss_mon_lag_severity(&cfg, 299999), SS_SEV_INFO);
	assert_int_equal(ss_mon_lag_severity(&cfg, 300000), SS_SEV_WARNING);
	assert_int_equal(ss_mon_lag_severity(&cfg, 1799999), SS_SEV_WARNING);
	assert_int_equal(ss_mon_lag_severity(&cfg, 1800000), SS_SEV_CRITICAL);
	cfg.lag_warning_ms = 0; /* warn at once */
	assert_int_equal(ss_mon_lag_severity(&cfg, 0), SS_SEV_WARNING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_start_then_change_by_poll),
	    cmocka_unit_test(test_notify_time_and_skipped_serials),
	    cmocka_unit_test(test_lag_grades_status),
	    cmocka_unit_test(test_lag_severity),
	    cmocka_unit_test(test_converge_timeout_and_late_convergence),
	    cmocka_unit_test(test_regression),
	    cmocka_unit_test(test_unreachable_period),
	    cmocka_unit_test(test_flapping_one_event_per_change),
	    cmocka_unit_test(test_cap_and_removed_server),
	    cmocka_unit_test(test_discovery_failure_keeps_state),
	    cmocka_unit_test(test_no_primary_and_close),
	    cmocka_unit_test(test_copy_discovery),
	    cmocka_unit_test(test_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
