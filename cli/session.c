#include <stdlib.h>
#include <string.h>

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
	if (s->e == NULL) {
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
}

cli_probe_where_t cli_probe_where(const cli_net_t *net)
{
	cli_probe_where_t w = {net->ns, net->nns, net->primary, net->nprimary, false, NULL};
	return w;
}

int cli_probe_where_from(const ss_zone_result_t *res, ss_addr_t **ns, size_t *nns,
                         ss_addr_t **primary, size_t *nprimary)
{
	const ss_zone_obs_t *o = &res->obs;
	*ns = calloc(o->nservers + 1, sizeof(**ns));
	*primary = calloc(o->nservers + 1, sizeof(**primary));
	*nns = *nprimary = 0;
	if (*ns == NULL || *primary == NULL) {
		free(*ns);
		free(*primary);
		return -1;
	}
	for (size_t i = 0; i < o->nservers; i++) {
		const ss_server_obs_t *sv = &o->servers[i];
		if (sv->is_primary && (res->has_primary || o->primary_given)) {
			(*primary)[(*nprimary)++] = sv->addr;
		}
		if (sv->origin & ~(unsigned)SS_ORIGIN_PRIMARY) {
			(*ns)[(*nns)++] = sv->addr;
		}
	}
	return 0;
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
	        .primary = where->primary,
	        .nprimary = where->nprimary,
	        .no_vendor = where->no_vendor,
	        .expire = true,
	        .expect = where->expect,
	};
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
	return p.got ? 0 : -1;
}
