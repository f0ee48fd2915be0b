/*
 * Internal: the engine's pure helpers, exposed for its unit test.
 */
#ifndef SOASYNC_ENGINE_INT_H
#define SOASYNC_ENGINE_INT_H

#include <stdint.h>

/*
 * How long try number `try` (0-based) of `tries` waits for an answer, in ms:
 * the retransmission timeout rto_us (at least 50 ms) doubled per try, capped
 * at timeout_ms; the last try waits timeout_ms. Defined for every try.
 */
unsigned ss_engine_try_wait_ms(uint64_t rto_us, unsigned try, unsigned tries, unsigned timeout_ms);

#endif
