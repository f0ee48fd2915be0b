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

#include <cmocka.h>

#include <soasync/engine.h>
#include <soasync/error.h>

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
	uv_loop_t *loop;
	uv_udp_t udp;
	uv_tcp_t tcp;
	uint16_t port;
	behavior_t mode;
	unsigned udp_queries, tcp_queries, edns_queries;
	unsigned pending, max_pending; /* R_SLOW: answered after a delay */
	uint16_t seen[64];             /* R_DROP_FIRST: IDs already dropped once */
	unsigned nseen;
} responder_t;

static responder_t R;

/* An authoritative answer to the query in wire (len), into out; returns its size. */
static size_t answer(const uint8_t *wire, size_t len, uint8_t *out, size_t cap, bool tc,
                     uint8_t rcode)
{
	knot_pkt_t *q = knot_pkt_new((void *)wire, (uint16_t)len, NULL);
	knot_pkt_t *r = knot_pkt_new(out, (uint16_t)cap, NULL);
	size_t n = 0;
	if (q != NULL && r != NULL && knot_pkt_parse(q, 0) == KNOT_EOK &&
	    knot_pkt_init_response(r, q) == KNOT_EOK) {
		knot_wire_set_aa(r->wire);
		knot_wire_set_rcode(r->wire, rcode);
		if (tc) {
			knot_wire_set_tc(r->wire);
		} else if (rcode == KNOT_RCODE_NOERROR) {
			knot_rrset_t *soa = knot_rrset_new(knot_pkt_qname(q), KNOT_RRTYPE_SOA,
			                                   KNOT_CLASS_IN, 300, NULL);
			uint8_t rd[2 + 20] = {0};
			knot_wire_write_u32(rd + 2, 42);
			knot_rrset_add_rdata(soa, rd, sizeof(rd), NULL);
			knot_pkt_begin(r, KNOT_ANSWER);
			knot_pkt_put(r, 0, soa, 0);
			knot_rrset_free(soa, NULL);
		}
		n = r->size;
	}
	knot_pkt_free(q);
	knot_pkt_free(r);
	return n;
}

typedef struct {
	uv_udp_send_t req;
	uv_timer_t *timer;
	struct sockaddr_storage to;
	uint8_t buf[512];
	size_t len;
} reply_t;

static void reply_sent(uv_udp_send_t *req, int status)
{
	(void)status;
	free(req->data);
}

static void send_reply(reply_t *rep)
{
	uv_buf_t b = uv_buf_init((char *)rep->buf, (unsigned)rep->len);
	rep->req.data = rep;
	uv_udp_send(&rep->req, &R.udp, &b, 1, (struct sockaddr *)&rep->to, reply_sent);
}

static void timer_closed(uv_handle_t *h)
{
	free(h);
}

static void slow_fired(uv_timer_t *t)
{
	reply_t *rep = t->data;
	R.pending--;
	uv_close((uv_handle_t *)t, timer_closed);
	send_reply(rep);
}

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

static void udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	(void)h;
	(void)hint;
	static char buf[4096];
	*b = uv_buf_init(buf, sizeof(buf));
}

static bool has_edns(const uint8_t *wire, size_t len)
{
	knot_pkt_t *q = knot_pkt_new((void *)wire, (uint16_t)len, NULL);
	bool e = q != NULL && knot_pkt_parse(q, 0) == KNOT_EOK && knot_pkt_has_edns(q);
	knot_pkt_free(q);
	return e;
}

static void udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
                     unsigned flags)
{
	(void)h;
	(void)flags;
	if (n <= 0 || from == NULL) {
		return;
	}
	const uint8_t *wire = (const uint8_t *)buf->base;
	R.udp_queries++;
	bool edns = has_edns(wire, (size_t)n);
	R.edns_queries += edns;
	if (R.mode == R_SILENT ||
	    (R.mode == R_DROP_FIRST && !seen_before(knot_wire_get_id(wire)))) {
		return;
	}
	reply_t *rep = calloc(1, sizeof(*rep));
	memcpy(&rep->to, from, sizeof(struct sockaddr_in));
	uint8_t rc = R.mode == R_FORMERR_EDNS && edns ? KNOT_RCODE_FORMERR : KNOT_RCODE_NOERROR;
	rep->len = answer(wire, (size_t)n, rep->buf, sizeof(rep->buf), R.mode == R_TC, rc);
	if (R.mode == R_FORGED_FIRST) {
		reply_t *forged = calloc(1, sizeof(*forged));
		*forged = *rep;
		knot_wire_set_id(forged->buf, knot_wire_get_id(forged->buf) + 1);
		send_reply(forged);
	}
	if (R.mode == R_SLOW) {
		R.pending++;
		R.max_pending = R.pending > R.max_pending ? R.pending : R.max_pending;
		rep->timer = malloc(sizeof(*rep->timer));
		uv_timer_init(R.loop, rep->timer);
		rep->timer->data = rep;
		uv_timer_start(rep->timer, slow_fired, 20, 0);
		return;
	}
	send_reply(rep);
}

/* TCP: one query, one length-prefixed answer, then close. */
typedef struct {
	uv_tcp_t h;
	uint8_t in[1024];
	size_t have;
	uv_write_t w;
	uint8_t out[514];
} tconn_t;

static void tclose_cb(uv_handle_t *h)
{
	free(h->data);
}

static void twritten(uv_write_t *w, int status)
{
	(void)status;
	tconn_t *c = w->data;
	uv_close((uv_handle_t *)&c->h, tclose_cb);
}

static void talloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	(void)hint;
	tconn_t *c = h->data;
	*b = uv_buf_init((char *)c->in + c->have, (unsigned)(sizeof(c->in) - c->have));
}

static void tread(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	(void)b;
	tconn_t *c = s->data;
	if (n < 0) {
		uv_close((uv_handle_t *)&c->h, tclose_cb);
		return;
	}
	c->have += (size_t)n;
	if (c->have < 2 || c->have < 2u + knot_wire_read_u16(c->in)) {
		return;
	}
	R.tcp_queries++;
	uv_read_stop(s);
	size_t len = answer(c->in + 2, knot_wire_read_u16(c->in), c->out + 2, sizeof(c->out) - 2,
	                    false, KNOT_RCODE_NOERROR);
	knot_wire_write_u16(c->out, (uint16_t)len);
	uv_buf_t ob = uv_buf_init((char *)c->out, (unsigned)(len + 2));
	c->w.data = c;
	uv_write(&c->w, s, &ob, 1, twritten);
}

static void taccept(uv_stream_t *server, int status)
{
	if (status < 0) {
		return;
	}
	tconn_t *c = calloc(1, sizeof(*c));
	uv_tcp_init(R.loop, &c->h);
	c->h.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->h) == 0) {
		uv_read_start((uv_stream_t *)&c->h, talloc, tread);
	} else {
		uv_close((uv_handle_t *)&c->h, tclose_cb);
	}
}

static void responder_start(uv_loop_t *loop, behavior_t mode)
{
	memset(&R, 0, sizeof(R));
	R.loop = loop;
	R.mode = mode;
	struct sockaddr_in sa;
	uv_ip4_addr("127.0.0.1", 0, &sa);
	assert_int_equal(uv_udp_init(loop, &R.udp), 0);
	assert_int_equal(uv_udp_bind(&R.udp, (struct sockaddr *)&sa, 0), 0);
	struct sockaddr_in got;
	int glen = sizeof(got);
	uv_udp_getsockname(&R.udp, (struct sockaddr *)&got, &glen);
	R.port = ntohs(got.sin_port);
	uv_udp_recv_start(&R.udp, udp_alloc, udp_recv);
	/* TCP on the same port (free for TCP in practice; retried if not). */
	uv_tcp_init(loop, &R.tcp);
	uv_ip4_addr("127.0.0.1", R.port, &sa);
	assert_int_equal(uv_tcp_bind(&R.tcp, (struct sockaddr *)&sa, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&R.tcp, 16, taccept), 0);
}

static void responder_stop(void)
{
	uv_close((uv_handle_t *)&R.udp, NULL);
	uv_close((uv_handle_t *)&R.tcp, NULL);
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
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1#%u", R.port);
	ss_addr_parse(&q.server, addr, 53);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(ss_engine_query(e, &q, got, &out[i]), 0);
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
	ss_engine_close(e);
	responder_stop();
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return (int)((uv_hrtime() - t0) / 1000000u);
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
	assert_int_equal(R.udp_queries, 3);
}

static void test_lost_query_retried_quickly(void **state)
{
	(void)state;
	outcome_t o[1] = {{0}};
	int ms = run_queries(R_DROP_FIRST, 1, o, 100, 3, 10000);
	assert_int_equal(o[0].error, 0);
	assert_int_equal(R.udp_queries, 2);
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
	assert_int_equal(R.edns_queries, 1);
	assert_int_equal(R.udp_queries, 2);
}

static void test_forged_dropped(void **state)
{
	(void)state;
	outcome_t o[1] = {{0}};
	run_queries(R_FORGED_FIRST, 1, o, 100, 3, 1000);
	assert_int_equal(o[0].error, 0);
	assert_int_equal(o[0].serial, 42);
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
	run_queries(R_SLOW, 40, o, 5, 3, 2000);
	for (int i = 0; i < 40; i++) {
		assert_int_equal(o[i].error, 0);
	}
	assert_true(R.max_pending <= 5);
	assert_int_equal(R.udp_queries, 40);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
