/*
 * The judgment of a live server's SOA answer (serial bump --live), from
 * packets built byte by byte: well-formed ones, and the hostile ones a
 * scripted server sends (empty SOA rdata in class ANY or NONE, other
 * owners, conflicting serials); then the query itself on the engine against
 * the in-process responder (UDP, TCP after TC, the hostile answer, silence).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <soasync/error.h>
#include <soasync/serial_live.h>

#include "responder.h"

static const uint8_t ZONE[] = "\x07"
                              "example"
                              "\x03"
                              "com";

typedef struct {
	uint8_t wire[1024];
	size_t len;
	uint16_t ancount;
} pkt_t;

static void put(pkt_t *p, const void *data, size_t n)
{
	assert_true(p->len + n <= sizeof(p->wire));
	if (n > 0) { /* empty rdata comes as (NULL, 0) */
		memcpy(p->wire + p->len, data, n);
	}
	p->len += n;
}

static void put16(pkt_t *p, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(p, b, 2);
}

static void put32(pkt_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p, (uint16_t)v);
}

/* Header and question "example.com. IN SOA". */
static void begin(pkt_t *p, uint8_t rcode, bool aa)
{
	memset(p, 0, sizeof(*p));
	put16(p, 0x1234);
	put16(p, (uint16_t)(0x8000 | (aa ? 0x0400 : 0) | rcode));
	put16(p, 1);
	put16(p, 0); /* ancount, set by add_rr */
	put16(p, 0);
	put16(p, 0);
	put(p, ZONE, sizeof(ZONE));
	put16(p, KNOT_RRTYPE_SOA);
	put16(p, KNOT_CLASS_IN);
}

/* An answer record; owner NULL: a pointer to the question's name. */
static void add_rr(pkt_t *p, const uint8_t *owner, size_t olen, uint16_t type, uint16_t cls,
                   const uint8_t *rdata, uint16_t rdlen)
{
	if (owner == NULL) {
		put16(p, 0xc00c);
	} else {
		put(p, owner, olen);
	}
	put16(p, type);
	put16(p, cls);
	put32(p, 3600);
	put16(p, rdlen);
	put(p, rdata, rdlen);
	p->ancount++;
	p->wire[6] = (uint8_t)(p->ancount >> 8);
	p->wire[7] = (uint8_t)p->ancount;
}

/* SOA rdata "ns. h. SERIAL 1 2 3 4" into buf; returns its length. */
static uint16_t soa_rdata(uint8_t *buf, uint32_t serial)
{
	pkt_t t = {0};
	put(&t, "\x02ns\x00\x01h\x00", 7);
	put32(&t, serial);
	for (uint32_t i = 1; i <= 4; i++) {
		put32(&t, i);
	}
	memcpy(buf, t.wire, t.len);
	return (uint16_t)t.len;
}

/* Parse p and judge it; returns the status (and out). */
static ss_live_status_t judge(pkt_t *p, ss_live_soa_t *out)
{
	knot_pkt_t *pkt = knot_pkt_new(p->wire, (uint16_t)p->len, NULL);
	assert_non_null(pkt);
	assert_int_equal(knot_pkt_parse(pkt, 0), KNOT_EOK);
	ss_response_t r = {
	    .pkt = pkt,
	    .rcode = knot_wire_get_rcode(p->wire),
	    .aa = knot_wire_get_aa(p->wire),
	};
	ss_live_soa_judge(ZONE, &r, out);
	knot_pkt_free(pkt);
	if (out->status == SS_LIVE_OK) {
		assert_string_equal(out->detail, "");
	} else {
		assert_true(strlen(out->detail) > 0);
	}
	return out->status;
}

static void test_good_answer(void **state)
{
	(void)state;
	pkt_t p;
	ss_live_soa_t l;
	uint8_t rd[64];
	uint16_t n = soa_rdata(rd, 2024010107u);
	begin(&p, KNOT_RCODE_NOERROR, true);
	add_rr(&p, NULL, 0, KNOT_RRTYPE_SOA, KNOT_CLASS_IN, rd, n);
	assert_int_equal(judge(&p, &l), SS_LIVE_OK);
	assert_int_equal(l.serial, 2024010107u);
	assert_true(l.aa);
	assert_int_equal(l.rcode, KNOT_RCODE_NOERROR);
	/* The owner in other case is the same name; the same SOA twice is fine. */
	begin(&p, KNOT_RCODE_NOERROR, true);
	add_rr(&p,
	       (const uint8_t *)"\x07"
	                        "EXAMPLE"
	                        "\x03"
	                        "COM",
	       sizeof(ZONE), KNOT_RRTYPE_SOA, KNOT_CLASS_IN, rd, n);
	add_rr(&p, NULL, 0, KNOT_RRTYPE_SOA, KNOT_CLASS_IN, rd, n);
	assert_int_equal(judge(&p, &l), SS_LIVE_OK);
	assert_int_equal(l.serial, 2024010107u);
}

/* The scripted server's answer: NOERROR, AA, an SOA with empty rdata in
 * class ANY or NONE. Reading a serial from it overflows the buffer. */
static void test_empty_rdata_other_class(void **state)
{
	(void)state;
	pkt_t p;
	ss_live_soa_t l;
	uint16_t classes[] = {KNOT_CLASS_ANY, KNOT_CLASS_NONE};
	for (size_t i = 0; i < 2; i++) {
		begin(&p, KNOT_RCODE_NOERROR, true);
		add_rr(&p, NULL, 0, KNOT_RRTYPE_SOA, classes[i], NULL, 0);
		assert_int_equal(judge(&p, &l), SS_LIVE_BAD_SOA);
		assert_non_null(strstr(l.detail, classes[i] == KNOT_CLASS_ANY ? "ANY" : "NONE"));
	}
	/* Empty rdata in class IN does not even parse (the engine reports the
	 * answer as malformed); in class ANY/NONE libknot takes it (UPDATE). */
	begin(&p, KNOT_RCODE_NOERROR, true);
	add_rr(&p, NULL, 0, KNOT_RRTYPE_SOA, KNOT_CLASS_IN, NULL, 0);
	knot_pkt_t *pkt = knot_pkt_new(p.wire, (uint16_t)p.len, NULL);
	assert_non_null(pkt);
	assert_int_not_equal(knot_pkt_parse(pkt, 0), KNOT_EOK);
	knot_pkt_free(pkt);
	/* Empty rdata in class CH: any class but IN is refused. */
	begin(&p, KNOT_RCODE_NOERROR, true);
	add_rr(&p, NULL, 0, KNOT_RRTYPE_SOA, KNOT_CLASS_CH, NULL, 0);
	assert_int_equal(judge(&p, &l), SS_LIVE_BAD_SOA);
	/* A good SOA next to a tainted one: still refused. */
	uint8_t rd[64];
	uint16_t n = soa_rdata(rd, 7);
	begin(&p, KNOT_RCODE_NOERROR, true);
	add_rr(&p, NULL, 0, KNOT_RRTYPE_SOA, KNOT_CLASS_IN, rd, n);
	add_rr(&p, NULL, 0, KNOT_RRTYPE_SOA, KNOT_CLASS_ANY, NULL, 0);
	assert_int_equal(judge(&p, &l), SS_LIVE_BAD_SOA);
}

static void test_refusals(void **state)
{
	(void)state;
	pkt_t p;
	ss_live_soa_t l;
	uint8_t rd[64], rd2[64];
	uint16_t n = soa_rdata(rd, 7), n2 = soa_rdata(rd2, 8);
	/* Two serials: which one? */
	begin(&p, KNOT_RCODE_NOERROR, true);
	add_rr(&p, NULL, 0, KNOT_RRTYPE_SOA, KNOT_CLASS_IN, rd, n);
	add_rr(&p, NULL, 0, KNOT_RRTYPE_SOA, KNOT_CLASS_IN, rd2, n2);
	assert_int_equal(judge(&p, &l), SS_LIVE_BAD_SOA);
	assert_non_null(strstr(l.detail, "different serials"));
	/* No AA. */
	begin(&p, KNOT_RCODE_NOERROR, false);
	add_rr(&p, NULL, 0, KNOT_RRTYPE_SOA, KNOT_CLASS_IN, rd, n);
	assert_int_equal(judge(&p, &l), SS_LIVE_NOT_AUTH);
	/* REFUSED. */
	begin(&p, KNOT_RCODE_REFUSED, false);
	assert_int_equal(judge(&p, &l), SS_LIVE_RCODE);
	assert_string_equal(l.detail, "rcode REFUSED");
	/* An SOA of another owner only. */
	begin(&p, KNOT_RCODE_NOERROR, true);
	add_rr(&p,
	       (const uint8_t *)"\x03"
	                        "com",
	       5, KNOT_RRTYPE_SOA, KNOT_CLASS_IN, rd, n);
	assert_int_equal(judge(&p, &l), SS_LIVE_NO_SOA);
	/* NODATA. */
	begin(&p, KNOT_RCODE_NOERROR, true);
	assert_int_equal(judge(&p, &l), SS_LIVE_NO_SOA);
	/* No answer at all. */
	ss_response_t r = {.error = SS_ETIMEOUT};
	ss_live_soa_judge(ZONE, &r, &l);
	assert_int_equal(l.status, SS_LIVE_NO_ANSWER);
	assert_int_equal(l.rcode, -1);
	assert_non_null(strstr(l.detail, ss_strerror(SS_ETIMEOUT)));
}

/* --- the query on the engine, against the responder ------------------------------- */

typedef enum { R_GOOD, R_TC_THEN_TCP, R_EMPTY_ANY, R_SILENT } rmode_t;

typedef struct {
	rmode_t mode;
	unsigned udp, tcp;
} rserver_t;

static void handler(rsp_query_t *q, void *arg)
{
	rserver_t *s = arg;
	*(q->tcp ? &s->tcp : &s->udp) += 1;
	if (s->mode == R_SILENT || q->pkt == NULL) {
		return;
	}
	if (s->mode == R_EMPTY_ANY) {
		pkt_t p;
		begin(&p, KNOT_RCODE_NOERROR, true);
		memcpy(p.wire, q->wire, 2); /* the query's ID */
		add_rr(&p, NULL, 0, KNOT_RRTYPE_SOA, KNOT_CLASS_ANY, NULL, 0);
		rsp_send(q, p.wire, p.len);
		return;
	}
	knot_pkt_t *r = rsp_reply(q, KNOT_RCODE_NOERROR, true);
	assert_non_null(r);
	if (s->mode == R_TC_THEN_TCP && !q->tcp) {
		knot_wire_set_tc(r->wire);
	} else {
		assert_int_equal(rsp_add(r, KNOT_ANSWER,
		                         "example.com. 3600 IN SOA ns. h. "
		                         "2024010107 1 2 3 4"),
		                 0);
	}
	rsp_send_pkt(q, r);
}

typedef struct {
	bool done;
	ss_live_soa_t res;
} live_out_t;

static void answered(const ss_live_soa_t *res, void *arg)
{
	live_out_t *o = arg;
	o->res = *res;
	o->done = true;
}

static bool live_done(void *arg)
{
	return ((live_out_t *)arg)->done;
}

static ss_live_status_t ask(rmode_t mode, rserver_t *s, live_out_t *o)
{
	*s = (rserver_t){.mode = mode};
	memset(o, 0, sizeof(*o));
	ss_engine_opts_t eo;
	ss_engine_opts_default(&eo);
	eo.timeout_ms = 200;
	eo.tries = 2;
	rsp_env_t env;
	rsp_env_start(&env, handler, s, &eo);
	assert_int_equal(ss_live_soa_query(env.e, &env.server, ZONE, answered, o), 0);
	assert_true(rsp_env_run(&env, live_done, o, 10000));
	return o->res.status;
}

static void test_query_on_the_engine(void **state)
{
	(void)state;
	rserver_t s;
	live_out_t o;
	assert_int_equal(ask(R_GOOD, &s, &o), SS_LIVE_OK);
	assert_int_equal(o.res.serial, 2024010107u);
	assert_int_equal(s.udp, 1);
	assert_int_equal(ask(R_TC_THEN_TCP, &s, &o), SS_LIVE_OK);
	assert_int_equal(o.res.serial, 2024010107u);
	assert_int_equal(s.tcp, 1);
	assert_int_equal(ask(R_EMPTY_ANY, &s, &o), SS_LIVE_BAD_SOA);
	assert_non_null(strstr(o.res.detail, "class ANY"));
	assert_int_equal(ask(R_SILENT, &s, &o), SS_LIVE_NO_ANSWER);
	assert_int_equal(o.res.error, SS_ETIMEOUT);
	assert_int_equal(s.udp, 2);
	/* Bad arguments are refused at once. */
	assert_int_equal(ss_live_soa_query(NULL, NULL, ZONE, answered, &o), SS_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_answer),
	    cmocka_unit_test(test_empty_rdata_other_class),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_query_on_the_engine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
