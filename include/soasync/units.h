/*
 * soasync: durations and sizes as people write them, for the command line
 * and the monitor's config: "1500ms", "2s", "5m", "1h", "1d"; "64M", "1G".
 */
#ifndef SOASYNC_UNITS_H
#define SOASYNC_UNITS_H

#include <stdint.h>

#include <soasync/api.h>

/*
 * A duration: a decimal number followed by a unit (ms, s, m, h, d), or a bare
 * number counted in bare_unit_ms milliseconds (1: milliseconds, 1000:
 * seconds; 0: a unit is required). *ms gets milliseconds. Returns 0,
 * SS_EPARSE (not a duration) or SS_ELIMIT (beyond 2^53 ms).
 */
SS_API int ss_duration_parse(const char *s, uint64_t bare_unit_ms, uint64_t *ms);

/*
 * A size: a decimal number with an optional suffix K, M, G, T (powers of
 * 1024; "KB", "KiB" and lower case accepted too). *bytes gets bytes. Returns
 * 0, SS_EPARSE or SS_ELIMIT (beyond 2^63).
 */
SS_API int ss_size_parse(const char *s, uint64_t *bytes);

/* "1.5s", "250ms", "5m", "2h", "3d": the largest unit that keeps it short.
 * Writes at most len bytes (NUL included); returns buf. */
SS_API const char *ss_duration_format(uint64_t ms, char *buf, unsigned len);

#endif
