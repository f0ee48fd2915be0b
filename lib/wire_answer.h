/*
 * Internal: deciding whether a datagram or TCP message answers a query.
 * Shared by the engine's UDP and TCP paths and the response fuzz target.
 */
#ifndef SOASYNC_WIRE_ANSWER_H
#define SOASYNC_WIRE_ANSWER_H

#include <stdbool.h>
#include <stdint.h>

#include <libknot/libknot.h>

/* What identifies a query's answer. */
typedef struct {
	const knot_dname_t *qname;
	uint16_t qtype, qclass, id;
	uint8_t opcode;
} ss_qkey_t;

typedef enum {
	SS_ANSWER_OK,        /* parsed, and it answers the query */
	SS_ANSWER_TC,        /* truncated answer to the query: retry over TCP */
	SS_ANSWER_MISMATCH,  /* parsed, but not an answer to this query */
	SS_ANSWER_MALFORMED, /* does not parse */
} ss_answer_verdict_t;

/*
 * Parse wire (borrowed, must outlive *out) with libknot and judge it against
 * k. On SS_ANSWER_OK *out is the parsed packet (caller frees with
 * knot_pkt_free); otherwise *out is NULL.
 */
ss_answer_verdict_t ss_answer_parse(const ss_qkey_t *k, uint8_t *wire, size_t len,
                                    knot_pkt_t **out);

/* QR set, same ID and opcode, same question (name case-insensitively); an
 * error answer may come without a question (many servers send FORMERR so). */
bool ss_answer_matches(const ss_qkey_t *k, const knot_pkt_t *pkt);

#endif
