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
#define ZONEMD_MAX_RRS       64

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
} zonemd_t;

/* The digest this ZONEMD's scheme and hash call for; NULL when we have none. */
static const EVP_MD *zonemd_alg(const zonemd_t *m)
{
	if (m->scheme != ZONEMD_SCHEME_SIMPLE) {
		return NULL;
	}
	if (m->hash == ZONEMD_HASH_SHA384 && m->dlen == 48) {
		return EVP_sha384();
	}
	if (m->hash == ZONEMD_HASH_SHA512 && m->dlen == 64) {
		return EVP_sha512();
	}
	return NULL;
}

/* The apex ZONEMD RRs, parsed; returns how many (at most cap). */
static size_t zonemd_rrs(const ss_zone_t *z, zonemd_t *m, size_t cap)
{
	long first = ss_zone_find(z, z->origin, KNOT_RRTYPE_ZONEMD);
	size_t n = 0;
	for (size_t i = first < 0 ? z->n : (size_t)first; i < z->n && n < cap; i++) {
		ss_rr_t rr;
		ss_zone_rr(z, i, &rr);
		if (rr.type != KNOT_RRTYPE_ZONEMD || !knot_dname_is_equal(rr.owner, z->origin)) {
			break;
		}
		if (rr.rdlen < ZONEMD_HDR) {
			continue;
		}
		m[n].serial = knot_wire_read_u32(rr.rdata);
		m[n].scheme = rr.rdata[4];
		m[n].hash = rr.rdata[5];
		m[n].digest = rr.rdata + ZONEMD_HDR;
		m[n].dlen = rr.rdlen - ZONEMD_HDR;
		n++;
	}
	return n;
}

static void detail_set(char *detail, size_t len, const char *msg, unsigned a, unsigned b)
{
	if (detail != NULL && len > 0) {
		snprintf(detail, len, msg, a, b);
	}
}

/* Check one supported ZONEMD: 1 matches, 0 does not (detail says why), <0 error. */
static int zonemd_check(const ss_zone_t *z, const zonemd_t *m, uint32_t serial, char *detail,
                        size_t len)
{
	if (m->serial != serial) {
		detail_set(detail, len, "ZONEMD serial %u is not the SOA serial %u", m->serial,
		           serial);
		return 0;
	}
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	walk_opts_t o = {.zero_serial = false, .ttl = true};
	int ret = walk(z, zonemd_alg(m), &o, d, &dlen);
	if (ret != 0) {
		return ret;
	}
	if (dlen != m->dlen || memcmp(d, m->digest, dlen) != 0) {
		detail_set(detail, len,
		           "ZONEMD digest (scheme %u, hash %u) does not match the zone", m->scheme,
		           m->hash);
		return 0;
	}
	return 1;
}

/* RFC 8976 2.4: one RR per scheme and hash algorithm. */
static bool zonemd_duplicates(const zonemd_t *m, size_t n, char *detail, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			if (m[i].scheme == m[j].scheme && m[i].hash == m[j].hash) {
				detail_set(detail, len,
				           "more than one ZONEMD with scheme %u and hash %u",
				           m[i].scheme, m[i].hash);
				return true;
			}
		}
	}
	return false;
}

ss_zonemd_status_t ss_zone_zonemd_verify(const ss_zone_t *z, char *detail, size_t len)
{
	zonemd_t m[ZONEMD_MAX_RRS];
	uint32_t serial = 0;
	size_t n = 0;
	if (z != NULL && z->finished && ss_zone_serial(z, &serial) == 0) {
		n = zonemd_rrs(z, m, ZONEMD_MAX_RRS);
	}
	if (n == 0) {
		detail_set(detail, len, "no ZONEMD record at the apex", 0, 0);
		return SS_ZONEMD_ABSENT;
	}
	if (zonemd_duplicates(m, n, detail, len)) {
		return SS_ZONEMD_INVALID;
	}
	bool supported = false;
	for (size_t i = 0; i < n; i++) {
		if (zonemd_alg(&m[i]) == NULL) {
			continue;
		}
		supported = true;
		int ret = zonemd_check(z, &m[i], serial, detail, len);
		if (ret == 1) {
			detail_set(detail, len, "ZONEMD (scheme %u, hash %u) matches", m[i].scheme,
			           m[i].hash);
			return SS_ZONEMD_VALID;
		}
		if (ret < 0) {
			detail_set(detail, len, "cannot compute the digest", 0, 0);
			return SS_ZONEMD_INVALID;
		}
	}
	if (!supported) {
		detail_set(detail, len, "no ZONEMD with a supported scheme and hash", 0, 0);
		return SS_ZONEMD_UNSUPPORTED;
	}
	return SS_ZONEMD_INVALID;
}
