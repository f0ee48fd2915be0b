/*
 * The query engine against an in-process responder on 127.0.0.1 (UDP and
 * TCP on one port, same libuv loop): retransmission after loss, TCP after
 * TC, the retry without EDNS, forged answers dropped, time-outs, pacing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <soasync/engine.h>
#include <soasync/error.h>

#include "engine_int.h"
#include "responder.h"

typedef enum {
	R_NORMAL,
	R_DROP_FIRST,
	R_TC,
	R_FORMERR_EDNS,
	R_FORGED_FIRST,
	R_SILENT,
	R_SLOW,
} behavior_t;

typedef struct {
	behavior_t mode;
	unsigned udp_queries, tcp_queries, edns_queries;
	uint16_t seen[64]; /* R_DROP_FIRST: IDs already dropped once */
	unsigned nseen;
	unsigned max_pending; /* answers under way at once (R_SLOW: delayed) */
	uint64_t when[128];   /* arrival of each UDP query (ns) */
	rsp_t *rsp;
} responder_t;

static responder_t R;

static bool seen_before(uint16_t id)
{
	for (unsigned i = 0; i < R.nseen; i++) {
		if (R.seen[i] == id) {
			return true;
		}
	}
	if (R.nseen < 64) {
		R.seen[R.nseen++] = id;
	}
	return false;
}

/* An authoritative answer: TC and empty, an error rcode, or the SOA (serial 42). */
static knot_pkt_t *answer(const rsp_query_t *q, bool tc, uint8_t rcode)
{
	knot_pkt_t *p = rsp_reply(q, rcode, true);
	assert_non_null(p);
	if (tc) {
		knot_wire_set_tc(p->wire);
	} else if (rcode == KNOT_RCODE_NOERROR) {
		assert_int_equal(rsp_add_soa(p, KNOT_ANSWER, "example.test.", 42), 0);
	}
	return p;
}

static void handler(rsp_query_t *q, void *arg)
{
	(void)arg;
	if (q->tcp) {
		/* TCP: one query, the full answer, then close. */
		R.tcp_queries++;
		rsp_send_pkt(q, answer(q, false, KNOT_RCODE_NOERROR));
		rsp_close(q);
		return;
	}
	if (R.udp_queries < 128) {
		R.when[R.udp_queries] = uv_hrtime();
	}
	R.udp_queries++;
	bool edns = rsp_edns(q);
	R.edns_queries += edns;
	if (R.mode == R_SILENT ||
	    (R.mode == R_DROP_FIRST && !seen_before(knot_wire_get_id(q->wire)))) {
		return;
	}
	uint8_t rc = R.mode == R_FORMERR_EDNS && edns ? KNOT_RCODE_FORMERR : KNOT_RCODE_NOERROR;
	knot_pkt_t *p = answer(q, R.mode == R_TC, rc);
	if (R.mode == R_FORGED_FIRST) {
		knot_wire_set_id(p->wire, knot_wire_get_id(p->wire) + 1);
		rsp_send(q, p->wire, p->size);
		knot_wire_set_id(p->wire, knot_wire_get_id(p->wire) - 1);
	}
	if (R.mode == R_SLOW) {
		rsp_delay(q, 20);
	}
	rsp_send_pkt(q, p);
}

static void responder_start(uv_loop_t *loop, behavior_t mode)
{
	memset(&R, 0, sizeof(R));
	R.mode = mode;
	R.rsp = rsp_start(loop, "127.0.0.1", handler, NULL);
}

static void responder_stop(void)
{
	R.max_pending = R.rsp->max_active;
	rsp_stop(R.rsp);
}

/* ---- the engine side -------------------------------------------------------------------- */

typedef struct {
	int done;
	int error;
	int rcode;
	bool tcp, edns;
	uint32_t serial;
} outcome_t;

static void got(const ss_response_t *r, void *arg)
{
	outcome_t *o = arg;
	o->done++;
	o->error = r->error;
	o->rcode = r->error ? -1 : r->rcode;
	o->tcp = r->tcp;
	o->edns = r->edns;
	if (r->error == 0) {
		const knot_pktsection_t *an = knot_pkt_section(r->pkt, KNOT_ANSWER);
		if (an->count > 0 && knot_pkt_rr(an, 0)->type == KNOT_RRTYPE_SOA) {
			o->serial = knot_soa_serial(knot_pkt_rr(an, 0)->rrs.rdata);
		}
	}
}

/* The engine's counters of the last run_queries(): a loaded machine (ASan,
 * a busy CI) may retransmit, and each retransmission reaches the responder. */
static ss_engine_stats_t LAST;

/* A stall of the whole process (a loaded machine): once the responder has
 * answered, the loop blocks STALL_MS before it polls again. */
static unsigned STALL_MS;

static void stall_once(uv_check_t *h)
{
	if (R.udp_queries > 0) {
		struct timespec ts = {STALL_MS / 1000, (long)(STALL_MS % 1000) * 1000000L};
		nanosleep(&ts, NULL);
		uv_check_stop(h);
	}
}

static int run_queries(behavior_t mode, unsigned n, outcome_t *out, unsigned per_server,
                       unsigned tries, unsigned timeout_ms)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	responder_start(&loop, mode);
	ss_engine_opts_t o;
	ss_engine_opts_default(&o);
	o.timeout_ms = timeout_ms;
	o.tries = tries;
	o.per_server = per_server;
	ss_engine_t *e = ss_engine_new(&loop, &o);
	knot_dname_storage_t name;
	knot_dname_from_str(name, "example.test.", sizeof(name));
	ss_query_t q = {.qname = name, .qtype = KNOT_RRTYPE_SOA, .flags = SS_QF_NSID};
	rsp_server(R.rsp, &q.server);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(ss_engine_query(e, &q, got, &out[i]), 0);
	}
	uv_check_t stall;
	uv_check_init(&loop, &stall);
	if (STALL_MS > 0) {
		uv_check_start(&stall, stall_once);
	}
	uint64_t t0 = uv_hrtime();
	/* The responder keeps the loop alive: run until every query has ended. */
	for (;;) {
		unsigned done = 0;
		for (unsigned i = 0; i < n; i++) {
			done += out[i].done;
		}
		if (done == n || uv_hrtime() - t0 > 20000000000ull) {
			break;
		}
		uv_run(&loop, UV_RUN_ONCE);
	}
	ss_engine_stats(e, &LAST);
	ss_engine_close(e);
	uv_close((uv_handle_t *)&stall, NULL);
	responder_stop();
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return (int)((uv_hrtime() - t0) / 1000000u);
}

typedef struct {
	outcome_t *o;
	size_t n;
} batch_t;

static bool batch_done(void *arg)
{
	const batch_t *b = arg;
	for (size_t i = 0; i < b->n; i++) {
		if (!b->o[i].done) {
			return false;
		}
	}
	return true;
}

/*
 * n queries (flags) to each of nsrv responders, 127.0.0.1 to 127.0.0.nsrv,
 * all at once, the engine limited to max_sockets sockets (0: the open-file
 * limit). Returns how many got no answer with serial 42; counters into st.
 */
static unsigned run_many(behavior_t mode, unsigned nsrv, unsigned n, unsigned flags,
                         unsigned max_sockets, ss_engine_stats_t *st)
{
	memset(&R, 0, sizeof(R));
	R.mode = mode;
	uv_loop_t loop;
	uv_loop_init(&loop);
	rsp_t *r[64];
	assert_true(nsrv <= 64);
	for (unsigned i = 0; i < nsrv; i++) {
		char ip[16];
		snprintf(ip, sizeof(ip), "127.0.0.%u", i + 1);
		r[i] = rsp_start(&loop, ip, handler, NULL);
	}
	ss_engine_opts_t eo;
	ss_engine_opts_default(&eo);
	eo.max_sockets = max_sockets;
	ss_engine_t *e = ss_engine_new(&loop, &eo);
	knot_dname_storage_t name;
	knot_dname_from_str(name, "example.test.", sizeof(name));
	batch_t b = {calloc(nsrv * n, sizeof(outcome_t)), nsrv * n};
	for (unsigned i = 0; i < nsrv * n; i++) {
		ss_query_t q = {.qname = name, .qtype = KNOT_RRTYPE_SOA, .flags = flags};
		rsp_server(r[i % nsrv], &q.server);
		assert_int_equal(ss_engine_query(e, &q, got, &b.o[i]), 0);
	}
	assert_true(rsp_run_until(&loop, batch_done, &b, 30000));
	ss_engine_stats(e, st);
	unsigned bad = 0;
	for (size_t i = 0; i < b.n; i++) {
		bad += b.o[i].error != 0 || b.o[i].serial != 42;
	}
	ss_engine_close(e);
	for (unsigned i = 0; i < nsrv; i++) {
		rsp_stop(r[i]);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	free(b.o);
	return bad;
}

static void test_normal(void **state)
{
	(void)state;
	outcome_t o[3] = {{0}};
	run_queries(R_NORMAL, 3, o, 100, 3, 1000);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(o[i].done, 1);
		assert_int_equal(o[i].error, 0);
		assert_int_equal(o[i].serial, 42);
		assert_true(o[i].edns);
		assert_false(o[i].tcp);
	}
	assert_int_equal(R.udp_queries, 3 + LAST.retransmits);
}

static void test_lost_query_retried_quickly(void **state)
{
	(void)state;
	outcome_t o[1] = {{0}};
	int ms = run_queries(R_DROP_FIRST, 1, o, 100, 3, 10000);
	assert_int_equal(o[0].error, 0);
	assert_true(LAST.retransmits >= 1);
	assert_int_equal(R.udp_queries, 1 + LAST.retransmits);
	/* The retry comes after the initial RTO (250 ms), long before the 10 s timeout. */
	assert_true(ms < 5000);
}

static void test_truncated_goes_tcp(void **state)
{
	(void)state;
	outcome_t o[1] = {{0}};
	run_queries(R_TC, 1, o, 100, 3, 1000);
	assert_int_equal(o[0].error, 0);
	assert_true(o[0].tcp);
	assert_int_equal(o[0].serial, 42);
	assert_int_equal(R.tcp_queries, 1);
}

static void test_formerr_retried_without_edns(void **state)
{
	(void)state;
	outcome_t o[1] = {{0}};
	run_queries(R_FORMERR_EDNS, 1, o, 100, 3, 1000);
	assert_int_equal(o[0].error, 0);
	assert_int_equal(o[0].rcode, KNOT_RCODE_NOERROR);
	assert_false(o[0].edns);
	assert_true(R.edns_queries >= 1 && R.edns_queries <= 1 + LAST.retransmits);
	assert_int_equal(R.udp_queries, 2 + LAST.retransmits);
}

static void test_forged_dropped(void **state)
{
	(void)state;
	outcome_t o[1] = {{0}};
	run_queries(R_FORGED_FIRST, 1, o, 100, 3, 1000);
	assert_int_equal(o[0].error, 0);
	assert_int_equal(o[0].serial, 42);
}

/* The answer arrived, then the process stalled past the time-out (one try):
 * the engine looks at the socket once more before it gives up. */
static void test_stall_past_timeout(void **state)
{
	(void)state;
	outcome_t o[1] = {{0}};
	STALL_MS = 300;
	run_queries(R_NORMAL, 1, o, 100, 1, 100);
	STALL_MS = 0;
	assert_int_equal(o[0].error, 0);
	assert_int_equal(o[0].serial, 42);
	assert_int_equal(R.udp_queries, 1);
}

static void test_timeout_bounded(void **state)
{
	(void)state;
	outcome_t o[1] = {{0}};
	int ms = run_queries(R_SILENT, 1, o, 100, 2, 200);
	assert_int_equal(o[0].error, SS_ETIMEOUT);
	assert_int_equal(R.udp_queries, 2);
	assert_true(ms >= 200 && ms < 5000);
}

static void test_paced_per_server(void **state)
{
	(void)state;
	outcome_t o[40];
	memset(o, 0, sizeof(o));
	run_queries(R_SLOW, 40, o, 5, 1, 5000); /* one try: no retransmission under load */
	for (int i = 0; i < 40; i++) {
		assert_int_equal(o[i].error, 0);
	}
	assert_true(R.max_pending <= 5);
	assert_int_equal(R.udp_queries, 40);
}

/* The wait of every try, at the extremes of --tries (1 to 100): never
 * shorter than the one before, never past the time-out, the last the whole
 * time-out (a shift of 64 bits once made tries 61-64 go at once). */
static void test_try_wait_extremes(void **state)
{
	(void)state;
	static const unsigned tries[] = {1, 2, 63, 64, 100};
	static const uint64_t rtos[] = {0, 250000, 1500000, UINT64_MAX / 2, UINT64_MAX};
	for (size_t t = 0; t < sizeof(tries) / sizeof(tries[0]); t++) {
		for (size_t r = 0; r < sizeof(rtos) / sizeof(rtos[0]); r++) {
			unsigned prev = 0;
			for (unsigned i = 0; i < tries[t]; i++) {
				unsigned w = ss_engine_try_wait_ms(rtos[r], i, tries[t], 1500);
				assert_true(w >= 50 && w <= 1500);
				assert_true(w >= prev);
				prev = w;
			}
			assert_int_equal(prev, 1500);
		}
	}
	assert_int_equal(ss_engine_try_wait_ms(250000, 0, 3, 1500), 250);
	assert_int_equal(ss_engine_try_wait_ms(250000, 1, 3, 1500), 500);
	assert_int_equal(ss_engine_try_wait_ms(1000, 0, 3, 1500), 50);
	assert_int_equal(ss_engine_try_wait_ms(250000, 99, 100, 1500), 1500);
	assert_int_equal(ss_engine_try_wait_ms(250000, 64, 100, 100), 100);
}

/* Against a silent server with 70 tries, every retransmission waits. */
static void test_many_tries_all_wait(void **state)
{
	(void)state;
	outcome_t o[1] = {{0}};
	run_queries(R_SILENT, 1, o, 100, 70, 30);
	assert_int_equal(o[0].error, SS_ETIMEOUT);
	assert_int_equal(R.udp_queries, 70);
	for (unsigned i = 1; i < 70; i++) {
		assert_true(R.when[i] - R.when[i - 1] >= 20000000u);
	}
}

/* More servers than sockets: the queries wait for a socket, idle ones are
 * closed for them, every server answers. */
static void test_sockets_within_limit(void **state)
{
	(void)state;
	ss_engine_stats_t st;
	assert_int_equal(run_many(R_NORMAL, 40, 3, 0, 8, &st), 0);
	assert_true(st.sockets_max <= 8);
	/* a loaded machine may retransmit: each one reached the server too */
	assert_int_equal(R.udp_queries, 120 + st.retransmits);
}

static void test_tcp_within_limit(void **state)
{
	(void)state;
	ss_engine_stats_t st;
	assert_int_equal(run_many(R_NORMAL, 20, 2, SS_QF_TCP, 4, &st), 0);
	assert_true(st.sockets_max <= 4);
	assert_int_equal(R.tcp_queries, 40);
}

/* Truncated answers: queries in flight wait for a socket to go over TCP. */
static void test_tc_within_limit(void **state)
{
	(void)state;
	ss_engine_stats_t st;
	assert_int_equal(run_many(R_TC, 12, 2, 0, 3, &st), 0);
	assert_true(st.sockets_max <= 3);
	assert_int_equal(R.tcp_queries, 24);
}

/* No file left at all: a local error (SS_EMFILE), not the server's. */
static void test_no_files_is_local_error(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	responder_start(&loop, R_NORMAL);
	struct rlimit saved, low;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	int probe = dup(0); /* the lowest free descriptor: everything below is open */
	assert_true(probe >= 0);
	close(probe);
	low.rlim_cur = (rlim_t)probe; /* the hard limit stays: it could not be raised again */
	low.rlim_max = saved.rlim_max;
	ss_engine_t *e = ss_engine_new(&loop, NULL);
	assert_non_null(e);
	knot_dname_storage_t name;
	knot_dname_from_str(name, "example.test.", sizeof(name));
	ss_query_t q = {.qname = name, .qtype = KNOT_RRTYPE_SOA};
	rsp_server(R.rsp, &q.server);
	outcome_t o[2] = {{0}};
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	assert_int_equal(ss_engine_query(e, &q, got, &o[0]), 0);
	q.flags = SS_QF_TCP;
	assert_int_equal(ss_engine_query(e, &q, got, &o[1]), 0);
	batch_t b = {o, 2};
	bool done = rsp_run_until(&loop, batch_done, &b, 5000);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	assert_true(done);
	assert_int_equal(o[0].error, SS_EMFILE);
	assert_int_equal(o[1].error, SS_EMFILE);
	assert_int_equal(R.udp_queries + R.tcp_queries, 0);
	ss_engine_close(e);
	responder_stop();
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normal),
	    cmocka_unit_test(test_lost_query_retried_quickly),
	    cmocka_unit_test(test_truncated_goes_tcp),
	    cmocka_unit_test(test_formerr_retried_without_edns),
	    cmocka_unit_test(test_forged_dropped),
	    cmocka_unit_test(test_timeout_bounded),
	    cmocka_unit_test(test_paced_per_server),
	    cmocka_unit_test(test_try_wait_extremes),
	    cmocka_unit_test(test_many_tries_all_wait),
	    cmocka_unit_test(test_sockets_within_limit),
	    cmocka_unit_test(test_tcp_within_limit),
	    cmocka_unit_test(test_tc_within_limit),
	    cmocka_unit_test(test_no_files_is_local_error),
	    cmocka_unit_test(test_stall_past_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
