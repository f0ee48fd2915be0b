/*
 * soasync: NOTIFY (RFC 1996) with the zone's current SOA in the answer
 * section, retried until acknowledged or a deadline passes.
 */
#ifndef SOASYNC_NOTIFY_H
#define SOASYNC_NOTIFY_H

#include <stdint.h>

#include <libknot/libknot.h>

#include <soasync/addr.h>
#include <soasync/api.h>
#include <soasync/check.h>
#include <soasync/engine.h>

typedef enum {
	SS_NOTIFY_ACKED,    /* a NOERROR answer (with a key: its MAC verified) */
	SS_NOTIFY_REFUSED,  /* an error answer (see rcode): an error RCODE, or a TSIG
	                     * record with an error, whatever the header says */
	SS_NOTIFY_NOANSWER, /* nothing until the deadline (see error) */
} ss_notify_status_t;

typedef struct {
	ss_addr_t target;
	ss_notify_status_t status;
	int rcode;         /* when REFUSED: the RCODE (NOTAUTH for TSIG errors, also
	                    * when the header claimed NOERROR) */
	int tsig_error;    /* when REFUSED: the server's TSIG error (BADSIG...), or 0 */
	int error;         /* when NOANSWER: the last SS_E* */
	unsigned attempts; /* queries submitted (each with the engine's tries) */
	uint32_t rtt_us;
} ss_notify_result_t;

typedef void (*ss_notify_cb)(const ss_notify_result_t *res, void *arg);

/*
 * Notify target about zone, carrying soa (copied) in the answer section,
 * signed with tsig (borrowed until cb) when not NULL. Resubmits until an
 * answer comes or deadline_ms passed. Returns 0 (cb will be called) or
 * SS_ENOMEM / SS_EINVAL.
 */
SS_API int ss_notify_send(ss_engine_t *e, const knot_dname_t *zone, const knot_rrset_t *soa,
                          const ss_addr_t *target, const knot_tsig_key_t *tsig,
                          unsigned deadline_ms, ss_notify_cb cb, void *arg);

/*
 * Notify each of n targets about res's zone (as ss_notify_send), with the
 * SOA the reference server serves. cb runs once per target (from inside
 * this call for a target that could not be sent to: NOANSWER, SS_ENOMEM).
 * Returns 0, SS_ENOSOA (no server served the zone's SOA: nothing to send),
 * SS_ENOMEM.
 */
SS_API int ss_notify_zone(ss_engine_t *e, const ss_zone_result_t *res, const ss_addr_t *targets,
                          size_t n, const knot_tsig_key_t *tsig, unsigned deadline_ms,
                          ss_notify_cb cb, void *arg);

SS_API const char *ss_notify_status_name(ss_notify_status_t st);

/* "BADSIG", "BADKEY", "BADTIME", "BADTRUNC" or NULL. */
SS_API const char *ss_tsig_error_name(int tsig_error);

#endif
