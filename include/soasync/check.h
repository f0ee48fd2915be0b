/*
 * soasync: the check model. Observations of one zone (what every server
 * address answered) go in, findings and a verdict come out. Pure functions:
 * no I/O, no clock, no printing, so every verdict can be unit tested from
 * synthetic observations.
 */
#ifndef SOASYNC_CHECK_H
#define SOASYNC_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libknot/libknot.h>

#include <soasync/addr.h>
#include <soasync/api.h>
#include <soasync/expect.h>
#include <soasync/vendor.h>
#include <soasync/zone.h>

/* Severity of a finding. Numerically ordered; INFO never raises a status. */
typedef enum {
	SS_SEV_INFO = 0,
	SS_SEV_WARNING = 1,
	SS_SEV_CRITICAL = 2,
	SS_SEV_UNKNOWN = 3,
} ss_severity_t;

/* Status of a zone: the worst severity of its findings (INFO counts as OK).
 * The values are the monitoring-plugin exit codes. */
typedef enum {
	SS_STATUS_OK = 0,
	SS_STATUS_WARNING = 1,
	SS_STATUS_CRITICAL = 2,
	SS_STATUS_UNKNOWN = 3,
} ss_status_t;

/* "info", "warning", "critical", "unknown". */
SS_API const char *ss_severity_name(ss_severity_t sev);

/* "ok", "warning", "critical", "unknown". */
SS_API const char *ss_status_name(ss_status_t st);

/* Where a server address came from (bit set). */
enum {
	SS_ORIGIN_PARENT = 1 << 0,  /* the parent's delegation (NS + glue) */
	SS_ORIGIN_CHILD = 1 << 1,   /* the zone's own NS set */
	SS_ORIGIN_PRIMARY = 1 << 2, /* --primary or the SOA MNAME */
	SS_ORIGIN_GIVEN = 1 << 3,   /* --ns */
};

/* What a server's answer to "ZONE SOA" (RD=0) amounted to. */
typedef enum {
	SS_ANS_NONE = 0,  /* no answer: see error */
	SS_ANS_SOA,       /* AA, NOERROR, the zone's SOA: serial valid */
	SS_ANS_NOT_AUTH,  /* REFUSED, NOTAUTH, no AA, other rcodes */
	SS_ANS_REFERRAL,  /* no AA, NS records for the zone or a parent in authority */
	SS_ANS_NO_SOA,    /* AA but no SOA for the zone (NODATA, NXDOMAIN, other owner) */
	SS_ANS_SERVFAIL,  /* SERVFAIL */
	SS_ANS_MALFORMED, /* only malformed answers arrived */
} ss_answer_kind_t;

/* What a zone transfer attempt amounted to. */
typedef enum {
	SS_XFR_SKIPPED = 0, /* not tried */
	SS_XFR_ALLOWED,     /* the whole zone came and checked out */
	SS_XFR_REFUSED,     /* an error RCODE (REFUSED, NOTAUTH...) */
	SS_XFR_FAILED,      /* time-out, closed, malformed, TSIG, limits */
} ss_xfr_state_t;

/* "skipped", "allowed", "refused", "failed". */
SS_API const char *ss_xfr_state_name(ss_xfr_state_t st);

/* How a server's zone content was learned. */
typedef enum {
	SS_CONTENT_NONE = 0, /* not compared */
	SS_CONTENT_DIGEST,   /* transferred: has_digest, compared record by record */
	SS_CONTENT_QUERIED,  /* transfer refused: RRsets asked one by one and compared */
	SS_CONTENT_FAILED,   /* neither worked */
} ss_content_t;

/* The check model's verdict on one server address, set by ss_check_analyze().
 * Commands, renderers and the monitor read it; nothing recomputes it. */
typedef enum {
	SS_VERDICT_NONE = 0,       /* not analyzed */
	SS_VERDICT_AT_REFERENCE,   /* serves the reference serial */
	SS_VERDICT_BEHIND,         /* serves an older serial (RFC 1982) */
	SS_VERDICT_AHEAD,          /* newer than the primary's: the primary went backwards */
	SS_VERDICT_UNDEFINED,      /* exactly 2^31 from the reference: neither is newer */
	SS_VERDICT_NO_SOA,         /* authoritative, but no SOA for the zone (NODATA, NXDOMAIN) */
	SS_VERDICT_NOT_AUTH,       /* REFUSED, NOTAUTH, no AA, a referral */
	SS_VERDICT_SERVFAIL,       /* SERVFAIL (e.g. an expired secondary) */
	SS_VERDICT_UNREACHABLE,    /* no usable answer: time-out, connection refused, malformed */
	SS_VERDICT_HIDDEN_PRIMARY, /* a primary known only from the MNAME, not answering: it does
	                            * not count (commonly firewalled) */
	SS_VERDICT_LOCAL_ERROR,    /* not asked: this host ran out of sockets (SS_EMFILE); the
	                            * server's state is unknown, not its fault */
} ss_verdict_t;

/* "at-reference", "behind", "ahead", "undefined", "no-soa", "not-authoritative",
 * "servfail", "unreachable", "hidden-primary", "local-error"; "none". */
SS_API const char *ss_verdict_name(ss_verdict_t v);

/* The verdict counts as serving the zone's current data: at the reference,
 * or newer than a primary that went backwards. */
SS_API bool ss_verdict_current(ss_verdict_t v);

/* The verdict concerns a server that counts for the zone (all but a hidden
 * primary and NONE). */
SS_API bool ss_verdict_counts(ss_verdict_t v);

/* Why the check model took a server as the primary (ss_zone_result_t.primary_why). */
typedef enum {
	SS_PRIMARY_NONE = 0, /* no primary: the highest serial is the reference */
	SS_PRIMARY_GIVEN,    /* named with --primary */
	SS_PRIMARY_MNAME,    /* named by the SOA MNAME */
	SS_PRIMARY_EXPIRE,   /* the MNAME server counts EDNS EXPIRE down as a secondary does;
	                      * this one answers with its SOA's expire field, as a primary
	                      * does (RFC 7314) */
} ss_primary_why_t;

/* "none", "given", "mname", "expire". */
SS_API const char *ss_primary_why_name(ss_primary_why_t w);

typedef struct {
	knot_dname_t *mname, *rname; /* owned */
	uint32_t serial, refresh, retry, expire, minimum;
	uint32_t ttl; /* of the SOA record */
} ss_soa_t;

typedef struct {
	char *name; /* NS name(s) for this address, comma separated; owned; may be NULL */
	ss_addr_t addr;
	unsigned origin;      /* SS_ORIGIN_* */
	bool is_primary;      /* named as the primary (--primary, or the SOA MNAME) */
	ss_verdict_t verdict; /* set by ss_check_analyze() */
	bool primary_role;    /* set by ss_check_analyze(): taken as the primary (see
	                       * ss_zone_result_t.primary_why); an MNAME server that is
	                       * evidently a secondary is not */

	ss_answer_kind_t kind;
	int error; /* SS_E* when kind == SS_ANS_NONE or MALFORMED */
	int rcode; /* -1 when there was no answer */
	bool aa;
	bool has_soa; /* soa valid (kind == SS_ANS_SOA) */
	ss_soa_t soa;
	uint32_t rtt_us;
	bool tcp;      /* the answer came over TCP */
	char *nsid;    /* printable NSID; owned; may be NULL */
	char *version; /* CHAOS version string; owned; may be NULL */
	ss_vendor_t vendor;
	bool has_expire; /* EDNS EXPIRE (RFC 7314) answered */
	uint32_t expire_s;
	char *detail; /* what the answer said, e.g. "referral to test."; owned */

	/* Transfers (xfr-check, check --content); SKIPPED when not tried. */
	ss_xfr_state_t axfr;      /* unsigned AXFR */
	ss_xfr_state_t axfr_tsig; /* AXFR signed with the given key */
	ss_xfr_state_t ixfr;      /* IXFR from an older serial */
	int ixfr_kind;            /* its ss_ixfr_kind_t when ALLOWED */
	char *xfr_error;          /* owned; why the transfer(s) failed or were refused */
	bool xfr_too_large;       /* a transfer went past the memory limit (SS_ELIMIT) */
	uint32_t xfr_serial;      /* serial of the transferred copy */
	size_t xfr_records;
	bool has_digest; /* content digest of the transferred copy */
	uint8_t digest[48];

	/* Content (check --content, --zonefile, --candidate-primary). */
	ss_content_t content;      /* how the content was learned */
	bool content_differs;      /* other data than the reference, at the same serial */
	size_t content_ndiff;      /* records (transfer) or RRsets (queries) that differ */
	char *content_diff;        /* a few of them, in words; owned */
	size_t content_compared;   /* RRsets compared by queries */
	ss_zonemd_status_t zonemd; /* of the transferred copy */
	char *zonemd_detail;       /* owned */
	ss_zonemd_list_t zonemd_list;

	/* Expected records (check --expect): one per item of obs.expect. */
	ss_expect_obs_t *expect; /* owned */
	size_t nexpect;
} ss_server_obs_t;

typedef struct {
	knot_dname_t *zone;     /* owned */
	char *zone_str;         /* owned, presentation form with the trailing dot */
	int discovery_error;    /* 0, or why discovery failed */
	char *discovery_detail; /* owned; what failed, in words */
	bool not_found;         /* the zone does not exist or is not delegated */

	ss_server_obs_t *servers; /* owned, sorted by address */
	size_t nservers;

	bool have_ns_sets;                    /* parent and child NS sets were both learned */
	knot_dname_t **parent_ns, **child_ns; /* owned arrays of owned names */
	size_t nparent_ns, nchild_ns;
	char **unresolved_ns; /* NS names with no address; owned */
	size_t nunresolved_ns;

	bool primary_given; /* --primary: failures of the primary are findings */
	char *mname;        /* the SOA MNAME when learned; owned */

	bool xfr_check;                /* transfers were tried to judge transfer policy */
	bool content_check;            /* transfers were tried to compare content */
	bool have_tsig;                /* a TSIG key was given for the transfers */
	uint32_t expire_warn_s;        /* expiring-soon below this (0: 86400); UINT32_MAX: off */
	const ss_expect_set_t *expect; /* expected records; borrowed, may be NULL */
	int64_t now;                   /* when observed (Unix seconds) for serial sanity; 0: skip */
	char *source;                  /* our source address for transfers, if pinned; owned */

	/* --zonefile: the source of truth, against what the reference serves. */
	char *zonefile;       /* path; owned; NULL without --zonefile */
	char *zonefile_error; /* owned: why it could not be read or compared */
	bool has_zonefile_serial;
	uint32_t zonefile_serial;
	bool zonefile_compared; /* the served content was available to compare */
	bool zonefile_differs;
	size_t zonefile_ndiff;
	char *zonefile_diff; /* a few differing records; owned */
	ss_zonemd_status_t zonefile_zonemd;
	char *zonefile_zonemd_detail; /* owned */
	ss_zonemd_list_t zonefile_zonemd_list;

	/* --candidate-primary: other servers a secondary might pull from. */
	ss_server_obs_t *candidates; /* owned */
	size_t ncandidates;
} ss_zone_obs_t;

/*
 * The one list of finding codes: X(ID, "code", "meaning"). README's and
 * the man page's tables are checked against it.
 */
#define SS_FINDINGS(X)                                                                             \
	X(SS_F_SERIAL_BEHIND, "serial-behind",                                                     \
	  "a server serves an older serial than the reference")                                    \
	X(SS_F_PRIMARY_BEHIND, "primary-behind",                                                   \
	  "the primary went backwards: some servers have a newer serial")                          \
	X(SS_F_SERIAL_UNDEFINED, "serial-undefined",                                               \
	  "exactly 2^31 apart: neither is newer (BIND will not transfer)")                         \
	X(SS_F_NOT_AUTHORITATIVE, "not-authoritative",                                             \
	  "REFUSED, NOTAUTH, no AA, or a referral: that address does not serve the zone")          \
	X(SS_F_UNREACHABLE, "unreachable",                                                         \
	  "time-out, connection refused, network error, NS name without address")                  \
	X(SS_F_SERVFAIL, "servfail", "SERVFAIL, e.g. a secondary whose copy expired")              \
	X(SS_F_NS_SET_MISMATCH, "ns-set-mismatch",                                                 \
	  "the parent's delegation and the zone's NS set differ")                                  \
	X(SS_F_PRIMARY_NOT_FOUND, "primary-not-found",                                             \
	  "no primary answered; the highest serial is the reference")                              \
	X(SS_F_SOA_FIELDS_DIFFER, "soa-fields-differ",                                             \
	  "same serial, other SOA fields: edited without a serial bump")                           \
	X(SS_F_ZONE_NOT_FOUND, "zone-not-found",                                                   \
	  "no such zone, not a zone apex, or not delegated")                                       \
	X(SS_F_DISCOVERY_FAILED, "discovery-failed",                                               \
	  "no server address could be found (resolver failure, no NS set)")                        \
	X(SS_F_TRANSFER_REFUSED, "transfer-refused",                                               \
	  "a server refuses a transfer it should allow")                                           \
	X(SS_F_TRANSFER_OPEN, "transfer-open",                                                     \
	  "a server gives the zone to anyone (unsigned AXFR from this host)")                      \
	X(SS_F_TRANSFER_FAILED, "transfer-failed",                                                 \
	  "a transfer broke off: time-out, closed, malformed, TSIG, limits")                       \
	X(SS_F_TRANSFER_TOO_LARGE, "transfer-too-large",                                           \
	  "a transfer exceeded --max-transfer-size (or the shared memory budget)")                 \
	X(SS_F_EXPIRING_SOON, "expiring-soon",                                                     \
	  "a secondary's copy expires soon (EDNS EXPIRE, RFC 7314)")                               \
	X(SS_F_RECORD_NOT_PUBLISHED, "record-not-published",                                       \
	  "--expect: a record that did not reach every server")                                    \
	X(SS_F_RECORD_STILL_PRESENT, "record-still-present",                                       \
	  "--expect-absent: a record still served")                                                \
	X(SS_F_SAME_SERIAL_DIFFERENT_DATA, "same-serial-different-data",                           \
	  "same serial, other data: an edit without a serial bump")                                \
	X(SS_F_ZONEMD_INVALID, "zonemd-invalid", "the ZONEMD (RFC 8976) does not match the data")  \
	X(SS_F_ZONEMD_UNSUPPORTED, "zonemd-unsupported",                                           \
	  "ZONEMD records present, none with a scheme and hash this tool can verify")              \
	X(SS_F_ZONEFILE_NOT_PUBLISHED, "zonefile-not-published",                                   \
	  "the zone file's serial is newer than the primary's: not loaded")                        \
	X(SS_F_SERIAL_NOT_BUMPED, "serial-not-bumped",                                             \
	  "the zone file differs from the served data at the same serial")                         \
	X(SS_F_ZONEFILE_BEHIND, "zonefile-behind",                                                 \
	  "the primary serves a newer serial than the zone file")                                  \
	X(SS_F_ZONEFILE_ERROR, "zonefile-error", "the zone file could not be read or compared")    \
	X(SS_F_SECONDARY_WRONG_SOURCE, "secondary-wrong-source",                                   \
	  "a secondary holds a candidate's (old provider's) copy, not the primary's")              \
	X(SS_F_MNAME_NOT_PRIMARY, "mname-not-primary",                                             \
	  "the SOA MNAME names a server that is evidently a secondary")                            \
	X(SS_F_SERIAL_SANITY, "serial-sanity",                                                     \
	  "serial 0, an impossible or future date, a Unix time far ahead")                         \
	X(SS_F_NOTIFY_REFUSED, "notify-refused", "doctor: a secondary refused the NOTIFY")         \
	X(SS_F_SECONDARY_NOT_TRANSFERRING, "secondary-not-transferring",                           \
	  "doctor: a NOTIFY acknowledged, no transfer followed")                                   \
	X(SS_F_LOCAL_ERROR, "local-error",                                                         \
	  "this host could not ask (too many open files): not the servers' fault")

typedef enum {
#define SS_F_ENUM(id, name, meaning) id,
	SS_FINDINGS(SS_F_ENUM)
#undef SS_F_ENUM
	    SS_F_COUNT
} ss_fcode_t;

/* The code's name ("serial-behind"); "unknown" out of range. */
SS_API const char *ss_fcode_name(ss_fcode_t c);

/* What the code means, one line (for tables and documentation). */
SS_API const char *ss_fcode_meaning(ss_fcode_t c);

/* The code named name; SS_F_COUNT when there is none. */
SS_API ss_fcode_t ss_fcode_parse(const char *name);

typedef struct {
	ss_fcode_t id;
	const char *code; /* static: ss_fcode_name(id), e.g. "serial-behind" */
	ss_severity_t severity;
	ss_addr_t *servers; /* owned */
	size_t nservers;
	char *message; /* owned */
	char *fix;     /* owned; may be NULL */
} ss_finding_t;

typedef struct {
	ss_zone_obs_t obs;
	ss_status_t status;
	bool has_reference;
	uint32_t reference_serial;
	bool reference_is_primary;
	ss_addr_t primary; /* valid when has_primary */
	bool has_primary;
	ss_primary_why_t primary_why; /* why that server is the primary */
	ss_finding_t *findings;       /* owned */
	size_t nfindings;
} ss_zone_result_t;

/*
 * Analyze the observations in res->obs and fill in the reference, the
 * findings and the status of res (replacing earlier findings, so it can run
 * again after more observations). Returns 0 or SS_ENOMEM.
 */
SS_API int ss_check_analyze(ss_zone_result_t *res);

/* Free everything res owns (not res itself). */
SS_API void ss_zone_result_clear(ss_zone_result_t *res);

/* Free a server observation's owned members. */
SS_API void ss_server_obs_clear(ss_server_obs_t *s);

/* Add a finding to res (message and fix printf-formatted). Returns 0 or SS_ENOMEM. */
SS_API int ss_result_add_finding(ss_zone_result_t *res, ss_fcode_t id, ss_severity_t sev,
                                 const ss_addr_t *servers, size_t nservers, const char *fix,
                                 const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* The one reference-server rule: the index of the server whose data is the
 * reference: the primary (primary_role) when it serves the reference serial,
 * else the first server that does (verdict SS_VERDICT_AT_REFERENCE); -1 when
 * none. Read after ss_check_analyze(). */
SS_API long ss_zone_reference_server(const ss_zone_result_t *res);

/* The SOA of an observation as a libknot RRset (caller frees with
 * knot_rrset_free), or NULL (no SOA, out of memory). */
SS_API knot_rrset_t *ss_soa_to_rrset(const knot_dname_t *zone, const ss_soa_t *soa);

#endif
