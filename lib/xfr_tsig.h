/*
 * Internal: TSIG verification of answers (RFC 8945 5.3), for one answer and
 * for a stream of messages (a zone transfer), apart from the engine so the
 * TSIG fuzz target can drive it.
 *
 * Only a verified MAC makes a message signed. Error answers are passed on as
 * errors, whose records are never data: an unsigned error RCODE, and any
 * answer whose TSIG record carries an error (BADSIG and BADKEY come without
 * a MAC, BADTIME signed; ss_pkt_rcode() makes it an error answer whatever
 * the header says). Anything else unsigned, or with a MAC that does not
 * verify, is refused (SS_ETSIG).
 */
#ifndef SOASYNC_XFR_TSIG_H
#define SOASYNC_XFR_TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libknot/libknot.h>

#define SS_TSIG_MAC_MAX 64

/*
 * The answer pkt to a query signed with key whose MAC was req_mac: 0 to take
 * it (*verified: its MAC verified; false for an error answer), SS_ETSIG to
 * drop it.
 */
int ss_tsig_check_answer(const knot_tsig_key_t *key, const uint8_t *req_mac, size_t req_len,
                         const knot_pkt_t *pkt, bool *verified);

/* A stream: messages after the first may be unsigned, up to 99 in a row; the
 * next signed one covers them all (RFC 8945 5.3.1). */
typedef struct {
	const knot_tsig_key_t *key;   /* borrowed */
	uint8_t mac[SS_TSIG_MAC_MAX]; /* the request's MAC, then the last verified one */
	size_t mac_len;
	unsigned msgs;          /* messages checked */
	bool first_verified;    /* the first message's MAC verified */
	unsigned unsigned_msgs; /* unsigned messages since the last signed one */
	uint8_t *unsigned_buf;  /* and their bytes, owned */
	size_t unsigned_len;
} ss_tsig_stream_t;

void ss_tsig_stream_init(ss_tsig_stream_t *t, const knot_tsig_key_t *key, const uint8_t *req_mac,
                         size_t req_len);

/* The next message: 0 to take it, SS_ETSIG, SS_ENOMEM. The first message is
 * checked as an answer (it may be an error answer); later ones must verify
 * or be unsigned, and carry no TSIG error. */
int ss_tsig_stream_next(ss_tsig_stream_t *t, const knot_pkt_t *pkt);

/* At the end of the stream: 0, or SS_ETSIG when its last message was unsigned. */
int ss_tsig_stream_end(const ss_tsig_stream_t *t);

void ss_tsig_stream_clear(ss_tsig_stream_t *t);

#endif
