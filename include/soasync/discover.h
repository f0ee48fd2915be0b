/*
 * soasync: discovery of a zone's authoritative server addresses.
 *
 * Through a recursive resolver: find the parent zone and its servers, ask
 * them directly (RD=0) for the delegation (NS set and glue), ask the zone's
 * own servers (RD=0) for its NS set, resolve every NS name (and the SOA
 * MNAME, the primary) to all its addresses. The result is the skeleton of
 * an ss_zone_obs_t: servers with names and origins, both NS sets, the MNAME,
 * or why the zone was not found.
 */
#ifndef SOASYNC_DISCOVER_H
#define SOASYNC_DISCOVER_H

#include <stdbool.h>

#include <soasync/api.h>
#include <soasync/check.h>
#include <soasync/engine.h>
#include <soasync/resolver.h>

typedef struct {
	bool only4, only6;        /* keep only IPv4 / IPv6 addresses */
	const ss_addr_t *primary; /* --primary addresses (borrowed); when given the
	                           * MNAME is not looked up */
	size_t nprimary;
	uint16_t port; /* port of every address found (0: 53, all that glue and
	                * address records can mean); another for a lab or a test
	                * whose servers all listen on one other port */
} ss_discover_opts_t;

/* Called once when discovery of obs->zone has finished (successfully or not:
 * see obs->discovery_error, obs->not_found). */
typedef void (*ss_discover_cb)(ss_zone_obs_t *obs, void *arg);

/*
 * Discover obs->zone (obs borrowed until cb; obs->zone must be set). The
 * options are copied, the addresses they point to borrowed until cb.
 * Returns 0 (cb will be called, possibly from inside this call when every
 * answer needed is in the resolver's cache) or SS_ENOMEM.
 */
SS_API int ss_discover(ss_resolver_t *r, ss_engine_t *e, ss_zone_obs_t *obs,
                       const ss_discover_opts_t *opts, ss_discover_cb cb, void *arg);

/*
 * Add addr (with name, may be NULL, and origin bits) to obs->servers, merging
 * with an existing entry for the same address. Returns the entry or NULL
 * (SS_ENOMEM).
 */
SS_API ss_server_obs_t *ss_obs_add_server(ss_zone_obs_t *obs, const ss_addr_t *addr,
                                          const char *name, unsigned origin);

#endif
