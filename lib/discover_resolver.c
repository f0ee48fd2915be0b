#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/error.h>
#include <soasync/resolver.h>

#include "wire_pkt.h"

#define BUCKETS 4096u
/* Recursive resolvers hold few requests at a time (unbound: 32 by default,
 * dropping the rest); stay well below. */
#define RESOLVER_INFLIGHT 16u

typedef struct waiter {
	ss_lookup_cb cb;
	void *arg;
	struct waiter *next;
} waiter_t;

typedef struct entry {
	struct entry *next;
	ss_resolver_t *r;
	knot_dname_t *name; /* lower case */
	uint16_t type;
	bool done;
	int error;
	uint16_t rcode;
	knot_rrset_t *answer, *soa;
	waiter_t *waiters;
} entry_t;

struct ss_resolver {
	ss_engine_t *e;
	ss_addr_t addr;
	entry_t *buckets[BUCKETS];
};

ss_resolver_t *ss_resolver_new(ss_engine_t *e, const ss_addr_t *addr)
{
	ss_resolver_t *r = calloc(1, sizeof(*r));
	if (r != NULL) {
		r->e = e;
		r->addr = *addr;
		ss_engine_set_server_limit(e, addr, RESOLVER_INFLIGHT);
	}
	return r;
}

void ss_resolver_free(ss_resolver_t *r)
{
	if (r == NULL) {
		return;
	}
	for (unsigned b = 0; b < BUCKETS; b++) {
		entry_t *x = r->buckets[b];
		while (x != NULL) {
			entry_t *next = x->next;
			knot_rrset_free(x->answer, NULL);
			knot_rrset_free(x->soa, NULL);
			free(x->name);
			free(x);
			x = next;
		}
	}
	free(r);
}

static uint32_t key_hash(const knot_dname_t *name, uint16_t type)
{
	uint32_t h = 2166136261u ^ type;
	for (size_t i = 0, n = knot_dname_size(name); i < n; i++) {
		h = (h ^ name[i]) * 16777619u;
	}
	return h;
}

static void finish(entry_t *x)
{
	x->done = true;
	ss_lookup_t res = {x->error, x->rcode, x->answer, x->soa};
	waiter_t *w = x->waiters;
	x->waiters = NULL;
	while (w != NULL) {
		waiter_t *next = w->next;
		w->cb(&res, w->arg);
		free(w);
		w = next;
	}
}

static void answered(const ss_response_t *resp, void *arg)
{
	entry_t *x = arg;
	x->error = resp->error;
	if (resp->error == 0) {
		x->rcode = resp->rcode;
		x->answer = ss_pkt_collect(resp->pkt, KNOT_ANSWER, x->type, NULL);
		x->soa = ss_pkt_collect(resp->pkt, KNOT_AUTHORITY, KNOT_RRTYPE_SOA, NULL);
	}
	finish(x);
}

int ss_resolver_lookup(ss_resolver_t *r, const knot_dname_t *name, uint16_t type, ss_lookup_cb cb,
                       void *arg)
{
	knot_dname_storage_t lower;
	if (knot_dname_size(name) > sizeof(lower)) {
		return SS_EINVAL;
	}
	knot_dname_copy_lower(lower, name);
	uint32_t b = key_hash(lower, type) % BUCKETS;
	entry_t *x = r->buckets[b];
	while (x != NULL && !(x->type == type && knot_dname_is_equal(x->name, lower))) {
		x = x->next;
	}
	waiter_t *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		return SS_ENOMEM;
	}
	w->cb = cb;
	w->arg = arg;
	if (x != NULL) {
		w->next = x->waiters;
		x->waiters = w;
		if (x->done) {
			finish(x);
		}
		return 0;
	}
	x = calloc(1, sizeof(*x));
	if (x == NULL || (x->name = knot_dname_copy(lower, NULL)) == NULL) {
		free(x);
		free(w);
		return SS_ENOMEM;
	}
	x->r = r;
	x->type = type;
	x->waiters = w;
	ss_query_t q = {
	    .server = r->addr,
	    .qname = lower,
	    .qtype = type,
	    .flags = SS_QF_RD | SS_QF_EDNS,
	};
	int ret = ss_engine_query(r->e, &q, answered, x);
	if (ret != 0) {
		free(x->name);
		free(x);
		free(w);
		return ret;
	}
	x->next = r->buckets[b];
	r->buckets[b] = x;
	return 0;
}

int ss_resolver_from_conf(const char *path, ss_addr_t *out)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return SS_EIO;
	}
	char line[512];
	int ret = SS_ENOTFOUND;
	while (ret != 0 && fgets(line, sizeof(line), f) != NULL) {
		char word[64], addr[128];
		if (sscanf(line, " %63s %127s", word, addr) == 2 &&
		    strcmp(word, "nameserver") == 0) {
			char *pct = strchr(addr, '%'); /* link-local scope: not supported */
			if (pct == NULL && ss_addr_parse(out, addr, 53) == 0) {
				ret = 0;
			}
		}
	}
	fclose(f);
	return ret;
}
