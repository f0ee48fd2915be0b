#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <soasync/error.h>
#include <soasync/serial.h>
#include <soasync/serialedit.h>

/* A case is written with "@S@" where the serial's digits go, so the
 * expected offset comes from the text itself, not from the locator. */
#define MARK "@S@"

typedef struct {
	char *text;
	size_t len;
	size_t want; /* offset of the serial's first digit */
} zcase_t;

static zcase_t make_case(const char *tmpl, const char *digits)
{
	const char *m = strstr(tmpl, MARK);
	assert_non_null(m);
	assert_null(strstr(m + 1, MARK));
	zcase_t c;
	c.want = (size_t)(m - tmpl);
	c.len = strlen(tmpl) - strlen(MARK) + strlen(digits);
	c.text = malloc(c.len + 1);
	assert_non_null(c.text);
	memcpy(c.text, tmpl, c.want);
	strcpy(c.text + c.want, digits);
	strcat(c.text, m + strlen(MARK));
	return c;
}

/* Locate, check the offsets and value, and check that replacing gives the
 * template with only the digits changed. */
static void expect_located(const char *tmpl, const char *digits, uint32_t value, uint64_t line)
{
	zcase_t c = make_case(tmpl, digits);
	ss_serial_loc_t loc;
	ss_zone_error_t err = {0};
	int r = ss_serial_locate(c.text, c.len, "example.com.zone", NULL, SS_LOCATE_NO_INCLUDE,
	                         &loc, &err);
	if (r != 0) {
		fail_msg("locate failed: %s:%llu: %s", err.file, (unsigned long long)err.line,
		         err.message);
	}
	assert_int_equal(loc.start, c.want);
	assert_int_equal(loc.end, c.want + strlen(digits));
	assert_int_equal(loc.serial, value);
	assert_int_equal(loc.line, line);
	char *out = NULL;
	size_t olen = 0;
	assert_int_equal(ss_serial_replace(c.text, c.len, &loc, 4000000001u, &out, &olen), 0);
	zcase_t want = make_case(tmpl, "4000000001");
	assert_int_equal(olen, want.len);
	assert_memory_equal(out, want.text, olen);
	free(want.text);
	free(out);
	free(c.text);
}

static void test_locate_styles(void **state)
{
	(void)state;
	expect_located("$TTL 3600\n"
	               "; serial 2024010101 in a comment\n"
	               "@ IN SOA ns1.example.com. hostmaster.example.com. (\n"
	               "\t" MARK " ; serial 2024010101\n"
	               "\t3600 ; refresh\n\t900 ; retry\n\t1209600 ; expire\n\t300 ) ; minimum\n"
	               "@ IN NS ns1\n",
	               "2024010101", 2024010101u, 4);
	expect_located("example.com. 3600 IN SOA ns1.example.com. h.example.com. " MARK
	               " 7200 3600 1209600 3600\n",
	               "2024010101", 2024010101u, 1);
	/* Class before TTL, and TTL units everywhere. */
	expect_located("@ IN 1h SOA ns1 h " MARK " 1h 15m 1w 1d\n", "17", 17, 1);
	/* TTL before class, no owner on the SOA line (the previous one). */
	expect_located("$ORIGIN example.com.\n@ 300 IN NS ns1\n  1d IN SOA ns1 h " MARK
	               " 1 2 3 4\n",
	               "99", 99, 3);
	/* No TTL, no class. */
	expect_located("@ SOA ns1 h " MARK " 1 2 3 4\n", "5", 5, 1);
}

static void test_locate_tricky(void **state)
{
	(void)state;
	/* The serial's digits in MNAME and RNAME labels and in a TXT before. */
	expect_located("$ORIGIN example.com.\n"
	               "txt TXT \"2024010101 ( ; )\" 2024010101\n"
	               "@ SOA ns2024010101 2024010101.example.com. ( ; 2024010101\n"
	               " ; 2024010101\n" MARK "\n"
	               " 2024010101 2024010101 2024010101 2024010101 )\n",
	               "2024010101", 2024010101u, 5);
	/* Escaped RNAME, \DDD in MNAME, parenthesis glued to the serial. */
	expect_located("@ IN SOA n\\0491.example.com. john\\.doe.example.com. (" MARK
	               " 1 2 3 4 )\n",
	               "2024010101", 2024010101u, 1);
	/* Glued on the other side, and a comment glued to it. */
	expect_located("@ SOA ns1 h (\n" MARK ";serial\n 1 2 3 4)\n", "42", 42, 2);
	expect_located("@ SOA ns1 h " MARK "( 1 2 3 4 )\n", "42", 42, 1);
	/* No final newline, serial on the last line. */
	expect_located("$ORIGIN example.com.\n@ SOA ns1 h " MARK " 1 2 3 4", "0", 0, 2);
	expect_located("@ SOA ns1 h (\n" MARK " 1 2 3 4 )", "123", 123, 2);
	/* Leading zeros stay the token; the value counts. */
	expect_located("@ SOA ns1 h " MARK " 1 2 3 4\n", "0000000042", 42, 1);
	/* UTF-8 comments, tabs, blank lines, directives between records. */
	expect_located("; zóna příklad — ✓\n\n$TTL\t1h\n$ORIGIN example.com.\n\n"
	               "@\tIN\tSOA\tns1\thostmaster\t(\t; ünïcode\n\t\t" MARK "\t; серийный\n"
	               "\t\t1h\t15m\t1w\t1h\t)\n",
	               "2024010101", 2024010101u, 7);
	/* SOA not first. */
	expect_located("$ORIGIN example.com.\nwww A 192.0.2.1\n"
	               "mail MX 10 ( mx1 ) ; 5\n"
	               "@ SOA ns1 h " MARK " 1 2 3 4\n",
	               "5", 5, 4);
	/* zscanner stops right after a record's last field, before a closing
	 * parenthesis on a later line: the SOA's and the one before it. */
	expect_located("$ORIGIN example.com.\n@ MX ( 10\n mail\n ) ; residue\n"
	               "@ SOA ns1 h (\n" MARK "\n 1 2 3\n 4\n\n ; c\n )\n@ NS ns1\n",
	               "42", 42, 6);
	expect_located("@ SOA ns1 h (\n" MARK " 1 2 3 4\n)", "8", 8, 2);
	/* Largest serial. */
	expect_located("@ SOA ns1 h " MARK " 1 2 3 4\n", "4294967295", 4294967295u, 1);
}

static void test_locate_crlf(void **state)
{
	(void)state;
	expect_located("$TTL 3600\r\n; 2024010101\r\n@ IN SOA ns1 h (\r\n " MARK
	               " ; serial\r\n 1 2 3 4 )\r\n@ NS ns1\r\n",
	               "2024010101", 2024010101u, 4);
	/* CR LF and no final newline. */
	expect_located("\r\n\r\n@ IN SOA ns1 h " MARK " 1 2 3 4", "77", 77, 3);
}

static int locate_err(const char *text, unsigned flags, ss_zone_error_t *err)
{
	ss_serial_loc_t loc;
	memset(err, 0, sizeof(*err));
	return ss_serial_locate(text, strlen(text), "t.zone", "example.com", flags, &loc, err);
}

static void test_locate_refusals(void **state)
{
	(void)state;
	ss_zone_error_t err;
	assert_int_equal(locate_err("@ NS ns1\n@ A 192.0.2.1\n", 0, &err), SS_ENOSOA);
	assert_int_equal(err.line, 2);
	assert_string_equal(err.file, "t.zone");
	assert_int_equal(locate_err("@ SOA ns1 h 1 1 2 3 4\nwww A 192.0.2.1\n\n"
	                            "@ SOA ns1 h 2 1 2 3 4\n",
	                            0, &err),
	                 SS_EMULTISOA);
	assert_int_equal(err.line, 4);
	assert_non_null(strstr(err.message, "t.zone:1"));
	assert_int_equal(locate_err("@ SOA ns1 h 1 1 2 3 4\nwww A 192.0.2.300\n", 0, &err),
	                 SS_EPARSE);
	assert_int_equal(err.line, 2);
	assert_int_equal(locate_err("@ SOA ns1 h ( 1 1 2 3 4\n", 0, &err), SS_EPARSE);
	assert_int_equal(locate_err("@ SOA ns1 h 1 1 2 3 4 5\n", 0, &err), SS_EPARSE);
	assert_int_equal(locate_err("@ SOA ns1 h 4294967296 1 2 3 4\n", 0, &err), SS_EPARSE);
	/* Generic rdata zscanner takes without looking: not an SOA's layout (this
	 * one looped reading names that are not there). */
	assert_int_equal(locate_err("@ SOA \\# 1 00\n", 0, &err), SS_EPARSE);
	assert_non_null(strstr(err.message, "malformed SOA rdata"));
	/* Generic rdata parses but has no decimal serial to edit. */
	assert_int_equal(locate_err("@ SOA \\# 22 00 00 0000000a 00000001 00000002 00000003 "
	                            "00000004\n",
	                            0, &err),
	                 SS_ENOTFOUND);
	assert_int_equal(
	    locate_err("$INCLUDE other.zone\n@ SOA ns1 h 1 1 2 3 4\n", SS_LOCATE_NO_INCLUDE, &err),
	    SS_EINVAL);
	assert_int_equal(err.line, 1);
	ss_serial_loc_t loc;
	assert_int_equal(
	    ss_serial_locate("@ SOA ns1 h 1 1 2 3 4\n", 22, "x", "bad..name", 0, &loc, &err),
	    SS_EINVAL);
}

/* Locate in text and replace with 7; the result must equal want. */
static void expect_bumped(const char *text, const char *want, size_t ncopies)
{
	ss_serial_loc_t loc;
	ss_zone_error_t err = {0};
	int r = ss_serial_locate(text, strlen(text), "t.zone", "example.com", 0, &loc, &err);
	if (r != 0) {
		fail_msg("locate failed: %s:%llu: %s", err.file, (unsigned long long)err.line,
		         err.message);
	}
	assert_int_equal(loc.ncopies, ncopies);
	char *out = NULL;
	size_t olen = 0;
	assert_int_equal(ss_serial_replace(text, strlen(text), &loc, 7, &out, &olen), 0);
	assert_int_equal(olen, strlen(want));
	assert_memory_equal(out, want, olen);
	free(out);
}

/* AXFR dumps end with the SOA they start with: both get the new serial. */
static void test_locate_repeated_soa(void **state)
{
	(void)state;
	expect_bumped("example.com. 60 IN SOA ns1.example.com. h.example.com. 1 2 3 4 5\n"
	              "www 60 A 192.0.2.1\n"
	              "EXAMPLE.com. 60 IN SOA NS1.example.com. h.EXAMPLE.com. (1 2 3 4 5)\n",
	              "example.com. 60 IN SOA ns1.example.com. h.example.com. 7 2 3 4 5\n"
	              "www 60 A 192.0.2.1\n"
	              "EXAMPLE.com. 60 IN SOA NS1.example.com. h.EXAMPLE.com. (7 2 3 4 5)\n",
	              1);
	/* CR LF, a longer number, three copies (the TTL may differ). */
	expect_bumped("@ SOA ns h 0001 2 3 4 5\r\n@ 5 SOA ns h 1 2 3 4 5\r\n@ SOA ns h 1 2 3 4 5",
	              "@ SOA ns h 7 2 3 4 5\r\n@ 5 SOA ns h 7 2 3 4 5\r\n@ SOA ns h 7 2 3 4 5", 2);
	ss_zone_error_t err;
	/* A copy that differs in any field is a second SOA. */
	assert_int_equal(
	    locate_err("@ SOA ns h 1 2 3 4 5\nwww A 192.0.2.1\n@ SOA ns h 1 2 3 4 6\n", 0, &err),
	    SS_EMULTISOA);
	assert_int_equal(err.line, 3);
	assert_non_null(strstr(err.message, "different"));
	assert_int_equal(
	    locate_err("@ SOA ns h 1 2 3 4 5\nwww.example.com. SOA ns h 1 2 3 4 5\n", 0, &err),
	    SS_EMULTISOA);
	/* Copies beyond the bound. */
	assert_int_equal(locate_err("@ SOA ns h 1 2 3 4 5\n@ SOA ns h 1 2 3 4 5\n"
	                            "@ SOA ns h 1 2 3 4 5\n@ SOA ns h 1 2 3 4 5\n"
	                            "@ SOA ns h 1 2 3 4 5\n",
	                            0, &err),
	                 SS_EMULTISOA);
	assert_int_equal(err.line, 5);
	/* A copy written in generic form cannot be edited: refused, not skipped. */
	assert_int_equal(locate_err("@ SOA ns. h. 1 2 3 4 5\n@ SOA \\# 27 026e7300 016800 00000001 "
	                            "00000002 00000003 00000004 00000005\n",
	                            0, &err),
	                 SS_ENOTFOUND);
	/* Out-of-order or overlapping copies are refused by replace. */
	ss_serial_loc_t bad = {.start = 10, .end = 12, .ncopies = 1};
	bad.copy[0].start = 5;
	bad.copy[0].end = 6;
	char *out = NULL;
	size_t olen = 0;
	assert_int_equal(ss_serial_replace("0123456789abcdef", 16, &bad, 1, &out, &olen),
	                 SS_EINVAL);
}

/* $GENERATE holds no SOA: bump skips it (zscanner does not know it). */
static void test_locate_skips_generate(void **state)
{
	(void)state;
	expect_located("$ORIGIN 2.0.192.in-addr.arpa.\n"
	               "$GENERATE 1-10 $ PTR host$.example.com.\n"
	               "@ SOA ns h ( " MARK " 1 2 3 4 )\n"
	               "$generate 0-4/2 ${0,3,d} CNAME \"x ;(\"\n"
	               "$GENERATE 1-2 ( a$\n   A 192.0.2.$ )\n"
	               "www A 192.0.2.1\n",
	               "2024010101", 2024010101u, 3);
	ss_zone_error_t err;
	/* The records around it are still checked. */
	assert_int_equal(locate_err("@ SOA ns h 1 2 3 4 5\n$GENERATE 1-2 a$ A 192.0.2.$\n"
	                            "www A 192.0.2.999\n",
	                            0, &err),
	                 SS_EPARSE);
	assert_int_equal(err.line, 3);
}

static void test_locate_origin(void **state)
{
	(void)state;
	const char *rel = "@ SOA ns1 h 1 1 2 3 4\n";
	ss_serial_loc_t loc;
	ss_zone_error_t err;
	char name[KNOT_DNAME_TXT_MAXLEN + 1];
	static const struct {
		const char *path, *origin, *want;
	} cases[] = {
	    {"dir/example.com.zone", NULL, "example.com."},
	    {"db.example.org", NULL, "example.org."},
	    {"example.net.db", NULL, "example.net."},
	    {"/x/example.info", NULL, "example.info."},
	    {"zonefile", "Example.COM", "Example.COM."},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(ss_serial_locate(rel, strlen(rel), cases[i].path, cases[i].origin,
		                                  SS_LOCATE_NO_INCLUDE, &loc, &err),
		                 0);
		assert_true(loc.owner_known);
		knot_dname_to_str(name, loc.owner, sizeof(name));
		assert_string_equal(name, cases[i].want);
	}
	assert_int_equal(ss_serial_locate(rel, strlen(rel), "zonefile", NULL, 0, &loc, &err), 0);
	assert_false(loc.owner_known);
	const char *abs = "$ORIGIN example.com.\nwww A 192.0.2.1\nzone.test. SOA ns1 h 1 1 2 3 4\n";
	assert_int_equal(ss_serial_locate(abs, strlen(abs), "zonefile", NULL, 0, &loc, &err), 0);
	knot_dname_to_str(name, loc.owner, sizeof(name));
	assert_string_equal(name, "zone.test.");
	assert_int_equal(loc.soa_line, 3);
}

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int locate_file(const char *name, ss_serial_loc_t *loc, ss_zone_error_t *err)
{
	char path[256];
	char *data = NULL;
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	assert_int_equal(ss_file_read(path, &data, &len, NULL), 0);
	memset(err, 0, sizeof(*err));
	int r = ss_serial_locate(data, len, path, "example.com", 0, loc, err);
	free(data);
	return r;
}

static void test_locate_include(void **state)
{
	(void)state;
	ss_serial_loc_t loc;
	ss_zone_error_t err;
	write_file("inc.txt", "www A 192.0.2.1\n");
	write_file("main.zone", "$INCLUDE \"inc.txt\" ; (records\n@ SOA ns1 h ( 7 1 2 3 4 )\n");
	assert_int_equal(locate_file("main.zone", &loc, &err), 0);
	assert_int_equal(loc.serial, 7);
	assert_int_equal(loc.line, 2);
	write_file("soa.txt", "\n@ SOA ns1 h 8 1 2 3 4\n");
	write_file("main2.zone", "$INCLUDE soa.txt\nwww A 192.0.2.1\n");
	assert_int_equal(locate_file("main2.zone", &loc, &err), SS_ENOTFOUND);
	assert_non_null(strstr(err.file, "soa.txt"));
	assert_int_equal(err.line, 2);
	write_file("main3.zone", "@ SOA ns1 h 9 1 2 3 4\n$INCLUDE soa.txt\n");
	assert_int_equal(locate_file("main3.zone", &loc, &err), SS_EMULTISOA);
	write_file("bad.txt", "www A nonsense\n");
	write_file("main4.zone", "@ SOA ns1 h 9 1 2 3 4\n$INCLUDE bad.txt\n");
	assert_int_equal(locate_file("main4.zone", &loc, &err), SS_EPARSE);
	assert_non_null(strstr(err.file, "bad.txt"));
	write_file("main5.zone", "@ SOA ns1 h 9 1 2 3 4\n$INCLUDE missing.txt\n");
	assert_int_equal(locate_file("main5.zone", &loc, &err), SS_EIO);
	write_file("loop.zone", "@ SOA ns1 h 9 1 2 3 4\n$INCLUDE loop.txt\n");
	write_file("loop.txt", "$INCLUDE loop.txt\n");
	assert_int_equal(locate_file("loop.zone", &loc, &err), SS_ELIMIT);
}

static uint32_t next(uint32_t old, ss_bump_policy_t p, time_t now)
{
	ss_bump_opts_t o = {.policy = p, .now = now};
	uint32_t out = 0;
	assert_int_equal(ss_serial_next(old, &o, &out, NULL, 0), 0);
	assert_int_equal(ss_serial_cmp(out, old), SS_SERIAL_GREATER);
	return out;
}

/* 2024-03-15 12:00:00 UTC */
#define NOW ((time_t)1710504000)

static void test_policies(void **state)
{
	(void)state;
	assert_int_equal(next(5, SS_BUMP_INCREMENT, NOW), 6);
	/* Never 0: many tools read it as unset; BIND skips it too. */
	assert_int_equal(next(4294967295u, SS_BUMP_INCREMENT, NOW), 1);
	assert_int_equal(next(4294967294u, SS_BUMP_INCREMENT, NOW), 4294967295u);
	assert_int_equal(next(4294967295u, SS_BUMP_UNIXTIME, (time_t)0), 1);
	assert_int_equal(next(2024031407u, SS_BUMP_DATE, NOW), 2024031500u);
	assert_int_equal(next(2024031500u, SS_BUMP_DATE, NOW), 2024031501u);
	assert_int_equal(next(2024031599u, SS_BUMP_DATE, NOW), 2024031600u);
	assert_int_equal(next(1, SS_BUMP_DATE, NOW), 2024031500u);
	assert_int_equal(next(4000000000u, SS_BUMP_DATE, NOW), 4000000001u);
	assert_int_equal(next(NOW - 10, SS_BUMP_UNIXTIME, NOW), (uint32_t)NOW);
	assert_int_equal(next(NOW, SS_BUMP_UNIXTIME, NOW), (uint32_t)NOW + 1);
	assert_int_equal(next(2024031500u, SS_BUMP_UNIXTIME, NOW), 2024031501u);
	/* Midnight UTC is the new day. */
	assert_int_equal(next(1, SS_BUMP_DATE, (time_t)1710460800), 2024031500u);
	assert_int_equal(next(1, SS_BUMP_DATE, (time_t)1710460799), 2024031400u);
	ss_bump_policy_t p;
	assert_int_equal(ss_bump_policy_parse("date", &p), 0);
	assert_int_equal(p, SS_BUMP_DATE);
	assert_int_equal(ss_bump_policy_parse("unixtime", &p), 0);
	assert_int_equal(p, SS_BUMP_UNIXTIME);
	assert_int_equal(ss_bump_policy_parse("increment", &p), 0);
	assert_int_equal(p, SS_BUMP_INCREMENT);
	assert_int_equal(ss_bump_policy_parse("Date", &p), SS_EINVAL);
}

static int bounded(uint32_t old, bool has_min, uint32_t min, bool has_above, uint32_t above,
                   uint32_t *out)
{
	ss_bump_opts_t o = {.policy = SS_BUMP_INCREMENT,
	                    .now = NOW,
	                    .has_at_least = has_min,
	                    .at_least = min,
	                    .has_above = has_above,
	                    .above = above};
	char why[256] = "";
	int r = ss_serial_next(old, &o, out, why, sizeof(why));
	if (r != 0) {
		assert_non_null(strstr(why, "soasync serial plan"));
	}
	return r;
}

static void test_bounds(void **state)
{
	(void)state;
	uint32_t out = 0;
	assert_int_equal(bounded(10, true, 100, false, 0, &out), 0);
	assert_int_equal(out, 100);
	assert_int_equal(bounded(10, true, 5, false, 0, &out), 0);
	assert_int_equal(out, 11);
	assert_int_equal(bounded(10, true, 11, false, 0, &out), 0);
	assert_int_equal(out, 11);
	assert_int_equal(bounded(10, true, 10u + 0x80000000u, false, 0, &out), SS_EINVAL);
	assert_int_equal(bounded(10, false, 0, true, 20, &out), 0);
	assert_int_equal(out, 21);
	ss_bump_opts_t past = {.has_above = true, .above = 20};
	assert_true(ss_serial_went_past(10, &past, 21)); /* the server was ahead of the file */
	past.above = 5;
	assert_false(ss_serial_went_past(10, &past, 11)); /* it was behind: a plain step */
	past.has_above = false;
	assert_false(ss_serial_went_past(10, &past, 21));
	assert_int_equal(bounded(10, false, 0, true, 5, &out), 0);
	assert_int_equal(out, 11);
	assert_int_equal(bounded(10, false, 0, true, 10, &out), 0);
	assert_int_equal(out, 11);
	assert_int_equal(bounded(10, true, 50, true, 60, &out), 0);
	assert_int_equal(out, 61);
	assert_int_equal(bounded(10, true, 70, true, 60, &out), 0);
	assert_int_equal(out, 70);
	/* live + 1 would be exactly 2^31 past old: undefined, refused. */
	assert_int_equal(bounded(10, false, 0, true, 10u + 0x7fffffffu, &out), SS_EINVAL);
	assert_int_equal(bounded(10, false, 0, true, 10u + 0x7ffffffeu, &out), 0);
	assert_int_equal(out, 10u + 0x7fffffffu);
	/* Going past what a server serves never lands on 0 either. */
	assert_int_equal(bounded(4294967290u, false, 0, true, 4294967295u, &out), 0);
	assert_int_equal(out, 1);
	/* above wraps: HEAD had 4294967290, the date policy gives a small number
	 * that is greater in RFC 1982 arithmetic: fine. */
	ss_bump_opts_t o = {
	    .policy = SS_BUMP_DATE, .now = NOW, .has_above = true, .above = 4294967290u};
	assert_int_equal(ss_serial_next(4294967290u, &o, &out, NULL, 0), 0);
	assert_int_equal(out, 2024031500u);
}

/* --at-least N with N 2^31 or more above the serial: never ignored, refused
 * with the plan's steps (issue 13 item 6). */
static void test_at_least_far_ahead(void **state)
{
	(void)state;
	uint32_t out = 0;
	char why[512] = "";
	ss_bump_opts_t o = {
	    .policy = SS_BUMP_INCREMENT, .has_at_least = true, .at_least = 4200000000u};
	assert_int_equal(ss_serial_next(2024010104u, &o, &out, why, sizeof(why)), SS_EINVAL);
	uint32_t steps[4];
	int n = ss_serial_plan(2024010104u, 4200000000u, steps, 4);
	assert_true(n >= 2);
	char want[32];
	for (int i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "%u", steps[i]);
		assert_non_null(strstr(why, want));
	}
	assert_non_null(strstr(why, "soasync serial plan 2024010104 4200000000"));
	/* Exactly 2^31 and 2^31 - 1 above: refused, and reached in one step. */
	o.at_least = 2024010104u + 0x80000000u;
	assert_int_equal(ss_serial_next(2024010104u, &o, &out, why, sizeof(why)), SS_EINVAL);
	o.at_least = 2024010104u + 0x7fffffffu;
	assert_int_equal(ss_serial_next(2024010104u, &o, &out, why, sizeof(why)), 0);
	assert_int_equal(out, 2024010104u + 0x7fffffffu);
	/* Below the serial: already met. */
	o.at_least = 5;
	assert_int_equal(ss_serial_next(2024010104u, &o, &out, why, sizeof(why)), 0);
	assert_int_equal(out, 2024010105u);
	/* Just past the wrap: 5 is ahead of 4294967000 by 301. */
	assert_int_equal(ss_serial_next(4294967000u, &o, &out, why, sizeof(why)), 0);
	assert_int_equal(out, 5);
	/* At least 0 from the top: 1, never 0. */
	o.at_least = 0;
	assert_int_equal(ss_serial_next(4294967295u, &o, &out, why, sizeof(why)), 0);
	assert_int_equal(out, 1);
}

static bool insane(uint32_t serial, time_t now)
{
	char why[128] = "x";
	bool r = ss_serial_sanity(serial, now, why, sizeof(why));
	/* A reason exactly when flagged. */
	assert_int_equal(why[0] != '\0', r);
	return r;
}

/* 2024-06-01 12:00:00 UTC */
#define JUNE ((time_t)1717243200)

static void test_sanity(void **state)
{
	(void)state;
	assert_true(insane(0, JUNE));
	assert_false(insane(1, JUNE));
	assert_false(insane(2024013100u, JUNE));
	assert_true(insane(2024023000u, JUNE));  /* Feb 30 */
	assert_true(insane(2023022900u, JUNE));  /* not a leap year */
	assert_false(insane(2024022999u, JUNE)); /* leap year */
	assert_true(insane(2100022900u, JUNE));  /* 2100 is no leap year */
	assert_true(insane(2024130100u, JUNE));  /* month 13 */
	assert_true(insane(2024000100u, JUNE));  /* month 0 */
	assert_true(insane(2024060000u, JUNE));  /* day 0 */
	assert_true(insane(2024063100u, JUNE));  /* June 31 */
	assert_false(insane(2024060200u, JUNE)); /* tomorrow: within a day */
	assert_true(insane(2024060300u, JUNE));  /* the day after */
	assert_false(insane(1990010100u, JUNE));
	assert_false(insane((uint32_t)JUNE + 86400, JUNE));
	assert_true(insane((uint32_t)JUNE + 86401, JUNE));
	assert_false(insane(1000000000u, JUNE)); /* 2001 */
	assert_true(insane(3000000000u, JUNE));  /* 2065 */
	assert_false(insane(4200000000u, JUNE)); /* past 2100: not a time */
	assert_false(insane(12345, JUNE));
	/* In 2036, Unix times fall in the date range: 2040000000 (month 00) is a
	 * past Unix time then, not a broken date. */
	assert_false(insane(2040000000u, (time_t)2100000000));
	assert_true(insane(2040000000u, (time_t)2000000000));
	char small[8];
	assert_true(ss_serial_sanity(2024023000u, JUNE, small, sizeof(small)));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_true(ss_serial_sanity(0, JUNE, NULL, 0));
}

static int count_entries(const char *dir)
{
	int n = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		n += de->d_name[0] != '.' || strstr(de->d_name, "soasync") != NULL;
	}
	closedir(d);
	return n;
}

static void test_file_replace(void **state)
{
	(void)state;
	char dir[64], path[128], slink[128];
	strcpy(dir, "/tmp/ss_fileXXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/z.zone", dir);
	snprintf(slink, sizeof(slink), "%s/link.zone", dir);
	FILE *f = fopen(path, "w");
	fputs("old contents\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(symlink("z.zone", slink), 0);
	char *data = NULL;
	size_t len = 0;
	struct stat st, after;
	assert_int_equal(ss_file_read(slink, &data, &len, &st), 0);
	assert_int_equal(len, 13);
	assert_int_equal(data[len], '\0');
	assert_int_equal(ss_file_replace(slink, "new\r\n", 5, &st), 0);
	free(data);
	/* The link still points to the file, which has the new bytes and mode. */
	assert_int_equal(lstat(slink, &after), 0);
	assert_true(S_ISLNK(after.st_mode));
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(after.st_mode & 07777, 0640);
	assert_int_equal(ss_file_read(path, &data, &len, &st), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(data, "new\r\n", 5);
	free(data);
	assert_int_equal(count_entries(dir), 2);
	/* Changed behind our back: left alone. */
	f = fopen(path, "w");
	fputs("edited meanwhile\n", f);
	fclose(f);
	assert_int_equal(ss_file_replace(path, "x", 1, &st), SS_ESTATE);
	assert_int_equal(ss_file_read(path, &data, &len, NULL), 0);
	assert_string_equal(data, "edited meanwhile\n");
	free(data);
	assert_int_equal(count_entries(dir), 2);
	assert_int_equal(ss_file_read(dir, &data, &len, NULL), SS_EIO);
	/* A second hard link: replacing would leave it with the old bytes. */
	char hard[128];
	snprintf(hard, sizeof(hard), "%s/hard.zone", dir);
	assert_int_equal(link(path, hard), 0);
	assert_int_equal(ss_file_read(path, &data, &len, &st), 0);
	free(data);
	assert_int_equal(ss_file_replace(path, "x", 1, &st), SS_EHARDLINK);
	assert_int_equal(ss_file_read(hard, &data, &len, NULL), 0);
	assert_string_equal(data, "edited meanwhile\n");
	free(data);
	assert_int_equal(count_entries(dir), 3);
	unlink(hard);
	unlink(slink);
	unlink(path);
	rmdir(dir);
}

static int setup_tmp(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/ss_incXXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown_tmp(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_locate_styles),
	    cmocka_unit_test(test_locate_tricky),
	    cmocka_unit_test(test_locate_crlf),
	    cmocka_unit_test(test_locate_refusals),
	    cmocka_unit_test(test_locate_origin),
	    cmocka_unit_test(test_locate_include),
	    cmocka_unit_test(test_policies),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_at_least_far_ahead),
	    cmocka_unit_test(test_sanity),
	    cmocka_unit_test(test_file_replace),
	    cmocka_unit_test(test_locate_repeated_soa),
	    cmocka_unit_test(test_locate_skips_generate),
	};
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
