/*
 * Internal: the zone's storage, shared by zone.c (arena, order, diff),
 * zone_load.c (master files) and zone_digest.c (digests, ZONEMD).
 *
 * A record lives in the arena at some offset as
 *   ttl u32 | type u16 | class u16 | rdlen u16 | owner length u8 | owner | rdata
 * in host byte order, unaligned (read with memcpy), owner and rdata in
 * canonical form. The index holds one entry per record: its offset and a
 * 64-bit order key (8 bytes of the owner's order key, see zone.c).
 */
#ifndef SOASYNC_ZONE_INT_H
#define SOASYNC_ZONE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <soasync/zone.h>

#define ZONE_REC_HDR 11

typedef struct {
	uint64_t key; /* order key bytes [depth, depth + 8) of the owner, big-endian */
	uint64_t off; /* arena offset; also the insertion order */
} zone_entry_t;

struct ss_zone {
	knot_dname_storage_t origin; /* lower case */
	size_t origin_size;
	size_t origin_labels;
	uint8_t *arena;
	size_t alen, acap;
	zone_entry_t *idx;
	size_t n, cap;
	knot_rdata_t *scratch; /* room for one rdata of 65535 bytes */
	bool finished;
	long soa; /* index of the apex SOA, -1 none */
	size_t out_of_zone;
	ss_zone_stats_t stats;
	ss_zone_load_info_t info;
	void (*on_free)(void *arg); /* see zone_on_free() */
	void *on_free_arg;
};

/* owner (lower case, osize octets) lies at or below the origin. */
bool zone_contains(const ss_zone_t *z, const knot_dname_t *owner, size_t osize);

/* ss_zone_add that tells records outside the origin (*outside, SS_EINVAL)
 * from malformed ones. */
int zone_add(ss_zone_t *z, const knot_dname_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
             const uint8_t *rdata, uint16_t rdlen, bool *outside);

/* The rdata of the most recently added record (canonical form). */
void zone_last_rdata(const ss_zone_t *z, const uint8_t **rdata, uint16_t *rdlen);

/* Call fn(arg) when z is freed: a transferred zone gives its share of the
 * transfer memory budget back (lib/xfr_zone.c). */
void zone_on_free(ss_zone_t *z, void (*fn)(void *arg), void *arg);

/* Monotonic clock in seconds. */
double zone_now(void);

#endif
