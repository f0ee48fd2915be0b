/*
 * Zone transfers (lib/xfr.c on the engine) against the in-process responder:
 * AXFR in many messages, IXFR answers of every kind, TSIG-signed streams,
 * broken and slow streams.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <soasync/engine.h>
#include <soasync/error.h>
#include <soasync/xfr.h>

#include "responder.h"

#define ZONE   "example.test."
#define SERIAL 7u
#define KEY    "hmac-sha256:xfr-key.:c29hc3luYy10ZXN0LWtleS1zb2FzeW5jLXRlc3Qta2V5MTI="
#define KEY2   "hmac-sha256:xfr-key.:b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC1vdGhlci1zZWM="

/* How the scripted server answers a transfer. */
typedef struct {
	unsigned messages;    /* AXFR: messages (SOA first, SOA last) */
	unsigned per_message; /* A records per message */
	bool sign;            /* TSIG-sign with key */
	bool skip_middle;     /* leave the messages between first and last unsigned */
	size_t pace_chunk;    /* bytes at a time (0: at once) */
	unsigned pace_ms;     /* between chunks */
	bool reset_after_one; /* RST after the first message */
	knot_tsig_key_t key;
	unsigned queries;
} server_t;

static server_t S;

static knot_pkt_t *axfr_message(rsp_query_t *q, unsigned i)
{
	knot_pkt_t *p = rsp_reply(q, KNOT_RCODE_NOERROR, true);
	assert_non_null(p);
	if (i == 0) {
		assert_int_equal(rsp_add_soa(p, KNOT_ANSWER, ZONE, SERIAL), 0);
	}
	for (unsigned k = 0; k < S.per_message; k++) {
		assert_int_equal(
		    rsp_addf(p, KNOT_ANSWER, "h%u-%u." ZONE " 300 A 192.0.2.%u", i, k, k % 250 + 1),
		    0);
	}
	if (i + 1 == S.messages) {
		assert_int_equal(rsp_add_soa(p, KNOT_ANSWER, ZONE, SERIAL), 0);
	}
	if (S.sign && (!S.skip_middle || i == 0 || i + 1 == S.messages)) {
		assert_int_equal(rsp_sign(q, p, &S.key), KNOT_EOK);
	} else if (S.sign) {
		assert_int_equal(rsp_sign_skip(q, p), 0);
	}
	return p;
}

static size_t gen_axfr(rsp_query_t *q, unsigned i, uint8_t *out, size_t cap, void *arg)
{
	(void)arg;
	if (i >= S.messages) {
		return 0;
	}
	knot_pkt_t *p = axfr_message(q, i);
	assert_true(p->size <= cap);
	size_t n = p->size;
	memcpy(out, p->wire, n);
	knot_pkt_free(p);
	return n;
}

static void handler(rsp_query_t *q, void *arg)
{
	(void)arg;
	S.queries++;
	if (!q->tcp || rsp_qtype(q) != KNOT_RRTYPE_AXFR) {
		return;
	}
	if (S.pace_chunk > 0) {
		rsp_pace(q, S.pace_chunk, S.pace_ms);
	}
	if (S.reset_after_one) {
		rsp_send_pkt(q, axfr_message(q, 0));
		rsp_delay(q, 20);
		rsp_reset(q);
		return;
	}
	rsp_stream(q, gen_axfr, NULL);
}

/* ---- the client side ----------------------------------------------------------------------- */

typedef struct {
	bool done;
	ss_xfr_result_t res;
	unsigned rrs;
} outcome_t;

static int count_rr(const knot_rrset_t *rr, void *arg)
{
	(void)rr;
	((outcome_t *)arg)->rrs++;
	return 0;
}

static void xfr_done(const ss_xfr_result_t *res, void *arg)
{
	outcome_t *o = arg;
	o->res = *res;
	o->done = true;
}

static bool is_done(void *arg)
{
	return ((outcome_t *)arg)->done;
}

/* One transfer of ZONE from the scripted server; tsig may be NULL. */
static void transfer(const knot_tsig_key_t *tsig, outcome_t *o)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	rsp_t *r = rsp_start(&loop, "127.0.0.1", handler, NULL);
	ss_engine_t *e = ss_engine_new(&loop, NULL);
	knot_dname_storage_t zone;
	knot_dname_from_str(zone, ZONE, sizeof(zone));
	ss_xfr_opts_t xo = {.zone = zone, .tsig = tsig};
	rsp_server(r, &xo.server);
	memset(o, 0, sizeof(*o));
	assert_int_equal(ss_xfr_start(e, &xo, count_rr, xfr_done, o), 0);
	assert_true(rsp_run_until(&loop, is_done, o, 20000));
	ss_engine_close(e);
	rsp_stop(r);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static int setup(void **state)
{
	(void)state;
	memset(&S, 0, sizeof(S));
	S.messages = 3;
	S.per_message = 50;
	return knot_tsig_key_init_str(&S.key, KEY) == KNOT_EOK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	knot_tsig_key_deinit(&S.key);
	return 0;
}

static void test_axfr_many_messages(void **state)
{
	(void)state;
	outcome_t o;
	transfer(NULL, &o);
	assert_int_equal(o.res.error, 0);
	assert_int_equal(o.res.serial, SERIAL);
	assert_int_equal(o.res.messages, 3);
	assert_int_equal(o.res.records, 3 * 50 + 2);
	assert_int_equal(o.rrs, 3 * 50 + 1); /* the closing SOA is not passed on */
	assert_false(o.res.signed_ok);
}

static void test_axfr_byte_by_byte(void **state)
{
	(void)state;
	S.messages = 2;
	S.per_message = 2;
	S.pace_chunk = 1;
	S.pace_ms = 1;
	outcome_t o;
	transfer(NULL, &o);
	assert_int_equal(o.res.error, 0);
	assert_int_equal(o.res.records, 2 * 2 + 2);
	/* Two messages of well over 100 bytes, one byte a millisecond. */
	assert_true(o.res.duration_us > 200000);
}

static void test_axfr_reset(void **state)
{
	(void)state;
	outcome_t o;
	S.reset_after_one = true;
	transfer(NULL, &o);
	assert_int_equal(o.res.error, SS_ECLOSED);
}

static void test_axfr_tsig_stream(void **state)
{
	(void)state;
	S.sign = true;
	S.skip_middle = true;
	S.messages = 4;
	knot_tsig_key_t key;
	assert_int_equal(knot_tsig_key_init_str(&key, KEY), KNOT_EOK);
	outcome_t o;
	transfer(&key, &o);
	knot_tsig_key_deinit(&key);
	assert_int_equal(o.res.error, 0);
	assert_true(o.res.signed_ok);
	assert_int_equal(o.res.messages, 4);
}

static void test_axfr_tsig_wrong_secret(void **state)
{
	(void)state;
	S.sign = true;
	knot_tsig_key_t other;
	assert_int_equal(knot_tsig_key_init_str(&other, KEY2), KNOT_EOK);
	outcome_t o;
	transfer(&other, &o);
	knot_tsig_key_deinit(&other);
	assert_int_equal(o.res.error, SS_ETSIG);
	assert_false(o.res.signed_ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_axfr_many_messages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_axfr_byte_by_byte, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_axfr_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_axfr_tsig_stream, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_axfr_tsig_wrong_secret, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
