/*
 * The zone model: arena, canonical form, canonical order, dedupe, lookup,
 * diff and presentation form.
 *
 * Sorting a million records must stay cheap next to parsing them, so the
 * order is found in two steps: an LSD radix sort on a 64-bit prefix of each
 * owner's order key (computed once, when the record is added), then an
 * exact comparison sort inside each run of equal prefixes (mostly one
 * owner's records). Long runs of distinct owners that share a prefix are
 * refined with the next 8 key bytes first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <soasync/error.h>

#include "zone_int.h"

/* Runs up to this long go straight to the comparison sort. */
#define RUN_REFINE_MIN 32
/* Longest owner order key: 255 octets, each escaped to at most 2 bytes. */
#define KEY_MAX 512

typedef struct {
	const uint8_t *owner;
	uint8_t owner_len;
	uint16_t type, rclass, rdlen;
	uint32_t ttl;
	const uint8_t *rdata;
} rec_t;

double zone_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void rec_at(const ss_zone_t *z, uint64_t off, rec_t *r)
{
	const uint8_t *p = z->arena + off;
	memcpy(&r->ttl, p, 4);
	memcpy(&r->type, p + 4, 2);
	memcpy(&r->rclass, p + 6, 2);
	memcpy(&r->rdlen, p + 8, 2);
	r->owner_len = p[10];
	r->owner = p + ZONE_REC_HDR;
	r->rdata = r->owner + r->owner_len;
}

/* Label start pointers of a name (root label not counted); returns count. */
static size_t name_labels(const uint8_t *name, const uint8_t *lab[KNOT_DNAME_MAXLABELS])
{
	size_t n = 0;
	while (*name != 0) {
		lab[n++] = name;
		name += *name + 1;
	}
	return n;
}

/* RFC 4034 6.1: compare label by label from the root, each label as an
 * octet string (names are already lower case), a missing label sorts first. */
static int name_cmp(const uint8_t *a, const uint8_t *b)
{
	const uint8_t *la[KNOT_DNAME_MAXLABELS], *lb[KNOT_DNAME_MAXLABELS];
	size_t na = name_labels(a, la), nb = name_labels(b, lb);
	while (na > 0 && nb > 0) {
		const uint8_t *x = la[--na], *y = lb[--nb];
		size_t common = x[0] < y[0] ? x[0] : y[0];
		int c = memcmp(x + 1, y + 1, common);
		if (c != 0) {
			return c;
		}
		if (x[0] != y[0]) {
			return x[0] < y[0] ? -1 : 1;
		}
	}
	return (na > 0) - (nb > 0);
}

static int rdata_cmp(const uint8_t *a, uint16_t alen, const uint8_t *b, uint16_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0) {
		return c;
	}
	return (alen > blen) - (alen < blen);
}

static int rec_cmp(const rec_t *a, const rec_t *b)
{
	if (a->owner_len != b->owner_len || memcmp(a->owner, b->owner, a->owner_len) != 0) {
		int c = name_cmp(a->owner, b->owner);
		if (c != 0) {
			return c;
		}
	}
	if (a->type != b->type) {
		return a->type < b->type ? -1 : 1;
	}
	if (a->rclass != b->rclass) {
		return a->rclass < b->rclass ? -1 : 1;
	}
	return rdata_cmp(a->rdata, a->rdlen, b->rdata, b->rdlen);
}

/*
 * Bytes [depth, depth + 8) of the owner's order key, big-endian, zero
 * padded. The key lists the labels below the origin from the top down, each
 * followed by a 0 byte; inside a label, octets 0 and 1 become 1 1 and 1 2
 * so that 0 stays lower than any label octet. memcmp on such keys is exactly
 * RFC 4034 order (knot_dname_lf is not, for labels holding a 0 octet), and a
 * zero-padded prefix never sorts two names the wrong way round.
 */
static uint64_t owner_key(const ss_zone_t *z, const uint8_t *owner, size_t depth)
{
	const uint8_t *lab[KNOT_DNAME_MAXLABELS];
	size_t n = name_labels(owner, lab);
	size_t nrel = n - z->origin_labels, pos = 0, end = depth + 8;
	uint64_t key = 0;
#define KEY_PUT(byte)                                                                              \
	do {                                                                                       \
		if (pos >= depth && pos < end) {                                                   \
			key |= (uint64_t)(byte) << (8 * (end - 1 - pos));                          \
		}                                                                                  \
		pos++;                                                                             \
	} while (0)
	for (size_t i = nrel; i > 0 && pos < end; i--) {
		const uint8_t *l = lab[i - 1];
		for (size_t k = 1; k <= l[0] && pos < end; k++) {
			if (l[k] <= 1) {
				KEY_PUT(1);
			}
			KEY_PUT(l[k] <= 1 ? l[k] + 1 : l[k]);
		}
		KEY_PUT(0);
	}
#undef KEY_PUT
	return key;
}

ss_zone_t *ss_zone_new(const knot_dname_t *origin)
{
	if (origin == NULL ||
	    knot_dname_wire_check(origin, origin + KNOT_DNAME_MAXLEN, NULL) <= 0) {
		return NULL;
	}
	ss_zone_t *z = calloc(1, sizeof(*z));
	if (z == NULL) {
		return NULL;
	}
	z->scratch = malloc(knot_rdata_size(UINT16_MAX));
	if (z->scratch == NULL) {
		free(z);
		return NULL;
	}
	z->origin_size = knot_dname_size(origin);
	memcpy(z->origin, origin, z->origin_size);
	knot_dname_to_lower(z->origin);
	z->origin_labels = knot_dname_labels(z->origin, NULL);
	z->soa = -1;
	return z;
}

void ss_zone_free(ss_zone_t *z)
{
	if (z == NULL) {
		return;
	}
	if (z->on_free != NULL) {
		z->on_free(z->on_free_arg);
	}
	free(z->arena);
	free(z->idx);
	free(z->scratch);
	free(z);
}

void zone_on_free(ss_zone_t *z, void (*fn)(void *arg), void *arg)
{
	z->on_free = fn;
	z->on_free_arg = arg;
}

const knot_dname_t *ss_zone_origin(const ss_zone_t *z)
{
	return z->origin;
}

bool zone_contains(const ss_zone_t *z, const knot_dname_t *owner, size_t osize)
{
	/* The origin's octets end the owner, starting at a label boundary. */
	if (osize < z->origin_size) {
		return false;
	}
	size_t off = osize - z->origin_size, p = 0;
	if (memcmp(owner + off, z->origin, z->origin_size) != 0) {
		return false;
	}
	while (p < off) {
		p += owner[p] + 1u;
	}
	return p == off;
}

/* Is rdata whole and well-formed for its type, as far as libknot's
 * canonicalization walks it? (knot_rrset_rr_to_canonical trusts it.) */
static bool rdata_ok(uint16_t type, const uint8_t *rd, uint16_t len)
{
	/* Empty rdata passes only where the type has no fixed fields: an SOA
	 * without rdata (class ANY/NONE in UPDATE, hence in packets) is no SOA. */
	const knot_rdata_descriptor_t *d = knot_get_rdata_descriptor(type);
	if (d->type_name == NULL) {
		d = knot_get_obsolete_rdata_descriptor(type);
	}
	const uint8_t *p = rd, *end = rd + len;
	for (const int *b = d->block_types; *b != KNOT_RDATA_WF_END; b++) {
		int step = *b;
		switch (*b) {
		case KNOT_RDATA_WF_COMPRESSIBLE_DNAME:
		case KNOT_RDATA_WF_DECOMPRESSIBLE_DNAME:
		case KNOT_RDATA_WF_FIXED_DNAME:
			step = p < end ? knot_dname_wire_check(p, end, NULL) : -1;
			break;
		case KNOT_RDATA_WF_NAPTR_HEADER:
			step = knot_naptr_header_size(p, end);
			break;
		case KNOT_RDATA_WF_REMAINDER:
			return true;
		default:
			step = end - p >= step ? step : -1;
			break;
		}
		if (step <= 0) {
			return false;
		}
		p += step;
	}
	return p == end;
}

static int grow(void **buf, size_t *cap, size_t need, size_t unit)
{
	if (need <= *cap) {
		return 0;
	}
	size_t ncap = *cap ? *cap : 4096 / unit + 1;
	while (ncap < need) {
		ncap *= 2;
	}
	void *n = realloc(*buf, ncap * unit);
	if (n == NULL) {
		return SS_ENOMEM;
	}
	*buf = n;
	*cap = ncap;
	return 0;
}

static int append(ss_zone_t *z, const rec_t *r)
{
	size_t size = ZONE_REC_HDR + r->owner_len + r->rdlen;
	if (grow((void **)&z->arena, &z->acap, z->alen + size, 1) != 0 ||
	    grow((void **)&z->idx, &z->cap, z->n + 1, sizeof(zone_entry_t)) != 0) {
		return SS_ENOMEM;
	}
	uint8_t *p = z->arena + z->alen;
	memcpy(p, &r->ttl, 4);
	memcpy(p + 4, &r->type, 2);
	memcpy(p + 6, &r->rclass, 2);
	memcpy(p + 8, &r->rdlen, 2);
	p[10] = r->owner_len;
	memcpy(p + ZONE_REC_HDR, r->owner, r->owner_len);
	memcpy(p + ZONE_REC_HDR + r->owner_len, r->rdata, r->rdlen);
	z->idx[z->n].off = z->alen;
	/* Records come in runs of one owner; its key is the same. */
	rec_t prev;
	if (z->n > 0) {
		rec_at(z, z->idx[z->n - 1].off, &prev);
	}
	if (z->n > 0 && prev.owner_len == r->owner_len &&
	    memcmp(prev.owner, r->owner, r->owner_len) == 0) {
		z->idx[z->n].key = z->idx[z->n - 1].key;
	} else {
		z->idx[z->n].key = owner_key(z, r->owner, 0);
	}
	z->n++;
	z->alen += size;
	return 0;
}

/* Canonical form of own (in place) and of rdata (into z->scratch). */
static int canonicalize(ss_zone_t *z, knot_dname_t *own, uint16_t type, const uint8_t *rdata,
                        uint16_t rdlen)
{
	z->scratch->len = rdlen;
	if (rdlen > 0) {
		memcpy(z->scratch->data, rdata, rdlen);
	}
	knot_rrset_t rr;
	knot_rrset_init(&rr, own, type, KNOT_CLASS_IN, 0);
	rr.rrs.count = 1;
	rr.rrs.size = knot_rdata_size(rdlen);
	rr.rrs.rdata = z->scratch;
	/* Lower-cases the owner too. */
	return knot_rrset_rr_to_canonical(&rr) == KNOT_EOK ? 0 : SS_EINVAL;
}

int zone_add(ss_zone_t *z, const knot_dname_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
             const uint8_t *rdata, uint16_t rdlen, bool *outside)
{
	*outside = false;
	if (z == NULL || owner == NULL || (rdata == NULL && rdlen > 0)) {
		return SS_EINVAL;
	}
	if (z->finished) {
		return SS_ESTATE;
	}
	int osize = knot_dname_wire_check(owner, owner + KNOT_DNAME_MAXLEN, NULL);
	if (osize <= 0 || !rdata_ok(type, rdata, rdlen)) {
		return SS_EINVAL;
	}
	knot_dname_storage_t own;
	memcpy(own, owner, osize);
	if (canonicalize(z, own, type, rdata, rdlen) != 0) {
		return SS_EINVAL;
	}
	if (!zone_contains(z, own, (size_t)osize)) {
		*outside = true;
		return SS_EINVAL;
	}
	rec_t r = {own, (uint8_t)osize, type, rclass, rdlen, ttl, z->scratch->data};
	z->stats.added++;
	return append(z, &r);
}

int ss_zone_add(ss_zone_t *z, const knot_dname_t *owner, uint16_t type, uint16_t rclass,
                uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	bool outside;
	return zone_add(z, owner, type, rclass, ttl, rdata, rdlen, &outside);
}

int ss_zone_add_rrset(ss_zone_t *z, const knot_rrset_t *rrset)
{
	if (rrset == NULL) {
		return SS_EINVAL;
	}
	knot_rdata_t *rd = rrset->rrs.rdata;
	for (uint16_t i = 0; i < rrset->rrs.count; i++) {
		int ret = ss_zone_add(z, rrset->owner, rrset->type, rrset->rclass, rrset->ttl,
		                      rd->data, rd->len);
		if (ret != 0) {
			return ret;
		}
		rd = knot_rdataset_next(rd);
	}
	return 0;
}

void zone_last_rdata(const ss_zone_t *z, const uint8_t **rdata, uint16_t *rdlen)
{
	rec_t r;
	rec_at(z, z->idx[z->n - 1].off, &r);
	*rdata = r.rdata;
	*rdlen = r.rdlen;
}

/* Stable LSD radix sort on the 64-bit key; passes over constant bytes are
 * skipped (most are, in the low bytes of short names). */
static void radix_sort(zone_entry_t *e, size_t n, zone_entry_t *tmp)
{
	static __thread size_t count[8][256];
	memset(count, 0, sizeof(count));
	for (size_t i = 0; i < n; i++) {
		for (int b = 0; b < 8; b++) {
			count[b][(e[i].key >> (8 * b)) & 0xff]++;
		}
	}
	zone_entry_t *src = e, *dst = tmp;
	for (int b = 0; b < 8; b++) {
		if (count[b][(e[0].key >> (8 * b)) & 0xff] == n) {
			continue;
		}
		size_t sum = 0;
		for (int v = 0; v < 256; v++) {
			size_t c = count[b][v];
			count[b][v] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++) {
			dst[count[b][(src[i].key >> (8 * b)) & 0xff]++] = src[i];
		}
		zone_entry_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != e) {
		memcpy(e, src, n * sizeof(*e));
	}
}

static int entry_cmp(const void *pa, const void *pb, void *arg)
{
	const ss_zone_t *z = arg;
	const zone_entry_t *a = pa, *b = pb;
	rec_t ra, rb;
	rec_at(z, a->off, &ra);
	rec_at(z, b->off, &rb);
	int c = rec_cmp(&ra, &rb);
	if (c != 0) {
		return c;
	}
	/* Equal records keep insertion order: the first TTL wins the dedupe. */
	return (a->off > b->off) - (a->off < b->off);
}

static void sort_runs(ss_zone_t *z, zone_entry_t *e, size_t n, zone_entry_t *tmp, size_t depth);

/* One run of equal key prefixes: refine with deeper key bytes while that
 * can still tell owners apart, else sort exactly. */
static void sort_run(ss_zone_t *z, zone_entry_t *e, size_t n, zone_entry_t *tmp, size_t depth)
{
	bool one_owner = true;
	rec_t first, r;
	rec_at(z, e[0].off, &first);
	if (n > RUN_REFINE_MIN && depth + 8 < KEY_MAX) {
		for (size_t k = 0; k < n; k++) {
			rec_at(z, e[k].off, &r);
			one_owner = one_owner && r.owner_len == first.owner_len &&
			            memcmp(r.owner, first.owner, r.owner_len) == 0;
			e[k].key = owner_key(z, r.owner, depth + 8);
		}
		if (!one_owner) {
			radix_sort(e, n, tmp);
			sort_runs(z, e, n, tmp, depth + 8);
			return;
		}
	}
	qsort_r(e, n, sizeof(*e), entry_cmp, z);
}

static void sort_runs(ss_zone_t *z, zone_entry_t *e, size_t n, zone_entry_t *tmp, size_t depth)
{
	size_t i = 0;
	while (i < n) {
		size_t j = i + 1;
		while (j < n && e[j].key == e[i].key) {
			j++;
		}
		if (j - i > 1) {
			sort_run(z, e + i, j - i, tmp, depth);
		}
		i = j;
	}
}

static void dedupe(ss_zone_t *z)
{
	if (z->n == 0) {
		return;
	}
	size_t out = 1;
	rec_t prev, cur;
	rec_at(z, z->idx[0].off, &prev);
	for (size_t i = 1; i < z->n; i++) {
		rec_at(z, z->idx[i].off, &cur);
		if (rec_cmp(&prev, &cur) != 0) {
			z->idx[out++] = z->idx[i];
			prev = cur;
		}
	}
	z->n = out;
}

/* The apex sorts first, so its SOA records are among the first ones. */
static int find_soa(ss_zone_t *z)
{
	size_t count = 0;
	rec_t r;
	for (size_t i = 0; i < z->n; i++) {
		rec_at(z, z->idx[i].off, &r);
		if (!knot_dname_is_equal(r.owner, z->origin)) {
			break;
		}
		/* Class IN sorts first; rdata_ok made its layout exact. */
		if (r.type == KNOT_RRTYPE_SOA && count++ == 0 && r.rclass == KNOT_CLASS_IN) {
			z->soa = (long)i;
		}
	}
	if (count == 0 || z->soa < 0) {
		return SS_ENOSOA;
	}
	return count > 1 ? SS_EMULTISOA : 0;
}

int ss_zone_finish(ss_zone_t *z)
{
	if (z == NULL) {
		return SS_EINVAL;
	}
	if (z->finished) {
		return SS_ESTATE;
	}
	double t0 = zone_now();
	if (z->n > 1) {
		zone_entry_t *tmp = malloc(z->n * sizeof(*tmp));
		if (tmp == NULL) {
			return SS_ENOMEM;
		}
		radix_sort(z->idx, z->n, tmp);
		sort_runs(z, z->idx, z->n, tmp, 0);
		free(tmp);
	}
	dedupe(z);
	z->finished = true;
	z->stats.sort_s = zone_now() - t0;
	return find_soa(z);
}

size_t ss_zone_count(const ss_zone_t *z)
{
	return z->finished ? z->n : 0;
}

void ss_zone_rr(const ss_zone_t *z, size_t i, ss_rr_t *out)
{
	rec_t r;
	rec_at(z, z->idx[i].off, &r);
	out->owner = r.owner;
	out->type = r.type;
	out->rclass = r.rclass;
	out->ttl = r.ttl;
	out->rdata = r.rdata;
	out->rdlen = r.rdlen;
}

int ss_zone_soa(const ss_zone_t *z, ss_rr_t *out)
{
	if (z == NULL || !z->finished || z->soa < 0) {
		return SS_ENOSOA;
	}
	ss_zone_rr(z, (size_t)z->soa, out);
	return 0;
}

/* Room for an SOA's rdata as a libknot rdata: two names and five numbers. */
#define SOA_RDATA_MAX (2 * KNOT_DNAME_MAXLEN + 20)

int ss_zone_soa_fields(const ss_zone_t *z, ss_zone_soa_t *out)
{
	ss_rr_t soa;
	int ret = ss_zone_soa(z, &soa);
	if (ret != 0) {
		return ret;
	}
	uint16_t buf[(SOA_RDATA_MAX + sizeof(knot_rdata_t)) / 2 + 1];
	knot_rdata_t *rd = (knot_rdata_t *)buf;
	if (soa.rdlen > SOA_RDATA_MAX) {
		return SS_ENOSOA;
	}
	knot_rdata_init(rd, soa.rdlen, soa.rdata);
	/* The names stay in the zone: canonical rdata has no compression. */
	out->mname = soa.rdata;
	out->rname = soa.rdata + (knot_soa_mailbox(rd) - rd->data);
	out->serial = knot_soa_serial(rd);
	out->refresh = knot_soa_refresh(rd);
	out->retry = knot_soa_retry(rd);
	out->expire = knot_soa_expire(rd);
	out->minimum = knot_soa_minimum(rd);
	out->ttl = soa.ttl;
	return 0;
}

int ss_zone_serial(const ss_zone_t *z, uint32_t *serial)
{
	ss_zone_soa_t f;
	int ret = ss_zone_soa_fields(z, &f);
	if (ret == 0) {
		*serial = f.serial;
	}
	return ret;
}

long ss_zone_find(const ss_zone_t *z, const knot_dname_t *owner, uint16_t type)
{
	if (z == NULL || !z->finished || owner == NULL) {
		return -1;
	}
	knot_dname_storage_t own;
	if (knot_dname_to_wire(own, owner, sizeof(own)) <= 0) {
		return -1;
	}
	knot_dname_to_lower(own);
	size_t lo = 0, hi = z->n;
	rec_t r;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		rec_at(z, z->idx[mid].off, &r);
		int c = name_cmp(r.owner, own);
		if (c < 0 || (c == 0 && r.type < type)) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (lo == z->n) {
		return -1;
	}
	rec_at(z, z->idx[lo].off, &r);
	return knot_dname_is_equal(r.owner, own) && r.type == type ? (long)lo : -1;
}

size_t ss_zone_out_of_zone(const ss_zone_t *z)
{
	return z->out_of_zone;
}

void ss_zone_stats(const ss_zone_t *z, ss_zone_stats_t *out)
{
	*out = z->stats;
	out->bytes = z->alen;
}

int ss_zone_rr_cmp(const ss_zone_t *a, size_t i, const ss_zone_t *b, size_t j)
{
	rec_t ra, rb;
	rec_at(a, a->idx[i].off, &ra);
	rec_at(b, b->idx[j].off, &rb);
	return rec_cmp(&ra, &rb);
}

static int diff_emit(int side, const ss_zone_t *z, size_t i, ss_diff_cb cb, void *arg,
                     size_t *count)
{
	(*count)++;
	return cb(side, z, i, arg);
}

int ss_zone_diff(const ss_zone_t *a, const ss_zone_t *b, bool ignore_ttl, ss_diff_cb cb, void *arg,
                 size_t *ndiff)
{
	size_t i = 0, j = 0, count = 0;
	int ret = 0;
	if (a == NULL || b == NULL || !a->finished || !b->finished || cb == NULL) {
		return SS_ESTATE;
	}
	while (ret == 0 && (i < a->n || j < b->n)) {
		int c = i == a->n ? 1 : j == b->n ? -1 : ss_zone_rr_cmp(a, i, b, j);
		if (c < 0) {
			ret = diff_emit(-1, a, i++, cb, arg, &count);
		} else if (c > 0) {
			ret = diff_emit(1, b, j++, cb, arg, &count);
		} else {
			ss_rr_t ra, rb;
			ss_zone_rr(a, i, &ra);
			ss_zone_rr(b, j, &rb);
			if (!ignore_ttl && ra.ttl != rb.ttl) {
				ret = diff_emit(-1, a, i, cb, arg, &count);
				ret = ret ? ret : diff_emit(1, b, j, cb, arg, &count);
			}
			i++;
			j++;
		}
	}
	if (ndiff != NULL) {
		*ndiff = count;
	}
	return ret;
}

/* "owner TTL CLASS TYPE " with libknot's names for class and type. */
static int rr_header(const ss_rr_t *rr, char *buf, size_t len)
{
	char cls[32], type[32];
	if (knot_dname_to_str(buf, rr->owner, len) == NULL ||
	    knot_rrclass_to_string(rr->rclass, cls, sizeof(cls)) < 0 ||
	    knot_rrtype_to_string(rr->type, type, sizeof(type)) < 0) {
		return SS_ELIMIT;
	}
	size_t used = strlen(buf);
	int n = snprintf(buf + used, len - used, " %u %s %s ", rr->ttl, cls, type);
	if (n < 0 || (size_t)n >= len - used) {
		return SS_ELIMIT;
	}
	return (int)(used + (size_t)n);
}

/* libknot's presentation of the rdata, or RFC 3597 generic form where it
 * has none; returns the length or an SS_E* code. */
static int rr_rdata(const ss_rr_t *rr, char *buf, size_t len)
{
	/* The dump reads the rdata through an rdataset: give it an aligned copy
	 * (on the stack: readers of a finished zone never write to it). */
	uint16_t rdbuf[2 + UINT16_MAX / 2];
	knot_rdata_t *rd = (knot_rdata_t *)rdbuf;
	rd->len = rr->rdlen;
	memcpy(rd->data, rr->rdata, rr->rdlen);
	knot_rrset_t rrset;
	knot_rrset_init(&rrset, (knot_dname_t *)rr->owner, rr->type, rr->rclass, rr->ttl);
	rrset.rrs.count = 1;
	rrset.rrs.size = knot_rdata_size(rr->rdlen);
	rrset.rrs.rdata = rd;
	knot_dump_style_t style = KNOT_DUMP_STYLE_DEFAULT;
	style.wrap = false;
	int n = knot_rrset_txt_dump_data(&rrset, 0, buf, len, &style);
	if (n < 0) {
		style.generic = true;
		n = knot_rrset_txt_dump_data(&rrset, 0, buf, len, &style);
	}
	if (n < 0) {
		return n == KNOT_ESPACE ? SS_ELIMIT : SS_EINVAL;
	}
	return n;
}

int ss_zone_rr_to_text(const ss_zone_t *z, size_t i, char *buf, size_t len)
{
	ss_rr_t rr;
	if (z == NULL || !z->finished || i >= z->n || buf == NULL || len == 0) {
		return SS_EINVAL;
	}
	ss_zone_rr(z, i, &rr);
	int head = rr_header(&rr, buf, len);
	if (head < 0) {
		return head;
	}
	int n = rr_rdata(&rr, buf + head, len - (size_t)head);
	if (n < 0) {
		return n;
	}
	/* libknot leaves a blank after some types (CAA, URI), and the header
	 * ends in one that empty rdata leaves last. */
	n += head;
	while (n > 0 && buf[n - 1] == ' ') {
		buf[--n] = '\0';
	}
	return n;
}
