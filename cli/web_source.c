/* The live monitor as the web layer's source: its read API, one to one. */
#include "web.h"

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
