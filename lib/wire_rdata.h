/*
 * Internal: rdata sanity before using libknot's typed accessors.
 *
 * knot_pkt_parse() accepts empty rdata (legal in UPDATE), and the
 * knot_soa_* / knot_ns_name accessors trust the layout, so every rdata from
 * the network is checked here first: the names must be well-formed within
 * the rdata and the fixed fields must fit exactly.
 */
#ifndef SOASYNC_WIRE_RDATA_H
#define SOASYNC_WIRE_RDATA_H

#include <stdbool.h>

#include <libknot/libknot.h>

/* An IN SOA rdata: two names and five 32-bit fields, nothing more. */
bool ss_rdata_soa_ok(const knot_rdata_t *rd);

/* An NS (or other single-name) rdata: one name filling it exactly. */
bool ss_rdata_name_ok(const knot_rdata_t *rd);

#endif
