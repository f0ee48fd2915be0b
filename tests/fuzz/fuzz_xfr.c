/*
 * Fuzz target: a zone transfer stream from an untrusted server. The input is
 * a first byte choosing AXFR or IXFR, then TCP framing (2-byte length, then
 * the message) for each message. Every message goes through libknot's parser
 * and the stream checker; accepted records are built into a zone, which is
 * finished and digested.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/zone.h>

#include "xfr_int.h"

static int add(const knot_rrset_t *rr, void *arg)
{
	return ss_zone_add_rrset(arg, rr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) {
		return 0;
	}
	knot_dname_storage_t origin;
	knot_dname_from_str(origin, "example.test.", sizeof(origin));
	ss_zone_t *zone = ss_zone_new(origin);
	ss_xfr_opts_t o = {.zone = origin,
	                   .type = (data[0] & 1) ? KNOT_RRTYPE_IXFR : 0,
	                   .ixfr_serial = 5,
	                   .max_records = 100000};
	ss_xfr_stream_t x;
	if (zone == NULL || ss_xfr_stream_init(&x, &o, add, zone) != 0) {
		ss_zone_free(zone);
		return 0;
	}
	int ret = 0;
	size_t pos = 1;
	while (ret == 0 && pos + 2 <= size) {
		size_t len = knot_wire_read_u16(data + pos);
		pos += 2;
		if (len > size - pos || len < KNOT_WIRE_HEADER_SIZE) {
			break;
		}
		uint8_t *wire = malloc(len);
		memcpy(wire, data + pos, len);
		pos += len;
		knot_pkt_t *pkt = knot_pkt_new(wire, (uint16_t)len, NULL);
		if (pkt != NULL && knot_pkt_parse(pkt, 0) == KNOT_EOK) {
			ret = ss_xfr_stream_message(pkt, &x);
		} else {
			ret = -1;
		}
		knot_pkt_free(pkt);
		free(wire);
	}
	if (ret == 1 && ss_zone_finish(zone) == 0) {
		uint8_t d[SS_DIGEST_LEN];
		uint32_t serial;
		ss_zone_digest(zone, false, d);
		if (ss_zone_serial(zone, &serial) != 0) {
			abort(); /* a complete transfer always yields a zone with its SOA */
		}
	}
	ss_xfr_stream_clear(&x);
	ss_zone_free(zone);
	return 0;
}
