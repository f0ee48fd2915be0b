/*
 * Internal: reading RRsets out of parsed packets. knot_pkt_parse() keeps
 * every record as its own RRset, so an RRset is gathered here.
 */
#ifndef SOASYNC_PKTUTIL_H
#define SOASYNC_PKTUTIL_H

#include <libknot/libknot.h>

/*
 * Every record of `type` and class IN in section `sec` (with owner `owner`,
 * any owner when NULL) merged into one new RRset (caller frees with
 * knot_rrset_free), or NULL when there is none (or no memory). Records
 * failing the rdata checks of lib/rrcheck.h are left out.
 */
knot_rrset_t *ss_pkt_collect(const knot_pkt_t *pkt, knot_section_t sec, uint16_t type,
                             const knot_dname_t *owner);

#endif
