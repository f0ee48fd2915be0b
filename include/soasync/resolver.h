/*
 * soasync: a caching stub resolver on the query engine, for discovery.
 *
 * Asks one recursive resolver (RD=1, EDNS) and remembers every answer for the
 * life of the resolver object, so thousands of zones under one parent ask for
 * the parent's servers once. Concurrent lookups of the same name and type
 * share one query.
 */
#ifndef SOASYNC_RESOLVER_H
#define SOASYNC_RESOLVER_H

#include <libknot/libknot.h>

#include <soasync/addr.h>
#include <soasync/api.h>
#include <soasync/engine.h>

typedef struct ss_resolver ss_resolver_t;

typedef struct {
	int error;                  /* 0, or the engine's SS_E* (no answer) */
	uint16_t rcode;             /* when error == 0 */
	const knot_rrset_t *answer; /* the records of the asked type in the answer
	                             * section (CNAMEs followed), or NULL */
	const knot_rrset_t *soa;    /* the SOA in the authority section, or NULL */
} ss_lookup_t;

/* Called once per lookup; the result is borrowed (valid during the call).
 * May be called from inside ss_resolver_lookup() when the answer is cached. */
typedef void (*ss_lookup_cb)(const ss_lookup_t *res, void *arg);

/* A resolver at addr (copied) on engine e (borrowed). NULL on SS_ENOMEM. */
SS_API ss_resolver_t *ss_resolver_new(ss_engine_t *e, const ss_addr_t *addr);

/* Free the resolver; no lookup may be pending. */
SS_API void ss_resolver_free(ss_resolver_t *r);

/* Look up name/type. Returns 0 (cb will be called), SS_ENOMEM or SS_EINVAL. */
SS_API int ss_resolver_lookup(ss_resolver_t *r, const knot_dname_t *name, uint16_t type,
                              ss_lookup_cb cb, void *arg);

/* The first "nameserver" of a resolv.conf file as ADDR#53. Returns 0,
 * SS_EIO (unreadable) or SS_ENOTFOUND. */
SS_API int ss_resolver_from_conf(const char *path, ss_addr_t *out);

#endif
