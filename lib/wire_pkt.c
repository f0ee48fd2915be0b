#include "wire_pkt.h"
#include "wire_rdata.h"

static bool rdata_ok(uint16_t type, const knot_rdata_t *rd)
{
	switch (type) {
	case KNOT_RRTYPE_SOA:
		return ss_rdata_soa_ok(rd);
	case KNOT_RRTYPE_NS:
	case KNOT_RRTYPE_CNAME:
		return ss_rdata_name_ok(rd);
	case KNOT_RRTYPE_A:
		return rd->len == 4;
	case KNOT_RRTYPE_AAAA:
		return rd->len == 16;
	default:
		return true;
	}
}

knot_rrset_t *ss_pkt_collect(const knot_pkt_t *pkt, knot_section_t sec, uint16_t type,
                             const knot_dname_t *owner)
{
	const knot_pktsection_t *s = knot_pkt_section(pkt, sec);
	knot_rrset_t *out = NULL;
	for (uint16_t i = 0; i < s->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(s, i);
		if (rr->type != type || rr->rclass != KNOT_CLASS_IN ||
		    (owner != NULL && !knot_dname_is_case_equal(rr->owner, owner))) {
			continue;
		}
		knot_rdata_t *rd = rr->rrs.rdata;
		for (uint16_t j = 0; j < rr->rrs.count; j++, rd = knot_rdataset_next(rd)) {
			if (!rdata_ok(type, rd)) {
				continue;
			}
			if (out == NULL) {
				out = knot_rrset_new(rr->owner, type, KNOT_CLASS_IN, rr->ttl, NULL);
				if (out == NULL) {
					return NULL;
				}
			}
			if (knot_rdataset_add(&out->rrs, rd, NULL) != KNOT_EOK) {
				knot_rrset_free(out, NULL);
				return NULL;
			}
		}
	}
	return out;
}

uint16_t ss_pkt_tsig_error(const knot_pkt_t *pkt)
{
	return pkt->tsig_rr != NULL ? knot_tsig_rdata_error(pkt->tsig_rr) : 0;
}

uint16_t ss_pkt_rcode(const knot_pkt_t *pkt)
{
	if (ss_pkt_tsig_error(pkt) == 0) {
		return knot_pkt_ext_rcode(pkt);
	}
	uint8_t rc = knot_wire_get_rcode(pkt->wire);
	return rc != KNOT_RCODE_NOERROR ? rc : KNOT_RCODE_NOTAUTH;
}
