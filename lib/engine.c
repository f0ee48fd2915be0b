/*
 * The query engine: see include/soasync/engine.h for the contract.
 *
 * Per server address the engine keeps one connected UDP socket (the kernel
 * then filters out datagrams from other sources and reports ICMP port
 * unreachable as ECONNREFUSED), the queries in flight on it (matched by ID),
 * a FIFO of queries waiting for capacity, and a smoothed RTT used for the
 * retransmission timeout. TCP connections are per query.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <openssl/rand.h>

#include <soasync/engine.h>
#include <soasync/error.h>

#include "engine_int.h"
#include "wire_answer.h"
#include "wire_pkt.h"
#include "xfr_budget.h"
#include "xfr_tsig.h"

#define EDNS_PAYLOAD    1232
#define QWIRE_MAX       2048
#define RTO_INITIAL_US  250000u
#define RTO_MIN_US      50000u
#define HASH_BUCKETS    4096u
#define ID_BATCH        2048u
#define SWEEP_MS        1000u
#define STREAM_LIMIT_MS 600000u
#define XFR_BUDGET      (1ull << 30)
#define FD_RESERVE      32u /* open-file slots left to the rest of the process */
#define XFR_RR_COST     48u /* bytes to keep a record beyond its wire form */

/* Datagrams read by one recvmmsg (libuv gives each a 64 KiB slot of the
 * receive buffer): the answers that arrived together, in one system call. */
#define RBUF_SLOTS 16

typedef struct query query_t;
typedef struct server server_t;
typedef struct usock usock_t;
typedef struct tconn tconn_t;

#define ID_BUCKETS 256u

struct usock {
	uv_udp_t h;
	ss_engine_t *e;
	server_t *srv;            /* NULL once detached for closing */
	query_t *head;            /* queries in flight on this socket */
	query_t *ids[ID_BUCKETS]; /* the same queries by ID, for matching answers */
	uint64_t idle_since;
	bool idle;              /* no query in flight: on the engine's idle list */
	usock_t *iprev, *inext; /* the idle list, oldest first */
};

struct server {
	ss_addr_t addr;
	server_t *hnext; /* hash chain */
	server_t *rnext; /* ready ring (queued work and spare capacity) */
	bool in_ready;
	query_t *qhead, *qtail; /* waiting */
	unsigned inflight;
	unsigned limit; /* in flight at most; 0: opts.per_server */
	usock_t *sock;
	uint32_t srtt_us, rttvar_us;
	bool have_rtt;
};

struct tconn {
	ss_engine_t *e;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t creq;
	uv_write_t wreq;
	int handles;  /* open handles; freed when 0 */
	query_t *q;   /* NULL once detached */
	uint8_t *out; /* length-prefixed query */
	uint8_t *buf; /* reassembly of length-prefixed messages */
	size_t have, cap;
	uint64_t limit_at; /* stream: hrtime (ns) of the whole-stream deadline */
	bool running;      /* stream: counted in e->streams_running */
	bool waiting;      /* stream: reading stopped until want bytes of room */
	bool admitted;     /* stream: the first message in buf has its room */
	uint64_t want;
	tconn_t *wnext; /* e->waiters */
	bool last_look; /* the time-out fired once: one more look at the socket */
};

enum qstate { Q_QUEUED, Q_UDP, Q_TCP, Q_DONE };

struct query {
	ss_engine_t *e;
	server_t *srv;
	enum qstate state;
	query_t *next;          /* server wait queue */
	query_t *aprev, *anext; /* all unfinished queries of the engine */
	query_t *sprev, *snext; /* socket in-flight list */
	query_t *idnext;        /* socket ID bucket chain */
	usock_t *sock;
	tconn_t *tconn;
	uv_timer_t timer;

	knot_dname_t *qname;
	uint16_t qtype, qclass;
	uint8_t opcode;
	unsigned flags;
	knot_rrset_t *answer, *authority;
	const knot_tsig_key_t *tsig;
	unsigned timeout_ms, tries;

	uint16_t id;
	bool edns_now;
	uint8_t *wire;
	size_t wire_len;
	uint8_t mac[SS_TSIG_MAC_MAX]; /* of the signed query */
	size_t mac_len;
	bool signed_ok; /* the answer's MAC verified */

	unsigned sends, udp_sends;
	uint64_t last_send;
	int last_error;
	unsigned dropped;

	ss_query_cb cb;
	ss_stream_msg_cb msg_cb;
	ss_stream_done_cb done_cb;
	ss_stream_opts_t sopts;
	unsigned msgs;
	bool fdwait;              /* waiting for a socket to connect over TCP */
	query_t *fnext;           /* e->fdwait */
	ss_tsig_stream_t tstream; /* stream with a key */
	uint64_t held;            /* stream: bytes of the budget taken */
	bool maybe_done;          /* stream: complete unless another message comes */
	bool last_look;           /* UDP: the last try's time-out fired once */
	void *arg;
};

struct ss_engine {
	uv_loop_t *loop;
	ss_engine_opts_t opts;
	server_t *buckets[HASH_BUCKETS];
	server_t *ready; /* tail of the ready ring */
	query_t *all;    /* unfinished queries */
	unsigned inflight;
	uv_idle_t kick;
	uv_timer_t sweep;
	bool kicking, closing;
	int handles;
	uint8_t *rbuf; /* RBUF_SLOTS datagrams of up to 64 KiB (recvmmsg) */
	ss_engine_stats_t st;
	uint16_t ids[ID_BATCH]; /* query IDs from the kernel's CSPRNG, used from the end */
	unsigned ids_left;
	ss_xfr_budget_t *budget;  /* stream memory */
	tconn_t *waiters;         /* streams waiting for room, oldest first */
	unsigned streams_running; /* streams connected and not waiting */
	bool settle;              /* kick: look at the waiters */
	query_t *finishing;       /* the stream whose done_cb runs */
	unsigned fd_budget;       /* sockets open at once, at most */
	unsigned fds_open;
	bool fd_blocked;                /* dispatch waits for a socket to close */
	usock_t *idle_head, *idle_tail; /* UDP sockets without queries, oldest first */
	query_t *fdwait, *fdwait_tail;  /* queries in flight waiting to connect */
};

static void dispatch(ss_engine_t *e);
static void udp_send_try(query_t *q);
static void tcp_start(query_t *q);
static void query_finish(query_t *q, int error, const knot_pkt_t *pkt);
static void udp_timer_cb(uv_timer_t *t);

static int uv_to_ss(int uverr)
{
	switch (uverr) {
	case UV_ECONNREFUSED:
		return SS_ECONNREFUSED;
	case UV_ETIMEDOUT:
		return SS_ETIMEOUT;
	case UV_EOF:
	case UV_ECONNRESET:
	case UV_EPIPE:
		return SS_ECLOSED;
	case UV_ENOMEM:
		return SS_ENOMEM;
	case UV_ECANCELED:
		return SS_ECANCELED;
	case UV_EMFILE:
	case UV_ENFILE:
		return SS_EMFILE;
	default:
		return SS_ENETWORK;
	}
}

/* The open-file limit raised to the hard limit (a process checking a
 * thousand servers needs more than the usual 1024), less what is open
 * already and a reserve: the sockets the engine may open at once. */
static unsigned fd_budget_now(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		return 1000;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit want = {rl.rlim_max, rl.rlim_max};
		if (want.rlim_cur == RLIM_INFINITY || want.rlim_cur > (1u << 20)) {
			want.rlim_cur = 1u << 20;
		}
		if (setrlimit(RLIMIT_NOFILE, &want) == 0) {
			rl.rlim_cur = want.rlim_cur;
		}
	}
	unsigned open_now = 16; /* a guess without /proc */
	DIR *d = opendir("/proc/self/fd");
	if (d != NULL) {
		for (open_now = 0; readdir(d) != NULL; open_now++) {
		}
		closedir(d); /* ".", ".." and its own descriptor are counted: a margin */
	}
	uint64_t cur = rl.rlim_cur == RLIM_INFINITY ? (1u << 20) : rl.rlim_cur;
	uint64_t used = (uint64_t)open_now + FD_RESERVE;
	return cur > used + 1 ? (unsigned)(cur - used < (1u << 20) ? cur - used : 1u << 20) : 1;
}

void ss_engine_opts_default(ss_engine_opts_t *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->timeout_ms = 1500;
	opts->tries = 3;
	opts->max_inflight = 1000;
	opts->per_server = 100;
	opts->xfr_budget = XFR_BUDGET;
	opts->xfr_deadline_ms = STREAM_LIMIT_MS;
}

/* ---- servers ----------------------------------------------------------- */

static server_t *server_get(ss_engine_t *e, const ss_addr_t *addr)
{
	uint32_t b = ss_addr_hash(addr) % HASH_BUCKETS;
	for (server_t *s = e->buckets[b]; s != NULL; s = s->hnext) {
		if (ss_addr_equal(&s->addr, addr)) {
			return s;
		}
	}
	server_t *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return NULL;
	}
	s->addr = *addr;
	s->hnext = e->buckets[b];
	e->buckets[b] = s;
	return s;
}

static bool server_has_room(const ss_engine_t *e, const server_t *s)
{
	return s->inflight < (s->limit ? s->limit : e->opts.per_server);
}

static void ready_push(ss_engine_t *e, server_t *s)
{
	if (s->in_ready || s->qhead == NULL || !server_has_room(e, s)) {
		return;
	}
	s->in_ready = true;
	if (e->ready == NULL) {
		s->rnext = s;
	} else {
		s->rnext = e->ready->rnext;
		e->ready->rnext = s;
	}
	e->ready = s;
}

static server_t *ready_pop(ss_engine_t *e)
{
	if (e->ready == NULL) {
		return NULL;
	}
	server_t *head = e->ready->rnext;
	if (head == e->ready) {
		e->ready = NULL;
	} else {
		e->ready->rnext = head->rnext;
	}
	head->in_ready = false;
	head->rnext = NULL;
	return head;
}

unsigned ss_engine_try_wait_ms(uint64_t rto_us, unsigned try, unsigned tries, unsigned timeout_ms)
{
	if (try + 1 >= tries) {
		return timeout_ms;
	}
	/* Doubled per try, but never past the cap: no shift overflows. */
	uint64_t cap_us = (uint64_t)timeout_ms * 1000u;
	uint64_t rto = rto_us < RTO_MIN_US ? RTO_MIN_US : rto_us;
	for (unsigned i = 0; i < try && rto < cap_us; i++) {
		rto *= 2;
	}
	return rto < cap_us ? (unsigned)((rto + 999) / 1000) : timeout_ms;
}

/* Retransmission timeout for try number `try` (0-based), in ms. */
static unsigned try_wait_ms(const query_t *q, unsigned try)
{
	const server_t *s = q->srv;
	uint64_t rto = s->have_rtt ? (uint64_t)s->srtt_us + 4u * s->rttvar_us : RTO_INITIAL_US;
	return ss_engine_try_wait_ms(rto, try, q->tries, q->timeout_ms);
}

/* Jacobson/Karels smoothing, fed only by unambiguous (single-send) answers. */
static void server_rtt_sample(server_t *s, uint32_t rtt_us)
{
	if (!s->have_rtt) {
		s->srtt_us = rtt_us;
		s->rttvar_us = rtt_us / 2;
		s->have_rtt = true;
		return;
	}
	uint32_t err = rtt_us > s->srtt_us ? rtt_us - s->srtt_us : s->srtt_us - rtt_us;
	s->rttvar_us = (3 * s->rttvar_us + err) / 4;
	s->srtt_us = (7 * s->srtt_us + rtt_us) / 8;
}

/* ---- query wire -------------------------------------------------------- */

static int add_edns(knot_pkt_t *pkt, unsigned flags)
{
	knot_rrset_t opt;
	int ret = knot_edns_init(&opt, EDNS_PAYLOAD, 0, 0, &pkt->mm);
	if (ret == KNOT_EOK && (flags & SS_QF_NSID)) {
		ret = knot_edns_add_option(&opt, KNOT_EDNS_OPTION_NSID, 0, NULL, &pkt->mm);
	}
	if (ret == KNOT_EOK && (flags & SS_QF_EXPIRE)) {
		ret = knot_edns_add_option(&opt, KNOT_EDNS_OPTION_EXPIRE, 0, NULL, &pkt->mm);
	}
	if (ret == KNOT_EOK) {
		ret = knot_pkt_put(pkt, KNOT_COMPR_HINT_NONE, &opt, KNOT_PF_FREE);
	}
	if (ret != KNOT_EOK) {
		knot_rrset_clear(&opt, &pkt->mm);
	}
	return ret;
}

static int build_wire(query_t *q)
{
	knot_pkt_t *pkt = knot_pkt_new(NULL, QWIRE_MAX, NULL);
	if (pkt == NULL) {
		return SS_ENOMEM;
	}
	int ret = knot_pkt_put_question(pkt, q->qname, q->qclass, q->qtype);
	knot_wire_set_id(pkt->wire, q->id);
	knot_wire_set_opcode(pkt->wire, q->opcode);
	if (q->flags & SS_QF_RD) {
		knot_wire_set_rd(pkt->wire);
	}
	if (ret == KNOT_EOK && q->answer != NULL) {
		knot_wire_set_aa(pkt->wire);
		ret = knot_pkt_begin(pkt, KNOT_ANSWER);
		if (ret == KNOT_EOK) {
			ret = knot_pkt_put(pkt, KNOT_COMPR_HINT_NONE, q->answer, 0);
		}
	}
	if (ret == KNOT_EOK && q->authority != NULL) {
		ret = knot_pkt_begin(pkt, KNOT_AUTHORITY);
		if (ret == KNOT_EOK) {
			ret = knot_pkt_put(pkt, KNOT_COMPR_HINT_NONE, q->authority, 0);
		}
	}
	if (ret == KNOT_EOK && q->edns_now) {
		ret = knot_pkt_begin(pkt, KNOT_ADDITIONAL);
		if (ret == KNOT_EOK) {
			ret = add_edns(pkt, q->flags);
		}
	}
	if (ret == KNOT_EOK && q->tsig != NULL) {
		q->mac_len = sizeof(q->mac);
		ret = knot_tsig_sign(pkt->wire, &pkt->size, pkt->max_size, NULL, 0, q->mac,
		                     &q->mac_len, q->tsig, 0, 0);
	}
	if (ret != KNOT_EOK) {
		knot_pkt_free(pkt);
		return SS_EINVAL;
	}
	free(q->wire);
	q->wire = malloc(pkt->size);
	if (q->wire == NULL) {
		knot_pkt_free(pkt);
		return SS_ENOMEM;
	}
	memcpy(q->wire, pkt->wire, pkt->size);
	q->wire_len = pkt->size;
	knot_pkt_free(pkt);
	return 0;
}

/* ---- answers ----------------------------------------------------------- */

static ss_qkey_t qkey(const query_t *q)
{
	ss_qkey_t k = {q->qname, q->qtype, q->qclass, q->id, q->opcode};
	return k;
}

static bool answer_matches(const query_t *q, const knot_pkt_t *pkt)
{
	ss_qkey_t k = qkey(q);
	return ss_answer_matches(&k, pkt);
}

static bool wants_fallback(const query_t *q, const knot_pkt_t *pkt)
{
	if (!q->edns_now || (q->flags & SS_QF_NOFALLBACK)) {
		return false;
	}
	uint16_t rc = knot_pkt_ext_rcode(pkt);
	return rc == KNOT_RCODE_FORMERR || rc == KNOT_RCODE_NOTIMPL || rc == KNOT_RCODE_BADVERS;
}

/* TSIG: see xfr_tsig.h (only a verified MAC makes an answer signed). */
static int check_tsig(const query_t *q, const knot_pkt_t *pkt, bool *verified)
{
	*verified = false;
	return q->tsig ? ss_tsig_check_answer(q->tsig, q->mac, q->mac_len, pkt, verified) : 0;
}

static void restart_without_edns(query_t *q)
{
	q->edns_now = false;
	if (build_wire(q) != 0) {
		query_finish(q, SS_ENOMEM, NULL);
		return;
	}
	q->udp_sends = 0;
	if (q->state == Q_TCP || (q->flags & SS_QF_TCP)) {
		tcp_start(q);
	} else {
		udp_send_try(q);
	}
}

/*
 * One parsed, matching answer to a non-stream query. Returns true when the
 * query is finished (or moved on), false when the answer must be ignored.
 */
static bool take_answer(query_t *q, const knot_pkt_t *pkt, bool via_tcp)
{
	if (wants_fallback(q, pkt)) {
		restart_without_edns(q);
		return true;
	}
	if (!via_tcp && knot_wire_get_tc(pkt->wire)) {
		tcp_start(q);
		return true;
	}
	int ret = check_tsig(q, pkt, &q->signed_ok);
	if (ret != 0) {
		q->last_error = ret;
		q->dropped++;
		return false;
	}
	query_finish(q, 0, pkt);
	return true;
}

/* ---- UDP --------------------------------------------------------------- */

static void id_unlink(usock_t *s, query_t *q)
{
	query_t **pp = &s->ids[q->id % ID_BUCKETS];
	while (*pp != NULL && *pp != q) {
		pp = &(*pp)->idnext;
	}
	if (*pp == q) {
		*pp = q->idnext;
	}
	q->idnext = NULL;
}

static void kick(ss_engine_t *e);

/* ---- sockets within the open-file limit ----------------------------------- */

static void fd_opened(ss_engine_t *e)
{
	e->fds_open++;
	e->st.sockets_max = e->fds_open > e->st.sockets_max ? e->fds_open : e->st.sockets_max;
}

static void fd_closed(ss_engine_t *e)
{
	e->fds_open--;
	if (e->fd_blocked || e->fdwait != NULL) {
		kick(e);
	}
}

static void idle_link(ss_engine_t *e, usock_t *s)
{
	s->idle = true;
	s->idle_since = uv_hrtime();
	s->inext = NULL;
	s->iprev = e->idle_tail;
	if (e->idle_tail != NULL) {
		e->idle_tail->inext = s;
	} else {
		e->idle_head = s;
	}
	e->idle_tail = s;
	if (e->fd_blocked || e->fdwait != NULL) {
		kick(e); /* it can make room */
	}
}

static void idle_unlink(ss_engine_t *e, usock_t *s)
{
	if (!s->idle) {
		return;
	}
	if (s->iprev != NULL) {
		s->iprev->inext = s->inext;
	} else {
		e->idle_head = s->inext;
	}
	if (s->inext != NULL) {
		s->inext->iprev = s->iprev;
	} else {
		e->idle_tail = s->iprev;
	}
	s->iprev = s->inext = NULL;
	s->idle = false;
}

static void usock_close(usock_t *s);

/* Room for one more socket now, closing the longest idle UDP socket if the
 * limit is reached. */
static bool fd_room(ss_engine_t *e)
{
	if (e->fds_open >= e->fd_budget && e->idle_head != NULL) {
		usock_close(e->idle_head);
	}
	return e->fds_open < e->fd_budget;
}

/* The process ran out of files before the engine's own limit: stay below
 * what it has now (true), unless it has nothing to wait for. */
static bool fd_shortage(ss_engine_t *e)
{
	if (e->fds_open == 0) {
		return false;
	}
	e->fd_budget = e->fds_open;
	return true;
}

static void sock_unlink(query_t *q)
{
	usock_t *s = q->sock;
	if (s == NULL) {
		return;
	}
	id_unlink(s, q);
	if (q->sprev) {
		q->sprev->snext = q->snext;
	} else {
		s->head = q->snext;
	}
	if (q->snext) {
		q->snext->sprev = q->sprev;
	}
	q->sprev = q->snext = NULL;
	q->sock = NULL;
	if (s->head == NULL && s->srv != NULL) {
		idle_link(s->e, s);
	}
}

static void sock_link(usock_t *s, query_t *q)
{
	idle_unlink(s->e, s);
	q->sock = s;
	q->sprev = NULL;
	q->snext = s->head;
	if (s->head) {
		s->head->sprev = q;
	}
	s->head = q;
	q->idnext = s->ids[q->id % ID_BUCKETS];
	s->ids[q->id % ID_BUCKETS] = q;
}

static void usock_close_cb(uv_handle_t *h)
{
	free(h->data);
}

static void usock_close(usock_t *s)
{
	if (s->srv != NULL && s->srv->sock == s) {
		s->srv->sock = NULL;
	}
	s->srv = NULL;
	idle_unlink(s->e, s);
	uv_close((uv_handle_t *)&s->h, usock_close_cb); /* the file is closed at once */
	fd_closed(s->e);
}

static query_t *sock_find(usock_t *s, uint16_t id)
{
	for (query_t *q = s->ids[id % ID_BUCKETS]; q != NULL; q = q->idnext) {
		if (q->id == id) {
			return q;
		}
	}
	return NULL;
}

/* ICMP port unreachable on the connected socket: every query on it loses
 * its current try; move their retransmission up instead of waiting. */
static void sock_refused(usock_t *s)
{
	for (query_t *q = s->head; q != NULL; q = q->snext) {
		q->last_error = SS_ECONNREFUSED;
		if (uv_timer_get_due_in(&q->timer) > 10) {
			uv_timer_start(&q->timer, udp_timer_cb, 10, 0);
		}
	}
}

static void udp_answer(query_t *q, uint8_t *wire, size_t len)
{
	ss_engine_t *e = q->e;
	ss_qkey_t k = qkey(q);
	knot_pkt_t *pkt = NULL;
	switch (ss_answer_parse(&k, wire, len, &pkt)) {
	case SS_ANSWER_OK:
		break;
	case SS_ANSWER_TC:
		tcp_start(q);
		return;
	case SS_ANSWER_MALFORMED:
		q->last_error = SS_EMALFORMED;
		/* fall through */
	case SS_ANSWER_MISMATCH:
		q->dropped++;
		e->st.dropped++;
		return;
	}
	if (q->udp_sends == 1 && !knot_wire_get_tc(pkt->wire)) {
		server_rtt_sample(q->srv, (uint32_t)((uv_hrtime() - q->last_send) / 1000));
	}
	take_answer(q, pkt, false);
	knot_pkt_free(pkt);
}

static void udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
                     unsigned flags)
{
	usock_t *s = h->data;
	ss_engine_t *e = s->e;
	if (s->srv == NULL || (n == 0 && from == NULL)) {
		return;
	}
	if (n < 0) {
		if (n == UV_ECONNREFUSED) {
			sock_refused(s);
		}
		return;
	}
	e->st.received++;
	ss_addr_t src;
	memset(&src, 0, sizeof(src));
	memcpy(&src.ss, from,
	       from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                   : sizeof(struct sockaddr_in));
	if ((flags & UV_UDP_PARTIAL) || !ss_addr_equal(&src, &s->srv->addr) ||
	    (size_t)n < KNOT_WIRE_HEADER_SIZE) {
		e->st.dropped++;
		return;
	}
	query_t *q = sock_find(s, knot_wire_get_id((const uint8_t *)buf->base));
	if (q == NULL) {
		e->st.dropped++;
		return;
	}
	udp_answer(q, (uint8_t *)buf->base, (size_t)n);
}

static void engine_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)hint;
	ss_engine_t *e = ((usock_t *)h->data)->e;
	*buf = uv_buf_init((char *)e->rbuf, RBUF_SLOTS * 65536);
}

/* The pinned source address for a family (any port), if one was given. */
static bool source_for(const ss_engine_t *e, int fam, ss_addr_t *out)
{
	bool has = fam == AF_INET ? e->opts.has_source4 : e->opts.has_source6;
	if (has) {
		*out = fam == AF_INET ? e->opts.source4 : e->opts.source6;
		ss_addr_set_port(out, 0);
	}
	return has;
}

/* Room for every answer in flight to this server, even while the loop is
 * busy rendering: the default buffer (about 200 KB) overflows at a few
 * hundred queries in flight. Best effort: root may exceed rmem_max. */
static void grow_rcvbuf(uv_udp_t *h, unsigned per_server)
{
	uv_os_fd_t fd;
	if (uv_fileno((uv_handle_t *)h, &fd) != 0) {
		return;
	}
	int want = (int)(per_server < 256 ? 256 : per_server) * 4096;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) != 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
	}
}

static int usock_open(ss_engine_t *e, server_t *srv, usock_t **out)
{
	usock_t *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return SS_ENOMEM;
	}
	/* recvmmsg: the answers that arrived together in one system call */
	uv_udp_init_ex(e->loop, &s->h, AF_UNSPEC | UV_UDP_RECVMMSG);
	s->h.data = s;
	s->e = e;
	s->srv = srv;
	ss_addr_t src;
	int ret = 0;
	if (source_for(e, ss_addr_family(&srv->addr), &src)) {
		ret = uv_udp_bind(&s->h, ss_addr_sa(&src), 0);
	}
	if (ret == 0) {
		ret = uv_udp_connect(&s->h, ss_addr_sa(&srv->addr));
	}
	if (ret == 0) {
		ret = uv_udp_recv_start(&s->h, engine_alloc, udp_recv);
	}
	if (ret != 0) {
		s->srv = NULL;
		uv_close((uv_handle_t *)&s->h, usock_close_cb);
		return uv_to_ss(ret);
	}
	/* Sockets alone never keep the loop running: queries do, by their timers. */
	uv_unref((uv_handle_t *)&s->h);
	grow_rcvbuf(&s->h, e->opts.per_server);
	srv->sock = s;
	fd_opened(e);
	idle_link(e, s); /* until a query links to it */
	*out = s;
	return 0;
}

/* Query IDs must be unpredictable, to off-path spoofers and to a server that
 * sees many of them and would guess those sent to another: each comes from
 * the kernel's CSPRNG, as resolvers take theirs, fetched ID_BATCH at a time
 * so that the hot path makes one syscall per ID_BATCH queries. */
static bool refill_ids(ss_engine_t *e)
{
	uint8_t *p = (uint8_t *)e->ids;
	size_t want = sizeof(e->ids);
	while (want > 0) {
		ssize_t n = getrandom(p, want, 0);
		if (n <= 0) {
			break;
		}
		p += n;
		want -= (size_t)n;
	}
	if (want > 0 && RAND_bytes(p, (int)want) != 1) {
		return false; /* no randomness: no query may go out */
	}
	e->ids_left = ID_BATCH;
	return true;
}

/* A fresh ID into *id; false only when no randomness can be had. */
static bool random_id(ss_engine_t *e, uint16_t *id)
{
	if (e->ids_left == 0 && !refill_ids(e)) {
		return false;
	}
	*id = e->ids[--e->ids_left];
	return true;
}

/* An ID no other query in flight on the socket has. */
static bool fresh_id(usock_t *s, uint16_t *id)
{
	while (random_id(s->e, id)) {
		if (sock_find(s, *id) == NULL) {
			return true;
		}
	}
	return false;
}

/*
 * libuv runs due timers before it polls for I/O: a process that was not
 * scheduled for longer than a time-out (a loaded machine) would give up on
 * an answer already waiting in the socket. A time-out that would end a
 * query therefore waits one more loop iteration (1 ms), whose poll reads
 * what arrived.
 */
#define LAST_LOOK_MS 1

static void udp_timer_cb(uv_timer_t *t)
{
	query_t *q = t->data;
	if (q->udp_sends < q->tries) {
		q->e->st.retransmits++;
		udp_send_try(q);
		return;
	}
	if (!q->last_look) {
		q->last_look = true;
		uv_timer_start(&q->timer, udp_timer_cb, LAST_LOOK_MS, 0);
		return;
	}
	if (q->last_error == 0) {
		q->e->st.timeouts++;
	}
	query_finish(q, q->last_error ? q->last_error : SS_ETIMEOUT, NULL);
}

static void udp_send_try(query_t *q)
{
	ss_engine_t *e = q->e;
	q->state = Q_UDP;
	if (q->sock == NULL) {
		usock_t *s = q->srv->sock;
		int ret = s ? 0 : usock_open(e, q->srv, &s);
		if (ret != 0) {
			query_finish(q, ret, NULL);
			return;
		}
		sock_link(s, q);
	}
	uv_buf_t b = uv_buf_init((char *)q->wire, (unsigned)q->wire_len);
	int ret = uv_udp_try_send(&q->sock->h, &b, 1, NULL);
	unsigned wait = try_wait_ms(q, q->udp_sends);
	q->udp_sends++;
	q->sends++;
	q->last_send = uv_hrtime();
	e->st.sent++;
	if (ret == UV_ECONNREFUSED) {
		q->last_error = SS_ECONNREFUSED;
		wait = 10;
	} else if (ret < 0 && ret != UV_EAGAIN && ret != UV_ENOBUFS) {
		q->last_error = uv_to_ss(ret);
	}
	uv_timer_start(&q->timer, udp_timer_cb, wait, 0);
}

/* ---- TCP --------------------------------------------------------------- */

static void tconn_handle_closed(uv_handle_t *h)
{
	tconn_t *c = h->data;
	if (--c->handles == 0) {
		free(c->out);
		free(c->buf);
		free(c);
	}
}

static void settle_soon(ss_engine_t *e);

/* The stream stops or starts counting as running (able to make room). */
static void stream_running(ss_engine_t *e, tconn_t *c, bool running)
{
	if (c->running != running) {
		c->running = running;
		e->streams_running += running ? 1 : -1;
		if (!running) {
			settle_soon(e);
		}
	}
}

static void waiter_unlink(ss_engine_t *e, tconn_t *c)
{
	tconn_t **pp = &e->waiters;
	while (*pp != NULL && *pp != c) {
		pp = &(*pp)->wnext;
	}
	if (*pp == c) {
		*pp = c->wnext;
	}
	c->wnext = NULL;
	c->waiting = false;
}

static void tconn_close(tconn_t *c)
{
	fd_closed(c->e);
	if (c->q != NULL) {
		ss_engine_t *e = c->q->e;
		if (c->waiting) {
			waiter_unlink(e, c);
		}
		stream_running(e, c, false);
		c->q->tconn = NULL;
		c->q = NULL;
	}
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->tcp, tconn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, tconn_handle_closed);
}

static void tcp_fail(tconn_t *c, int error)
{
	query_t *q = c->q;
	tconn_close(c);
	if (q != NULL) {
		query_finish(q, error, NULL);
	}
}

/* How long a stream that may be complete waits for another message: a
 * server sending more sends it at once (PowerDNS: the zone after a lone SOA). */
#define STREAM_GRACE_MS 1000

/* A stream that ends now: 0, or SS_ETSIG when its last message was unsigned. */
static int stream_end(query_t *q)
{
	return q->tsig != NULL && ss_tsig_stream_end(&q->tstream) != 0 ? SS_ETSIG : 0;
}

static void tcp_timer_cb(uv_timer_t *t)
{
	tconn_t *c = t->data;
	if (!c->last_look && c->q != NULL) {
		c->last_look = true; /* see LAST_LOOK_MS */
		uv_timer_start(&c->timer, tcp_timer_cb, LAST_LOOK_MS, 0);
		return;
	}
	if (c->q != NULL) {
		c->q->e->st.timeouts++;
	}
	bool stream = c->q != NULL && c->q->msg_cb != NULL;
	if (stream && c->q->maybe_done) {
		tcp_fail(c, stream_end(c->q)); /* silence after a possible end: the end */
		return;
	}
	tcp_fail(c, stream && uv_hrtime() >= c->limit_at ? SS_EDEADLINE : SS_ETIMEOUT);
}

/* A stream's timer: the idle time from now (no byte for that long; not while
 * it waits for room, which is no silence of the server's), never past the
 * whole-stream deadline. */
static void stream_arm(tconn_t *c)
{
	c->last_look = false;
	uint64_t now = uv_hrtime();
	uint64_t left_ms = c->limit_at > now ? (c->limit_at - now + 999999) / 1000000u : 0;
	uint64_t wait = c->waiting || left_ms < c->q->sopts.idle_ms ? left_ms : c->q->sopts.idle_ms;
	if (c->q->maybe_done && wait > STREAM_GRACE_MS) {
		wait = STREAM_GRACE_MS;
	}
	uv_timer_start(&c->timer, tcp_timer_cb, wait, 0);
}

static void tcp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)hint;
	tconn_t *c = h->data;
	if (c->cap - c->have < 4096) {
		size_t ncap = c->cap ? c->cap * 2 : 16384;
		if (ncap > 2 * 65538) {
			ncap = 2 * 65538;
		}
		uint8_t *nb = ncap > c->cap ? realloc(c->buf, ncap) : NULL;
		if (nb != NULL) {
			c->buf = nb;
			c->cap = ncap;
		}
	}
	*buf = uv_buf_init((char *)c->buf + c->have, (unsigned)(c->cap - c->have));
}

/* One whole message of a stream. Returns 0 to go on, 1 done, <0 error. */
static int stream_message(query_t *q, knot_pkt_t *pkt)
{
	if (knot_pkt_parse(pkt, 0) != KNOT_EOK) {
		return SS_EMALFORMED;
	}
	if (knot_wire_get_id(pkt->wire) != q->id || !knot_wire_get_qr(pkt->wire)) {
		return SS_EMALFORMED;
	}
	if (q->msgs == 0 && !answer_matches(q, pkt)) {
		return SS_EMALFORMED;
	}
	if (q->tsig != NULL) {
		if (q->msgs == 0) {
			ss_tsig_stream_init(&q->tstream, q->tsig, q->mac, q->mac_len);
		}
		int ret = ss_tsig_stream_next(&q->tstream, pkt);
		if (ret != 0) {
			return ret;
		}
	}
	q->msgs++;
	q->maybe_done = false;
	int ret = q->msg_cb(pkt, q->arg);
	if (ret == SS_STREAM_MAYBE_DONE) {
		q->maybe_done = true;
		return 0;
	}
	if (ret == 1) {
		return stream_end(q) != 0 ? SS_ETSIG : 1; /* the last message must be signed */
	}
	return ret;
}

static bool tcp_stream_message(tconn_t *c, uint8_t *wire, size_t len)
{
	query_t *q = c->q;
	knot_pkt_t *pkt = knot_pkt_new(wire, (uint16_t)len, NULL);
	int ret = pkt != NULL ? stream_message(q, pkt) : SS_ENOMEM;
	knot_pkt_free(pkt);
	if (ret != 0) {
		tcp_fail(c, ret < 0 ? ret : 0);
		return true;
	}
	if (q->maybe_done) {
		stream_arm(c); /* the grace for another message starts now */
	}
	return false;
}

/* Returns true when the connection is finished with. */
static bool tcp_message(tconn_t *c, uint8_t *wire, size_t len)
{
	query_t *q = c->q;
	if (q->msg_cb != NULL) {
		return tcp_stream_message(c, wire, len);
	}
	ss_qkey_t k = qkey(q);
	knot_pkt_t *pkt = NULL;
	switch (ss_answer_parse(&k, wire, len, &pkt)) {
	case SS_ANSWER_OK:
		break;
	case SS_ANSWER_MISMATCH:
		q->dropped++;
		q->e->st.dropped++;
		return false;
	default:
		tcp_fail(c, SS_EMALFORMED);
		return true;
	}
	tconn_close(c); /* c->buf (under wire) lives until the close callbacks */
	if (!take_answer(q, pkt, true) && q->state != Q_DONE) {
		query_finish(q, q->last_error, NULL);
	}
	knot_pkt_free(pkt);
	return true;
}

/*
 * Room in the budget for the next message of a stream (its wire size and
 * XFR_RR_COST per record): 0 taken, 1 wait, SS_ELIMIT when the stream alone
 * would not fit.
 */
static int stream_admit(tconn_t *c, const uint8_t *wire, size_t len)
{
	query_t *q = c->q;
	ss_engine_t *e = q->e;
	if (c->admitted) {
		c->admitted = false;
		return 0;
	}
	uint64_t cost = len + (uint64_t)XFR_RR_COST * knot_wire_get_ancount(wire);
	if (q->held + cost > ss_xfr_budget_limit(e->budget)) {
		return SS_ELIMIT;
	}
	if (!q->sopts.keep) {
		q->held += cost; /* nothing stays: a limit of its own */
		return 0;
	}
	if (!ss_xfr_budget_take(e->budget, cost)) {
		c->want = cost;
		return 1;
	}
	q->held += cost;
	uint64_t used = ss_xfr_budget_used(e->budget);
	e->st.xfr_held_max = used > e->st.xfr_held_max ? used : e->st.xfr_held_max;
	return 0;
}

/* Stop reading until the budget has room for c->want. */
static void stream_wait(tconn_t *c)
{
	ss_engine_t *e = c->q->e;
	uv_read_stop((uv_stream_t *)&c->tcp);
	c->waiting = true;
	tconn_t **pp = &e->waiters;
	while (*pp != NULL) {
		pp = &(*pp)->wnext;
	}
	*pp = c;
	e->st.xfr_waits++;
	stream_running(e, c, false);
	stream_arm(c);
}

static void tcp_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);

/* The whole messages in c's buffer, as far as the budget lets a stream go. */
static void tcp_process(tconn_t *c)
{
	while (c->q != NULL && c->have >= 2) {
		size_t mlen = knot_wire_read_u16(c->buf);
		if (mlen < KNOT_WIRE_HEADER_SIZE) {
			tcp_fail(c, SS_EMALFORMED);
			return;
		}
		if (c->have < 2 + mlen) {
			break;
		}
		int adm = c->q->msg_cb != NULL ? stream_admit(c, c->buf + 2, mlen) : 0;
		if (adm != 0) {
			adm < 0 ? tcp_fail(c, adm) : stream_wait(c);
			return;
		}
		if (tcp_message(c, c->buf + 2, mlen)) {
			return;
		}
		memmove(c->buf, c->buf + 2 + mlen, c->have - 2 - mlen);
		c->have -= 2 + mlen;
	}
}

/* Room came for a waiting stream (its want taken): read on. */
static void stream_resume(tconn_t *c)
{
	query_t *q = c->q;
	ss_engine_t *e = q->e;
	q->held += c->want;
	c->admitted = true;
	stream_running(e, c, true);
	stream_arm(c);
	tcp_process(c);
	if (c->q != NULL && !c->waiting &&
	    uv_read_start((uv_stream_t *)&c->tcp, tcp_alloc, tcp_read) != 0) {
		tcp_fail(c, SS_ENETWORK);
	}
}

static void tcp_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	(void)buf;
	tconn_t *c = st->data;
	if (c->q == NULL) {
		return;
	}
	if (n < 0) {
		/* closed after a possible end: the end */
		bool end = n == UV_EOF && c->q != NULL && c->q->maybe_done;
		tcp_fail(c, end ? stream_end(c->q) : uv_to_ss((int)n));
		return;
	}
	c->have += (size_t)n;
	if (c->waiting) {
		return; /* the bytes wait with the stream */
	}
	if (n > 0 && c->q->msg_cb != NULL) {
		if (uv_hrtime() >= c->limit_at) {
			tcp_fail(c, SS_EDEADLINE);
			return;
		}
		stream_arm(c); /* any byte resets the idle time */
	}
	tcp_process(c);
}

/*
 * Waiting streams: wake those the budget has room for, oldest first; when
 * none is left running to make room, end the one that holds most (it is the
 * transfer that does not fit), and look again.
 */
static void settle_waiters(ss_engine_t *e)
{
	for (;;) {
		tconn_t *c = e->waiters;
		while (c != NULL && !ss_xfr_budget_take(e->budget, c->want)) {
			c = c->wnext;
		}
		if (c != NULL) {
			waiter_unlink(e, c);
			stream_resume(c);
			continue;
		}
		if (e->waiters == NULL || e->streams_running > 0) {
			return;
		}
		tconn_t *big = e->waiters;
		for (c = e->waiters; c != NULL; c = c->wnext) {
			big = c->q->held > big->q->held ? c : big;
		}
		tcp_fail(big, SS_ELIMIT);
	}
}

static void tcp_written(uv_write_t *req, int status)
{
	tconn_t *c = req->data;
	if (status < 0 && c->q != NULL) {
		tcp_fail(c, uv_to_ss(status));
	}
}

static void tcp_connected(uv_connect_t *req, int status)
{
	tconn_t *c = req->data;
	if (c->q == NULL) {
		return;
	}
	if (status < 0) {
		tcp_fail(c, uv_to_ss(status));
		return;
	}
	uv_buf_t b = uv_buf_init((char *)c->out, (unsigned)(c->q->wire_len + 2));
	c->wreq.data = c;
	int ret = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, tcp_written);
	if (ret == 0) {
		ret = uv_read_start((uv_stream_t *)&c->tcp, tcp_alloc, tcp_read);
	}
	if (ret != 0) {
		tcp_fail(c, uv_to_ss(ret));
	}
}

static int tcp_bind_source(ss_engine_t *e, tconn_t *c, int fam)
{
	ss_addr_t src;
	return source_for(e, fam, &src) ? uv_tcp_bind(&c->tcp, ss_addr_sa(&src), 0) : 0;
}

/* q waits for a socket to connect over TCP (in flight already: first). */
static void fd_park(ss_engine_t *e, query_t *q)
{
	q->fdwait = true;
	q->fnext = NULL;
	if (e->fdwait_tail != NULL) {
		e->fdwait_tail->fnext = q;
	} else {
		e->fdwait = q;
	}
	e->fdwait_tail = q;
	e->st.fd_waits++;
}

static void fd_unpark(ss_engine_t *e, query_t *q)
{
	query_t **pp = &e->fdwait, *prev = NULL;
	while (*pp != NULL && *pp != q) {
		prev = *pp;
		pp = &(*pp)->fnext;
	}
	if (*pp == q) {
		*pp = q->fnext;
		if (e->fdwait_tail == q) {
			e->fdwait_tail = prev;
		}
	}
	q->fnext = NULL;
	q->fdwait = false;
}

/* A connect that ran out of files: wait for room if the engine has sockets
 * that will close, else it is a local error. */
static void tcp_no_files(tconn_t *c, query_t *q)
{
	ss_engine_t *e = c->e;
	tconn_close(c);
	if (fd_shortage(e)) {
		fd_park(e, q);
	} else {
		query_finish(q, SS_EMFILE, NULL);
	}
}

static void tcp_start(query_t *q)
{
	ss_engine_t *e = q->e;
	uv_timer_stop(&q->timer);
	sock_unlink(q);
	if (q->tconn != NULL) {
		tconn_close(q->tconn);
	}
	q->state = Q_TCP;
	if (!fd_room(e)) {
		fd_park(e, q);
		return;
	}
	q->sends++;
	e->st.tcp++;
	tconn_t *c = calloc(1, sizeof(*c));
	uint8_t *out = malloc(q->wire_len + 2);
	if (c == NULL || out == NULL) {
		free(c);
		free(out);
		query_finish(q, SS_ENOMEM, NULL);
		return;
	}
	knot_wire_write_u16(out, (uint16_t)q->wire_len);
	memcpy(out + 2, q->wire, q->wire_len);
	fd_opened(e);
	c->e = e;
	c->out = out;
	c->q = q;
	q->tconn = c;
	uv_tcp_init(e->loop, &c->tcp);
	uv_timer_init(e->loop, &c->timer);
	c->tcp.data = c->timer.data = c->creq.data = c;
	c->handles = 2;
	c->limit_at = uv_hrtime() + (uint64_t)q->sopts.limit_ms * 1000000u;
	if (q->msg_cb != NULL) {
		stream_running(e, c, q->sopts.keep);
		stream_arm(c);
	} else {
		uv_timer_start(&c->timer, tcp_timer_cb, q->timeout_ms, 0);
	}
	int ret = tcp_bind_source(e, c, ss_addr_family(&q->srv->addr));
	if (ret == 0) {
		ret = uv_tcp_connect(&c->creq, &c->tcp, ss_addr_sa(&q->srv->addr), tcp_connected);
	}
	q->last_send = uv_hrtime();
	if (ret == UV_EMFILE || ret == UV_ENFILE) {
		tcp_no_files(c, q);
	} else if (ret != 0) {
		tcp_fail(c, uv_to_ss(ret));
	}
}

/* ---- query lifecycle --------------------------------------------------- */

static void query_free_cb(uv_handle_t *h)
{
	query_t *q = h->data;
	free(q->qname);
	free(q->wire);
	ss_tsig_stream_clear(&q->tstream);
	knot_rrset_free(q->answer, NULL);
	knot_rrset_free(q->authority, NULL);
	free(q);
}

static void kick(ss_engine_t *e);

static void query_finish(query_t *q, int error, const knot_pkt_t *pkt)
{
	ss_engine_t *e = q->e;
	if (q->state == Q_DONE) {
		return;
	}
	bool was_running = q->state != Q_QUEUED;
	bool via_tcp = q->state == Q_TCP;
	q->state = Q_DONE;
	if (q->aprev) {
		q->aprev->anext = q->anext;
	} else {
		e->all = q->anext;
	}
	if (q->anext) {
		q->anext->aprev = q->aprev;
	}
	uv_timer_stop(&q->timer);
	sock_unlink(q);
	if (q->tconn != NULL) {
		tconn_close(q->tconn);
	}
	if (q->fdwait) {
		fd_unpark(e, q);
	}
	if (was_running) {
		q->srv->inflight--;
		e->inflight--;
		ready_push(e, q->srv);
		kick(e);
	}
	if (q->msg_cb != NULL) {
		e->finishing = q;
		q->done_cb(error, q->arg);
		e->finishing = NULL;
		if (q->sopts.keep) {
			ss_xfr_budget_give(e->budget, q->held); /* unless taken over */
		}
		q->held = 0;
	} else {
		ss_response_t r;
		memset(&r, 0, sizeof(r));
		r.error = error;
		r.sends = q->sends;
		r.dropped = q->dropped;
		r.tcp = via_tcp;
		r.edns = q->edns_now;
		r.rtt_us = (uint32_t)((uv_hrtime() - q->last_send) / 1000);
		if (error == 0 && pkt != NULL) {
			r.pkt = pkt;
			r.rcode = ss_pkt_rcode(pkt);
			r.tsig_error = ss_pkt_tsig_error(pkt);
			r.signed_ok = q->signed_ok;
			r.aa = knot_wire_get_aa(pkt->wire);
			r.tc = knot_wire_get_tc(pkt->wire);
			r.ra = knot_wire_get_ra(pkt->wire);
		}
		q->cb(&r, q->arg);
	}
	uv_close((uv_handle_t *)&q->timer, query_free_cb);
}

static void query_start(query_t *q)
{
	ss_engine_t *e = q->e;
	q->srv->inflight++;
	e->inflight++;
	if (q->srv->sock == NULL && !(q->flags & SS_QF_TCP) && q->msg_cb == NULL) {
		usock_t *s;
		int ret = usock_open(e, q->srv, &s);
		if (ret != 0) {
			q->state = Q_UDP;
			query_finish(q, ret, NULL);
			return;
		}
	}
	bool udp = q->msg_cb == NULL && !(q->flags & SS_QF_TCP);
	if (!(udp ? fresh_id(q->srv->sock, &q->id) : random_id(e, &q->id))) {
		q->state = Q_UDP;
		query_finish(q, SS_EIO, NULL); /* no randomness: no query goes out */
		return;
	}
	if (build_wire(q) != 0) {
		q->state = Q_UDP;
		query_finish(q, SS_EINVAL, NULL);
		return;
	}
	if (q->msg_cb != NULL || (q->flags & SS_QF_TCP)) {
		tcp_start(q);
	} else {
		udp_send_try(q);
	}
}

/*
 * The socket the next query of s needs: 0 it has one (or will connect over
 * TCP), 1 wait until one closes, or an SS_E* error for the query. A UDP
 * socket is opened here, so that running out of files waits instead.
 */
static int next_socket(ss_engine_t *e, server_t *s)
{
	const query_t *q = s->qhead;
	bool tcp = q->msg_cb != NULL || (q->flags & SS_QF_TCP);
	if (!tcp && s->sock != NULL) {
		return 0;
	}
	if (!fd_room(e)) {
		return 1;
	}
	usock_t *u;
	int ret = tcp ? 0 : usock_open(e, s, &u);
	return ret == SS_EMFILE && fd_shortage(e) ? 1 : ret;
}

/* Queries waiting to connect go first: they are in flight already. */
static void serve_fdwait(ss_engine_t *e)
{
	while (e->fdwait != NULL && e->fds_open < e->fd_budget) {
		query_t *q = e->fdwait;
		fd_unpark(e, q);
		tcp_start(q);
	}
	if (e->fdwait != NULL) {
		fd_room(e); /* an idle UDP socket closes for them */
		if (e->fds_open < e->fd_budget) {
			kick(e);
		}
	}
}

static void dispatch(ss_engine_t *e)
{
	e->fd_blocked = false;
	serve_fdwait(e);
	while (e->inflight < e->opts.max_inflight && e->fdwait == NULL) {
		server_t *s = ready_pop(e);
		if (s == NULL) {
			break;
		}
		if (next_socket(e, s) == 1) {
			ready_push(e, s);
			e->fd_blocked = true;
			break;
		}
		query_t *q = s->qhead;
		s->qhead = q->next;
		if (s->qhead == NULL) {
			s->qtail = NULL;
		}
		q->next = NULL;
		query_start(q);
		ready_push(e, s); /* back at the end of the ring: round robin */
	}
}

static void kick_cb(uv_idle_t *h)
{
	ss_engine_t *e = h->data;
	uv_idle_stop(&e->kick);
	e->kicking = false;
	dispatch(e);
	if (e->settle) {
		e->settle = false;
		settle_waiters(e);
	}
}

static void kick(ss_engine_t *e)
{
	if (!e->kicking && !e->closing) {
		e->kicking = true;
		uv_idle_start(&e->kick, kick_cb);
	}
}

static void settle_soon(ss_engine_t *e)
{
	e->settle = true;
	kick(e);
}

static void budget_given(void *arg)
{
	settle_soon(arg);
}

static void sweep_cb(uv_timer_t *t)
{
	ss_engine_t *e = t->data;
	uint64_t now = uv_hrtime();
	while (e->idle_head != NULL &&
	       now - e->idle_head->idle_since > (uint64_t)SWEEP_MS * 1000000u) {
		usock_close(e->idle_head);
	}
}

static int enqueue(ss_engine_t *e, const ss_query_t *spec, unsigned extra_flags, query_t *q)
{
	if (spec->qname == NULL || e->closing) {
		return SS_EINVAL;
	}
	int fam = ss_addr_family(&spec->server);
	if (fam != AF_INET && fam != AF_INET6) {
		return SS_EADDR;
	}
	q->e = e;
	q->srv = server_get(e, &spec->server);
	q->qname = knot_dname_copy(spec->qname, NULL);
	if (spec->answer != NULL) {
		q->answer = knot_rrset_copy(spec->answer, NULL);
	}
	if (spec->authority != NULL) {
		q->authority = knot_rrset_copy(spec->authority, NULL);
	}
	if (q->srv == NULL || q->qname == NULL || (spec->answer != NULL && q->answer == NULL) ||
	    (spec->authority != NULL && q->authority == NULL)) {
		return SS_ENOMEM;
	}
	q->qtype = spec->qtype;
	q->qclass = spec->qclass ? spec->qclass : KNOT_CLASS_IN;
	q->opcode = spec->opcode;
	q->flags = spec->flags | extra_flags;
	if (q->flags & (SS_QF_NSID | SS_QF_EXPIRE)) {
		q->flags |= SS_QF_EDNS;
	}
	q->edns_now = (q->flags & SS_QF_EDNS) != 0;
	q->tsig = spec->tsig;
	q->timeout_ms = spec->timeout_ms ? spec->timeout_ms : e->opts.timeout_ms;
	q->tries = spec->tries ? spec->tries : e->opts.tries;
	uv_timer_init(e->loop, &q->timer);
	q->timer.data = q;
	q->state = Q_QUEUED;
	server_t *s = q->srv;
	if (s->qtail) {
		s->qtail->next = q;
	} else {
		s->qhead = q;
	}
	s->qtail = q;
	q->anext = e->all;
	if (e->all) {
		e->all->aprev = q;
	}
	e->all = q;
	ready_push(e, s);
	e->st.queries++;
	kick(e);
	return 0;
}

static void query_abort_new(query_t *q)
{
	free(q->qname);
	knot_rrset_free(q->answer, NULL);
	knot_rrset_free(q->authority, NULL);
	free(q);
}

int ss_engine_query(ss_engine_t *e, const ss_query_t *spec, ss_query_cb cb, void *arg)
{
	query_t *q = calloc(1, sizeof(*q));
	if (q == NULL || cb == NULL) {
		free(q);
		return q ? SS_EINVAL : SS_ENOMEM;
	}
	q->cb = cb;
	q->arg = arg;
	int ret = enqueue(e, spec, 0, q);
	if (ret != 0) {
		query_abort_new(q);
	}
	return ret;
}

int ss_engine_stream(ss_engine_t *e, const ss_query_t *spec, const ss_stream_opts_t *opts,
                     ss_stream_msg_cb msg_cb, ss_stream_done_cb done_cb, void *arg)
{
	if (msg_cb == NULL || done_cb == NULL) {
		return SS_EINVAL;
	}
	query_t *q = calloc(1, sizeof(*q));
	if (q == NULL) {
		return SS_ENOMEM;
	}
	q->msg_cb = msg_cb;
	q->done_cb = done_cb;
	q->arg = arg;
	q->sopts.idle_ms = opts && opts->idle_ms ? opts->idle_ms : 0;
	q->sopts.limit_ms = opts && opts->limit_ms ? opts->limit_ms : e->opts.xfr_deadline_ms;
	q->sopts.keep = opts && opts->keep;
	int ret = enqueue(e, spec, SS_QF_TCP | SS_QF_NOFALLBACK, q);
	if (ret != 0) {
		query_abort_new(q);
		return ret;
	}
	if (q->sopts.idle_ms == 0) {
		q->sopts.idle_ms = q->timeout_ms;
	}
	return 0;
}

/* ---- engine ------------------------------------------------------------ */

ss_engine_t *ss_engine_new(uv_loop_t *loop, const ss_engine_opts_t *opts)
{
	ss_engine_t *e = calloc(1, sizeof(*e));
	if (e == NULL) {
		return NULL;
	}
	e->loop = loop;
	if (!refill_ids(e)) {
		free(e);
		return NULL;
	}
	if (opts) {
		e->opts = *opts;
	} else {
		ss_engine_opts_default(&e->opts);
	}
	if (e->opts.timeout_ms == 0) {
		e->opts.timeout_ms = 1500;
	}
	if (e->opts.tries == 0) {
		e->opts.tries = 1;
	}
	if (e->opts.max_inflight == 0) {
		e->opts.max_inflight = 1;
	}
	if (e->opts.per_server == 0) {
		e->opts.per_server = 1;
	}
	if (e->opts.xfr_budget == 0) {
		e->opts.xfr_budget = XFR_BUDGET;
	}
	if (e->opts.xfr_deadline_ms == 0) {
		e->opts.xfr_deadline_ms = STREAM_LIMIT_MS;
	}
	e->fd_budget = fd_budget_now();
	if (e->opts.max_sockets != 0 && e->opts.max_sockets < e->fd_budget) {
		e->fd_budget = e->opts.max_sockets;
	}
	e->budget = ss_xfr_budget_new(e->opts.xfr_budget);
	e->rbuf = malloc((size_t)RBUF_SLOTS * 65536);
	if (e->budget == NULL || e->rbuf == NULL) {
		if (e->budget != NULL) {
			ss_xfr_budget_unref(e->budget);
		}
		free(e->rbuf);
		free(e);
		return NULL;
	}
	ss_xfr_budget_on_give(e->budget, budget_given, e);
	uv_idle_init(loop, &e->kick);
	e->kick.data = e;
	uv_timer_init(loop, &e->sweep);
	e->sweep.data = e;
	uv_timer_start(&e->sweep, sweep_cb, SWEEP_MS, SWEEP_MS);
	uv_unref((uv_handle_t *)&e->sweep);
	return e;
}

int ss_engine_set_server_limit(ss_engine_t *e, const ss_addr_t *addr, unsigned limit)
{
	server_t *s = server_get(e, addr);
	if (s == NULL) {
		return SS_ENOMEM;
	}
	s->limit = limit;
	return 0;
}

void ss_engine_set_timeout(ss_engine_t *e, unsigned timeout_ms, unsigned tries)
{
	e->opts.timeout_ms = timeout_ms ? timeout_ms : e->opts.timeout_ms;
	e->opts.tries = tries ? tries : e->opts.tries;
}

const ss_engine_opts_t *ss_engine_get_opts(const ss_engine_t *e)
{
	return &e->opts;
}

uv_loop_t *ss_engine_loop(ss_engine_t *e)
{
	return e->loop;
}

void ss_engine_stats(const ss_engine_t *e, ss_engine_stats_t *out)
{
	*out = e->st;
	out->xfr_held = ss_xfr_budget_used(e->budget);
}

ss_xfr_hold_t *ss_engine_stream_keep(ss_engine_t *e)
{
	query_t *q = e->finishing;
	if (q == NULL || !q->sopts.keep || q->held == 0) {
		return NULL;
	}
	ss_xfr_hold_t *h = ss_xfr_hold_new(e->budget, q->held);
	if (h != NULL) {
		q->held = 0;
	}
	return h;
}

void ss_engine_cancel_all(ss_engine_t *e)
{
	bool saved = e->closing;
	e->closing = true; /* no dispatch while tearing down */
	for (unsigned b = 0; b < HASH_BUCKETS; b++) {
		for (server_t *s = e->buckets[b]; s != NULL; s = s->hnext) {
			s->qhead = s->qtail = NULL;
			s->in_ready = false;
		}
	}
	e->ready = NULL;
	while (e->all != NULL) {
		query_finish(e->all, SS_ECANCELED, NULL);
	}
	e->closing = saved;
}

static void engine_handle_closed(uv_handle_t *h)
{
	ss_engine_t *e = h->data;
	if (--e->handles == 0) {
		ss_xfr_budget_unref(e->budget); /* kept shares may still hold it */
		free(e->rbuf);
		free(e);
	}
}

void ss_engine_close(ss_engine_t *e)
{
	ss_engine_cancel_all(e);
	e->closing = true;
	ss_xfr_budget_on_give(e->budget, NULL, NULL);
	for (unsigned b = 0; b < HASH_BUCKETS; b++) {
		server_t *s = e->buckets[b];
		while (s != NULL) {
			server_t *next = s->hnext;
			if (s->sock != NULL) {
				usock_close(s->sock);
			}
			free(s);
			s = next;
		}
		e->buckets[b] = NULL;
	}
	e->ready = NULL;
	e->handles = 2;
	uv_close((uv_handle_t *)&e->kick, engine_handle_closed);
	uv_close((uv_handle_t *)&e->sweep, engine_handle_closed);
}

void ss_xfr_hold_release(ss_xfr_hold_t *h)
{
	ss_xfr_hold_free(h);
}
