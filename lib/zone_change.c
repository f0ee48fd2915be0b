/*
 * May a new version of a zone replace the old one? Secondaries load a zone
 * only when its serial is greater (RFC 1982), so records that changed under
 * the same (or a lower) serial never reach them, and a lower serial alone
 * strands every secondary on the old one. "Changed" is the zone model's
 * content digest, serial left out: formatting and order are no change.
 */
#include <string.h>

#include <soasync/error.h>
#include <soasync/zone.h>

/* The two SOA records differ at most in the serial. */
static bool soa_serial_only(const ss_zone_t *a, const ss_zone_t *b)
{
	ss_zone_soa_t x, y;
	if (ss_zone_soa_fields(a, &x) != 0 || ss_zone_soa_fields(b, &y) != 0) {
		return false;
	}
	return knot_dname_is_equal(x.mname, y.mname) && knot_dname_is_equal(x.rname, y.rname) &&
	       x.refresh == y.refresh && x.retry == y.retry && x.expire == y.expire &&
	       x.minimum == y.minimum && x.ttl == y.ttl &&
	       knot_dname_is_equal(ss_zone_origin(a), ss_zone_origin(b));
}

int ss_zone_change_judge(const ss_zone_t *old, const ss_zone_t *nz, ss_zone_change_t *out)
{
	memset(out, 0, sizeof(*out));
	uint8_t da[SS_DIGEST_LEN], db[SS_DIGEST_LEN];
	int ret = ss_zone_serial(nz, &out->new_serial);
	if (ret != 0 || old == NULL) {
		out->is_new = old == NULL;
		return ret;
	}
	if ((ret = ss_zone_serial(old, &out->old_serial)) != 0 ||
	    (ret = ss_zone_digest(old, false, da)) != 0 ||
	    (ret = ss_zone_digest(nz, false, db)) != 0) {
		return ret;
	}
	out->changed = memcmp(da, db, sizeof(da)) != 0;
	out->order = ss_serial_cmp(out->new_serial, out->old_serial);
	out->above = out->old_serial;
	if (out->order == SS_SERIAL_GREATER) {
		out->verdict = SS_CHANGE_OK;
	} else if (out->order == SS_SERIAL_EQUAL) {
		out->verdict = out->changed ? SS_CHANGE_NOT_BUMPED : SS_CHANGE_OK;
	} else {
		out->verdict = out->changed ? SS_CHANGE_NOT_BUMPED : SS_CHANGE_SERIAL_DOWN;
	}
	out->at_least = out->old_serial + 1 == 0 ? 1 : out->old_serial + 1;
	return 0;
}

typedef struct {
	const ss_zone_t *old;
	bool skip_soa;
	ss_diff_cb cb;
	void *arg;
} list_t;

static int listed(int side, const ss_zone_t *z, size_t index, void *arg)
{
	list_t *l = arg;
	ss_rr_t rr;
	ss_zone_rr(z, index, &rr);
	if (l->skip_soa && rr.type == KNOT_RRTYPE_SOA &&
	    knot_dname_is_equal(rr.owner, ss_zone_origin(z))) {
		return 0;
	}
	return l->cb(side, z, index, l->arg);
}

int ss_zone_change_list(const ss_zone_t *old, const ss_zone_t *nz, ss_diff_cb cb, void *arg)
{
	list_t l = {old, soa_serial_only(old, nz), cb, arg};
	return ss_zone_diff(old, nz, false, listed, &l, NULL);
}
