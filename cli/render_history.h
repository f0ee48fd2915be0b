/*
 * soasync CLI: the monitor's words. One line per event (the monitor's log
 * and history's event table), and the history of serials as a table and as
 * JSON (the web layer's /api/v1/zones/{zone} uses the same objects).
 */
#ifndef SOASYNC_RENDER_HISTORY_H
#define SOASYNC_RENDER_HISTORY_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include <soasync/monitor.h>

/* An event in words, without the zone ("serial 7 published (notify)"). */
const char *render_event_text(const ss_mon_event_t *e, char *buf, size_t len);

/* One (zone, serial) as {"zone","serial","first_seen","via","servers":[{"address",
 * "name","converged_at","lag_s"}]}: times RFC 3339 UTC, lag_s null while behind. */
json_t *render_history_serial_json(const ss_mon_hist_serial_t *s);

/* An event as JSON: {"zone","time","event", and what it has: "serial",
 * "old_serial", "address", "name", "lag_s", "status", "previous", "code",
 * "severity", "message"} (no "via": the store keeps none for events). */
json_t *render_history_event_json(const ss_mon_event_t *e);

/* Table: the zone's serials, one line each, then one line per server. */
void render_history_serial_table(FILE *f, const ss_mon_hist_serial_t *s, bool *zone_shown);
void render_history_event_table(FILE *f, const ss_mon_event_t *e);

#endif
