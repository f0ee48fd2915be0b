/*
 * The serial a server serves now, for 'serial bump --live': the number
 * goes into a zone file, so anything doubtful in the answer refuses the
 * bump rather than guessing. Every SOA for the zone in the answer counts:
 * one of another class or with malformed rdata (libknot parses empty rdata,
 * legal in UPDATE, and knot_soa_serial trusts the layout) taints the answer.
 */
#include <stdio.h>
#include <stdlib.h>

#include <soasync/error.h>
#include <soasync/serial_live.h>

#include "wire_rdata.h"

static const char *rcode_name(int rcode)
{
	const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, rcode);
	return l != NULL ? l->name : "an unknown RCODE";
}

static void refuse(ss_live_soa_t *out, ss_live_status_t st, const char *fmt, const char *what)
{
	out->status = st;
	snprintf(out->detail, sizeof(out->detail), fmt, what);
}

/* One SOA RRset of the answer with the zone's owner: 0 fine, -1 refused. */
static int judge_rrset(const knot_rrset_t *rr, ss_live_soa_t *out)
{
	char cls[32];
	if (rr->rclass != KNOT_CLASS_IN) {
		knot_rrclass_to_string(rr->rclass, cls, sizeof(cls));
		refuse(out, SS_LIVE_BAD_SOA, "the SOA in the answer is of class %s, not IN", cls);
		return -1;
	}
	knot_rdata_t *rd = rr->rrs.rdata;
	for (uint16_t i = 0; i < rr->rrs.count; i++, rd = knot_rdataset_next(rd)) {
		if (!ss_rdata_soa_ok(rd)) {
			refuse(out, SS_LIVE_BAD_SOA, "%s", "the SOA in the answer is malformed");
			return -1;
		}
		uint32_t serial = knot_soa_serial(rd);
		if (out->status == SS_LIVE_OK && serial != out->serial) {
			refuse(out, SS_LIVE_BAD_SOA, "%s",
			       "the answer holds SOA records with different serials");
			return -1;
		}
		out->status = SS_LIVE_OK;
		out->serial = serial;
	}
	return 0;
}

void ss_live_soa_judge(const knot_dname_t *zone, const ss_response_t *resp, ss_live_soa_t *out)
{
	*out = (ss_live_soa_t){.status = SS_LIVE_NO_ANSWER, .error = resp->error, .rcode = -1};
	if (resp->error != 0) {
		refuse(out, SS_LIVE_NO_ANSWER, "no answer: %s", ss_strerror(resp->error));
		return;
	}
	out->rcode = resp->rcode;
	out->aa = resp->aa;
	if (resp->rcode != KNOT_RCODE_NOERROR) {
		refuse(out, SS_LIVE_RCODE, "rcode %s", rcode_name(resp->rcode));
		return;
	}
	if (!resp->aa) {
		refuse(out, SS_LIVE_NOT_AUTH, "%s", "AA not set: it does not serve the zone");
		return;
	}
	out->status = SS_LIVE_NO_SOA;
	const knot_pktsection_t *an = knot_pkt_section(resp->pkt, KNOT_ANSWER);
	for (uint16_t i = 0; i < an->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(an, i);
		if (rr->type == KNOT_RRTYPE_SOA && knot_dname_is_case_equal(rr->owner, zone) &&
		    judge_rrset(rr, out) != 0) {
			return;
		}
	}
	if (out->status == SS_LIVE_NO_SOA) {
		refuse(out, SS_LIVE_NO_SOA, "%s", "no SOA in the answer");
	} else {
		out->detail[0] = '\0';
	}
}

typedef struct {
	knot_dname_t *zone;
	ss_live_soa_cb cb;
	void *arg;
} live_ctx_t;

static void answered(const ss_response_t *resp, void *arg)
{
	live_ctx_t *c = arg;
	ss_live_soa_t res;
	ss_live_soa_judge(c->zone, resp, &res);
	c->cb(&res, c->arg);
	free(c->zone);
	free(c);
}

int ss_live_soa_query(ss_engine_t *e, const ss_addr_t *server, const knot_dname_t *zone,
                      ss_live_soa_cb cb, void *arg)
{
	if (e == NULL || server == NULL || zone == NULL || cb == NULL) {
		return SS_EINVAL;
	}
	live_ctx_t *c = calloc(1, sizeof(*c));
	if (c == NULL || (c->zone = knot_dname_copy(zone, NULL)) == NULL) {
		free(c);
		return SS_ENOMEM;
	}
	c->cb = cb;
	c->arg = arg;
	ss_query_t q = {
	    .server = *server,
	    .qname = zone,
	    .qtype = KNOT_RRTYPE_SOA,
	    .flags = SS_QF_EDNS,
	};
	int ret = ss_engine_query(e, &q, answered, c);
	if (ret != 0) {
		free(c->zone);
		free(c);
	}
	return ret;
}
