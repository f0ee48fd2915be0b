/*
 * NOTIFY (lib/notify.c on the engine) against the in-process responder:
 * acknowledged, refused, signed, a forged TSIG error, a wrong MAC, retries.
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
#include <soasync/notify.h>

#include "responder.h"

#define ZONE "example.test."
#define KEY  "hmac-sha256:notify-key.:c29hc3luYy10ZXN0LWtleS1zb2FzeW5jLXRlc3Qta2V5MTI="
#define KEY2 "hmac-sha256:notify-key.:b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC1vdGhlci1zZWM="

typedef enum {
	N_ACK,          /* NOERROR (signed with the server key when the query was) */
	N_REFUSED,      /* REFUSED, unsigned */
	N_FORGED,       /* NOERROR, TSIG error BADTIME, all-zero MAC */
	N_BADSIG,       /* NOTAUTH, TSIG error BADSIG (what a server with another secret sends) */
	N_UNSIGNED_ACK, /* NOERROR without TSIG, whatever the query */
	N_DROP_FIRST,   /* the first query gets nothing, the next an ACK */
} nmode_t;

typedef struct {
	nmode_t mode;
	knot_tsig_key_t server_key; /* the key the server signs with */
	unsigned queries, notifies;
	uint32_t soa_serial; /* the serial the NOTIFY carried */
} server_t;

static server_t S;

static void handler(rsp_query_t *q, void *arg)
{
	(void)arg;
	S.queries++;
	if (rsp_opcode(q) != KNOT_OPCODE_NOTIFY || q->pkt == NULL) {
		return;
	}
	S.notifies++;
	const knot_pktsection_t *an = knot_pkt_section(q->pkt, KNOT_ANSWER);
	if (an->count == 1 && knot_pkt_rr(an, 0)->type == KNOT_RRTYPE_SOA) {
		S.soa_serial = knot_soa_serial(knot_pkt_rr(an, 0)->rrs.rdata);
	}
	if (S.mode == N_DROP_FIRST && S.notifies == 1) {
		return;
	}
	uint16_t rc = S.mode == N_REFUSED  ? KNOT_RCODE_REFUSED
	              : S.mode == N_BADSIG ? KNOT_RCODE_NOTAUTH
	                                   : KNOT_RCODE_NOERROR;
	knot_pkt_t *p = rsp_reply(q, rc, true);
	assert_non_null(p);
	if (S.mode == N_FORGED) {
		assert_int_equal(rsp_tsig_forge(p, &S.server_key, KNOT_RCODE_BADTIME), 0);
	} else if (S.mode == N_BADSIG) {
		assert_int_equal(rsp_tsig_forge(p, &S.server_key, KNOT_RCODE_BADSIG), 0);
	} else if (q->pkt->tsig_rr != NULL && S.mode != N_UNSIGNED_ACK && S.mode != N_REFUSED) {
		assert_int_equal(rsp_sign(q, p, &S.server_key), KNOT_EOK);
	}
	rsp_send_pkt(q, p);
}

typedef struct {
	bool done;
	ss_notify_result_t res;
} outcome_t;

static void notified(const ss_notify_result_t *res, void *arg)
{
	outcome_t *o = arg;
	o->res = *res;
	o->done = true;
}

static bool is_done(void *arg)
{
	return ((outcome_t *)arg)->done;
}

/* One NOTIFY (serial 2024) with client_key (or none) and a deadline. */
static void notify(nmode_t mode, const char *client_key, unsigned deadline_ms, outcome_t *o)
{
	S.mode = mode;
	knot_tsig_key_t key;
	assert_true(client_key == NULL || knot_tsig_key_init_str(&key, client_key) == KNOT_EOK);
	ss_engine_opts_t eo;
	ss_engine_opts_default(&eo);
	eo.timeout_ms = 300;
	eo.tries = 2;
	rsp_env_t env;
	rsp_env_start(&env, handler, NULL, &eo);
	knot_dname_storage_t zone;
	knot_dname_from_str(zone, ZONE, sizeof(zone));
	knot_rrset_t *soa =
	    rsp_rr(ZONE " 3600 SOA ns1." ZONE " hostmaster." ZONE " 2024 3600 600 86400 300");
	assert_non_null(soa);
	memset(o, 0, sizeof(*o));
	assert_int_equal(ss_notify_send(env.e, zone, soa, &env.server, client_key ? &key : NULL,
	                                deadline_ms, notified, o),
	                 0);
	knot_rrset_free(soa, NULL);
	assert_true(rsp_env_run(&env, is_done, o, 20000));
	if (client_key != NULL) {
		knot_tsig_key_deinit(&key);
	}
}

static int setup(void **state)
{
	(void)state;
	memset(&S, 0, sizeof(S));
	return knot_tsig_key_init_str(&S.server_key, KEY) == KNOT_EOK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	knot_tsig_key_deinit(&S.server_key);
	return 0;
}

static void test_ack(void **state)
{
	(void)state;
	outcome_t o;
	notify(N_ACK, NULL, 3000, &o);
	assert_int_equal(o.res.status, SS_NOTIFY_ACKED);
	assert_int_equal(o.res.rcode, KNOT_RCODE_NOERROR);
	assert_int_equal(o.res.attempts, 1);
	assert_int_equal(S.soa_serial, 2024);
}

static void test_refused(void **state)
{
	(void)state;
	outcome_t o;
	notify(N_REFUSED, NULL, 3000, &o);
	assert_int_equal(o.res.status, SS_NOTIFY_REFUSED);
	assert_int_equal(o.res.rcode, KNOT_RCODE_REFUSED);
	assert_int_equal(o.res.tsig_error, 0);
}

static void test_signed_ack(void **state)
{
	(void)state;
	outcome_t o;
	notify(N_ACK, KEY, 3000, &o);
	assert_int_equal(o.res.status, SS_NOTIFY_ACKED);
	assert_int_equal(o.res.tsig_error, 0);
}

/* NOERROR with a TSIG error (BADTIME) and an all-zero MAC: no acknowledgement. */
static void test_forged_tsig_error_not_acked(void **state)
{
	(void)state;
	outcome_t o;
	notify(N_FORGED, KEY, 3000, &o);
	assert_int_equal(o.res.status, SS_NOTIFY_REFUSED);
	assert_int_equal(o.res.rcode, KNOT_RCODE_NOTAUTH);
	assert_int_equal(o.res.tsig_error, KNOT_RCODE_BADTIME);
}

static void test_badsig(void **state)
{
	(void)state;
	outcome_t o;
	notify(N_BADSIG, KEY, 3000, &o);
	assert_int_equal(o.res.status, SS_NOTIFY_REFUSED);
	assert_int_equal(o.res.rcode, KNOT_RCODE_NOTAUTH);
	assert_int_equal(o.res.tsig_error, KNOT_RCODE_BADSIG);
	assert_string_equal(ss_tsig_error_name(o.res.tsig_error), "BADSIG");
}

/* A NOERROR signed with another secret, or not signed at all, is no
 * acknowledgement either: dropped, so nothing arrives before the deadline. */
static void test_wrong_mac_dropped(void **state)
{
	(void)state;
	outcome_t o;
	notify(N_ACK, KEY2, 1000, &o);
	assert_int_equal(o.res.status, SS_NOTIFY_NOANSWER);
	assert_int_equal(o.res.error, SS_ETSIG);
	assert_true(S.notifies >= 1);
}

static void test_unsigned_ack_dropped(void **state)
{
	(void)state;
	outcome_t o;
	notify(N_UNSIGNED_ACK, KEY, 1000, &o);
	assert_int_equal(o.res.status, SS_NOTIFY_NOANSWER);
	assert_int_equal(o.res.error, SS_ETSIG);
}

static void test_lost_then_acked(void **state)
{
	(void)state;
	outcome_t o;
	notify(N_DROP_FIRST, NULL, 5000, &o);
	assert_int_equal(o.res.status, SS_NOTIFY_ACKED);
	assert_true(S.notifies >= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_signed_ack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forged_tsig_error_not_acked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_badsig, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_mac_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unsigned_ack_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lost_then_acked, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
