/*
 * soasync: the zone model.
 *
 * A zone is a set of resource records in canonical form (RFC 4034 6.2:
 * owner and the domain names inside rdata of the types listed there
 * lower-cased, but not NSEC's next name, RFC 6840 5.1; no compression), sorted in canonical order
 * (RFC 4034 6.1 for owners, then type, then rdata as left-justified unsigned octet sequences)
 * without duplicates. Formatting never counts: the same records written with other relative names,
 * case, TTL notation, order or comments give the same zone.
 *
 * Zones are built from a master file (libzscanner) or record by record (a
 * zone transfer), then frozen with ss_zone_finish(); after that they are
 * read-only and can be compared, digested and iterated.
 *
 * Memory: records live in one arena in wire form plus an index; about
 * (wire size + 16) bytes per record.
 *
 * Threads: a zone is not locked; distinct zones can be built and loaded in
 * parallel, and a finished zone can be read from many threads.
 */
#ifndef SOASYNC_ZONE_H
#define SOASYNC_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libknot/libknot.h>

#include <soasync/api.h>
#include <soasync/serial.h>

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
	const uint8_t *rdata; /* canonical wire form */
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
 * Load a master file. origin may be NULL: then the owner of the first SOA
 * (absolute, or relative to a $ORIGIN before it) gives it, else the file
 * name ("example.com.zone", "db.example.com", "example.com",
 * "example.com.db", "example.com.signed"; see ss_zone_origin_from_filename).
 * TTLs (RFC 1035 5.1, RFC 2308 4): a record without TTL gets the $TTL in
 * force, else the last TTL written on a record, else default_ttl (3600 when
 * 0, as Knot, NSD and ldns do; BIND takes the SOA minimum; see
 * ss_zone_load_info). $INCLUDE is followed (relative to the including file's directory,
 * regular files only, at most 16 deep). Records outside the origin are
 * skipped and counted (ss_zone_out_of_zone), as RFC 8976 and name servers
 * do. The first syntax error stops the load.
 * On error returns SS_EPARSE / SS_EIO / SS_ENOMEM / SS_ENOSOA / SS_EMULTISOA,
 * sets *out to NULL and fills err (may be NULL): file and line of the error
 * where there is one (line 0 otherwise) and a one-line message. On success
 * *out is a finished zone (the caller frees it).
 */
SS_API int ss_zone_load_file(const char *path, const knot_dname_t *origin, uint32_t default_ttl,
                             ss_zone_t **out, ss_zone_error_t *err);

/* Same from a string of len bytes (no NUL needed). name stands for the file
 * name in error messages and in guessing the origin. $INCLUDE is refused
 * (SS_EPARSE): a string has no directory to resolve it against, and text
 * from elsewhere must not open local files. */
SS_API int ss_zone_load_string(const char *text, size_t len, const char *name,
                               const knot_dname_t *origin, uint32_t default_ttl, ss_zone_t **out,
                               ss_zone_error_t *err);

/*
 * Guess the origin from a file name (its last path component): the suffixes
 * ".signed", ".zone", ".db" and the prefix "db." are taken off, then what is
 * left must be a host-like name ("example.com", "arpa" only when an affix
 * was taken off, "root" -> "."). out gets it in lower case.
 * Returns 0 or SS_ENOTFOUND.
 */
SS_API int ss_zone_origin_from_filename(const char *path, knot_dname_storage_t out);

/* Number of records (after finish). */
SS_API size_t ss_zone_count(const ss_zone_t *z);

/* Record i in canonical order (0 <= i < count), after finish. */
SS_API void ss_zone_rr(const ss_zone_t *z, size_t i, ss_rr_t *out);

/* The SOA serial; returns 0 or SS_ENOSOA. */
SS_API int ss_zone_serial(const ss_zone_t *z, uint32_t *serial);

/* The SOA record (class IN, well-formed); returns 0 or SS_ENOSOA. */
SS_API int ss_zone_soa(const ss_zone_t *z, ss_rr_t *out);

/* The SOA's fields; names borrowed from the zone (canonical form). */
typedef struct {
	const knot_dname_t *mname, *rname;
	uint32_t serial, refresh, retry, expire, minimum;
	uint32_t ttl; /* of the SOA record */
} ss_zone_soa_t;

/* Returns 0 or SS_ENOSOA. */
SS_API int ss_zone_soa_fields(const ss_zone_t *z, ss_zone_soa_t *out);

/* Index of the first record with this owner (any case) and type, or -1.
 * Binary search. */
SS_API long ss_zone_find(const ss_zone_t *z, const knot_dname_t *owner, uint16_t type);

/* Records outside the origin that the loader skipped. */
SS_API size_t ss_zone_out_of_zone(const ss_zone_t *z);

/* Where a loaded zone's name came from. */
typedef enum {
	SS_ZONE_NAME_GIVEN = 0,    /* the origin argument (or a zone built by ss_zone_new) */
	SS_ZONE_NAME_FROM_TEXT,    /* an absolute SOA owner, or a $ORIGIN before the SOA */
	SS_ZONE_NAME_FROM_FILENAME /* neither: guessed from the file name */
} ss_zone_name_source_t;

/* What loading a master file assumed, for warnings. */
typedef struct {
	ss_zone_name_source_t name_source;
	size_t default_ttl_records; /* records that took default_ttl: no $TTL in force
	                             * and no TTL written on a record before them */
	uint32_t default_ttl;       /* the TTL they took */
	size_t generated;           /* records made by $GENERATE */
} ss_zone_load_info_t;

SS_API void ss_zone_load_info(const ss_zone_t *z, ss_zone_load_info_t *out);

/* Where the time of a load went, for benchmarks (seconds, wall clock). */
typedef struct {
	double parse_s; /* scanning plus canonicalizing every record */
	double sort_s;  /* ss_zone_finish: sort and dedupe */
	size_t added;   /* records added, duplicates included */
	size_t bytes;   /* arena bytes in use */
} ss_zone_stats_t;

SS_API void ss_zone_stats(const ss_zone_t *z, ss_zone_stats_t *out);

/* Compare records a[i] and b[j] (of the same or different zones) in
 * canonical order: owner (RFC 4034 6.1), type, class, rdata; TTL not
 * looked at. <0, 0, >0. */
SS_API int ss_zone_rr_cmp(const ss_zone_t *a, size_t i, const ss_zone_t *b, size_t j);

/*
 * Content digest: SHA-384 over the canonical records with the SOA serial
 * taken out (set to 0), so the same data under another serial has the same
 * digest. The apex ZONEMD RRset and its RRSIGs are left out too (they
 * restate the serial). With ignore_ttl, TTLs are left out as well.
 * out: 48 bytes. Returns 0, SS_ESTATE (not finished), SS_ENOMEM.
 */
#define SS_DIGEST_LEN 48
SS_API int ss_zone_digest(const ss_zone_t *z, bool ignore_ttl, uint8_t out[SS_DIGEST_LEN]);

/* Lower-case hex of a digest into buf (2 * SS_DIGEST_LEN + 1). */
SS_API const char *ss_digest_hex(const uint8_t d[SS_DIGEST_LEN], char *buf);

/*
 * ZONEMD (RFC 8976), scheme SIMPLE (1), hash SHA-384 (1): compute the
 * digest of the zone as RFC 8976 section 3 says (ZONEMD RRs at the apex and
 * their RRSIGs excluded, SOA serial included). out: 48 bytes.
 * Returns 0, SS_ESTATE (not finished), SS_ENOMEM.
 */
SS_API int ss_zone_zonemd_compute(const ss_zone_t *z, uint8_t out[SS_DIGEST_LEN]);

typedef enum {
	SS_ZONEMD_ABSENT = 0,  /* no ZONEMD at the apex */
	SS_ZONEMD_VALID,       /* a supported ZONEMD verifies (serial and digest match) */
	SS_ZONEMD_INVALID,     /* none verifies, and a supported one failed */
	SS_ZONEMD_UNSUPPORTED, /* present, but none with a scheme and hash soasync can
	                        * verify (RFC 8976 4: such a zone is not verified) */
} ss_zonemd_status_t;

/* "absent", "valid", "invalid", "unsupported". */
SS_API const char *ss_zonemd_status_name(ss_zonemd_status_t st);

/* The apex ZONEMD records (RFC 8976) of a zone that are well-formed: the
 * scheme and hash algorithm of each (the first SS_ZONEMD_LIST_MAX). */
#define SS_ZONEMD_LIST_MAX 8
typedef struct {
	size_t n; /* such records at the apex (may be more than listed) */
	struct {
		uint8_t scheme, algorithm;
	} rr[SS_ZONEMD_LIST_MAX];
} ss_zonemd_list_t;

typedef struct {
	ss_zonemd_status_t status;
	uint8_t scheme, hash;  /* of the ZONEMD the verdict rests on: the one that
	                        * verifies, else the first supported one that fails,
	                        * else the first unsupported one (0 when ABSENT) */
	size_t count;          /* ZONEMD records at the apex */
	char detail[160];      /* one line: why */
	ss_zonemd_list_t list; /* the well-formed ones */
} ss_zonemd_verdict_t;

/*
 * Verify the apex ZONEMD RRset as RFC 8976 section 4 says, RR by RR: one
 * whose scheme or hash soasync does not support (supported: SIMPLE with
 * SHA-384 or SHA-512), whose serial is not the SOA's, whose digest is
 * shorter than 12 octets or does not match, or that shares its scheme and
 * hash with another (section 2.4: only those pairs fail) does not verify;
 * any other one that matches verifies the zone. out may be NULL.
 */
SS_API ss_zonemd_status_t ss_zone_zonemd_check(const ss_zone_t *z, ss_zonemd_verdict_t *out);

/* ss_zone_zonemd_check with its detail (may be NULL) only. */
SS_API ss_zonemd_status_t ss_zone_zonemd_verify(const ss_zone_t *z, char *detail, size_t len);

/* Diff of two finished zones in canonical order. side: -1 only in a, +1 only in b. */
typedef int (*ss_diff_cb)(int side, const ss_zone_t *z, size_t index, void *arg);

/*
 * Call cb for every record only in a (side -1) or only in b (side +1), in
 * canonical order. With ignore_ttl, records differing only in TTL are equal;
 * without, a TTL change is reported as the old record (-1) then the new
 * (+1). A non-zero return from cb stops the diff and is returned.
 * Returns 0, cb's value, or SS_ESTATE (a zone not finished);
 * *ndiff (may be NULL) gets the number of calls.
 */
SS_API int ss_zone_diff(const ss_zone_t *a, const ss_zone_t *b, bool ignore_ttl, ss_diff_cb cb,
                        void *arg, size_t *ndiff);

/*
 * May a new version of a zone replace the old one (soasync guard)?
 * Secondaries load a zone only when its serial is greater (RFC 1982).
 */
typedef enum {
	SS_CHANGE_OK = 0,      /* the serial went up, or nothing changed at all */
	SS_CHANGE_NOT_BUMPED,  /* the records changed, the serial did not go up */
	SS_CHANGE_SERIAL_DOWN, /* same records, but the serial went down (or 2^31 away):
	                        * secondaries holding the old one never load it */
} ss_change_verdict_t;

typedef struct {
	ss_change_verdict_t verdict;
	bool is_new;             /* no old version: nothing to compare, OK */
	bool changed;            /* the records differ (content digest, serial left out) */
	ss_serial_order_t order; /* the new serial relative to the old one */
	uint32_t old_serial, new_serial;
	uint32_t above;    /* a fix must publish a serial greater than this (the old one) */
	uint32_t at_least; /* the lowest such serial (old + 1, never 0) */
} ss_zone_change_t;

/* Judge nz against old (NULL: a new file). Returns 0, SS_ENOSOA (a zone
 * without SOA), SS_ESTATE (not finished), SS_ENOMEM. */
SS_API int ss_zone_change_judge(const ss_zone_t *old, const ss_zone_t *nz, ss_zone_change_t *out);

/* The changes that make a verdict: cb for every record only in old (-1) or
 * only in nz (+1), in canonical order, the SOA left out when it differs only
 * in its serial (as ss_zone_diff otherwise). */
SS_API int ss_zone_change_list(const ss_zone_t *old, const ss_zone_t *nz, ss_diff_cb cb, void *arg);

/* Presentation form of record i ("owner TTL CLASS TYPE rdata", single
 * spaces, absolute names, no newline; libknot's rdata format, RFC 3597
 * generic form for rdata it cannot print) into buf; returns the length or a
 * negative SS_E* (SS_ELIMIT: too small; SS_RR_TEXT_MAX bytes always do). */
#define SS_RR_TEXT_MAX (5 * 65536 + 1024)
SS_API int ss_zone_rr_to_text(const ss_zone_t *z, size_t i, char *buf, size_t len);

#endif
