/*
 * soasync guard: why a zone file was refused, and which records changed.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "opts.h"
#include "render_cmds.h"

/* Records listed per refused file; the rest are counted. */
#define MAX_SHOWN 20

typedef struct {
	const char *name;
	char *text;
	size_t shown, skipped;
} listing_t;

static int on_change(int side, const ss_zone_t *z, size_t index, void *arg)
{
	listing_t *l = arg;
	if (l->shown >= MAX_SHOWN) {
		l->skipped++;
		return 0;
	}
	l->shown++;
	if (ss_zone_rr_to_text(z, index, l->text, SS_RR_TEXT_MAX) < 0) {
		snprintf(l->text, SS_RR_TEXT_MAX, "(a record that cannot be shown)");
	}
	cli_zerr(l->name, "  %c %s", side < 0 ? '-' : '+', l->text);
	return 0;
}

static void list_changes(const char *name, const ss_zone_t *old, const ss_zone_t *nz)
{
	listing_t l = {.name = name, .text = malloc(SS_RR_TEXT_MAX)};
	if (l.text == NULL) {
		return;
	}
	ss_zone_change_list(old, nz, on_change, &l);
	if (l.skipped > 0) {
		cli_zerr(name, "  ... and %zu more", l.skipped);
	}
	free(l.text);
}

static const char *how(ss_serial_order_t order)
{
	switch (order) {
	case SS_SERIAL_EQUAL:
		return "did not change";
	case SS_SERIAL_LESS:
		return "went down";
	default:
		return "moved exactly 2^31 (no defined order)";
	}
}

void render_guard_refusal(const char *name, const ss_zone_change_t *v, const ss_zone_t *old,
                          const ss_zone_t *nz)
{
	if (v->verdict == SS_CHANGE_SERIAL_DOWN) {
		cli_zerr(name,
		         "the SOA serial %s (%" PRIu32 " -> %" PRIu32 "): secondaries that have "
		         "%" PRIu32 " will not load this zone",
		         how(v->order), v->old_serial, v->new_serial, v->old_serial);
		return;
	}
	cli_zerr(name,
	         "records changed but the SOA serial %s (%" PRIu32 " -> %" PRIu32
	         "): secondaries will not pick the change up:",
	         how(v->order), v->old_serial, v->new_serial);
	list_changes(name, old, nz);
}
