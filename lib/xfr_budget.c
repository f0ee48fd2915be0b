/*
 * The transfer memory budget and its holds: see xfr_budget.h.
 */
#include <stdlib.h>

#include "xfr_budget.h"

struct ss_xfr_budget {
	uint64_t limit, used;
	unsigned refs;
	void (*on_give)(void *arg);
	void *arg;
};

struct ss_xfr_hold {
	ss_xfr_budget_t *b;
	uint64_t bytes;
};

ss_xfr_budget_t *ss_xfr_budget_new(uint64_t limit)
{
	ss_xfr_budget_t *b = calloc(1, sizeof(*b));
	if (b != NULL) {
		b->limit = limit;
		b->refs = 1;
	}
	return b;
}

void ss_xfr_budget_ref(ss_xfr_budget_t *b)
{
	b->refs++;
}

void ss_xfr_budget_unref(ss_xfr_budget_t *b)
{
	if (b != NULL && --b->refs == 0) {
		free(b);
	}
}

uint64_t ss_xfr_budget_limit(const ss_xfr_budget_t *b)
{
	return b->limit;
}

uint64_t ss_xfr_budget_used(const ss_xfr_budget_t *b)
{
	return b->used;
}

bool ss_xfr_budget_take(ss_xfr_budget_t *b, uint64_t n)
{
	if (n > b->limit - b->used) {
		return false;
	}
	b->used += n;
	return true;
}

void ss_xfr_budget_give(ss_xfr_budget_t *b, uint64_t n)
{
	b->used = n < b->used ? b->used - n : 0;
	if (n > 0 && b->on_give != NULL) {
		b->on_give(b->arg);
	}
}

void ss_xfr_budget_on_give(ss_xfr_budget_t *b, void (*cb)(void *arg), void *arg)
{
	b->on_give = cb;
	b->arg = arg;
}

struct ss_xfr_hold *ss_xfr_hold_new(ss_xfr_budget_t *b, uint64_t bytes)
{
	struct ss_xfr_hold *h = calloc(1, sizeof(*h));
	if (h != NULL) {
		ss_xfr_budget_ref(b);
		h->b = b;
		h->bytes = bytes;
	}
	return h;
}

void ss_xfr_hold_free(struct ss_xfr_hold *h)
{
	if (h == NULL) {
		return;
	}
	ss_xfr_budget_give(h->b, h->bytes);
	ss_xfr_budget_unref(h->b);
	free(h);
}
