/*
 * soasync CLI: one loop and engine per command, and a blocking "probe" of
 * one zone (discovery + SOA on every address + analysis) for the commands
 * that act on what check would find (notify, xfr-check, wait, doctor).
 */
#ifndef SOASYNC_SESSION_H
#define SOASYNC_SESSION_H

#include <soasync/check.h>
#include <soasync/engine.h>

#include "cli.h"

typedef struct {
	uv_loop_t loop;
	ss_engine_t *e;
} cli_session_t;

/* Returns 0 or -1 (message printed). */
int cli_session_open(cli_session_t *s, const cli_net_t *net);
void cli_session_close(cli_session_t *s);

/* Where to look: discovery (ns == NULL) or exactly these addresses. */
typedef struct {
	const ss_addr_t *ns;
	size_t nns;
	const ss_addr_t *primary;
	size_t nprimary;
	bool no_vendor;
	const ss_expect_set_t *expect; /* also ask for these (may be NULL) */
} cli_probe_where_t;

/* The where of the command line. */
cli_probe_where_t cli_probe_where(const cli_net_t *net);

/* The addresses of an earlier result, to probe them again without discovery.
 * *ns and *primary are allocated (caller frees). */
int cli_probe_where_from(const ss_zone_result_t *res, ss_addr_t **ns, size_t *nns,
                         ss_addr_t **primary, size_t *nprimary);

/* Check one zone; *out is taken by the caller (ss_zone_result_clear). 0 or -1. */
int cli_probe(cli_session_t *s, const cli_net_t *net, const cli_probe_where_t *where,
              const char *zone, ss_zone_result_t *out);

/* Run the loop until nothing is pending. */
void cli_session_run(cli_session_t *s);

#endif
