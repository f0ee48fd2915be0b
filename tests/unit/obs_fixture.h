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

/* The server answered EDNS EXPIRE (RFC 7314) with `left` seconds: a primary
 * answers its SOA's expire (86400 in fx_soa), a secondary counts down. */
static inline void fx_expire(ss_server_obs_t *s, uint32_t left)
{
	s->has_expire = true;
	s->expire_s = left;
}

/* The SOA MNAME ns2 names a secondary at serial 5 counting EXPIRE down;
 * ns1 (192.0.2.1) answers EXPIRE as a primary at serial 7. */
static inline void fx_mname_secondary(ss_zone_result_t *res)
{
	fx_zone(res, "example.test.");
	res->obs.mname = strdup("ns2.example.test.");
	fx_server(res, "192.0.2.1", "ns1.example.test.", 7, false);
	fx_server(res, "192.0.2.2", "ns2.example.test.", 5, true);
	fx_expire(&res->obs.servers[0], 86400);
	fx_expire(&res->obs.servers[1], 86400 - 16);
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
