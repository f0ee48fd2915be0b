#include <stdlib.h>

#include <soasync/error.h>
#include <soasync/notify.h>

#define RETRY_GAP_MS 250

typedef struct {
	ss_engine_t *e;
	uv_timer_t timer;
	uint64_t last_submit;
	knot_dname_t *zone;
	knot_rrset_t *soa;
	const knot_tsig_key_t *tsig;
	uint64_t deadline;
	ss_notify_result_t res;
	ss_notify_cb cb;
	void *arg;
} notify_t;

const char *ss_notify_status_name(ss_notify_status_t st)
{
	switch (st) {
	case SS_NOTIFY_ACKED:
		return "acknowledged";
	case SS_NOTIFY_REFUSED:
		return "refused";
	case SS_NOTIFY_NOANSWER:
		break;
	}
	return "no answer";
}

const char *ss_tsig_error_name(int tsig_error)
{
	switch (tsig_error) {
	case KNOT_RCODE_BADSIG:
		return "BADSIG";
	case KNOT_RCODE_BADKEY:
		return "BADKEY";
	case KNOT_RCODE_BADTIME:
		return "BADTIME";
	case KNOT_RCODE_BADTRUNC:
		return "BADTRUNC";
	default:
		return NULL;
	}
}

static int submit(notify_t *n);

static void freed(uv_handle_t *h)
{
	notify_t *n = h->data;
	knot_rrset_free(n->soa, NULL);
	free(n->zone);
	free(n);
}

static void finish(notify_t *n)
{
	n->cb(&n->res, n->arg);
	uv_close((uv_handle_t *)&n->timer, freed);
}

static void resubmit(uv_timer_t *t)
{
	notify_t *n = t->data;
	if (submit(n) != 0) {
		finish(n);
	}
}

static void answered(const ss_response_t *r, void *arg)
{
	notify_t *n = arg;
	n->res.rtt_us = r->rtt_us;
	if (r->error == 0) {
		/* An answer with a TSIG error is no acknowledgement, whatever its
		 * header says (the engine reports it as NOTAUTH then); with a key,
		 * only a verified MAC acknowledges. */
		n->res.tsig_error = r->tsig_error;
		n->res.rcode = r->rcode;
		bool acked = r->rcode == KNOT_RCODE_NOERROR && r->tsig_error == 0 &&
		             (n->tsig == NULL || r->signed_ok);
		n->res.status = acked ? SS_NOTIFY_ACKED : SS_NOTIFY_REFUSED;
		finish(n);
		return;
	}
	n->res.error = r->error;
	uint64_t now = uv_hrtime();
	if (now >= n->deadline || r->error == SS_ECANCELED) {
		finish(n);
		return;
	}
	/* A fast failure (port closed) is retried after a pause, not in a loop. */
	uint64_t since = (now - n->last_submit) / 1000000u;
	uv_timer_start(&n->timer, resubmit, since >= RETRY_GAP_MS ? 0 : RETRY_GAP_MS - since, 0);
}

static int submit(notify_t *n)
{
	/* Every try together fits in what is left of the deadline. */
	const ss_engine_opts_t *eo = ss_engine_get_opts(n->e);
	uint64_t now = uv_hrtime();
	uint64_t left_ms = n->deadline > now ? (n->deadline - now) / 1000000u : 0;
	unsigned per_try = eo->timeout_ms;
	if ((uint64_t)per_try * eo->tries > left_ms) {
		per_try = (unsigned)(left_ms / eo->tries);
	}
	ss_query_t q = {
	    .server = n->res.target,
	    .qname = n->zone,
	    .qtype = KNOT_RRTYPE_SOA,
	    .opcode = KNOT_OPCODE_NOTIFY,
	    .answer = n->soa,
	    .tsig = n->tsig,
	    .timeout_ms = per_try > 50 ? per_try : 50,
	};
	n->res.attempts++;
	n->last_submit = uv_hrtime();
	return ss_engine_query(n->e, &q, answered, n);
}

int ss_notify_send(ss_engine_t *e, const knot_dname_t *zone, const knot_rrset_t *soa,
                   const ss_addr_t *target, const knot_tsig_key_t *tsig, unsigned deadline_ms,
                   ss_notify_cb cb, void *arg)
{
	if (zone == NULL || soa == NULL || target == NULL || cb == NULL) {
		return SS_EINVAL;
	}
	notify_t *n = calloc(1, sizeof(*n));
	if (n == NULL) {
		return SS_ENOMEM;
	}
	n->e = e;
	n->zone = knot_dname_copy(zone, NULL);
	n->soa = knot_rrset_copy(soa, NULL);
	n->tsig = tsig;
	n->deadline = uv_hrtime() + (uint64_t)deadline_ms * 1000000u;
	n->res.target = *target;
	n->res.status = SS_NOTIFY_NOANSWER;
	n->res.rcode = -1;
	n->cb = cb;
	n->arg = arg;
	uv_timer_init(ss_engine_loop(e), &n->timer);
	n->timer.data = n;
	int ret = (n->zone && n->soa) ? submit(n) : SS_ENOMEM;
	if (ret != 0) {
		uv_close((uv_handle_t *)&n->timer, freed);
	}
	return ret;
}
