/*
 * The NOTIFY listener (RFC 1996) on UDP and TCP. Every packet goes through
 * knot_pkt_parse; the checks run in the order a server applies them: a
 * NOTIFY query at all (else dropped, or refused when it is some other
 * query), the sender's address (notify_allow), TSIG when a key is set (as
 * Knot's server does it: NOTAUTH with BADKEY/BADSIG/BADTIME), a watched
 * zone. An accepted NOTIFY gets NOERROR, AA and the same question, signed
 * when it was. Responses and garbage are never answered. TCP connections
 * are bounded in number, size and idle time.
 */
#include <stdlib.h>
#include <string.h>

#include <libknot/libknot.h>
#include <uv.h>

#include <soasync/error.h>

#include "../wire_rdata.h"
#include "mon_int.h"

#define MAX_MSG      65535
#define MAX_TCP      64
#define TCP_IDLE_MS  10000
#define ANSWER_SPACE 1024 /* question + TSIG: an answer never needs more */

/* ---- one packet ------------------------------------------------------------- */

static void notify_serial(const knot_pkt_t *q, const knot_dname_t *zone, mon_notify_msg_t *msg)
{
	const knot_pktsection_t *an = knot_pkt_section(q, KNOT_ANSWER);
	for (uint16_t i = 0; i < an->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(an, i);
		if (rr->type == KNOT_RRTYPE_SOA && rr->rrs.count > 0 &&
		    knot_dname_is_case_equal(rr->owner, zone) && ss_rdata_soa_ok(rr->rrs.rdata)) {
			msg->has_serial = true;
			msg->serial = knot_soa_serial(rr->rrs.rdata);
			return;
		}
	}
}

/* TSIG of the query against the configured key: 0 verified, else the
 * answer's RCODE (NOTAUTH) with *tsig_rcode set. */
static int verify(const mon_notify_ctx_t *ctx, knot_pkt_t *q, uint16_t *tsig_rcode)
{
	*tsig_rcode = 0;
	if (ctx->tsig == NULL && q->tsig_rr == NULL) {
		return 0;
	}
	if (ctx->tsig == NULL || q->tsig_rr == NULL) {
		/* A key we do not have, or none where one is required. */
		*tsig_rcode = q->tsig_rr ? KNOT_RCODE_BADKEY : 0;
		return KNOT_RCODE_NOTAUTH;
	}
	switch (knot_tsig_server_check(q->tsig_rr, q->wire, q->size, ctx->tsig)) {
	case KNOT_EOK:
		return 0;
	case KNOT_TSIG_EBADKEY:
		*tsig_rcode = KNOT_RCODE_BADKEY;
		break;
	case KNOT_TSIG_EBADTIME:
		*tsig_rcode = KNOT_RCODE_BADTIME;
		break;
	default:
		*tsig_rcode = KNOT_RCODE_BADSIG;
		break;
	}
	return KNOT_RCODE_NOTAUTH;
}

/* The answer: the query's header and question, rcode, AA when accepted; TSIG
 * signed when verified, the error TSIG when not. */
static void answer(const mon_notify_ctx_t *ctx, knot_pkt_t *q, int rcode, uint16_t tsig_rcode,
                   uint8_t *out, size_t *outlen)
{
	*outlen = 0;
	knot_pkt_t *a = knot_pkt_new(out, ANSWER_SPACE, NULL);
	if (a == NULL || knot_pkt_init_response(a, q) != KNOT_EOK) {
		knot_pkt_free(a);
		return;
	}
	knot_wire_set_rcode(a->wire, (uint8_t)rcode);
	if (rcode == KNOT_RCODE_NOERROR) {
		knot_wire_set_aa(a->wire);
	}
	int ret = KNOT_EOK;
	/* As Knot's server: a verified query, or one only too old or new
	 * (BADTIME, with our time in the answer), gets a signed answer. */
	if (q->tsig_rr != NULL && ctx->tsig != NULL &&
	    (rcode == KNOT_RCODE_NOERROR || tsig_rcode == KNOT_RCODE_BADTIME)) {
		uint8_t digest[64]; /* HMAC-SHA512 at most */
		size_t dlen = sizeof(digest);
		uint64_t signed_at =
		    tsig_rcode == KNOT_RCODE_BADTIME ? knot_tsig_rdata_time_signed(q->tsig_rr) : 0;
		ret =
		    knot_tsig_sign(a->wire, &a->size, a->max_size, knot_tsig_rdata_mac(q->tsig_rr),
		                   knot_tsig_rdata_mac_length(q->tsig_rr), digest, &dlen, ctx->tsig,
		                   tsig_rcode, signed_at);
	} else if (q->tsig_rr != NULL && tsig_rcode != 0) {
		ret = knot_tsig_add(a->wire, &a->size, a->max_size, tsig_rcode, q->tsig_rr);
	}
	if (ret == KNOT_EOK) {
		*outlen = a->size;
	}
	knot_pkt_free(a);
}

static ss_mon_notify_result_t judge(const mon_notify_ctx_t *ctx, knot_pkt_t *q,
                                    const ss_addr_t *from, mon_notify_msg_t *msg, int *rcode,
                                    uint16_t *tsig_rcode)
{
	*tsig_rcode = 0;
	if (knot_wire_get_opcode(q->wire) != KNOT_OPCODE_NOTIFY) {
		*rcode = KNOT_RCODE_REFUSED;
		return SS_MON_NOTIFY_MALFORMED;
	}
	if (knot_wire_get_qdcount(q->wire) != 1 || knot_pkt_qtype(q) != KNOT_RRTYPE_SOA) {
		*rcode = KNOT_RCODE_FORMERR;
		return SS_MON_NOTIFY_MALFORMED;
	}
	knot_dname_storage_t zone;
	knot_dname_to_wire(zone, knot_pkt_qname(q), sizeof(zone));
	knot_dname_to_lower(zone);
	msg->has_zone = knot_dname_to_str(msg->zone, zone, sizeof(msg->zone)) != NULL;
	notify_serial(q, zone, msg);
	if (!mon_prefix_list_match(ctx->allow, ctx->nallow, from)) {
		*rcode = KNOT_RCODE_REFUSED;
		return SS_MON_NOTIFY_REFUSED;
	}
	if ((*rcode = verify(ctx, q, tsig_rcode)) != 0) {
		return SS_MON_NOTIFY_BAD_TSIG;
	}
	if (!msg->has_zone || ctx->known == NULL || !ctx->known(msg->zone, ctx->arg)) {
		*rcode = KNOT_RCODE_REFUSED;
		return SS_MON_NOTIFY_UNKNOWN_ZONE;
	}
	*rcode = KNOT_RCODE_NOERROR;
	return SS_MON_NOTIFY_ACCEPTED;
}

void mon_notify_handle(const mon_notify_ctx_t *ctx, const uint8_t *wire, size_t len,
                       const ss_addr_t *from, uint8_t *out, size_t *outlen, mon_notify_msg_t *msg)
{
	memset(msg, 0, sizeof(*msg));
	msg->result = SS_MON_NOTIFY_MALFORMED;
	msg->rcode = -1;
	*outlen = 0;
	uint8_t buf[MAX_MSG];
	if (len < KNOT_WIRE_HEADER_SIZE || len > sizeof(buf) || knot_wire_get_qr(wire)) {
		return; /* garbage or a response: never answered */
	}
	memcpy(buf, wire, len);
	knot_pkt_t *q = knot_pkt_new(buf, (uint16_t)len, NULL);
	if (q == NULL || knot_pkt_parse(q, 0) != KNOT_EOK || knot_pkt_qname(q) == NULL) {
		knot_pkt_free(q);
		return;
	}
	int rcode = 0;
	uint16_t tsig_rcode = 0;
	msg->result = judge(ctx, q, from, msg, &rcode, &tsig_rcode);
	msg->rcode = rcode;
	msg->tsig_rcode = tsig_rcode;
	answer(ctx, q, rcode, tsig_rcode, out, outlen);
	knot_pkt_free(q);
}

/* ---- the listener on libuv --------------------------------------------------- */

typedef struct tcpconn tcpconn_t;

struct mon_listener {
	uv_loop_t *loop;
	mon_notify_ctx_t ctx;
	mon_notify_cb cb;
	void *arg;
	uv_udp_t udp;
	uv_tcp_t tcp;
	bool udp_open, tcp_open;
	int closing;
	tcpconn_t *conns;
	unsigned nconns;
	uint8_t udp_buf[MAX_MSG];
	void (*closed)(void *arg);
	void *closed_arg;
};

struct tcpconn {
	uv_tcp_t h;
	uv_timer_t idle;
	mon_listener_t *l;
	tcpconn_t *next, **pprev;
	uint8_t buf[MAX_MSG + 2];
	size_t len;
	int closing;
};

typedef struct {
	uv_write_t req;
	uint8_t data[ANSWER_SPACE + 2];
} wreq_t;

static void handle(mon_listener_t *l, const uint8_t *wire, size_t len, const ss_addr_t *from,
                   uint8_t *out, size_t *outlen)
{
	mon_notify_msg_t msg;
	mon_notify_handle(&l->ctx, wire, len, from, out, outlen, &msg);
	msg.from = *from;
	if (l->cb != NULL) {
		l->cb(&msg, l->arg);
	}
}

static void udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)hint;
	mon_listener_t *l = h->data;
	*buf = uv_buf_init((char *)l->udp_buf, sizeof(l->udp_buf));
}

static void udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *sa,
                     unsigned flags)
{
	mon_listener_t *l = h->data;
	ss_addr_t from;
	if (n <= 0 || sa == NULL || (flags & UV_UDP_PARTIAL)) {
		return;
	}
	memset(&from, 0, sizeof(from));
	memcpy(&from.ss, sa,
	       sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                 : sizeof(struct sockaddr_in));
	uint8_t out[ANSWER_SPACE];
	size_t outlen = 0;
	handle(l, (const uint8_t *)buf->base, (size_t)n, &from, out, &outlen);
	if (outlen > 0) {
		uv_buf_t b = uv_buf_init((char *)out, (unsigned)outlen);
		uv_udp_try_send(h, &b, 1,
		                sa); /* best effort: a lost answer makes the sender retry */
	}
}

static void maybe_closed(mon_listener_t *l)
{
	if (l->closing == 0 && l->nconns == 0 && l->closed != NULL) {
		void (*done)(void *) = l->closed;
		l->closed = NULL;
		done(l->closed_arg);
	}
}

static void conn_freed(uv_handle_t *h)
{
	tcpconn_t *c = h->data;
	if (--c->closing > 0) {
		return;
	}
	mon_listener_t *l = c->l;
	free(c);
	l->nconns--;
	maybe_closed(l);
}

static void conn_close(tcpconn_t *c)
{
	if (c->closing) {
		return;
	}
	if (c->next != NULL) {
		c->next->pprev = c->pprev;
	}
	*c->pprev = c->next;
	c->closing = 2;
	uv_close((uv_handle_t *)&c->h, conn_freed);
	uv_close((uv_handle_t *)&c->idle, conn_freed);
}

static void conn_idle(uv_timer_t *t)
{
	conn_close(t->data);
}

static void written(uv_write_t *req, int status)
{
	(void)status;
	free(req);
}

static void conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)hint;
	tcpconn_t *c = h->data;
	*buf = uv_buf_init((char *)c->buf + c->len, (unsigned)(sizeof(c->buf) - c->len));
}

/* Every complete length-prefixed message in the buffer, answered in order. */
static void conn_messages(tcpconn_t *c, const ss_addr_t *from)
{
	while (c->len >= 2 && !c->closing) {
		size_t mlen = (size_t)c->buf[0] << 8 | c->buf[1];
		if (c->len < mlen + 2) {
			return;
		}
		wreq_t *w = malloc(sizeof(*w));
		size_t outlen = 0;
		if (w != NULL) {
			handle(c->l, c->buf + 2, mlen, from, w->data + 2, &outlen);
		}
		if (w != NULL && outlen > 0) {
			w->data[0] = (uint8_t)(outlen >> 8);
			w->data[1] = (uint8_t)outlen;
			uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)outlen + 2);
			if (uv_write(&w->req, (uv_stream_t *)&c->h, &b, 1, written) == 0) {
				w = NULL;
			}
		}
		free(w);
		memmove(c->buf, c->buf + mlen + 2, c->len - mlen - 2);
		c->len -= mlen + 2;
	}
}

static void conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	(void)buf;
	tcpconn_t *c = s->data;
	if (n < 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	uv_timer_again(&c->idle);
	struct sockaddr_storage sa;
	int salen = sizeof(sa);
	ss_addr_t from;
	memset(&from, 0, sizeof(from));
	if (uv_tcp_getpeername(&c->h, (struct sockaddr *)&sa, &salen) != 0) {
		conn_close(c);
		return;
	}
	memcpy(&from.ss, &sa, sizeof(sa));
	conn_messages(c, &from);
}

static void tcp_accept(uv_stream_t *server, int status)
{
	mon_listener_t *l = server->data;
	tcpconn_t *c = status == 0 && l->nconns < MAX_TCP ? calloc(1, sizeof(*c)) : NULL;
	uv_tcp_t reject;
	if (c == NULL) {
		/* Over the limit: take the connection off the queue and close it. */
		if (status == 0 && uv_tcp_init(l->loop, &reject) == 0) {
			uv_accept(server, (uv_stream_t *)&reject);
			uv_close((uv_handle_t *)&reject, NULL);
		}
		return;
	}
	c->l = l;
	uv_tcp_init(l->loop, &c->h);
	uv_timer_init(l->loop, &c->idle);
	c->h.data = c->idle.data = c;
	l->nconns++;
	c->next = l->conns;
	if (c->next != NULL) {
		c->next->pprev = &c->next;
	}
	c->pprev = &l->conns;
	l->conns = c;
	if (uv_accept(server, (uv_stream_t *)&c->h) != 0 ||
	    uv_read_start((uv_stream_t *)&c->h, conn_alloc, conn_read) != 0) {
		conn_close(c);
		return;
	}
	uv_timer_start(&c->idle, conn_idle, TCP_IDLE_MS, TCP_IDLE_MS);
}

int mon_listener_new(uv_loop_t *loop, const mon_notify_ctx_t *ctx, mon_notify_cb cb, void *arg,
                     mon_listener_t **out)
{
	mon_listener_t *l = calloc(1, sizeof(*l));
	if (l == NULL) {
		return SS_ENOMEM;
	}
	l->loop = loop;
	l->ctx = *ctx;
	l->cb = cb;
	l->arg = arg;
	*out = l;
	return 0;
}

void mon_listener_set_ctx(mon_listener_t *l, const mon_notify_ctx_t *ctx)
{
	l->ctx = *ctx;
}

int mon_listener_bind(mon_listener_t *l, const ss_addr_t *addr, ss_mon_error_t *err)
{
	char a[SS_ADDR_STRLEN];
	ss_addr_format(addr, a, sizeof(a));
	uv_udp_init(l->loop, &l->udp);
	uv_tcp_init(l->loop, &l->tcp);
	l->udp.data = l->tcp.data = l;
	l->udp_open = l->tcp_open = true;
	int ret = uv_udp_bind(&l->udp, ss_addr_sa(addr), 0);
	const char *what = "UDP";
	if (ret == 0) {
		ret = uv_udp_recv_start(&l->udp, udp_alloc, udp_recv);
	}
	if (ret == 0) {
		what = "TCP";
		ret = uv_tcp_bind(&l->tcp, ss_addr_sa(addr), 0);
	}
	ret = ret ? ret : uv_listen((uv_stream_t *)&l->tcp, 64, tcp_accept);
	if (ret != 0) {
		mon_error_set(err, "", 0, 0, "listen.notify: cannot listen on %s (%s): %s", a, what,
		              uv_strerror(ret));
		return SS_ENETWORK;
	}
	return 0;
}

static void handle_closed(uv_handle_t *h)
{
	mon_listener_t *l = h->data;
	l->closing--;
	maybe_closed(l);
}

void mon_listener_close(mon_listener_t *l, void (*done)(void *arg), void *arg)
{
	l->closed = done;
	l->closed_arg = arg;
	while (l->conns != NULL) {
		conn_close(l->conns);
	}
	if (l->udp_open) {
		l->closing++;
		uv_close((uv_handle_t *)&l->udp, handle_closed);
	}
	if (l->tcp_open) {
		l->closing++;
		uv_close((uv_handle_t *)&l->tcp, handle_closed);
	}
	l->udp_open = l->tcp_open = false;
	maybe_closed(l);
}

void mon_listener_free(mon_listener_t *l)
{
	free(l);
}
