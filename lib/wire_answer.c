#include "wire_answer.h"

static bool is_error_rcode(uint8_t rcode)
{
	return rcode != KNOT_RCODE_NOERROR && rcode != KNOT_RCODE_NXDOMAIN;
}

bool ss_answer_matches(const ss_qkey_t *k, const knot_pkt_t *pkt)
{
	if (!knot_wire_get_qr(pkt->wire) || knot_wire_get_opcode(pkt->wire) != k->opcode ||
	    knot_wire_get_id(pkt->wire) != k->id) {
		return false;
	}
	uint16_t qd = knot_wire_get_qdcount(pkt->wire);
	if (qd == 0) {
		return is_error_rcode(knot_wire_get_rcode(pkt->wire));
	}
	return qd == 1 && knot_pkt_qtype(pkt) == k->qtype && knot_pkt_qclass(pkt) == k->qclass &&
	       knot_dname_is_case_equal(knot_pkt_qname(pkt), k->qname);
}

ss_answer_verdict_t ss_answer_parse(const ss_qkey_t *k, uint8_t *wire, size_t len, knot_pkt_t **out)
{
	*out = NULL;
	if (len < KNOT_WIRE_HEADER_SIZE || len > KNOT_WIRE_MAX_PKTSIZE) {
		return SS_ANSWER_MALFORMED;
	}
	knot_pkt_t *pkt = knot_pkt_new(wire, (uint16_t)len, NULL);
	if (pkt == NULL) {
		return SS_ANSWER_MALFORMED;
	}
	if (knot_pkt_parse(pkt, 0) == KNOT_EOK) {
		if (!ss_answer_matches(k, pkt)) {
			knot_pkt_free(pkt);
			return SS_ANSWER_MISMATCH;
		}
		*out = pkt;
		return SS_ANSWER_OK;
	}
	/* A truncated answer may not parse past its question. */
	knot_pkt_free(pkt);
	pkt = knot_pkt_new(wire, (uint16_t)len, NULL);
	ss_answer_verdict_t v = SS_ANSWER_MALFORMED;
	if (pkt != NULL && knot_pkt_parse_question(pkt) == KNOT_EOK && ss_answer_matches(k, pkt) &&
	    knot_wire_get_tc(pkt->wire)) {
		v = SS_ANSWER_TC;
	}
	knot_pkt_free(pkt);
	return v;
}
