/* The monitor as a whole on an in-process primary and secondary: the read
 * API the web layer uses (zones, servers, lag, findings, counters), events,
 * a change through lag_warning and back, NOTIFY, reload, history through the
 * monitor's own store, stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <soasync/monitor.h>

#include "monitor/mon_int.h"
#include "responder.h"

typedef struct {
	uint32_t serial[2];   /* a.test. on the primary, on the secondary */
	unsigned a_delay_ms;  /* before a.test.'s SOA answers */
	unsigned a_queries;   /* a.test. SOA queries received */
	const char *interval; /* the config's; NULL: 400ms */
	rsp_t *rsp[2];
	ss_mon_event_t ev[256];
	char evzone[256][32];
	size_t nev;
	bool stopped;
} world_t;

static world_t W;

/* Both servers: the zones' SOA (a.test. at its serial, b.test. and c.test.
 * at 1), REFUSED for anything else (the CHAOS version query included). */
static void serve(rsp_query_t *q, void *arg)
{
	int who = (int)(intptr_t)arg;
	if (q->pkt == NULL) {
		return;
	}
	knot_pkt_t *p = NULL;
	const char *zones[] = {"a.test.", "b.test.", "c.test."};
	for (int i = 0; i < 3 && rsp_qtype(q) == KNOT_RRTYPE_SOA; i++) {
		if (rsp_qname_is(q, zones[i])) {
			p = rsp_reply(q, KNOT_RCODE_NOERROR, true);
			rsp_add_soa(p, KNOT_ANSWER, zones[i], i == 0 ? W.serial[who] : 1);
			if (i == 0) {
				W.a_queries++;
				rsp_delay(q, W.a_delay_ms);
			}
		}
	}
	char name[KNOT_DNAME_TXT_MAXLEN + 1];
	if (p == NULL && rsp_qtype(q) == KNOT_RRTYPE_SOA &&
	    knot_dname_to_str(name, knot_pkt_qname(q->pkt), sizeof(name)) != NULL &&
	    strlen(name) > 11 && strcmp(name + strlen(name) - 11, ".many.test.") == 0) {
		p = rsp_reply(q, KNOT_RCODE_NOERROR, true);
		rsp_add_soa(p, KNOT_ANSWER, name, 1);
	}
	rsp_send_pkt(q, p ? p : rsp_reply(q, KNOT_RCODE_REFUSED, false));
}

static void on_event(const ss_mon_event_t *e, void *arg)
{
	(void)arg;
	if (W.nev < sizeof(W.ev) / sizeof(W.ev[0])) {
		snprintf(W.evzone[W.nev], sizeof(W.evzone[0]), "%s", e->zone);
		W.ev[W.nev] = *e;
		W.ev[W.nev].zone = W.evzone[W.nev];
		W.ev[W.nev].name = NULL;
		W.ev[W.nev].message = NULL;
		W.nev++;
	}
}

static size_t count(ss_mon_event_kind_t kind, const char *zone)
{
	size_t n = 0;
	for (size_t i = 0; i < W.nev; i++) {
		n += W.ev[i].kind == kind && strcmp(W.ev[i].zone, zone) == 0;
	}
	return n;
}

typedef bool (*cond_fn)(ss_monitor_t *m);
typedef struct {
	ss_monitor_t *m;
	cond_fn cond;
	int64_t deadline;
	bool met;
} waiter_t;

static void poll_cond(uv_timer_t *t)
{
	waiter_t *w = t->data;
	if ((w->met = w->cond(w->m)) || ss_monitor_now_ms(w->m) > w->deadline) {
		uv_stop(t->loop);
	}
}

/* Run the loop until cond holds (or fail after ms). */
static void run_until(uv_loop_t *loop, ss_monitor_t *m, cond_fn cond, int64_t ms, const char *what)
{
	waiter_t w = {m, cond, ss_monitor_now_ms(m) + ms, false};
	uv_timer_t t;
	uv_timer_init(loop, &t);
	t.data = &w;
	uv_timer_start(&t, poll_cond, 5, 5);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	if (!w.met) {
		fail_msg("timed out waiting for %s", what);
	}
}

static bool both_checked(ss_monitor_t *m)
{
	const ss_mon_zone_t *a = ss_monitor_zone_find(m, "a.test"),
	                    *b = ss_monitor_zone_find(m, "B.TEST.");
	return a && b && a->checked && b->checked && count(SS_MON_EV_CONVERGED, "a.test.") == 1;
}

static bool a_published(ss_monitor_t *m)
{
	(void)m;
	return count(SS_MON_EV_SERIAL, "a.test.") == 2;
}

static bool a_warning(ss_monitor_t *m)
{
	return ss_monitor_zone_find(m, "a.test.")->status == SS_STATUS_WARNING;
}

static bool a_ok(ss_monitor_t *m)
{
	return ss_monitor_zone_find(m, "a.test.")->status == SS_STATUS_OK &&
	       count(SS_MON_EV_CONVERGED, "a.test.") == 2;
}

static bool b_notified(ss_monitor_t *m)
{
	return ss_monitor_zone_find(m, "b.test.")->notify[SS_MON_NOTIFY_ACCEPTED] == 1 &&
	       ss_monitor_zone_find(m, "b.test.")->checks >= 2;
}

static bool c_checked(ss_monitor_t *m)
{
	const ss_mon_zone_t *c = ss_monitor_zone_find(m, "c.test.");
	return c != NULL && c->checked;
}

static void stopped(void *arg)
{
	(void)arg;
	W.stopped = true;
}

static char dir[64];

/* The primary's and the secondary's address as text (SS_ADDR_STRLEN each). */
static void server_addrs(char *pa, char *sa)
{
	ss_addr_t p, s;
	rsp_server(W.rsp[0], &p);
	rsp_server(W.rsp[1], &s);
	ss_addr_format(&p, pa, SS_ADDR_STRLEN);
	ss_addr_format(&s, sa, SS_ADDR_STRLEN);
}

static ss_mon_config_t *config(const char *zones, uint16_t notify_port)
{
	char text[2048];
	char pa[SS_ADDR_STRLEN], sa[SS_ADDR_STRLEN];
	server_addrs(pa, sa);
	snprintf(text, sizeof(text),
	         "database: %s/monitor.db\n"
	         "interval: %s\nfast_interval: 50ms\nlag_warning: 300ms\nlag_critical: 1h\n"
	         "query_timeout: 1s\nsite: unit\n"
	         "listen: {notify: '127.0.0.1#%u'}\nnotify_allow: [127.0.0.0/8]\n"
	         "zones:\n",
	         dir, W.interval ? W.interval : "400ms", notify_port);
	char *save = NULL, *list = strdup(zones);
	for (char *z = strtok_r(list, " ", &save); z; z = strtok_r(NULL, " ", &save)) {
		size_t l = strlen(text);
		snprintf(text + l, sizeof(text) - l,
		         "  - {name: %s, ns: ['%s', '%s'], primary: '%s'}\n", z, pa, sa, pa);
	}
	free(list);
	ss_mon_config_t *cfg = NULL;
	ss_mon_error_t err;
	char buf[1024];
	if (ss_mon_config_parse(text, strlen(text), "unit.yaml", &cfg, &err) != 0) {
		fail_msg("%s", ss_mon_error_format(&err, buf, sizeof(buf)));
	}
	return cfg;
}

static void send_notify(uint16_t port, const char *zone)
{
	uint8_t buf[512];
	knot_pkt_t *p = knot_pkt_new(buf, sizeof(buf), NULL);
	knot_pkt_clear(p);
	knot_dname_t *z = knot_dname_from_str_alloc(zone);
	knot_wire_set_id(p->wire, 0x1234);
	knot_wire_set_opcode(p->wire, KNOT_OPCODE_NOTIFY);
	knot_wire_set_aa(p->wire);
	assert_int_equal(knot_pkt_put_question(p, z, KNOT_CLASS_IN, KNOT_RRTYPE_SOA), KNOT_EOK);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sin = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(0x7f000001)};
	assert_int_equal(sendto(fd, p->wire, p->size, 0, (struct sockaddr *)&sin, sizeof(sin)),
	                 (ssize_t)p->size);
	close(fd);
	knot_pkt_free(p);
	free(z);
}

static int hist_count(const ss_mon_hist_serial_t *s, void *arg)
{
	(void)s;
	(*(size_t *)arg)++;
	return 0;
}

/* The two servers on a fresh loop, a fresh directory for the database. */
static void world_start(uv_loop_t *loop)
{
	snprintf(dir, sizeof(dir), "/tmp/ss-monmon-XXXXXX");
	assert_non_null(mkdtemp(dir));
	uv_loop_init(loop);
	memset(&W, 0, sizeof(W));
	W.serial[0] = W.serial[1] = 1;
	W.rsp[0] = rsp_start(loop, "127.0.0.1", serve, (void *)(intptr_t)0);
	W.rsp[1] = rsp_start(loop, "127.0.0.1", serve, (void *)(intptr_t)1);
}

/* Stops m and the servers; nothing may be left on the loop. */
static void world_end(uv_loop_t *loop, ss_monitor_t *m)
{
	ss_monitor_stop(m, stopped, NULL);
	assert_false(ss_monitor_healthy(m));
	rsp_stop(W.rsp[0]);
	rsp_stop(W.rsp[1]);
	uv_run(loop, UV_RUN_DEFAULT);
	assert_true(W.stopped);
	ss_monitor_free(m);
	assert_int_equal(uv_loop_close(loop), 0);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* A monitor of zones on the two servers, listening for NOTIFY on a free
 * port (*nport), started. */
static ss_monitor_t *monitor_started(uv_loop_t *loop, const char *zones, uint16_t *nport)
{
	int probe = 0, tfd = 0;
	assert_true(rsp_bind_pair("127.0.0.1", &probe, &tfd, nport));
	close(probe);
	close(tfd);
	ss_mon_hooks_t hooks = {.event = on_event};
	ss_monitor_t *m = NULL;
	ss_mon_error_t err;
	assert_int_equal(ss_monitor_new(loop, config(zones, *nport), &hooks, &m, &err), 0);
	assert_int_equal(ss_monitor_bind(m, &err), 0);
	assert_int_equal(ss_monitor_start(m, &err), 0);
	return m;
}

static void test_monitor(void **state)
{
	(void)state;
	uv_loop_t loop;
	world_start(&loop);
	uint16_t nport = 0;
	ss_monitor_t *m = monitor_started(&loop, "a.test. b.test.", &nport);
	assert_true(ss_monitor_healthy(m));
	assert_false(ss_monitor_zone(m, 0)->checked); /* unknown until checked */
	assert_int_equal(ss_monitor_zone(m, 0)->status, SS_STATUS_UNKNOWN);
	run_until(&loop, m, both_checked, 5000, "the first checks");

	/* The read API: zones in name order, servers with verdicts. */
	assert_int_equal(ss_monitor_zone_count(m), 2);
	const ss_mon_zone_t *a = ss_monitor_zone(m, 0);
	assert_string_equal(a->name, "a.test.");
	assert_string_equal(ss_monitor_zone(m, 1)->name, "b.test.");
	assert_null(ss_monitor_zone(m, 2));
	assert_null(ss_monitor_zone_find(m, "x.test."));
	assert_int_equal(a->status, SS_STATUS_OK);
	assert_true(a->has_reference && a->reference_serial == 1);
	assert_int_equal(a->reference_via, SS_MON_VIA_START);
	assert_true(a->has_primary);
	assert_int_equal(a->nservers, 2);
	assert_true(a->servers[0].is_primary);
	assert_int_equal(a->servers[1].verdict, SS_VERDICT_AT_REFERENCE);
	assert_false(a->servers[1].behind);
	assert_true(a->next_check_ms > a->last_check_ms);
	assert_string_equal(ss_monitor_config(m)->site, "unit");

	/* A change the secondary does not follow: behind, lag growing, serial-behind
	 * as information, then warning at lag_warning. */
	W.serial[0] = 2;
	run_until(&loop, m, a_published, 5000, "serial 2 seen");
	a = ss_monitor_zone_find(m, "a.test.");
	assert_true(a->converging);
	assert_true(a->servers[1].behind);
	assert_int_equal(a->servers[1].verdict, SS_VERDICT_BEHIND);
	run_until(&loop, m, a_warning, 5000, "warning");
	a = ss_monitor_zone_find(m, "a.test.");
	assert_true(ss_mon_lag_ms(&a->servers[1], ss_monitor_now_ms(m)) >= 300);
	assert_int_equal(a->nfindings, 1);
	assert_int_equal(a->findings[0].id, SS_F_SERIAL_BEHIND);
	assert_int_equal(a->findings[0].severity, SS_SEV_WARNING);
	W.serial[1] = 2;
	run_until(&loop, m, a_ok, 5000, "recovery");
	a = ss_monitor_zone_find(m, "a.test.");
	assert_int_equal(a->convergence.count, 1);
	assert_true(a->convergence.sum >= 0.3);
	assert_false(a->converging);
	assert_int_equal(count(SS_MON_EV_STATUS, "a.test."), 2);

	/* NOTIFY: counted for the zone, a check at once. */
	send_notify(nport, "b.test.");
	run_until(&loop, m, b_notified, 5000, "the NOTIFY");
	const ss_mon_counters_t *c = ss_monitor_counters(m);
	assert_int_equal(c->notify[SS_MON_NOTIFY_ACCEPTED], 1);
	assert_true(c->checks >= 5);
	assert_true(c->queries >= 2 * c->checks);
	assert_int_equal(c->check_duration.count, c->checks);
	assert_true(c->events >= W.nev);

	/* Reload: b.test. goes, c.test. comes; a.test.'s state stays. */
	assert_int_equal(ss_monitor_reload(m, config("a.test. c.test.", nport)), 0);
	assert_null(ss_monitor_zone_find(m, "b.test."));
	assert_int_equal(ss_monitor_zone_find(m, "a.test.")->reference_serial, 2);
	assert_int_equal(count(SS_MON_EV_ZONE_REMOVED, "b.test."), 1);
	assert_int_equal(count(SS_MON_EV_ZONE_ADDED, "c.test."), 1);
	run_until(&loop, m, c_checked, 5000, "c.test. checked");

	/* History through the monitor's own store. */
	size_t n = 0;
	ss_mon_hist_query_t q = {0};
	assert_int_equal(ss_mon_history_serials(ss_monitor_store(m), &q, hist_count, &n), 0);
	assert_int_equal(n, 4); /* a.test. 1 and 2, b.test. 1, c.test. 1 */

	world_end(&loop, m);
}

#define MANY       300
#define MANY_IV_MS 1500

static bool many_checked(ss_monitor_t *m)
{
	for (size_t i = 0; i < ss_monitor_zone_count(m); i++) {
		if (!ss_monitor_zone(m, i)->checked) {
			return false;
		}
	}
	return true;
}

static int64_t many_until;

static bool many_time(ss_monitor_t *m)
{
	return ss_monitor_now_ms(m) >= many_until;
}

/*
 * The zones spread over the interval are each checked once per interval: a
 * zone polled a few milliseconds before its slot (the scheduler's tick) and
 * answered at once must not find that same slot still ahead and be polled
 * again (with 20,000 zones that made 2.4 checks per zone and interval).
 */
static void test_once_per_interval(void **state)
{
	(void)state;
	uv_loop_t loop;
	world_start(&loop);
	char pa[SS_ADDR_STRLEN], sa[SS_ADDR_STRLEN];
	server_addrs(pa, sa);
	size_t cap = 64 * 1024, len = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	len += (size_t)snprintf(
	    text, cap, "database: %s/monitor.db\ninterval: %ums\nfast_interval: 100ms\nzones:\n",
	    dir, MANY_IV_MS);
	for (int i = 0; i < MANY; i++) {
		len += (size_t)snprintf(text + len, cap - len,
		                        "  - {name: z%03d.many.test., ns: ['%s', '%s'], "
		                        "primary: '%s'}\n",
		                        i, pa, sa, pa);
		assert_true(len < cap);
	}
	ss_mon_config_t *cfg = NULL;
	ss_mon_error_t err;
	char ebuf[1024];
	if (ss_mon_config_parse(text, len, "many.yaml", &cfg, &err) != 0) {
		fail_msg("%s", ss_mon_error_format(&err, ebuf, sizeof(ebuf)));
	}
	free(text);
	ss_monitor_t *m = NULL;
	ss_mon_hooks_t hooks = {0};
	assert_int_equal(ss_monitor_new(&loop, cfg, &hooks, &m, &err), 0);
	int64_t t0 = ss_monitor_now_ms(m); /* before the zones' phases are set */
	assert_int_equal(ss_monitor_start(m, &err), 0);
	run_until(&loop, m, many_checked, 10 * MANY_IV_MS, "every zone checked");
	/* Half an interval into the second round: each zone at most twice. */
	many_until = t0 + MANY_IV_MS + MANY_IV_MS / 2;
	run_until(&loop, m, many_time, 10 * MANY_IV_MS, "1.5 intervals");
	uint64_t total = 0, most = 0;
	for (size_t i = 0; i < ss_monitor_zone_count(m); i++) {
		uint64_t c = ss_monitor_zone(m, i)->checks;
		total += c;
		most = c > most ? c : most;
	}
	int64_t took = ss_monitor_now_ms(m) - t0;
	print_message("%d zones, %lld ms: %llu checks, at most %llu for a zone\n", MANY,
	              (long long)took, (unsigned long long)total, (unsigned long long)most);
	assert_true(most <= 2 + (uint64_t)(took / MANY_IV_MS - 1));
	assert_true(total <= (uint64_t)MANY * (uint64_t)(took + MANY_IV_MS / 10) / MANY_IV_MS);
	world_end(&loop, m);
}

/* Alert commands run four at a time; the ones waiting for a slot start in
 * the order they were sent (a zone's warning, critical, ok must not reach
 * the pager as ok, critical, warning). b1..b4 take the slots (b1 until
 * go1 exists, the others until go2 does); q1..q3 wait, then run one at a
 * time as each frees the only slot there is, and note their turn. */
static char alert_order[128];

static void alert_order_poll(uv_timer_t *t)
{
	size_t *ticks = t->data;
	FILE *f = fopen(alert_order, "r");
	int lines = 0;
	for (int c; f != NULL && (c = fgetc(f)) != EOF;) {
		lines += c == '\n';
	}
	if (f != NULL) {
		fclose(f);
	}
	if (lines >= 3 || ++*ticks > 1000) {
		uv_stop(t->loop);
	}
}

static void alerts_closed(void *arg)
{
	*(bool *)arg = true;
}

static void test_alert_commands_in_order(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	snprintf(dir, sizeof(dir), "/tmp/ss-monalert-XXXXXX");
	assert_non_null(mkdtemp(dir));
	char script[128], go1[128], go2[128];
	snprintf(script, sizeof(script), "%s/alert.sh", dir);
	snprintf(go1, sizeof(go1), "%s/go1", dir);
	snprintf(go2, sizeof(go2), "%s/go2", dir);
	snprintf(alert_order, sizeof(alert_order), "%s/order", dir);
	FILE *f = fopen(script, "w");
	assert_non_null(f);
	fprintf(f,
	        "#!/bin/sh\ncat >/dev/null\ncase \"$SOASYNC_ZONE\" in\n"
	        "b1) while [ ! -e %s ]; do sleep 0.01; done ;;\n"
	        "b*) while [ ! -e %s ]; do sleep 0.01; done ;;\n"
	        "*) echo \"$SOASYNC_ZONE\" >> %s ;;\nesac\n",
	        go1, go2, alert_order);
	fclose(f);
	assert_int_equal(chmod(script, 0755), 0);

	mon_alerts_t *a = NULL;
	assert_int_equal(mon_alerts_new(&loop, NULL, NULL, &a), 0);
	char *argv[] = {script, NULL};
	assert_int_equal(mon_alerts_configure(a, argv, NULL), 0);
	const char *zones[] = {"b1", "b2", "b3", "b4", "q1", "q2", "q3"};
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		assert_int_equal(mon_alerts_send(a, zones[i], "warning", "{}\n"), 0);
	}
	f = fopen(go1, "w");
	assert_non_null(f);
	fclose(f);
	size_t ticks = 0;
	uv_timer_t t;
	uv_timer_init(&loop, &t);
	t.data = &ticks;
	uv_timer_start(&t, alert_order_poll, 10, 10);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&t, NULL);

	char text[64] = "";
	f = fopen(alert_order, "r");
	assert_non_null(f);
	text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
	fclose(f);
	f = fopen(go2, "w");
	assert_non_null(f);
	fclose(f);
	bool closed = false;
	mon_alerts_close(a, alerts_closed, &closed);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_true(closed);
	assert_string_equal(text, "q1\nq2\nq3\n");
	mon_alerts_free(a);
	assert_int_equal(uv_loop_close(&loop), 0);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static unsigned queries_before;

static bool a_checked(ss_monitor_t *m)
{
	return ss_monitor_zone_find(m, "a.test.")->checked;
}

static bool a_asked(ss_monitor_t *m)
{
	(void)m;
	return W.a_queries > queries_before;
}

static bool a_at_3(ss_monitor_t *m)
{
	const ss_mon_zone_t *a = ss_monitor_zone_find(m, "a.test.");
	return a->has_reference && a->reference_serial == 3;
}

/*
 * A NOTIFY that comes while the check another NOTIFY started is in flight
 * is not lost: a check follows at once (it was dropped, and with both
 * servers on the new serial nothing looked converging, so the zone waited
 * for its next regular poll, an interval later).
 */
static void test_notify_during_check(void **state)
{
	(void)state;
	uv_loop_t loop;
	world_start(&loop);
	W.interval = "1h";
	uint16_t nport = 0;
	ss_monitor_t *m = monitor_started(&loop, "a.test.", &nport);
	run_until(&loop, m, a_checked, 5000, "the first check");

	W.a_delay_ms = 400;
	W.serial[0] = W.serial[1] = 2;
	queries_before = W.a_queries;
	send_notify(nport, "a.test.");
	run_until(&loop, m, a_asked, 5000, "the check the NOTIFY started");
	W.serial[0] = W.serial[1] = 3; /* and a second change, notified during that check */
	send_notify(nport, "a.test.");
	run_until(&loop, m, a_at_3, 5000, "serial 3 seen");
	assert_int_equal(count(SS_MON_EV_SERIAL, "a.test."), 3);
	world_end(&loop, m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_monitor),
	    cmocka_unit_test(test_once_per_interval),
	    cmocka_unit_test(test_notify_during_check),
	    cmocka_unit_test(test_alert_commands_in_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
