/*
 * An in-process DNS responder for cmocka tests, on the test's own libuv loop:
 * UDP and TCP on one 127.x port, and a handler that decides, per query, what
 * happens. The handler queues steps on the query; they run in order:
 *
 *   rsp_send(q, wire, len)   a message (UDP datagram, or TCP length-prefixed)
 *   rsp_send_pkt(q, pkt)     the same from a knot_pkt_t (freed)
 *   rsp_send_raw(q, b, n)    bytes as they are (TCP: no length prefix)
 *   rsp_send_other_port()    UDP: a datagram from another port (TCP: skipped)
 *   rsp_delay(q, ms)         wait before the next step
 *   rsp_pace(q, chunk, ms)   from now on, TCP bytes go chunk at a time, ms
 *                            apart (chunk 1: byte by byte; 0: at once)
 *   rsp_stream(q, gen, arg)  as many messages as gen makes, each written when
 *                            the previous one was (an endless transfer works)
 *   rsp_close(q)/rsp_reset() close the TCP connection (FIN / RST)
 *
 * Queuing nothing is silence (a TCP connection then stays open). Queries on
 * one TCP connection are answered in order; each UDP query on its own. The
 * handler also sees queries that do not parse (q->pkt == NULL).
 *
 * Answers are built with rsp_reply() (a response to the query: ID, question,
 * opcode and RD copied), rsp_add()/rsp_addf() (a record in presentation form,
 * parsed by libzscanner) and, for TSIG, rsp_sign() (the first call signs with
 * the query's MAC, the next ones continue the stream, RFC 8945 5.3.1;
 * rsp_sign_skip() leaves a message of the stream unsigned) and
 * rsp_tsig_forge() (a TSIG record with any error and an all-zero MAC).
 *
 * Several responders may run at once (each its own port); a test counts what
 * it needs in its handler, the responder counts queries and scripts.
 *
 * Lifetime: rsp_start() ... rsp_stop(); the loop must then run (uv_run) to
 * close the handles, after which the responder is freed. rsp_env_start() and
 * rsp_env_run() do all of it for the common case: a loop, one responder and
 * an engine, run until the test's condition holds.
 */
#ifndef SOASYNC_TEST_RESPONDER_H
#define SOASYNC_TEST_RESPONDER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libknot/libknot.h>
#include <libzscanner/scanner.h>
#include <uv.h>

#include <soasync/addr.h>
#include <soasync/engine.h>

#include "tsig_signer.h"

#define RSP_FN static __attribute__((unused))

typedef struct rsp rsp_t;
typedef struct rsp_query rsp_query_t;
typedef struct rsp_conn rsp_conn_t;
typedef struct rsp_step rsp_step_t;

/* Decide what happens to q (queue steps on it); arg as given to rsp_start. */
typedef void (*rsp_handler_t)(rsp_query_t *q, void *arg);

/* Message number i (0-based) of a stream into out (cap bytes); its size, or 0
 * when the stream is over. */
typedef size_t (*rsp_gen_t)(rsp_query_t *q, unsigned i, uint8_t *out, size_t cap, void *arg);

struct rsp_query {
	rsp_t *r;
	bool tcp;
	unsigned seq;  /* 1-based, among all queries of this responder */
	uint8_t *wire; /* the query as received; owned by the responder */
	size_t len;
	knot_pkt_t *pkt; /* parsed; NULL when it did not parse */
	struct sockaddr_storage from;
	void *user; /* free for the handler (freed with free() if set) */

	tsig_signer_t signer; /* TSIG of the answer stream (rsp_sign) */
	bool signer_ready;

	/* internal */
	rsp_step_t *head, *tail;
	rsp_conn_t *conn;
	rsp_query_t *next, *prev; /* the connection's queue, or the UDP list */
	uv_timer_t timer;
	bool running, closing;
	size_t chunk;
	unsigned every_ms;
	unsigned gen_i;
};

enum { RSP_BYTES, RSP_OTHER_PORT, RSP_DELAY, RSP_PACE, RSP_CLOSE, RSP_RESET, RSP_GEN };

struct rsp_step {
	int kind;
	uint8_t *data;
	size_t len;
	bool prefix; /* TCP: add the 2-byte length */
	unsigned ms;
	size_t chunk;
	rsp_gen_t gen;
	void *arg;
	bool started; /* DELAY: the timer runs */
	rsp_step_t *next;
};

struct rsp_conn {
	uv_tcp_t h;
	rsp_t *r;
	uv_write_t w;
	uint8_t *in;
	size_t have, cap;
	uint8_t *out; /* the bytes being written */
	size_t olen, ooff, opiece;
	bool writing;
	rsp_query_t *qhead, *qtail;
	rsp_conn_t *next, *prev;
	bool closing;
};

struct rsp {
	uv_loop_t *loop;
	uv_udp_t udp, other;
	uv_tcp_t tcp;
	char ip[64];
	uint16_t port;
	rsp_handler_t handler;
	void *arg;
	rsp_conn_t *conns;
	rsp_query_t *udpq;
	int handles;
	bool stopping;
	uint8_t rbuf[65536];
	/* counters */
	unsigned queries, udp_queries, tcp_queries, tcp_conns;
	unsigned active, max_active; /* queries whose steps have not all run */
};

/* ---- building answers --------------------------------------------------------------------- */

/* A response to q: ID, question, opcode and RD copied, QR set; AA and rcode
 * as given. NULL when q did not parse. Room for 65535 bytes. */
RSP_FN knot_pkt_t *rsp_reply(const rsp_query_t *q, uint16_t rcode, bool aa)
{
	if (q->pkt == NULL) {
		return NULL;
	}
	knot_pkt_t *p = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	if (p == NULL || knot_pkt_init_response(p, q->pkt) != KNOT_EOK) {
		knot_pkt_free(p);
		return NULL;
	}
	knot_wire_set_rcode(p->wire, (uint8_t)(rcode & 0xf));
	if (aa) {
		knot_wire_set_aa(p->wire);
	}
	return p;
}

/* One record in presentation form ("owner [ttl] [class] type rdata", names
 * absolute) into a new RRset; NULL when it does not parse. */
RSP_FN knot_rrset_t *rsp_rr(const char *text)
{
	zs_scanner_t *s = malloc(sizeof(*s));
	knot_rrset_t *rr = NULL;
	char *line = NULL;
	if (s == NULL || zs_init(s, ".", KNOT_CLASS_IN, 3600) != 0) {
		free(s);
		return NULL;
	}
	if (asprintf(&line, "%s\n", text) >= 0 && zs_set_input_string(s, line, strlen(line)) == 0 &&
	    zs_parse_record(s) == 0 && s->state == ZS_STATE_DATA) {
		rr = knot_rrset_new(s->r_owner, s->r_type, s->r_class, s->r_ttl, NULL);
		if (rr != NULL &&
		    knot_rrset_add_rdata(rr, s->r_data, (uint16_t)s->r_data_length, NULL) != 0) {
			knot_rrset_free(rr, NULL);
			rr = NULL;
		}
	}
	zs_deinit(s);
	free(s);
	free(line);
	return rr;
}

/* Put rr (taken; NULL: a failure) into section sec of p (sections in order:
 * ANSWER, AUTHORITY, ADDITIONAL). Returns 0 or -1. */
RSP_FN int rsp_put(knot_pkt_t *p, knot_section_t sec, knot_rrset_t *rr)
{
	int ret = rr != NULL ? KNOT_EOK : KNOT_ENOMEM;
	if (ret == KNOT_EOK && p->current != sec) {
		ret = knot_pkt_begin(p, sec);
	}
	if (ret == KNOT_EOK) {
		ret = knot_pkt_put(p, KNOT_COMPR_HINT_NONE, rr, KNOT_PF_FREE);
	}
	if (ret != KNOT_EOK) {
		knot_rrset_free(rr, NULL);
		return -1;
	}
	free(rr); /* the packet owns its contents now */
	return 0;
}

/* A record in presentation form into section sec of p (see rsp_put). */
RSP_FN int rsp_add(knot_pkt_t *p, knot_section_t sec, const char *text)
{
	return rsp_put(p, sec, rsp_rr(text));
}

/* A record given in wire form (rdata of rdlen octets) into section sec. */
RSP_FN int rsp_add_rdata(knot_pkt_t *p, knot_section_t sec, const char *owner, uint16_t type,
                         uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	knot_dname_t *o = knot_dname_from_str_alloc(owner);
	knot_rrset_t *rr = o ? knot_rrset_new(o, type, KNOT_CLASS_IN, ttl, NULL) : NULL;
	free(o);
	if (rr != NULL && knot_rrset_add_rdata(rr, rdata, rdlen, NULL) != KNOT_EOK) {
		knot_rrset_free(rr, NULL);
		rr = NULL;
	}
	return rsp_put(p, sec, rr);
}

RSP_FN int rsp_addf(knot_pkt_t *p, knot_section_t sec, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
RSP_FN int rsp_addf(knot_pkt_t *p, knot_section_t sec, const char *fmt, ...)
{
	char *text = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&text, fmt, ap);
	va_end(ap);
	int ret = n < 0 ? -1 : rsp_add(p, sec, text);
	free(text);
	return ret;
}

/* The zone's SOA with serial (MNAME ns1.ZONE, RNAME hostmaster.ZONE). */
RSP_FN int rsp_add_soa(knot_pkt_t *p, knot_section_t sec, const char *zone, uint32_t serial)
{
	return rsp_addf(p, sec, "%s 3600 SOA ns1.%s hostmaster.%s %u 3600 600 86400 300", zone,
	                zone, zone, serial);
}

/* ---- about the query ---------------------------------------------------------------------------
 */

RSP_FN uint16_t rsp_qtype(const rsp_query_t *q)
{
	return q->pkt ? knot_pkt_qtype(q->pkt) : 0;
}

RSP_FN uint8_t rsp_opcode(const rsp_query_t *q)
{
	return q->len >= KNOT_WIRE_HEADER_SIZE ? knot_wire_get_opcode(q->wire) : 0;
}

RSP_FN bool rsp_edns(const rsp_query_t *q)
{
	return q->pkt != NULL && knot_pkt_has_edns(q->pkt);
}

/* The question name is name (presentation form, any case). */
RSP_FN bool rsp_qname_is(const rsp_query_t *q, const char *name)
{
	knot_dname_storage_t want;
	return q->pkt != NULL && knot_dname_from_str(want, name, sizeof(want)) != NULL &&
	       knot_dname_is_case_equal(knot_pkt_qname(q->pkt), want);
}

/* ---- TSIG ------------------------------------------------------------------------------------ */

RSP_FN void rsp_signer_ready(rsp_query_t *q)
{
	if (!q->signer_ready) {
		const knot_rrset_t *t = q->pkt ? q->pkt->tsig_rr : NULL;
		tsig_signer_init(&q->signer, t ? knot_tsig_rdata_mac(t) : NULL,
		                 t ? knot_tsig_rdata_mac_length(t) : 0);
		q->signer_ready = true;
	}
}

/* p goes out unsigned inside a signed stream: the next rsp_sign covers it. */
RSP_FN int rsp_sign_skip(rsp_query_t *q, const knot_pkt_t *p)
{
	rsp_signer_ready(q);
	return tsig_skip(&q->signer, p->wire, p->size);
}

/* Sign p, the next message of q's answer: the first with the query's MAC,
 * later ones as a continuation covering any messages left unsigned since
 * (RFC 8945 5.3.1). Returns 0 or a libknot error. */
RSP_FN int rsp_sign(rsp_query_t *q, knot_pkt_t *p, const knot_tsig_key_t *key)
{
	rsp_signer_ready(q);
	return tsig_sign(&q->signer, key, p->wire, &p->size, p->max_size);
}

/* A TSIG record for key appended to p carrying error tsig_error and an
 * all-zero MAC of the algorithm's length. Returns 0 or a libknot error. */
RSP_FN int rsp_tsig_forge(knot_pkt_t *p, const knot_tsig_key_t *key, uint16_t tsig_error)
{
	return tsig_forge(key, tsig_error, p->wire, &p->size, p->max_size);
}

/* ---- queuing steps --------------------------------------------------------------------------- */

RSP_FN rsp_step_t *rsp_step_add(rsp_query_t *q, int kind)
{
	rsp_step_t *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		abort();
	}
	s->kind = kind;
	if (q->tail) {
		q->tail->next = s;
	} else {
		q->head = s;
	}
	q->tail = s;
	return s;
}

RSP_FN void rsp_bytes_step(rsp_query_t *q, int kind, const void *data, size_t len, bool prefix)
{
	rsp_step_t *s = rsp_step_add(q, kind);
	s->data = malloc(len ? len : 1);
	if (s->data == NULL) {
		abort();
	}
	memcpy(s->data, data, len);
	s->len = len;
	s->prefix = prefix;
}

RSP_FN void rsp_send(rsp_query_t *q, const void *wire, size_t len)
{
	rsp_bytes_step(q, RSP_BYTES, wire, len, true);
}

RSP_FN void rsp_send_pkt(rsp_query_t *q, knot_pkt_t *p)
{
	if (p != NULL) {
		rsp_send(q, p->wire, p->size);
		knot_pkt_free(p);
	}
}

RSP_FN void rsp_send_raw(rsp_query_t *q, const void *data, size_t len)
{
	rsp_bytes_step(q, RSP_BYTES, data, len, false);
}

RSP_FN void rsp_send_other_port(rsp_query_t *q, const void *wire, size_t len)
{
	rsp_bytes_step(q, RSP_OTHER_PORT, wire, len, false);
}

RSP_FN void rsp_delay(rsp_query_t *q, unsigned ms)
{
	rsp_step_add(q, RSP_DELAY)->ms = ms;
}

RSP_FN void rsp_pace(rsp_query_t *q, size_t chunk, unsigned ms)
{
	rsp_step_t *s = rsp_step_add(q, RSP_PACE);
	s->chunk = chunk;
	s->ms = ms;
}

RSP_FN void rsp_stream(rsp_query_t *q, rsp_gen_t gen, void *arg)
{
	rsp_step_t *s = rsp_step_add(q, RSP_GEN);
	s->gen = gen;
	s->arg = arg;
}

RSP_FN void rsp_close(rsp_query_t *q)
{
	rsp_step_add(q, RSP_CLOSE);
}

RSP_FN void rsp_reset(rsp_query_t *q)
{
	rsp_step_add(q, RSP_RESET);
}

/* ---- running the steps --------------------------------------------------------------------- */

static void rsp_run(rsp_query_t *q);
static void rsp_conn_close(rsp_conn_t *c, bool reset);

/* One of the responder's handles closed: the last one frees it. */
RSP_FN void rsp_unref(rsp_t *r)
{
	if (--r->handles == 0) {
		free(r);
	}
}

RSP_FN void rsp_step_pop(rsp_query_t *q)
{
	rsp_step_t *s = q->head;
	q->head = s->next;
	if (q->head == NULL) {
		q->tail = NULL;
	}
	free(s->data);
	free(s);
}

RSP_FN void rsp_query_freed(uv_handle_t *h)
{
	rsp_query_t *q = h->data;
	rsp_t *r = q->r;
	while (q->head != NULL) {
		rsp_step_pop(q);
	}
	knot_pkt_free(q->pkt);
	free(q->wire);
	tsig_signer_clear(&q->signer);
	free(q->user);
	free(q);
	rsp_unref(r);
}

/* Unlink q from its connection or the UDP list and free it. */
RSP_FN void rsp_query_end(rsp_query_t *q)
{
	if (q->closing) {
		return;
	}
	q->closing = true;
	rsp_t *r = q->r;
	if (q->running) {
		r->active--;
	}
	rsp_query_t **head = q->conn ? &q->conn->qhead : &r->udpq;
	if (q->prev) {
		q->prev->next = q->next;
	} else if (*head == q) {
		*head = q->next;
	}
	if (q->next) {
		q->next->prev = q->prev;
	} else if (q->conn && q->conn->qtail == q) {
		q->conn->qtail = q->prev;
	}
	rsp_conn_t *c = q->conn;
	q->conn = NULL;
	uv_timer_stop(&q->timer);
	uv_close((uv_handle_t *)&q->timer, rsp_query_freed);
	if (c != NULL && !c->closing && c->qhead != NULL) {
		rsp_run(c->qhead); /* the next query on the connection */
	}
}

RSP_FN void rsp_timer_cb(uv_timer_t *t)
{
	rsp_run(t->data);
}

RSP_FN void rsp_udp_sent(uv_udp_send_t *req, int status)
{
	(void)status;
	free(req);
}

RSP_FN void rsp_udp_send(rsp_query_t *q, uv_udp_t *h, const uint8_t *data, size_t len)
{
	uv_udp_send_t *req = malloc(sizeof(*req) + (len ? len : 1));
	if (req == NULL) {
		abort();
	}
	uint8_t *copy = (uint8_t *)(req + 1);
	memcpy(copy, data, len);
	uv_buf_t b = uv_buf_init((char *)copy, (unsigned)len);
	if (uv_udp_send(req, h, &b, 1, (const struct sockaddr *)&q->from, rsp_udp_sent) != 0) {
		free(req);
	}
}

static void rsp_tcp_write_some(rsp_conn_t *c);

RSP_FN void rsp_tcp_written(uv_write_t *w, int status)
{
	rsp_conn_t *c = w->data;
	c->writing = false;
	if (c->closing || status < 0) {
		if (!c->closing) {
			rsp_conn_close(c, false);
		}
		return;
	}
	c->ooff += c->opiece;
	rsp_query_t *q = c->qhead;
	if (c->ooff >= c->olen) {
		free(c->out);
		c->out = NULL;
		if (q->head != NULL && q->head->kind != RSP_GEN) {
			rsp_step_pop(q);
		}
	}
	if (q->chunk > 0 && q->every_ms > 0) {
		uv_timer_start(&q->timer, rsp_timer_cb, q->every_ms, 0);
	} else {
		rsp_run(q);
	}
}

static void rsp_tcp_write_some(rsp_conn_t *c)
{
	rsp_query_t *q = c->qhead;
	size_t left = c->olen - c->ooff;
	c->opiece = q->chunk > 0 && q->chunk < left ? q->chunk : left;
	uv_buf_t b = uv_buf_init((char *)c->out + c->ooff, (unsigned)c->opiece);
	c->w.data = c;
	c->writing = true;
	if (uv_write(&c->w, (uv_stream_t *)&c->h, &b, 1, rsp_tcp_written) != 0) {
		c->writing = false;
		rsp_conn_close(c, false);
	}
}

/* Start writing data (with the length prefix when asked) on q's connection. */
RSP_FN void rsp_tcp_start(rsp_query_t *q, const uint8_t *data, size_t len, bool prefix)
{
	rsp_conn_t *c = q->conn;
	size_t n = len + (prefix ? 2 : 0);
	c->out = malloc(n ? n : 1);
	if (c->out == NULL) {
		abort();
	}
	if (prefix) {
		knot_wire_write_u16(c->out, (uint16_t)len);
	}
	memcpy(c->out + (prefix ? 2 : 0), data, len);
	c->olen = n;
	c->ooff = 0;
	rsp_tcp_write_some(c);
}

/* One generated message: returns false when the stream is over. */
RSP_FN bool rsp_gen_one(rsp_query_t *q, rsp_step_t *s)
{
	uint8_t *buf = malloc(KNOT_WIRE_MAX_PKTSIZE);
	if (buf == NULL) {
		abort();
	}
	size_t n = s->gen(q, q->gen_i++, buf, KNOT_WIRE_MAX_PKTSIZE, s->arg);
	if (n > 0 && q->tcp) {
		rsp_tcp_start(q, buf, n, true);
	} else if (n > 0) {
		rsp_udp_send(q, &q->r->udp, buf, n);
	}
	free(buf);
	return n > 0;
}

/* Run q's steps until one has to wait (a timer, a write) or none is left. */
static void rsp_run(rsp_query_t *q)
{
	rsp_t *r = q->r;
	rsp_conn_t *c = q->conn;
	if (q->closing || r->stopping || (c != NULL && (c->qhead != q || c->writing))) {
		return; /* an earlier query on the connection goes first */
	}
	if (!q->running) {
		q->running = true;
		r->active++;
		r->max_active = r->active > r->max_active ? r->active : r->max_active;
	}
	if (c != NULL && c->out != NULL) {
		rsp_tcp_write_some(c); /* the next chunk of a paced message */
		return;
	}
	while (q->head != NULL) {
		rsp_step_t *s = q->head;
		switch (s->kind) {
		case RSP_DELAY:
			if (!s->started) {
				s->started = true;
				uv_timer_start(&q->timer, rsp_timer_cb, s->ms, 0);
				return;
			}
			break;
		case RSP_PACE:
			q->chunk = s->chunk;
			q->every_ms = s->ms;
			break;
		case RSP_BYTES:
			if (q->tcp) {
				rsp_tcp_start(q, s->data, s->len, s->prefix);
				return; /* popped when written */
			}
			rsp_udp_send(q, &r->udp, s->data, s->len);
			break;
		case RSP_OTHER_PORT:
			if (!q->tcp) {
				rsp_udp_send(q, &r->other, s->data, s->len);
			}
			break;
		case RSP_GEN:
			if (rsp_gen_one(q, s)) {
				if (q->tcp) {
					return;
				}
				continue;
			}
			break;
		case RSP_CLOSE:
		case RSP_RESET:
			if (q->tcp) {
				rsp_conn_close(c, s->kind == RSP_RESET);
				return;
			}
			break;
		}
		rsp_step_pop(q);
	}
	rsp_query_end(q);
}

/* ---- receiving ---------------------------------------------------------------------------------
 */

RSP_FN rsp_query_t *rsp_query_new(rsp_t *r, const uint8_t *wire, size_t len, bool tcp)
{
	rsp_query_t *q = calloc(1, sizeof(*q));
	if (q == NULL || (q->wire = malloc(len ? len : 1)) == NULL) {
		abort();
	}
	memcpy(q->wire, wire, len);
	q->len = len;
	q->r = r;
	q->tcp = tcp;
	q->seq = ++r->queries;
	q->pkt = knot_pkt_new(q->wire, (uint16_t)len, NULL);
	if (q->pkt != NULL && knot_pkt_parse(q->pkt, 0) != KNOT_EOK) {
		knot_pkt_free(q->pkt);
		q->pkt = NULL;
	}
	uv_timer_init(r->loop, &q->timer);
	q->timer.data = q;
	r->handles++;
	return q;
}

RSP_FN void rsp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	(void)hint;
	rsp_t *r = h->data;
	*b = uv_buf_init((char *)r->rbuf, sizeof(r->rbuf));
}

RSP_FN void rsp_udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
                         unsigned flags)
{
	(void)flags;
	rsp_t *r = h->data;
	if (n <= 0 || from == NULL || r->stopping) {
		return;
	}
	rsp_query_t *q = rsp_query_new(r, (const uint8_t *)buf->base, (size_t)n, false);
	memcpy(&q->from, from,
	       from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                   : sizeof(struct sockaddr_in));
	q->next = r->udpq;
	if (r->udpq) {
		r->udpq->prev = q;
	}
	r->udpq = q;
	r->udp_queries++;
	r->handler(q, r->arg);
	rsp_run(q);
}

RSP_FN void rsp_conn_closed(uv_handle_t *h)
{
	rsp_conn_t *c = h->data;
	rsp_t *r = c->r;
	free(c->in);
	free(c->out);
	free(c);
	rsp_unref(r);
}

static void rsp_conn_close(rsp_conn_t *c, bool reset)
{
	if (c->closing) {
		return;
	}
	c->closing = true;
	rsp_t *r = c->r;
	while (c->qhead != NULL) {
		rsp_query_end(c->qhead);
	}
	if (c->prev) {
		c->prev->next = c->next;
	} else {
		r->conns = c->next;
	}
	if (c->next) {
		c->next->prev = c->prev;
	}
	if (reset && uv_tcp_close_reset(&c->h, rsp_conn_closed) == 0) {
		return;
	}
	uv_close((uv_handle_t *)&c->h, rsp_conn_closed);
}

RSP_FN void rsp_tcp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	(void)hint;
	rsp_conn_t *c = h->data;
	if (c->cap - c->have < 4096) {
		size_t ncap = c->cap ? c->cap * 2 : 8192;
		uint8_t *n = realloc(c->in, ncap);
		if (n == NULL) {
			abort();
		}
		c->in = n;
		c->cap = ncap;
	}
	*b = uv_buf_init((char *)c->in + c->have, (unsigned)(c->cap - c->have));
}

RSP_FN void rsp_tcp_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	(void)b;
	rsp_conn_t *c = st->data;
	rsp_t *r = c->r;
	if (n < 0) {
		rsp_conn_close(c, false);
		return;
	}
	c->have += (size_t)n;
	while (!c->closing && c->have >= 2 && c->have >= 2u + knot_wire_read_u16(c->in)) {
		size_t len = knot_wire_read_u16(c->in);
		rsp_query_t *q = rsp_query_new(r, c->in + 2, len, true);
		int flen = sizeof(q->from);
		uv_tcp_getpeername(&c->h, (struct sockaddr *)&q->from, &flen);
		memmove(c->in, c->in + 2 + len, c->have - 2 - len);
		c->have -= 2 + len;
		q->conn = c;
		q->prev = c->qtail;
		if (c->qtail) {
			c->qtail->next = q;
		} else {
			c->qhead = q;
		}
		c->qtail = q;
		r->tcp_queries++;
		r->handler(q, r->arg);
		rsp_run(q);
	}
}

RSP_FN void rsp_accept(uv_stream_t *server, int status)
{
	rsp_t *r = server->data;
	if (status < 0 || r->stopping) {
		return;
	}
	rsp_conn_t *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		abort();
	}
	c->r = r;
	uv_tcp_init(r->loop, &c->h);
	c->h.data = c;
	r->handles++;
	c->next = r->conns;
	if (r->conns) {
		r->conns->prev = c;
	}
	r->conns = c;
	if (uv_accept(server, (uv_stream_t *)&c->h) != 0 ||
	    uv_read_start((uv_stream_t *)&c->h, rsp_tcp_alloc, rsp_tcp_read) != 0) {
		rsp_conn_close(c, false);
		return;
	}
	r->tcp_conns++;
}

/* ---- the responder ------------------------------------------------------------------------- */

RSP_FN int rsp_sockaddr(const char *ip, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	return strchr(ip, ':') ? uv_ip6_addr(ip, port, (struct sockaddr_in6 *)ss)
	                       : uv_ip4_addr(ip, port, (struct sockaddr_in *)ss);
}

/* A UDP and a TCP socket on one port of ip: *port, or a free one when it is
 * 0 (set then); false when none was found. */
RSP_FN bool rsp_bind_pair(const char *ip, int *ufd, int *tfd, uint16_t *port)
{
	struct sockaddr_storage ss;
	if (rsp_sockaddr(ip, *port, &ss) != 0) {
		return false;
	}
	socklen_t sl =
	    ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	for (int i = 0; i < 50; i++) {
		*ufd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		*tfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_storage got = ss;
		socklen_t gl = sizeof(got);
		int one = 1;
		setsockopt(*tfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(*ufd, (struct sockaddr *)&ss, sl) == 0 &&
		    getsockname(*ufd, (struct sockaddr *)&got, &gl) == 0 &&
		    bind(*tfd, (struct sockaddr *)&got, sl) == 0) {
			*port =
			    ntohs(((struct sockaddr_in *)&got)->sin_port); /* same offset in v6 */
			return true;
		}
		close(*ufd);
		close(*tfd);
	}
	return false;
}

/* A responder on ip and port (0: a free one) for UDP and TCP, or NULL when
 * that port is taken: several addresses can share one port (servers found
 * through glue, which carries none). */
RSP_FN rsp_t *rsp_start_port(uv_loop_t *loop, const char *ip, uint16_t port, rsp_handler_t handler,
                             void *arg)
{
	rsp_t *r = calloc(1, sizeof(*r));
	int ufd, tfd;
	if (r != NULL) {
		r->port = port;
	}
	if (r == NULL || !rsp_bind_pair(ip, &ufd, &tfd, &r->port)) {
		free(r);
		return NULL;
	}
	r->loop = loop;
	r->handler = handler;
	r->arg = arg;
	snprintf(r->ip, sizeof(r->ip), "%s", ip);
	uv_udp_init(loop, &r->udp);
	uv_udp_init(loop, &r->other);
	uv_tcp_init(loop, &r->tcp);
	r->udp.data = r->other.data = r->tcp.data = r;
	r->handles = 3;
	struct sockaddr_storage any;
	rsp_sockaddr(ip, 0, &any);
	if (uv_udp_open(&r->udp, ufd) != 0 || uv_tcp_open(&r->tcp, tfd) != 0 ||
	    uv_udp_bind(&r->other, (struct sockaddr *)&any, 0) != 0 ||
	    uv_listen((uv_stream_t *)&r->tcp, 128, rsp_accept) != 0 ||
	    uv_udp_recv_start(&r->udp, rsp_alloc, rsp_udp_recv) != 0) {
		fprintf(stderr, "responder: cannot listen on %s#%u\n", ip, r->port);
		abort();
	}
	return r;
}

/* A responder on ip ("127.0.0.1", "::1"), a free port for UDP and TCP.
 * Aborts the test when it cannot listen. */
RSP_FN rsp_t *rsp_start(uv_loop_t *loop, const char *ip, rsp_handler_t handler, void *arg)
{
	rsp_t *r = rsp_start_port(loop, ip, 0, handler, arg);
	if (r == NULL) {
		fprintf(stderr, "responder: cannot listen on %s\n", ip);
		abort();
	}
	return r;
}

/* The responder's address (ip#port) for queries. */
RSP_FN void rsp_server(const rsp_t *r, ss_addr_t *out)
{
	char text[96];
	snprintf(text, sizeof(text), "%s#%u", r->ip, r->port);
	if (ss_addr_parse(out, text, 53) != 0) {
		abort();
	}
}

RSP_FN void rsp_handle_closed(uv_handle_t *h)
{
	rsp_unref(h->data);
}

/* Stop answering and close everything; freed once the loop ran. */
RSP_FN void rsp_stop(rsp_t *r)
{
	if (r->stopping) {
		return;
	}
	r->stopping = true;
	while (r->conns != NULL) {
		rsp_conn_close(r->conns, false);
	}
	while (r->udpq != NULL) {
		rsp_query_end(r->udpq);
	}
	uv_close((uv_handle_t *)&r->udp, rsp_handle_closed);
	uv_close((uv_handle_t *)&r->other, rsp_handle_closed);
	uv_close((uv_handle_t *)&r->tcp, rsp_handle_closed);
}

/*
 * Run the loop until *done says so or ms passed (the responder keeps the loop
 * alive, so uv_run alone would not return). Returns true when done.
 */
RSP_FN void rsp_tick(uv_timer_t *t)
{
	(void)t;
}

RSP_FN bool rsp_run_until(uv_loop_t *loop, bool (*done)(void *arg), void *arg, unsigned ms)
{
	uv_timer_t tick; /* wakes the loop now and then, so the deadline holds */
	uv_timer_init(loop, &tick);
	uv_timer_start(&tick, rsp_tick, 20, 20);
	uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000u;
	bool ok;
	while (!(ok = done(arg)) && uv_hrtime() < end) {
		uv_run(loop, UV_RUN_ONCE);
	}
	uv_close((uv_handle_t *)&tick, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return ok;
}

/* A test's world: its own loop, one responder on 127.0.0.1 and an engine. */
typedef struct {
	uv_loop_t loop;
	rsp_t *r;
	ss_engine_t *e;
	ss_addr_t server; /* the responder */
} rsp_env_t;

/* eo: engine options (NULL: defaults). */
RSP_FN void rsp_env_start(rsp_env_t *env, rsp_handler_t handler, void *arg,
                          const ss_engine_opts_t *eo)
{
	if (uv_loop_init(&env->loop) != 0) {
		abort();
	}
	env->r = rsp_start(&env->loop, "127.0.0.1", handler, arg);
	env->e = ss_engine_new(&env->loop, eo);
	if (env->e == NULL) {
		abort();
	}
	rsp_server(env->r, &env->server);
}

/* Run until done(arg) holds or ms passed, then close the engine, the
 * responder and the loop. Returns whether done(arg) held. */
RSP_FN bool rsp_env_run(rsp_env_t *env, bool (*done)(void *arg), void *arg, unsigned ms)
{
	bool ok = rsp_run_until(&env->loop, done, arg, ms);
	ss_engine_close(env->e);
	rsp_stop(env->r);
	uv_run(&env->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&env->loop) != 0) {
		abort(); /* a handle left open */
	}
	return ok;
}

#endif
