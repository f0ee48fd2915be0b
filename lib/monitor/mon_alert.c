/*
 * Alert delivery: to a command (uv_spawn, argv without a shell, the event as
 * JSON on stdin) and to a webhook (libcurl's multi interface driven by the
 * same libuv loop: curl_multi_socket_action from uv_poll and uv_timer, as in
 * curl's multi-uv example). Nothing here blocks the checks. A failed
 * delivery is retried with exponential backoff; commands run a few at a
 * time and are killed when they hang; the queue is bounded.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <uv.h>

#include <soasync/error.h>

#include "mon_int.h"

#define MAX_TRIES       5
#define MAX_QUEUED      10000
#define MAX_COMMANDS    4
#define COMMAND_LIMIT   30000
#define WEBHOOK_LIMIT   10000
#define BACKOFF_BASE_MS 1000
#define BACKOFF_MAX_MS  60000

extern char **environ;

typedef enum { TGT_COMMAND, TGT_WEBHOOK } target_t;

typedef struct delivery delivery_t;

struct delivery {
	mon_alerts_t *a;
	target_t tgt;
	char *zone, *status, *body;
	size_t len;
	unsigned attempt;
	bool running, waiting, aborted;
	int closing; /* handles still to close */
	bool ok;
	uv_timer_t timer; /* backoff, or the command's time limit */
	uv_process_t proc;
	uv_pipe_t in;
	uv_write_t wreq;
	CURL *easy;
	struct curl_slist *hdr;
	delivery_t *next, **pprev;
};

typedef struct {
	uv_poll_t poll;
	mon_alerts_t *a;
	curl_socket_t fd;
} sockctx_t;

struct mon_alerts {
	uv_loop_t *loop;
	mon_log_fn log;
	void *arg;
	char **command; /* owned copy, NULL-terminated */
	char *webhook;
	CURLM *multi;
	uv_timer_t ctimer;
	delivery_t *all, **tail; /* oldest first */
	size_t queued;
	unsigned commands_running;
	uint64_t sent, failed;
	bool closing;
	int handles; /* the monitor's own handles open: ctimer */
	void (*done)(void *arg);
	void *done_arg;
};

static void start(delivery_t *d);
static void maybe_done(mon_alerts_t *a);

#define say(a, zone, ...) mon_say((a)->log, (a)->arg, zone, __VA_ARGS__)

/* ---- a delivery's life -------------------------------------------------------- */

static void delivery_free(delivery_t *d)
{
	mon_alerts_t *a = d->a;
	if (d->next != NULL) {
		d->next->pprev = d->pprev;
	} else {
		a->tail = d->pprev;
	}
	*d->pprev = d->next;
	a->queued--;
	free(d->zone);
	free(d->status);
	free(d->body);
	free(d);
	maybe_done(a);
}

static void timer_closed(uv_handle_t *h)
{
	delivery_free(h->data);
}

/* Commands waiting for a free slot start in order. */
static void next_command(mon_alerts_t *a)
{
	for (delivery_t *d = a->all; d != NULL && a->commands_running < MAX_COMMANDS; d = d->next) {
		if (d->tgt == TGT_COMMAND && d->waiting && !d->running && !a->closing) {
			d->waiting = false;
			start(d);
		}
	}
}

static void backoff_fired(uv_timer_t *t)
{
	delivery_t *d = t->data;
	if (d->tgt == TGT_COMMAND && d->a->commands_running >= MAX_COMMANDS) {
		d->waiting = true;
		return;
	}
	start(d);
}

/* One attempt ended: done, retried later, or given up. */
static void finished(delivery_t *d, bool ok, const char *why)
{
	mon_alerts_t *a = d->a;
	d->running = false;
	if (d->tgt == TGT_COMMAND) {
		a->commands_running--;
	}
	const char *what = d->tgt == TGT_COMMAND ? "command" : "webhook";
	if (ok || d->aborted || ++d->attempt >= MAX_TRIES) {
		if (ok) {
			a->sent++;
		} else if (!d->aborted) {
			a->failed++;
			say(a, d->zone, "alert (%s) to the %s failed %u times, given up: %s",
			    d->status, what, d->attempt, why);
		}
		uv_close((uv_handle_t *)&d->timer, timer_closed);
	} else {
		uint64_t wait = (uint64_t)BACKOFF_BASE_MS << (d->attempt - 1);
		wait = wait > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : wait;
		say(a, d->zone, "alert (%s) to the %s failed (%s); retrying in %llu ms", d->status,
		    what, why, (unsigned long long)wait);
		uv_timer_start(&d->timer, backoff_fired, wait, 0);
	}
	next_command(a);
}

/* ---- commands ------------------------------------------------------------------ */

static void command_handle_closed(uv_handle_t *h)
{
	delivery_t *d = h->data;
	if (--d->closing == 0) {
		char why[64];
		snprintf(why, sizeof(why), "%s", d->ok ? "" : "exit status not 0");
		finished(d, d->ok, why);
	}
}

static void command_exited(uv_process_t *p, int64_t status, int sig)
{
	delivery_t *d = p->data;
	d->ok = status == 0 && sig == 0;
	uv_timer_stop(&d->timer);
	uv_close((uv_handle_t *)&d->proc, command_handle_closed);
}

static void stdin_written(uv_write_t *w, int status)
{
	(void)status; /* a command that does not read its stdin still decides by its exit */
	delivery_t *d = w->data;
	uv_close((uv_handle_t *)&d->in, command_handle_closed);
}

static void command_too_long(uv_timer_t *t)
{
	delivery_t *d = t->data;
	uv_process_kill(&d->proc, SIGKILL);
}

/* The environment, plus SOASYNC_ZONE and SOASYNC_STATUS for simple scripts. */
static char **command_env(const delivery_t *d)
{
	size_t n = 0;
	while (environ != NULL && environ[n] != NULL) {
		n++;
	}
	char **env = calloc(n + 3, sizeof(*env));
	if (env == NULL) {
		return NULL;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(environ[i], "SOASYNC_ZONE=", 13) &&
		    strncmp(environ[i], "SOASYNC_STATUS=", 15)) {
			env[k++] = environ[i];
		}
	}
	if (asprintf(&env[k], "SOASYNC_ZONE=%s", d->zone) < 0) {
		env[k] = NULL;
	} else if (asprintf(&env[k + 1], "SOASYNC_STATUS=%s", d->status) < 0) {
		env[k + 1] = NULL;
	}
	return env;
}

static void env_free(char **env)
{
	for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
		if (strncmp(env[i], "SOASYNC_ZONE=", 13) == 0 ||
		    strncmp(env[i], "SOASYNC_STATUS=", 15) == 0) {
			free(env[i]);
		}
	}
	free(env);
}

static void start_command(delivery_t *d)
{
	mon_alerts_t *a = d->a;
	uv_stdio_container_t stdio[3] = {
	    {.flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&d->in},
	    {.flags = UV_INHERIT_FD, .data.fd = 2},
	    {.flags = UV_INHERIT_FD, .data.fd = 2},
	};
	char **env = command_env(d);
	uv_process_options_t opts = {
	    .exit_cb = command_exited,
	    .file = a->command[0],
	    .args = a->command,
	    .env = env,
	    .stdio_count = 3,
	    .stdio = stdio,
	};
	a->commands_running++;
	d->running = true;
	d->ok = false;
	uv_pipe_init(a->loop, &d->in, 0);
	d->in.data = d->proc.data = d->wreq.data = d;
	d->closing = 2;
	int ret = uv_spawn(a->loop, &d->proc, &opts);
	env_free(env);
	if (ret != 0) {
		d->ok = false;
		say(a, d->zone, "alert command %s: %s", a->command[0], uv_strerror(ret));
		uv_close((uv_handle_t *)&d->proc, command_handle_closed);
		uv_close((uv_handle_t *)&d->in, command_handle_closed);
		return;
	}
	uv_buf_t b = uv_buf_init(d->body, (unsigned)d->len);
	if (uv_write(&d->wreq, (uv_stream_t *)&d->in, &b, 1, stdin_written) != 0) {
		uv_close((uv_handle_t *)&d->in, command_handle_closed);
	}
	uv_timer_start(&d->timer, command_too_long, COMMAND_LIMIT, 0);
}

/* ---- webhooks ----------------------------------------------------------------- */

/* The transfer's handles, taken out of the multi handle when they are in it
 * (curl_multi_remove_handle on one that is not is a no-op). */
static void webhook_release(delivery_t *d)
{
	if (d->easy != NULL) {
		curl_multi_remove_handle(d->a->multi, d->easy);
		curl_easy_cleanup(d->easy);
	}
	curl_slist_free_all(d->hdr);
	d->easy = NULL;
	d->hdr = NULL;
}

static void check_multi_info(mon_alerts_t *a)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(a->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE) {
			continue;
		}
		CURLcode res = msg->data.result;
		delivery_t *d = NULL;
		long code = 0;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&d);
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
		webhook_release(d);
		char why[160];
		if (res != CURLE_OK) {
			snprintf(why, sizeof(why), "%s", curl_easy_strerror(res));
		} else {
			snprintf(why, sizeof(why), "HTTP status %ld", code);
		}
		finished(d, res == CURLE_OK && code >= 200 && code < 300, why);
	}
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	sockctx_t *c = p->data;
	int flags = status < 0 ? CURL_CSELECT_ERR : 0;
	flags |= events & UV_READABLE ? CURL_CSELECT_IN : 0;
	flags |= events & UV_WRITABLE ? CURL_CSELECT_OUT : 0;
	int running = 0;
	mon_alerts_t *a = c->a;
	curl_multi_socket_action(a->multi, c->fd, flags, &running);
	check_multi_info(a);
}

static void poll_closed(uv_handle_t *h)
{
	free(h->data);
}

static int socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	(void)e;
	mon_alerts_t *a = userp;
	sockctx_t *c = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (c != NULL) {
			uv_poll_stop(&c->poll);
			uv_close((uv_handle_t *)&c->poll, poll_closed);
			curl_multi_assign(a->multi, s, NULL);
		}
		return 0;
	}
	if (c == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			return -1;
		}
		c->a = a;
		c->fd = s;
		c->poll.data = c;
		if (uv_poll_init_socket(a->loop, &c->poll, s) != 0) {
			free(c);
			return -1;
		}
		curl_multi_assign(a->multi, s, c);
	}
	int ev = (what & CURL_POLL_IN ? UV_READABLE : 0) | (what & CURL_POLL_OUT ? UV_WRITABLE : 0);
	uv_poll_start(&c->poll, ev, on_poll);
	return 0;
}

static void ctimer_fired(uv_timer_t *t)
{
	mon_alerts_t *a = t->data;
	int running = 0;
	curl_multi_socket_action(a->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_multi_info(a);
}

static int timer_cb(CURLM *m, long ms, void *userp)
{
	(void)m;
	mon_alerts_t *a = userp;
	if (ms < 0) {
		uv_timer_stop(&a->ctimer);
	} else {
		uv_timer_start(&a->ctimer, ctimer_fired, (uint64_t)ms, 0);
	}
	return 0;
}

static void start_webhook(delivery_t *d)
{
	mon_alerts_t *a = d->a;
	d->running = true;
	d->easy = curl_easy_init();
	d->hdr = curl_slist_append(NULL, "Content-Type: application/json");
	if (d->easy == NULL || d->hdr == NULL) {
		webhook_release(d);
		finished(d, false, "out of memory");
		return;
	}
	CURL *e = d->easy;
	curl_easy_setopt(e, CURLOPT_URL, a->webhook);
	curl_easy_setopt(e, CURLOPT_PRIVATE, d);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, d->hdr);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)d->len);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "soasync-monitor");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)WEBHOOK_LIMIT);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)WEBHOOK_LIMIT / 2);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	if (curl_multi_add_handle(a->multi, e) != CURLM_OK) {
		webhook_release(d);
		finished(d, false, "curl_multi_add_handle failed");
	}
}

static void start(delivery_t *d)
{
	if (d->tgt == TGT_COMMAND) {
		start_command(d);
	} else {
		start_webhook(d);
	}
}

/* ---- the module ------------------------------------------------------------------- */

static char **argv_copy(char *const *argv)
{
	size_t n = 0;
	while (argv != NULL && argv[n] != NULL) {
		n++;
	}
	if (n == 0) {
		return NULL;
	}
	char **c = calloc(n + 1, sizeof(*c));
	for (size_t i = 0; c != NULL && i < n; i++) {
		if ((c[i] = strdup(argv[i])) == NULL) {
			for (size_t j = 0; j < i; j++) {
				free(c[j]);
			}
			free(c);
			return NULL;
		}
	}
	return c;
}

static void argv_free(char **argv)
{
	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++) {
		free(argv[i]);
	}
	free(argv);
}

int mon_alerts_new(uv_loop_t *loop, mon_log_fn log, void *arg, mon_alerts_t **out)
{
	static bool curl_ready;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			return SS_ENOMEM;
		}
		curl_ready = true;
	}
	mon_alerts_t *a = calloc(1, sizeof(*a));
	if (a == NULL || (a->multi = curl_multi_init()) == NULL) {
		free(a);
		return SS_ENOMEM;
	}
	a->loop = loop;
	a->log = log;
	a->arg = arg;
	a->tail = &a->all;
	curl_multi_setopt(a->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(a->multi, CURLMOPT_SOCKETDATA, a);
	curl_multi_setopt(a->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(a->multi, CURLMOPT_TIMERDATA, a);
	curl_multi_setopt(a->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 4L);
	uv_timer_init(loop, &a->ctimer);
	a->ctimer.data = a;
	a->handles = 1;
	*out = a;
	return 0;
}

int mon_alerts_configure(mon_alerts_t *a, char *const *command, const char *webhook)
{
	char **c = argv_copy(command);
	char *w = webhook ? strdup(webhook) : NULL;
	if ((command != NULL && command[0] != NULL && c == NULL) ||
	    (webhook != NULL && w == NULL)) {
		argv_free(c);
		free(w);
		return SS_ENOMEM;
	}
	/* Each attempt reads the targets when it starts: queued deliveries and
	 * retries go to the new ones. */
	argv_free(a->command);
	free(a->webhook);
	a->command = c;
	a->webhook = w;
	return 0;
}

static int enqueue(mon_alerts_t *a, target_t tgt, const char *zone, const char *status,
                   const char *json)
{
	if (a->queued >= MAX_QUEUED) {
		a->failed++;
		say(a, zone, "alert (%s) dropped: %u deliveries already queued", status,
		    MAX_QUEUED);
		return SS_ELIMIT;
	}
	delivery_t *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		return SS_ENOMEM;
	}
	d->a = a;
	d->tgt = tgt;
	d->zone = strdup(zone);
	d->status = strdup(status);
	d->body = strdup(json);
	if (d->zone == NULL || d->status == NULL || d->body == NULL) {
		free(d->zone);
		free(d->status);
		free(d->body);
		free(d);
		return SS_ENOMEM;
	}
	d->len = strlen(json);
	uv_timer_init(a->loop, &d->timer);
	d->timer.data = d;
	d->pprev = a->tail;
	*a->tail = d;
	a->tail = &d->next;
	a->queued++;
	if (tgt == TGT_COMMAND && a->commands_running >= MAX_COMMANDS) {
		d->waiting = true;
	} else {
		start(d);
	}
	return 0;
}

int mon_alerts_send(mon_alerts_t *a, const char *zone, const char *status, const char *json)
{
	if (a->closing) {
		return SS_ESTATE;
	}
	int ret = 0;
	if (a->command != NULL) {
		ret = enqueue(a, TGT_COMMAND, zone, status, json);
	}
	if (a->webhook != NULL) {
		int r = enqueue(a, TGT_WEBHOOK, zone, status, json);
		ret = ret ? ret : r;
	}
	return ret;
}

void mon_alerts_counts(const mon_alerts_t *a, uint64_t *sent, uint64_t *failed)
{
	*sent = a->sent;
	*failed = a->failed;
}

static void maybe_done(mon_alerts_t *a)
{
	if (a->closing && a->all == NULL && a->handles == 0 && a->done != NULL) {
		void (*done)(void *) = a->done;
		a->done = NULL;
		done(a->done_arg);
	}
}

static void ctimer_closed(uv_handle_t *h)
{
	mon_alerts_t *a = h->data;
	a->handles--;
	maybe_done(a);
}

/* Stop: nothing new, retries dropped, running commands killed, transfers
 * aborted; done(arg) when every handle is closed. */
void mon_alerts_close(mon_alerts_t *a, void (*done)(void *arg), void *arg)
{
	a->closing = true;
	a->done = done;
	a->done_arg = arg;
	for (delivery_t *d = a->all, *next = NULL; d != NULL; d = next) {
		next = d->next;
		d->aborted = true;
		if (d->running && d->tgt == TGT_COMMAND) {
			uv_process_kill(&d->proc, SIGKILL);
		} else if (d->running) {
			webhook_release(d);
			finished(d, false, "stopped");
		} else if (!uv_is_closing((uv_handle_t *)&d->timer)) {
			uv_timer_stop(&d->timer);
			uv_close((uv_handle_t *)&d->timer, timer_closed);
		}
	}
	curl_multi_cleanup(a->multi);
	a->multi = NULL;
	uv_close((uv_handle_t *)&a->ctimer, ctimer_closed);
}

void mon_alerts_free(mon_alerts_t *a)
{
	if (a == NULL) {
		return;
	}
	argv_free(a->command);
	free(a->webhook);
	free(a);
}
