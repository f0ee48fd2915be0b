/*
 * Raising the serial of one zone file: the core of 'soasync serial bump',
 * shared with 'soasync guard --fix'.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/error.h>
#include <soasync/serial.h>
#include <soasync/serial_live.h>

#include "bump.h"
#include "opts.h"
#include "render_cmds.h"
#include "session.h"

void cli_bump_init(cli_bump_t *b)
{
	memset(b, 0, sizeof(*b));
	b->opts.policy = SS_BUMP_INCREMENT;
	b->timeout_ms = 1500;
}

int cli_now(time_t *now)
{
	const char *env = getenv("SOASYNC_NOW");
	if (env == NULL || *env == '\0') {
		*now = time(NULL);
		return 0;
	}
	char *end = NULL;
	errno = 0;
	long long v = strtoll(env, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || env[0] == '-' || env[0] == '+') {
		cli_err("SOASYNC_NOW: expected Unix seconds, got '%s'", env);
		return -1;
	}
	*now = (time_t)v;
	return 0;
}

int cli_parse_serial(const char *what, const char *arg, uint32_t *out)
{
	uint64_t v = 0;
	size_t n = strlen(arg);
	for (size_t i = 0; i < n && v <= UINT32_MAX; i++) {
		if (arg[i] < '0' || arg[i] > '9') {
			v = UINT64_MAX;
			break;
		}
		v = v * 10 + (uint64_t)(arg[i] - '0');
	}
	if (n == 0 || v > UINT32_MAX) {
		cli_err("%s: '%s' is not a serial: expected a number from 0 to 4294967295", what,
		        arg);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

void cli_zone_error(const ss_zone_error_t *err, int code)
{
	const char *msg = err->message[0] != '\0' ? err->message : ss_strerror(code);
	if (err->line > 0) {
		fprintf(stderr, "soasync: %s:%llu: %s\n", err->file, (unsigned long long)err->line,
		        msg);
	} else {
		cli_zerr(err->file, "%s", msg);
	}
}

static void live_answered(const ss_live_soa_t *res, void *arg)
{
	*(ss_live_soa_t *)arg = *res;
}

/* What the --live server serves for the file's zone, into o; -1 after a message. */
static int live_serial(const cli_bump_t *b, const ss_serial_loc_t *loc, const char *path,
                       ss_bump_opts_t *o)
{
	knot_dname_storage_t zone;
	if (b->origin != NULL) {
		knot_dname_from_str(zone, b->origin, sizeof(zone));
	} else if (loc->owner_known) {
		knot_dname_copy_lower(zone, loc->owner);
	} else {
		cli_zerr(path,
		         "--live: cannot tell the zone's name (relative SOA owner, no $ORIGIN, "
		         "file name gives none); use --origin");
		return -1;
	}
	char addr[SS_ADDR_STRLEN], name[KNOT_DNAME_TXT_MAXLEN + 1];
	ss_addr_format(&b->live, addr, sizeof(addr));
	knot_dname_to_str(name, zone, sizeof(name));
	cli_net_t net;
	cli_net_init(&net);
	net.eng.timeout_ms = b->timeout_ms;
	cli_session_t s;
	ss_live_soa_t l = {.status = SS_LIVE_NO_ANSWER, .error = SS_ENOMEM};
	snprintf(l.detail, sizeof(l.detail), "%s", ss_strerror(SS_ENOMEM));
	if (cli_session_open(&s, &net) != 0) {
		return -1;
	}
	if (ss_live_soa_query(s.e, &b->live, zone, live_answered, &l) == 0) {
		cli_session_run(&s);
	}
	cli_session_close(&s);
	if (l.status != SS_LIVE_OK) {
		cli_zerr(path, "--live %s: no authoritative SOA for %s: %s; left unchanged", addr,
		         name, l.detail);
		return -1;
	}
	o->has_above = true;
	o->above = l.serial;
	return 0;
}

static int write_back(const char *path, const char *data, size_t len, const ss_serial_loc_t *loc,
                      uint32_t next, const struct stat *st)
{
	char *out = NULL;
	size_t olen = 0;
	if (ss_serial_replace(data, len, loc, next, &out, &olen) != 0) {
		cli_zerr(path, "out of memory");
		return -1;
	}
	int r = ss_file_replace(path, out, olen, st);
	int saved = errno;
	free(out);
	if (r == SS_ESTATE) {
		cli_zerr(path, "changed while soasync worked on it; left alone, try again");
	} else if (r == SS_EHARDLINK) {
		cli_zerr(path,
		         "has %ju hard links: replacing it would give only this name the new "
		         "serial, the other links would keep the old one; left unchanged (make "
		         "it one file, or the others symbolic links, then bump it)",
		         (uintmax_t)st->st_nlink);
	} else if (r != 0) {
		cli_zerr(path, "cannot write: %s; left unchanged", strerror(saved));
	}
	return r == 0 ? 0 : -1;
}

int cli_bump_file(const cli_bump_t *b, const char *path, uint32_t *old_out, uint32_t *new_out)
{
	char *data = NULL;
	size_t len = 0;
	struct stat st;
	ss_serial_loc_t loc;
	ss_zone_error_t err = {0};
	int ret = -1;
	if (ss_file_read(path, &data, &len, &st) != 0) {
		cli_zerr(path, "cannot read: %s",
		         errno == EINVAL ? "not a regular file" : strerror(errno));
		goto fail;
	}
	int r = ss_serial_locate(data, len, path, b->origin, 0, &loc, &err);
	if (r != 0) {
		cli_zone_error(&err, r);
		goto fail;
	}
	ss_bump_opts_t o = b->opts;
	if (b->has_live && live_serial(b, &loc, path, &o) != 0) {
		goto fail;
	}
	uint32_t next = 0;
	char why[512];
	if (ss_serial_next(loc.serial, &o, &next, why, sizeof(why)) != 0) {
		fprintf(stderr, "soasync: %s:%llu: %s\n", path, (unsigned long long)loc.line, why);
		goto fail;
	}
	if (b->has_live && ss_serial_went_past(loc.serial, &o, next)) {
		cli_zerr(path,
		         "the server serves %" PRIu32 ", ahead of the file's %" PRIu32
		         ": going past it",
		         o.above, loc.serial);
	}
	if (!b->dry_run && write_back(path, data, len, &loc, next, &st) != 0) {
		goto fail;
	}
	if (!b->quiet) {
		render_bump(stdout, path, loc.serial, next);
	}
	*old_out = loc.serial;
	*new_out = next;
	ret = 0;
fail:
	free(data);
	return ret;
}
