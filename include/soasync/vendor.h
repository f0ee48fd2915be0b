/*
 * soasync: what each server implementation is and how its operator is told
 * to act on it. The one place for vendor knowledge: names, the
 * classification of CHAOS version strings, and the commands and
 * configuration statements quoted in findings' fix texts. Pure functions;
 * returned strings are static (or written into the caller's buffer).
 */
#ifndef SOASYNC_VENDOR_H
#define SOASYNC_VENDOR_H

#include <stddef.h>

#include <soasync/addr.h>
#include <soasync/api.h>

typedef enum {
	SS_VENDOR_UNKNOWN = 0,
	SS_VENDOR_BIND,
	SS_VENDOR_NSD,
	SS_VENDOR_KNOT,
	SS_VENDOR_POWERDNS,
	SS_VENDOR_UNBOUND,
	SS_VENDOR_OTHER, /* answered with a version string we do not know */
} ss_vendor_t;

/* "bind", "nsd", "knot", "powerdns", "unbound", "other", NULL for unknown. */
SS_API const char *ss_vendor_name(ss_vendor_t v);

/* Classify a CHAOS version.bind / version.server string (NULL: unknown). */
SS_API ss_vendor_t ss_vendor_classify(const char *version);

/*
 * The vendor-specific command that makes a secondary transfer the zone now,
 * written into buf (len bytes, truncated if short); returns buf. Unknown
 * vendors get "soasync notify ZONE --to ADDR".
 */
SS_API const char *ss_fix_retransfer(ss_vendor_t v, char *buf, size_t len, const char *zone,
                                     const ss_addr_t *addr);

/*
 * The command(s) that make a primary load its changed zone file and send
 * NOTIFY, written into buf (len bytes, truncated if short); returns buf.
 * Unknown vendors get every vendor's command.
 */
SS_API const char *ss_fix_reload(ss_vendor_t v, char *buf, size_t len, const char *zone);

/* Where the vendor's transfer ACL is configured (on a primary). */
SS_API const char *ss_fix_transfer_acl(ss_vendor_t v);

/*
 * How a secondary of that vendor that refused this host's NOTIFY is made to
 * act on it (PowerDNS: both ways out, as it accepts NOTIFY only from the
 * zone's primaries or a trusted-notification-proxy). ZONE in the text
 * stands for the zone.
 */
SS_API const char *ss_fix_allow_notify(ss_vendor_t v);

/* Where the vendor is told which primaries a secondary transfers from. */
SS_API const char *ss_fix_transfer_source(ss_vendor_t v);

#endif
