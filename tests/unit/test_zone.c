/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <soasync/error.h>
#include <soasync/zone.h>

#ifndef ZONE_TESTDATA
#define ZONE_TESTDATA "tests/data"
#endif

static const char BASE[] = "$ORIGIN example.com.\n"
                           "$TTL 3600\n"
                           "@ SOA ns1 hostmaster 2024010101 7200 3600 1209600 300\n"
                           "@ NS ns1\n"
                           "@ NS ns2.example.net.\n"
                           "ns1 A 192.0.2.1\n"
                           "www 300 A 192.0.2.10\n"
                           "www 300 AAAA 2001:db8::10\n"
                           "mail MX 10 mx.example.com.\n"
                           "txt TXT \"Hello\" \"World\"\n";

/* The same records written otherwise: absolute and upper-case names, other
 * TTL notation, class before TTL, no $TTL, other order, comments, parentheses,
 * a duplicate, CRLF line ends. */
static const char BASE_REFORMATTED[] =
    "; reformatted\r\n"
    "WWW.Example.COM. IN 5m AAAA 2001:DB8:0:0::10 ; comment\r\n"
    "example.com. 1h IN SOA NS1.EXAMPLE.COM. HostMaster.example.com. (\r\n"
    "   2024010101 ; serial\r\n"
    "   2h 1h 2w 5m )\r\n"
    "txt.example.com. 3600 TXT Hello \"World\"\r\n"
    "example.com. 3600 NS ns2.EXAMPLE.net.\r\n"
    "example.com. 3600 NS ns1.example.com.\r\n"
    "mail.example.com. 60m MX 10 MX\r\n"
    "www.example.com. 300 A 192.0.2.10\r\n"
    "ns1.example.com. 3600 A 192.0.2.1\r\n"
    "ns1.example.com. 3600 A 192.0.2.1\r\n";

static ss_zone_t *load_ok(const char *text, const char *origin)
{
	knot_dname_storage_t o;
	ss_zone_t *z = NULL;
	ss_zone_error_t err;
	if (origin != NULL) {
		assert_non_null(knot_dname_from_str(o, origin, sizeof(o)));
	}
	int ret =
	    ss_zone_load_string(text, strlen(text), "test.zone", origin ? o : NULL, 0, &z, &err);
	if (ret != 0) {
		fail_msg("load failed: %s:%llu: %s", err.file, (unsigned long long)err.line,
		         err.message);
	}
	assert_non_null(z);
	return z;
}

static int load_err(const char *text, ss_zone_error_t *err)
{
	ss_zone_t *z = (ss_zone_t *)1;
	int ret = ss_zone_load_string(text, strlen(text), "test.zone", NULL, 0, &z, err);
	assert_null(z);
	return ret;
}

static void text_of(const ss_zone_t *z, size_t i, char *buf, size_t len)
{
	int n = ss_zone_rr_to_text(z, i, buf, len);
	assert_true(n > 0);
	assert_int_equal(strlen(buf), (size_t)n);
}

static void owner_of(const ss_zone_t *z, size_t i, char *buf, size_t len)
{
	ss_rr_t rr;
	ss_zone_rr(z, i, &rr);
	assert_non_null(knot_dname_to_str(buf, rr.owner, len));
}

/* RFC 4034 6.1: the example names in canonical order, plus a label with a
 * 0 octet, which lookup-format sorting (knot_dname_lf) gets wrong. */
static void test_canonical_order_rfc4034(void **state)
{
	(void)state;
	static const char *sorted[] = {
	    "example.",        "a.example.",       "yljkjljk.a.example.", "z.a.example.",
	    "zabc.a.example.", "a\\000.example.",  "z.example.",          "\\001.z.example.",
	    "*.z.example.",    "\\200.z.example.",
	};
	static const char *added[] = {
	    "\\200.z.example.",    "a\\000.example.", "Z.a.example.",     "*.z.example.",
	    "zABC.a.EXAMPLE.",     "a.example.",      "\\001.z.example.", "z.example.",
	    "yljkjljk.a.example.", "example.",
	};
	knot_dname_storage_t origin, owner;
	knot_dname_from_str(origin, "example.", sizeof(origin));
	ss_zone_t *z = ss_zone_new(origin);
	assert_non_null(z);
	uint8_t a[4] = {192, 0, 2, 1};
	for (size_t i = 0; i < sizeof(added) / sizeof(added[0]); i++) {
		assert_non_null(knot_dname_from_str(owner, added[i], sizeof(owner)));
		assert_int_equal(ss_zone_add(z, owner, KNOT_RRTYPE_A, KNOT_CLASS_IN, 60, a, 4), 0);
	}
	assert_int_equal(ss_zone_finish(z), SS_ENOSOA);
	assert_int_equal(ss_zone_count(z), 10);
	for (size_t i = 0; i < 10; i++) {
		char name[KNOT_DNAME_TXT_MAXLEN + 1];
		owner_of(z, i, name, sizeof(name));
		assert_string_equal(name, sorted[i]);
	}
	ss_zone_free(z);
}

/* Many owners sharing a long prefix take the refining path of the sort. */
static void test_canonical_order_long_runs(void **state)
{
	(void)state;
	knot_dname_storage_t origin, owner;
	knot_dname_from_str(origin, "example.", sizeof(origin));
	ss_zone_t *z = ss_zone_new(origin);
	uint8_t a[4] = {192, 0, 2, 1};
	for (int i = 0; i < 500; i++) {
		char name[128];
		/* Reverse order and lengths that differ past the first 8 key bytes. */
		snprintf(name, sizeof(name), "sub.a-very-long-common-prefix-%d.example.", 499 - i);
		knot_dname_from_str(owner, name, sizeof(owner));
		assert_int_equal(ss_zone_add(z, owner, KNOT_RRTYPE_A, KNOT_CLASS_IN, 60, a, 4), 0);
		assert_int_equal(ss_zone_add(z, owner + 4, KNOT_RRTYPE_A, KNOT_CLASS_IN, 60, a, 4),
		                 0);
	}
	ss_zone_finish(z);
	assert_int_equal(ss_zone_count(z), 1000);
	for (size_t i = 1; i < 1000; i++) {
		assert_true(ss_zone_rr_cmp(z, i - 1, z, i) < 0);
	}
	/* Strictly increasing by the exact comparator, and parents first. */
	char first[KNOT_DNAME_TXT_MAXLEN + 1], second[KNOT_DNAME_TXT_MAXLEN + 1];
	owner_of(z, 0, first, sizeof(first));
	owner_of(z, 1, second, sizeof(second));
	assert_string_equal(first, "a-very-long-common-prefix-0.example.");
	assert_string_equal(second, "sub.a-very-long-common-prefix-0.example.");
	ss_zone_free(z);
}

/* Same owner: type order, then rdata as octet strings, shorter first. */
static void test_type_and_rdata_order(void **state)
{
	(void)state;
	ss_zone_t *z = load_ok("$ORIGIN example.\n"
	                       "@ 60 SOA ns h 1 2 3 4 5\n"
	                       "x 60 TXT \"ab\"\n"
	                       "x 60 AAAA 2001:db8::1\n"
	                       "x 60 TXT \"a\"\n"
	                       "x 60 A 192.0.2.2\n"
	                       "x 60 TXT \"B\"\n"
	                       "x 60 A 192.0.2.1\n",
	                       NULL);
	static const char *want[] = {
	    "example. 60 IN SOA ns.example. h.example. 1 2 3 4 5",
	    "x.example. 60 IN A 192.0.2.1",
	    "x.example. 60 IN A 192.0.2.2",
	    "x.example. 60 IN TXT \"B\"",
	    "x.example. 60 IN TXT \"a\"",
	    "x.example. 60 IN TXT \"ab\"",
	    "x.example. 60 IN AAAA 2001:db8::1",
	};
	assert_int_equal(ss_zone_count(z), 7);
	for (size_t i = 0; i < 7; i++) {
		char buf[512];
		text_of(z, i, buf, sizeof(buf));
		assert_string_equal(buf, want[i]);
	}
	ss_zone_free(z);
}

/* RFC 4034 6.2: owner and rdata names of the listed types in lower case;
 * not NSEC's next name (RFC 6840 5.1), not text. */
static void test_canonical_form(void **state)
{
	(void)state;
	ss_zone_t *z = load_ok("$ORIGIN Example.\n"
	                       "@ 60 SOA NS.Example. Host.Master.EXAMPLE. 1 2 3 4 5\n"
	                       "MX 60 MX 10 Mail.EXAMPLE.\n"
	                       "CN 60 CNAME Target.Example.\n"
	                       "SRV 60 SRV 1 2 3 Host.Example.\n"
	                       "NSEC 60 NSEC Next.Example. A\n"
	                       "TXT 60 TXT \"MiXeD\"\n",
	                       NULL);
	static const char *want[] = {
	    "example. 60 IN SOA ns.example. host.master.example. 1 2 3 4 5",
	    "cn.example. 60 IN CNAME target.example.",
	    "mx.example. 60 IN MX 10 mail.example.",
	    "nsec.example. 60 IN NSEC Next.Example. A",
	    "srv.example. 60 IN SRV 1 2 3 host.example.",
	    "txt.example. 60 IN TXT \"MiXeD\"",
	};
	assert_int_equal(ss_zone_count(z), 6);
	for (size_t i = 0; i < 6; i++) {
		char buf[512];
		text_of(z, i, buf, sizeof(buf));
		assert_string_equal(buf, want[i]);
	}
	ss_zone_free(z);
}

/* Duplicates go, whatever their case or TTL; the first TTL stays. */
static void test_dedupe(void **state)
{
	(void)state;
	ss_zone_t *z = load_ok("$ORIGIN example.\n"
	                       "@ 60 SOA ns h 1 2 3 4 5\n"
	                       "a 100 A 192.0.2.1\n"
	                       "A 200 A 192.0.2.1\n"
	                       "a.example. 300 A 192.0.2.1\n"
	                       "a 100 MX 1 X\n"
	                       "a 100 MX 1 x.EXAMPLE.\n",
	                       NULL);
	assert_int_equal(ss_zone_count(z), 3);
	char buf[256];
	text_of(z, 1, buf, sizeof(buf));
	assert_string_equal(buf, "a.example. 100 IN A 192.0.2.1");
	text_of(z, 2, buf, sizeof(buf));
	assert_string_equal(buf, "a.example. 100 IN MX 1 x.example.");
	ss_zone_free(z);
}

static void digest_of(const char *text, bool ignore_ttl, uint8_t d[SS_DIGEST_LEN])
{
	ss_zone_t *z = load_ok(text, NULL);
	assert_int_equal(ss_zone_digest(z, ignore_ttl, d), 0);
	ss_zone_free(z);
}

static void test_digest_ignores_serial_and_format(void **state)
{
	(void)state;
	uint8_t a[SS_DIGEST_LEN], b[SS_DIGEST_LEN], c[SS_DIGEST_LEN];
	digest_of(BASE, false, a);
	digest_of(BASE_REFORMATTED, false, b);
	assert_memory_equal(a, b, SS_DIGEST_LEN);
	/* Another serial: same content digest, other ZONEMD digest. */
	char *bumped = strdup(BASE);
	memcpy(strstr(bumped, "2024010101"), "2024010199", 10);
	digest_of(bumped, false, c);
	assert_memory_equal(a, c, SS_DIGEST_LEN);
	ss_zone_t *z1 = load_ok(BASE, NULL), *z2 = load_ok(bumped, NULL);
	uint8_t m1[SS_DIGEST_LEN], m2[SS_DIGEST_LEN];
	assert_int_equal(ss_zone_zonemd_compute(z1, m1), 0);
	assert_int_equal(ss_zone_zonemd_compute(z2, m2), 0);
	assert_memory_not_equal(m1, m2, SS_DIGEST_LEN);
	char hex[2 * SS_DIGEST_LEN + 1];
	assert_int_equal(strlen(ss_digest_hex(a, hex)), 2 * SS_DIGEST_LEN);
	ss_zone_free(z1);
	ss_zone_free(z2);
	free(bumped);
}

/* Every kind of change to the data changes the digest. */
static void test_digest_changes_with_data(void **state)
{
	(void)state;
	static const char *const edits[][2] = {
	    {"www 300 A 192.0.2.10", "www 300 A 192.0.2.11"},            /* rdata */
	    {"www 300 A 192.0.2.10", "www 301 A 192.0.2.10"},            /* TTL */
	    {"www 300 A 192.0.2.10", "ww2 300 A 192.0.2.10"},            /* owner */
	    {"txt TXT \"Hello\"", "txt TXT \"hello\""},                  /* text case */
	    {"ns1 A 192.0.2.1\n", "ns1 A 192.0.2.1\nns3 A 192.0.2.3\n"}, /* added */
	    {"mail MX 10 mx.example.com.\n", ""},                        /* removed */
	    {"@ NS ns1\n", "@ NS ns3\n"},                                /* rdata name */
	    {"7200 3600 1209600 300", "7200 3600 1209600 301"},          /* SOA minimum */
	    {"www 300 AAAA", "www 300 TYPE65534 \\# 16 20010db8000000000000000000000010 ;"},
	};
	uint8_t base[SS_DIGEST_LEN], base_nottl[SS_DIGEST_LEN];
	digest_of(BASE, false, base);
	digest_of(BASE, true, base_nottl);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char text[2048];
		const char *at = strstr(BASE, edits[i][0]);
		assert_non_null(at);
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - BASE), BASE, edits[i][1],
		         at + strlen(edits[i][0]));
		uint8_t d[SS_DIGEST_LEN], dn[SS_DIGEST_LEN];
		digest_of(text, false, d);
		digest_of(text, true, dn);
		assert_memory_not_equal(base, d, SS_DIGEST_LEN);
		if (i == 1) {
			assert_memory_equal(base_nottl, dn, SS_DIGEST_LEN);
		} else {
			assert_memory_not_equal(base_nottl, dn, SS_DIGEST_LEN);
		}
	}
}

static ss_zone_t *load_data(const char *file)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/zonemd/%s", ZONE_TESTDATA, file);
	ss_zone_t *z = NULL;
	ss_zone_error_t err;
	int ret = ss_zone_load_file(path, NULL, 0, &z, &err);
	if (ret != 0) {
		fail_msg("%s:%llu: %s", err.file, (unsigned long long)err.line, err.message);
	}
	return z;
}

/* The ZONEMD RR's own SIMPLE/SHA-384 digest equals what we compute. */
static void assert_zonemd_matches(const ss_zone_t *z)
{
	long i = ss_zone_find(z, ss_zone_origin(z), KNOT_RRTYPE_ZONEMD);
	assert_true(i >= 0);
	ss_rr_t rr;
	ss_zone_rr(z, (size_t)i, &rr);
	while (!(rr.rdata[4] == 1 && rr.rdata[5] == 1)) {
		ss_zone_rr(z, (size_t)++i, &rr);
		assert_int_equal(rr.type, KNOT_RRTYPE_ZONEMD);
	}
	assert_int_equal(rr.rdlen, 6 + SS_DIGEST_LEN);
	uint8_t d[SS_DIGEST_LEN];
	assert_int_equal(ss_zone_zonemd_compute(z, d), 0);
	assert_memory_equal(d, rr.rdata + 6, SS_DIGEST_LEN);
}

/* RFC 8976 Appendix A.1 to A.5. */
static void test_zonemd_rfc8976_examples(void **state)
{
	(void)state;
	static const char *files[] = {"example.a1.zone", "example.a2.zone", "example.a3.zone",
	                              "uri.arpa.zone", "root-servers.net.zone"};
	static const size_t counts[] = {6, 19, 10, 35, 43};
	for (size_t i = 0; i < 5; i++) {
		ss_zone_t *z = load_data(files[i]);
		char detail[256];
		assert_int_equal(ss_zone_count(z), counts[i]);
		assert_int_equal(ss_zone_zonemd_verify(z, detail, sizeof(detail)), SS_ZONEMD_VALID);
		assert_zonemd_matches(z);
		ss_zone_free(z);
	}
	/* A.2: the out-of-zone record is skipped, and counted. */
	ss_zone_t *z = load_data("example.a2.zone");
	assert_int_equal(ss_zone_out_of_zone(z), 1);
	ss_zone_free(z);
}

/* ZONEMD written by other implementations (see tests/data/zonemd/README). */
static void test_zonemd_interop(void **state)
{
	(void)state;
	static const char *files[] = {"interop.test.zone", "label-zero.test.zone"};
	for (size_t i = 0; i < 2; i++) {
		ss_zone_t *z = load_data(files[i]);
		assert_int_equal(ss_zone_zonemd_verify(z, NULL, 0), SS_ZONEMD_VALID);
		assert_zonemd_matches(z);
		ss_zone_free(z);
	}
}

static ss_zonemd_status_t verify_text(const char *text, char *detail, size_t len)
{
	ss_zone_t *z = load_ok(text, "example.");
	ss_zonemd_status_t st = ss_zone_zonemd_verify(z, detail, len);
	ss_zone_free(z);
	return st;
}

#define A1_HEAD                                                                                    \
	"example. 86400 IN SOA ns1 admin 2018031900 1800 900 604800 86400\n"                       \
	"example. 86400 IN NS ns1\n"                                                               \
	"example. 86400 IN NS ns2\n"
#define A1_ZONEMD                                                                                  \
	"example. 86400 IN ZONEMD 2018031900 1 1 c68090d90a7aed716bc459f9340e3d7c"                 \
	"1370d4d24b7e2fc3a1ddc0b9a87153b9a9713b3c9ae5cc27777f98b8e730044c\n"
#define A1_TAIL                                                                                    \
	"ns1 3600 IN A 203.0.113.63\n"                                                             \
	"ns2 3600 IN AAAA 2001:db8::63\n"

static void test_zonemd_tampered(void **state)
{
	(void)state;
	char d[256];
	assert_int_equal(verify_text(A1_HEAD A1_ZONEMD A1_TAIL, d, sizeof(d)), SS_ZONEMD_VALID);
	/* One address changed. */
	assert_int_equal(verify_text(A1_HEAD A1_ZONEMD "ns1 3600 IN A 203.0.113.64\n"
	                                               "ns2 3600 IN AAAA 2001:db8::63\n",
	                             d, sizeof(d)),
	                 SS_ZONEMD_INVALID);
	assert_non_null(strstr(d, "does not match"));
	/* One TTL changed. */
	assert_int_equal(verify_text(A1_HEAD A1_ZONEMD "ns1 3601 IN A 203.0.113.63\n"
	                                               "ns2 3600 IN AAAA 2001:db8::63\n",
	                             d, sizeof(d)),
	                 SS_ZONEMD_INVALID);
	/* A record added. */
	assert_int_equal(
	    verify_text(A1_HEAD A1_ZONEMD A1_TAIL "ns3 3600 IN A 203.0.113.1\n", d, sizeof(d)),
	    SS_ZONEMD_INVALID);
	/* The SOA serial moved on without a new ZONEMD. */
	assert_int_equal(
	    verify_text(
	        "example. 86400 IN SOA ns1 admin 2018031901 1800 900 604800 "
	        "86400\nexample. 86400 IN NS ns1\nexample. 86400 IN NS ns2\n" A1_ZONEMD A1_TAIL,
	        d, sizeof(d)),
	    SS_ZONEMD_INVALID);
	assert_non_null(strstr(d, "serial"));
	assert_int_equal(verify_text(A1_HEAD A1_TAIL, d, sizeof(d)), SS_ZONEMD_ABSENT);
	/* Only an unknown hash algorithm. */
	assert_int_equal(verify_text(A1_HEAD "example. 86400 IN ZONEMD 2018031900 1 240 "
	                                     "e2d523f654b9422a96c5a8f44607bbee\n" A1_TAIL,
	                             d, sizeof(d)),
	                 SS_ZONEMD_UNSUPPORTED);
	/* Two RRs with the same scheme and hash (RFC 8976 2.4). */
	assert_int_equal(verify_text(A1_HEAD A1_ZONEMD "example. 86400 IN ZONEMD 2018031900 1 1 "
	                                               "00000000000000000000000000000000"
	                                               "00000000000000000000000000000000"
	                                               "00000000000000000000000000000000\n" A1_TAIL,
	                             d, sizeof(d)),
	                 SS_ZONEMD_INVALID);
}

/* A zone of our own; its digests computed by dnspython 2.3 (an independent
 * implementation) when this test was written. */
#define ZMD_HEAD                                                                                   \
	"$ORIGIN zmd.test.\n$TTL 300\n"                                                            \
	"@ IN SOA ns1 hostmaster 2026010101 3600 900 604800 300\n"                                 \
	"@ IN NS ns1\n@ IN NS ns2.example.net.\nns1 IN A 192.0.2.53\nwww IN A 192.0.2.80\n"        \
	"www IN AAAA 2001:db8::80\nmail IN MX 10 mx.example.net.\n"                                \
	"_sip._udp IN SRV 10 5 5060 sip\nsip IN A 192.0.2.90\n"                                    \
	"txt IN TXT \"v=spf1 -all\" \"second string\"\n"
#define ZMD_384                                                                                    \
	"@ ZONEMD 2026010101 1 1 "                                                                 \
	"8ae9c83ce4c5d3cd2426a5a3e7bd607957b999679b5f3d1b6e8e51597931a9ffd8"                       \
	"fe9e9b5190b90b202489448de6f086\n"
#define ZMD_512                                                                                    \
	"@ ZONEMD 2026010101 1 2 "                                                                 \
	"fbe345c46adcfc26fcd0969b1b02d9b4a2580aa4da688d550d7b41cbfba89c5ab4"                       \
	"cfa914af4598dc0ddef95a973e430b1eeece7fea285835c6bb0f2c4a12d363\n"
#define ZMD_384_WRONG                                                                              \
	"@ ZONEMD 2026010101 1 1 "                                                                 \
	"00e9c83ce4c5d3cd2426a5a3e7bd607957b999679b5f3d1b6e8e51597931a9ffd8"                       \
	"fe9e9b5190b90b202489448de6f086\n"

/* The verdict on ZMD_HEAD plus extra, with its scheme and hash. */
static ss_zonemd_status_t zonemd_of(const char *extra, ss_zonemd_verdict_t *v)
{
	char text[2048];
	snprintf(text, sizeof(text), "%s%s", ZMD_HEAD, extra);
	ss_zone_t *z = load_ok(text, NULL);
	ss_zonemd_status_t st = ss_zone_zonemd_check(z, v);
	assert_int_equal(st, v->status);
	assert_true(strlen(v->detail) > 0);
	ss_zone_free(z);
	return st;
}

/* RFC 8976 section 4, RR by RR: unsupported schemes and hashes never make a
 * zone valid; duplicated scheme and hash pairs fail only themselves. */
static void test_zonemd_section4(void **state)
{
	(void)state;
	ss_zonemd_verdict_t v;
	assert_int_equal(zonemd_of("", &v), SS_ZONEMD_ABSENT);
	assert_int_equal(v.count, 0);
	assert_int_equal(v.list.n, 0);
	assert_int_equal(zonemd_of(ZMD_384, &v), SS_ZONEMD_VALID);
	assert_int_equal(v.scheme * 256 + v.hash, 0x101);
	assert_int_equal(zonemd_of(ZMD_512, &v), SS_ZONEMD_VALID);
	assert_int_equal(v.scheme * 256 + v.hash, 0x102);
	/* Unknown hash (private use 240) or scheme (2): unsupported, never valid. */
	assert_int_equal(zonemd_of("@ ZONEMD 2026010101 1 240 00112233445566778899aabb\n", &v),
	                 SS_ZONEMD_UNSUPPORTED);
	assert_int_equal(v.scheme * 256 + v.hash, 0x100 + 240);
	assert_int_equal(zonemd_of("@ ZONEMD 2026010101 2 1 00112233445566778899aabb\n", &v),
	                 SS_ZONEMD_UNSUPPORTED);
	assert_int_equal(v.scheme, 2);
	/* Next to a supported one: that one decides. */
	assert_int_equal(
	    zonemd_of("@ ZONEMD 2026010101 1 240 00112233445566778899aabb\n" ZMD_384, &v),
	    SS_ZONEMD_VALID);
	assert_int_equal(v.hash, 1);
	assert_int_equal(
	    zonemd_of("@ ZONEMD 2026010101 1 240 00112233445566778899aabb\n" ZMD_384_WRONG, &v),
	    SS_ZONEMD_INVALID);
	assert_int_equal(v.hash, 1);
	assert_non_null(strstr(v.detail, "does not match"));
	/* A duplicated SHA-384 pair fails, even the matching one; SHA-512
	 * still verifies the zone. */
	assert_int_equal(zonemd_of(ZMD_384 ZMD_384_WRONG ZMD_512, &v), SS_ZONEMD_VALID);
	assert_int_equal(v.hash, 2);
	assert_int_equal(v.count, 3);
	assert_int_equal(v.list.n, 3); /* the records in canonical order, each listed */
	assert_int_equal(v.list.rr[0].scheme * 256 + v.list.rr[0].algorithm, 0x101);
	assert_int_equal(v.list.rr[2].scheme * 256 + v.list.rr[2].algorithm, 0x102);
	assert_int_equal(zonemd_of(ZMD_384 ZMD_384_WRONG, &v), SS_ZONEMD_INVALID);
	assert_non_null(strstr(v.detail, "more than one ZONEMD with scheme 1 and hash 1"));
	/* Serial not the SOA's; digest shorter than 12 octets. */
	assert_int_equal(
	    zonemd_of("@ ZONEMD 2026010102 1 2 fbe345c46adcfc26fcd0969b1b02d9b4a2580aa4"
	              "da688d550d7b41cbfba89c5ab4cfa914af4598dc0ddef95a973e430b1eeece7"
	              "fea285835c6bb0f2c4a12d363\n",
	              &v),
	    SS_ZONEMD_INVALID);
	assert_non_null(strstr(v.detail, "serial"));
	assert_int_equal(zonemd_of("@ ZONEMD 2026010101 1 1 8ae9c83ce4c5d3cd2426a5\n", &v),
	                 SS_ZONEMD_INVALID);
	assert_non_null(strstr(v.detail, "12 octets"));
	assert_string_equal(ss_zonemd_status_name(SS_ZONEMD_UNSUPPORTED), "unsupported");
	assert_string_equal(ss_zonemd_status_name(SS_ZONEMD_ABSENT), "absent");
}

typedef struct {
	int sides[16];
	char text[16][256];
	size_t n;
} diffs_t;

static int collect(int side, const ss_zone_t *z, size_t index, void *arg)
{
	diffs_t *d = arg;
	assert_true(d->n < 16);
	d->sides[d->n] = side;
	text_of(z, index, d->text[d->n], sizeof(d->text[0]));
	d->n++;
	return 0;
}

static void test_diff_reformatted_is_empty(void **state)
{
	(void)state;
	ss_zone_t *a = load_ok(BASE, NULL), *b = load_ok(BASE_REFORMATTED, NULL);
	diffs_t d = {0};
	size_t n = 99;
	assert_int_equal(ss_zone_diff(a, b, false, collect, &d, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(d.n, 0);
	ss_zone_free(a);
	ss_zone_free(b);
}

static void test_diff_lists_changes(void **state)
{
	(void)state;
	ss_zone_t *a = load_ok(BASE, NULL);
	ss_zone_t *b = load_ok("$ORIGIN example.com.\n"
	                       "$TTL 3600\n"
	                       "@ SOA ns1 hostmaster 2024010102 7200 3600 1209600 300\n"
	                       "@ NS ns1\n"
	                       "@ NS ns2.example.net.\n"
	                       "ns1 A 192.0.2.1\n"
	                       "www 600 A 192.0.2.10\n"
	                       "www 300 AAAA 2001:db8::10\n"
	                       "new A 192.0.2.99\n"
	                       "txt TXT \"Hello\" \"World\"\n",
	                       NULL);
	diffs_t d = {0};
	size_t n = 0;
	assert_int_equal(ss_zone_diff(a, b, false, collect, &d, &n), 0);
	static const struct {
		int side;
		const char *text;
	} want[] = {
	    {-1, "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 "
	         "7200 3600 1209600 300"},
	    {1, "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024010102 "
	        "7200 3600 1209600 300"},
	    {-1, "mail.example.com. 3600 IN MX 10 mx.example.com."},
	    {1, "new.example.com. 3600 IN A 192.0.2.99"},
	    {-1, "www.example.com. 300 IN A 192.0.2.10"},
	    {1, "www.example.com. 600 IN A 192.0.2.10"},
	};
	assert_int_equal(n, 6);
	assert_int_equal(d.n, 6);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(d.sides[i], want[i].side);
		assert_string_equal(d.text[i], want[i].text);
	}
	/* Without TTLs the www change is gone. */
	memset(&d, 0, sizeof(d));
	assert_int_equal(ss_zone_diff(a, b, true, collect, &d, &n), 0);
	assert_int_equal(n, 4);
	ss_zone_free(a);
	ss_zone_free(b);
}

static int stop_at_first(int side, const ss_zone_t *z, size_t index, void *arg)
{
	(void)side;
	(void)z;
	(void)index;
	(*(int *)arg)++;
	return 42;
}

static void test_diff_callback_stops(void **state)
{
	(void)state;
	ss_zone_t *a = load_ok(BASE, NULL), *b = load_ok(A1_HEAD A1_TAIL, "example.");
	int calls = 0;
	size_t n = 0;
	assert_int_equal(ss_zone_diff(a, b, false, stop_at_first, &calls, &n), 42);
	assert_int_equal(calls, 1);
	assert_int_equal(n, 1);
	ss_zone_free(a);
	ss_zone_free(b);
}

/* Broken input: SS_EPARSE naming the right line. */
static void test_parse_errors_name_the_line(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		uint64_t line;
	} cases[] = {
	    {"$ORIGIN example.\n@ 60 SOA ns h 1 2 3 4 5\nbad 60 A 192.0.2.300\n", 3},
	    {"$ORIGIN example.\n@ 60 SOA ns h (1 2 3\n4 5)\n\nx 60 MX 10\n", 5},
	    {"$ORIGIN example.\n@ 60 SOA ns h 1 2 3 4 5\nx 60 BOGUSTYPE 1\n", 3},
	    {"$ORIGIN example.\n$TTL 1x\n", 2},
	    {"$ORIGIN example.\n@ 60 SOA ns h 1 2 3 4 5\r\nx 60 A 192.0.2.1 )\n", 3},
	    {"$ORIGIN example.\n@ 60 SOA ns h 1 2 3 4 5\n$INCLUDE other.zone\n", 3},
	    {"$ORIGIN example.\n@ 60 SOA ns h 1 2 3 4 5\nx 60 AAAA 2001:db8::g\n", 3},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ss_zone_error_t err;
		assert_int_equal(load_err(cases[i].text, &err), SS_EPARSE);
		assert_int_equal(err.line, cases[i].line);
		assert_string_equal(err.file, "test.zone");
		assert_true(strlen(err.message) > 0);
		assert_null(strchr(err.message, '\n'));
	}
}

static void test_no_soa_and_two_soas(void **state)
{
	(void)state;
	ss_zone_error_t err;
	assert_int_equal(load_err("$ORIGIN example.\nx 60 A 192.0.2.1\n", &err), SS_ENOSOA);
	assert_int_equal(load_err("$ORIGIN example.\n@ 60 SOA ns h 1 2 3 4 5\n"
	                          "x 60 A 192.0.2.1\n@ 60 SOA ns h 2 2 3 4 5\n",
	                          &err),
	                 SS_EMULTISOA);
	assert_int_equal(err.line, 4);
	/* A repeated identical SOA (as AXFR output ends) is a duplicate. */
	ss_zone_t *z = load_ok("$ORIGIN example.\n@ 60 SOA ns h 1 2 3 4 5\n"
	                       "x 60 A 192.0.2.1\n@ 60 SOA NS H 1 2 3 4 5\n",
	                       NULL);
	uint32_t serial = 0;
	assert_int_equal(ss_zone_serial(z, &serial), 0);
	assert_int_equal(serial, 1);
	ss_zone_free(z);
	/* Records added one by one: finish says so too, and the zone stays usable. */
	knot_dname_storage_t origin;
	knot_dname_from_str(origin, "example.", sizeof(origin));
	z = ss_zone_new(origin);
	uint8_t soa1[] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5};
	uint8_t soa2[] = {0, 0, 0, 0, 0, 9, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5};
	assert_int_equal(ss_zone_add(z, origin, KNOT_RRTYPE_SOA, KNOT_CLASS_IN, 60, soa1, 22), 0);
	assert_int_equal(ss_zone_add(z, origin, KNOT_RRTYPE_SOA, KNOT_CLASS_IN, 60, soa2, 22), 0);
	assert_int_equal(ss_zone_finish(z), SS_EMULTISOA);
	assert_int_equal(ss_zone_count(z), 2);
	ss_zone_free(z);
}

static void test_origin_from_filename(void **state)
{
	(void)state;
	static const struct {
		const char *path;
		const char *origin; /* NULL: none */
	} cases[] = {
	    {"example.com.zone", "example.com."},
	    {"/etc/bind/db.example.com", "example.com."},
	    {"zones/example.com", "example.com."},
	    {"example.com.db", "example.com."},
	    {"Example.COM.signed", "example.com."},
	    {"example.com.zone.signed", "example.com."},
	    {"arpa.zone", "arpa."},
	    {"root.zone", "."},
	    {"zonefile", NULL},
	    {"my zone.txt", NULL},
	    {"a..b.zone", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		knot_dname_storage_t out;
		int ret = ss_zone_origin_from_filename(cases[i].path, out);
		if (cases[i].origin == NULL) {
			assert_int_equal(ret, SS_ENOTFOUND);
			continue;
		}
		assert_int_equal(ret, 0);
		char name[KNOT_DNAME_TXT_MAXLEN + 1];
		knot_dname_to_str(name, out, sizeof(name));
		assert_string_equal(name, cases[i].origin);
	}
}

static void origin_is(const char *text, const char *name, const char *want)
{
	ss_zone_t *z = NULL;
	ss_zone_error_t err;
	int ret = ss_zone_load_string(text, strlen(text), name, NULL, 0, &z, &err);
	if (ret != 0) {
		fail_msg("%s:%llu: %s", err.file, (unsigned long long)err.line, err.message);
	}
	char got[KNOT_DNAME_TXT_MAXLEN + 1];
	knot_dname_to_str(got, ss_zone_origin(z), sizeof(got));
	assert_string_equal(got, want);
	ss_zone_free(z);
}

static void test_origin_inference(void **state)
{
	(void)state;
	origin_is("$ORIGIN Example.ORG.\n@ 60 SOA ns h 1 2 3 4 5\n", "x.zone", "example.org.");
	origin_is("example.net. 60 SOA ns h 1 2 3 4 5\nwww 60 A 192.0.2.1\n", "x.zone",
	          "example.net.");
	origin_is("@ 60 SOA ns h 1 2 3 4 5\nwww 60 A 192.0.2.1\n", "db.example.info",
	          "example.info.");
	/* No clue at all. */
	ss_zone_t *z = NULL;
	ss_zone_error_t err;
	const char *t = "@ 60 SOA ns h 1 2 3 4 5\n";
	assert_int_equal(ss_zone_load_string(t, strlen(t), "zonefile", NULL, 0, &z, &err),
	                 SS_EPARSE);
	assert_non_null(strstr(err.message, "origin"));
	/* Given origin wins over the file name. */
	knot_dname_storage_t o;
	knot_dname_from_str(o, "given.test.", sizeof(o));
	assert_int_equal(ss_zone_load_string(t, strlen(t), "db.example.info", o, 0, &z, &err), 0);
	assert_true(knot_dname_is_equal(ss_zone_origin(z), o));
	ss_zone_free(z);
}

/* RFC 1035 5.1 and RFC 2308: $TTL, else the last TTL written, else the default. */
static void test_ttl_rules(void **state)
{
	(void)state;
	ss_zone_t *z = load_ok("$ORIGIN example.\n"
	                       "@ SOA ns h 1 2 3 4 5\n"
	                       "a 120 A 192.0.2.1\n"
	                       "b A 192.0.2.2\n"
	                       "$TTL 1h30m\n"
	                       "c A 192.0.2.3\n"
	                       "d 1w A 192.0.2.4\n"
	                       "e A 192.0.2.5\n",
	                       NULL);
	static const uint32_t want[] = {3600, 120, 120, 5400, 604800, 5400};
	assert_int_equal(ss_zone_count(z), 6);
	for (size_t i = 0; i < 6; i++) {
		ss_rr_t rr;
		ss_zone_rr(z, i, &rr);
		assert_int_equal(rr.ttl, want[i]);
	}
	/* Only the SOA took the default: BIND would have given it the minimum. */
	ss_zone_load_info_t info;
	ss_zone_load_info(z, &info);
	assert_int_equal(info.default_ttl_records, 1);
	assert_int_equal(info.default_ttl, 3600);
	ss_zone_free(z);
	const char *t = "$ORIGIN example.\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n";
	ss_zone_error_t err;
	assert_int_equal(ss_zone_load_string(t, strlen(t), "x", NULL, 300, &z, &err), 0);
	ss_zone_load_info(z, &info);
	assert_int_equal(info.default_ttl_records, 3);
	assert_int_equal(info.default_ttl, 300);
	for (size_t i = 0; i < ss_zone_count(z); i++) {
		ss_rr_t rr;
		ss_zone_rr(z, i, &rr);
		assert_int_equal(rr.ttl, 300);
	}
	ss_zone_free(z);
}

/* Where the zone's name came from, for the warning that says so. */
static void test_name_source(void **state)
{
	(void)state;
	ss_zone_load_info_t info;
	ss_zone_t *z = load_ok(BASE, NULL);
	ss_zone_load_info(z, &info);
	assert_int_equal(info.name_source, SS_ZONE_NAME_FROM_TEXT);
	assert_int_equal(info.default_ttl_records, 0);
	ss_zone_free(z);
	z = load_ok(BASE, "example.com.");
	ss_zone_load_info(z, &info);
	assert_int_equal(info.name_source, SS_ZONE_NAME_GIVEN);
	ss_zone_free(z);
	const char *t = "@ 60 SOA ns h 1 2 3 4 5\n";
	ss_zone_error_t err;
	assert_int_equal(ss_zone_load_string(t, strlen(t), "db.example.info", NULL, 0, &z, &err),
	                 0);
	ss_zone_load_info(z, &info);
	assert_int_equal(info.name_source, SS_ZONE_NAME_FROM_FILENAME);
	ss_zone_free(z);
	t = "example.org. 60 SOA ns h 1 2 3 4 5\n";
	assert_int_equal(ss_zone_load_string(t, strlen(t), "db.example.info", NULL, 0, &z, &err),
	                 0);
	ss_zone_load_info(z, &info);
	assert_int_equal(info.name_source, SS_ZONE_NAME_FROM_TEXT);
	ss_zone_free(z);
}

/* BASE with every occurrence of from replaced by to (one level). */
static ss_zone_t *base_with(const char *from, const char *to)
{
	char text[2048];
	const char *at = strstr(BASE, from);
	assert_non_null(at);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - BASE), BASE, to, at + strlen(from));
	return load_ok(text, NULL);
}

typedef struct {
	int minus, plus;
	bool soa;
} changes_t;

static int count_change(int side, const ss_zone_t *z, size_t index, void *arg)
{
	changes_t *c = arg;
	ss_rr_t rr;
	ss_zone_rr(z, index, &rr);
	c->soa |= rr.type == KNOT_RRTYPE_SOA;
	*(side < 0 ? &c->minus : &c->plus) += 1;
	return 0;
}

static ss_change_verdict_t judge(const ss_zone_t *old, const ss_zone_t *nz, ss_zone_change_t *v,
                                 changes_t *c)
{
	assert_int_equal(ss_zone_change_judge(old, nz, v), 0);
	memset(c, 0, sizeof(*c));
	if (old != NULL) {
		assert_int_equal(ss_zone_change_list(old, nz, count_change, c), 0);
	}
	return v->verdict;
}

/* guard's verdict: changed records need a greater serial; a lower serial is
 * refused even without changes. */
static void test_change_verdicts(void **state)
{
	(void)state;
	ss_zone_change_t v;
	changes_t c;
	ss_zone_t *base = load_ok(BASE, NULL), *same = load_ok(BASE_REFORMATTED, "example.com.");
	assert_int_equal(judge(base, same, &v, &c), SS_CHANGE_OK);
	assert_false(v.changed);
	assert_int_equal(v.order, SS_SERIAL_EQUAL);
	assert_int_equal(c.minus + c.plus, 0);
	/* A changed address under the same serial: only that record is named. */
	ss_zone_t *edit = base_with("192.0.2.10", "192.0.2.11");
	assert_int_equal(judge(base, edit, &v, &c), SS_CHANGE_NOT_BUMPED);
	assert_true(v.changed);
	assert_int_equal(c.minus, 1);
	assert_int_equal(c.plus, 1);
	assert_false(c.soa);
	assert_int_equal(v.at_least, 2024010102u);
	assert_int_equal(v.above, 2024010101u);
	/* The same change with a greater serial: fine. */
	ss_zone_t *bumped = base_with("2024010101 7200", "2024010102 7200 ");
	assert_int_equal(judge(base, bumped, &v, &c), SS_CHANGE_OK);
	assert_false(v.changed);
	assert_int_equal(v.new_serial, 2024010102u);
	/* The serial went down, nothing else: refused, and the SOA only differs in
	 * its serial, so no record is listed. */
	assert_int_equal(judge(bumped, base, &v, &c), SS_CHANGE_SERIAL_DOWN);
	assert_int_equal(v.order, SS_SERIAL_LESS);
	assert_int_equal(c.minus + c.plus, 0);
	/* An SOA timer is a change, and then the SOA is listed. */
	ss_zone_t *timer = base_with("7200 3600", "7201 3600");
	assert_int_equal(judge(base, timer, &v, &c), SS_CHANGE_NOT_BUMPED);
	assert_true(c.soa);
	/* 2^31 away: no defined order. */
	ss_zone_t *half = base_with("2024010101", "4171493749");
	assert_int_equal(judge(base, half, &v, &c), SS_CHANGE_SERIAL_DOWN);
	assert_int_equal(v.order, SS_SERIAL_UNDEFINED);
	/* A new file. */
	assert_int_equal(judge(NULL, base, &v, &c), SS_CHANGE_OK);
	assert_true(v.is_new);
	/* The lowest serial to publish after 4294967295 is 1, never 0. */
	ss_zone_t *top = base_with("2024010101", "4294967295");
	assert_int_equal(judge(top, top, &v, &c), SS_CHANGE_OK);
	assert_int_equal(v.at_least, 1);
	ss_zone_t *zones[] = {base, same, edit, bumped, timer, half, top};
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		ss_zone_free(zones[i]);
	}
}

/* Every record of text (loaded with the origin example.) in canonical order,
 * one per line, into buf. */
static const char *all_records(const char *text, char *buf, size_t len)
{
	ss_zone_t *z = load_ok(text, "example.");
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < ss_zone_count(z); i++) {
		char rec[512];
		text_of(z, i, rec, sizeof(rec));
		used += (size_t)snprintf(buf + used, len - used, "%s\n", rec);
		assert_true(used < len);
	}
	ss_zone_free(z);
	return buf;
}

#define GEN_HEAD "$TTL 60\n@ SOA ns h 1 2 3 4 5\n"
#define GEN_SOA  "example. 60 IN SOA ns.example. h.example. 1 2 3 4 5\n"

/* $GENERATE with BIND's semantics (lib/dns/master.c genname()): ranges and
 * steps, $, ${offset,width,base}, $$, \$, TTL and class, quoted rhs. */
static void test_generate(void **state)
{
	(void)state;
	char got[8192];
	assert_string_equal(
	    all_records(GEN_HEAD "$GENERATE 1-3 h$ A 192.0.2.$\n", got, sizeof(got)),
	    GEN_SOA "h1.example. 60 IN A 192.0.2.1\n"
	            "h2.example. 60 IN A 192.0.2.2\n"
	            "h3.example. 60 IN A 192.0.2.3\n");
	/* Steps, offsets, widths, bases; nibbles least significant first. */
	assert_string_equal(all_records(GEN_HEAD
	                                "$GENERATE 0-20/10 x${0,3,d}.${-1,2,x}.${255,0,X}.${8,3,o} "
	                                "TXT ${1,4,n}\n",
	                                got, sizeof(got)),
	                    GEN_SOA "x000.ffffffff.ff.010.example. 60 IN TXT \"1.0.\"\n"
	                            "x010.09.109.022.example. 60 IN TXT \"b.0.\"\n"
	                            "x020.13.113.034.example. 60 IN TXT \"5.1.\"\n");
	/* $$ is a '$', \$ stays an escaped '$'; a quoted rhs loses its quotes,
	 * \" becomes '"'; TTL and class in either order. */
	assert_string_equal(
	    all_records(GEN_HEAD "$GENERATE 7-7 a$$\\$ IN 300 TXT \"p \\\"$\\\" \\$ ${1,0,N}\"\n"
	                         "$GENERATE 2-2 b 5m IN MX \"10 mx$\"\n",
	                got, sizeof(got)),
	    GEN_SOA "a\\$\\$.example. 300 IN TXT \"p\" \"7\" \"$\" \"8\"\n"
	            "b.example. 300 IN MX 10 mx2.example.\n");
	/* Generated owners leave the previous owner for blank-owner lines. */
	assert_string_equal(all_records(GEN_HEAD "w A 192.0.2.1\n$GENERATE 1-1 g$ A 192.0.2.9\n"
	                                         "  A 192.0.2.2\n",
	                                got, sizeof(got)),
	                    GEN_SOA "g1.example. 60 IN A 192.0.2.9\n"
	                            "w.example. 60 IN A 192.0.2.1\n"
	                            "w.example. 60 IN A 192.0.2.2\n");
	/* An lhs that would start with '$' is a name, not a directive. */
	assert_string_equal(
	    all_records(GEN_HEAD "$GENERATE 1-1 $$INCLUDE A 192.0.2.1\n", got, sizeof(got)),
	    GEN_SOA "\\$include.example. 60 IN A 192.0.2.1\n");
	/* Before the SOA, in a file with CR LF, outside the zone (skipped). */
	ss_zone_t *z = load_ok("$GENERATE 1-2 a$ 60 A 192.0.2.$\r\n$GENERATE 1-3 $.other. 60 A "
	                       "192.0.2.1\r\n@ 60 SOA ns h 1 2 3 4 5\r\n",
	                       "example.");
	ss_zone_load_info_t info;
	ss_zone_load_info(z, &info);
	assert_int_equal(ss_zone_count(z), 3);
	assert_int_equal(ss_zone_out_of_zone(z), 3);
	assert_int_equal(info.generated, 5);
	ss_zone_free(z);
}

/* No $TTL: a TTL written on a $GENERATE is the last one written, as in BIND. */
static void test_generate_ttl(void **state)
{
	(void)state;
	char got[2048];
	assert_string_equal(all_records("@ 60 SOA ns h 1 2 3 4 5\n$GENERATE 1-1 g 120 A 192.0.2.1\n"
	                                "w A 192.0.2.2\n$GENERATE 1-1 h A 192.0.2.3\n",
	                                got, sizeof(got)),
	                    "example. 60 IN SOA ns.example. h.example. 1 2 3 4 5\n"
	                    "g.example. 120 IN A 192.0.2.1\n"
	                    "h.example. 120 IN A 192.0.2.3\n"
	                    "w.example. 120 IN A 192.0.2.2\n");
}

static void test_generate_errors(void **state)
{
	(void)state;
	static const struct {
		const char *line, *why;
	} bad[] = {
	    {"$GENERATE 5-1 a$ A 192.0.2.1", "invalid range"},
	    {"$GENERATE 1-x a$ A 192.0.2.1", "invalid range"},
	    {"$GENERATE 1-5/0 a$ A 192.0.2.1", "invalid range"},
	    {"$GENERATE -1-5 a$ A 192.0.2.1", "invalid range"},
	    {"$GENERATE 1-2 a${1,x} A 192.0.2.1", "modifier"},
	    {"$GENERATE 1-2 a${1,2,q} A 192.0.2.1", "modifier"},
	    {"$GENERATE 1-2 a${1,2,d A 192.0.2.1", "modifier"},
	    {"$GENERATE 1-2 a${1,200} A 192.0.2.1", "modifier"},
	    {"$GENERATE 1-2 a$", "expected"},
	    {"$GENERATE 1-2 a$ A 192.0.2.1 extra", "expected"},
	    {"$GENERATE 0-2000000 a$ A 192.0.2.1", "more than 1048576"},
	    {"$GENERATE 1-300 a$ A 192.0.2.$", "IPv4"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text), "$ORIGIN example.\n@ 60 SOA ns h 1 2 3 4 5\n%s\n",
		         bad[i].line);
		ss_zone_error_t err;
		assert_int_equal(load_err(text, &err), SS_EPARSE);
		/* The $GENERATE's own line, whatever record of it broke. */
		assert_int_equal(err.line, 3);
		if (strstr(err.message, bad[i].why) == NULL) {
			fail_msg("'%s': '%s' lacks '%s'", bad[i].line, err.message, bad[i].why);
		}
	}
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_include(void **state)
{
	(void)state;
	char dir[] = "/tmp/soasync-test-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char main_path[256], sub_path[256], bad_path[256];
	snprintf(main_path, sizeof(main_path), "%s/example.com.zone", dir);
	snprintf(sub_path, sizeof(sub_path), "%s/hosts.inc", dir);
	snprintf(bad_path, sizeof(bad_path), "%s/bad.inc", dir);
	write_file(main_path, "$TTL 3600\n@ SOA ns1 hostmaster 2024010101 7200 3600 1209600 300\n"
	                      "@ NS ns1\n@ NS ns2.example.net.\n"
	                      "$INCLUDE hosts.inc\n"
	                      "$INCLUDE hosts.inc mail.example.com.\n"
	                      "txt TXT Hello World\n");
	write_file(sub_path, "ns1 A 192.0.2.1\r\nwww 300 A 192.0.2.10\r\n");
	ss_zone_t *z = NULL;
	ss_zone_error_t err;
	assert_int_equal(ss_zone_load_file(main_path, NULL, 0, &z, &err), 0);
	assert_int_equal(ss_zone_count(z), 8);
	knot_dname_storage_t own;
	knot_dname_from_str(own, "www.mail.example.com.", sizeof(own));
	assert_true(ss_zone_find(z, own, KNOT_RRTYPE_A) >= 0);
	knot_dname_from_str(own, "txt.example.com.", sizeof(own));
	assert_true(ss_zone_find(z, own, KNOT_RRTYPE_TXT) >= 0);
	ss_zone_free(z);
	/* An error inside the included file names that file and its line. */
	write_file(sub_path, "ns1 A 192.0.2.1\nwww 300 A 192.0.2.300\n");
	assert_int_equal(ss_zone_load_file(main_path, NULL, 0, &z, &err), SS_EPARSE);
	assert_non_null(strstr(err.file, "hosts.inc"));
	assert_int_equal(err.line, 2);
	/* A missing include names the including file and line. */
	unlink(sub_path);
	assert_int_equal(ss_zone_load_file(main_path, NULL, 0, &z, &err), SS_EIO);
	assert_int_equal(err.line, 5);
	/* An include loop stops. */
	write_file(bad_path, "$INCLUDE bad.inc\n");
	assert_int_equal(ss_zone_load_file(bad_path, NULL, 0, &z, &err), SS_EPARSE);
	unlink(main_path);
	unlink(bad_path);
	rmdir(dir);
}

static void test_add_api(void **state)
{
	(void)state;
	knot_dname_storage_t origin, owner;
	knot_dname_from_str(origin, "example.", sizeof(origin));
	ss_zone_t *z = ss_zone_new(origin);
	uint8_t a[4] = {192, 0, 2, 1};
	uint8_t mx_short[3] = {0, 10, 5};      /* name cut short */
	uint8_t mx_ptr[4] = {0, 10, 0xc0, 12}; /* compression pointer */
	knot_dname_from_str(owner, "www.example.org.", sizeof(owner));
	assert_int_equal(ss_zone_add(z, owner, KNOT_RRTYPE_A, KNOT_CLASS_IN, 1, a, 4), SS_EINVAL);
	knot_dname_from_str(owner, "WWW.Example.", sizeof(owner));
	assert_int_equal(ss_zone_add(z, owner, KNOT_RRTYPE_MX, KNOT_CLASS_IN, 1, mx_short, 3),
	                 SS_EINVAL);
	assert_int_equal(ss_zone_add(z, owner, KNOT_RRTYPE_MX, KNOT_CLASS_IN, 1, mx_ptr, 4),
	                 SS_EINVAL);
	assert_int_equal(ss_zone_add(z, owner, KNOT_RRTYPE_A, KNOT_CLASS_IN, 1, a, 3), SS_EINVAL);
	/* An RRset of two. */
	knot_rrset_t *rrs = knot_rrset_new(owner, KNOT_RRTYPE_A, KNOT_CLASS_IN, 7, NULL);
	assert_non_null(rrs);
	assert_int_equal(knot_rrset_add_rdata(rrs, a, 4, NULL), KNOT_EOK);
	a[3] = 2;
	assert_int_equal(knot_rrset_add_rdata(rrs, a, 4, NULL), KNOT_EOK);
	assert_int_equal(ss_zone_add_rrset(z, rrs), 0);
	knot_rrset_free(rrs, NULL);
	assert_int_equal(ss_zone_finish(z), SS_ENOSOA);
	assert_int_equal(ss_zone_add(z, owner, KNOT_RRTYPE_A, KNOT_CLASS_IN, 1, a, 4), SS_ESTATE);
	assert_int_equal(ss_zone_finish(z), SS_ESTATE);
	assert_int_equal(ss_zone_count(z), 2);
	ss_rr_t soa;
	assert_int_equal(ss_zone_soa(z, &soa), SS_ENOSOA);
	assert_int_equal(ss_zone_find(z, owner, KNOT_RRTYPE_A), 0);
	assert_int_equal(ss_zone_find(z, owner, KNOT_RRTYPE_AAAA), -1);
	char buf[64];
	assert_int_equal(ss_zone_rr_to_text(z, 0, buf, 10), SS_ELIMIT);
	text_of(z, 1, buf, sizeof(buf));
	assert_string_equal(buf, "www.example. 7 IN A 192.0.2.2");
	ss_zone_free(z);
}

static void test_unknown_and_generic_rdata(void **state)
{
	(void)state;
	/* RFC 3597 generic form of a known type equals its usual form. */
	ss_zone_t *a = load_ok("$ORIGIN example.\n@ 60 SOA ns h 1 2 3 4 5\n"
	                       "x 60 A 192.0.2.1\ny 60 TYPE65000 \\# 3 010203\n",
	                       NULL);
	ss_zone_t *b = load_ok("$ORIGIN example.\n@ 60 SOA ns h 1 2 3 4 5\n"
	                       "x 60 TYPE1 \\# 4 C0000201\ny 60 TYPE65000 \\# 3 010203\n",
	                       NULL);
	size_t n = 1;
	diffs_t d = {0};
	assert_int_equal(ss_zone_diff(a, b, false, collect, &d, &n), 0);
	assert_int_equal(n, 0);
	char buf[128];
	text_of(a, 2, buf, sizeof(buf));
	assert_string_equal(buf, "y.example. 60 IN TYPE65000 \\# 3 010203");
	ss_zone_free(a);
	ss_zone_free(b);
	/* Generic rdata that is malformed for its type is a parse error. */
	ss_zone_error_t err;
	assert_int_equal(load_err("$ORIGIN example.\n@ 60 SOA ns h 1 2 3 4 5\n"
	                          "x 60 MX \\# 3 000a05\n",
	                          &err),
	                 SS_EPARSE);
	assert_int_equal(err.line, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_canonical_order_rfc4034),
	    cmocka_unit_test(test_canonical_order_long_runs),
	    cmocka_unit_test(test_type_and_rdata_order),
	    cmocka_unit_test(test_canonical_form),
	    cmocka_unit_test(test_dedupe),
	    cmocka_unit_test(test_digest_ignores_serial_and_format),
	    cmocka_unit_test(test_digest_changes_with_data),
	    cmocka_unit_test(test_zonemd_rfc8976_examples),
	    cmocka_unit_test(test_zonemd_interop),
	    cmocka_unit_test(test_zonemd_tampered),
	    cmocka_unit_test(test_zonemd_section4),
	    cmocka_unit_test(test_diff_reformatted_is_empty),
	    cmocka_unit_test(test_diff_lists_changes),
	    cmocka_unit_test(test_diff_callback_stops),
	    cmocka_unit_test(test_parse_errors_name_the_line),
	    cmocka_unit_test(test_no_soa_and_two_soas),
	    cmocka_unit_test(test_origin_from_filename),
	    cmocka_unit_test(test_origin_inference),
	    cmocka_unit_test(test_ttl_rules),
	    cmocka_unit_test(test_name_source),
	    cmocka_unit_test(test_generate),
	    cmocka_unit_test(test_generate_ttl),
	    cmocka_unit_test(test_generate_errors),
	    cmocka_unit_test(test_change_verdicts),
	    cmocka_unit_test(test_include),
	    cmocka_unit_test(test_add_api),
	    cmocka_unit_test(test_unknown_and_generic_rdata),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
