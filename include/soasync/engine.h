/*
 * soasync: the query engine.
 *
 * Sends DNS queries to many servers concurrently on one libuv loop. Each
 * query goes over UDP with quick retransmissions (per-server adaptive RTO,
 * the last try waits the whole timeout), over TCP when the answer is
 * truncated, and once more without EDNS after FORMERR/NOTIMP/BADVERS. Every
 * response is parsed with libknot; only one coming from the queried address
 * and port with the query's ID and question is accepted; anything else is
 * dropped and counted, and the query keeps waiting. Query IDs come from the
 * kernel's CSPRNG (getrandom), fetched in batches.
 *
 * Concurrency is bounded globally (max_inflight) and per server address
 * (per_server); queries beyond that wait in a per-server FIFO, served round
 * robin, so a burst is paced out instead of being dropped by the server.
 *
 * The engine never logs. All times are in milliseconds unless named _us.
 */
#ifndef SOASYNC_ENGINE_H
#define SOASYNC_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <libknot/libknot.h>
#include <uv.h>

#include <soasync/addr.h>
#include <soasync/api.h>

typedef struct ss_engine ss_engine_t;

typedef struct {
	unsigned timeout_ms;      /* wait after the last try, and cap of every wait (1500) */
	unsigned tries;           /* UDP sends per query (3) */
	unsigned max_inflight;    /* queries in flight, all servers (1000) */
	unsigned per_server;      /* queries in flight per server address (100) */
	unsigned max_sockets;     /* sockets open at once (0: what the open-file limit
	                           * allows, see ss_engine_new) */
	uint64_t xfr_budget;      /* bytes all streams may hold at once (1 GiB) */
	unsigned xfr_deadline_ms; /* longest whole stream (600000) */
	bool has_source4;         /* bind IPv4 sockets to source4 */
	bool has_source6;         /* bind IPv6 sockets to source6 */
	ss_addr_t source4;        /* port ignored */
	ss_addr_t source6;
} ss_engine_opts_t;

/* Query flags. */
enum {
	SS_QF_RD = 1 << 0,         /* recursion desired */
	SS_QF_EDNS = 1 << 1,       /* add an OPT RR (payload 1232) */
	SS_QF_NSID = 1 << 2,       /* ask for NSID (implies EDNS) */
	SS_QF_EXPIRE = 1 << 3,     /* ask for EDNS EXPIRE, RFC 7314 (implies EDNS) */
	SS_QF_TCP = 1 << 4,        /* TCP only */
	SS_QF_NOFALLBACK = 1 << 5, /* no retry without EDNS */
};

typedef struct {
	ss_addr_t server;
	const knot_dname_t *qname; /* copied by submit */
	uint16_t qtype;
	uint16_t qclass;               /* 0 means IN */
	uint8_t opcode;                /* KNOT_OPCODE_QUERY (0) or KNOT_OPCODE_NOTIFY */
	unsigned flags;                /* SS_QF_* */
	const knot_rrset_t *answer;    /* NOTIFY: SOA for the answer section; copied */
	const knot_rrset_t *authority; /* IXFR: the client's SOA; copied */
	const knot_tsig_key_t *tsig;   /* sign the query, verify the answer; borrowed
	                                * until the query completes */
	unsigned timeout_ms;           /* 0: engine default */
	unsigned tries;                /* 0: engine default */
} ss_query_t;

typedef struct {
	int error;             /* 0, or why there is no answer: SS_ETIMEOUT,
	                        * SS_ECONNREFUSED, SS_ENETWORK, SS_EMALFORMED,
	                        * SS_ECLOSED, SS_ETSIG, SS_ECANCELED; SS_EMFILE
	                        * (this host ran out of open files) */
	const knot_pkt_t *pkt; /* the parsed answer when error == 0; borrowed,
	                        * valid only during the callback */
	uint16_t rcode;        /* extended RCODE of the answer; never NOERROR when
	                        * tsig_error is set (NOTAUTH then, whatever the
	                        * header claims: RFC 8945 5.3) */
	uint16_t tsig_error;   /* the error field of the answer's TSIG record, or 0 */
	bool signed_ok;        /* the query was signed and the answer's MAC verified */
	bool aa, tc, ra;
	bool tcp;         /* the answer came over TCP */
	bool edns;        /* the answered query carried EDNS */
	uint32_t rtt_us;  /* from the last send to the answer */
	unsigned sends;   /* datagrams sent, plus TCP connections */
	unsigned dropped; /* responses dropped as forged, stray or malformed */
} ss_response_t;

/* Called exactly once per submitted query. */
typedef void (*ss_query_cb)(const ss_response_t *resp, void *arg);

/*
 * Streams (zone transfers): every message of the TCP answer is passed to
 * msg_cb, parsed and, with a TSIG key, verified. Only the first message may
 * be an error answer (an error RCODE, or a TSIG record with a non-zero error
 * whatever the header says: its records are never data); a TSIG error or a
 * MAC that does not verify later ends the stream with SS_ETSIG. msg_cb
 * returns 0 to read on, 1 when the stream is complete, SS_STREAM_MAYBE_DONE
 * when it is complete unless another message follows (an IXFR answered with
 * a lone SOA, which PowerDNS sends as the first message of a whole zone and
 * NSD sends alone on a connection it keeps open: the stream then ends with 0
 * when the server closes or stays silent for a second (or the idle time, if
 * shorter), and goes on if a message comes), or a negative SS_E* code to abort. done_cb is then
 * called exactly once with 0 or the error.
 */
#define SS_STREAM_MAYBE_DONE 2
typedef int (*ss_stream_msg_cb)(const knot_pkt_t *pkt, void *arg);
typedef void (*ss_stream_done_cb)(int error, void *arg);

typedef struct {
	unsigned idle_ms;  /* longest silence: no byte for that long (default: timeout) */
	unsigned limit_ms; /* longest whole stream (default: opts.xfr_deadline_ms);
	                    * past it the stream ends with SS_EDEADLINE */
	bool keep;         /* the receiver keeps what comes (a zone): the stream
	                    * counts against the shared budget, see below */
} ss_stream_opts_t;

/*
 * Memory of streams. Every stream counts what it receives: each message, and
 * 48 bytes per record for keeping it. A stream past opts.xfr_budget bytes
 * ends with SS_ELIMIT. The streams whose receiver keeps the data (keep) also
 * share that budget: one that would go past it stops reading and waits for
 * room; when no such stream is left running to make room, the waiting one
 * that holds most ends with SS_ELIMIT (what is held at once would not fit).
 * When done_cb returns, a kept stream's share is given back, unless done_cb
 * took it over with ss_engine_stream_keep() because the data stays (a
 * transferred zone): then ss_xfr_hold_release() gives it back when that data
 * is freed.
 */
typedef struct ss_xfr_hold ss_xfr_hold_t;

/* Inside a stream's done_cb: its share of the budget, now the caller's
 * (NULL when it held nothing, or outside done_cb). */
SS_API ss_xfr_hold_t *ss_engine_stream_keep(ss_engine_t *e);

/* Give a kept share back (NULL: nothing); the engine may be gone. */
SS_API void ss_xfr_hold_release(ss_xfr_hold_t *h);

/* Counters, for diagnostics and benchmarks. */
typedef struct {
	uint64_t queries, sent, received, dropped, retransmits, tcp, timeouts;
	uint64_t xfr_held;     /* bytes of the stream budget in use (kept shares included) */
	uint64_t xfr_held_max; /* the most in use at once */
	uint64_t xfr_waits;    /* times a stream waited for room */
	uint64_t sockets_max;  /* the most sockets open at once */
	uint64_t fd_waits;     /* times a query in flight waited for a socket */
} ss_engine_stats_t;

/* Default options (the values in parentheses above). */
SS_API void ss_engine_opts_default(ss_engine_opts_t *opts);

/*
 * A new engine on loop (borrowed). Returns NULL on SS_ENOMEM (or when the
 * kernel's random source, which query IDs come from, fails).
 *
 * Open files: the process's soft limit (RLIMIT_NOFILE) is raised to the hard
 * limit, and the engine keeps its sockets within what is left of it (less a
 * reserve of 32 for the rest of the process): queries beyond wait for a
 * socket to close, idle ones are closed for them. A query that cannot get a
 * socket even so ends with SS_EMFILE, a local error, never the server's.
 */
SS_API ss_engine_t *ss_engine_new(uv_loop_t *loop, const ss_engine_opts_t *opts);

/*
 * Submit a query. The callback runs later from the loop, never from inside
 * this call. Returns 0, SS_EINVAL (bad spec), SS_ENOMEM.
 */
SS_API int ss_engine_query(ss_engine_t *e, const ss_query_t *q, ss_query_cb cb, void *arg);

/* Submit a stream query over TCP (AXFR, IXFR). Returns as ss_engine_query. */
SS_API int ss_engine_stream(ss_engine_t *e, const ss_query_t *q, const ss_stream_opts_t *opts,
                            ss_stream_msg_cb msg_cb, ss_stream_done_cb done_cb, void *arg);

/* Cancel everything in flight or queued (callbacks get SS_ECANCELED). */
SS_API void ss_engine_cancel_all(ss_engine_t *e);

SS_API void ss_engine_stats(const ss_engine_t *e, ss_engine_stats_t *out);

/* Queries in flight to one address at most (a recursive resolver takes
 * fewer than an authoritative server). 0 restores the default. */
SS_API int ss_engine_set_server_limit(ss_engine_t *e, const ss_addr_t *addr, unsigned limit);

/* Change the default per-try timeout and tries of queries submitted from
 * now on (those already submitted keep theirs). */
SS_API void ss_engine_set_timeout(ss_engine_t *e, unsigned timeout_ms, unsigned tries);

/* The engine's options as they are now. */
SS_API const ss_engine_opts_t *ss_engine_get_opts(const ss_engine_t *e);

/* The loop the engine runs on (for callers' own timers). */
SS_API uv_loop_t *ss_engine_loop(ss_engine_t *e);

/*
 * Close the engine's handles and free it once they are closed; the loop must
 * run afterwards (uv_run) to finish. Pending queries are canceled first.
 */
SS_API void ss_engine_close(ss_engine_t *e);

#endif
