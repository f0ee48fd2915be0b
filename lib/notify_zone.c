/*
 * NOTIFY for a checked zone: the SOA in the answer section is the one the
 * reference server serves, the version secondaries should fetch.
 */
#include <soasync/error.h>
#include <soasync/notify.h>

int ss_notify_zone(ss_engine_t *e, const ss_zone_result_t *res, const ss_addr_t *targets, size_t n,
                   const knot_tsig_key_t *tsig, unsigned deadline_ms, ss_notify_cb cb, void *arg)
{
	long ref = ss_zone_reference_server(res);
	if (ref < 0) {
		return SS_ENOSOA;
	}
	knot_rrset_t *soa = ss_soa_to_rrset(res->obs.zone, &res->obs.servers[ref].soa);
	if (soa == NULL) {
		return SS_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (ss_notify_send(e, res->obs.zone, soa, &targets[i], tsig, deadline_ms, cb,
		                   arg) != 0) {
			ss_notify_result_t r = {.target = targets[i],
			                        .status = SS_NOTIFY_NOANSWER,
			                        .rcode = -1,
			                        .error = SS_ENOMEM};
			cb(&r, arg);
		}
	}
	knot_rrset_free(soa, NULL);
	return 0;
}
