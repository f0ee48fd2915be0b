/*
 * soasync: the doctor's model. The nine steps of the troubleshooting path,
 * each assessed from observations (ss_zone_result_t, after
 * ss_check_analyze) and from what the command did (repairs, NOTIFY
 * answers), the decisions in between (what to repair, whom to NOTIFY,
 * whether waiting can still help) and the verdict of the whole run with its
 * exit status. No I/O, no clock: the command probes, asks, runs the reload
 * command, sends the NOTIFYs (ss_notify_zone) and prints; every verdict is
 * made here, once.
 *
 * Use, in order: ss_doctor_init; ss_doctor_serials on the first probe; for
 * steps 2 and 3 a _begin (true: --fix may repair now) and, after the
 * repair, _end; ss_doctor_direction, ss_doctor_source; ss_doctor_notify_begin
 * (the targets), ss_doctor_notified per answer, ss_doctor_notify_end;
 * ss_doctor_moved while waiting, ss_doctor_transfer after; while
 * ss_doctor_should_wait, probe again; ss_doctor_converge, ss_doctor_guard;
 * ss_doctor_finish. Each step is final once assessed, so it can be printed
 * at once. Functions that allocate return 0 or SS_ENOMEM.
 */
#ifndef SOASYNC_DOCTOR_H
#define SOASYNC_DOCTOR_H

#include <stdbool.h>

#include <soasync/api.h>
#include <soasync/check.h>
#include <soasync/notify.h>

/* The steps of the troubleshooting path, in order. */
typedef enum {
	SS_STEP_SERIALS = 0, /* the SOA serial on every address, against the reference */
	SS_STEP_PUBLISHED,   /* --zonefile: was the file loaded on the primary? */
	SS_STEP_RAISED,      /* --zonefile/--content: was the serial raised with the data? */
	SS_STEP_DIRECTION,   /* serial direction and sanity */
	SS_STEP_SOURCE,      /* --candidate-primary: a secondary pulling from a stale copy */
	SS_STEP_NOTIFY,      /* NOTIFY the servers that are behind */
	SS_STEP_TRANSFER,    /* did they move after the NOTIFY? */
	SS_STEP_CONVERGE,    /* every server serves the same serial (and data) */
	SS_STEP_GUARD,       /* keep it from drifting again */
	SS_DOCTOR_NSTEPS,
} ss_step_t;

/* "serials", "published", "serial-raised", "direction", "source", "notify",
 * "transfer", "converge", "guard". */
SS_API const char *ss_step_name(ss_step_t step);

typedef enum {
	SS_STEP_PENDING = 0, /* not assessed yet */
	SS_STEP_OK,
	SS_STEP_PROBLEM,
	SS_STEP_FIXED,
	SS_STEP_FAILED,  /* a repair was tried (or declined) and did not work */
	SS_STEP_SKIPPED, /* not asked for (no --zonefile, no --fix...) */
	SS_STEP_ADVICE,
	SS_STEP_BLOCKED, /* not possible: no server answered with the zone's SOA */
} ss_step_status_t;

/* "pending", "ok", "problem", "fixed", "failed", "skipped", "advice", "blocked". */
SS_API const char *ss_step_status_name(ss_step_status_t st);

typedef struct {
	ss_step_status_t status;
	char *observed;     /* owned; what the step observed, one line */
	ss_addr_t *servers; /* owned; the servers the step concerns (may be none) */
	size_t nservers;
} ss_doctor_step_t;

/* What the command did, in order (shown as it happens, and in the report). */
typedef enum {
	SS_ACTION_RELOAD, /* target: the reload command */
	SS_ACTION_BUMP,   /* target: the zone file; result "OLD -> NEW" */
	SS_ACTION_NOTIFY, /* target: the address; result the answer */
	SS_ACTION_SKIPPED /* target: the repair; result why (declined, no terminal) */
} ss_action_kind_t;

/* "reload", "bump", "notify", "skipped". */
SS_API const char *ss_action_name(ss_action_kind_t k);

typedef struct {
	ss_action_kind_t kind;
	char *target; /* owned */
	char *result; /* owned */
} ss_doctor_action_t;

/* The verdict of the whole run. */
typedef enum {
	SS_DOCTOR_CONVERGED = 0,   /* every server the same serial (and data); the file served */
	SS_DOCTOR_NOT_CONVERGED,   /* servers differ at the end */
	SS_DOCTOR_FILE_NOT_SERVED, /* the servers agree, but not on the zone file (step 2 or 3) */
	SS_DOCTOR_NO_REFERENCE,    /* no server answered with the zone's SOA */
} ss_doctor_verdict_t;

/* "converged", "not-converged", "file-not-served", "no-reference". */
SS_API const char *ss_doctor_verdict_name(ss_doctor_verdict_t v);

typedef struct {
	bool fix;                 /* --fix: repairs allowed */
	bool content;             /* --content: data compared too */
	const char *zonefile;     /* --zonefile (borrowed; NULL without) */
	size_t ncandidates;       /* --candidate-primary addresses given */
	const ss_addr_t *primary; /* --primary as given (borrowed), for the monitor's config */
	size_t nprimary;
	const ss_addr_t *ns; /* --ns as given (borrowed), for the monitor's config */
	size_t nns;
} ss_doctor_opts_t;

/* One NOTIFY target and what became of it. */
typedef struct {
	ss_addr_t addr;
	bool sent;
	ss_notify_result_t answer; /* valid when answered */
	bool answered;
	bool moved; /* serves the notified serial or later (after ss_doctor_transfer) */
} ss_doctor_target_t;

typedef struct {
	ss_doctor_opts_t o;
	ss_doctor_step_t steps[SS_DOCTOR_NSTEPS];
	ss_doctor_action_t *actions; /* owned */
	size_t nactions;
	/* doctor's own findings (notify-refused, secondary-not-transferring),
	 * kept across probes: only findings/nfindings are used */
	ss_zone_result_t own;

	/* The record of the run (set by the functions below). */
	bool has_reference;          /* the first probe had a reference serial */
	char *zone;                  /* the zone, presentation form (owned) */
	char *file_seen;             /* the step 2/3 finding before the repair replaced the probe */
	ss_doctor_target_t *targets; /* owned: the servers behind at step 6 */
	size_t ntargets;
	uint32_t notified_serial; /* the serial the NOTIFYs carried */

	ss_doctor_verdict_t verdict; /* after ss_doctor_finish */
	bool converged;
} ss_doctor_t;

/* Start a run (zeroes d; o is copied, its pointers borrowed). */
SS_API void ss_doctor_init(ss_doctor_t *d, const ss_doctor_opts_t *o);

/* Free what d owns. */
SS_API void ss_doctor_clear(ss_doctor_t *d);

/* Record an action (result printf-formatted). */
SS_API int ss_doctor_action(ss_doctor_t *d, ss_action_kind_t kind, const char *target,
                            const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Step 1 on the first probe; also notes whether there is a reference at all
 * (without one, steps 2 to 8 are BLOCKED). */
SS_API int ss_doctor_serials(ss_doctor_t *d, const ss_zone_result_t *res);

/*
 * Step 2: true when --fix should reload the zone file now (its serial is
 * not served: *want is the serial the primary must then serve); then call
 * ss_doctor_published_end with the repair's outcome. False: the step is
 * assessed already.
 */
SS_API bool ss_doctor_published_begin(ss_doctor_t *d, const ss_zone_result_t *res, uint32_t *want);
SS_API int ss_doctor_published_end(ss_doctor_t *d, bool repaired);

/*
 * Step 3: true when --fix should raise the serial of the zone file now (data
 * changed without it; the new serial must be above *above, the served one); then
 * ss_doctor_raised_end. False: the step is assessed already.
 */
SS_API bool ss_doctor_raised_begin(ss_doctor_t *d, const ss_zone_result_t *res, uint32_t *above);
SS_API int ss_doctor_raised_end(ss_doctor_t *d, bool repaired);

/* Steps 4 and 5. */
SS_API int ss_doctor_direction(ss_doctor_t *d, const ss_zone_result_t *res);
SS_API int ss_doctor_source(ss_doctor_t *d, const ss_zone_result_t *res);

/*
 * Step 6: the servers to NOTIFY (d->targets: behind, 2^31 away, SERVFAIL;
 * never the primary) and the serial to carry. Returns how many; 0 when there
 * is nothing to send (or no --fix): steps 6 and 7 are then assessed.
 * Negative SS_ENOMEM.
 */
SS_API long ss_doctor_notify_begin(ss_doctor_t *d, const ss_zone_result_t *res);

/* A NOTIFY to target i went out (the user confirmed it). */
SS_API void ss_doctor_notify_sent(ss_doctor_t *d, size_t i);

/* The answer to one NOTIFY (records the action, and notify-refused with the
 * server's observation from res, which may lack it). */
SS_API int ss_doctor_notified(ss_doctor_t *d, const ss_zone_result_t *res,
                              const ss_notify_result_t *answer);

/* All answers are in: step 6 assessed. Returns true when some target
 * acknowledged, so the command waits (ss_doctor_moved) and then calls
 * ss_doctor_transfer; false: step 7 is assessed too. */
SS_API bool ss_doctor_notify_end(ss_doctor_t *d, const ss_zone_result_t *res);

/* Every acknowledging target serves the notified serial or later in res. */
SS_API bool ss_doctor_moved(const ss_doctor_t *d, const ss_zone_result_t *res);

/* Step 7 after waiting waited_ms for the acknowledging targets to move:
 * those that did not get secondary-not-transferring. */
SS_API int ss_doctor_transfer(ss_doctor_t *d, const ss_zone_result_t *res, uint64_t waited_ms);

/* Every server that counts serves the reference serial (and, with content,
 * the same data). A server newer than a primary gone backwards is not
 * converged: the servers must agree. */
SS_API bool ss_zone_converged(const ss_zone_result_t *res, bool content);

/*
 * Whether waiting can still change the outcome: with --fix, not converged,
 * and some server that is not converged is neither diagnosed (refused or
 * unanswered NOTIFY, no transfer after one, not notified, ahead of a primary
 * gone backwards, not serving the zone, unreachable, same serial with other
 * data) nor blocked by a missing reference.
 */
SS_API bool ss_doctor_should_wait(const ss_doctor_t *d, const ss_zone_result_t *res);

/* The servers a wait is still for (step 7: acknowledging targets that have
 * not moved; step 8: servers not converged). Writes at most cap. */
SS_API size_t ss_doctor_awaited(const ss_doctor_t *d, const ss_zone_result_t *res, ss_step_t step,
                                ss_addr_t *out, size_t cap);

/* Steps 8 and 9 on the last probe. */
SS_API int ss_doctor_converge(ss_doctor_t *d, const ss_zone_result_t *res);
SS_API int ss_doctor_guard(ss_doctor_t *d, const ss_zone_result_t *res);

/* The verdict of the run (d->verdict, d->converged) from the last probe and
 * the steps. */
SS_API ss_doctor_verdict_t ss_doctor_finish(ss_doctor_t *d, const ss_zone_result_t *res);

/* The exit status of a verdict: 0 converged, 2 otherwise. */
SS_API int ss_doctor_exit_status(ss_doctor_verdict_t v);

/* The primary serves want or later (the reference is at least want). */
SS_API bool ss_doctor_primary_serves(const ss_zone_result_t *res, uint32_t want);

/* The servers a NOTIFY should reach: behind the reference (or exactly 2^31
 * away), or answering SERVFAIL (expired); with all, every secondary. Never
 * the primary. Writes at most cap addresses; returns how many. */
SS_API size_t ss_zone_laggards(const ss_zone_result_t *res, bool all, ss_addr_t *out, size_t cap);

/* notify-refused, added to out: the secondary s of the probe res answered
 * the NOTIFY with rcode (and the TSIG error, or 0); the fix is the vendor's
 * way to accept NOTIFY (ss_fix_allow_notify, which for PowerDNS names both
 * ways out: retrieve now, or trust this host as a notification proxy). */
SS_API int ss_doctor_notify_refused(ss_zone_result_t *out, const ss_zone_result_t *res,
                                    const ss_server_obs_t *s, int rcode, int tsig_error);

/* secondary-not-transferring, added to out: s (of the probe res)
 * acknowledged a NOTIFY and still serves its old serial (or no longer
 * answers) waited_ms later. */
SS_API int ss_doctor_not_transferring(ss_zone_result_t *out, const ss_zone_result_t *res,
                                      const ss_server_obs_t *s, uint64_t waited_ms);

#endif
