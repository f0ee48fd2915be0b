/*
 * Fuzz target: a TSIG-signed zone transfer stream from an untrusted server.
 * The input is a first byte choosing AXFR or IXFR, then per message a
 * control byte, a 2-byte length and the message. The target plays the
 * server's part of TSIG as the control byte says (sign with the key, leave
 * unsigned, forge a TSIG error with an all-zero MAC, or sign and flip a MAC
 * byte), then runs the client's checks: TSIG verification of the stream
 * (lib/xfr_tsig.c, as the engine does) and the transfer checker. Signing at
 * run time keeps the corpus valid whatever the clock says.
 *
 * Invariant (RFC 8945 5.3): no record is taken as data, and no transfer
 * completes, unless the first message's MAC verified.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/zone.h>

#include "tsig_signer.h"
#include "xfr_int.h"
#include "xfr_tsig.h"

#define KEY "hmac-sha256:xfr-key.:c29hc3luYy10ZXN0LWtleS1zb2FzeW5jLXRlc3Qta2V5MTI="

typedef struct {
	ss_zone_t *zone;
	const ss_tsig_stream_t *t;
} sink_t;

static int add(const knot_rrset_t *rr, void *arg)
{
	sink_t *s = arg;
	if (!s->t->first_verified) {
		abort(); /* data from an answer that was not verified */
	}
	return ss_zone_add_rrset(s->zone, rr);
}

/* The server's part for one message, as ctrl says. */
static void server_side(tsig_signer_t *sg, const knot_tsig_key_t *key, uint8_t ctrl, uint8_t *wire,
                        size_t *len)
{
	static const uint16_t errors[4] = {KNOT_RCODE_BADSIG, KNOT_RCODE_BADKEY, KNOT_RCODE_BADTIME,
	                                   0};
	size_t before = *len;
	switch (ctrl & 3) {
	case 0:
		tsig_sign(sg, key, wire, len, KNOT_WIRE_MAX_PKTSIZE);
		break;
	case 1:
		tsig_skip(sg, wire, *len);
		break;
	case 2:
		tsig_forge(key, errors[(ctrl >> 2) & 3], wire, len, KNOT_WIRE_MAX_PKTSIZE);
		break;
	default:
		if (tsig_sign(sg, key, wire, len, KNOT_WIRE_MAX_PKTSIZE) == 0 &&
		    *len > before + 40) {
			wire[*len - 7 - (ctrl >> 2) % 32] ^= 0x01; /* a byte of the MAC */
		}
		break;
	}
}

/* One message through the client's checks: 0 read on, 1 done, <0 stop. */
static int client_side(ss_tsig_stream_t *t, ss_xfr_stream_t *x, uint8_t *wire, size_t len)
{
	knot_pkt_t *pkt = knot_pkt_new(wire, (uint16_t)len, NULL);
	int ret = -1;
	if (pkt != NULL && knot_pkt_parse(pkt, 0) == KNOT_EOK) {
		ret = ss_tsig_stream_next(t, pkt);
		ret = ret == 0 ? ss_xfr_stream_message(pkt, x) : ret;
		if (ret == 1 && ss_tsig_stream_end(t) != 0) {
			ret = -1;
		}
	}
	knot_pkt_free(pkt);
	return ret;
}

static int run(const uint8_t *data, size_t size, const knot_tsig_key_t *key, ss_zone_t *zone)
{
	static const uint8_t req_mac[32] = {0x5a, 0x5a, 0x5a, 0x5a};
	knot_dname_storage_t origin;
	knot_dname_from_str(origin, "example.test.", sizeof(origin));
	ss_xfr_opts_t o = {.zone = origin,
	                   .type = (data[0] & 1) ? KNOT_RRTYPE_IXFR : 0,
	                   .ixfr_serial = 5,
	                   .max_records = 100000,
	                   .tsig = key};
	ss_tsig_stream_t t;
	ss_tsig_stream_init(&t, key, req_mac, sizeof(req_mac));
	tsig_signer_t sg;
	tsig_signer_init(&sg, req_mac, sizeof(req_mac));
	sink_t sink = {zone, &t};
	ss_xfr_stream_t x;
	uint8_t *wire = malloc(KNOT_WIRE_MAX_PKTSIZE);
	int ret = (wire != NULL && ss_xfr_stream_init(&x, &o, add, &sink) == 0) ? 0 : -1;
	for (size_t pos = 1; ret == 0 && pos + 3 <= size;) {
		uint8_t ctrl = data[pos];
		size_t len = knot_wire_read_u16(data + pos + 1);
		pos += 3;
		if (len > size - pos || len < KNOT_WIRE_HEADER_SIZE) {
			break;
		}
		memcpy(wire, data + pos, len);
		pos += len;
		server_side(&sg, key, ctrl, wire, &len);
		ret = client_side(&t, &x, wire, len);
	}
	if (ret == 1 && !t.first_verified) {
		abort(); /* a transfer completed without a verified MAC */
	}
	if (wire != NULL) {
		ss_xfr_stream_clear(&x);
	}
	free(wire);
	tsig_signer_clear(&sg);
	ss_tsig_stream_clear(&t);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) {
		return 0;
	}
	knot_tsig_key_t key;
	if (knot_tsig_key_init_str(&key, KEY) != KNOT_EOK) {
		abort();
	}
	knot_dname_storage_t origin;
	knot_dname_from_str(origin, "example.test.", sizeof(origin));
	ss_zone_t *zone = ss_zone_new(origin);
	if (zone != NULL && run(data, size, &key, zone) == 1 && ss_zone_finish(zone) == 0) {
		uint8_t d[SS_DIGEST_LEN];
		ss_zone_digest(zone, false, d);
	}
	ss_zone_free(zone);
	knot_tsig_key_deinit(&key);
	return 0;
}
