/*
 * Zone transfers (lib/xfr.c on the engine) against the in-process responder:
 * AXFR in many messages, IXFR answers of every kind, TSIG-signed streams,
 * broken and slow streams.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <soasync/checkxfr.h>
#include <soasync/engine.h>
#include <soasync/error.h>
#include <soasync/xfr.h>
#include <soasync/zone.h>

#include "obs_fixture.h"
#include "responder.h"
#include "xfr_budget.h"

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
	uint16_t forge_error; /* TSIG error with an all-zero MAC on message forge_at */
	unsigned forge_at;
	uint8_t rcode;      /* of every message */
	bool unsigned_last; /* the closing message goes out unsigned */
	bool edns;          /* an OPT record in every message */
	size_t txt_len;     /* a TXT record of this size per message instead of A records */
	bool endless;       /* messages without end (no closing SOA) */
	bool endless_first; /* only the first AXFR gets the endless stream */
	unsigned stall_ms;  /* silence after the first message */
	int ixfr;           /* how an IXFR is answered: IX_* */
	knot_tsig_key_t key;
	unsigned queries;
} server_t;

static server_t S;

/* IXFR answers (the client claims serial 5, the server has 7). */
enum {
	IX_DIFF,
	IX_DIFF_SPLIT,
	IX_AXFR,
	IX_AXFR_SOA_FIRST, /* the SOA alone, then the zone (PowerDNS) */
	IX_UP_TO_DATE,
	IX_SINGLE_SOA,       /* the SOA alone, the connection kept open (NSD) */
	IX_SINGLE_SOA_CLOSE, /* the SOA alone, then the connection closed */
	IX_REFUSED
};

static void ixfr_message(rsp_query_t *q, const char *const *recs)
{
	knot_pkt_t *p = rsp_reply(q, KNOT_RCODE_NOERROR, true);
	assert_non_null(p);
	for (; *recs != NULL; recs++) {
		assert_int_equal(rsp_add(p, KNOT_ANSWER, *recs), 0);
	}
	if (q->pkt->tsig_rr != NULL) {
		assert_int_equal(rsp_sign(q, p, &S.key), KNOT_EOK);
	}
	rsp_send_pkt(q, p);
}

#define SOA_5 ZONE " 300 SOA ns1." ZONE " h." ZONE " 5 3600 600 86400 300"
#define SOA_7 ZONE " 300 SOA ns1." ZONE " h." ZONE " 7 3600 600 86400 300"

static void ixfr_answer(rsp_query_t *q)
{
	static const char *const diff1[] = {SOA_7, SOA_5, "www." ZONE " 300 A 192.0.2.1", NULL};
	static const char *const diff2[] = {SOA_7, "www." ZONE " 300 A 192.0.2.2", SOA_7, NULL};
	static const char *const diff[] = {
	    SOA_7, SOA_5, "www." ZONE " 300 A 192.0.2.1", SOA_7, "www." ZONE " 300 A 192.0.2.2",
	    SOA_7, NULL};
	static const char *const axfr[] = {SOA_7, ZONE " 300 NS ns1." ZONE,
	                                   "ns1." ZONE " 300 A 192.0.2.53", SOA_7, NULL};
	static const char *const old[] = {SOA_5, NULL};
	static const char *const newer[] = {SOA_7, NULL};
	switch (S.ixfr) {
	case IX_DIFF:
		ixfr_message(q, diff);
		break;
	case IX_DIFF_SPLIT:
		ixfr_message(q, diff1);
		ixfr_message(q, diff2);
		break;
	case IX_AXFR:
		ixfr_message(q, axfr);
		break;
	case IX_AXFR_SOA_FIRST:
		ixfr_message(q, newer);
		ixfr_message(q, axfr + 1);
		break;
	case IX_UP_TO_DATE:
		ixfr_message(q, old);
		break;
	case IX_SINGLE_SOA:
		ixfr_message(q, newer); /* and keeps the connection open, as NSD does */
		break;
	case IX_SINGLE_SOA_CLOSE:
		ixfr_message(q, newer);
		rsp_close(q);
		break;
	default:
		rsp_send_pkt(q, rsp_reply(q, KNOT_RCODE_REFUSED, false));
		break;
	}
}

/* This transfer has no end. */
static bool endless_for(const rsp_query_t *q)
{
	return S.endless && !(S.endless_first && q->seq > 1);
}

static knot_pkt_t *axfr_message(rsp_query_t *q, unsigned i)
{
	knot_pkt_t *p = rsp_reply(q, S.rcode, true);
	assert_non_null(p);
	if (i == 0) {
		assert_int_equal(rsp_add_soa(p, KNOT_ANSWER, ZONE, SERIAL), 0);
	}
	for (unsigned k = 0; k < S.per_message && S.txt_len == 0; k++) {
		assert_int_equal(
		    rsp_addf(p, KNOT_ANSWER, "h%u-%u." ZONE " 300 A 192.0.2.%u", i, k, k % 250 + 1),
		    0);
	}
	if (S.txt_len > 0) {
		static uint8_t txt[65535];
		for (size_t k = 0; k < S.txt_len; k += 256) {
			txt[k] = (uint8_t)(S.txt_len - k > 256 ? 255 : S.txt_len - k - 1);
		}
		char owner[64];
		snprintf(owner, sizeof(owner), "t%u." ZONE, i);
		assert_int_equal(
		    rsp_add_rdata(p, KNOT_ANSWER, owner, KNOT_RRTYPE_TXT, 300, txt, S.txt_len), 0);
	}
	if (i + 1 == S.messages && !endless_for(q)) {
		assert_int_equal(rsp_add_soa(p, KNOT_ANSWER, ZONE, SERIAL), 0);
	}
	if (S.edns) {
		knot_rrset_t opt;
		assert_int_equal(knot_edns_init(&opt, 1232, 0, 0, &p->mm), KNOT_EOK);
		assert_int_equal(knot_pkt_begin(p, KNOT_ADDITIONAL), KNOT_EOK);
		assert_int_equal(knot_pkt_put(p, KNOT_COMPR_HINT_NONE, &opt, KNOT_PF_FREE),
		                 KNOT_EOK);
	}
	if (S.forge_error != 0 && i == S.forge_at) {
		assert_int_equal(rsp_tsig_forge(p, &S.key, S.forge_error), 0);
	} else if (S.sign && (!S.skip_middle || i == 0 || i + 1 == S.messages) &&
	           !(S.unsigned_last && i + 1 == S.messages)) {
		assert_int_equal(rsp_sign(q, p, &S.key), KNOT_EOK);
	} else if (S.sign) {
		assert_int_equal(rsp_sign_skip(q, p), 0);
	}
	return p;
}

static size_t gen_axfr(rsp_query_t *q, unsigned i, uint8_t *out, size_t cap, void *arg)
{
	(void)arg;
	if (i >= S.messages && !endless_for(q)) {
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
	if (q->tcp && rsp_qtype(q) == KNOT_RRTYPE_IXFR) {
		ixfr_answer(q);
		return;
	}
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
	if (S.stall_ms > 0) {
		for (unsigned i = 0; i < S.messages; i++) {
			rsp_send_pkt(q, axfr_message(q, i));
			rsp_delay(q, i == 0 ? S.stall_ms : 0);
		}
		return;
	}
	rsp_stream(q, gen_axfr, NULL);
}

/* ---- the client side ----------------------------------------------------------------------- */

typedef struct {
	bool done;
	ss_xfr_result_t res;
	unsigned rrs;
	ss_zone_t *zone; /* ss_zone_transfer */
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

/* One transfer of ZONE from the scripted server, signed with key (a
 * knot_tsig_key_init_str() string) unless NULL. */
static void transfer_as(uint16_t type, const char *key, outcome_t *o)
{
	knot_tsig_key_t k;
	assert_true(key == NULL || knot_tsig_key_init_str(&k, key) == KNOT_EOK);
	rsp_env_t env;
	rsp_env_start(&env, handler, NULL, NULL);
	knot_dname_storage_t zone;
	knot_dname_from_str(zone, ZONE, sizeof(zone));
	ss_xfr_opts_t xo = {.server = env.server,
	                    .zone = zone,
	                    .type = type,
	                    .ixfr_serial = 5,
	                    .tsig = key ? &k : NULL,
	                    /* not about time: room for a loaded machine (ASan) */
	                    .idle_ms = 15000};
	memset(o, 0, sizeof(*o));
	assert_int_equal(ss_xfr_start(env.e, &xo, count_rr, xfr_done, o), 0);
	assert_true(rsp_env_run(&env, is_done, o, 20000));
	if (key != NULL) {
		knot_tsig_key_deinit(&k);
	}
}

static void transfer(const char *key, outcome_t *o)
{
	transfer_as(KNOT_RRTYPE_AXFR, key, o);
}

static bool all_done(void *arg)
{
	outcome_t *o = arg;
	for (; o->rrs != UINT_MAX; o++) {
		if (!o->done) {
			return false;
		}
	}
	return true;
}

static void zone_done(ss_zone_t *zone, const ss_xfr_result_t *res, void *arg)
{
	outcome_t *o = arg;
	o->res = *res;
	o->done = true;
	o->zone = zone;
}

/*
 * n transfers of ZONE at once on one engine (n < 8), with the engine options
 * eo; kept: into zones (ss_zone_transfer: their share stays held until
 * freed), else counted only. The engine's counters land in st.
 */
static void transfers(unsigned n, bool kept, const ss_engine_opts_t *eo, outcome_t *o,
                      ss_engine_stats_t *st)
{
	rsp_env_t env;
	rsp_env_start(&env, handler, NULL, eo);
	knot_dname_storage_t zone;
	knot_dname_from_str(zone, ZONE, sizeof(zone));
	ss_xfr_opts_t xo = {.server = env.server, .zone = zone};
	memset(o, 0, (n + 1) * sizeof(*o));
	o[n].rrs = UINT_MAX; /* the end */
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(kept ? ss_zone_transfer(env.e, &xo, zone_done, &o[i])
		                      : ss_xfr_start(env.e, &xo, count_rr, xfr_done, &o[i]),
		                 0);
	}
	assert_true(rsp_run_until(&env.loop, all_done, o, 30000));
	ss_engine_stats(env.e, st);
	for (unsigned i = 0; i < n; i++) {
		ss_zone_free(o[i].zone);
	}
	ss_engine_stats_t after;
	ss_engine_stats(env.e, &after);
	assert_true(after.xfr_held == 0); /* every share given back */
	assert_true(rsp_env_run(&env, all_done, o, 1000));
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
	outcome_t o;
	transfer(KEY, &o);
	assert_int_equal(o.res.error, 0);
	assert_true(o.res.signed_ok);
	assert_int_equal(o.res.messages, 4);
}

static void test_axfr_tsig_wrong_secret(void **state)
{
	(void)state;
	S.sign = true;
	outcome_t o;
	transfer(KEY2, &o);
	assert_int_equal(o.res.error, SS_ETSIG);
	assert_false(o.res.signed_ok);
}

/* The closing message of a signed stream must be signed; at most 99
 * unsigned messages in a row. */
static void test_axfr_tsig_unsigned_end(void **state)
{
	(void)state;
	S.sign = true;
	S.unsigned_last = true;
	outcome_t o;
	transfer(KEY, &o);
	assert_int_equal(o.res.error, SS_ETSIG);
	S.skip_middle = true;
	S.unsigned_last = false;
	S.messages = 102;
	S.per_message = 1;
	transfer(KEY, &o);
	assert_int_equal(o.res.error, SS_ETSIG);
	S.messages = 101; /* 99 unsigned in a row: fine */
	transfer(KEY, &o);
	assert_int_equal(o.res.error, 0);
	assert_true(o.res.signed_ok);
}

/* A server without the key answers a signed AXFR with NOERROR, the whole
 * zone and a TSIG record with error BADTIME and an all-zero MAC: an error
 * answer (RFC 8945 5.3), never data, never "signed". */
static void forged_tsig_error(bool edns, uint16_t terr)
{
	S.messages = 1;
	S.forge_error = terr;
	S.edns = edns;
	outcome_t o;
	transfer(KEY, &o);
	assert_int_equal(o.res.error, SS_EREFUSED);
	assert_false(o.res.signed_ok);
	assert_int_equal(o.rrs, 0);
	assert_int_equal(o.res.rcode, KNOT_RCODE_NOTAUTH);
	assert_non_null(strstr(o.res.detail, terr == KNOT_RCODE_BADTIME ? "BADTIME" : "BADSIG"));
}

static void test_axfr_forged_tsig_error(void **state)
{
	(void)state;
	forged_tsig_error(false, KNOT_RCODE_BADTIME);
}

static void test_axfr_forged_tsig_error_edns(void **state)
{
	(void)state;
	forged_tsig_error(true, KNOT_RCODE_BADSIG);
}

/* A TSIG error in a later message of a signed stream breaks the stream. */
static void test_axfr_forged_tsig_error_later(void **state)
{
	(void)state;
	S.sign = true;
	S.forge_error = KNOT_RCODE_BADTIME;
	S.forge_at = 2;
	outcome_t o;
	transfer(KEY, &o);
	assert_int_equal(o.res.error, SS_ETSIG);
	assert_false(o.res.signed_ok);
}

/* What a server that has another secret answers: NOTAUTH, TSIG BADSIG. */
static void test_axfr_badsig_answer(void **state)
{
	(void)state;
	S.messages = 1;
	S.per_message = 0;
	S.rcode = KNOT_RCODE_NOTAUTH;
	S.forge_error = KNOT_RCODE_BADSIG;
	outcome_t o;
	transfer(KEY, &o);
	assert_int_equal(o.res.error, SS_EREFUSED);
	assert_int_equal(o.res.rcode, KNOT_RCODE_NOTAUTH);
	assert_non_null(strstr(o.res.detail, "BADSIG"));
}

/* ---- limits: idle time, deadline, memory ----------------------------------------------- */

static void slow_steady(void)
{
	S.messages = 3;
	S.txt_len = 12000;
	S.pace_chunk = 600;
	S.pace_ms = 20; /* 30 KB/s: each message takes 0.4 s */
}

/* One counted transfer with the engine's time-out and deadline (0: default). */
static ss_xfr_result_t one_transfer(unsigned timeout_ms, unsigned deadline_ms)
{
	ss_engine_opts_t eo;
	ss_engine_opts_default(&eo);
	eo.timeout_ms = timeout_ms ? timeout_ms : eo.timeout_ms;
	eo.xfr_deadline_ms = deadline_ms ? deadline_ms : eo.xfr_deadline_ms;
	outcome_t o[2];
	ss_engine_stats_t st;
	transfers(1, false, &eo, o, &st);
	return o[0].res;
}

/* A slow but steady link: every message takes longer than the idle time,
 * bytes never stop for that long. */
static void test_axfr_slow_steady(void **state)
{
	(void)state;
	slow_steady();
	ss_xfr_result_t r = one_transfer(300, 0);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.messages, 3);
	assert_true(r.duration_us > 900000);
}

static void test_axfr_deadline(void **state)
{
	(void)state;
	slow_steady();
	ss_xfr_result_t r = one_transfer(0, 500);
	assert_int_equal(r.error, SS_EDEADLINE);
	assert_non_null(strstr(r.detail, "longer than 500ms (--transfer-deadline)"));
	assert_true(r.duration_us >= 500000 && r.duration_us < 5000000);
}

static void test_axfr_idle(void **state)
{
	(void)state;
	S.stall_ms = 3000;
	ss_xfr_result_t r = one_transfer(300, 0);
	assert_int_equal(r.error, SS_ETIMEOUT);
	assert_non_null(strstr(r.detail, "no byte for 300ms"));
	assert_true(r.duration_us < 2500000);
}

/* Messages of one 60 KB TXT record each (paced: 30 KB every 5 ms), and an
 * engine with a budget of 1 MiB. */
static void big_zone(unsigned messages, bool paced, ss_engine_opts_t *eo)
{
	S.messages = messages;
	S.txt_len = 60000;
	S.pace_chunk = paced ? 30000 : 0;
	S.pace_ms = 5;
	ss_engine_opts_default(eo);
	eo->xfr_budget = 1 << 20;
}

static void endless(ss_engine_opts_t *eo)
{
	big_zone(0, false, eo);
	S.endless = true;
}

static void test_axfr_endless_too_large(void **state)
{
	(void)state;
	ss_engine_opts_t eo;
	endless(&eo);
	outcome_t o[2];
	ss_engine_stats_t st;
	transfers(1, true, &eo, o, &st);
	assert_int_equal(o[0].res.error, SS_ELIMIT);
	assert_null(o[0].zone);
	assert_non_null(strstr(o[0].res.detail, "1 MiB"));
	assert_non_null(strstr(o[0].res.detail, "--max-transfer-size"));
	assert_true(st.xfr_held_max <= (1 << 20) && st.xfr_held_max > (1 << 19));
}

/* Three endless transfers share one budget: all end as too large, never
 * holding more than the budget together. */
static void test_endless_share_budget(void **state)
{
	(void)state;
	ss_engine_opts_t eo;
	endless(&eo);
	outcome_t o[4];
	ss_engine_stats_t st;
	transfers(3, true, &eo, o, &st);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(o[i].res.error, SS_ELIMIT);
	}
	assert_true(st.xfr_held_max <= (1 << 20));
	assert_true(st.xfr_waits >= 2);
}

/* Transfers whose records are not kept do not share the budget: each has
 * it for itself, and three of 600 KB run at once within 1 MiB. */
static void test_counted_transfers_do_not_share(void **state)
{
	(void)state;
	ss_engine_opts_t eo;
	big_zone(10, true, &eo); /* paced: all three under way at once */
	outcome_t o[4];
	ss_engine_stats_t st;
	transfers(3, false, &eo, o, &st);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(o[i].res.error, 0);
		assert_int_equal(o[i].res.messages, 10);
	}
	assert_true(st.xfr_held_max == 0 && st.xfr_waits == 0);
}

/* An endless transfer beside a normal one, both kept: the normal one gets
 * its zone, the endless one ends as too large when it waits alone, and
 * together they never hold more than the budget. */
static void test_endless_beside_normal(void **state)
{
	(void)state;
	ss_engine_opts_t eo;
	big_zone(6, true, &eo);
	S.endless = S.endless_first = true;
	outcome_t o[3];
	ss_engine_stats_t st;
	transfers(2, true, &eo, o, &st);
	int normal = o[0].res.error == 0 ? 0 : 1;
	assert_int_equal(o[normal].res.error, 0);
	assert_int_equal(o[normal].res.messages, 6);
	assert_int_equal(o[1 - normal].res.error, SS_ELIMIT);
	assert_true(st.xfr_held_max <= (1 << 20));
	assert_true(st.xfr_waits >= 1);
}

/* Kept zones hold their share: two zones of 600 KB are not held at once
 * within 1 MiB; the one that does not fit is too large. */
static void test_kept_zones_hold_budget(void **state)
{
	(void)state;
	ss_engine_opts_t eo;
	big_zone(10, false, &eo);
	outcome_t o[3];
	ss_engine_stats_t st;
	transfers(2, true, &eo, o, &st);
	assert_true((o[0].res.error == 0) != (o[1].res.error == 0));
	assert_true(o[0].res.error == SS_ELIMIT || o[1].res.error == SS_ELIMIT);
	assert_true(st.xfr_held > 600000 && st.xfr_held <= (1 << 20)); /* the kept zone */
}

/* ---- IXFR: what the answer amounts to --------------------------------------------------- */

static ss_xfr_result_t ixfr(int how)
{
	S.ixfr = how;
	outcome_t o;
	transfer_as(KNOT_RRTYPE_IXFR, NULL, &o);
	return o.res;
}

static void test_ixfr_kinds(void **state)
{
	(void)state;
	ss_xfr_result_t r = ixfr(IX_DIFF);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.ixfr, SS_IXFR_INCREMENTAL);
	assert_int_equal(r.serial, 7);
	assert_int_equal(r.records, 6);
	r = ixfr(IX_DIFF_SPLIT);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.ixfr, SS_IXFR_INCREMENTAL);
	assert_int_equal(r.messages, 2);
	r = ixfr(IX_AXFR);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.ixfr, SS_IXFR_AXFR);
	assert_int_equal(r.records, 4);
	r = ixfr(IX_UP_TO_DATE);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.ixfr, SS_IXFR_UP_TO_DATE);
	r = ixfr(IX_AXFR_SOA_FIRST);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.ixfr, SS_IXFR_AXFR);
	assert_int_equal(r.records, 4);
	assert_int_equal(r.messages, 2);
	r = ixfr(IX_SINGLE_SOA_CLOSE);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.ixfr, SS_IXFR_SINGLE_SOA);
	r = ixfr(IX_SINGLE_SOA);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.ixfr, SS_IXFR_SINGLE_SOA);
	/* it waited a moment for more, not the whole idle time (15 s here) */
	assert_true(r.duration_us >= 900000 && r.duration_us < 10000000);
	r = ixfr(IX_REFUSED);
	assert_int_equal(r.error, SS_EREFUSED);
	assert_int_equal(r.rcode, KNOT_RCODE_REFUSED);
	assert_int_equal(r.ixfr, SS_IXFR_NONE);
}

/* ---- the transfer checks of a zone (lib/check_xfr.c) ------------------------------------- */

static void checked(ss_zone_result_t *res, void *arg)
{
	(void)res;
	*(bool *)arg = true;
}

static bool flag_set(void *arg)
{
	return *(bool *)arg;
}

/* xfr-check's plan against one server: AXFR open, the signed AXFR refused
 * by a server without the key (a forged TSIG error), IXFR incremental; then
 * an endless server: transfer-too-large. */
static void check_plan(ss_zone_result_t *res, const ss_engine_opts_t *eo)
{
	rsp_env_t env;
	rsp_env_start(&env, handler, NULL, eo);
	char addr[64];
	fx_zone(res, ZONE);
	fx_server(res, ss_addr_format(&env.server, addr, sizeof(addr)), NULL, SERIAL, false);
	ss_xfr_plan_t plan = {.axfr = true, .tsig = &S.key, .ixfr = true};
	bool done = false;
	assert_int_equal(ss_check_transfers(env.e, res, &plan, checked, &done), 0);
	assert_true(rsp_env_run(&env, flag_set, &done, 20000));
	assert_int_equal(ss_check_analyze(res), 0);
}

static void test_check_transfers(void **state)
{
	(void)state;
	S.ixfr = IX_DIFF;
	S.forge_error = KNOT_RCODE_BADSIG; /* on message 0 of every AXFR: also the unsigned one */
	ss_zone_result_t res;
	check_plan(&res, NULL);
	const ss_server_obs_t *s = &res.obs.servers[0];
	assert_int_equal(s->axfr_tsig, SS_XFR_REFUSED);
	assert_int_equal(s->ixfr, SS_XFR_ALLOWED);
	assert_int_equal(s->ixfr_kind, SS_IXFR_INCREMENTAL);
	assert_non_null(strstr(s->xfr_error, "BADSIG"));
	assert_non_null(fx_find(&res, SS_F_TRANSFER_REFUSED));
	assert_null(fx_find(&res, SS_F_TRANSFER_TOO_LARGE));
	ss_zone_result_clear(&res);

	ss_engine_opts_t eo;
	endless(&eo);
	S.forge_error = 0;
	check_plan(&res, &eo);
	s = &res.obs.servers[0];
	assert_int_equal(s->axfr, SS_XFR_FAILED);
	assert_true(s->xfr_too_large);
	const ss_finding_t *f = fx_find(&res, SS_F_TRANSFER_TOO_LARGE);
	assert_non_null(f);
	assert_non_null(strstr(f->message, "1 MiB"));
	assert_null(fx_find(&res, SS_F_TRANSFER_FAILED));
	ss_zone_result_clear(&res);
}

/* ---- the transfer memory budget, on its own ---------------------------------- */

static void budget_given(void *arg)
{
	(*(unsigned *)arg)++;
}

/* Takes fit or take nothing; gives wake the engine and never go below zero;
 * a hold keeps its share, and the budget, past the owner's last reference. */
static void test_budget(void **state)
{
	(void)state;
	unsigned woken = 0;
	ss_xfr_budget_t *b = ss_xfr_budget_new(100);
	assert_non_null(b);
	ss_xfr_budget_on_give(b, budget_given, &woken);
	assert_true(ss_xfr_budget_take(b, 60));
	assert_false(ss_xfr_budget_take(b, 41)); /* would pass the limit: nothing taken */
	assert_int_equal(ss_xfr_budget_used(b), 60);
	assert_true(ss_xfr_budget_take(b, 40)); /* exactly full */
	assert_false(ss_xfr_budget_take(b, 1));
	ss_xfr_budget_give(b, 30);
	assert_int_equal(ss_xfr_budget_used(b), 70);
	assert_int_equal(woken, 1);
	ss_xfr_budget_give(b, 0); /* nothing given back: nobody woken */
	assert_int_equal(woken, 1);
	ss_xfr_budget_give(b, 500); /* more than used: empty, not wrapped */
	assert_int_equal(ss_xfr_budget_used(b), 0);
	assert_int_equal(woken, 2);

	/* A hold outlives the engine's reference and gives its bytes back. */
	assert_true(ss_xfr_budget_take(b, 25));
	struct ss_xfr_hold *h = ss_xfr_hold_new(b, 25);
	assert_non_null(h);
	ss_xfr_budget_on_give(b, NULL, NULL); /* the engine is gone */
	ss_xfr_budget_unref(b);
	assert_int_equal(ss_xfr_budget_used(b), 25); /* still alive: the hold's */
	assert_int_equal(ss_xfr_budget_limit(b), 100);
	ss_xfr_hold_free(h); /* the last reference: frees the budget */
	ss_xfr_hold_free(NULL);
	assert_int_equal(woken, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_budget),
	    cmocka_unit_test_setup_teardown(test_axfr_many_messages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_axfr_byte_by_byte, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_axfr_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_axfr_tsig_stream, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_axfr_tsig_wrong_secret, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_axfr_tsig_unsigned_end, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_axfr_forged_tsig_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_axfr_forged_tsig_error_edns, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_axfr_forged_tsig_error_later, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_axfr_badsig_answer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ixfr_kinds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_transfers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_axfr_slow_steady, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_axfr_deadline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_axfr_idle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_axfr_endless_too_large, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_endless_share_budget, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_counted_transfers_do_not_share, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_endless_beside_normal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kept_zones_hold_budget, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
