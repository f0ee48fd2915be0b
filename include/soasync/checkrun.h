/*
 * soasync: running the check for many zones on one loop.
 *
 * For every zone added: discovery (or the --ns addresses), then the SOA query
 * to every server address (RD=0, EDNS0 with NSID, optionally EXPIRE) and a
 * CHAOS version query per distinct address (cached for the run), then
 * ss_check_analyze(). Results are delivered in the order the zones were
 * added, while at most max_zones zones are in progress, so memory stays
 * bounded whatever the number of zones.
 */
#ifndef SOASYNC_CHECKRUN_H
#define SOASYNC_CHECKRUN_H

#include <stdbool.h>
#include <stddef.h>

#include <soasync/addr.h>
#include <soasync/api.h>
#include <soasync/check.h>
#include <soasync/content.h>
#include <soasync/engine.h>

typedef struct ss_check ss_check_t;

/* What each server address said it is (CHAOS version), kept across runs:
 * commands that probe the same servers again ask once (BIND drops CHAOS
 * answers beyond 3 a second). */
typedef struct ss_vendor_cache ss_vendor_cache_t;

SS_API ss_vendor_cache_t *ss_vendor_cache_new(void);
/* Free the cache; no run using it may be in progress. */
SS_API void ss_vendor_cache_free(ss_vendor_cache_t *vc);

typedef struct {
	ss_addr_t resolver; /* for discovery; unused with ns */
	bool only4, only6;
	const ss_addr_t *ns; /* --ns: skip discovery (borrowed for the run) */
	size_t nns;
	const char *const *ns_names; /* names of those addresses (entries may be NULL);
	                              * NULL: none (borrowed) */
	const ss_addr_t *primary;    /* --primary (borrowed for the run) */
	size_t nprimary;
	bool no_vendor;                /* skip the CHAOS version queries */
	ss_vendor_cache_t *vendors;    /* shared cache (borrowed); NULL: one for this run */
	bool expire;                   /* ask for EDNS EXPIRE */
	uint32_t expire_warn_s;        /* see ss_zone_obs_t */
	const ss_expect_set_t *expect; /* ask every server for these (borrowed) */
	ss_content_opts_t content;     /* --content, --zonefile, --candidate-primary */
	unsigned max_zones;            /* zones in progress at once (default 512) */
	uint16_t port;                 /* of the addresses discovery finds (0: 53; see
	                                * ss_discover_opts_t) */
	bool unordered;                /* deliver each zone when it is done, not in the
	                                * order added (a long-running caller: one slow
	                                * zone must not hold back the others) */
} ss_check_opts_t;

/* A zone's result, borrowed for the duration of the call; the run clears it
 * afterwards. The callback may take it instead: copy the struct and zero
 * *res (the run then clears nothing). Called in the order the zones were
 * added. */
typedef void (*ss_check_cb)(ss_zone_result_t *res, void *arg);

/* A new run on engine e (borrowed). NULL on SS_ENOMEM. */
SS_API ss_check_t *ss_check_new(ss_engine_t *e, const ss_check_opts_t *opts, ss_check_cb cb,
                                void *arg);

/* Queue a zone (presentation form, with or without the final dot).
 * Returns 0, SS_ENAME or SS_ENOMEM. Work starts when the loop runs. */
SS_API int ss_check_add(ss_check_t *c, const char *zone);

/* Options of one zone, overriding the run's (ss_check_add_zone). */
typedef struct {
	const ss_addr_t *ns; /* as opts.ns, for this zone; NULL: the run's */
	size_t nns;
	const char *const *ns_names; /* names of those addresses (entries may be NULL) */
	const ss_addr_t *primary;    /* as opts.primary, for this zone; NULL: the run's */
	size_t nprimary;
	const ss_zone_obs_t *discovered; /* a previous result of this zone: its servers
	                                  * (names, origins, primary), NS sets and MNAME
	                                  * are taken instead of discovering again */
} ss_check_zone_opts_t;

/* Queue a zone with its own options (copied: nothing is borrowed after the
 * call). zo NULL: as ss_check_add(). Returns 0, SS_ENAME or SS_ENOMEM. */
SS_API int ss_check_add_zone(ss_check_t *c, const char *zone, const ss_check_zone_opts_t *zo);

/* Copy what discovery found (servers with names, addresses, origins and the
 * primary flag, but none of their answers; NS sets, unresolved names, MNAME,
 * not-found and discovery errors) from src into dst, which must be empty
 * (zeroed). Returns 0 or SS_ENOMEM (dst then holds what was copied: clear it
 * as part of a result with ss_zone_result_clear). */
SS_API int ss_obs_copy_discovery(ss_zone_obs_t *dst, const ss_zone_obs_t *src);

/* Stop starting zones and delivering results (before ss_engine_cancel_all()
 * when abandoning a run). */
SS_API void ss_check_abort(ss_check_t *c);

/* Free the run: after the loop finished, or after ss_check_abort() and
 * ss_engine_cancel_all() (no callback may be pending into it). */
SS_API void ss_check_free(ss_check_t *c);

#endif
