/*
 * Scripted DNS servers for the unit tests of discovery, the check run and the
 * content phase, on the in-process responder (responder.h). Each server
 * answers from its own table of records: as an authoritative server (AA), a
 * resolver (RA, every record it has), or lame (REFUSED, silent, no AA); a
 * parent refers the zones it delegates (NS in authority, glue in additional);
 * AXFR streams the zone of the asked apex. Several servers can share one port
 * on different 127.x addresses, as servers found through glue must.
 */
#ifndef SOASYNC_TEST_FAKE_DNS_H
#define SOASYNC_TEST_FAKE_DNS_H

#include <unistd.h>

#include "responder.h"

#define FK_FN     static __attribute__((unused))
#define FK_MAX_RR 256

typedef enum {
	FK_AUTH,      /* authoritative for the zones of its SOA records */
	FK_RECURSIVE, /* a resolver: RA, every record of its table, no AA */
	FK_REFUSED,   /* REFUSED to everything */
	FK_SILENT,    /* never answers */
	FK_NOAA,      /* answers as FK_AUTH does, without AA */
} fk_mode_t;

typedef struct {
	rsp_t *r;
	char ip[64];
	uint16_t port;
	fk_mode_t mode;
	knot_rrset_t *rr[FK_MAX_RR]; /* its data, one record each */
	size_t n;
	knot_dname_t *cuts[8]; /* zones it delegates */
	size_t ncuts;
	bool refuse_axfr;
	unsigned delay_ms;   /* before every answer */
	bool answer_expire;  /* EDNS EXPIRE (RFC 7314) in answers to EDNS queries */
	uint32_t expire;     /* ... with this value */
	unsigned queries;    /* all */
	unsigned axfrs;      /* AXFR queries */
	unsigned ns_queries; /* NS queries */
	/* Sees every query first (may be NULL); true: it answered (or chose
	 * silence) itself. */
	bool (*hook)(rsp_query_t *q, void *arg);
	void *hook_arg;
} fk_server_t;

/* Add a record ("owner ttl [class] type rdata", printf-style) to s's table. */
FK_FN void fk_add(fk_server_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
FK_FN void fk_add(fk_server_t *s, const char *fmt, ...)
{
	char *text = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&text, fmt, ap);
	va_end(ap);
	knot_rrset_t *rr = n < 0 ? NULL : rsp_rr(text);
	if (rr == NULL || s->n == FK_MAX_RR) {
		fprintf(stderr, "fake_dns: bad record or table full: %s\n", text ? text : "?");
		abort();
	}
	knot_dname_to_lower(rr->owner);
	s->rr[s->n++] = rr;
	free(text);
}

/* s refers queries at or below zone to the zone's servers (its NS records
 * and their addresses must be in s's table). */
FK_FN void fk_delegate(fk_server_t *s, const char *zone)
{
	s->cuts[s->ncuts++] = knot_dname_from_str_alloc(zone);
	knot_dname_to_lower(s->cuts[s->ncuts - 1]);
}

FK_FN bool fk_below(const knot_dname_t *name, const knot_dname_t *zone)
{
	return knot_dname_in_bailiwick(name, zone) >= 0;
}

FK_FN int fk_put(knot_pkt_t *p, knot_section_t sec, const knot_rrset_t *rr)
{
	knot_rrset_t *copy = knot_rrset_copy(rr, NULL);
	int ret = copy == NULL ? -1 : p->current == sec ? KNOT_EOK : knot_pkt_begin(p, sec);
	if (ret == KNOT_EOK) {
		ret = knot_pkt_put(p, KNOT_COMPR_HINT_NONE, copy, KNOT_PF_FREE);
	}
	if (ret != KNOT_EOK) {
		knot_rrset_free(copy, NULL);
		return -1;
	}
	free(copy);
	return 0;
}

/* Every record of s with this owner (and type, unless 0) into section sec;
 * how many. */
FK_FN unsigned fk_put_matching(const fk_server_t *s, knot_pkt_t *p, knot_section_t sec,
                               const knot_dname_t *owner, uint16_t type)
{
	unsigned n = 0;
	for (size_t i = 0; i < s->n; i++) {
		const knot_rrset_t *rr = s->rr[i];
		if (knot_dname_is_case_equal(rr->owner, owner) && (type == 0 || rr->type == type)) {
			n += fk_put(p, sec, rr) == 0;
		}
	}
	return n;
}

/* The SOA of the closest zone of s enclosing name, or NULL. */
FK_FN const knot_rrset_t *fk_zone_soa(const fk_server_t *s, const knot_dname_t *name)
{
	const knot_rrset_t *best = NULL;
	for (size_t i = 0; i < s->n; i++) {
		const knot_rrset_t *rr = s->rr[i];
		if (rr->type == KNOT_RRTYPE_SOA && fk_below(name, rr->owner) &&
		    (best == NULL ||
		     knot_dname_labels(rr->owner, NULL) > knot_dname_labels(best->owner, NULL))) {
			best = rr;
		}
	}
	return best;
}

FK_FN bool fk_name_exists(const fk_server_t *s, const knot_dname_t *name)
{
	for (size_t i = 0; i < s->n; i++) {
		if (knot_dname_is_case_equal(s->rr[i]->owner, name)) {
			return true;
		}
	}
	return false;
}

/* EDNS with EXPIRE in the additional section (last). */
FK_FN void fk_put_expire(const fk_server_t *s, knot_pkt_t *p)
{
	knot_rrset_t opt;
	uint8_t v[4];
	knot_wire_write_u32(v, s->expire);
	if (knot_edns_init(&opt, 1232, 0, 0, NULL) != KNOT_EOK) {
		return;
	}
	knot_edns_add_option(&opt, KNOT_EDNS_OPTION_EXPIRE, 4, v, NULL);
	if ((p->current == KNOT_ADDITIONAL || knot_pkt_begin(p, KNOT_ADDITIONAL) == KNOT_EOK) &&
	    knot_pkt_put(p, KNOT_COMPR_HINT_NONE, &opt, KNOT_PF_FREE) == KNOT_EOK) {
		return;
	}
	knot_rrset_clear(&opt, NULL);
}

/* A referral to cut: its NS records, and the addresses of those names. */
FK_FN void fk_referral(const fk_server_t *s, knot_pkt_t *p, const knot_dname_t *cut)
{
	fk_put_matching(s, p, KNOT_AUTHORITY, cut, KNOT_RRTYPE_NS);
	for (size_t i = 0; i < s->n; i++) {
		const knot_rrset_t *ns = s->rr[i];
		if (ns->type == KNOT_RRTYPE_NS && knot_dname_is_case_equal(ns->owner, cut)) {
			const knot_dname_t *target = knot_ns_name(ns->rrs.rdata);
			fk_put_matching(s, p, KNOT_ADDITIONAL, target, KNOT_RRTYPE_A);
			fk_put_matching(s, p, KNOT_ADDITIONAL, target, KNOT_RRTYPE_AAAA);
		}
	}
}

/* AXFR of the zone at the asked apex: SOA, its other records, SOA. */
FK_FN knot_pkt_t *fk_axfr(fk_server_t *s, rsp_query_t *q)
{
	const knot_dname_t *apex = knot_pkt_qname(q->pkt);
	const knot_rrset_t *soa = fk_zone_soa(s, apex);
	if (s->refuse_axfr || soa == NULL || !knot_dname_is_case_equal(soa->owner, apex)) {
		return rsp_reply(q, KNOT_RCODE_REFUSED, false);
	}
	knot_pkt_t *p = rsp_reply(q, KNOT_RCODE_NOERROR, true);
	fk_put(p, KNOT_ANSWER, soa);
	for (size_t i = 0; i < s->n; i++) {
		if (s->rr[i]->type != KNOT_RRTYPE_SOA && fk_below(s->rr[i]->owner, apex)) {
			fk_put(p, KNOT_ANSWER, s->rr[i]);
		}
	}
	fk_put(p, KNOT_ANSWER, soa);
	return p;
}

FK_FN knot_pkt_t *fk_answer(fk_server_t *s, rsp_query_t *q)
{
	const knot_dname_t *qname = knot_pkt_qname(q->pkt);
	uint16_t qtype = rsp_qtype(q);
	bool recursive = s->mode == FK_RECURSIVE;
	if (s->mode == FK_REFUSED || knot_pkt_qclass(q->pkt) != KNOT_CLASS_IN) {
		return rsp_reply(q, KNOT_RCODE_REFUSED, false);
	}
	if (qtype == KNOT_RRTYPE_AXFR) {
		return fk_axfr(s, q);
	}
	for (size_t i = 0; !recursive && i < s->ncuts; i++) {
		if (fk_below(qname, s->cuts[i])) {
			knot_pkt_t *p = rsp_reply(q, KNOT_RCODE_NOERROR, false);
			fk_referral(s, p, s->cuts[i]);
			return p;
		}
	}
	const knot_rrset_t *soa = fk_zone_soa(s, qname);
	if (soa == NULL && !recursive) {
		return rsp_reply(q, KNOT_RCODE_REFUSED, false);
	}
	bool exists = fk_name_exists(s, qname);
	knot_pkt_t *p =
	    rsp_reply(q, exists || soa == NULL ? KNOT_RCODE_NOERROR : KNOT_RCODE_NXDOMAIN,
	              s->mode == FK_AUTH);
	if (recursive) {
		knot_wire_set_ra(p->wire);
	}
	if (fk_put_matching(s, p, KNOT_ANSWER, qname, qtype) == 0 && soa != NULL) {
		fk_put(p, KNOT_AUTHORITY, soa);
	}
	return p;
}

FK_FN void fk_handler(rsp_query_t *q, void *arg)
{
	fk_server_t *s = arg;
	s->queries++;
	if (s->hook != NULL && s->hook(q, s->hook_arg)) {
		return;
	}
	if (s->mode == FK_SILENT || q->pkt == NULL) {
		return;
	}
	s->axfrs += rsp_qtype(q) == KNOT_RRTYPE_AXFR;
	s->ns_queries += rsp_qtype(q) == KNOT_RRTYPE_NS;
	knot_pkt_t *p = fk_answer(s, q);
	if (p == NULL) {
		return;
	}
	if (s->answer_expire && rsp_edns(q)) {
		fk_put_expire(s, p);
	}
	if (s->delay_ms > 0) {
		rsp_delay(q, s->delay_ms);
	}
	rsp_send_pkt(q, p);
}

/* The address of s (ip#port), also after it stopped. */
FK_FN void fk_addr(const fk_server_t *s, ss_addr_t *out)
{
	char text[96];
	snprintf(text, sizeof(text), "%s#%u", s->ip, s->port);
	if (ss_addr_parse(out, text, 53) != 0) {
		abort();
	}
}

/* Give n servers the addresses 127.B.C.1 .. 127.B.C.n, B.C from the process
 * id so that test runs at the same time keep apart (their tables can name
 * them from now on). */
FK_FN void fk_place(fk_server_t *const *servers, size_t n)
{
	unsigned id = (unsigned)getpid();
	for (size_t i = 0; i < n; i++) {
		snprintf(servers[i]->ip, sizeof(servers[i]->ip), "127.%u.%u.%zu", 100 + id % 150,
		         (id / 150) % 256, i + 1);
	}
}

/* Start the placed servers, all on one port: returns it. */
FK_FN uint16_t fk_start(uv_loop_t *loop, fk_server_t *const *servers, size_t n)
{
	for (int attempt = 0; attempt < 20; attempt++) {
		uint16_t port = 0;
		size_t ok = 0;
		for (; ok < n; ok++) {
			fk_server_t *s = servers[ok];
			s->r = rsp_start_port(loop, s->ip, port, fk_handler, s);
			if (s->r == NULL) {
				break;
			}
			port = s->r->port;
		}
		if (ok == n) {
			for (size_t i = 0; i < n; i++) {
				servers[i]->port = port;
			}
			return port;
		}
		for (size_t i = 0; i < ok; i++) {
			rsp_stop(servers[i]->r);
			servers[i]->r = NULL;
		}
		uv_run(loop, UV_RUN_NOWAIT);
	}
	fprintf(stderr, "fake_dns: no common port for %zu servers\n", n);
	abort();
}

/* Stop the servers (the loop must run afterwards) and free their tables;
 * their addresses and counters stay for the test to read. */
FK_FN void fk_stop(fk_server_t *const *servers, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fk_server_t *s = servers[i];
		if (s->r != NULL) {
			rsp_stop(s->r);
		}
		for (size_t k = 0; k < s->n; k++) {
			knot_rrset_free(s->rr[k], NULL);
		}
		for (size_t k = 0; k < s->ncuts; k++) {
			free(s->cuts[k]);
		}
		s->r = NULL;
		s->n = s->ncuts = 0;
	}
}

/* Stop the servers, run the loop until every handle closed, close it:
 * uv_loop_close's result (0 when nothing was left open). */
FK_FN int fk_finish(uv_loop_t *loop, fk_server_t *const *servers, size_t n)
{
	fk_stop(servers, n);
	uv_run(loop, UV_RUN_DEFAULT);
	return uv_loop_close(loop);
}

#endif
