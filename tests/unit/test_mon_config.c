/* The monitor's config: every key, the defaults, and errors with file:line:column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <soasync/error.h>
#include <soasync/monitor.h>

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ss-moncfg-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *write_file(const char *name, const char *text)
{
	static char path[4][256];
	static int k;
	char *p = path[k++ % 4];
	snprintf(p, 256, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

/* Parse text; expect an error at line:column whose message contains want. */
static void bad(const char *text, unsigned line, unsigned column, const char *want)
{
	ss_mon_config_t *cfg = NULL;
	ss_mon_error_t err;
	memset(&err, 0, sizeof(err));
	int ret = ss_mon_config_parse(text, strlen(text), "mon.yaml", &cfg, &err);
	if (ret == 0 || strstr(err.message, want) == NULL || err.line != line ||
	    err.column != column) {
		char buf[1024];
		fail_msg("for:\n%s\nwanted %u:%u '%s', got ret %d: %s", text, line, column, want,
		         ret, ss_mon_error_format(&err, buf, sizeof(buf)));
	}
	assert_null(cfg);
	assert_string_equal(err.file, "mon.yaml");
}

static ss_mon_config_t *good(const char *text)
{
	ss_mon_config_t *cfg = NULL;
	ss_mon_error_t err;
	memset(&err, 0, sizeof(err));
	if (ss_mon_config_parse(text, strlen(text), "mon.yaml", &cfg, &err) != 0) {
		char buf[1024];
		fail_msg("for:\n%s\nunexpected error: %s", text,
		         ss_mon_error_format(&err, buf, sizeof(buf)));
	}
	return cfg;
}

static void test_defaults(void **state)
{
	(void)state;
	ss_mon_config_t *c = good("database: /var/lib/soasync/monitor.db\n");
	assert_string_equal(c->database, "/var/lib/soasync/monitor.db");
	assert_int_equal(c->interval_ms, 60000);
	assert_int_equal(c->fast_interval_ms, 2000);
	assert_int_equal(c->converge_timeout_ms, 1800000);
	assert_int_equal(c->lag_warning_ms, 300000);
	assert_int_equal(c->lag_critical_ms, 1800000);
	assert_int_equal(c->history_days, 400);
	assert_int_equal(c->expire_warn_s, 86400);
	assert_int_equal(c->alert_repeat_ms, 3600000);
	assert_true(c->metrics_per_address);
	assert_false(c->has_notify);
	assert_int_equal(c->nnotify_allow, 0);
	assert_int_equal(c->nzones, 0);
	assert_null(c->alert_command);
	ss_mon_config_free(c);
}

static void test_every_key(void **state)
{
	(void)state;
	ss_mon_config_t *c = good("database: mon.db\n"
	                          "resolver: 192.0.2.53\n"
	                          "source: [192.0.2.250, '2001:db8::250']\n"
	                          "interval: 2s\n"
	                          "fast_interval: 200ms\n"
	                          "converge_timeout: 30m\n"
	                          "lag_warning: 5m\n"
	                          "lag_critical: 1h\n"
	                          "discover_interval: 10m\n"
	                          "history_days: 30\n"
	                          "expire_warn: 2h\n"
	                          "query_timeout: 800ms\n"
	                          "tries: 2\n"
	                          "max_inflight: 5000\n"
	                          "per_server: 50\n"
	                          "listen:\n"
	                          "  http: 127.0.0.1:9153\n"
	                          "  notify: '[::1]:5300'\n"
	                          "notify_allow: [192.0.2.1, 2001:db8::/64]\n"
	                          "user: soasync\n"
	                          "site: fra1\n"
	                          "zones:\n"
	                          "  - name: Example.COM\n"
	                          "    primary: 192.0.2.1\n"
	                          "    ns: [192.0.2.1, 192.0.2.2#5353]\n"
	                          "    content: 15m\n"
	                          "  - example.org.\n"
	                          "alerts:\n"
	                          "  command: [/usr/local/bin/page, --team, dns]\n"
	                          "  webhook: https://hooks.example/dns\n"
	                          "  repeat: 1h\n"
	                          "metrics:\n"
	                          "  per_address: false\n");
	char a[SS_ADDR_STRLEN];
	assert_true(c->has_resolver);
	assert_string_equal(ss_addr_format(&c->resolver, a, sizeof(a)), "192.0.2.53");
	assert_true(c->has_source4 && c->has_source6);
	assert_int_equal(c->interval_ms, 2000);
	assert_int_equal(c->fast_interval_ms, 200);
	assert_int_equal(c->lag_critical_ms, 3600000);
	assert_int_equal(c->discover_interval_ms, 600000);
	assert_int_equal(c->history_days, 30);
	assert_int_equal(c->expire_warn_s, 7200);
	assert_int_equal(c->query_timeout_ms, 800);
	assert_int_equal(c->tries, 2);
	assert_int_equal(c->max_inflight, 5000);
	assert_int_equal(c->per_server, 50);
	assert_true(c->has_http && c->has_notify);
	assert_string_equal(ss_addr_format(&c->http, a, sizeof(a)), "127.0.0.1#9153");
	assert_string_equal(ss_addr_format(&c->notify, a, sizeof(a)), "::1#5300");
	assert_int_equal(c->nnotify_allow, 2);
	assert_int_equal(c->notify_allow[1].bits, 64);
	assert_string_equal(c->user, "soasync");
	assert_string_equal(c->site, "fra1");
	assert_int_equal(c->nzones, 2);
	assert_string_equal(c->zones[0].name, "example.com.");
	assert_int_equal(c->zones[0].nprimary, 1);
	assert_int_equal(c->zones[0].nns, 2);
	assert_int_equal(ss_addr_port(&c->zones[0].ns[1]), 5353);
	assert_int_equal(c->zones[0].content_ms, 900000);
	assert_int_equal(c->zones[0].line, 23);
	assert_string_equal(c->zones[1].name, "example.org.");
	assert_string_equal(c->alert_command[0], "/usr/local/bin/page");
	assert_string_equal(c->alert_command[2], "dns");
	assert_null(c->alert_command[3]);
	assert_string_equal(c->alert_webhook, "https://hooks.example/dns");
	assert_false(c->metrics_per_address);
	ss_mon_config_free(c);
}

static void test_errors(void **state)
{
	(void)state;
	bad("database: x\nintervall: 5s\n", 2, 1, "unknown key 'intervall'");
	bad("database: x\ninterval: soon\n", 2, 11, "interval: expected a duration");
	bad("database: x\ninterval: 60\n", 2, 11, "with a unit");
	bad("database: x\ninterval: [1s]\n", 2, 11, "expected a single value, got a list");
	bad("database: x\ndatabase: y\n", 2, 1, "key 'database' given twice");
	bad("interval: 5s\n", 1, 1, "database: missing");
	bad("database: x\nzones:\n  - name: a.example\n    nss: [192.0.2.1]\n", 4, 5,
	    "unknown key 'nss'");
	bad("database: x\nzones:\n  - primary: 192.0.2.1\n", 3, 5, "without 'name'");
	bad("database: x\nzones:\n  - name: bad..name\n", 3, 11, "not a valid zone name");
	bad("database: x\nzones: [a.example, b.example, A.Example.]\n", 2, 31,
	    "listed twice (also line 2, column 9)");
	bad("database: x\nzones:\n  - name: a.example\n    ns: [192.0.2.1, ns1.example]\n", 4, 21,
	    "not an address");
	bad("database: x\nnotify_allow: [192.0.2.0/40]\n", 2, 16, "not an address or prefix");
	bad("database: x\nlisten: 127.0.0.1:53\n", 2, 9, "expected a mapping");
	bad("database: x\nlisten:\n  dns: 127.0.0.1\n", 3, 3, "unknown key 'dns'");
	bad("database: x\nalerts:\n  command: /bin/page --team dns\n", 3, 12, "expected a list");
	bad("database: x\nalerts:\n  webhook: ftp://x\n", 3, 12, "http:// or https://");
	bad("database: x\nmetrics: {per_address: maybe}\n", 2, 24, "true or false");
	bad("database: x\nhistory_days: 0\n", 2, 15, "from 1 to 100000");
	bad("database: x\ninterval: 1s\nfast_interval: 2s\n", 1, 1, "longer than interval");
	bad("database: x\nlag_warning: 1h\nlag_critical: 5m\n", 1, 1, "lag_warning is longer");
	bad("database: x\nsource: [192.0.2.1, 192.0.2.2]\n", 2, 9, "at most one IPv4");
	bad("database: &d x\nuser: *d\n", 2, 7, "aliases");
	bad("database: x\nzones: [[[[[[[[[[[[[[[[[[[[a]]]]]]]]]]]]]]]]]]]]\n", 2, 23,
	    "nested more than 16 levels");
	bad("database: x\n---\ndatabase: y\n", 3, 1, "a second YAML document");
	bad("database: [x\n", 2, 1, "not valid YAML");
	bad("- database\n", 1, 1, "expected a mapping");
	bad("database: x\nuser:\n", 2, 6, "expected a value");
	bad("database: x\nsite: \"a\\\"b\"\n", 2, 7, "quotes");
}

static void test_files(void **state)
{
	(void)state;
	write_file("zones.txt", "# zones\nb.example\n\n  c.example. # comment\n");
	write_file("monitor.key", "key \"mon-key\" {\n\talgorithm hmac-sha256;\n"
	                          "\tsecret \"c29hc3luYyBtb25pdG9yIHRlc3Qga2V5ISEhISE=\";\n};\n");
	const char *path = write_file("mon.yaml", "database: monitor.db\n"
	                                          "tsig: monitor.key\n"
	                                          "zones: [a.example]\n"
	                                          "zones_from: zones.txt\n");
	ss_mon_config_t *c = NULL;
	ss_mon_error_t err;
	char buf[1024];
	int ret = ss_mon_config_load(path, &c, &err);
	if (ret != 0) {
		fail_msg("%s", ss_mon_error_format(&err, buf, sizeof(buf)));
	}
	char want[256];
	snprintf(want, sizeof(want), "%s/monitor.db", dir); /* relative to the config */
	assert_string_equal(c->database, want);
	assert_true(c->has_tsig);
	assert_int_equal(c->nzones, 3);
	assert_string_equal(c->zones[2].name, "c.example.");
	assert_int_equal(c->zones[2].line, 0);
	ss_mon_config_free(c);

	/* A bad zone in zones_from: that file and line. */
	write_file("zones.txt", "b.example\nbad..zone\n");
	assert_int_equal(ss_mon_config_load(path, &c, &err), SS_EPARSE);
	assert_non_null(strstr(err.file, "zones.txt"));
	assert_int_equal(err.line, 2);
	/* Twice: in the config and in zones_from. */
	write_file("zones.txt", "a.example\n");
	assert_int_equal(ss_mon_config_load(path, &c, &err), SS_EPARSE);
	assert_non_null(strstr(err.message, "listed twice (also in "));
	assert_int_equal(err.line, 3);
	assert_int_equal(err.column, 9);
	/* A broken key file names the key file. */
	write_file("zones.txt", "b.example\n");
	write_file("monitor.key", "key \"k\" { algorithm hmac-sha256; };\n");
	assert_int_equal(ss_mon_config_load(path, &c, &err), SS_EPARSE);
	assert_non_null(strstr(err.file, "monitor.key"));
	/* A config that does not exist. */
	snprintf(want, sizeof(want), "%s/nope.yaml", dir);
	assert_int_equal(ss_mon_config_load(want, &c, &err), SS_EIO);
	assert_string_equal(err.file, want);
	assert_null(c);
	assert_int_equal(strlen(ss_mon_error_format(&err, buf, 20)), 19); /* truncated, safely */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_every_key),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
