/*
 * soasync: zone transfers (AXFR, IXFR over TCP) on the query engine, and TSIG
 * keys.
 *
 * A transfer is checked as it streams: the first record must be the zone's
 * SOA, every owner must be in the zone, the AXFR must end with the same SOA,
 * limits on records, bytes and time hold. A refused or failed transfer is a
 * result (error code, RCODE and a one-line detail), never a crash.
 */
#ifndef SOASYNC_XFR_H
#define SOASYNC_XFR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libknot/libknot.h>

#include <soasync/addr.h>
#include <soasync/api.h>
#include <soasync/engine.h>
#include <soasync/zone.h>

typedef struct {
	ss_addr_t server;
	const knot_dname_t *zone;    /* copied */
	uint16_t type;               /* KNOT_RRTYPE_AXFR (default when 0) or IXFR */
	uint32_t ixfr_serial;        /* IXFR: the serial we claim to have */
	const knot_tsig_key_t *tsig; /* borrowed until done; NULL: unsigned */
	size_t max_records;          /* 0: 50,000,000 */
	size_t max_bytes;            /* 0: 4 GiB */
	unsigned idle_ms;            /* no byte for that long (0: engine timeout) */
	unsigned limit_ms;           /* whole transfer (0: the engine's xfr_deadline_ms) */
	bool keep;                   /* rr_cb keeps the records: the transfer shares the
	                              * engine's memory budget (engine.h); set by
	                              * ss_zone_transfer() */
} ss_xfr_opts_t;

typedef enum {
	SS_IXFR_NONE = 0,    /* not an IXFR, or it failed */
	SS_IXFR_INCREMENTAL, /* difference sequences came */
	SS_IXFR_AXFR,        /* the server sent the whole zone instead */
	SS_IXFR_UP_TO_DATE,  /* one SOA, not newer than ours */
	SS_IXFR_SINGLE_SOA,  /* one SOA, newer than ours: the server keeps no history */
} ss_ixfr_kind_t;

typedef struct {
	int error;       /* 0, SS_EREFUSED (an error RCODE: see rcode),
	                  * SS_ETIMEOUT (no byte for idle_ms), SS_EDEADLINE
	                  * (longer than limit_ms), SS_ECONNREFUSED, SS_ECLOSED,
	                  * SS_ENETWORK, SS_ETSIG, SS_EMALFORMED, SS_EXFR
	                  * (a protocol violation: see detail), SS_ELIMIT (too
	                  * large: the engine's memory budget, or max_records) */
	int rcode;       /* RCODE of the first message, -1 if none */
	uint32_t serial; /* of the first SOA, when records > 0 */
	size_t records;  /* records received (both SOAs included) */
	size_t messages;
	size_t bytes; /* rdata + owners, roughly the wire size */
	ss_ixfr_kind_t ixfr;
	bool signed_ok; /* TSIG was used and every message verified */
	uint64_t duration_us;
	char detail[160]; /* one line when error != 0 */
} ss_xfr_result_t;

/*
 * Called for every record of the transfer in order (the closing SOA of an
 * AXFR excluded); the RRset holds one record and is borrowed for the call.
 * Return 0 to go on, a negative SS_E* to abort the transfer with it.
 */
typedef int (*ss_xfr_rr_cb)(const knot_rrset_t *rr, void *arg);
/* Called once at the end; the result is borrowed for the call. */
typedef void (*ss_xfr_done_cb)(const ss_xfr_result_t *res, void *arg);

/* Start a transfer. rr_cb may be NULL (only count). Returns 0 or SS_ENOMEM,
 * SS_EINVAL; done_cb is always called when 0 is returned. */
SS_API int ss_xfr_start(ss_engine_t *e, const ss_xfr_opts_t *opts, ss_xfr_rr_cb rr_cb,
                        ss_xfr_done_cb done_cb, void *arg);

/* Transfers into the zone model --------------------------------------- */

/*
 * Called once: zone is the finished transferred zone (taken by the callee;
 * NULL when the transfer or the zone failed: see res->error, res->detail).
 */
typedef void (*ss_zone_xfr_cb)(ss_zone_t *zone, const ss_xfr_result_t *res, void *arg);

/* Transfer opts->zone (AXFR) into a new zone. Returns as ss_xfr_start. */
SS_API int ss_zone_transfer(ss_engine_t *e, const ss_xfr_opts_t *opts, ss_zone_xfr_cb cb,
                            void *arg);

/* TSIG keys ------------------------------------------------------------- */

/*
 * A key from "[ALG:]NAME:SECRET" (dig -y style; ALG defaults to hmac-sha256).
 * Returns 0 or SS_EINVAL; key must be freed with knot_tsig_key_deinit().
 */
SS_API int ss_tsig_from_string(const char *spec, knot_tsig_key_t *key);

/*
 * A key from a BIND key file (key "NAME" { algorithm ALG; secret "B64"; };),
 * as tsig-keygen and rndc-confgen write it; the first key in the file.
 * Returns 0, SS_EIO or SS_EPARSE (err gets "line N: why"); free with
 * knot_tsig_key_deinit().
 */
SS_API int ss_tsig_from_bind_file(const char *path, knot_tsig_key_t *key, char *err, size_t errlen);

#endif
