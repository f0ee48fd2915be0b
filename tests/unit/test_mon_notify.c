/* The monitor's NOTIFY listener: each packet's verdict and answer, and the
 * sockets (UDP and TCP with length framing) on a real loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <soasync/xfr.h>

#include "monitor/mon_int.h"

#define KEY "hmac-sha256:mon-key:c29hc3luYyBtb25pdG9yIHRlc3Qga2V5ISEhISE="
#define BAD "hmac-sha256:mon-key:YW5vdGhlciBzZWNyZXQsIG5vdCB0aGUgbW9uaXRvcnM="

static bool known(const char *zone, void *arg)
{
	(void)arg;
	return strcmp(zone, "example.test.") == 0;
}

typedef struct {
	uint8_t wire[1024];
	size_t len;
	uint8_t mac[64];
	size_t maclen;
} query_t;

/* A NOTIFY for zone with its SOA (serial) in the answer section, signed
 * with key when given. */
static void make_notify(query_t *q, const char *zone, uint16_t qtype, uint8_t opcode,
                        const char *key)
{
	knot_pkt_t *p = knot_pkt_new(q->wire, sizeof(q->wire), NULL);
	knot_pkt_clear(p); /* a buffer to write into, not to parse */
	knot_dname_t *z = knot_dname_from_str_alloc(zone);
	assert_non_null(p);
	knot_wire_set_id(p->wire, 0x4242);
	knot_wire_set_opcode(p->wire, opcode);
	knot_wire_set_aa(p->wire);
	assert_int_equal(knot_pkt_put_question(p, z, KNOT_CLASS_IN, qtype), KNOT_EOK);
	assert_int_equal(knot_pkt_begin(p, KNOT_ANSWER), KNOT_EOK);
	knot_rrset_t *soa = knot_rrset_new(z, KNOT_RRTYPE_SOA, KNOT_CLASS_IN, 300, NULL);
	uint8_t rd[256];
	knot_dname_storage_t m;
	size_t ml = knot_dname_to_wire(m, z, sizeof(m));
	memcpy(rd, m, ml);
	memcpy(rd + ml, m, ml);
	uint32_t fields[5] = {htonl(2026010101), htonl(3600), htonl(600), htonl(86400), htonl(300)};
	memcpy(rd + 2 * ml, fields, sizeof(fields));
	assert_int_equal(knot_rrset_add_rdata(soa, rd, (uint16_t)(2 * ml + 20), NULL), KNOT_EOK);
	assert_int_equal(knot_pkt_put(p, 0, soa, 0), KNOT_EOK);
	q->len = p->size;
	if (key != NULL) {
		knot_tsig_key_t k;
		assert_int_equal(ss_tsig_from_string(key, &k), 0);
		q->maclen = sizeof(q->mac);
		assert_int_equal(knot_tsig_sign(p->wire, &q->len, sizeof(q->wire), NULL, 0, q->mac,
		                                &q->maclen, &k, 0, 0),
		                 KNOT_EOK);
		knot_tsig_key_deinit(&k);
	}
	knot_pkt_free(p);
	knot_rrset_free(soa, NULL);
	free(z);
}

typedef struct {
	mon_notify_msg_t msg;
	uint8_t out[1024];
	size_t outlen;
	knot_pkt_t *ans;
} got_t;

static void handle(const mon_notify_ctx_t *ctx, const query_t *q, const char *from, got_t *g)
{
	ss_addr_t a;
	assert_int_equal(ss_addr_parse(&a, from, 53), 0);
	mon_notify_handle(ctx, q->wire, q->len, &a, g->out, &g->outlen, &g->msg);
	g->ans = NULL;
	if (g->outlen > 0) {
		g->ans = knot_pkt_new(g->out, g->outlen, NULL);
		assert_int_equal(knot_pkt_parse(g->ans, 0), KNOT_EOK);
		assert_true(knot_wire_get_qr(g->ans->wire));
		assert_int_equal(knot_wire_get_id(g->ans->wire), 0x4242);
		assert_int_equal(knot_wire_get_opcode(g->ans->wire), knot_wire_get_opcode(q->wire));
	}
}

static void done(got_t *g)
{
	knot_pkt_free(g->ans);
	g->ans = NULL;
}

static void test_verdicts(void **state)
{
	(void)state;
	ss_mon_prefix_t allow[2];
	assert_int_equal(mon_prefix_parse("192.0.2.1", &allow[0]), 0);
	assert_int_equal(mon_prefix_parse("2001:db8::/64", &allow[1]), 0);
	mon_notify_ctx_t ctx = {.allow = allow, .nallow = 2, .known = known};
	query_t q;
	got_t g;

	/* RFC 1996: NOERROR, AA, the same question. */
	make_notify(&q, "Example.Test.", KNOT_RRTYPE_SOA, KNOT_OPCODE_NOTIFY, NULL);
	handle(&ctx, &q, "192.0.2.1", &g);
	assert_int_equal(g.msg.result, SS_MON_NOTIFY_ACCEPTED);
	assert_string_equal(g.msg.zone, "example.test.");
	assert_true(g.msg.has_serial);
	assert_int_equal(g.msg.serial, 2026010101);
	assert_int_equal(knot_wire_get_rcode(g.ans->wire), KNOT_RCODE_NOERROR);
	assert_true(knot_wire_get_aa(g.ans->wire));
	assert_int_equal(knot_pkt_qtype(g.ans), KNOT_RRTYPE_SOA);
	assert_int_equal(knot_wire_get_ancount(g.ans->wire), 0);
	done(&g);
	handle(&ctx, &q, "2001:db8::53", &g);
	assert_int_equal(g.msg.result, SS_MON_NOTIFY_ACCEPTED);
	done(&g);

	/* Not allowed: REFUSED, no AA. */
	handle(&ctx, &q, "192.0.2.2", &g);
	assert_int_equal(g.msg.result, SS_MON_NOTIFY_REFUSED);
	assert_int_equal(knot_wire_get_rcode(g.ans->wire), KNOT_RCODE_REFUSED);
	assert_false(knot_wire_get_aa(g.ans->wire));
	done(&g);

	/* A zone not watched. */
	make_notify(&q, "other.test.", KNOT_RRTYPE_SOA, KNOT_OPCODE_NOTIFY, NULL);
	handle(&ctx, &q, "192.0.2.1", &g);
	assert_int_equal(g.msg.result, SS_MON_NOTIFY_UNKNOWN_ZONE);
	assert_int_equal(knot_wire_get_rcode(g.ans->wire), KNOT_RCODE_REFUSED);
	done(&g);

	/* An ordinary query, a NOTIFY of another type. */
	make_notify(&q, "example.test.", KNOT_RRTYPE_SOA, KNOT_OPCODE_QUERY, NULL);
	handle(&ctx, &q, "192.0.2.1", &g);
	assert_int_equal(g.msg.result, SS_MON_NOTIFY_MALFORMED);
	assert_int_equal(knot_wire_get_rcode(g.ans->wire), KNOT_RCODE_REFUSED);
	done(&g);
	make_notify(&q, "example.test.", KNOT_RRTYPE_A, KNOT_OPCODE_NOTIFY, NULL);
	handle(&ctx, &q, "192.0.2.1", &g);
	assert_int_equal(knot_wire_get_rcode(g.ans->wire), KNOT_RCODE_FORMERR);
	done(&g);

	/* Responses and garbage: never answered. */
	make_notify(&q, "example.test.", KNOT_RRTYPE_SOA, KNOT_OPCODE_NOTIFY, NULL);
	knot_wire_set_qr(q.wire);
	handle(&ctx, &q, "192.0.2.1", &g);
	assert_int_equal(g.outlen, 0);
	assert_int_equal(g.msg.result, SS_MON_NOTIFY_MALFORMED);
	q.len = 11;
	knot_wire_clear_qr(q.wire);
	handle(&ctx, &q, "192.0.2.1", &g);
	assert_int_equal(g.outlen, 0);
	memset(q.wire, 0xff, sizeof(q.wire));
	q.len = 300;
	knot_wire_clear_qr(q.wire);
	handle(&ctx, &q, "192.0.2.1", &g);
	assert_int_equal(g.outlen, 0);
	assert_int_equal(g.msg.rcode, -1);
}

static void test_tsig(void **state)
{
	(void)state;
	ss_mon_prefix_t allow;
	assert_int_equal(mon_prefix_parse("127.0.0.0/8", &allow), 0);
	knot_tsig_key_t key;
	assert_int_equal(ss_tsig_from_string(KEY, &key), 0);
	mon_notify_ctx_t ctx = {.allow = &allow, .nallow = 1, .tsig = &key, .known = known};
	query_t q;
	got_t g;

	/* Signed with the key: accepted, the answer signed and verifiable. */
	make_notify(&q, "example.test.", KNOT_RRTYPE_SOA, KNOT_OPCODE_NOTIFY, KEY);
	handle(&ctx, &q, "127.0.0.1", &g);
	assert_int_equal(g.msg.result, SS_MON_NOTIFY_ACCEPTED);
	assert_non_null(g.ans->tsig_rr);
	assert_int_equal(knot_tsig_client_check(g.ans->tsig_rr, g.ans->wire, g.ans->size, q.mac,
	                                        q.maclen, &key, 0),
	                 KNOT_EOK);
	done(&g);

	/* Another secret: NOTAUTH, BADSIG in the answer's TSIG. */
	make_notify(&q, "example.test.", KNOT_RRTYPE_SOA, KNOT_OPCODE_NOTIFY, BAD);
	handle(&ctx, &q, "127.0.0.1", &g);
	assert_int_equal(g.msg.result, SS_MON_NOTIFY_BAD_TSIG);
	assert_int_equal(g.msg.tsig_rcode, KNOT_RCODE_BADSIG);
	assert_int_equal(knot_wire_get_rcode(g.ans->wire), KNOT_RCODE_NOTAUTH);
	assert_non_null(g.ans->tsig_rr);
	assert_int_equal(knot_tsig_rdata_error(g.ans->tsig_rr), KNOT_RCODE_BADSIG);
	done(&g);

	/* Unsigned while a key is set: NOTAUTH. */
	make_notify(&q, "example.test.", KNOT_RRTYPE_SOA, KNOT_OPCODE_NOTIFY, NULL);
	handle(&ctx, &q, "127.0.0.1", &g);
	assert_int_equal(g.msg.result, SS_MON_NOTIFY_BAD_TSIG);
	assert_int_equal(knot_wire_get_rcode(g.ans->wire), KNOT_RCODE_NOTAUTH);
	done(&g);

	/* The address is checked before the key. */
	make_notify(&q, "example.test.", KNOT_RRTYPE_SOA, KNOT_OPCODE_NOTIFY, BAD);
	handle(&ctx, &q, "192.0.2.9", &g);
	assert_int_equal(g.msg.result, SS_MON_NOTIFY_REFUSED);
	done(&g);

	/* Signed, but the monitor has no key: BADKEY. */
	ctx.tsig = NULL;
	make_notify(&q, "example.test.", KNOT_RRTYPE_SOA, KNOT_OPCODE_NOTIFY, KEY);
	handle(&ctx, &q, "127.0.0.1", &g);
	assert_int_equal(g.msg.tsig_rcode, KNOT_RCODE_BADKEY);
	done(&g);
	knot_tsig_key_deinit(&key);
}

/* ---- the sockets ----------------------------------------------------------------- */

typedef struct {
	unsigned calls;
	mon_notify_msg_t last;
	bool closed;
} seen_t;

static void on_msg(const mon_notify_msg_t *msg, void *arg)
{
	seen_t *s = arg;
	s->calls++;
	s->last = *msg;
}

static void on_closed(void *arg)
{
	((seen_t *)arg)->closed = true;
}

/* Run the loop until fd is readable; read what came. */
static ssize_t pump_read(uv_loop_t *loop, int fd, uint8_t *buf, size_t len)
{
	for (int i = 0; i < 2000; i++) {
		uv_run(loop, UV_RUN_NOWAIT);
		ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);
		if (n >= 0) {
			return n;
		}
		usleep(1000);
	}
	return -1;
}

static void test_sockets(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	ss_mon_prefix_t allow;
	assert_int_equal(mon_prefix_parse("127.0.0.0/8", &allow), 0);
	mon_notify_ctx_t ctx = {.allow = &allow, .nallow = 1, .known = known};
	seen_t seen = {0};
	mon_listener_t *l = NULL;
	assert_int_equal(mon_listener_new(&loop, &ctx, on_msg, &seen, &l), 0);
	ss_addr_t at;
	ss_mon_error_t err;
	assert_int_equal(ss_addr_parse(&at, "127.0.0.1", 53), 0);
	/* Port 0: find a free one by binding UDP first. */
	int probe = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	assert_int_equal(bind(probe, (struct sockaddr *)&sin, sizeof(sin)), 0);
	socklen_t sl = sizeof(sin);
	getsockname(probe, (struct sockaddr *)&sin, &sl);
	close(probe);
	ss_addr_set_port(&at, ntohs(sin.sin_port));
	assert_int_equal(mon_listener_bind(l, &at, &err), 0);

	query_t q;
	make_notify(&q, "example.test.", KNOT_RRTYPE_SOA, KNOT_OPCODE_NOTIFY, NULL);
	uint8_t buf[2048];
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(sendto(u, q.wire, q.len, 0, ss_addr_sa(&at), ss_addr_len(&at)),
	                 (ssize_t)q.len);
	ssize_t n = pump_read(&loop, u, buf, sizeof(buf));
	assert_true(n > 12);
	assert_int_equal(knot_wire_get_rcode(buf), KNOT_RCODE_NOERROR);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.last.result, SS_MON_NOTIFY_ACCEPTED);
	close(u);

	/* TCP: two messages in one write, each answered, framed. */
	int t = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(t, ss_addr_sa(&at), ss_addr_len(&at)), 0);
	uint8_t two[2 * (sizeof(q.wire) + 2)];
	size_t len = 0;
	for (int i = 0; i < 2; i++) {
		two[len++] = (uint8_t)(q.len >> 8);
		two[len++] = (uint8_t)q.len;
		memcpy(two + len, q.wire, q.len);
		len += q.len;
	}
	assert_int_equal(send(t, two, len, 0), (ssize_t)len);
	size_t got = 0;
	while (got < 4 || got < 2u * (2u + ((size_t)buf[0] << 8 | buf[1]))) {
		n = pump_read(&loop, t, buf + got, sizeof(buf) - got);
		assert_true(n > 0);
		got += (size_t)n;
	}
	size_t first = (size_t)buf[0] << 8 | buf[1];
	assert_int_equal(knot_wire_get_rcode(buf + 2), KNOT_RCODE_NOERROR);
	assert_int_equal(got, 2 * (first + 2));
	assert_int_equal(seen.calls, 3);
	close(t);

	mon_listener_close(l, on_closed, &seen);
	for (int i = 0; i < 100 && !seen.closed; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
	}
	assert_true(seen.closed);
	mon_listener_free(l);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verdicts),
	    cmocka_unit_test(test_tsig),
	    cmocka_unit_test(test_sockets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
