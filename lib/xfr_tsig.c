/*
 * TSIG verification of answers and streams: see xfr_tsig.h.
 */
#include <stdlib.h>
#include <string.h>

#include <soasync/error.h>

#include "wire_pkt.h"
#include "xfr_tsig.h"

#define UNSIGNED_MAX 99

int ss_tsig_check_answer(const knot_tsig_key_t *key, const uint8_t *req_mac, size_t req_len,
                         const knot_pkt_t *pkt, bool *verified)
{
	*verified = false;
	if (pkt->tsig_rr == NULL) {
		uint8_t rc = knot_wire_get_rcode(pkt->wire);
		return rc != KNOT_RCODE_NOERROR && rc != KNOT_RCODE_NXDOMAIN ? 0 : SS_ETSIG;
	}
	if (ss_pkt_tsig_error(pkt) != 0) {
		return 0;
	}
	int ret =
	    knot_tsig_client_check(pkt->tsig_rr, pkt->wire, pkt->size, req_mac, req_len, key, 0);
	*verified = ret == KNOT_EOK;
	return *verified ? 0 : SS_ETSIG;
}

void ss_tsig_stream_init(ss_tsig_stream_t *t, const knot_tsig_key_t *key, const uint8_t *req_mac,
                         size_t req_len)
{
	memset(t, 0, sizeof(*t));
	t->key = key;
	t->mac_len = req_len <= sizeof(t->mac) ? req_len : 0;
	memcpy(t->mac, req_mac, t->mac_len);
}

static int keep_unsigned(ss_tsig_stream_t *t, const knot_pkt_t *pkt)
{
	uint8_t *grown = realloc(t->unsigned_buf, t->unsigned_len + pkt->size);
	if (grown == NULL) {
		return SS_ENOMEM;
	}
	memcpy(grown + t->unsigned_len, pkt->wire, pkt->size);
	t->unsigned_buf = grown;
	t->unsigned_len += pkt->size;
	return 0;
}

/* A signed message after the first: its MAC covers the unsigned ones before it. */
static int verify_next(ss_tsig_stream_t *t, const knot_pkt_t *pkt)
{
	int ret = keep_unsigned(t, pkt);
	if (ret != 0) {
		return ret;
	}
	ret = knot_tsig_client_check_next(pkt->tsig_rr, t->unsigned_buf, t->unsigned_len, t->mac,
	                                  t->mac_len, t->key, 0);
	t->unsigned_len = 0;
	t->unsigned_msgs = 0;
	return ret == KNOT_EOK ? 0 : SS_ETSIG;
}

int ss_tsig_stream_next(ss_tsig_stream_t *t, const knot_pkt_t *pkt)
{
	int ret;
	if (t->msgs++ == 0) {
		ret = ss_tsig_check_answer(t->key, t->mac, t->mac_len, pkt, &t->first_verified);
	} else if (pkt->tsig_rr == NULL) {
		return ++t->unsigned_msgs > UNSIGNED_MAX ? SS_ETSIG : keep_unsigned(t, pkt);
	} else if (ss_pkt_tsig_error(pkt) != 0) {
		return SS_ETSIG; /* an error inside a stream: never data */
	} else {
		ret = verify_next(t, pkt);
	}
	if (ret == 0 && pkt->tsig_rr != NULL) {
		size_t len = knot_tsig_rdata_mac_length(pkt->tsig_rr);
		if (len > sizeof(t->mac)) {
			return SS_ETSIG;
		}
		memcpy(t->mac, knot_tsig_rdata_mac(pkt->tsig_rr), len);
		t->mac_len = len;
	}
	return ret;
}

int ss_tsig_stream_end(const ss_tsig_stream_t *t)
{
	return t->unsigned_msgs > 0 ? SS_ETSIG : 0;
}

void ss_tsig_stream_clear(ss_tsig_stream_t *t)
{
	free(t->unsigned_buf);
	t->unsigned_buf = NULL;
	t->unsigned_len = 0;
}
