/*
 * soasync serial: the bump line, the order word, the plan and why.
 */
#include <inttypes.h>

#include "opts.h"
#include "render_cmds.h"

void render_bump(FILE *f, const char *path, uint32_t from, uint32_t to)
{
	fprintf(f, "%s: %" PRIu32 " -> %" PRIu32 "\n", path, from, to);
	fflush(f);
}

void render_serial_order(FILE *f, ss_serial_order_t order)
{
	fprintf(f, "%s\n", ss_serial_order_name(order));
}

static void explain_plan(const char *zone, uint32_t from, const uint32_t *steps, int n)
{
	uint32_t to = steps[n - 1];
	if (from == to) {
		cli_err("plan: the zone is at %" PRIu32 " already: nothing to publish", to);
		return;
	}
	if (n == 1) {
		cli_err("plan: %" PRIu32 " is greater than %" PRIu32 ": publish it directly", to,
		        from);
		return;
	}
	cli_err("plan: %" PRIu32 " is not greater than %" PRIu32 " (RFC 1982): secondaries "
	        "would ignore it. Publish %d serials in turn, each at most %" PRIu32 " ahead:",
	        to, from, n, SS_SERIAL_MAX_STEP);
	for (int i = 0; i < n - 1; i++) {
		cli_err("plan: %d. publish %" PRIu32 ", then wait until every secondary serves it: "
		        "soasync wait %s --serial %" PRIu32,
		        i + 1, steps[i], zone, steps[i]);
	}
	cli_err("plan: %d. publish %" PRIu32 ", the target", n, to);
}

void render_plan(FILE *f, const char *zone, uint32_t from, const uint32_t *steps, int n)
{
	for (int k = 0; k < n; k++) {
		fprintf(f, "%" PRIu32 "\n", steps[k]);
	}
	fflush(f);
	explain_plan(zone, from, steps, n);
}
