#include <soasync/serial.h>
#include <soasync/wait.h>

/* Every expected record as expected (vacuous without expectations). */
static bool expect_ok(const ss_server_obs_t *s, size_t nexpect)
{
	if (s->nexpect < nexpect) {
		return nexpect == 0;
	}
	for (size_t k = 0; k < nexpect; k++) {
		ss_expect_status_t st = s->expect[k].status;
		if (st != SS_EXPECT_MATCH && st != SS_EXPECT_ABSENT) {
			return false;
		}
	}
	return true;
}

ss_wait_state_t ss_wait_server(const ss_server_obs_t *s, const ss_wait_target_t *t)
{
	if (!ss_verdict_counts(s->verdict)) {
		return SS_WAIT_IGNORED;
	}
	/* The target is a serial fixed at the start, not the reference, which
	 * moves when the primary does: "this serial or later" is the question. */
	if (s->has_soa) {
		ss_serial_order_t o = ss_serial_cmp(s->soa.serial, t->serial);
		bool later = o == SS_SERIAL_EQUAL || o == SS_SERIAL_GREATER;
		if (!expect_ok(s, t->nexpect)) {
			return SS_WAIT_MISSING;
		}
		return later ? SS_WAIT_AT_TARGET : SS_WAIT_BEHIND;
	}
	/* No usable answer at all, whether the server's doing or ours (out of
	 * sockets: not asked). */
	return s->verdict == SS_VERDICT_UNREACHABLE || s->verdict == SS_VERDICT_LOCAL_ERROR
	           ? SS_WAIT_DEAD
	           : SS_WAIT_BEHIND;
}

ss_wait_tally_t ss_wait_tally(const ss_zone_result_t *res, const ss_wait_target_t *t)
{
	ss_wait_tally_t n = {0, 0, 0, 0};
	for (size_t i = 0; i < res->obs.nservers; i++) {
		switch (ss_wait_server(&res->obs.servers[i], t)) {
		case SS_WAIT_AT_TARGET:
			n.ok++;
			break;
		case SS_WAIT_DEAD:
			n.dead++;
			break;
		case SS_WAIT_BEHIND:
		case SS_WAIT_MISSING:
			n.behind++;
			break;
		case SS_WAIT_IGNORED:
			continue;
		}
		n.total++;
	}
	return n;
}

ss_wait_verdict_t ss_wait_verdict(const ss_wait_target_t *t, const ss_wait_tally_t *n)
{
	bool done = false;
	switch (t->dead) {
	case SS_DEAD_IGNORE:
		done = n->behind == 0 && n->ok > 0;
		break;
	case SS_DEAD_QUORUM:
		done = n->ok >= t->quorum;
		break;
	case SS_DEAD_FAIL:
		done = n->ok == n->total && n->total > 0;
		break;
	}
	if (!done) {
		return SS_WAIT_NOT_YET;
	}
	if (n->ok == n->total) {
		return SS_WAIT_ALL;
	}
	return t->dead == SS_DEAD_QUORUM ? SS_WAIT_QUORUM : SS_WAIT_ANSWERING;
}
