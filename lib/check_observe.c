/*
 * One SOA answer -> one server observation: the answer kind, the checked
 * SOA, NSID and EXPIRE, and what the answer said in words.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/error.h>

#include "check_observe.h"
#include "wire_rdata.h"

static char *printable(const uint8_t *data, size_t len)
{
	bool text = len > 0;
	for (size_t i = 0; i < len; i++) {
		text = text && isprint(data[i]);
	}
	char *out = malloc(len * 2 + 1);
	if (out == NULL) {
		return NULL;
	}
	if (text) {
		memcpy(out, data, len);
		out[len] = '\0';
		return out;
	}
	for (size_t i = 0; i < len; i++) {
		snprintf(out + 2 * i, 3, "%02x", data[i]);
	}
	out[2 * len] = '\0';
	return out;
}

static void take_edns(ss_server_obs_t *s, const knot_pkt_t *pkt)
{
	uint8_t *opt = knot_pkt_edns_option(pkt, KNOT_EDNS_OPTION_NSID);
	if (opt != NULL && s->nsid == NULL) {
		s->nsid = printable(knot_edns_opt_get_data(opt), knot_edns_opt_get_length(opt));
	}
	opt = knot_pkt_edns_option(pkt, KNOT_EDNS_OPTION_EXPIRE);
	if (opt != NULL && knot_edns_opt_get_length(opt) == 4) {
		s->has_expire = true;
		s->expire_s = knot_wire_read_u32(knot_edns_opt_get_data(opt));
	}
}

/* Records count only in the class of the question (IN, or CH for version). */
static uint16_t pkt_class(const knot_pkt_t *pkt)
{
	return knot_wire_get_qdcount(pkt->wire) == 1 ? knot_pkt_qclass(pkt) : KNOT_CLASS_IN;
}

const knot_rrset_t *ss_obs_section_find(const knot_pkt_t *pkt, knot_section_t sec, uint16_t type,
                                        const knot_dname_t *owner)
{
	const knot_pktsection_t *s = knot_pkt_section(pkt, sec);
	for (uint16_t i = 0; i < s->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(s, i);
		if (rr->type == type && rr->rclass == pkt_class(pkt) &&
		    (owner == NULL || knot_dname_is_case_equal(rr->owner, owner)) &&
		    (type != KNOT_RRTYPE_SOA || ss_rdata_soa_ok(rr->rrs.rdata))) {
			return rr;
		}
	}
	return NULL;
}

static void take_soa(ss_server_obs_t *s, const knot_rrset_t *soa)
{
	const knot_rdata_t *rd = soa->rrs.rdata;
	s->has_soa = true;
	s->kind = SS_ANS_SOA;
	s->soa.mname = knot_dname_copy(knot_soa_primary(rd), NULL);
	s->soa.rname = knot_dname_copy(knot_soa_mailbox(rd), NULL);
	s->soa.serial = knot_soa_serial(rd);
	s->soa.refresh = knot_soa_refresh(rd);
	s->soa.retry = knot_soa_retry(rd);
	s->soa.expire = knot_soa_expire(rd);
	s->soa.minimum = knot_soa_minimum(rd);
	s->soa.ttl = soa->ttl;
	if (s->soa.mname == NULL || s->soa.rname == NULL) {
		s->has_soa = false;
		s->kind = SS_ANS_NONE;
		s->error = SS_ENOMEM;
	}
}

/* What the answer said, in words: text, with the referral's target when given. */
static void set_detail(ss_server_obs_t *s, const char *text, const knot_dname_t *referral)
{
	char txt[KNOT_DNAME_TXT_MAXLEN + 1];
	free(s->detail);
	if (referral == NULL) {
		s->detail = strdup(text);
	} else if (knot_dname_to_str(txt, referral, sizeof(txt)) == NULL ||
	           asprintf(&s->detail, "referral to %s (%s)", txt, text) < 0) {
		s->detail = NULL;
	}
}

const char *ss_obs_rcode_name(int rcode)
{
	const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, rcode);
	return l ? l->name : "RCODE?";
}

static void classify_noerror(ss_server_obs_t *s, const knot_dname_t *zone, const knot_pkt_t *pkt)
{
	const knot_rrset_t *soa = ss_obs_section_find(pkt, KNOT_ANSWER, KNOT_RRTYPE_SOA, zone);
	if (soa != NULL && s->aa) {
		take_soa(s, soa);
		return;
	}
	if (!s->aa) {
		const knot_rrset_t *ns =
		    ss_obs_section_find(pkt, KNOT_AUTHORITY, KNOT_RRTYPE_NS, NULL);
		if (ns != NULL && soa == NULL) {
			s->kind = SS_ANS_REFERRAL;
			set_detail(s, "it serves a parent zone, not this one", ns->owner);
			return;
		}
		s->kind = SS_ANS_NOT_AUTH;
		set_detail(s,
		           soa ? "answer without AA (a recursive or caching server)"
		               : "answer without AA",
		           NULL);
		return;
	}
	s->kind = SS_ANS_NO_SOA;
	set_detail(s, "authoritative answer without the zone's SOA (NODATA)", NULL);
}

void ss_obs_from_soa_response(ss_server_obs_t *s, const knot_dname_t *zone,
                              const ss_response_t *resp)
{
	s->rtt_us = resp->rtt_us;
	s->tcp = resp->tcp;
	if (resp->error != 0) {
		s->kind = resp->error == SS_EMALFORMED ? SS_ANS_MALFORMED : SS_ANS_NONE;
		s->error = resp->error;
		s->rcode = -1;
		return;
	}
	s->rcode = resp->rcode;
	s->aa = resp->aa;
	take_edns(s, resp->pkt);
	switch (resp->rcode) {
	case KNOT_RCODE_NOERROR:
		classify_noerror(s, zone, resp->pkt);
		break;
	case KNOT_RCODE_SERVFAIL:
		s->kind = SS_ANS_SERVFAIL;
		break;
	case KNOT_RCODE_NXDOMAIN:
		s->kind = s->aa ? SS_ANS_NO_SOA : SS_ANS_NOT_AUTH;
		set_detail(s, "NXDOMAIN", NULL);
		break;
	default:
		s->kind = SS_ANS_NOT_AUTH;
		set_detail(s, ss_obs_rcode_name(resp->rcode), NULL);
		break;
	}
}
