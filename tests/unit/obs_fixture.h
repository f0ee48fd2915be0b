/* Test helpers: build synthetic zone observations. */
#ifndef OBS_FIXTURE_H
#define OBS_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include <soasync/check.h>
#include <soasync/discover.h>
#include <soasync/error.h>

static inline void fx_zone(ss_zone_result_t *res, const char *zone)
{
	memset(res, 0, sizeof(*res));
	res->obs.zone = knot_dname_from_str_alloc(zone);
	res->obs.zone_str = strdup(zone);
}

static inline void fx_soa(ss_server_obs_t *s, uint32_t serial)
{
	s->kind = SS_ANS_SOA;
	s->has_soa = true;
	s->rcode = 0;
	s->aa = true;
	s->soa.serial = serial;
	s->soa.mname = knot_dname_from_str_alloc("ns1.example.test.");
	s->soa.rname = knot_dname_from_str_alloc("hostmaster.example.test.");
	s->soa.refresh = 3600;
	s->soa.retry = 600;
	s->soa.expire = 86400;
	s->soa.minimum = 300;
}

/* Add a server answering with `serial`. */
static inline ss_server_obs_t *fx_server(ss_zone_result_t *res, const char *addr, const char *name,
                                         uint32_t serial, bool primary)
{
	ss_addr_t a;
	ss_addr_parse(&a, addr, 53);
	ss_server_obs_t *s =
	    ss_obs_add_server(&res->obs, &a, name, primary ? SS_ORIGIN_PRIMARY : SS_ORIGIN_CHILD);
	s->is_primary = primary;
	fx_soa(s, serial);
	return s;
}

/* Add a server without a serial (kind/rcode/error as given). */
static inline ss_server_obs_t *fx_bad(ss_zone_result_t *res, const char *addr,
                                      ss_answer_kind_t kind, int rcode, int error)
{
	ss_addr_t a;
	ss_addr_parse(&a, addr, 53);
	ss_server_obs_t *s = ss_obs_add_server(&res->obs, &a, NULL, SS_ORIGIN_CHILD);
	s->kind = kind;
	s->rcode = rcode;
	s->error = error;
	return s;
}

static inline const ss_finding_t *fx_find(const ss_zone_result_t *res, ss_fcode_t code)
{
	for (size_t i = 0; i < res->nfindings; i++) {
		if (res->findings[i].id == code) {
			return &res->findings[i];
		}
	}
	return NULL;
}

#endif
