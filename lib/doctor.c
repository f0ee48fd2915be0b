#include <stdio.h>
#include <string.h>

#include <soasync/doctor.h>
#include <soasync/error.h>
#include <soasync/notify.h>
#include <soasync/serial.h>

/* A primary learned only from the MNAME and not in the NS set does not count. */
static bool counts(const ss_zone_result_t *res, const ss_server_obs_t *s)
{
	return (s->origin & ~(unsigned)SS_ORIGIN_PRIMARY) != 0 || res->obs.primary_given ||
	       s->has_soa;
}

bool ss_zone_converged(const ss_zone_result_t *res, bool content)
{
	const ss_zone_obs_t *o = &res->obs;
	if (!res->has_reference || o->nservers == 0) {
		return false;
	}
	for (size_t i = 0; i < o->nservers; i++) {
		const ss_server_obs_t *s = &o->servers[i];
		if (!counts(res, s)) {
			continue;
		}
		if (!s->has_soa || s->soa.serial != res->reference_serial ||
		    (content && s->content_differs)) {
			return false;
		}
	}
	return true;
}

size_t ss_zone_laggards(const ss_zone_result_t *res, bool all, ss_addr_t *out, size_t cap)
{
	const ss_zone_obs_t *o = &res->obs;
	size_t n = 0;
	for (size_t i = 0; i < o->nservers && n < cap; i++) {
		const ss_server_obs_t *s = &o->servers[i];
		if (s->is_primary || !(s->origin & ~(unsigned)SS_ORIGIN_PRIMARY)) {
			continue;
		}
		ss_serial_order_t ord = s->has_soa && res->has_reference
		                            ? ss_serial_cmp(s->soa.serial, res->reference_serial)
		                            : SS_SERIAL_EQUAL;
		if (all || ord == SS_SERIAL_LESS || ord == SS_SERIAL_UNDEFINED ||
		    s->kind == SS_ANS_SERVFAIL) {
			out[n++] = s->addr;
		}
	}
	return n;
}

int ss_doctor_notify_refused(ss_zone_result_t *res, const ss_server_obs_t *s, int rcode,
                             int tsig_error)
{
	char a[SS_ADDR_STRLEN];
	const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, rcode);
	const char *te = ss_tsig_error_name(tsig_error);
	ss_addr_format(&s->addr, a, sizeof(a));
	return ss_result_add_finding(
	    res, SS_F_NOTIFY_REFUSED, SS_SEV_WARNING, &s->addr, 1, ss_fix_allow_notify(s->vendor),
	    "%s%s%s%s refused the NOTIFY (%s%s%s): it will only catch up at its next refresh; "
	    "check that it accepts NOTIFY from the primary (this host's address is not the "
	    "primary's, so a refusal here is only a hint)",
	    s->name ? s->name : "", s->name ? " (" : "", a, s->name ? ")" : "",
	    l ? l->name : "error", te ? ", TSIG " : "", te ? te : "");
}

int ss_doctor_not_transferring(ss_zone_result_t *res, const ss_server_obs_t *s, unsigned waited_s)
{
	char a[SS_ADDR_STRLEN], fix[768];
	ss_addr_format(&s->addr, a, sizeof(a));
	snprintf(fix, sizeof(fix),
	         "check %s; and on the primary, that %s may transfer the zone (BIND "
	         "allow-transfer, NSD provide-xfr, Knot acl action: transfer), with its TSIG "
	         "key; the secondary's log names the refusal (e.g. 'failed while receiving "
	         "responses: REFUSED', 'refused, no acl matches', 'NOTAUTH')",
	         ss_fix_transfer_source(s->vendor), a);
	return ss_result_add_finding(
	    res, SS_F_SECONDARY_NOT_TRANSFERRING, SS_SEV_CRITICAL, &s->addr, 1, fix,
	    "%s%s%s%s acknowledged the NOTIFY but still serves %u after %u s: its transfers "
	    "are probably refused by the primary, or it pulls from another primary",
	    s->name ? s->name : "", s->name ? " (" : "", a, s->name ? ")" : "", s->soa.serial,
	    waited_s);
}
