/*
 * Internal: the memory budget of zone transfers. The engine counts what each
 * transfer receives against one budget; a transfer that would go past it
 * waits (the engine stops reading it) until room is given back. A finished
 * transfer whose data is kept (a transferred zone) keeps its share in a
 * hold (engine.h) until that data is freed, so the budget may outlive the
 * engine: it is reference-counted.
 */
#ifndef SOASYNC_XFR_BUDGET_H
#define SOASYNC_XFR_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ss_xfr_budget ss_xfr_budget_t;

/* A budget of limit bytes, with one reference. NULL on SS_ENOMEM. */
ss_xfr_budget_t *ss_xfr_budget_new(uint64_t limit);
void ss_xfr_budget_ref(ss_xfr_budget_t *b);
void ss_xfr_budget_unref(ss_xfr_budget_t *b);

uint64_t ss_xfr_budget_limit(const ss_xfr_budget_t *b);
uint64_t ss_xfr_budget_used(const ss_xfr_budget_t *b);

/* Take n bytes if they fit; false (nothing taken) if not. */
bool ss_xfr_budget_take(ss_xfr_budget_t *b, uint64_t n);

/* Give n bytes back; calls the on_give callback, if any. */
void ss_xfr_budget_give(ss_xfr_budget_t *b, uint64_t n);

/* Who hears of room given back (the engine, to wake waiting transfers);
 * cb NULL: nobody. */
void ss_xfr_budget_on_give(ss_xfr_budget_t *b, void (*cb)(void *arg), void *arg);

/* A hold of bytes of b (see engine.h); NULL on SS_ENOMEM. */
struct ss_xfr_hold *ss_xfr_hold_new(ss_xfr_budget_t *b, uint64_t bytes);

/* Give a hold's bytes back and free it (NULL: nothing); ss_xfr_hold_release()
 * of engine.h. */
void ss_xfr_hold_free(struct ss_xfr_hold *h);

#endif
