/*
 * soasync: SOA serial number arithmetic (RFC 1982, SERIAL_BITS = 32).
 *
 * Every serial verdict in soasync goes through ss_serial_cmp(). Two serials
 * exactly 2^31 apart have no defined order: that is the fourth answer, and
 * callers must handle it rather than guess.
 */
#ifndef SOASYNC_SERIAL_H
#define SOASYNC_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <soasync/api.h>

typedef enum {
	SS_SERIAL_LESS = -1,     /* a precedes b: b is newer */
	SS_SERIAL_EQUAL = 0,     /* same serial */
	SS_SERIAL_GREATER = 1,   /* a follows b: a is newer */
	SS_SERIAL_UNDEFINED = 2, /* a and b are exactly 2^31 apart */
} ss_serial_order_t;

/* The largest increment RFC 1982 allows in one step: 2^31 - 1. */
#define SS_SERIAL_MAX_STEP UINT32_C(0x7fffffff)

/* Compare a with b: the order of a relative to b. */
SS_API ss_serial_order_t ss_serial_cmp(uint32_t a, uint32_t b);

/* "less", "equal", "greater" or "undefined". */
SS_API const char *ss_serial_order_name(ss_serial_order_t order);

/* Forward distance from a to b, (b - a) mod 2^32: how far b lies ahead of a. */
SS_API uint32_t ss_serial_distance(uint32_t a, uint32_t b);

/*
 * The serials to publish, in order, to move a zone from `from` to `to` so that
 * every step is greater (RFC 1982) than the one before; the last is `to`.
 * Writes at most `cap` serials to `out` and returns how many the plan has
 * (1 when `to` is already greater or equal, 2 or 3 when going backwards), or
 * SS_EINVAL when `cap` is too small.
 */
SS_API int ss_serial_plan(uint32_t from, uint32_t to, uint32_t *out, size_t cap);

/*
 * Does this serial look wrong? Returns true, with a one-line reason in why
 * (may be NULL; truncated to len), when it is 0, when it reads as a date
 * serial YYYYMMDDnn (years 1990 to 2100) that names an impossible date or a
 * day after now + 1 day, or when it reads as a Unix time (2001 to 2100) more
 * than one day after now. Returns false and leaves why empty otherwise.
 * now: seconds since the epoch (UTC); the one day of slack absorbs time zones.
 */
SS_API bool ss_serial_sanity(uint32_t serial, time_t now, char *why, size_t len);

#endif
