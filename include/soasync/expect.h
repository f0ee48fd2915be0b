/*
 * soasync: expected records. "Did the change reach every authoritative
 * server?" An expectation is an RRset (name, type, the set of rdata, and a
 * TTL only if one was given) that every server must serve, or a name and
 * type that no server may serve any more. Order, case and formatting never
 * count: rdata are compared in canonical form (RFC 4034 6.2) as sets.
 */
#ifndef SOASYNC_EXPECT_H
#define SOASYNC_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libknot/libknot.h>

#include <soasync/api.h>

typedef struct {
	knot_dname_t *owner; /* lower case; owned */
	uint16_t type;
	bool absent; /* --expect-absent: must not be served */
	bool ttl_given;
	uint32_t ttl;
	knot_rdataset_t rrs; /* canonical rdata, a set; empty when absent; owned */
} ss_expect_t;

typedef struct {
	ss_expect_t *items; /* owned */
	size_t n;
} ss_expect_set_t;

/*
 * Add "NAME [TTL] [CLASS] TYPE RDATA" (zone-file syntax; NAME relative to
 * origin or absolute; "@" is the origin). Several lines with the same NAME
 * and TYPE form one RRset. Returns 0, SS_EPARSE (err gets why), SS_EINVAL
 * (the name is outside the zone, or conflicts with an --expect-absent),
 * SS_ENOMEM.
 */
SS_API int ss_expect_add_line(ss_expect_set_t *set, const knot_dname_t *origin, const char *line,
                              char *err, size_t errlen);

/* Add "NAME TYPE" that must not be served. Returns as ss_expect_add_line. */
SS_API int ss_expect_add_absent(ss_expect_set_t *set, const knot_dname_t *origin, const char *line,
                                char *err, size_t errlen);

/* Add every record of a file in zone-file syntax ($ORIGIN, $TTL allowed).
 * Returns as ss_expect_add_line; err names the line. */
SS_API int ss_expect_add_file(ss_expect_set_t *set, const knot_dname_t *origin, const char *path,
                              char *err, size_t errlen);

SS_API void ss_expect_set_clear(ss_expect_set_t *set);

/* How one server's answer compares with one expectation. */
typedef enum {
	SS_EXPECT_MATCH = 0, /* serves exactly the expected set (and TTL if given) */
	SS_EXPECT_DIFFERS,   /* serves other data for the name and type */
	SS_EXPECT_MISSING,   /* NODATA or NXDOMAIN */
	SS_EXPECT_ABSENT,    /* absent wanted, and absent: fine */
	SS_EXPECT_PRESENT,   /* absent wanted, still served */
	SS_EXPECT_ERROR,     /* no authoritative answer (see error) */
} ss_expect_status_t;

/* "match", "differs", "missing", "absent", "present", "error". */
SS_API const char *ss_expect_status_name(ss_expect_status_t st);

typedef struct {
	ss_expect_status_t status;
	char **served; /* presentation form of each served record; owned */
	size_t nserved;
	char *error; /* owned, when ERROR */
} ss_expect_obs_t;

/*
 * Judge a server's answer (an authoritative NOERROR/NXDOMAIN answer to
 * NAME TYPE, RD=0) against e. pkt may be NULL with error set when there was
 * no usable answer. Fills out (caller frees with ss_expect_obs_clear).
 */
SS_API void ss_expect_judge(const ss_expect_t *e, const knot_pkt_t *pkt, const char *error,
                            ss_expect_obs_t *out);

SS_API void ss_expect_obs_clear(ss_expect_obs_t *o);

/* Presentation form of the expected RRset, one record per string, into
 * *out (caller frees each and the array). Returns the count or -1. */
SS_API int ss_expect_texts(const ss_expect_t *e, char ***out);

#endif
