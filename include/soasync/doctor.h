/*
 * soasync: the verdicts of the troubleshooting path that check alone cannot
 * reach: after a NOTIFY, did the secondary move? Pure functions on results.
 */
#ifndef SOASYNC_DOCTOR_H
#define SOASYNC_DOCTOR_H

#include <stdbool.h>

#include <soasync/api.h>
#include <soasync/check.h>

/* Every server of the zone (but a hidden primary learned from the MNAME)
 * serves the reference serial, and with content the same data. */
SS_API bool ss_zone_converged(const ss_zone_result_t *res, bool content);

/* The servers a NOTIFY should reach: behind the reference (or exactly 2^31
 * away), or answering SERVFAIL (expired); with all, every secondary. Never
 * the primary. Writes at most cap addresses; returns how many. */
SS_API size_t ss_zone_laggards(const ss_zone_result_t *res, bool all, ss_addr_t *out, size_t cap);

/* notify-refused: the secondary s answered the NOTIFY with rcode (and the
 * TSIG error, or 0). Returns 0 or SS_ENOMEM. */
SS_API int ss_doctor_notify_refused(ss_zone_result_t *res, const ss_server_obs_t *s, int rcode,
                                    int tsig_error);

/* secondary-not-transferring: s acknowledged a NOTIFY and still serves its
 * old serial waited_s seconds later. Returns 0 or SS_ENOMEM. */
SS_API int ss_doctor_not_transferring(ss_zone_result_t *res, const ss_server_obs_t *s,
                                      unsigned waited_s);

#endif
