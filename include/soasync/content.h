/*
 * soasync: same serial, same data? The content phase of a check: zone
 * transfers from the servers (or, where refused, every RRset asked one by
 * one), content digests, record-level differences against the reference
 * server, the zone file given as source of truth, ZONEMD, and candidate
 * primaries a secondary might be pulling from. Fills the content fields of
 * the observations; the findings come from ss_check_analyze().
 */
#ifndef SOASYNC_CONTENT_H
#define SOASYNC_CONTENT_H

#include <stdbool.h>
#include <stddef.h>

#include <soasync/api.h>
#include <soasync/check.h>
#include <soasync/engine.h>

typedef struct {
	bool all;                    /* --content: every answering server */
	const char *zonefile;        /* --zonefile (borrowed for the run) */
	uint32_t zonefile_ttl;       /* TTL of its records that have none (0: 3600) */
	const ss_addr_t *candidates; /* --candidate-primary (borrowed) */
	size_t ncandidates;
	const knot_tsig_key_t *tsig; /* sign transfers (borrowed) */
	unsigned query_limit;        /* RRsets asked of a refusing server (0: 5000) */
	unsigned limit_ms;           /* per transfer (0: 600 s) */
} ss_content_opts_t;

/* True when the options ask for anything. */
SS_API bool ss_content_wanted(const ss_content_opts_t *o);

typedef void (*ss_content_cb)(ss_zone_result_t *res, void *arg);

/*
 * Run the content phase on res (borrowed until cb), after its SOA answers
 * were analyzed once (the reference is known). Returns 0 (cb will be called,
 * possibly from inside this call) or SS_ENOMEM.
 */
SS_API int ss_content_run(ss_engine_t *e, ss_zone_result_t *res, const ss_content_opts_t *o,
                          ss_content_cb cb, void *arg);

#endif
