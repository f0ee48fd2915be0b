/*
 * Zone transfers as a stream of checked records. AXFR ends with the second
 * SOA of the zone; an IXFR answer is recognized by its second record (a SOA:
 * difference sequences, in which SOAs come in pairs, so the closing SOA is
 * the one at an odd position carrying the new serial; anything else: a whole
 * zone in AXFR form).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/error.h>
#include <soasync/serial.h>
#include <soasync/units.h>
#include <soasync/xfr.h>

#include "wire_pkt.h"
#include "wire_rdata.h"
#include "xfr_int.h"

#define DEFAULT_MAX_RECORDS 50000000u
#define DEFAULT_MAX_BYTES   (4ull << 30)

typedef ss_xfr_stream_t xfr_t;

static int fail(xfr_t *x, int error, const char *fmt, const char *arg)
{
	snprintf(x->res.detail, sizeof(x->res.detail), fmt, arg ? arg : "");
	return error;
}

static const char *rcode_name(int rcode)
{
	const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, rcode);
	return l ? l->name : "unknown RCODE";
}

/* The server rejected our TSIG key: why (RFC 8945 5.2). */
static const char *tsig_error_text(uint16_t terr)
{
	switch (terr) {
	case 0:
		return "";
	case KNOT_RCODE_BADSIG:
		return " (TSIG BADSIG: the server has another secret for this key)";
	case KNOT_RCODE_BADKEY:
		return " (TSIG BADKEY: the server does not know this key name or algorithm)";
	case KNOT_RCODE_BADTIME:
		return " (TSIG BADTIME: the clocks differ)";
	default:
		return " (TSIG error)";
	}
}

static bool is_zone_soa(const xfr_t *x, const knot_rrset_t *rr)
{
	return rr->type == KNOT_RRTYPE_SOA && knot_dname_is_case_equal(rr->owner, x->zone) &&
	       rr->rrs.count == 1 && ss_rdata_soa_ok(rr->rrs.rdata);
}

/* The first record: the zone's SOA, whose serial the transfer carries. */
static int first_record(xfr_t *x, const knot_rrset_t *rr)
{
	if (!is_zone_soa(x, rr)) {
		return fail(x, SS_EXFR, "the first record is not the zone's SOA%s", NULL);
	}
	x->res.serial = knot_soa_serial(rr->rrs.rdata);
	return 0;
}

/* A SOA after the first one: returns 1 when it closes the transfer. */
static int later_soa(xfr_t *x, const knot_rrset_t *rr, bool second)
{
	uint32_t serial = knot_soa_serial(rr->rrs.rdata);
	if (second && x->o.type == KNOT_RRTYPE_IXFR) {
		x->diff_mode = true;
		x->res.ixfr = SS_IXFR_INCREMENTAL;
	}
	x->soas_after_first++;
	if (!x->diff_mode) {
		if (serial != x->res.serial) {
			return fail(x, SS_EXFR,
			            "the closing SOA has another serial than the first%s", NULL);
		}
		return 1;
	}
	/* Difference sequences: SOA(old) deletions SOA(new) additions, repeated. */
	return (x->soas_after_first % 2 == 1 && serial == x->res.serial) ? 1 : 0;
}

static int one_record(xfr_t *x, const knot_rrset_t *rr)
{
	bool first = x->res.records == 0;
	x->res.records += rr->rrs.count;
	x->res.bytes += knot_rrset_size(rr);
	if (x->res.records > x->o.max_records || x->res.bytes > x->o.max_bytes) {
		return fail(x, SS_ELIMIT, "the transfer is larger than the limit%s", NULL);
	}
	if (first) {
		return first_record(x, rr);
	}
	if (knot_dname_in_bailiwick(rr->owner, x->zone) < 0) {
		return fail(x, SS_EXFR, "a record lies outside the zone%s", NULL);
	}
	if (is_zone_soa(x, rr)) {
		int ret = later_soa(x, rr, x->res.records == 2);
		if (ret != 0) {
			return ret;
		}
	} else if (x->res.records == 2 && x->o.type == KNOT_RRTYPE_IXFR) {
		x->res.ixfr = SS_IXFR_AXFR;
	}
	return 0;
}

/* An IXFR whose first message is the SOA alone: not newer than ours, we are
 * up to date; newer, either the server keeps no history (NSD: nothing more
 * comes) or the whole zone follows in later messages (PowerDNS): the
 * engine waits for the next message (later records set the kind again). */
static int single_soa(xfr_t *x)
{
	bool newer = ss_serial_cmp(x->res.serial, x->o.ixfr_serial) == SS_SERIAL_GREATER;
	x->res.ixfr = newer ? SS_IXFR_SINGLE_SOA : SS_IXFR_UP_TO_DATE;
	return newer ? SS_STREAM_MAYBE_DONE : 1;
}

int ss_xfr_stream_message(const knot_pkt_t *pkt, void *arg)
{
	xfr_t *x = arg;
	x->res.messages++;
	if (x->res.messages == 1) {
		/* A TSIG error makes it an error answer whatever the header says. */
		x->res.rcode = ss_pkt_rcode(pkt);
		if (x->res.rcode != KNOT_RCODE_NOERROR) {
			snprintf(x->res.detail, sizeof(x->res.detail), "%s%s",
			         rcode_name(x->res.rcode), tsig_error_text(ss_pkt_tsig_error(pkt)));
			return SS_EREFUSED;
		}
	}
	const knot_pktsection_t *an = knot_pkt_section(pkt, KNOT_ANSWER);
	if (an->count == 0) {
		return fail(x, SS_EXFR, "a message without records%s", NULL);
	}
	for (uint16_t i = 0; i < an->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(an, i);
		int ret = one_record(x, rr);
		if (ret < 0) {
			return ret;
		}
		if (ret == 1) {
			return i + 1 == an->count
			           ? 1
			           : fail(x, SS_EXFR, "records after the closing SOA%s", NULL);
		}
		if (x->rr_cb != NULL && (ret = x->rr_cb(rr, x->arg)) < 0) {
			return fail(x, ret, "%s", ss_strerror(ret));
		}
	}
	if (x->o.type == KNOT_RRTYPE_IXFR && x->res.messages == 1 && x->res.records == 1) {
		return single_soa(x);
	}
	return 0;
}

/* "1 GiB", "64 MiB", "512 KiB" or bytes. */
static const char *size_text(uint64_t n, char *buf, size_t len)
{
	static const char *units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
	unsigned u = 0;
	while (u + 1 < sizeof(units) / sizeof(units[0]) && n >= 1024 && n % 1024 == 0) {
		n /= 1024;
		u++;
	}
	snprintf(buf, len, "%llu %s", (unsigned long long)n, units[u]);
	return buf;
}

/* Why the engine ended the stream, naming the limit and its option. */
static void engine_error_detail(xfr_t *x, int error)
{
	const ss_engine_opts_t *eo = ss_engine_get_opts(x->e);
	char v[32];
	switch (error) {
	case SS_ELIMIT:
		fail(x, error,
		     "larger than the %s all transfers may hold at once "
		     "(--max-transfer-size)",
		     size_text(eo->xfr_budget, v, sizeof(v)));
		break;
	case SS_EDEADLINE:
		fail(x, error,
		     "deadline passed: the transfer took longer than %s "
		     "(--transfer-deadline)",
		     ss_duration_format(x->o.limit_ms ? x->o.limit_ms : eo->xfr_deadline_ms, v,
		                        sizeof(v)));
		break;
	case SS_ETIMEOUT:
		fail(
		    x, error, "timed out: no byte for %s",
		    ss_duration_format(x->o.idle_ms ? x->o.idle_ms : eo->timeout_ms, v, sizeof(v)));
		break;
	default:
		fail(x, error, "%s", ss_strerror(error));
		break;
	}
}

static void on_done(int error, void *arg)
{
	xfr_t *x = arg;
	x->res.error = error;
	x->res.duration_us = (uv_hrtime() - x->start) / 1000;
	if (error != 0 && x->res.detail[0] == '\0') {
		engine_error_detail(x, error);
	}
	if (error != 0 && x->o.type == KNOT_RRTYPE_IXFR) {
		x->res.ixfr = SS_IXFR_NONE;
	}
	x->res.signed_ok = error == 0 && x->o.tsig != NULL;
	x->done_cb(&x->res, x->arg);
	ss_xfr_stream_clear(x);
	free(x);
}

/* The SOA an IXFR query carries: only the serial matters to servers. */
static knot_rrset_t *ixfr_soa(const knot_dname_t *zone, uint32_t serial)
{
	knot_rrset_t *rr = knot_rrset_new(zone, KNOT_RRTYPE_SOA, KNOT_CLASS_IN, 0, NULL);
	uint8_t rd[2 + 20] = {0};
	knot_wire_write_u32(rd + 2, serial);
	if (rr != NULL && knot_rrset_add_rdata(rr, rd, sizeof(rd), NULL) != KNOT_EOK) {
		knot_rrset_free(rr, NULL);
		rr = NULL;
	}
	return rr;
}

int ss_xfr_stream_init(ss_xfr_stream_t *x, const ss_xfr_opts_t *opts, ss_xfr_rr_cb rr_cb, void *arg)
{
	memset(x, 0, sizeof(*x));
	if (opts->zone == NULL || (x->zone = knot_dname_copy(opts->zone, NULL)) == NULL) {
		return opts->zone ? SS_ENOMEM : SS_EINVAL;
	}
	x->o = *opts;
	x->o.zone = x->zone;
	x->o.type = opts->type ? opts->type : KNOT_RRTYPE_AXFR;
	x->o.max_records = opts->max_records ? opts->max_records : DEFAULT_MAX_RECORDS;
	x->o.max_bytes = opts->max_bytes ? opts->max_bytes : DEFAULT_MAX_BYTES;
	x->rr_cb = rr_cb;
	x->arg = arg;
	x->res.rcode = -1;
	return 0;
}

void ss_xfr_stream_clear(ss_xfr_stream_t *x)
{
	free(x->zone);
	x->zone = NULL;
}

int ss_xfr_start(ss_engine_t *e, const ss_xfr_opts_t *opts, ss_xfr_rr_cb rr_cb,
                 ss_xfr_done_cb done_cb, void *arg)
{
	if (done_cb == NULL) {
		return SS_EINVAL;
	}
	xfr_t *x = calloc(1, sizeof(*x));
	if (x == NULL) {
		return SS_ENOMEM;
	}
	int ret = ss_xfr_stream_init(x, opts, rr_cb, arg);
	if (ret != 0) {
		free(x);
		return ret;
	}
	x->done_cb = done_cb;
	x->e = e;
	x->start = uv_hrtime();
	knot_rrset_t *auth =
	    x->o.type == KNOT_RRTYPE_IXFR ? ixfr_soa(x->zone, opts->ixfr_serial) : NULL;
	ss_query_t q = {
	    .server = opts->server,
	    .qname = x->zone,
	    .qtype = x->o.type,
	    .authority = auth,
	    .tsig = opts->tsig,
	};
	ss_stream_opts_t so = {
	    .idle_ms = opts->idle_ms, .limit_ms = opts->limit_ms, .keep = opts->keep};
	ret = (x->o.type == KNOT_RRTYPE_IXFR && auth == NULL)
	          ? SS_ENOMEM
	          : ss_engine_stream(e, &q, &so, ss_xfr_stream_message, on_done, x);
	knot_rrset_free(auth, NULL);
	if (ret != 0) {
		ss_xfr_stream_clear(x);
		free(x);
	}
	return ret;
}
