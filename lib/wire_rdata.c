#include "wire_rdata.h"

bool ss_rdata_soa_ok(const knot_rdata_t *rd)
{
	const uint8_t *end = rd->data + rd->len;
	int m = knot_dname_wire_check(rd->data, end, NULL);
	if (m <= 0) {
		return false;
	}
	int r = knot_dname_wire_check(rd->data + m, end, NULL);
	return r > 0 && (size_t)m + (size_t)r + 20 == rd->len;
}

bool ss_rdata_name_ok(const knot_rdata_t *rd)
{
	int n = knot_dname_wire_check(rd->data, rd->data + rd->len, NULL);
	return n > 0 && (size_t)n == rd->len;
}
