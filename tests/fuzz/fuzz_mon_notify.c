/*
 * Fuzz target: one untrusted packet to the monitor's NOTIFY listener
 * (knot_pkt_parse, the checks, the answer, TSIG verification with a
 * configured key). An answer, when there is one, must be a well-formed
 * response to the same query ID.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/xfr.h>

#include "monitor/mon_int.h"

static bool known(const char *zone, void *arg)
{
	(void)arg;
	return strcmp(zone, "example.test.") == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static knot_tsig_key_t key;
	static bool have_key;
	static ss_mon_prefix_t allow[2];
	if (!have_key) {
		ss_tsig_from_string("hmac-sha256:mon-key:c29hc3luYyBtb25pdG9yIHRlc3Qga2V5ISEhISE=",
		                    &key);
		mon_prefix_parse("127.0.0.0/8", &allow[0]);
		mon_prefix_parse("::1", &allow[1]);
		have_key = true;
	}
	/* The first byte picks the sender and whether a key is required. */
	if (size < 1) {
		return 0;
	}
	ss_addr_t from;
	ss_addr_parse(&from, data[0] & 1 ? "127.0.0.1" : "192.0.2.1", 53);
	mon_notify_ctx_t ctx = {
	    .allow = allow, .nallow = 2, .tsig = data[0] & 2 ? &key : NULL, .known = known};
	uint8_t out[1024];
	size_t outlen = 0;
	mon_notify_msg_t msg;
	mon_notify_handle(&ctx, data + 1, size - 1, &from, out, &outlen, &msg);
	if (outlen > 0) {
		knot_pkt_t *a = knot_pkt_new(out, outlen, NULL);
		if (a == NULL || knot_pkt_parse(a, 0) != KNOT_EOK || !knot_wire_get_qr(out) ||
		    knot_wire_get_id(out) != knot_wire_get_id(data + 1) ||
		    (msg.result == SS_MON_NOTIFY_ACCEPTED) != (knot_wire_get_rcode(out) == 0)) {
			abort();
		}
		knot_pkt_free(a);
	}
	return 0;
}
