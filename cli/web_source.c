/* The live monitor as the web layer's source (its read API, one to one),
 * and the web faces started for the monitor command. */
#include <stdlib.h>

#include "cli.h"
#include "mon_http.h"
#include "web.h"

#ifndef SOASYNC_VERSION
#define SOASYNC_VERSION "0"
#endif

static size_t m_count(void *ctx)
{
	return ss_monitor_zone_count(ctx);
}

static const ss_mon_zone_t *m_zone(void *ctx, size_t i)
{
	return ss_monitor_zone(ctx, i);
}

static const ss_mon_zone_t *m_find(void *ctx, const char *name)
{
	return ss_monitor_zone_find(ctx, name);
}

static const ss_mon_counters_t *m_counters(void *ctx)
{
	return ss_monitor_counters(ctx);
}

static const ss_mon_config_t *m_config(void *ctx)
{
	return ss_monitor_config(ctx);
}

static int64_t m_now(void *ctx)
{
	return ss_monitor_now_ms(ctx);
}

static bool m_healthy(void *ctx)
{
	return ss_monitor_healthy(ctx);
}

static int m_serials(void *ctx, const ss_mon_hist_query_t *q, ss_mon_hist_serial_cb cb, void *arg)
{
	ss_mon_store_t *st = ss_monitor_store(ctx);
	return st ? ss_mon_history_serials(st, q, cb, arg) : 0;
}

static int m_events(void *ctx, const ss_mon_hist_query_t *q, ss_mon_hist_event_cb cb, void *arg)
{
	ss_mon_store_t *st = ss_monitor_store(ctx);
	return st ? ss_mon_history_events(st, q, cb, arg) : 0;
}

void web_source_monitor(web_source_t *src, ss_monitor_t *m)
{
	*src = (web_source_t){
	    .ctx = m,
	    .zone_count = m_count,
	    .zone = m_zone,
	    .zone_find = m_find,
	    .counters = m_counters,
	    .config = m_config,
	    .now_ms = m_now,
	    .healthy = m_healthy,
	    .serials = m_serials,
	    .events = m_events,
	};
}

int mon_web_start(uv_loop_t *loop, ss_monitor_t *m, mon_http_t **out)
{
	const ss_mon_config_t *cfg = ss_monitor_config(m);
	ss_addr_t addr;
	char err[300], a[SS_ADDR_STRLEN];
	web_source_t src;
	web_source_monitor(&src, m);
	mon_http_opts_t o = {.version = SOASYNC_VERSION};
	*out = NULL;
	if (cfg->has_http) {
		addr = cfg->http;
	} else {
		ss_addr_parse(&addr, MON_WEB_DEFAULT, 9153);
	}
	if (mon_http_start(loop, &addr, &src, &o, out, err, sizeof(err)) != 0) {
		if (cfg->has_http) {
			cli_err("monitor: %s", err);
			return -1;
		}
		/* the default address is a convenience: busy, the monitor goes on */
		cli_err("monitor: %s; metrics, API and dashboard off (set listen.http)", err);
		return 0;
	}
	const ss_addr_t *bound = mon_http_address(*out);
	bool v6 = ss_addr_family(bound) == AF_INET6;
	cli_err("monitor: metrics, API and dashboard on http://%s%s%s:%u/", v6 ? "[" : "",
	        ss_addr_ntop(bound, a, sizeof(a)), v6 ? "]" : "", ss_addr_port(bound));
	return 0;
}

void mon_web_reload_note(const ss_mon_config_t *old, const ss_mon_config_t *cfg)
{
	if (old->has_http != cfg->has_http ||
	    (cfg->has_http && !ss_addr_equal(&old->http, &cfg->http))) {
		cli_err("monitor: reload: listen.http changed; the web faces stay where they are "
		        "until a restart");
	}
}
