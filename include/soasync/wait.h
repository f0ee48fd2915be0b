/*
 * soasync: the verdict of `soasync wait`: which servers serve a target
 * serial (and the expected records), and whether that is enough under the
 * policy for servers that do not answer at all. Pure functions on results
 * (after ss_check_analyze): no I/O, no clock.
 */
#ifndef SOASYNC_WAIT_H
#define SOASYNC_WAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <soasync/api.h>
#include <soasync/check.h>

/* Servers that do not answer at all. */
typedef enum {
	SS_DEAD_FAIL = 0, /* they keep the wait going */
	SS_DEAD_IGNORE,   /* every answering server at the target is enough */
	SS_DEAD_QUORUM,   /* quorum servers at the target are enough */
} ss_dead_policy_t;

typedef struct {
	uint32_t serial; /* this serial or later (RFC 1982) */
	size_t nexpect;  /* the expected records (check --expect) every server must serve */
	ss_dead_policy_t dead;
	unsigned quorum; /* SS_DEAD_QUORUM */
} ss_wait_target_t;

typedef enum {
	SS_WAIT_IGNORED = 0, /* does not count (a hidden primary, see ss_verdict_counts) */
	SS_WAIT_AT_TARGET,   /* the target serial or later, and the expected records */
	SS_WAIT_BEHIND,      /* answers, but not (yet) with the target serial */
	SS_WAIT_MISSING,     /* serves a serial, but not the expected records (behind too) */
	SS_WAIT_DEAD,        /* no usable answer at all (SS_VERDICT_UNREACHABLE, _LOCAL_ERROR) */
} ss_wait_state_t;

/* Where server s stands against the target. */
SS_API ss_wait_state_t ss_wait_server(const ss_server_obs_t *s, const ss_wait_target_t *t);

typedef struct {
	size_t ok, dead, behind; /* servers in each state (MISSING counts as behind) */
	size_t total;            /* servers that count */
} ss_wait_tally_t;

SS_API ss_wait_tally_t ss_wait_tally(const ss_zone_result_t *res, const ss_wait_target_t *t);

typedef enum {
	SS_WAIT_NOT_YET = 0, /* keep waiting */
	SS_WAIT_ALL,         /* every server that counts is at the target */
	SS_WAIT_QUORUM,      /* quorum servers are at the target (the others are not) */
	SS_WAIT_ANSWERING,   /* every answering server is; dead ones ignored */
} ss_wait_verdict_t;

/* Whether the wait is over, and why. */
SS_API ss_wait_verdict_t ss_wait_verdict(const ss_wait_target_t *t, const ss_wait_tally_t *tally);

#endif
