/*
 * The web faces' HTTP server: libmicrohttpd driven by the monitor's libuv
 * loop. MHD runs in its external-epoll mode: its epoll fd sits in a uv_poll,
 * MHD_get_timeout() sets a uv_timer, and each MHD_run() does one pass over
 * the ready connections and returns. A large body (/metrics, /api/v1/zones
 * of 100,000 zones) comes from a content reader that renders about one
 * chunk per call, so the checks run between the chunks: MHD keeps a
 * connection that can still write on its ready list and MHD_get_timeout()
 * answers 0. That "at once" is a uv_idle handle (MHD_run once per loop
 * iteration, after the loop polled its other sockets), never a 0 ms timer:
 * libuv (1.44) runs a timer re-armed with 0 ms from its own callback again
 * in the same pass, and the whole body would go out in one iteration.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include <soasync/error.h>

#include "mon_http.h"

#define DEF_CONNECTIONS 64
#define DEF_PER_IP      16
#define DEF_TIMEOUT_S   15
#define DEF_REQUEST     8192
#define DEF_CHUNK       65536
#define DEF_REFRESH_S   10
#define ZONE_HISTORY    50 /* serials and events in /api/v1/zones/ZONE by default */
#define WARM_EVERY_MS   100
#define WARM_ZONES      1000 /* zones looked at per warm step: about 7 ms if all changed */

struct mon_http {
	web_source_t src;
	mon_http_opts_t o;
	ss_addr_t addr;
	struct MHD_Daemon *d;
	uv_poll_t poll;
	uv_timer_t timer;
	uv_idle_t idle;
	uv_timer_t warm;
	int open_handles;
	api_cache_t *cache;  /* /api/v1/zones' texts of unchanged zones */
	api_cursor_t warmer; /* renders them ahead of a request */
	size_t warm_next;    /* the zone index the next warm step starts at */
};

/* ---- driving MHD from the loop ------------------------------------------ */

static void on_timer(uv_timer_t *t);
static void on_idle(uv_idle_t *i);

static void run(mon_http_t *h)
{
	MHD_run(h->d);
	MHD_UNSIGNED_LONG_LONG ms = 0;
	if (MHD_get_timeout(h->d, &ms) != MHD_YES) {
		uv_idle_stop(&h->idle);
		uv_timer_stop(&h->timer);
	} else if (ms == 0) {
		uv_timer_stop(&h->timer);
		uv_idle_start(&h->idle, on_idle);
	} else {
		uv_idle_stop(&h->idle);
		uv_timer_start(&h->timer, on_timer, ms, 0);
	}
}

static void on_timer(uv_timer_t *t)
{
	run(t->data);
}

static void on_idle(uv_idle_t *i)
{
	run(i->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	run(p->data);
}

/*
 * The list's zone texts are rendered ahead, a slice of zones per step, so
 * that no request pays for rendering 100,000 zones at once (0.7 s of CPU):
 * a request renders only the zones that changed since the slice passed.
 */
static void on_warm(uv_timer_t *t)
{
	mon_http_t *h = t->data;
	h->warm_next = render_api_warm(&h->src, &h->warmer, h->warm_next, WARM_ZONES);
}

/* ---- responses ----------------------------------------------------------- */

static void common_headers(struct MHD_Response *r, const char *type, bool cache)
{
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	                        cache ? "public, max-age=86400" : "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Content-Security-Policy",
	                        "default-src 'none'; style-src 'self'; script-src 'self'; "
	                        "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
	                        "base-uri 'none'; frame-ancestors 'none'");
}

static enum MHD_Result send_buffer(struct MHD_Connection *c, unsigned code, const char *type,
                                   void *data, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, data, mode);
	if (r == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE) {
			free(data);
		}
		return MHD_NO;
	}
	common_headers(r, type, false);
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	}
	enum MHD_Result ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned code, const char *text)
{
	return send_buffer(c, code, "text/plain; charset=utf-8", (void *)text, strlen(text),
	                   MHD_RESPMEM_PERSISTENT);
}

/* A rendered body (taken). */
static enum MHD_Result send_wbuf(struct MHD_Connection *c, unsigned code, const char *type,
                                 wbuf_t *b)
{
	if (b->failed) {
		wbuf_free(b);
		return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	size_t len = b->len;
	char *s = b->s;
	if (s == NULL) {
		return send_buffer(c, code, type, (void *)"", 0, MHD_RESPMEM_PERSISTENT);
	}
	memset(b, 0, sizeof(*b));
	return send_buffer(c, code, type, s, len, MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned code, json_t *v)
{
	wbuf_t b = {0};
	if (wbuf_json(&b, v) == 0) {
		wbuf_putc(&b, '\n');
	}
	return send_wbuf(c, code, "application/json", &b);
}

static enum MHD_Result not_found(struct MHD_Connection *c, bool api, const char *what)
{
	if (api) {
		json_t *e = json_pack("{s:s}", "error", what);
		return send_json(c, MHD_HTTP_NOT_FOUND, e);
	}
	return send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* ---- bodies in steps ----------------------------------------------------- */

typedef enum { STREAM_METRICS, STREAM_API } stream_kind_t;

typedef struct {
	mon_http_t *h;
	stream_kind_t kind;
	metrics_cursor_t m;
	api_cursor_t a;
	wbuf_t buf;
	size_t off;
	bool done;
} stream_t;

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	stream_t *s = cls;
	(void)pos;
	while (s->off >= s->buf.len) {
		if (s->done) {
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		s->buf.len = 0;
		s->off = 0;
		size_t budget = s->h->o.chunk;
		int r = s->kind == STREAM_METRICS
		            ? render_metrics_step(&s->h->src, &s->m, &s->buf, budget)
		            : render_api_zones_step(&s->h->src, &s->a, &s->buf, budget);
		if (r < 0) {
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		s->done = r == 1;
	}
	size_t n = s->buf.len - s->off;
	if (n > max) {
		n = max;
	}
	memcpy(out, s->buf.s + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	stream_t *s = cls;
	metrics_cursor_clear(&s->m);
	api_cursor_clear(&s->a);
	wbuf_free(&s->buf);
	free(s);
}

static enum MHD_Result send_stream(mon_http_t *h, struct MHD_Connection *c, stream_kind_t kind,
                                   const char *type)
{
	stream_t *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return MHD_NO;
	}
	s->h = h;
	s->kind = kind;
	metrics_cursor_init(&s->m, h->o.version);
	api_cursor_init(&s->a);
	s->a.cache = h->cache;
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, h->o.chunk,
	                                                           stream_read, s, stream_free);
	if (r == NULL) {
		stream_free(s);
		return MHD_NO;
	}
	common_headers(r, type, false);
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- the routes ---------------------------------------------------------- */

static const char *arg(struct MHD_Connection *c, const char *key)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

static void dash_opts(mon_http_t *h, struct MHD_Connection *c, dash_opts_t *o)
{
	*o = (dash_opts_t){.filter = arg(c, "q"),
	                   .status = arg(c, "status"),
	                   .refresh_s = h->o.refresh_s,
	                   .asset_hash = web_assets_hash};
}

static enum MHD_Result dashboard(mon_http_t *h, struct MHD_Connection *c)
{
	dash_opts_t o;
	dash_opts(h, c, &o);
	wbuf_t b = {0};
	render_dashboard(&h->src, &o, &b);
	return send_wbuf(c, MHD_HTTP_OK, "text/html; charset=utf-8", &b);
}

static enum MHD_Result zone_page(mon_http_t *h, struct MHD_Connection *c, const char *name)
{
	const ss_mon_zone_t *z = h->src.zone_find(h->src.ctx, name);
	if (z == NULL) {
		return not_found(c, false, "no such zone");
	}
	dash_opts_t o;
	dash_opts(h, c, &o);
	wbuf_t b = {0};
	render_zone_page(&h->src, z, &o, &b);
	return send_wbuf(c, MHD_HTTP_OK, "text/html; charset=utf-8", &b);
}

static enum MHD_Result api_zone(mon_http_t *h, struct MHD_Connection *c, const char *name)
{
	const ss_mon_zone_t *z = h->src.zone_find(h->src.ctx, name);
	if (z == NULL) {
		return not_found(c, true, "no such zone");
	}
	size_t last = ZONE_HISTORY;
	const char *l = arg(c, "last");
	if (l != NULL) {
		char *end = NULL;
		unsigned long v = strtoul(l, &end, 10);
		if (!isdigit((unsigned char)l[0]) || *end != '\0' || v > 100000) {
			return send_json(c, MHD_HTTP_BAD_REQUEST,
			                 json_pack("{s:s}", "error",
			                           "last: expected a number from 0 to 100000"));
		}
		last = v;
	}
	json_t *o = render_api_zone_full(&h->src, z, last);
	if (o == NULL) {
		return send_json(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                 json_pack("{s:s}", "error", "history could not be read"));
	}
	return send_json(c, MHD_HTTP_OK, o);
}

static enum MHD_Result healthz(mon_http_t *h, struct MHD_Connection *c)
{
	if (h->src.healthy(h->src.ctx)) {
		return send_text(c, MHD_HTTP_OK, "ok\n");
	}
	return send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
	                 "unhealthy: the monitor is not running or its database is not writable\n");
}

static enum MHD_Result asset(struct MHD_Connection *c, const char *name)
{
	for (size_t i = 0; i < web_nassets; i++) {
		const web_asset_t *a = &web_assets[i];
		if (strcmp(a->name, name) != 0) {
			continue;
		}
		const char *inm =
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
		bool fresh = inm != NULL && strcmp(inm, a->etag) == 0;
		struct MHD_Response *r = MHD_create_response_from_buffer(
		    fresh ? 0 : a->len, fresh ? (void *)"" : (void *)a->data,
		    MHD_RESPMEM_PERSISTENT);
		if (r == NULL) {
			return MHD_NO;
		}
		common_headers(r, a->type, true);
		MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, a->etag);
		enum MHD_Result ret =
		    MHD_queue_response(c, fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, r);
		MHD_destroy_response(r);
		return ret;
	}
	return not_found(c, false, "no such asset");
}

/* The path after prefix, or NULL when url does not start with it. */
static const char *after(const char *url, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(url, prefix, n) == 0 ? url + n : NULL;
}

static enum MHD_Result route(mon_http_t *h, struct MHD_Connection *c, const char *url)
{
	const char *rest;
	if (strcmp(url, "/") == 0) {
		return dashboard(h, c);
	}
	if (strcmp(url, "/metrics") == 0) {
		return send_stream(h, c, STREAM_METRICS,
		                   "text/plain; version=0.0.4; charset=utf-8");
	}
	if (strcmp(url, "/api/v1/zones") == 0 || strcmp(url, "/api/v1/zones/") == 0) {
		return send_stream(h, c, STREAM_API, "application/json");
	}
	if ((rest = after(url, "/api/v1/zones/")) != NULL) {
		return api_zone(h, c, rest);
	}
	if (strcmp(url, "/healthz") == 0) {
		return healthz(h, c);
	}
	if ((rest = after(url, "/zone/")) != NULL && *rest != '\0') {
		return zone_page(h, c, rest);
	}
	if ((rest = after(url, "/assets/")) != NULL) {
		return asset(c, rest);
	}
	return not_found(c, after(url, "/api/") != NULL, "no such resource");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	(void)version;
	(void)upload_data;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	}
	if (*upload_data_size != 0) {
		return send_text(c, MHD_HTTP_BAD_REQUEST, "a GET has no body\n");
	}
	return route(cls, c, url);
}

/* ---- start and stop ------------------------------------------------------ */

/* Our own listening socket, so a failure says why (MHD would only fail). */
static int listen_socket(const ss_addr_t *addr, int *out, char *err, size_t errlen)
{
	char a[SS_ADDR_STRLEN];
	int fd = socket(ss_addr_family(addr), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (ss_addr_family(addr) == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
	    bind(fd, ss_addr_sa(addr), ss_addr_len(addr)) != 0 || listen(fd, 64) != 0) {
		snprintf(err, errlen, "listen.http %s: %s", ss_addr_format(addr, a, sizeof(a)),
		         strerror(errno));
		if (fd >= 0) {
			close(fd);
		}
		return SS_ENETWORK;
	}
	*out = fd;
	return 0;
}

static void defaults(mon_http_opts_t *o)
{
	o->max_connections = o->max_connections ? o->max_connections : DEF_CONNECTIONS;
	o->per_ip = o->per_ip ? o->per_ip : DEF_PER_IP;
	o->timeout_s = o->timeout_s ? o->timeout_s : DEF_TIMEOUT_S;
	o->max_request = o->max_request ? o->max_request : DEF_REQUEST;
	o->chunk = o->chunk ? o->chunk : DEF_CHUNK;
	o->refresh_s = o->refresh_s ? o->refresh_s : DEF_REFRESH_S;
}

int mon_http_start(uv_loop_t *loop, const ss_addr_t *addr, const web_source_t *src,
                   const mon_http_opts_t *opts, mon_http_t **out, char *err, size_t errlen)
{
	int fd = -1, ret = SS_ENOMEM;
	mon_http_t *h = calloc(1, sizeof(*h));
	if (h == NULL || (h->cache = api_cache_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	h->src = *src;
	if (opts != NULL) {
		h->o = *opts;
	}
	defaults(&h->o);
	if ((ret = listen_socket(addr, &fd, err, errlen)) != 0) {
		goto fail;
	}
	socklen_t alen = sizeof(h->addr.ss);
	getsockname(fd, (struct sockaddr *)&h->addr.ss, &alen);
	/* The connection's memory pool holds the request line and headers:
	 * with 2 KiB more for MHD's own bookkeeping, a request larger than
	 * max_request gets 431 (headers) or 414 (URI). */
	h->d = MHD_start_daemon(
	    MHD_USE_EPOLL, 0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, h->o.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    h->o.per_ip, MHD_OPTION_CONNECTION_TIMEOUT, h->o.timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, h->o.max_request + 2048, MHD_OPTION_END);
	if (h->d == NULL) {
		snprintf(err, errlen, "listen.http: the HTTP server (libmicrohttpd) did not start");
		ret = SS_ENETWORK;
		goto fail;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	int pret = info != NULL ? uv_poll_init(loop, &h->poll, info->epoll_fd) : UV_EINVAL;
	if (pret != 0) {
		snprintf(err, errlen, "listen.http: cannot watch the HTTP server: %s",
		         uv_strerror(pret));
		MHD_stop_daemon(h->d); /* it closes the listening socket */
		fd = -1;
		ret = SS_ENETWORK;
		goto fail;
	}
	uv_timer_init(loop, &h->timer);
	uv_idle_init(loop, &h->idle);
	uv_timer_init(loop, &h->warm);
	h->poll.data = h->timer.data = h->idle.data = h->warm.data = h;
	h->open_handles = 4;
	api_cursor_init(&h->warmer);
	h->warmer.cache = h->cache;
	uv_poll_start(&h->poll, UV_READABLE, on_poll);
	uv_timer_start(&h->warm, on_warm, WARM_EVERY_MS, WARM_EVERY_MS);
	*out = h;
	return 0;
fail:
	if (fd >= 0) {
		close(fd);
	}
	if (h != NULL) {
		api_cache_free(h->cache);
	}
	free(h);
	return ret;
}

const ss_addr_t *mon_http_address(const mon_http_t *h)
{
	return &h->addr;
}

static void on_closed(uv_handle_t *hd)
{
	mon_http_t *h = hd->data;
	if (--h->open_handles == 0) {
		api_cursor_clear(&h->warmer);
		api_cache_free(h->cache);
		free(h);
	}
}

void mon_http_stop(mon_http_t *h)
{
	if (h == NULL) {
		return;
	}
	/* uv_close takes the epoll fd out of the loop's set at once, before
	 * MHD closes it; MHD then closes the connections and the listener. */
	uv_close((uv_handle_t *)&h->poll, on_closed);
	uv_close((uv_handle_t *)&h->timer, on_closed);
	uv_close((uv_handle_t *)&h->idle, on_closed);
	uv_close((uv_handle_t *)&h->warm, on_closed);
	MHD_stop_daemon(h->d);
	h->d = NULL;
}
