/*
 * soasync CLI: one loop and engine per command, and a blocking "probe" of
 * one zone (discovery + SOA on every address + analysis) for the commands
 * that act on what check would find (notify, xfr-check, wait, doctor).
 */
#ifndef SOASYNC_SESSION_H
#define SOASYNC_SESSION_H

#include <soasync/check.h>
#include <soasync/checkrun.h>
#include <soasync/content.h>
#include <soasync/engine.h>

#include "opts.h"

typedef struct {
	uv_loop_t loop;
	ss_engine_t *e;
	ss_vendor_cache_t *vendors; /* what each server is, learned once per command */
} cli_session_t;

/* Returns 0 or -1 (message printed). */
int cli_session_open(cli_session_t *s, const cli_net_t *net);
void cli_session_close(cli_session_t *s);

/* Where to look: discovery (ns == NULL) or exactly these addresses. */
typedef struct {
	const ss_addr_t *ns;
	size_t nns;
	const char *const *ns_names; /* may be NULL */
	const ss_addr_t *primary;
	size_t nprimary;
	bool no_vendor;
	const ss_expect_set_t *expect;    /* also ask for these (may be NULL) */
	const ss_content_opts_t *content; /* and compare content (may be NULL) */
	const struct cli_fixed *fixed;    /* the addresses of an earlier result (may be NULL) */
} cli_probe_where_t;

/* The where of the command line. */
cli_probe_where_t cli_probe_where(const cli_net_t *net);

/* The servers of an earlier result as discovery found them, to probe them
 * again without discovering (ss_check_zone_opts_t.discovered): each probe is
 * judged as the first (the primary by the MNAME and its evidence, the NS
 * sets), not as if the servers had been given with --ns and --primary. */
typedef struct cli_fixed {
	ss_zone_obs_t disc; /* owned */
} cli_fixed_t;

/* Fill f from res (without the servers that do not count: a hidden primary
 * that was silent) and point w->fixed at it (the other fields of w are kept
 * but w->ns and w->primary no longer matter). Returns 0 or -1 (out of
 * memory). */
int cli_probe_fixed(const ss_zone_result_t *res, cli_fixed_t *f, cli_probe_where_t *w);
void cli_fixed_free(cli_fixed_t *f);

/* Check one zone; *out is taken by the caller (ss_zone_result_clear). 0 or -1. */
int cli_probe(cli_session_t *s, const cli_net_t *net, const cli_probe_where_t *where,
              const char *zone, ss_zone_result_t *out);

/* Run the loop until nothing is pending. */
void cli_session_run(cli_session_t *s);

/* Run the loop for ms milliseconds. */
void cli_session_sleep(cli_session_t *s, unsigned ms);

/* Make every try of the next queries fit before deadline (uv_hrtime, ns). */
void cli_session_fit(cli_session_t *s, const cli_net_t *net, uint64_t deadline);

typedef bool (*cli_probe_pred)(const ss_zone_result_t *res, void *arg);
typedef void (*cli_probe_round)(const ss_zone_result_t *res, void *arg);

/* A wait by polling (times as uv_hrtime, ns). */
typedef struct {
	uint64_t until;        /* no probe starts after this */
	uint64_t deadline;     /* every query of a probe fits before this (>= until) */
	cli_probe_pred pred;   /* done when it holds */
	cli_probe_round round; /* sees every result that does not satisfy pred (may be NULL) */
	void *arg;
} cli_poll_t;

/*
 * Probe again and again (backoff from 200 ms to 5 s) until poll->pred holds
 * or poll->until passes. A probe started before until has its queries fitted
 * to poll->deadline only, so it completes with the timeouts it needs: with
 * until == deadline the last probe is squeezed into what is left instead.
 * *last is checked first (it may be the caller's earlier probe) and is
 * replaced by each new result (the old one cleared). Returns 1 when pred
 * held, 0 at until, -1 on error.
 */
int cli_probe_until(cli_session_t *s, const cli_net_t *net, const cli_probe_where_t *where,
                    const char *zone, const cli_poll_t *poll, ss_zone_result_t *last);

/*
 * Run cmd with /bin/sh -c on the session's loop (its stdout and stderr on
 * our stderr, stdin ours), killed when deadline (uv_hrtime, ns) passes.
 * *exit_code gets its exit status (-1 when a signal ended it). Returns 0
 * when it ended by itself, 1 when the deadline killed it, -1 when it could
 * not start (message printed).
 */
int cli_session_shell(cli_session_t *s, const char *cmd, uint64_t deadline, int *exit_code);

#endif
