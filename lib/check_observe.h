/*
 * Internal: turning one answer into a server observation. Shared by the
 * check run (every server's SOA, the CHAOS version) and the content phase
 * (the candidates' SOA), and reached by the response fuzz target. Reads
 * untrusted packets only through libknot's parsed form and the rdata checks
 * of lib/wire_rdata.h.
 */
#ifndef SOASYNC_CHECK_OBSERVE_H
#define SOASYNC_CHECK_OBSERVE_H

#include <libknot/libknot.h>

#include <soasync/check.h>
#include <soasync/engine.h>

/* Fill s (rtt, rcode, AA, kind, SOA, NSID, EXPIRE, detail) from one response
 * to "zone SOA". s owns what it gets; ss_server_obs_clear() frees it. */
void ss_obs_from_soa_response(ss_server_obs_t *s, const knot_dname_t *zone,
                              const ss_response_t *resp);

/* The first record of `type` in section sec, in the class of the question
 * (IN, or CH for version queries), with that owner (any when NULL); SOA
 * records only when their rdata checks out. NULL when there is none. */
const knot_rrset_t *ss_obs_section_find(const knot_pkt_t *pkt, knot_section_t sec, uint16_t type,
                                        const knot_dname_t *owner);

/* "REFUSED" etc.; "RCODE?" for codes libknot does not name. */
const char *ss_obs_rcode_name(int rcode);

#endif
