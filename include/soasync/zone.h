/*
 * soasync: the zone model.
 *
 * A zone is a set of resource records in canonical form (RFC 4034 6.2:
 * owner and the domain names inside rdata of the RFC 4034 types lower-cased,
 * no compression), sorted in canonical order (RFC 4034 6.1 for owners, then
 * type, then rdata as left-justified unsigned octet sequences) without
 * duplicates. Formatting never counts: the same records written with other
 * relative names, case, TTL notation, order or comments give the same zone.
 *
 * Zones are built from a master file (libzscanner) or record by record (a
 * zone transfer), then frozen with ss_zone_finish(); after that they are
 * read-only and can be compared, digested and iterated.
 *
 * Memory: records live in one arena in wire form plus an index; about
 * (wire size + 16) bytes per record.
 */
#ifndef SOASYNC_ZONE_H
#define SOASYNC_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libknot/libknot.h>

#include <soasync/api.h>

typedef struct ss_zone ss_zone_t;

/* Where loading a master file failed. */
typedef struct {
	char file[512];    /* the file (or $INCLUDEd file) with the error */
	uint64_t line;     /* 1-based, 0 when not known */
	char message[256]; /* one line, no trailing newline */
} ss_zone_error_t;

/* One record, borrowed from the zone (valid while the zone lives). */
typedef struct {
	const knot_dname_t *owner; /* canonical (lower case) */
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	const uint8_t *rdata;      /* canonical wire form */
	uint16_t rdlen;
} ss_rr_t;

/* A new empty zone for origin (copied). NULL on SS_ENOMEM. */
SS_API ss_zone_t *ss_zone_new(const knot_dname_t *origin);

SS_API void ss_zone_free(ss_zone_t *z);

SS_API const knot_dname_t *ss_zone_origin(const ss_zone_t *z);

/*
 * Add one record (before ss_zone_finish). The rdata is in wire form as it
 * came (from a transfer or the scanner); it is canonicalized here. Records
 * outside the origin are refused with SS_EINVAL.
 * Returns 0, SS_EINVAL (malformed rdata, out of zone), SS_ENOMEM, SS_ESTATE.
 */
SS_API int ss_zone_add(ss_zone_t *z, const knot_dname_t *owner, uint16_t type, uint16_t rclass,
                       uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);

/* Add every record of a libknot RRset (as ss_zone_add). */
SS_API int ss_zone_add_rrset(ss_zone_t *z, const knot_rrset_t *rrset);

/*
 * Freeze: sort, drop duplicates (same owner, type, class, rdata: the first
 * TTL wins, as RFC 2181 5.2 wants one TTL per RRset), find the SOA.
 * Returns 0, SS_ENOSOA (no SOA at the origin), SS_EMULTISOA, SS_ENOMEM.
 * The zone stays usable after SS_ENOSOA/SS_EMULTISOA for diffs.
 */
SS_API int ss_zone_finish(ss_zone_t *z);

/*
 * Load a master file. origin may be NULL: then $ORIGIN or the file name
 * ("example.com.zone", "db.example.com", "example.com") gives it.
 * default_ttl applies before any $TTL (3600 when 0). $INCLUDE is followed.
 * On error returns SS_EPARSE / SS_EIO / SS_ENOMEM / SS_ENOSOA / SS_EMULTISOA
 * and fills err (may be NULL). On success *out is a finished zone.
 */
SS_API int ss_zone_load_file(const char *path, const knot_dname_t *origin, uint32_t default_ttl,
                             ss_zone_t **out, ss_zone_error_t *err);

/* Same from a string (name used in error messages). */
SS_API int ss_zone_load_string(const char *text, size_t len, const char *name,
                               const knot_dname_t *origin, uint32_t default_ttl, ss_zone_t **out,
                               ss_zone_error_t *err);

/* Guess the origin from a file name; returns 0 or SS_ENOTFOUND. */
SS_API int ss_zone_origin_from_filename(const char *path, knot_dname_storage_t out);

/* Number of records (after finish). */
SS_API size_t ss_zone_count(const ss_zone_t *z);

/* Record i in canonical order (0 <= i < count), after finish. */
SS_API void ss_zone_rr(const ss_zone_t *z, size_t i, ss_rr_t *out);

/* The SOA serial; returns 0 or SS_ENOSOA. */
SS_API int ss_zone_serial(const ss_zone_t *z, uint32_t *serial);

/* The SOA record; returns 0 or SS_ENOSOA. */
SS_API int ss_zone_soa(const ss_zone_t *z, ss_rr_t *out);

/* Index of the first record with this owner and type, or -1. Binary search. */
SS_API long ss_zone_find(const ss_zone_t *z, const knot_dname_t *owner, uint16_t type);

/*
 * Content digest: SHA-384 over the canonical records with the SOA serial
 * taken out (set to 0), so the same data under another serial has the same
 * digest. With ignore_ttl, TTLs are left out as well. out: 48 bytes.
 */
#define SS_DIGEST_LEN 48
SS_API int ss_zone_digest(const ss_zone_t *z, bool ignore_ttl, uint8_t out[SS_DIGEST_LEN]);

/* Lower-case hex of a digest into buf (2 * SS_DIGEST_LEN + 1). */
SS_API const char *ss_digest_hex(const uint8_t d[SS_DIGEST_LEN], char *buf);

/*
 * ZONEMD (RFC 8976), scheme SIMPLE (1), hash SHA-384 (1): compute the
 * digest of the zone as RFC 8976 section 3 says (ZONEMD RRs at the apex and
 * their RRSIGs excluded, SOA serial included). out: 48 bytes.
 */
SS_API int ss_zone_zonemd_compute(const ss_zone_t *z, uint8_t out[SS_DIGEST_LEN]);

typedef enum {
	SS_ZONEMD_ABSENT = 0,   /* no ZONEMD at the apex */
	SS_ZONEMD_VALID,        /* a SIMPLE/SHA-384 ZONEMD matches, serial matches */
	SS_ZONEMD_INVALID,      /* present but no supported one matches */
	SS_ZONEMD_UNSUPPORTED,  /* present, only unsupported schemes/algorithms */
} ss_zonemd_status_t;

/* Verify the apex ZONEMD RRset; detail (may be NULL) gets a one-line reason. */
SS_API ss_zonemd_status_t ss_zone_zonemd_verify(const ss_zone_t *z, char *detail, size_t len);

/* Diff of two finished zones in canonical order. side: -1 only in a, +1 only in b. */
typedef int (*ss_diff_cb)(int side, const ss_zone_t *z, size_t index, void *arg);

/*
 * Call cb for every record only in a (side -1) or only in b (side +1), in
 * canonical order. With ignore_ttl, records differing only in TTL are equal.
 * A non-zero return from cb stops the diff and is returned.
 * Returns 0 or cb's value; *ndiff (may be NULL) gets the number of calls.
 */
SS_API int ss_zone_diff(const ss_zone_t *a, const ss_zone_t *b, bool ignore_ttl, ss_diff_cb cb,
                        void *arg, size_t *ndiff);

/* Presentation form of record i ("owner TTL CLASS TYPE rdata", no newline)
 * into buf; returns the length or a negative SS_E* (SS_ELIMIT: too small). */
SS_API int ss_zone_rr_to_text(const ss_zone_t *z, size_t i, char *buf, size_t len);

#endif
