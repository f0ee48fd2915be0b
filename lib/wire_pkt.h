/*
 * Internal: reading answers: the RCODE an answer stands for, and RRsets out
 * of parsed packets. knot_pkt_parse() keeps
 * every record as its own RRset, so an RRset is gathered here.
 */
#ifndef SOASYNC_WIRE_PKT_H
#define SOASYNC_WIRE_PKT_H

#include <libknot/libknot.h>

/*
 * Every record of `type` and class IN in section `sec` (with owner `owner`,
 * any owner when NULL) merged into one new RRset (caller frees with
 * knot_rrset_free), or NULL when there is none (or no memory). Records
 * failing the rdata checks of lib/wire_rdata.h are left out.
 */
knot_rrset_t *ss_pkt_collect(const knot_pkt_t *pkt, knot_section_t sec, uint16_t type,
                             const knot_dname_t *owner);

/* The error field of the answer's TSIG record (0 without one). */
uint16_t ss_pkt_tsig_error(const knot_pkt_t *pkt);

/*
 * The RCODE an answer stands for: the extended RCODE, except that a TSIG
 * record carrying an error makes the answer an error whatever else it says
 * (RFC 8945 5.3: the server answers NOTAUTH; its records are never data):
 * the header's RCODE then, NOTAUTH when the header claims NOERROR.
 */
uint16_t ss_pkt_rcode(const knot_pkt_t *pkt);

#endif
