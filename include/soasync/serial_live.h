/*
 * soasync: the serial a server serves now, for 'serial bump --live': one
 * SOA query on the engine, judged strictly, since the number goes into a
 * zone file. Anything doubtful (an error RCODE, no AA, no SOA for the zone,
 * an SOA of another class, malformed rdata, SOAs with different serials)
 * is a refusal with the reason in words, never a serial.
 */
#ifndef SOASYNC_SERIAL_LIVE_H
#define SOASYNC_SERIAL_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include <libknot/libknot.h>

#include <soasync/addr.h>
#include <soasync/api.h>
#include <soasync/engine.h>

/* What a server answered to "ZONE SOA" (bump --live). */
typedef enum {
	SS_LIVE_OK = 0,    /* NOERROR, AA, the zone's IN SOA, well-formed: serial valid */
	SS_LIVE_NO_ANSWER, /* time-out, connection refused, malformed packet...: error */
	SS_LIVE_RCODE,     /* an RCODE other than NOERROR */
	SS_LIVE_NOT_AUTH,  /* no AA */
	SS_LIVE_NO_SOA,    /* no SOA for the zone in the answer */
	SS_LIVE_BAD_SOA,   /* an SOA for the zone of another class, malformed, or several
	                    * with different serials */
} ss_live_status_t;

typedef struct {
	ss_live_status_t status;
	int error;        /* SS_E* when NO_ANSWER */
	int rcode;        /* -1 without an answer */
	bool aa;          /* AA of the answer */
	uint32_t serial;  /* valid when OK */
	char detail[128]; /* why not OK, one line ("" when OK) */
} ss_live_soa_t;

/* Judge one response to "zone SOA" (pure: no I/O; for tests too). */
SS_API void ss_live_soa_judge(const knot_dname_t *zone, const ss_response_t *resp,
                              ss_live_soa_t *out);

typedef void (*ss_live_soa_cb)(const ss_live_soa_t *res, void *arg);

/*
 * Ask server for zone's SOA on e (EDNS; TCP when truncated; the engine's
 * timeout and tries) and judge the answer; cb runs exactly once, from the
 * loop. Returns 0, SS_EINVAL, SS_ENOMEM.
 */
SS_API int ss_live_soa_query(ss_engine_t *e, const ss_addr_t *server, const knot_dname_t *zone,
                             ss_live_soa_cb cb, void *arg);

#endif
