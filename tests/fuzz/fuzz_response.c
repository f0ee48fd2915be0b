/*
 * Fuzz target: the handling of an untrusted response to "example.test. SOA":
 * libknot parsing, matching against the query, and turning the answer into
 * an observation (serial, AA, referral, NSID, EXPIRE). The query ID is taken
 * from the input so that matching answers are reached.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_observe.h"
#include "wire_answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > KNOT_WIRE_MAX_PKTSIZE) {
		return 0;
	}
	uint8_t *wire = malloc(size);
	if (wire == NULL) {
		return 0;
	}
	memcpy(wire, data, size);
	knot_dname_storage_t zone;
	knot_dname_from_str(zone, "example.test.", sizeof(zone));
	ss_qkey_t k = {zone, KNOT_RRTYPE_SOA, KNOT_CLASS_IN, knot_wire_read_u16(data), 0};
	knot_pkt_t *pkt = NULL;
	if (ss_answer_parse(&k, wire, size, &pkt) == SS_ANSWER_OK) {
		ss_response_t r = {
		    .pkt = pkt,
		    .rcode = knot_pkt_ext_rcode(pkt),
		    .aa = knot_wire_get_aa(pkt->wire),
		    .tc = knot_wire_get_tc(pkt->wire),
		};
		ss_server_obs_t s;
		memset(&s, 0, sizeof(s));
		ss_obs_from_soa_response(&s, zone, &r);
		if (s.has_soa && (s.soa.mname == NULL || s.soa.rname == NULL)) {
			abort(); /* an observation with a serial always has its SOA names */
		}
		ss_server_obs_clear(&s);
		knot_pkt_free(pkt);
	}
	free(wire);
	return 0;
}
