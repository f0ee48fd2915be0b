/*
 * Digests over a finished zone: the content digest (serial left out) and
 * ZONEMD (RFC 8976, scheme SIMPLE). Both hash the records in canonical
 * order and form, so one walk serves both; the records go to the hash in
 * 64 KiB batches because one EVP update per small record costs more than
 * the hashing itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <soasync/error.h>

#include "zone_int.h"

#define BATCH                65536
#define ZONEMD_SCHEME_SIMPLE 1
#define ZONEMD_HASH_SHA384   1
#define ZONEMD_HASH_SHA512   2
#define ZONEMD_HDR           6 /* serial u32, scheme u8, hash u8 */

typedef struct {
	EVP_MD_CTX *md;
	size_t len;
	uint8_t buf[BATCH];
} hasher_t;

typedef struct {
	bool zero_serial; /* content digest: the apex SOA serial counts as 0 */
	bool ttl;         /* hash TTLs */
} walk_opts_t;

static void h_flush(hasher_t *h)
{
	if (h->len > 0) {
		EVP_DigestUpdate(h->md, h->buf, h->len);
		h->len = 0;
	}
}

static void h_put(hasher_t *h, const void *p, size_t n)
{
	if (h->len + n > BATCH) {
		h_flush(h);
	}
	if (n > BATCH) {
		EVP_DigestUpdate(h->md, p, n);
		return;
	}
	memcpy(h->buf + h->len, p, n);
	h->len += n;
}

static void h_u16(hasher_t *h, uint16_t v)
{
	uint8_t b[2];
	knot_wire_write_u16(b, v);
	h_put(h, b, 2);
}

/* RFC 8976 3.3.1: the apex ZONEMD RRset and the RRSIGs covering it stay out. */
static bool excluded(const ss_zone_t *z, const ss_rr_t *rr)
{
	if (rr->type != KNOT_RRTYPE_ZONEMD && rr->type != KNOT_RRTYPE_RRSIG) {
		return false;
	}
	if (!knot_dname_is_equal(rr->owner, z->origin)) {
		return false;
	}
	if (rr->type == KNOT_RRTYPE_ZONEMD) {
		return true;
	}
	return rr->rdlen >= 2 && knot_wire_read_u16(rr->rdata) == KNOT_RRTYPE_ZONEMD;
}

/* Offset of the serial in SOA rdata (after MNAME and RNAME). */
static size_t soa_serial_off(const ss_rr_t *soa)
{
	size_t off = knot_dname_size(soa->rdata);
	return off + knot_dname_size(soa->rdata + off);
}

/* owner | type | class | TTL | RDLENGTH | RDATA, as RFC 4034 6.2 and
 * RFC 8976 3.3 put it. */
static void hash_rr(hasher_t *h, const ss_zone_t *z, size_t i, const ss_rr_t *rr,
                    const walk_opts_t *o)
{
	h_put(h, rr->owner, knot_dname_size(rr->owner));
	h_u16(h, rr->type);
	h_u16(h, rr->rclass);
	if (o->ttl) {
		uint8_t b[4];
		knot_wire_write_u32(b, rr->ttl);
		h_put(h, b, 4);
	}
	h_u16(h, rr->rdlen);
	h_put(h, rr->rdata, rr->rdlen);
	if (o->zero_serial && (long)i == z->soa) {
		/* The SOA is small, so it went into the batch buffer. */
		size_t off = soa_serial_off(rr);
		if (off + 4 <= rr->rdlen) {
			memset(h->buf + h->len - rr->rdlen + off, 0, 4);
		}
	}
}

static int walk(const ss_zone_t *z, const EVP_MD *alg, const walk_opts_t *o, uint8_t *out,
                unsigned *outlen)
{
	if (z == NULL || !z->finished) {
		return SS_ESTATE;
	}
	hasher_t *h = malloc(sizeof(*h));
	int ret = SS_ENOMEM;
	if (h == NULL || (h->md = EVP_MD_CTX_new()) == NULL) {
		goto fail;
	}
	h->len = 0;
	if (EVP_DigestInit_ex(h->md, alg, NULL) != 1) {
		goto fail;
	}
	for (size_t i = 0; i < z->n; i++) {
		ss_rr_t rr;
		ss_zone_rr(z, i, &rr);
		if (!excluded(z, &rr)) {
			hash_rr(h, z, i, &rr, o);
		}
	}
	h_flush(h);
	ret = EVP_DigestFinal_ex(h->md, out, outlen) == 1 ? 0 : SS_ENOMEM;
fail:
	if (h != NULL) {
		EVP_MD_CTX_free(h->md);
	}
	free(h);
	return ret;
}

int ss_zone_digest(const ss_zone_t *z, bool ignore_ttl, uint8_t out[SS_DIGEST_LEN])
{
	walk_opts_t o = {.zero_serial = true, .ttl = !ignore_ttl};
	unsigned len = 0;
	return walk(z, EVP_sha384(), &o, out, &len);
}

const char *ss_digest_hex(const uint8_t d[SS_DIGEST_LEN], char *buf)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < SS_DIGEST_LEN; i++) {
		buf[2 * i] = hex[d[i] >> 4];
		buf[2 * i + 1] = hex[d[i] & 0xf];
	}
	buf[2 * SS_DIGEST_LEN] = '\0';
	return buf;
}

int ss_zone_zonemd_compute(const ss_zone_t *z, uint8_t out[SS_DIGEST_LEN])
{
	walk_opts_t o = {.zero_serial = false, .ttl = true};
	unsigned len = 0;
	return walk(z, EVP_sha384(), &o, out, &len);
}

typedef struct {
	uint32_t serial;
	uint8_t scheme, hash;
	const uint8_t *digest;
	size_t dlen;
	bool malformed; /* rdata shorter than serial, scheme and hash */
} zonemd_t;

/* The digest this ZONEMD's scheme and hash call for; NULL when we have none. */
static const EVP_MD *zonemd_alg(const zonemd_t *m)
{
	if (m->malformed || m->scheme != ZONEMD_SCHEME_SIMPLE) {
		return NULL;
	}
	/* A digest of the wrong length is still a supported algorithm: it is
	 * compared and fails (RFC 8976 2.2.4: digests are never truncated). */
	if (m->hash == ZONEMD_HASH_SHA384) {
		return EVP_sha384();
	}
	if (m->hash == ZONEMD_HASH_SHA512) {
		return EVP_sha512();
	}
	return NULL;
}

/* The apex ZONEMD RRs, parsed, into a new array (*out, free() it). */
static size_t zonemd_rrs(const ss_zone_t *z, zonemd_t **out)
{
	long first = ss_zone_find(z, z->origin, KNOT_RRTYPE_ZONEMD);
	size_t n = 0, cap = 0;
	*out = NULL;
	for (size_t i = first < 0 ? z->n : (size_t)first; i < z->n; i++) {
		ss_rr_t rr;
		ss_zone_rr(z, i, &rr);
		if (rr.type != KNOT_RRTYPE_ZONEMD || !knot_dname_is_equal(rr.owner, z->origin)) {
			break;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 4;
			zonemd_t *g = realloc(*out, cap * sizeof(*g));
			if (g == NULL) {
				return n;
			}
			*out = g;
		}
		zonemd_t *m = &(*out)[n++];
		*m = (zonemd_t){.malformed = rr.rdlen < ZONEMD_HDR};
		if (!m->malformed) {
			m->serial = knot_wire_read_u32(rr.rdata);
			m->scheme = rr.rdata[4];
			m->hash = rr.rdata[5];
			m->digest = rr.rdata + ZONEMD_HDR;
			m->dlen = rr.rdlen - ZONEMD_HDR;
		}
	}
	return n;
}

/* Another ZONEMD with the same scheme and hash (RFC 8976 2.4: those fail,
 * the others still count). */
static bool duplicated(const zonemd_t *m, size_t n, size_t i)
{
	for (size_t j = 0; j < n; j++) {
		if (j != i && !m[j].malformed && !m[i].malformed && m[j].scheme == m[i].scheme &&
		    m[j].hash == m[i].hash) {
			return true;
		}
	}
	return false;
}

/* Why a ZONEMD does not verify (RFC 8976 4). */
typedef enum {
	ZM_OK = 0,
	ZM_MALFORMED,
	ZM_DUPLICATE,
	ZM_UNSUPPORTED,
	ZM_SERIAL,
	ZM_SHORT,
	ZM_MISMATCH,
	ZM_NOMEM,
} zm_why_t;

static zm_why_t zonemd_fails(const ss_zone_t *z, const zonemd_t *m, size_t n, size_t i,
                             uint32_t serial)
{
	const zonemd_t *r = &m[i];
	if (r->malformed) {
		return ZM_MALFORMED;
	}
	if (duplicated(m, n, i)) {
		return ZM_DUPLICATE;
	}
	if (zonemd_alg(r) == NULL) {
		return ZM_UNSUPPORTED;
	}
	if (r->serial != serial) {
		return ZM_SERIAL;
	}
	if (r->dlen < 12) {
		return ZM_SHORT;
	}
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	walk_opts_t o = {.zero_serial = false, .ttl = true};
	if (walk(z, zonemd_alg(r), &o, d, &dlen) != 0) {
		return ZM_NOMEM;
	}
	return dlen == r->dlen && memcmp(d, r->digest, dlen) == 0 ? ZM_OK : ZM_MISMATCH;
}

const char *ss_zonemd_status_name(ss_zonemd_status_t st)
{
	switch (st) {
	case SS_ZONEMD_VALID:
		return "valid";
	case SS_ZONEMD_INVALID:
		return "invalid";
	case SS_ZONEMD_UNSUPPORTED:
		return "unsupported";
	default:
		return "absent";
	}
}

/* The verdict rests on ZONEMD m: its scheme and hash, the reason. */
static void verdict_set(ss_zonemd_verdict_t *v, ss_zonemd_status_t st, const zonemd_t *m,
                        uint32_t serial, zm_why_t why)
{
	static const char *const text[] = {
	    [ZM_OK] = "ZONEMD (scheme %u, hash %u) matches",
	    [ZM_MALFORMED] = "a ZONEMD is malformed (shorter than serial, scheme and hash)",
	    [ZM_DUPLICATE] = "more than one ZONEMD with scheme %u and hash %u",
	    [ZM_UNSUPPORTED] = "no ZONEMD with a supported scheme and hash (scheme %u, hash %u)",
	    [ZM_SERIAL] = "ZONEMD serial %u is not the SOA serial %u",
	    [ZM_SHORT] = "ZONEMD digest (scheme %u, hash %u) shorter than 12 octets",
	    [ZM_MISMATCH] = "ZONEMD digest (scheme %u, hash %u) does not match the zone",
	    [ZM_NOMEM] = "cannot compute the digest (scheme %u, hash %u)",
	};
	v->status = st;
	v->scheme = m->scheme;
	v->hash = m->hash;
	unsigned a = why == ZM_SERIAL ? m->serial : m->scheme;
	unsigned b = why == ZM_SERIAL ? serial : m->hash;
	snprintf(v->detail, sizeof(v->detail), text[why], a, b);
}

ss_zonemd_status_t ss_zone_zonemd_check(const ss_zone_t *z, ss_zonemd_verdict_t *out)
{
	ss_zonemd_verdict_t v = {.status = SS_ZONEMD_ABSENT};
	zonemd_t *m = NULL;
	uint32_t serial = 0;
	size_t n = 0;
	if (z != NULL && z->finished && ss_zone_serial(z, &serial) == 0) {
		n = zonemd_rrs(z, &m);
	}
	v.count = n;
	for (size_t i = 0; i < n; i++) {
		if (!m[i].malformed && v.list.n++ < SS_ZONEMD_LIST_MAX) {
			v.list.rr[v.list.n - 1].scheme = m[i].scheme;
			v.list.rr[v.list.n - 1].algorithm = m[i].hash;
		}
	}
	snprintf(v.detail, sizeof(v.detail), "no ZONEMD record at the apex");
	/* RFC 8976 4: one ZONEMD that verifies is enough; a failing supported
	 * one makes the zone invalid; unsupported ones alone leave it unverified,
	 * never valid. The first of each kind is the one named. */
	bool invalid = false, unsupported = false;
	for (size_t i = 0; i < n && v.status != SS_ZONEMD_VALID; i++) {
		zm_why_t why = zonemd_fails(z, m, n, i, serial);
		bool supported = zonemd_alg(&m[i]) != NULL || m[i].malformed;
		if (why == ZM_OK) {
			verdict_set(&v, SS_ZONEMD_VALID, &m[i], serial, why);
		} else if (supported && !invalid) {
			invalid = true;
			verdict_set(&v, SS_ZONEMD_INVALID, &m[i], serial, why);
		} else if (!supported && !unsupported && !invalid) {
			unsupported = true;
			verdict_set(&v, SS_ZONEMD_UNSUPPORTED, &m[i], serial, why);
		}
	}
	free(m);
	if (out != NULL) {
		*out = v;
	}
	return v.status;
}

ss_zonemd_status_t ss_zone_zonemd_verify(const ss_zone_t *z, char *detail, size_t len)
{
	ss_zonemd_verdict_t v;
	ss_zone_zonemd_check(z, &v);
	if (detail != NULL && len > 0) {
		snprintf(detail, len, "%s", v.detail);
	}
	return v.status;
}
