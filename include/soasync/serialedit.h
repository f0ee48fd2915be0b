/*
 * soasync: raising the SOA serial of a master file in place.
 *
 * ss_serial_locate() validates a master file with libzscanner and finds the
 * bytes of the SOA serial (the third rdata field, after MNAME and RNAME)
 * with a tokenizer over the raw text; the token's value must equal the
 * scanner's serial or the file is refused. Replacing exactly those bytes
 * leaves every other byte (comments, blanks, parentheses, CRLF line ends,
 * encoding) as it was.
 *
 * ss_serial_next() picks the new serial (RFC 1982 through ss_serial_cmp).
 * The file is read and replaced through soasync/fileio.h.
 */
#ifndef SOASYNC_SERIALEDIT_H
#define SOASYNC_SERIALEDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include <libknot/libknot.h>

#include <soasync/api.h>
#include <soasync/fileio.h>
#include <soasync/zone.h>

/* Further copies of the SOA a file may hold: AXFR dumps (dig axfr) end
 * with the SOA they start with. */
#define SS_SERIAL_COPIES_MAX 3

/* Where the SOA serial is in a master file's bytes. */
typedef struct {
	size_t start;   /* offset of the serial's first digit */
	size_t end;     /* offset just past its last digit */
	size_t ncopies; /* copies of the same SOA record after it, whose */
	struct {        /* serials are replaced too (ascending offsets) */
		size_t start, end;
		uint64_t line;
	} copy[SS_SERIAL_COPIES_MAX];
	uint32_t serial;            /* its value (equal to the scanner's) */
	uint64_t line;              /* 1-based line of the serial's digits */
	uint64_t soa_line;          /* 1-based line where the SOA record starts */
	knot_dname_storage_t owner; /* the SOA owner, wire form, as written (case kept) */
	bool owner_known;           /* false: the owner is relative and neither $ORIGIN,
	                             * the origin argument nor the file name gave one */
} ss_serial_loc_t;

/* ss_serial_locate flags. */
enum {
	SS_LOCATE_NO_INCLUDE = 1 << 0, /* refuse $INCLUDE (text that is not a file) */
};

/*
 * Find the SOA serial in text (len bytes, need not be NUL-terminated).
 * path names the file in error messages and gives the directory relative
 * $INCLUDEs are read from (NULL: "-" and the current directory). origin is
 * the zone name in text form or NULL; when NULL the file name is tried
 * (ss_zone_origin_from_filename: "example.com.zone", "db.example.com", ...).
 * Included files are parsed (an SOA there counts) but never edited.
 *
 * Returns 0 and fills out, or fills err (may be NULL) and returns:
 *   SS_EPARSE     the text (or an included file) does not parse
 *   SS_ENOSOA     no SOA record (err->line: the last line)
 *   SS_EMULTISOA  two different SOA records, or more than SS_SERIAL_COPIES_MAX
 *                 copies of one (err names the one too many); copies of the
 *                 same SOA (an AXFR dump's last record) are located in
 *                 out->copy
 *   SS_ENOTFOUND  the SOA parses but its serial cannot be edited in place:
 *                 not written as a decimal number, or in an included file
 *   SS_EINVAL     origin is not a domain name; $INCLUDE with NO_INCLUDE
 *   SS_EIO        an included file cannot be read
 *   SS_ELIMIT     $INCLUDE nested too deep
 *   SS_ENOMEM
 */
SS_API int ss_serial_locate(const char *text, size_t len, const char *path, const char *origin,
                            unsigned flags, ss_serial_loc_t *out, ss_zone_error_t *err);

/*
 * text with the bytes [loc->start, loc->end), and those of every copy,
 * replaced by the decimal digits of serial: a new buffer in *out (free()
 * it), its length in *outlen. Returns 0, SS_EINVAL (loc outside text),
 * SS_ENOMEM.
 */
SS_API int ss_serial_replace(const char *text, size_t len, const ss_serial_loc_t *loc,
                             uint32_t serial, char **out, size_t *outlen);

typedef enum {
	SS_BUMP_INCREMENT = 0, /* old + 1 */
	SS_BUMP_DATE,          /* YYYYMMDD00 of today (UTC) when greater, else old + 1 */
	SS_BUMP_UNIXTIME,      /* now when greater, else old + 1 */
} ss_bump_policy_t;

typedef struct {
	ss_bump_policy_t policy;
	time_t now;        /* seconds since the epoch, for DATE and UNIXTIME */
	bool has_at_least; /* --at-least: the new serial must be at_least or greater */
	uint32_t at_least;
	bool has_above; /* the new serial must be greater (RFC 1982) than above: */
	uint32_t above; /* what a server serves now, what was committed */
} ss_bump_opts_t;

/* "increment", "date", "unixtime" to a policy; returns 0 or SS_EINVAL. */
SS_API int ss_bump_policy_parse(const char *name, ss_bump_policy_t *out);

/*
 * The serial to publish after old: the policy's choice, raised to meet
 * at_least and above, always greater than old (RFC 1982), never 0 (many
 * tools read 0 as unset; BIND's increment skips it: 4294967295 -> 1).
 * at_least is a number the user asked for: when it is more than 2^31 - 1
 * above old, no single step reaches it (secondaries would take it as older)
 * and the answer is SS_EINVAL with the steps of ss_serial_plan() in why.
 * Returns 0, or SS_EINVAL when the bounds cannot be met in one step that is
 * greater than old; then why (may be NULL) gets a one-line reason.
 */
SS_API int ss_serial_next(uint32_t old, const ss_bump_opts_t *opts, uint32_t *out, char *why,
                          size_t len);

/* True when next (from ss_serial_next) is opts->above + 1 because `above`
 * was ahead of the file's old serial: the new serial went past what a server
 * serves, which the user should hear about (the file was behind it). */
SS_API bool ss_serial_went_past(uint32_t old, const ss_bump_opts_t *opts, uint32_t next);

#endif
