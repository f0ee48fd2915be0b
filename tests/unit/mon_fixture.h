/* Test helpers for the monitor: synthetic check results through the state machine. */
#ifndef MON_FIXTURE_H
#define MON_FIXTURE_H

#include <stdio.h>

#include "monitor/mon_int.h"
#include "obs_fixture.h"

#define ZONE "example.test."
#define T0   1700000000000LL

static const mon_policy_t policy = {
    .lag_warning_ms = 5000, .lag_critical_ms = 20000, .converge_timeout_ms = 60000};

typedef struct {
	mon_zstate_t st;
	mon_events_t ev;
} fx_t;

/* A result: the primary at p (negative: not answering), the secondaries
 * 192.0.2.2.. at s[] (-1: time-out, -2: SERVFAIL). */
static inline void result(ss_zone_result_t *r, int64_t p, const int64_t *s, size_t n)
{
	fx_zone(r, ZONE);
	if (p >= 0) {
		fx_server(r, "192.0.2.1", "ns1.example.test.", (uint32_t)p, true);
	} else {
		fx_bad(r, "192.0.2.1", SS_ANS_NONE, -1, SS_ETIMEOUT)->is_primary = true;
	}
	for (size_t i = 0; i < n; i++) {
		char a[32], name[64];
		snprintf(a, sizeof(a), "192.0.2.%zu", i + 2);
		snprintf(name, sizeof(name), "ns%zu.example.test.", i + 2);
		if (s[i] >= 0) {
			fx_server(r, a, name, (uint32_t)s[i], false);
		} else if (s[i] == -1) {
			fx_bad(r, a, SS_ANS_NONE, -1, SS_ETIMEOUT);
		} else {
			fx_bad(r, a, SS_ANS_SERVFAIL, KNOT_RCODE_SERVFAIL, 0);
		}
	}
	assert_int_equal(ss_check_analyze(r), 0);
}

/* One check at now; the events it gave stay in f->ev (cleared before). */
static inline ss_status_t step_n(fx_t *f, int64_t now, int64_t notify_ms, int64_t p,
                                 const int64_t *s, size_t n)
{
	ss_zone_result_t r;
	result(&r, p, s, n);
	mon_events_clear(&f->ev);
	mon_input_t in = {.now_ms = now, .notify_ms = notify_ms, .policy = policy};
	assert_int_equal(mon_state_step(&f->st, &r, &in, ZONE, &f->ev), 0);
	ss_status_t st = r.status;
	ss_zone_result_clear(&r);
	return st;
}

#define step(f, now, notify, p, ...)                                                               \
	step_n(f, now, notify, p, (const int64_t[]){__VA_ARGS__},                                  \
	       sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))

static inline size_t count(const fx_t *f, ss_mon_event_kind_t kind)
{
	size_t n = 0;
	for (size_t i = 0; i < f->ev.n; i++) {
		n += f->ev.v[i].kind == kind;
	}
	return n;
}

static inline const ss_mon_event_t *nth(const fx_t *f, ss_mon_event_kind_t kind, size_t k)
{
	for (size_t i = 0; i < f->ev.n; i++) {
		if (f->ev.v[i].kind == kind && k-- == 0) {
			return &f->ev.v[i];
		}
	}
	fail_msg("no event %s #%zu", ss_mon_event_name(kind), k);
	return NULL;
}

static inline const char *addr_of(const ss_mon_event_t *e, char *buf)
{
	assert_true(e->has_address);
	return ss_addr_format(&e->address, buf, SS_ADDR_STRLEN);
}

static inline void fx_free(fx_t *f)
{
	mon_zstate_clear(&f->st);
	mon_events_clear(&f->ev);
}

#endif
