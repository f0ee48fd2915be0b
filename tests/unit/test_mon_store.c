/* The monitor's SQLite store: what is written, what a restart restores, history queries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "mon_fixture.h"

static char dir[64], db[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ss-monstore-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		return -1;
	}
	snprintf(db, sizeof(db), "%s/monitor.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static ss_mon_store_t *open_rw(void)
{
	ss_mon_store_t *st = NULL;
	ss_mon_error_t err;
	char buf[1024];
	if (mon_store_open(db, &st, &err) != 0) {
		fail_msg("%s", ss_mon_error_format(&err, buf, sizeof(buf)));
	}
	return st;
}

/* A step, written to the store. */
#define rstep(st, zid, f, now, notify, p, ...)                                                     \
	do {                                                                                       \
		step(f, now, notify, p, __VA_ARGS__);                                              \
		assert_int_equal(mon_store_record(st, zid, &(f)->st, &(f)->ev), 0);                \
	} while (0)

typedef struct {
	char text[4096];
	size_t n;
} sink_t;

static int on_serial(const ss_mon_hist_serial_t *s, void *arg)
{
	sink_t *k = arg;
	size_t len = strlen(k->text);
	len += (size_t)snprintf(k->text + len, sizeof(k->text) - len, "%s %u %s", s->zone,
	                        s->serial, ss_mon_via_name(s->via));
	for (size_t i = 0; i < s->nservers; i++) {
		const ss_mon_hist_server_t *v = &s->servers[i];
		len += (size_t)snprintf(k->text + len, sizeof(k->text) - len, " %s=%s", v->address,
		                        v->converged ? ""
		                        : v->never   ? "never"
		                                     : "behind");
		if (v->converged) {
			len += (size_t)snprintf(k->text + len, sizeof(k->text) - len, "%lld",
			                        (long long)v->lag_ms);
		}
	}
	snprintf(k->text + len, sizeof(k->text) - len, "\n");
	k->n++;
	return 0;
}

static int on_event(const ss_mon_event_t *e, void *arg)
{
	sink_t *k = arg;
	size_t len = strlen(k->text);
	snprintf(k->text + len, sizeof(k->text) - len, "%s%s%s\n", ss_mon_event_name(e->kind),
	         e->kind == SS_MON_EV_STATUS ? " " : "",
	         e->kind == SS_MON_EV_STATUS ? ss_status_name(e->status) : "");
	k->n++;
	return 0;
}

static void test_record_restore_query(void **state)
{
	(void)state;
	ss_mon_store_t *st = open_rw();
	int64_t zid = 0;
	bool fresh = false;
	assert_int_equal(mon_store_zone(st, ZONE, T0, &zid, &fresh), 0);
	assert_true(fresh);
	fx_t f = {0};
	rstep(st, zid, &f, T0, 0, 5, 5, 5);
	rstep(st, zid, &f, T0 + 1000, T0 + 900, 6, 5, 5); /* NOTIFY'd */
	rstep(st, zid, &f, T0 + 1400, 0, 6, 6, 5);        /* .2 follows */
	rstep(st, zid, &f, T0 + 7000, 0, 6, 6, 5);        /* .3 lags: warning */
	assert_int_equal(f.st.status, SS_STATUS_WARNING);
	assert_int_equal(mon_store_commit(st), 0);
	ss_mon_store_close(st);

	/* A restart continues where it was. */
	st = open_rw();
	assert_int_equal(mon_store_zone(st, ZONE, T0 + 8000, &zid, &fresh), 0);
	assert_false(fresh);
	mon_zstate_t zs = {0};
	assert_int_equal(mon_store_load(st, zid, &zs), 0);
	assert_true(zs.has_reference);
	assert_int_equal(zs.reference, 6);
	assert_int_equal(zs.reference_since_ms, T0 + 900);
	assert_int_equal(zs.reference_via, SS_MON_VIA_NOTIFY);
	assert_int_equal(zs.status, SS_STATUS_WARNING);
	assert_int_equal(zs.finding[SS_F_SERIAL_BEHIND], SS_SEV_WARNING + 1);
	assert_int_equal(zs.nopen, 1);
	assert_int_equal(zs.open[0].serial, 6);
	assert_int_equal(zs.open[0].nw, 2);
	assert_true(zs.converging);
	assert_int_equal(zs.nservers, 2); /* the servers that converged once */
	/* The restored state goes on: .3 converges, with its lag from the NOTIFY. */
	fx_t g = {.st = zs};
	rstep(st, zid, &g, T0 + 9000, 0, 6, 6, 6);
	assert_int_equal(nth(&g, SS_MON_EV_CONVERGED, 0)->lag_ms, 8100);
	assert_int_equal(count(&g, SS_MON_EV_STATUS), 1);
	assert_int_equal(g.st.nopen, 0);
	assert_int_equal(mon_store_commit(st), 0);
	ss_mon_store_close(st);

	/* The history, read-only. */
	ss_mon_error_t err;
	assert_int_equal(ss_mon_store_open_readonly(db, &st, &err), 0);
	sink_t k = {0};
	ss_mon_hist_query_t q = {0};
	assert_int_equal(ss_mon_history_serials(st, &q, on_serial, &k), 0);
	assert_string_equal(k.text, "example.test. 5 start 192.0.2.2=0 192.0.2.3=0\n"
	                            "example.test. 6 notify 192.0.2.2=500 192.0.2.3=8100\n");
	memset(&k, 0, sizeof(k));
	q.last = 1;
	const char *zones[] = {"EXAMPLE.test"};
	q.zones = zones;
	q.nzones = 1;
	assert_int_equal(ss_mon_history_serials(st, &q, on_serial, &k), 0);
	assert_int_equal(k.n, 1);
	memset(&k, 0, sizeof(k));
	q.last = 0;
	q.since_ms = T0 + 5000;
	assert_int_equal(ss_mon_history_serials(st, &q, on_serial, &k), 0);
	assert_int_equal(k.n, 0);
	memset(&k, 0, sizeof(k));
	q.since_ms = 0;
	assert_int_equal(ss_mon_history_events(st, &q, on_event, &k), 0);
	assert_string_equal(k.text, "finding-opened\nstatus warning\nfinding-closed\nstatus ok\n");
	const char *other[] = {"other.test."};
	q.zones = other;
	memset(&k, 0, sizeof(k));
	assert_int_equal(ss_mon_history_events(st, &q, on_event, &k), 0);
	assert_int_equal(k.n, 0);
	ss_mon_store_close(st);
	fx_free(&f);
	fx_free(&g);
}

static void test_pending_never_and_removal(void **state)
{
	(void)state;
	ss_mon_store_t *st = open_rw();
	int64_t zid = 0;
	bool fresh = false;
	assert_int_equal(mon_store_zone(st, "other.test.", T0, &zid, &fresh), 0);
	fx_t f = {0};
	rstep(st, zid, &f, T0, 0, 1, 1);
	rstep(st, zid, &f, T0 + 1000, 0, 2, 1); /* .2 behind */
	assert_int_equal(mon_store_commit(st), 0);
	ss_mon_error_t err;
	ss_mon_store_t *ro = NULL;
	assert_int_equal(ss_mon_store_open_readonly(db, &ro, &err), 0);
	const char *zones[] = {"other.test."};
	ss_mon_hist_query_t q = {.zones = zones, .nzones = 1};
	sink_t k = {0};
	assert_int_equal(ss_mon_history_serials(ro, &q, on_serial, &k), 0);
	assert_non_null(strstr(k.text, "other.test. 2 poll 192.0.2.2=behind\n"));
	/* The zone is no longer watched: given up, marked removed. */
	mon_events_clear(&f.ev);
	assert_int_equal(mon_state_close(&f.st, T0 + 2000, "other.test.", &f.ev), 0);
	assert_int_equal(mon_store_record(st, zid, &f.st, &f.ev), 0);
	assert_int_equal(mon_store_zone_removed(st, zid, T0 + 2000), 0);
	assert_int_equal(mon_store_commit(st), 0);
	memset(&k, 0, sizeof(k));
	assert_int_equal(ss_mon_history_serials(ro, &q, on_serial, &k), 0);
	assert_non_null(strstr(k.text, "other.test. 2 poll 192.0.2.2=never\n"));
	/* Back in the config: the same zone, its history kept. */
	int64_t again = 0;
	assert_int_equal(mon_store_zone(st, "other.test.", T0 + 3000, &again, &fresh), 0);
	assert_int_equal(again, zid);
	assert_true(fresh);
	/* Retention: everything older than the cutoff goes. */
	assert_int_equal(mon_store_retention(st, T0 + 1500), 0);
	assert_int_equal(mon_store_commit(st), 0);
	memset(&k, 0, sizeof(k));
	assert_int_equal(ss_mon_history_serials(ro, &q, on_serial, &k), 0);
	assert_int_equal(k.n, 0);
	ss_mon_store_close(ro);
	ss_mon_store_close(st);
	fx_free(&f);
}

static void test_refuses_foreign_databases(void **state)
{
	(void)state;
	char path[160];
	ss_mon_error_t err;
	ss_mon_store_t *st = NULL;
	snprintf(path, sizeof(path), "%s/other.db", dir);
	sqlite3 *h = NULL;
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	assert_int_equal(mon_store_open(path, &st, &err), SS_EIO);
	assert_non_null(strstr(err.message, "not a soasync monitor database"));
	assert_int_equal(ss_mon_store_open_readonly(path, &st, &err), SS_EIO);

	/* From a newer soasync: not touched. */
	st = open_rw();
	ss_mon_store_close(st);
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	assert_int_equal(mon_store_open(db, &st, &err), SS_EIO);
	assert_non_null(strstr(err.message, "newer"));
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);

	/* Missing: read-only does not create it. */
	snprintf(path, sizeof(path), "%s/missing.db", dir);
	assert_int_equal(ss_mon_store_open_readonly(path, &st, &err), SS_EIO);
	assert_int_not_equal(access(path, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record_restore_query),
	    cmocka_unit_test(test_pending_never_and_removal),
	    cmocka_unit_test(test_refuses_foreign_databases),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
