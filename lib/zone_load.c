/*
 * Master files through libzscanner, record by record (zs_parse_record), so
 * that $INCLUDE, the TTL rules and the first error stay in our hands.
 *
 * The origin, when not given, is found by a first scan that stops at the
 * first SOA: under a placeholder origin that no real name ends in, an SOA
 * owner still below the placeholder was relative with no $ORIGIN before it,
 * and only then does the file name decide.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libzscanner/scanner.h>

#include <soasync/error.h>
#include <soasync/fileio.h>

#include "zone_int.h"
#include "zone_text.h"

#define INCLUDE_DEPTH_MAX 16
/* zscanner's TTL for records without one while no $TTL is in force. A TTL
 * of 2^32-1 written in the file reads as none: RFC 2181 8 caps TTLs far
 * below it anyway. */
#define TTL_UNSET   UINT32_MAX
#define DEFAULT_TTL 3600
/* Placeholder origin "\000." while probing: a relative name ends in it. */
static const uint8_t PROBE_ORIGIN[] = {1, 0, 0};
#define PROBE_ORIGIN_TEXT "\\000."
/* The scan found what the probe looks for. */
#define SCAN_FOUND 1
/* The input has CRLF line ends: load again from LF copies. */
#define SCAN_CRLF 2
/* An unknown directive, maybe $GENERATE: load again expanding it. */
#define SCAN_GENERATE 3
/* Load modes, set as the retries above ask for them. */
#define MODE_LF       1u /* read every input through an LF copy */
#define MODE_GENERATE 2u /* read every input as text, $GENERATE expanded */
/* Records $GENERATE may make in one load: a /12 of PTRs, far beyond any
 * real reverse zone, and a bound a 40-byte line cannot blow past. */
#define GENERATE_MAX ((size_t)1 << 20)

typedef struct {
	ss_zone_t *z; /* NULL while probing */
	ss_zone_error_t *err;
	bool allow_include;
	bool lf_mode;      /* read every input through an LF copy */
	bool gen_mode;     /* read every input as text and expand $GENERATE */
	uint64_t gen_line; /* while expanding: the $GENERATE's line, for errors */
	uint32_t fallback_ttl;
	bool have_last_ttl;
	uint32_t last_ttl;
	knot_dname_storage_t probe_owner;
	bool have_soa;
	uint16_t soa_len;
	uint8_t soa_rdata[2 * KNOT_DNAME_MAXLEN + 20];
} load_t;

static int fail(load_t *l, int code, const char *file, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail(load_t *l, int code, const char *file, uint64_t line, const char *fmt, ...)
{
	if (l->err != NULL) {
		va_list ap;
		va_start(ap, fmt);
		snprintf(l->err->file, sizeof(l->err->file), "%s", file);
		l->err->line = line;
		vsnprintf(l->err->message, sizeof(l->err->message), fmt, ap);
		va_end(ap);
	}
	return code;
}

/* The line a record (or directive) ends on: zscanner hands it over before
 * counting its newline. A generated record is the $GENERATE's. */
static uint64_t record_line(const load_t *l, const zs_scanner_t *s)
{
	return l->gen_line != 0 ? l->gen_line : s->line_counter;
}

/* RFC 1035 5.1: while no $TTL is in force, a record without TTL takes the
 * last one written; before any, the fallback. */
static uint32_t record_ttl(load_t *l, const zs_scanner_t *s)
{
	if (s->default_ttl != TTL_UNSET) {
		return s->r_ttl;
	}
	if (s->r_ttl != TTL_UNSET) {
		l->have_last_ttl = true;
		l->last_ttl = s->r_ttl;
		return s->r_ttl;
	}
	if (l->have_last_ttl) {
		return l->last_ttl;
	}
	l->z->info.default_ttl_records++;
	return l->fallback_ttl;
}

/* A second apex SOA that is not a duplicate of the first. */
static int check_soa(load_t *l, const zs_scanner_t *s, const char *file)
{
	const uint8_t *rd;
	uint16_t len;
	zone_last_rdata(l->z, &rd, &len);
	if (!l->have_soa) {
		l->have_soa = true;
		l->soa_len = len < sizeof(l->soa_rdata) ? len : sizeof(l->soa_rdata);
		memcpy(l->soa_rdata, rd, l->soa_len);
		return 0;
	}
	if (len == l->soa_len && memcmp(rd, l->soa_rdata, len) == 0) {
		return 0;
	}
	char name[KNOT_DNAME_TXT_MAXLEN + 1];
	knot_dname_to_str(name, l->z->origin, sizeof(name));
	return fail(l, SS_EMULTISOA, file, record_line(l, s),
	            "a second, different SOA record at %s", name);
}

static int on_record(load_t *l, zs_scanner_t *s, const char *file)
{
	if (l->z == NULL) {
		if (s->r_type != KNOT_RRTYPE_SOA) {
			return 0;
		}
		memcpy(l->probe_owner, s->r_owner, s->r_owner_length);
		return SCAN_FOUND;
	}
	bool outside = false;
	int ret = zone_add(l->z, s->r_owner, s->r_type, s->r_class, record_ttl(l, s), s->r_data,
	                   (uint16_t)s->r_data_length, &outside);
	if (outside) {
		l->z->out_of_zone++;
		return 0;
	}
	if (ret == SS_EINVAL) {
		char type[32];
		knot_rrtype_to_string(s->r_type, type, sizeof(type));
		return fail(l, SS_EPARSE, file, record_line(l, s), "malformed %s rdata", type);
	}
	if (ret != 0) {
		return fail(l, ret, file, record_line(l, s), "%s", ss_strerror(ret));
	}
	if (s->r_type == KNOT_RRTYPE_SOA && knot_dname_is_case_equal(s->r_owner, l->z->origin)) {
		return check_soa(l, s, file);
	}
	return 0;
}

/*
 * zscanner refuses CRLF line ends (ZS_DOS_NEWLINE), which files from some
 * editors have. When it does, the load starts over reading every input
 * from a copy with LF ends (lf_mode); line numbers stay the same. Files
 * without CRLF cost nothing extra that way. Returns the copy (caller frees),
 * or NULL when the input has no CRLF or memory ran out (*nomem).
 */
/* memchr is far faster than memmem for this on glibc. */
static bool has_crlf(const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	while ((p = memchr(p, '\r', (size_t)(end - p))) != NULL && p + 1 < end) {
		if (p[1] == '\n') {
			return true;
		}
		p++;
	}
	return false;
}

static char *lf_copy(const char *text, size_t len, size_t *outlen, bool *nomem)
{
	*nomem = false;
	if (!has_crlf(text, len)) {
		return NULL;
	}
	char *copy = malloc(len), *out = copy;
	if (copy == NULL) {
		*nomem = true;
		return NULL;
	}
	for (size_t i = 0; i < len; i++) {
		if (!(text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')) {
			*out++ = text[i];
		}
	}
	*outlen = (size_t)(out - copy);
	return copy;
}

/* The LF copy of a regular file with CRLF ends, or NULL (see lf_copy;
 * files that cannot be mapped are left to zscanner, which reports why). */
static char *file_lf_copy(const char *path, size_t *outlen, bool *nomem)
{
	*nomem = false;
	int fd = open(path, O_RDONLY);
	struct stat st;
	char *copy = NULL;
	if (fd < 0) {
		return NULL;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map != MAP_FAILED) {
			copy = lf_copy(map, (size_t)st.st_size, outlen, nomem);
			munmap(map, (size_t)st.st_size);
		}
	}
	close(fd);
	return copy;
}

/* What to scan: a file (path), or text; text copied from a file (its LF
 * copy) keeps the file's directory for $INCLUDE. */
typedef struct {
	const char *path;
	const char *text;
	size_t len;
	bool from_file;
} input_t;

static int set_path(zs_scanner_t *s, const char *path)
{
	char *full = realpath(path, NULL);
	char *dir = full != NULL ? strdup(dirname(full)) : NULL;
	free(full);
	if (dir == NULL) {
		s->error.code = ZS_ENOMEM;
		return -1;
	}
	free(s->path);
	s->path = dir;
	return 0;
}

static int set_input(zs_scanner_t *s, const input_t *in)
{
	if (in->text == NULL) {
		return zs_set_input_file(s, in->path);
	}
	if (zs_set_input_string(s, in->text, in->len) != 0) {
		return -1;
	}
	return in->from_file ? set_path(s, in->path) : 0;
}

/* A whole file as text, through an LF copy in lf_mode; *copy to free. */
static int file_text(const load_t *l, const char *path, input_t *in, char **copy)
{
	char *data = NULL;
	size_t len = 0;
	int ret = ss_file_read(path, &data, &len, NULL);
	if (ret != 0) {
		return ret;
	}
	bool nomem = false;
	size_t n = 0;
	char *lf = l->lf_mode ? lf_copy(data, len, &n, &nomem) : NULL;
	if (lf != NULL) {
		free(data);
		data = lf;
		len = n;
	}
	*copy = data;
	*in = (input_t){.path = path, .text = data, .len = len, .from_file = true};
	return nomem ? SS_ENOMEM : 0;
}

/* The input for a file: in lf_mode its LF copy when it has CRLF ends, in
 * gen_mode its text (*copy, to free). */
static int file_input(const load_t *l, const char *path, input_t *in, char **copy)
{
	if (l->gen_mode) {
		return file_text(l, path, in, copy);
	}
	bool nomem = false;
	size_t n = 0;
	*copy = l->lf_mode ? file_lf_copy(path, &n, &nomem) : NULL;
	*in = (input_t){.path = path, .text = *copy, .len = n, .from_file = *copy != NULL};
	return nomem ? SS_ENOMEM : 0;
}

static int scan(load_t *l, zs_scanner_t *s, const char *file, unsigned depth);
static int scan_body(load_t *l, zs_scanner_t *s, const input_t *in, const char *file,
                     unsigned depth);

static int on_include(load_t *l, zs_scanner_t *s, const char *file, unsigned depth)
{
	const char *inc = s->include_filename;
	uint64_t line = record_line(l, s);
	struct stat st;
	if (!l->allow_include) {
		return fail(l, SS_EPARSE, file, line, "$INCLUDE is not allowed in this input");
	}
	if (depth + 1 >= INCLUDE_DEPTH_MAX) {
		return fail(l, SS_EPARSE, file, line, "$INCLUDE nested more than %d deep",
		            INCLUDE_DEPTH_MAX);
	}
	if (stat(inc, &st) != 0) {
		return fail(l, SS_EIO, file, line, "$INCLUDE %s: %s", inc, strerror(errno));
	}
	if (!S_ISREG(st.st_mode)) {
		return fail(l, SS_EIO, file, line, "$INCLUDE %s: not a regular file", inc);
	}
	zs_scanner_t *sub = malloc(sizeof(*sub));
	if (sub == NULL) {
		return fail(l, SS_ENOMEM, file, line, "%s", ss_strerror(SS_ENOMEM));
	}
	int ret;
	char *copy = NULL;
	input_t in;
	/* The buffer holds the origin for the included file, as text. */
	if ((ret = file_input(l, inc, &in, &copy)) != 0) {
		ret = fail(l, ret, file, line, "$INCLUDE %s: %s", inc,
		           ret == SS_ENOMEM ? ss_strerror(ret) : strerror(errno));
	} else if (zs_init(sub, (const char *)s->buffer, s->default_class, s->default_ttl) != 0 ||
	           set_input(sub, &in) != 0) {
		ret = fail(l, sub->error.code == ZS_ENOMEM ? SS_ENOMEM : SS_EIO, file, line,
		           "$INCLUDE %s: %s", inc, zs_strerror(sub->error.code));
	} else {
		ret = scan_body(l, sub, &in, inc, depth + 1);
	}
	zs_deinit(sub);
	free(sub);
	free(copy);
	return ret;
}

static int scan_error(load_t *l, const zs_scanner_t *s, const char *file)
{
	uint64_t line = l->gen_line != 0 ? l->gen_line : s->line_counter;
	if (s->error.code == ZS_DOS_NEWLINE && !l->lf_mode) {
		return SCAN_CRLF;
	}
	if (s->error.code == ZS_BAD_DIRECTIVE && !l->gen_mode) {
		return SCAN_GENERATE;
	}
	/* Found at the end of input, after the newline zscanner adds there. */
	if (s->error.code == ZS_UNCLOSED_MULTILINE && line > 1) {
		line--;
	}
	return fail(l, s->error.code == ZS_ENOMEM ? SS_ENOMEM : SS_EPARSE, file, line, "%s",
	            zs_strerror(s->error.code));
}

static int scan(load_t *l, zs_scanner_t *s, const char *file, unsigned depth)
{
	for (;;) {
		int rc = zs_parse_record(s), ret = 0;
		switch (s->state) {
		case ZS_STATE_DATA:
			ret = on_record(l, s, file);
			break;
		case ZS_STATE_INCLUDE:
			ret = on_include(l, s, file, depth);
			break;
		case ZS_STATE_EOF:
		case ZS_STATE_STOP:
			return 0;
		default:
			/* ZS_STATE_ERROR, or a failure before any state. */
			return scan_error(l, s, file);
		}
		if (ret != 0) {
			return ret;
		}
		(void)rc;
	}
}

static uint64_t count_lines(const char *t, size_t len)
{
	uint64_t n = 0;
	for (const char *p = t, *end = t + len; (p = memchr(p, '\n', (size_t)(end - p))) != NULL;
	     p++) {
		n++;
	}
	return n;
}

/* Text scanned as a continuation of what s read before ($ORIGIN, $TTL, the
 * previous owner stay), line numbers going on from line. */
static int scan_segment(load_t *l, zs_scanner_t *s, const char *t, size_t len, uint64_t line,
                        const char *file, unsigned depth)
{
	if (len == 0) {
		return 0;
	}
	if (zs_set_input_string(s, t, len) != 0) {
		return fail(l, SS_ENOMEM, file, line, "%s", ss_strerror(SS_ENOMEM));
	}
	s->line_counter = line;
	return scan(l, s, file, depth);
}

typedef struct {
	load_t *l;
	zs_scanner_t *sub;
	const char *file;
} gen_ctx_t;

static int generated(const char *lines, size_t len, void *arg)
{
	gen_ctx_t *g = arg;
	return scan_segment(g->l, g->sub, lines, len, g->l->gen_line, g->file, INCLUDE_DEPTH_MAX);
}

/* The records of one $GENERATE, read by a scanner of their own under s's
 * origin, $TTL and class: they do not change s's previous owner, as in BIND. */
static int generate(load_t *l, zs_scanner_t *s, const char *t, const zt_entry_t *e, uint64_t line,
                    const char *file)
{
	char origin[KNOT_DNAME_TXT_MAXLEN + 1], why[256] = "";
	if (l->z == NULL) {
		return 0; /* looking for the origin: the SOA is written out */
	}
	zs_scanner_t *sub = malloc(sizeof(*sub));
	if (sub == NULL || knot_dname_to_str(origin, s->zone_origin, sizeof(origin)) == NULL ||
	    zs_init(sub, origin, s->default_class, s->default_ttl) != 0) {
		if (sub != NULL) {
			zs_deinit(sub);
		}
		free(sub);
		return fail(l, SS_ENOMEM, file, line, "%s", ss_strerror(SS_ENOMEM));
	}
	gen_ctx_t g = {l, sub, file};
	l->gen_line = line;
	int ret =
	    zt_generate(t, e, GENERATE_MAX, &l->z->info.generated, generated, &g, why, sizeof(why));
	l->gen_line = 0;
	zs_deinit(sub);
	free(sub);
	return ret == -1 ? fail(l, SS_EPARSE, file, line, "%s", why) : ret;
}

/* The next $GENERATE entry from pos, or false (none, or text zscanner will
 * report as broken). */
static bool next_generate(const char *t, size_t len, size_t pos, zt_entry_t *e)
{
	while (pos < len) {
		if (zt_entry(t, len, pos, e) != 0) {
			return false;
		}
		if (zt_is_generate(t, e)) {
			return true;
		}
		pos = e->next;
	}
	return false;
}

/* A whole input: in gen_mode read as text, the $GENERATE entries expanded
 * between the stretches zscanner reads. */
static int scan_body(load_t *l, zs_scanner_t *s, const input_t *in, const char *file,
                     unsigned depth)
{
	if (!l->gen_mode || in->text == NULL) {
		return scan(l, s, file, depth);
	}
	const char *t = in->text;
	size_t pos = 0;
	uint64_t line = 1;
	for (;;) {
		zt_entry_t e;
		bool found = next_generate(t, in->len, pos, &e);
		size_t end = found ? e.start : in->len;
		int ret = scan_segment(l, s, t + pos, end - pos, line, file, depth);
		line += count_lines(t + pos, end - pos);
		if (ret != 0 || !found) {
			return ret;
		}
		if ((ret = generate(l, s, t, &e, line, file)) != 0) {
			return ret;
		}
		line += count_lines(t + e.start, e.next - e.start);
		pos = e.next;
	}
}

static int input_error(load_t *l, const zs_scanner_t *s, const char *name, int e)
{
	if (s->error.code == ZS_ENOMEM) {
		return fail(l, SS_ENOMEM, name, 0, "%s", ss_strerror(SS_ENOMEM));
	}
	if (s->error.code == ZS_FILE_INVALID) {
		return fail(l, SS_EIO, name, 0, "not a regular file");
	}
	return fail(l, SS_EIO, name, 0, "%s", strerror(e));
}

/* One pass over the input under origin_text. */
static int run(load_t *l, const char *origin_text, const input_t *in)
{
	const char *name = in->path;
	zs_scanner_t *s = malloc(sizeof(*s));
	if (s == NULL) {
		return fail(l, SS_ENOMEM, name, 0, "%s", ss_strerror(SS_ENOMEM));
	}
	int ret;
	if (zs_init(s, origin_text, KNOT_CLASS_IN, TTL_UNSET) != 0) {
		ret = fail(l, SS_EPARSE, name, 0, "bad origin: %s", zs_strerror(s->error.code));
	} else if (set_input(s, in) != 0) {
		ret = input_error(l, s, name, errno);
	} else {
		ret = scan_body(l, s, in, name, 0);
	}
	zs_deinit(s);
	free(s);
	return ret;
}

static int find_origin(load_t *l, const input_t *in, knot_dname_storage_t out,
                       ss_zone_name_source_t *source)
{
	const char *name = in->path;
	int ret = run(l, PROBE_ORIGIN_TEXT, in);
	if (ret < 0 || ret == SCAN_CRLF || ret == SCAN_GENERATE) {
		return ret;
	}
	if (ret == SCAN_FOUND && knot_dname_in_bailiwick(l->probe_owner, PROBE_ORIGIN) < 0) {
		memcpy(out, l->probe_owner, knot_dname_size(l->probe_owner));
		knot_dname_to_lower(out);
		*source = SS_ZONE_NAME_FROM_TEXT;
		return 0;
	}
	if (ss_zone_origin_from_filename(name, out) == 0) {
		*source = SS_ZONE_NAME_FROM_FILENAME;
		return 0;
	}
	if (ret == SCAN_FOUND) {
		return fail(l, SS_EPARSE, name, 0,
		            "the origin is unknown: the SOA owner is relative, no $ORIGIN "
		            "comes before it and the file name is no zone name");
	}
	return fail(l, SS_ENOSOA, name, 0, "no SOA record");
}

static int finish(load_t *l, const char *name)
{
	int ret = ss_zone_finish(l->z);
	if (ret == 0) {
		return 0;
	}
	char origin[KNOT_DNAME_TXT_MAXLEN + 1];
	knot_dname_to_str(origin, l->z->origin, sizeof(origin));
	if (ret == SS_ENOSOA) {
		return fail(l, ret, name, 0, "no SOA record at the origin %s", origin);
	}
	if (ret == SS_EMULTISOA) {
		return fail(l, ret, name, 0, "more than one SOA record at %s", origin);
	}
	return fail(l, ret, name, 0, "%s", ss_strerror(ret));
}

static int load(load_t *l, const input_t *in, const knot_dname_t *origin, ss_zone_t **out)
{
	const char *name = in->path;
	knot_dname_storage_t org;
	char org_text[KNOT_DNAME_TXT_MAXLEN + 1];
	double t0 = zone_now();
	int ret = 0;
	ss_zone_name_source_t source = SS_ZONE_NAME_GIVEN;
	if (origin != NULL) {
		memcpy(org, origin, knot_dname_size(origin));
	} else if ((ret = find_origin(l, in, org, &source)) != 0) {
		return ret;
	}
	l->z = ss_zone_new(org);
	if (l->z != NULL) {
		l->z->info.name_source = source;
		l->z->info.default_ttl = l->fallback_ttl;
	}
	if (l->z == NULL || knot_dname_to_str(org_text, l->z->origin, sizeof(org_text)) == NULL) {
		ret = fail(l, l->z ? SS_EINVAL : SS_ENOMEM, name, 0, "cannot use the origin");
		goto fail;
	}
	if ((ret = run(l, org_text, in)) != 0) {
		goto fail;
	}
	l->z->stats.parse_s = zone_now() - t0;
	if ((ret = finish(l, name)) != 0) {
		goto fail;
	}
	*out = l->z;
	return 0;
fail:
	ss_zone_free(l->z);
	return ret;
}

static void load_init(load_t *l, ss_zone_error_t *err, uint32_t default_ttl, bool include,
                      unsigned mode)
{
	memset(l, 0, sizeof(*l));
	l->err = err;
	l->allow_include = include;
	l->lf_mode = mode & MODE_LF;
	l->gen_mode = mode & MODE_GENERATE;
	l->fallback_ttl = default_ttl != 0 ? default_ttl : DEFAULT_TTL;
	if (err != NULL) {
		memset(err, 0, sizeof(*err));
	}
}

/* The mode a load that ended with ret asks to be tried again in: true
 * with *mode updated, false when ret is final (each retry is taken once). */
static bool next_mode(int ret, unsigned *mode)
{
	unsigned want = ret == SCAN_CRLF ? MODE_LF : ret == SCAN_GENERATE ? MODE_GENERATE : 0;
	if (want == 0 || (*mode & want) != 0) {
		return false;
	}
	*mode |= want;
	return true;
}

static int load_file(const char *path, const knot_dname_t *origin, uint32_t default_ttl,
                     unsigned mode, ss_zone_t **out, ss_zone_error_t *err)
{
	load_t l;
	load_init(&l, err, default_ttl, true, mode);
	input_t in;
	char *copy = NULL;
	int ret = file_input(&l, path, &in, &copy);
	if (ret != 0) {
		ret = fail(&l, ret, path, 0, "%s",
		           ret == SS_EIO ? strerror(errno) : ss_strerror(ret));
	} else {
		ret = load(&l, &in, origin, out);
	}
	free(copy);
	return ret;
}

int ss_zone_load_file(const char *path, const knot_dname_t *origin, uint32_t default_ttl,
                      ss_zone_t **out, ss_zone_error_t *err)
{
	if (out == NULL || path == NULL) {
		return SS_EINVAL;
	}
	*out = NULL;
	unsigned mode = 0;
	int ret;
	while (next_mode(ret = load_file(path, origin, default_ttl, mode, out, err), &mode)) {
	}
	return ret;
}

static int load_text(const char *text, size_t len, const char *name, const knot_dname_t *origin,
                     uint32_t default_ttl, unsigned mode, ss_zone_t **out, ss_zone_error_t *err)
{
	load_t l;
	load_init(&l, err, default_ttl, false, mode);
	bool nomem = false;
	size_t n = 0;
	char *copy = l.lf_mode ? lf_copy(text, len, &n, &nomem) : NULL;
	input_t in = {.path = name, .text = copy ? copy : text, .len = copy ? n : len};
	int ret = nomem ? fail(&l, SS_ENOMEM, name, 0, "%s", ss_strerror(SS_ENOMEM))
	                : load(&l, &in, origin, out);
	free(copy);
	return ret;
}

int ss_zone_load_string(const char *text, size_t len, const char *name, const knot_dname_t *origin,
                        uint32_t default_ttl, ss_zone_t **out, ss_zone_error_t *err)
{
	if (out == NULL || text == NULL) {
		return SS_EINVAL;
	}
	*out = NULL;
	name = name != NULL ? name : "-";
	unsigned mode = 0;
	int ret;
	while (next_mode(ret = load_text(text, len, name, origin, default_ttl, mode, out, err),
	                 &mode)) {
	}
	return ret;
}

void ss_zone_load_info(const ss_zone_t *z, ss_zone_load_info_t *out)
{
	*out = z->info;
}

/* Take suffix off name (case-insensitively) when something is left. */
static bool strip_suffix(char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);
	if (n > k && strcasecmp(name + n - k, suffix) == 0) {
		name[n - k] = '\0';
		return true;
	}
	return false;
}

/* Letters, digits, '-' and '_' in labels of 1 to 63, dot separated. */
static bool host_like(const char *name)
{
	size_t label = 0;
	for (const char *p = name; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0) {
				return false;
			}
			label = 0;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		           (*p >= '0' && *p <= '9') || *p == '-' || *p == '_') {
			if (++label > KNOT_DNAME_MAXLABELLEN) {
				return false;
			}
		} else {
			return false;
		}
	}
	return label > 0;
}

int ss_zone_origin_from_filename(const char *path, knot_dname_storage_t out)
{
	const char *base = path != NULL ? strrchr(path, '/') : NULL;
	base = base != NULL ? base + 1 : path;
	char name[KNOT_DNAME_MAXLEN + 8];
	if (base == NULL || strlen(base) >= sizeof(name)) {
		return SS_ENOTFOUND;
	}
	strcpy(name, base);
	bool affix = false, more = true;
	while (more) {
		more = strip_suffix(name, ".signed") || strip_suffix(name, ".zone") ||
		       strip_suffix(name, ".db");
		affix = affix || more;
	}
	char *start = name;
	if (strncasecmp(start, "db.", 3) == 0 && start[3] != '\0') {
		start += 3;
		affix = true;
	}
	if (affix && strcasecmp(start, "root") == 0) {
		strcpy(start, ".");
	} else if (!host_like(start) || (!affix && strchr(start, '.') == NULL)) {
		return SS_ENOTFOUND;
	}
	if (knot_dname_from_str(out, start, KNOT_DNAME_MAXLEN) == NULL) {
		return SS_ENOTFOUND;
	}
	knot_dname_to_lower(out);
	return 0;
}
