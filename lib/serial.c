#include <soasync/error.h>
#include <soasync/serial.h>

#define HALF UINT32_C(0x80000000)

ss_serial_order_t ss_serial_cmp(uint32_t a, uint32_t b)
{
	uint32_t d = b - a; /* unsigned: wraps mod 2^32 as RFC 1982 wants */
	if (d == 0) {
		return SS_SERIAL_EQUAL;
	}
	if (d == HALF) {
		return SS_SERIAL_UNDEFINED;
	}
	return d < HALF ? SS_SERIAL_LESS : SS_SERIAL_GREATER;
}

const char *ss_serial_order_name(ss_serial_order_t order)
{
	switch (order) {
	case SS_SERIAL_LESS:
		return "less";
	case SS_SERIAL_EQUAL:
		return "equal";
	case SS_SERIAL_GREATER:
		return "greater";
	case SS_SERIAL_UNDEFINED:
		break;
	}
	return "undefined";
}

uint32_t ss_serial_distance(uint32_t a, uint32_t b)
{
	return b - a;
}

int ss_serial_plan(uint32_t from, uint32_t to, uint32_t *out, size_t cap)
{
	size_t n = 0;
	uint32_t cur = from;
	/* Each intermediate step jumps as far as allowed but stops one short of
	 * `to`, so the final step to `to` is always a defined increase. */
	while (ss_serial_cmp(to, cur) != SS_SERIAL_GREATER && to != cur) {
		uint32_t left = ss_serial_distance(cur, to);
		uint32_t step = left - 1 < SS_SERIAL_MAX_STEP ? left - 1 : SS_SERIAL_MAX_STEP;
		cur += step;
		if (n >= cap) {
			return SS_EINVAL;
		}
		out[n++] = cur;
	}
	if (n >= cap) {
		return SS_EINVAL;
	}
	out[n++] = to;
	return (int)n;
}
