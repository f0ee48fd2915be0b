/*
 * soasync monitor: the embedded HTTP server of the web faces (GET and HEAD
 * only): /metrics, /api/v1/zones[/ZONE], /healthz, the dashboard (/ and
 * /zone/ZONE) and its compiled-in assets (/assets/...). libmicrohttpd in
 * its external-epoll mode on the monitor's libuv loop: its epoll fd in a
 * uv_poll, its next deadline in a uv_timer; large bodies are produced in
 * steps by content-reader callbacks. See doc/http.md.
 */
#ifndef SOASYNC_MON_HTTP_H
#define SOASYNC_MON_HTTP_H

#include <stddef.h>

#include <uv.h>

#include <soasync/addr.h>

#include "web.h"

typedef struct mon_http mon_http_t;

/* Limits; zero fields take the defaults. */
typedef struct {
	const char *version;      /* soasync_build_info, the dashboard's footer */
	unsigned max_connections; /* at once (64) */
	unsigned per_ip;          /* at once from one address (16) */
	unsigned timeout_s;       /* idle connection closed after (15) */
	size_t max_request;       /* request line + headers, bytes (8192) */
	size_t chunk;             /* bytes rendered per step of a large body (65536) */
	unsigned refresh_s;       /* the dashboard refreshes itself this often (10) */
} mon_http_opts_t;

/*
 * Listen on addr and serve from src (copied; its ctx must outlive the
 * server). Returns 0, or SS_ENETWORK / SS_ENOMEM with err (one line: which
 * address, why) filled in.
 */
int mon_http_start(uv_loop_t *loop, const ss_addr_t *addr, const web_source_t *src,
                   const mon_http_opts_t *opts, mon_http_t **out, char *err, size_t errlen);

/* The address actually bound (port 0 in addr: the one the kernel chose). */
const ss_addr_t *mon_http_address(const mon_http_t *h);

/* Close every connection and the listener now; the memory goes once the
 * loop has closed the handles (run the loop afterwards). NULL is fine. */
void mon_http_stop(mon_http_t *h);

/* Where the monitor's web faces listen when the config has no listen.http. */
#define MON_WEB_DEFAULT "127.0.0.1#9153"

/*
 * The web faces of the monitor m (soasync monitor): on listen.http, or on
 * MON_WEB_DEFAULT when the config names none. Says on stderr where it
 * listens. Returns 0 (*out NULL when the default address was busy: said,
 * not fatal) or -1 when listen.http cannot be bound (said).
 */
int mon_web_start(uv_loop_t *loop, ss_monitor_t *m, mon_http_t **out);

/* On SIGHUP: say when the new config moves listen.http (it takes a restart). */
void mon_web_reload_note(const ss_mon_config_t *old, const ss_mon_config_t *cfg);

#endif
