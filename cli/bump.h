/*
 * soasync CLI: raising a zone file's serial, shared by 'serial bump',
 * 'guard --fix' and 'doctor --fix'.
 */
#ifndef SOASYNC_BUMP_H
#define SOASYNC_BUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <soasync/addr.h>
#include <soasync/serialedit.h>
#include <soasync/zone.h>

typedef struct {
	ss_bump_opts_t opts; /* policy, now, at_least (has_live is set per file) */
	const char *origin;  /* --origin, or NULL */
	bool has_live;       /* --live: also go past what this server serves */
	ss_addr_t live;
	unsigned timeout_ms; /* for --live */
	bool dry_run;
	bool quiet; /* no "FILE: OLD -> NEW" line (doctor reports it itself) */
} cli_bump_t;

void cli_bump_init(cli_bump_t *b);
/* Bump one file in place (or not, with dry_run) and print "FILE: OLD -> NEW";
 * on error print "soasync: FILE[:LINE]: message", leave the file as it was
 * and return -1. */
int cli_bump_file(const cli_bump_t *b, const char *path, uint32_t *old_out, uint32_t *new_out);
/* Now, or SOASYNC_NOW (Unix seconds, a testing aid); -1 after a message. */
int cli_now(time_t *now);
/* "soasync: FILE:LINE: message" for a zone-file error. */
void cli_zone_error(const ss_zone_error_t *err, int code);

#endif
