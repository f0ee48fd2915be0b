/*
 * Synthetic monitor state for the web layer's tests and benchmarks: N zones
 * (z000000.example. ...) on three servers (ns1 the primary, ns2, ns3 on
 * port 5300), every 10th zone with ns3 behind (lag warning), every 100th
 * with ns2 unreachable, every 1000th critical; a history for zone 0.
 */
#ifndef WEB_FIXTURE_H
#define WEB_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/monitor.h>

#include "web.h"

#define FX_T0 1700000000000LL /* 2023-11-14T22:13:20Z */

static const double fx_bounds[] = {1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, INFINITY};

typedef struct {
	ss_mon_zone_t *zones;
	size_t n;
	ss_mon_server_t *servers;
	ss_finding_t *findings;
	ss_addr_t *faddr;
	char *names;
	ss_mon_counters_t counters;
	ss_mon_config_t cfg;
	int64_t now;
	bool healthy;
	size_t history; /* serials in zone 0's history */
} fx_web_t;

static inline void fx_web_add_finding(fx_web_t *fx, size_t i, ss_fcode_t code, ss_severity_t sev,
                                      const ss_addr_t *a, const char *msg, const char *fix)
{
	ss_finding_t *f = &fx->findings[2 * i + fx->zones[i].nfindings];
	fx->faddr[2 * i + fx->zones[i].nfindings] = *a;
	*f = (ss_finding_t){.id = code,
	                    .code = ss_fcode_name(code),
	                    .severity = sev,
	                    .servers = &fx->faddr[2 * i + fx->zones[i].nfindings],
	                    .nservers = 1,
	                    .message = (char *)msg,
	                    .fix = (char *)fix};
	fx->zones[i].nfindings++;
	if ((ss_status_t)sev > fx->zones[i].status) {
		fx->zones[i].status = (ss_status_t)sev;
	}
}

static inline void fx_web_server(ss_mon_server_t *s, const char *addr, const char *name,
                                 uint32_t serial, bool primary)
{
	memset(s, 0, sizeof(*s));
	ss_addr_parse(&s->address, addr, 53);
	s->name = name;
	s->is_primary = primary;
	s->verdict = SS_VERDICT_AT_REFERENCE;
	s->has_serial = true;
	s->serial = serial;
	s->has_expire = !primary;
	s->expire_s = 1209000;
	s->last_converged_ms = primary ? 0 : FX_T0 - 3600000;
	s->last_lag_ms = primary ? -1 : 1800;
}

static inline int fx_web_init(fx_web_t *fx, size_t n)
{
	memset(fx, 0, sizeof(*fx));
	fx->n = n;
	fx->now = FX_T0;
	fx->healthy = true;
	fx->zones = calloc(n ? n : 1, sizeof(*fx->zones));
	fx->servers = calloc(3 * (n ? n : 1), sizeof(*fx->servers));
	fx->findings = calloc(2 * (n ? n : 1), sizeof(*fx->findings));
	fx->faddr = calloc(2 * (n ? n : 1), sizeof(*fx->faddr));
	fx->names = calloc(n ? n : 1, 24);
	if (!fx->zones || !fx->servers || !fx->findings || !fx->faddr || !fx->names) {
		return -1;
	}
	fx->cfg.interval_ms = 60000;
	fx->cfg.fast_interval_ms = 2000;
	fx->cfg.lag_warning_ms = 300000;
	fx->cfg.lag_critical_ms = 1800000;
	fx->cfg.metrics_per_address = true;
	for (size_t i = 0; i < n; i++) {
		ss_mon_zone_t *z = &fx->zones[i];
		ss_mon_server_t *s = &fx->servers[3 * i];
		uint32_t serial = 2024010100 + (uint32_t)(i % 50);
		snprintf(fx->names + 24 * i, 24, "z%06u.example.", (unsigned)(i % 1000000));
		z->name = fx->names + 24 * i;
		z->checked = true;
		z->status = SS_STATUS_OK;
		z->status_since_ms = FX_T0 - 86400000;
		z->last_check_ms = FX_T0 - 1000 * (int64_t)(i % 60);
		z->next_check_ms = z->last_check_ms + 60000;
		z->has_reference = true;
		z->reference_serial = serial;
		z->reference_since_ms = FX_T0 - 7200000;
		z->reference_via = SS_MON_VIA_NOTIFY;
		z->has_primary = true;
		ss_addr_parse(&z->primary, "192.0.2.1", 53);
		fx_web_server(&s[0], "192.0.2.1", "ns1.example.", serial, true);
		fx_web_server(&s[1], "192.0.2.2", "ns2.example.", serial, false);
		fx_web_server(&s[2], "192.0.2.3#5300", "ns3.example.", serial, false);
		z->servers = s;
		z->nservers = 3;
		z->findings = &fx->findings[2 * i];
		z->convergence.le = fx_bounds;
		z->convergence.n = sizeof(fx_bounds) / sizeof(fx_bounds[0]);
		z->convergence.counts[1] = 3;
		z->convergence.counts[4] = 1;
		z->convergence.count = 4;
		z->convergence.sum = 25.5;
		z->notify[SS_MON_NOTIFY_ACCEPTED] = 4;
		z->checks = 1440;
		if (i % 10 == 3) {
			s[2].serial = serial - 1;
			s[2].verdict = SS_VERDICT_BEHIND;
			s[2].behind = true;
			s[2].behind_since_ms = FX_T0 - 400000;
			z->converging = true;
			fx_web_add_finding(
			    fx, i, SS_F_SERIAL_BEHIND, SS_SEV_WARNING, &s[2].address,
			    "192.0.2.3#5300 (ns3.example.) serves serial 2024010102, "
			    "behind the reference by 1 for 6m 40s",
			    "on 192.0.2.3: rndc retransfer example.");
		}
		if (i % 100 == 7) {
			s[1].verdict = SS_VERDICT_UNREACHABLE;
			s[1].has_serial = false;
			s[1].behind = true;
			s[1].has_expire = false;
			s[1].unreachable_since_ms = FX_T0 - 125000;
			fx_web_add_finding(fx, i, SS_F_UNREACHABLE, SS_SEV_CRITICAL, &s[1].address,
			                   "192.0.2.2 (ns2.example.) did not answer: timed out",
			                   NULL);
		}
	}
	fx->counters.started_ms = FX_T0 - 86400000;
	fx->counters.queries = 3 * 1440 * (uint64_t)n;
	fx->counters.query_errors[SS_MON_QERR_TIMEOUT] = 17;
	fx->counters.checks = 1440 * (uint64_t)n;
	fx->counters.check_duration.le = fx_bounds;
	fx->counters.check_duration.n = sizeof(fx_bounds) / sizeof(fx_bounds[0]);
	fx->counters.check_duration.counts[0] = fx->counters.checks;
	fx->counters.check_duration.count = fx->counters.checks;
	fx->counters.check_duration.sum = 0.004 * (double)fx->counters.checks;
	fx->counters.notify[SS_MON_NOTIFY_ACCEPTED] = 4 * (uint64_t)n;
	fx->counters.notify[SS_MON_NOTIFY_UNKNOWN_ZONE] = 2;
	fx->history = 5;
	return 0;
}

static inline void fx_web_free(fx_web_t *fx)
{
	free(fx->zones);
	free(fx->servers);
	free(fx->findings);
	free(fx->faddr);
	free(fx->names);
	memset(fx, 0, sizeof(*fx));
}

static inline size_t fx_count(void *ctx)
{
	return ((fx_web_t *)ctx)->n;
}

static inline const ss_mon_zone_t *fx_zone_at(void *ctx, size_t i)
{
	return &((fx_web_t *)ctx)->zones[i];
}

static inline const ss_mon_zone_t *fx_find_zone(void *ctx, const char *name)
{
	fx_web_t *fx = ctx;
	size_t len = strlen(name);
	for (size_t i = 0; i < fx->n; i++) {
		const char *zn = fx->zones[i].name;
		if (strcasecmp(zn, name) == 0 ||
		    (strlen(zn) == len + 1 && strncasecmp(zn, name, len) == 0)) {
			return &fx->zones[i];
		}
	}
	return NULL;
}

static inline const ss_mon_counters_t *fx_counters(void *ctx)
{
	return &((fx_web_t *)ctx)->counters;
}

static inline const ss_mon_config_t *fx_config(void *ctx)
{
	return &((fx_web_t *)ctx)->cfg;
}

static inline int64_t fx_now(void *ctx)
{
	return ((fx_web_t *)ctx)->now;
}

static inline bool fx_healthy(void *ctx)
{
	return ((fx_web_t *)ctx)->healthy;
}

/* Zone 0's history: serials every hour; ns3 slower each time, ns2 never
 * followed the last one but one, the last one still converging on ns3. */
static inline int fx_serials(void *ctx, const ss_mon_hist_query_t *q, ss_mon_hist_serial_cb cb,
                             void *arg)
{
	fx_web_t *fx = ctx;
	if (fx->n == 0 || (q->nzones > 0 && fx_find_zone(ctx, q->zones[0]) != &fx->zones[0])) {
		return 0;
	}
	size_t first = q->last && q->last < fx->history ? fx->history - q->last : 0;
	for (size_t k = first; k < fx->history; k++) {
		int64_t t = FX_T0 - 3600000 * (int64_t)(fx->history - k);
		bool last = k + 1 == fx->history, never = k + 2 == fx->history;
		ss_mon_hist_server_t sv[2] = {
		    {.address = "192.0.2.2",
		     .name = "ns2.example.",
		     .converged = !never,
		     .never = never,
		     .converged_ms = t + 1200,
		     .lag_ms = 1200},
		    {.address = "192.0.2.3#5300",
		     .name = "ns3.example.",
		     .converged = !last,
		     .converged_ms = t + 4000 * (int64_t)(k + 1) * (int64_t)(k + 1),
		     .lag_ms = 4000 * (int64_t)(k + 1) * (int64_t)(k + 1)},
		};
		ss_mon_hist_serial_t s = {.zone = fx->zones[0].name,
		                          .serial = 2024010100 + (uint32_t)k,
		                          .first_seen_ms = t,
		                          .via = k % 2 ? SS_MON_VIA_POLL : SS_MON_VIA_NOTIFY,
		                          .servers = sv,
		                          .nservers = 2};
		if (cb(&s, arg) != 0) {
			break;
		}
	}
	return 0;
}

static inline int fx_events(void *ctx, const ss_mon_hist_query_t *q, ss_mon_hist_event_cb cb,
                            void *arg)
{
	fx_web_t *fx = ctx;
	if (fx->n == 0 || (q->nzones > 0 && fx_find_zone(ctx, q->zones[0]) != &fx->zones[0])) {
		return 0;
	}
	ss_mon_event_t ev[3] = {
	    {.kind = SS_MON_EV_STATUS,
	     .time_ms = FX_T0 - 600000,
	     .zone = fx->zones[0].name,
	     .lag_ms = -1,
	     .status = SS_STATUS_WARNING,
	     .previous = SS_STATUS_OK,
	     .code = SS_F_COUNT},
	    {.kind = SS_MON_EV_FINDING_OPENED,
	     .time_ms = FX_T0 - 600000,
	     .zone = fx->zones[0].name,
	     .lag_ms = -1,
	     .code = SS_F_SERIAL_BEHIND,
	     .severity = SS_SEV_WARNING,
	     .message = "ns3 <behind> & \"late\""},
	    {.kind = SS_MON_EV_CONVERGED,
	     .time_ms = FX_T0 - 500000,
	     .zone = fx->zones[0].name,
	     .has_serial = true,
	     .serial = 2024010103,
	     .has_address = true,
	     .lag_ms = 1200,
	     .name = "ns2.example.",
	     .code = SS_F_COUNT},
	};
	ss_addr_parse(&ev[2].address, "192.0.2.2", 53);
	for (size_t i = 0; i < 3; i++) {
		if (cb(&ev[i], arg) != 0) {
			break;
		}
	}
	return 0;
}

static inline void fx_web_source(fx_web_t *fx, web_source_t *src)
{
	*src = (web_source_t){.ctx = fx,
	                      .zone_count = fx_count,
	                      .zone = fx_zone_at,
	                      .zone_find = fx_find_zone,
	                      .counters = fx_counters,
	                      .config = fx_config,
	                      .now_ms = fx_now,
	                      .healthy = fx_healthy,
	                      .serials = fx_serials,
	                      .events = fx_events};
}

/* fx_web_init() and the source over it, in one. 0 or -1. */
static inline int fx_web_setup(fx_web_t *fx, size_t n, web_source_t *src)
{
	if (fx_web_init(fx, n) != 0) {
		return -1;
	}
	fx_web_source(fx, src);
	return 0;
}

#endif
