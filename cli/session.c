#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <soasync/checkrun.h>
#include <soasync/error.h>

#include "session.h"

int cli_session_open(cli_session_t *s, const cli_net_t *net)
{
	if (uv_loop_init(&s->loop) != 0) {
		cli_err("cannot start the event loop");
		return -1;
	}
	s->e = ss_engine_new(&s->loop, &net->eng);
	s->vendors = ss_vendor_cache_new();
	if (s->e == NULL || s->vendors == NULL) {
		if (s->e != NULL) {
			ss_engine_close(s->e);
			uv_run(&s->loop, UV_RUN_DEFAULT);
		}
		ss_vendor_cache_free(s->vendors);
		uv_loop_close(&s->loop);
		cli_err("out of memory");
		return -1;
	}
	return 0;
}

void cli_session_run(cli_session_t *s)
{
	uv_run(&s->loop, UV_RUN_DEFAULT);
}

void cli_session_close(cli_session_t *s)
{
	if (s->e != NULL) {
		ss_engine_close(s->e);
		s->e = NULL;
	}
	uv_run(&s->loop, UV_RUN_DEFAULT);
	uv_loop_close(&s->loop);
	ss_vendor_cache_free(s->vendors);
	s->vendors = NULL;
}

cli_probe_where_t cli_probe_where(const cli_net_t *net)
{
	cli_probe_where_t w = {net->ns, net->nns, NULL, net->primary, net->nprimary,
	                       false,   NULL,     NULL, NULL};
	return w;
}

int cli_probe_fixed(const ss_zone_result_t *res, cli_fixed_t *f, cli_probe_where_t *w)
{
	memset(f, 0, sizeof(*f));
	if (ss_obs_copy_discovery(&f->disc, &res->obs) != 0) {
		cli_fixed_free(f);
		return -1;
	}
	/* A server that does not count (a hidden primary that was silent) is
	 * not asked again: each probe would wait out its time-out. */
	size_t keep = 0;
	for (size_t i = 0; i < f->disc.nservers; i++) {
		ss_server_obs_t *sv = &f->disc.servers[i];
		bool counts = true;
		for (size_t k = 0; k < res->obs.nservers; k++) {
			if (ss_addr_equal(&res->obs.servers[k].addr, &sv->addr)) {
				counts = ss_verdict_counts(res->obs.servers[k].verdict);
			}
		}
		if (!counts) {
			ss_server_obs_clear(sv);
			continue;
		}
		f->disc.servers[keep++] = *sv;
	}
	f->disc.nservers = keep;
	w->fixed = f;
	return 0;
}

void cli_fixed_free(cli_fixed_t *f)
{
	ss_zone_result_t tmp;
	memset(&tmp, 0, sizeof(tmp));
	tmp.obs = f->disc;
	ss_zone_result_clear(&tmp);
	memset(f, 0, sizeof(*f));
}

typedef struct {
	ss_zone_result_t *out;
	bool got;
} probe_ctx_t;

static void probe_done(ss_zone_result_t *res, void *arg)
{
	probe_ctx_t *p = arg;
	*p->out = *res;
	memset(res, 0, sizeof(*res)); /* taken */
	p->got = true;
}

int cli_probe(cli_session_t *s, const cli_net_t *net, const cli_probe_where_t *where,
              const char *zone, ss_zone_result_t *out)
{
	probe_ctx_t p = {out, false};
	ss_check_opts_t o = {
	    .resolver = net->resolver,
	    .only4 = net->only4,
	    .only6 = net->only6,
	    .ns = where->ns,
	    .nns = where->nns,
	    .ns_names = where->ns_names,
	    .primary = where->primary,
	    .nprimary = where->nprimary,
	    .no_vendor = where->no_vendor,
	    .vendors = s->vendors,
	    .expire = true,
	    .expect = where->expect,
	};
	if (where->content != NULL) {
		o.content = *where->content;
	}
	memset(out, 0, sizeof(*out));
	ss_check_t *c = ss_check_new(s->e, &o, probe_done, &p);
	if (c == NULL) {
		cli_err("out of memory");
		return -1;
	}
	/* Again the servers of an earlier result, as discovery found them
	 * (names, origins, MNAME, NS sets), without discovering again. */
	ss_check_zone_opts_t zo = {.discovered = where->fixed ? &where->fixed->disc : NULL};
	int ret = ss_check_add_zone(c, zone, where->fixed ? &zo : NULL);
	if (ret != 0) {
		cli_err("'%s' is not a valid zone name", zone);
		ss_check_free(c);
		return -1;
	}
	cli_session_run(s);
	ss_check_free(c);
	return p.got ? 0 : -1;
}

static void timer_fired(uv_timer_t *t)
{
	(void)t;
}

void cli_session_sleep(cli_session_t *s, unsigned ms)
{
	uv_timer_t t;
	uv_timer_init(&s->loop, &t);
	uv_timer_start(&t, timer_fired, ms, 0);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&s->loop, UV_RUN_DEFAULT);
}

void cli_session_fit(cli_session_t *s, const cli_net_t *net, uint64_t deadline)
{
	uint64_t now = uv_hrtime();
	uint64_t left_ms = deadline > now ? (deadline - now) / 1000000u : 0;
	unsigned tries = net->eng.tries, per_try = net->eng.timeout_ms;
	if ((uint64_t)per_try * tries > left_ms) {
		per_try = (unsigned)(left_ms / tries);
	}
	ss_engine_set_timeout(s->e, per_try > 50 ? per_try : 50, tries);
}

int cli_probe_until(cli_session_t *s, const cli_net_t *net, const cli_probe_where_t *where,
                    const char *zone, const cli_poll_t *poll, ss_zone_result_t *last)
{
	unsigned backoff = 200;
	for (;;) {
		if (poll->pred(last, poll->arg)) {
			return 1;
		}
		uint64_t now = uv_hrtime();
		if (now >= poll->until) {
			return 0;
		}
		if (poll->round != NULL) {
			poll->round(last, poll->arg);
		}
		uint64_t left = (poll->until - now) / 1000000u;
		cli_session_sleep(s, backoff < left ? backoff : (unsigned)left);
		backoff = backoff * 3 / 2 > 5000 ? 5000 : backoff * 3 / 2;
		cli_session_fit(s, net, poll->deadline);
		ss_zone_result_t next;
		if (cli_probe(s, net, where, zone, &next) != 0) {
			return -1;
		}
		ss_zone_result_clear(last);
		*last = next;
	}
}

typedef struct {
	uv_process_t proc;
	uv_timer_t timer;
	int64_t status;
	int signal;
	bool exited, killed;
} shell_t;

static void shell_closed(uv_handle_t *h)
{
	(void)h;
}

static void shell_exited(uv_process_t *p, int64_t status, int signal)
{
	shell_t *sh = p->data;
	sh->exited = true;
	sh->status = status;
	sh->signal = signal;
	uv_close((uv_handle_t *)&sh->proc, shell_closed);
	uv_close((uv_handle_t *)&sh->timer, shell_closed);
}

static void shell_deadline(uv_timer_t *t)
{
	shell_t *sh = t->data;
	sh->killed = true;
	uv_process_kill(&sh->proc, SIGKILL);
}

int cli_session_shell(cli_session_t *s, const char *cmd, uint64_t deadline, int *exit_code)
{
	shell_t sh;
	memset(&sh, 0, sizeof(sh));
	char *args[] = {"/bin/sh", "-c", (char *)cmd, NULL};
	/* The command talks on our stderr: stdout is the report. */
	uv_stdio_container_t io[3] = {
	    {.flags = UV_INHERIT_FD, .data.fd = STDIN_FILENO},
	    {.flags = UV_INHERIT_FD, .data.fd = STDERR_FILENO},
	    {.flags = UV_INHERIT_FD, .data.fd = STDERR_FILENO},
	};
	uv_process_options_t po = {
	    .exit_cb = shell_exited, .file = args[0], .args = args, .stdio_count = 3, .stdio = io};
	uint64_t now = uv_hrtime();
	sh.proc.data = sh.timer.data = &sh;
	fflush(stdout);
	fflush(stderr);
	uv_timer_init(&s->loop, &sh.timer);
	int ret = uv_spawn(&s->loop, &sh.proc, &po);
	if (ret != 0) {
		uv_close((uv_handle_t *)&sh.proc, shell_closed);
		uv_close((uv_handle_t *)&sh.timer, shell_closed);
		uv_run(&s->loop, UV_RUN_DEFAULT);
		cli_err("cannot run /bin/sh: %s", uv_strerror(ret));
		return -1;
	}
	uv_timer_start(&sh.timer, shell_deadline, deadline > now ? (deadline - now) / 1000000u : 0,
	               0);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	*exit_code = sh.signal == 0 ? (int)sh.status : -1;
	return sh.killed ? 1 : 0;
}
