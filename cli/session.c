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
	const ss_zone_obs_t *o = &res->obs;
	memset(f, 0, sizeof(*f));
	f->ns = calloc(o->nservers + 1, sizeof(*f->ns));
	f->primary = calloc(o->nservers + 1, sizeof(*f->primary));
	f->named = calloc(o->nservers + 1, sizeof(*f->named));
	f->names = calloc(o->nservers + 1, sizeof(*f->names));
	f->mname = o->mname ? strdup(o->mname) : NULL;
	if (f->ns == NULL || f->primary == NULL || f->named == NULL || f->names == NULL ||
	    (o->mname != NULL && f->mname == NULL)) {
		cli_fixed_free(f);
		return -1;
	}
	f->primary_given = o->primary_given;
	for (size_t i = 0; i < o->nservers; i++) {
		const ss_server_obs_t *sv = &o->servers[i];
		if (sv->is_primary) {
			f->named[f->nnamed++] = sv->addr;
		}
		/* The primary the model took goes in as given, so that the run
		 * compares content against it; a server named as the primary but
		 * taken for a secondary is asked as one. Neither when it does not
		 * count (a hidden primary that was silent is not asked again).
		 * as_discovered() then judges each probe as the first. */
		bool counts = ss_verdict_counts(sv->verdict);
		if (sv->primary_role && counts) {
			f->primary[f->nprimary++] = sv->addr;
		}
		if ((sv->origin & ~(unsigned)SS_ORIGIN_PRIMARY) ||
		    (sv->is_primary && !sv->primary_role && counts)) {
			f->names[f->nns] = sv->name ? strdup(sv->name) : NULL;
			f->ns[f->nns++] = sv->addr;
		}
	}
	w->ns = f->ns;
	w->nns = f->nns;
	w->ns_names = (const char *const *)f->names;
	w->primary = f->primary;
	w->nprimary = f->nprimary;
	w->fixed = f;
	return 0;
}

void cli_fixed_free(cli_fixed_t *f)
{
	for (size_t i = 0; f->names != NULL && i < f->nns; i++) {
		free(f->names[i]);
	}
	free(f->names);
	free(f->ns);
	free(f->primary);
	free(f->named);
	free(f->mname);
	memset(f, 0, sizeof(*f));
}

/* The servers of a fixed probe came as if given (--ns, --primary): put back
 * what discovery said of them and judge again. */
static int as_discovered(ss_zone_result_t *res, const cli_fixed_t *f)
{
	ss_zone_obs_t *o = &res->obs;
	o->primary_given = f->primary_given;
	if (o->mname == NULL && f->mname != NULL && (o->mname = strdup(f->mname)) == NULL) {
		return SS_ENOMEM;
	}
	for (size_t i = 0; i < o->nservers; i++) {
		ss_server_obs_t *sv = &o->servers[i];
		sv->is_primary = false;
		for (size_t k = 0; k < f->nnamed && !sv->is_primary; k++) {
			sv->is_primary = ss_addr_equal(&sv->addr, &f->named[k]);
		}
	}
	return ss_check_analyze(res);
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
	int ret = ss_check_add(c, zone);
	if (ret != 0) {
		cli_err("'%s' is not a valid zone name", zone);
		ss_check_free(c);
		return -1;
	}
	cli_session_run(s);
	ss_check_free(c);
	if (p.got && where->fixed != NULL && as_discovered(out, where->fixed) != 0) {
		cli_err("out of memory");
		return -1;
	}
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
