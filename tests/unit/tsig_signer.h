/*
 * The server side of TSIG for tests: sign an answer and the messages of a
 * stream after it (RFC 8945 5.3.1; messages may be left unsigned, the next
 * signed one covers them), and forge a TSIG record with any error and an
 * all-zero MAC. Used by the unit tests' responder and the TSIG fuzz target.
 */
#ifndef SOASYNC_TEST_TSIG_SIGNER_H
#define SOASYNC_TEST_TSIG_SIGNER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/libknot.h>

typedef struct {
	uint8_t mac[64]; /* the request's MAC, then the last one signed */
	size_t mac_len;
	bool signed_once;
	uint8_t *unsigned_buf; /* messages left unsigned since, owned */
	size_t unsigned_len;
} tsig_signer_t;

/* A signer for the answer to a query whose MAC was req_mac (none: NULL, 0). */
static inline void tsig_signer_init(tsig_signer_t *s, const uint8_t *req_mac, size_t req_len)
{
	memset(s, 0, sizeof(*s));
	s->mac_len = req_len <= sizeof(s->mac) ? req_len : 0;
	if (s->mac_len > 0) {
		memcpy(s->mac, req_mac, s->mac_len);
	}
}

static inline void tsig_signer_clear(tsig_signer_t *s)
{
	free(s->unsigned_buf);
	s->unsigned_buf = NULL;
}

/* The message (wire, size) goes out unsigned: the next signed one covers it. */
static inline int tsig_skip(tsig_signer_t *s, const uint8_t *wire, size_t size)
{
	uint8_t *all = realloc(s->unsigned_buf, s->unsigned_len + size);
	if (all == NULL) {
		return KNOT_ENOMEM;
	}
	memcpy(all + s->unsigned_len, wire, size);
	s->unsigned_buf = all;
	s->unsigned_len += size;
	return 0;
}

/* Sign the message in wire (*size bytes of max): the first with the request's
 * MAC, later ones as a continuation. Returns 0 or a libknot error. */
static inline int tsig_sign(tsig_signer_t *s, const knot_tsig_key_t *key, uint8_t *wire,
                            size_t *size, size_t max)
{
	uint8_t digest[64];
	size_t dlen = sizeof(digest);
	int ret;
	if (!s->signed_once) {
		ret = knot_tsig_sign(wire, size, max, s->mac_len ? s->mac : NULL, s->mac_len,
		                     digest, &dlen, key, 0, 0);
	} else if ((ret = tsig_skip(s, wire, *size)) == 0) {
		ret = knot_tsig_sign_next(wire, size, max, s->mac, s->mac_len, digest, &dlen, key,
		                          s->unsigned_buf, s->unsigned_len);
		s->unsigned_len = 0;
	}
	if (ret == KNOT_EOK) {
		memcpy(s->mac, digest, dlen);
		s->mac_len = dlen;
		s->signed_once = true;
	}
	return ret;
}

/* Skip a (well-formed, uncompressed) name in wire at off. */
static inline size_t tsig_skip_name(const uint8_t *w, size_t off)
{
	while (w[off] != 0 && (w[off] & 0xc0) == 0) {
		off += 1u + w[off];
	}
	return off + ((w[off] & 0xc0) ? 2 : 1);
}

/* Append a TSIG record for key carrying tsig_error and an all-zero MAC of the
 * algorithm's length: what a server without the key (or a forger) can send.
 * Returns 0 or a libknot error. */
static inline int tsig_forge(const knot_tsig_key_t *key, uint16_t tsig_error, uint8_t *wire,
                             size_t *size, size_t max)
{
	size_t start = *size;
	uint8_t digest[64];
	size_t dlen = sizeof(digest);
	int ret = knot_tsig_sign(wire, size, max, NULL, 0, digest, &dlen, key, 0, 0);
	if (ret != KNOT_EOK) {
		return ret;
	}
	/* owner, type, class, ttl, rdlength; then algorithm, time (6), fudge (2),
	 * MAC size (2), MAC, original ID (2), error (2). */
	size_t off = tsig_skip_name(wire, start) + 10;
	off = tsig_skip_name(wire, off) + 8;
	size_t maclen = knot_wire_read_u16(wire + off);
	memset(wire + off + 2, 0, maclen);
	knot_wire_write_u16(wire + off + 2 + maclen + 2, tsig_error);
	return 0;
}

#endif
