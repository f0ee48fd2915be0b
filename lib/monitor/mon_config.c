/*
 * The monitor's config: YAML through libyaml's document loader, then a walk
 * over the nodes with one table of keys per mapping. Every node carries its
 * position, so each error names file:line:column. Aliases are refused (a
 * node reached twice), which also bounds the walk.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include <soasync/error.h>
#include <soasync/units.h>
#include <soasync/xfr.h>

#include "mon_int.h"

#define MAX_CONFIG_BYTES (64u << 20)
#define MAX_ZONES        10000000u
#define MAX_DEPTH        16

typedef struct {
	yaml_document_t doc;
	const char *file;
	const char *dir; /* for relative paths; NULL: as they are */
	bool no_files;   /* do not read the files the config names (fuzzing) */
	ss_mon_error_t *err;
	ss_mon_config_t *cfg;
	unsigned char *seen; /* node ids already walked */
	size_t nnodes;
} walk_t;

typedef int (*key_fn)(walk_t *w, yaml_node_t *value);

typedef struct {
	const char *key;
	key_fn fn;
} keydef_t;

/* ---- errors ------------------------------------------------------------ */

const char *ss_mon_error_format(const ss_mon_error_t *err, char *buf, size_t len)
{
	if (err->file[0] && err->line && err->column) {
		snprintf(buf, len, "%s:%u:%u: %s", err->file, err->line, err->column, err->message);
	} else if (err->file[0] && err->line) {
		snprintf(buf, len, "%s:%u: %s", err->file, err->line, err->message);
	} else if (err->file[0]) {
		snprintf(buf, len, "%s: %s", err->file, err->message);
	} else {
		snprintf(buf, len, "%s", err->message);
	}
	return buf;
}

void mon_error_set(ss_mon_error_t *err, const char *file, unsigned line, unsigned column,
                   const char *fmt, ...)
{
	if (err == NULL) {
		return;
	}
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	err->column = column;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

static int node_error(walk_t *w, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int node_error(walk_t *w, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[sizeof(w->err->message)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mon_error_set(w->err, w->file, (unsigned)n->start_mark.line + 1,
	              (unsigned)n->start_mark.column + 1, "%s", msg);
	return SS_EPARSE;
}

/* ---- nodes --------------------------------------------------------------- */

static yaml_node_t *node(walk_t *w, int id)
{
	return yaml_document_get_node(&w->doc, id);
}

/* Each node once: a second visit is an alias (and a possible blow-up). */
static int visit(walk_t *w, yaml_node_t *n)
{
	size_t id = (size_t)(n - w->doc.nodes.start);
	if (id >= w->nnodes) {
		return node_error(w, n, "internal: node out of range");
	}
	if (w->seen[id]) {
		return node_error(w, n, "aliases (*name) are not supported in this config");
	}
	w->seen[id] = 1;
	return 0;
}

static const char *kind_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a single value";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping (key: value)";
	default:
		return "nothing";
	}
}

static int scalar(walk_t *w, yaml_node_t *n, const char *what, const char **out)
{
	int ret = visit(w, n);
	if (ret != 0) {
		return ret;
	}
	if (n->type != YAML_SCALAR_NODE) {
		return node_error(w, n, "%s: expected %s, got %s", what, "a single value",
		                  kind_name(n));
	}
	const char *s = (const char *)n->data.scalar.value;
	if (strlen(s) != n->data.scalar.length) {
		return node_error(w, n, "%s: a NUL byte in the value", what);
	}
	*out = s;
	return 0;
}

/* A plain (unquoted) scalar that YAML would read as null. */
static bool is_null(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (*s == '\0' || strcmp(s, "~") == 0 || strcasecmp(s, "null") == 0);
}

static int text(walk_t *w, yaml_node_t *n, const char *what, char **out)
{
	const char *s = NULL;
	int ret = scalar(w, n, what, &s);
	if (ret != 0) {
		return ret;
	}
	if (*s == '\0' || is_null(n)) {
		return node_error(w, n, "%s: expected a value, got nothing", what);
	}
	free(*out);
	*out = strdup(s);
	return *out ? 0 : SS_ENOMEM;
}

/* A path, relative ones taken from the config file's directory. */
static int path(walk_t *w, yaml_node_t *n, const char *what, char **out)
{
	int ret = text(w, n, what, out);
	if (ret != 0 || **out == '/' || w->dir == NULL) {
		return ret;
	}
	char *full = NULL;
	if (asprintf(&full, "%s/%s", w->dir, *out) < 0) {
		return SS_ENOMEM;
	}
	free(*out);
	*out = full;
	return 0;
}

static int duration(walk_t *w, yaml_node_t *n, const char *what, uint64_t min_ms, uint64_t *out)
{
	const char *s = NULL;
	uint64_t v = 0;
	int ret = scalar(w, n, what, &s);
	if (ret != 0) {
		return ret;
	}
	if (ss_duration_parse(s, 0, &v) != 0) {
		return node_error(w, n,
		                  "%s: expected a duration with a unit (e.g. 1500ms, 60s, 5m, 2h, "
		                  "1d), got '%s'",
		                  what, s);
	}
	if (v < min_ms) {
		char lo[32];
		return node_error(w, n, "%s: at least %s, got '%s'", what,
		                  ss_duration_format(min_ms, lo, sizeof(lo)), s);
	}
	*out = v;
	return 0;
}

static int number(walk_t *w, yaml_node_t *n, const char *what, unsigned min, unsigned max,
                  unsigned *out)
{
	const char *s = NULL;
	int ret = scalar(w, n, what, &s);
	if (ret != 0) {
		return ret;
	}
	char *end = NULL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < min || v > max) {
		return node_error(w, n, "%s: expected a whole number from %u to %u, got '%s'", what,
		                  min, max, s);
	}
	*out = (unsigned)v;
	return 0;
}

static int boolean(walk_t *w, yaml_node_t *n, const char *what, bool *out)
{
	const char *s = NULL;
	int ret = scalar(w, n, what, &s);
	if (ret != 0) {
		return ret;
	}
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0) {
		*out = true;
	} else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0) {
		*out = false;
	} else {
		return node_error(w, n, "%s: expected true or false, got '%s'", what, s);
	}
	return 0;
}

static int address(walk_t *w, yaml_node_t *n, const char *what, uint16_t port, ss_addr_t *out)
{
	const char *s = NULL;
	int ret = scalar(w, n, what, &s);
	if (ret != 0) {
		return ret;
	}
	if (mon_addr_parse(s, port, out) != 0) {
		return node_error(w, n,
		                  "%s: '%s' is not an address: expected ADDR, ADDR#PORT, "
		                  "IPV4:PORT or [IPV6]:PORT",
		                  what, s);
	}
	return 0;
}

/* A list of addresses; a single value is a list of one. */
static int addresses(walk_t *w, yaml_node_t *n, const char *what, ss_addr_t **out, size_t *nout)
{
	if (n->type == YAML_SCALAR_NODE) {
		free(*out);
		*nout = 0;
		if ((*out = calloc(1, sizeof(**out))) == NULL) {
			return SS_ENOMEM;
		}
		*nout = 1;
		return address(w, n, what, 53, *out);
	}
	int ret = visit(w, n);
	if (ret != 0) {
		return ret;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		return node_error(w, n, "%s: expected an address or a list of them, got %s", what,
		                  kind_name(n));
	}
	size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (cnt == 0) {
		return node_error(w, n, "%s: an empty list", what);
	}
	free(*out);
	*nout = 0;
	if ((*out = calloc(cnt, sizeof(**out))) == NULL) {
		return SS_ENOMEM;
	}
	for (size_t i = 0; i < cnt; i++) {
		ret = address(w, node(w, n->data.sequence.items.start[i]), what, 53, &(*out)[i]);
		if (ret != 0) {
			return ret;
		}
		*nout = i + 1;
	}
	return 0;
}

/* Walk a mapping: every key known, none twice. */
static int mapping(walk_t *w, yaml_node_t *n, const char *what, const keydef_t *keys, size_t nkeys)
{
	int ret = visit(w, n);
	if (ret != 0) {
		return ret;
	}
	if (n->type != YAML_MAPPING_NODE) {
		return node_error(w, n, "%s: expected %s, got %s", what, "a mapping (key: value)",
		                  kind_name(n));
	}
	unsigned long long done = 0;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(w, p->key);
		const char *name = NULL;
		if ((ret = scalar(w, k, what, &name)) != 0) {
			return ret;
		}
		size_t i = 0;
		while (i < nkeys && strcmp(keys[i].key, name) != 0) {
			i++;
		}
		if (i == nkeys) {
			char known[400] = "";
			for (size_t j = 0; j < nkeys; j++) {
				size_t l = strlen(known);
				snprintf(known + l, sizeof(known) - l, "%s%s", j ? ", " : "",
				         keys[j].key);
			}
			return node_error(w, k, "%s: unknown key '%s' (known: %s)", what, name,
			                  known);
		}
		if (done & (1ull << i)) {
			return node_error(w, k, "%s: key '%s' given twice", what, name);
		}
		done |= 1ull << i;
		yaml_node_t *v = node(w, p->value);
		if (w->seen[v - w->doc.nodes.start]) {
			return node_error(
			    w, k, "%s: aliases (*name) are not supported in this config", name);
		}
		if ((ret = keys[i].fn(w, v)) != 0) {
			return ret;
		}
	}
	return 0;
}

/* ---- zones --------------------------------------------------------------- */

static ss_mon_zone_config_t *cur_zone(walk_t *w)
{
	return &w->cfg->zones[w->cfg->nzones - 1];
}

static int zone_name_set(walk_t *w, yaml_node_t *n, ss_mon_zone_config_t *z)
{
	const char *s = NULL;
	int ret = scalar(w, n, "zones: name", &s);
	if (ret != 0) {
		return ret;
	}
	if (mon_zone_name_norm(s, &z->name) != 0) {
		return node_error(w, n, "zones: '%s' is not a valid zone name", s);
	}
	z->line = (unsigned)n->start_mark.line + 1;
	z->column = (unsigned)n->start_mark.column + 1;
	return 0;
}

static int zk_name(walk_t *w, yaml_node_t *v)
{
	return zone_name_set(w, v, cur_zone(w));
}

static int zk_primary(walk_t *w, yaml_node_t *v)
{
	ss_mon_zone_config_t *z = cur_zone(w);
	return addresses(w, v, "zones: primary", &z->primary, &z->nprimary);
}

static int zk_ns(walk_t *w, yaml_node_t *v)
{
	ss_mon_zone_config_t *z = cur_zone(w);
	return addresses(w, v, "zones: ns", &z->ns, &z->nns);
}

static int zk_content(walk_t *w, yaml_node_t *v)
{
	return duration(w, v, "zones: content", 1, &cur_zone(w)->content_ms);
}

static const keydef_t zone_keys[] = {
    {"name", zk_name},
    {"primary", zk_primary},
    {"ns", zk_ns},
    {"content", zk_content},
};

static int zone_push(ss_mon_config_t *cfg)
{
	if (cfg->nzones >= MAX_ZONES) {
		return SS_ELIMIT;
	}
	ss_mon_zone_config_t *grown = realloc(cfg->zones, (cfg->nzones + 1) * sizeof(*grown));
	if (grown == NULL) {
		return SS_ENOMEM;
	}
	cfg->zones = grown;
	memset(&grown[cfg->nzones++], 0, sizeof(*grown));
	return 0;
}

static int one_zone(walk_t *w, yaml_node_t *item)
{
	int ret = zone_push(w->cfg);
	if (ret != 0) {
		return ret == SS_ELIMIT ? node_error(w, item, "zones: too many zones") : ret;
	}
	if (item->type == YAML_SCALAR_NODE) {
		return zone_name_set(w, item, cur_zone(w));
	}
	ret = mapping(w, item, "zones", zone_keys, sizeof(zone_keys) / sizeof(zone_keys[0]));
	if (ret == 0 && cur_zone(w)->name == NULL) {
		return node_error(w, item, "zones: an entry without 'name'");
	}
	return ret;
}

static int k_zones(walk_t *w, yaml_node_t *v)
{
	int ret = visit(w, v);
	if (ret != 0) {
		return ret;
	}
	if (v->type == YAML_SCALAR_NODE && is_null(v)) {
		return 0;
	}
	if (v->type != YAML_SEQUENCE_NODE) {
		return node_error(w, v, "zones: expected a list, got %s", kind_name(v));
	}
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		if ((ret = one_zone(w, node(w, *it))) != 0) {
			return ret;
		}
	}
	return 0;
}

/* ---- top-level keys -------------------------------------------------------- */

static int k_database(walk_t *w, yaml_node_t *v)
{
	return path(w, v, "database", &w->cfg->database);
}

static int k_resolver(walk_t *w, yaml_node_t *v)
{
	w->cfg->has_resolver = true;
	return address(w, v, "resolver", 53, &w->cfg->resolver);
}

static int k_source(walk_t *w, yaml_node_t *v)
{
	ss_addr_t *list = NULL;
	size_t n = 0;
	int ret = addresses(w, v, "source", &list, &n);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		bool v6 = ss_addr_family(&list[i]) == AF_INET6;
		bool *has = v6 ? &w->cfg->has_source6 : &w->cfg->has_source4;
		if (*has) {
			ret = node_error(w, v, "source: at most one IPv4 and one IPv6 address");
			break;
		}
		*has = true;
		*(v6 ? &w->cfg->source6 : &w->cfg->source4) = list[i];
	}
	free(list);
	return ret;
}

#define DURATION_KEY(fname, key, field, min)                                                       \
	static int fname(walk_t *w, yaml_node_t *v)                                                \
	{                                                                                          \
		return duration(w, v, key, min, &w->cfg->field);                                   \
	}
DURATION_KEY(k_interval, "interval", interval_ms, 100)
DURATION_KEY(k_fast_interval, "fast_interval", fast_interval_ms, 50)
DURATION_KEY(k_converge_timeout, "converge_timeout", converge_timeout_ms, 100)
DURATION_KEY(k_lag_warning, "lag_warning", lag_warning_ms, 0)
DURATION_KEY(k_lag_critical, "lag_critical", lag_critical_ms, 0)
DURATION_KEY(k_discover_interval, "discover_interval", discover_interval_ms, 1000)

static int k_history_days(walk_t *w, yaml_node_t *v)
{
	unsigned d = 0;
	int ret = number(w, v, "history_days", 1, 100000, &d);
	w->cfg->history_days = d;
	return ret;
}

static int k_expire_warn(walk_t *w, yaml_node_t *v)
{
	uint64_t ms = 0;
	int ret = duration(w, v, "expire_warn", 0, &ms);
	if (ret == 0 && ms / 1000 >= UINT32_MAX) {
		return node_error(w, v, "expire_warn: too long");
	}
	w->cfg->expire_warn_s = ms == 0 ? UINT32_MAX : (uint32_t)(ms / 1000);
	return ret;
}

static int k_query_timeout(walk_t *w, yaml_node_t *v)
{
	uint64_t ms = 0;
	int ret = duration(w, v, "query_timeout", 1, &ms);
	if (ret == 0 && ms > 600000) {
		return node_error(w, v, "query_timeout: at most 10m");
	}
	w->cfg->query_timeout_ms = (unsigned)ms;
	return ret;
}

static int k_tries(walk_t *w, yaml_node_t *v)
{
	return number(w, v, "tries", 1, 100, &w->cfg->tries);
}

static int k_max_inflight(walk_t *w, yaml_node_t *v)
{
	return number(w, v, "max_inflight", 1, 100000, &w->cfg->max_inflight);
}

static int k_per_server(walk_t *w, yaml_node_t *v)
{
	return number(w, v, "per_server", 1, 60000, &w->cfg->per_server);
}

static int l_http(walk_t *w, yaml_node_t *v)
{
	w->cfg->has_http = true;
	return address(w, v, "listen: http", 9153, &w->cfg->http);
}

static int l_notify(walk_t *w, yaml_node_t *v)
{
	w->cfg->has_notify = true;
	return address(w, v, "listen: notify", 53, &w->cfg->notify);
}

static const keydef_t listen_keys[] = {{"http", l_http}, {"notify", l_notify}};

static int k_listen(walk_t *w, yaml_node_t *v)
{
	return mapping(w, v, "listen", listen_keys, 2);
}

static int one_prefix(walk_t *w, yaml_node_t *n)
{
	const char *s = NULL;
	int ret = scalar(w, n, "notify_allow", &s);
	if (ret != 0) {
		return ret;
	}
	ss_mon_config_t *c = w->cfg;
	ss_mon_prefix_t *grown = realloc(c->notify_allow, (c->nnotify_allow + 1) * sizeof(*grown));
	if (grown == NULL) {
		return SS_ENOMEM;
	}
	c->notify_allow = grown;
	if (mon_prefix_parse(s, &grown[c->nnotify_allow]) != 0) {
		return node_error(w, n,
		                  "notify_allow: '%s' is not an address or prefix (192.0.2.1, "
		                  "192.0.2.0/24, 2001:db8::/64)",
		                  s);
	}
	c->nnotify_allow++;
	return 0;
}

static int k_notify_allow(walk_t *w, yaml_node_t *v)
{
	if (v->type == YAML_SCALAR_NODE) {
		return one_prefix(w, v);
	}
	int ret = visit(w, v);
	if (ret != 0) {
		return ret;
	}
	if (v->type != YAML_SEQUENCE_NODE) {
		return node_error(w, v, "notify_allow: expected a list of addresses, got %s",
		                  kind_name(v));
	}
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     ret == 0 && it < v->data.sequence.items.top; it++) {
		ret = one_prefix(w, node(w, *it));
	}
	return ret;
}

static int k_tsig(walk_t *w, yaml_node_t *v)
{
	int ret = path(w, v, "tsig", &w->cfg->tsig_path);
	if (ret != 0 || w->no_files) {
		return ret;
	}
	char why[256] = "";
	ret = ss_tsig_from_bind_file(w->cfg->tsig_path, &w->cfg->tsig, why, sizeof(why));
	if (ret != 0) {
		mon_error_set(w->err, w->cfg->tsig_path, 0, 0, "tsig key file: %s", why);
		return ret == SS_EIO ? SS_EIO : SS_EPARSE;
	}
	w->cfg->has_tsig = true;
	return 0;
}

static int k_user(walk_t *w, yaml_node_t *v)
{
	return text(w, v, "user", &w->cfg->user);
}

static int k_site(walk_t *w, yaml_node_t *v)
{
	int ret = text(w, v, "site", &w->cfg->site);
	for (const char *p = w->cfg->site; ret == 0 && *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\') {
			return node_error(w, v,
			                  "site: control characters, quotes and backslashes "
			                  "are not allowed in a label");
		}
	}
	return ret;
}

static int k_zones_from(walk_t *w, yaml_node_t *v)
{
	return path(w, v, "zones_from", &w->cfg->zones_from);
}

static int a_command(walk_t *w, yaml_node_t *v)
{
	int ret = visit(w, v);
	if (ret != 0) {
		return ret;
	}
	if (v->type != YAML_SEQUENCE_NODE) {
		return node_error(
		    w, v,
		    "alerts: command: expected a list (the program and its "
		    "arguments, no shell: [/usr/local/bin/page, --team, dns]), got %s",
		    kind_name(v));
	}
	size_t cnt = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (cnt == 0) {
		return node_error(w, v, "alerts: command: an empty list");
	}
	char **argv = calloc(cnt + 1, sizeof(*argv));
	if (argv == NULL) {
		return SS_ENOMEM;
	}
	w->cfg->alert_command = argv;
	for (size_t i = 0; i < cnt; i++) {
		ret =
		    text(w, node(w, v->data.sequence.items.start[i]), "alerts: command", &argv[i]);
		if (ret != 0) {
			return ret;
		}
	}
	return 0;
}

static int a_webhook(walk_t *w, yaml_node_t *v)
{
	int ret = text(w, v, "alerts: webhook", &w->cfg->alert_webhook);
	const char *u = w->cfg->alert_webhook;
	if (ret == 0 && strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) {
		return node_error(
		    w, v, "alerts: webhook: expected an http:// or https:// URL, got '%s'", u);
	}
	return ret;
}

static int a_repeat(walk_t *w, yaml_node_t *v)
{
	return duration(w, v, "alerts: repeat", 0, &w->cfg->alert_repeat_ms);
}

static const keydef_t alert_keys[] = {
    {"command", a_command},
    {"webhook", a_webhook},
    {"repeat", a_repeat},
};

static int k_alerts(walk_t *w, yaml_node_t *v)
{
	return mapping(w, v, "alerts", alert_keys, 3);
}

static int m_per_address(walk_t *w, yaml_node_t *v)
{
	return boolean(w, v, "metrics: per_address", &w->cfg->metrics_per_address);
}

static const keydef_t metrics_keys[] = {{"per_address", m_per_address}};

static int k_metrics(walk_t *w, yaml_node_t *v)
{
	return mapping(w, v, "metrics", metrics_keys, 1);
}

static const keydef_t top_keys[] = {
    {"database", k_database},
    {"resolver", k_resolver},
    {"source", k_source},
    {"interval", k_interval},
    {"fast_interval", k_fast_interval},
    {"converge_timeout", k_converge_timeout},
    {"lag_warning", k_lag_warning},
    {"lag_critical", k_lag_critical},
    {"discover_interval", k_discover_interval},
    {"history_days", k_history_days},
    {"expire_warn", k_expire_warn},
    {"query_timeout", k_query_timeout},
    {"tries", k_tries},
    {"max_inflight", k_max_inflight},
    {"per_server", k_per_server},
    {"listen", k_listen},
    {"notify_allow", k_notify_allow},
    {"tsig", k_tsig},
    {"user", k_user},
    {"site", k_site},
    {"zones", k_zones},
    {"zones_from", k_zones_from},
    {"alerts", k_alerts},
    {"metrics", k_metrics},
};

/* ---- the whole file ---------------------------------------------------------- */

static void defaults(ss_mon_config_t *c)
{
	c->interval_ms = 60000;
	c->fast_interval_ms = 2000;
	c->converge_timeout_ms = 30 * 60000;
	c->lag_warning_ms = 5 * 60000;
	c->lag_critical_ms = 30 * 60000;
	c->discover_interval_ms = 3600000;
	c->history_days = 400;
	c->expire_warn_s = 86400;
	c->query_timeout_ms = 1500;
	c->tries = 3;
	c->max_inflight = 1000;
	c->per_server = 100;
	c->alert_repeat_ms = 3600000;
	c->metrics_per_address = true;
}

static int cmp_zone(const void *a, const void *b)
{
	return strcmp(((const ss_mon_zone_config_t *)a)->name,
	              ((const ss_mon_zone_config_t *)b)->name);
}

/* Zones must be unique: the later place is named, with the earlier one. */
static void duplicate(walk_t *w, const ss_mon_zone_config_t *a, const ss_mon_zone_config_t *b)
{
	if (a->line == 0 && b->line == 0) {
		mon_error_set(w->err, w->cfg->zones_from, 0, 0, "zone %s is listed twice", a->name);
		return;
	}
	if (b->line == 0 || (a->line != 0 && (a->line > b->line ||
	                                      (a->line == b->line && a->column > b->column)))) {
		const ss_mon_zone_config_t *t = a;
		a = b;
		b = t;
	}
	char also[300];
	if (a->line != 0) {
		snprintf(also, sizeof(also), "line %u, column %u", a->line, a->column);
	} else {
		snprintf(also, sizeof(also), "in %s", w->cfg->zones_from);
	}
	mon_error_set(w->err, w->file, b->line, b->column, "zone %s is listed twice (also %s)",
	              b->name, also);
}

static int check_unique(walk_t *w)
{
	ss_mon_config_t *c = w->cfg;
	if (c->nzones < 2) {
		return 0;
	}
	ss_mon_zone_config_t *sorted = malloc(c->nzones * sizeof(*sorted));
	if (sorted == NULL) {
		return SS_ENOMEM;
	}
	memcpy(sorted, c->zones, c->nzones * sizeof(*sorted));
	qsort(sorted, c->nzones, sizeof(*sorted), cmp_zone);
	int ret = 0;
	for (size_t i = 1; i < c->nzones && ret == 0; i++) {
		if (strcmp(sorted[i - 1].name, sorted[i].name) == 0) {
			duplicate(w, &sorted[i - 1], &sorted[i]);
			ret = SS_EPARSE;
		}
	}
	free(sorted);
	return ret;
}

static int check_sense(walk_t *w, yaml_node_t *root)
{
	ss_mon_config_t *c = w->cfg;
	if (c->database == NULL) {
		return node_error(w, root, "database: missing (the SQLite file for the history)");
	}
	if (c->fast_interval_ms > c->interval_ms) {
		return node_error(
		    w, root, "fast_interval (%llu ms) is longer than interval (%llu ms)",
		    (unsigned long long)c->fast_interval_ms, (unsigned long long)c->interval_ms);
	}
	if (c->lag_warning_ms > c->lag_critical_ms) {
		return node_error(w, root, "lag_warning is longer than lag_critical");
	}
	return 0;
}

static int zones_from_add(const char *name, unsigned line, void *arg)
{
	walk_t *w = arg;
	int ret = zone_push(w->cfg);
	if (ret != 0) {
		mon_error_set(w->err, w->cfg->zones_from, line, 0, "too many zones");
		return ret;
	}
	if (mon_zone_name_norm(name, &cur_zone(w)->name) != 0) {
		w->cfg->nzones--;
		mon_error_set(w->err, w->cfg->zones_from, line, 0, "'%s' is not a valid zone name",
		              name);
		return SS_EPARSE;
	}
	return 0;
}

static int walk(walk_t *w)
{
	yaml_node_t *root = yaml_document_get_root_node(&w->doc);
	if (root == NULL) {
		mon_error_set(w->err, w->file, 0, 0, "empty config (database: is required)");
		return SS_EPARSE;
	}
	w->nnodes = (size_t)(w->doc.nodes.top - w->doc.nodes.start);
	if ((w->seen = calloc(w->nnodes, 1)) == NULL) {
		return SS_ENOMEM;
	}
	int ret = mapping(w, root, "config", top_keys, sizeof(top_keys) / sizeof(top_keys[0]));
	if (ret == 0 && w->cfg->zones_from != NULL && !w->no_files) {
		ret = mon_read_lines(w->cfg->zones_from, zones_from_add, w, w->err);
	}
	ret = ret ? ret : check_sense(w, root);
	return ret ? ret : check_unique(w);
}

static int yaml_error(const yaml_parser_t *p, walk_t *w)
{
	const yaml_mark_t *m = p->problem ? &p->problem_mark : &p->context_mark;
	mon_error_set(w->err, w->file, (unsigned)m->line + 1, (unsigned)m->column + 1,
	              "not valid YAML: %s%s%s", p->problem ? p->problem : "error",
	              p->context ? " " : "", p->context ? p->context : "");
	return SS_EPARSE;
}

/* A first pass over the events, before the loader builds the tree: libyaml
 * takes quadratic time on deep nesting, and an alias is best named where it
 * is used. A config is four levels deep. */
static int check_shape(const char *text, size_t len, walk_t *w)
{
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		return SS_ENOMEM;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	int ret = 0, depth = 0;
	for (bool end = false; !end && ret == 0;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			ret = yaml_error(&p, w);
			break;
		}
		unsigned line = (unsigned)ev.start_mark.line + 1,
		         col = (unsigned)ev.start_mark.column + 1;
		if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
			depth++;
		} else if (ev.type == YAML_SEQUENCE_END_EVENT ||
		           ev.type == YAML_MAPPING_END_EVENT) {
			depth--;
		}
		if (depth > MAX_DEPTH) {
			mon_error_set(w->err, w->file, line, col, "nested more than %d levels deep",
			              MAX_DEPTH);
			ret = SS_EPARSE;
		} else if (ev.type == YAML_ALIAS_EVENT) {
			mon_error_set(w->err, w->file, line, col,
			              "aliases (*name) are not supported in this config");
			ret = SS_EPARSE;
		}
		end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return ret;
}

static int load_doc(yaml_parser_t *p, walk_t *w)
{
	return yaml_parser_load(p, &w->doc) ? 0 : yaml_error(p, w);
}

/* Exactly one document. */
static int one_document(yaml_parser_t *p, walk_t *w)
{
	yaml_document_t extra;
	if (!yaml_parser_load(p, &extra)) {
		return 0; /* a broken second document is an error too, but the first is named */
	}
	yaml_node_t *root = yaml_document_get_root_node(&extra);
	int ret = 0;
	if (root != NULL) {
		mon_error_set(w->err, w->file, (unsigned)root->start_mark.line + 1,
		              (unsigned)root->start_mark.column + 1,
		              "a second YAML document: one config per file");
		ret = SS_EPARSE;
	}
	yaml_document_delete(&extra);
	return ret;
}

static int parse(const char *text, size_t len, const char *name, const char *dir, bool files,
                 ss_mon_config_t **out, ss_mon_error_t *err)
{
	walk_t w = {.file = name, .dir = dir, .err = err, .no_files = !files};
	yaml_parser_t p;
	*out = NULL;
	if ((w.cfg = calloc(1, sizeof(*w.cfg))) == NULL || !yaml_parser_initialize(&p)) {
		free(w.cfg);
		return SS_ENOMEM;
	}
	defaults(w.cfg);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	int ret = check_shape(text, len, &w);
	ret = ret ? ret : load_doc(&p, &w);
	if (ret == 0) {
		ret = walk(&w);
		ret = ret ? ret : one_document(&p, &w);
		yaml_document_delete(&w.doc);
	}
	yaml_parser_delete(&p);
	free(w.seen);
	if (ret == 0 && (w.cfg->path = strdup(name)) == NULL) {
		ret = SS_ENOMEM;
	}
	if (ret == SS_ENOMEM) {
		mon_error_set(err, name, 0, 0, "out of memory");
	}
	if (ret != 0) {
		ss_mon_config_free(w.cfg);
		return ret;
	}
	*out = w.cfg;
	return 0;
}

int ss_mon_config_parse(const char *text, size_t len, const char *name, ss_mon_config_t **out,
                        ss_mon_error_t *err)
{
	return parse(text, len, name ? name : "config", NULL, true, out, err);
}

int mon_config_parse_nofiles(const char *text, size_t len, ss_mon_config_t **out,
                             ss_mon_error_t *err)
{
	return parse(text, len, "config", NULL, false, out, err);
}

int ss_mon_config_load(const char *file, ss_mon_config_t **out, ss_mon_error_t *err)
{
	char *text = NULL;
	size_t len = 0;
	*out = NULL;
	int ret = mon_read_file(file, MAX_CONFIG_BYTES, &text, &len, err);
	if (ret != 0) {
		return ret;
	}
	char *dir = strdup(file);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	if (slash != NULL) {
		*slash = '\0';
	}
	ret = dir ? parse(text, len, file, slash ? (*dir ? dir : "/") : NULL, true, out, err)
	          : SS_ENOMEM;
	free(dir);
	free(text);
	return ret;
}

void ss_mon_config_free(ss_mon_config_t *cfg)
{
	if (cfg == NULL) {
		return;
	}
	for (size_t i = 0; i < cfg->nzones; i++) {
		free(cfg->zones[i].name);
		free(cfg->zones[i].primary);
		free(cfg->zones[i].ns);
	}
	free(cfg->zones);
	for (char **a = cfg->alert_command; a && *a; a++) {
		free(*a);
	}
	free(cfg->alert_command);
	if (cfg->has_tsig) {
		knot_tsig_key_deinit(&cfg->tsig);
	}
	free(cfg->path);
	free(cfg->database);
	free(cfg->notify_allow);
	free(cfg->tsig_path);
	free(cfg->user);
	free(cfg->site);
	free(cfg->zones_from);
	free(cfg->alert_webhook);
	free(cfg);
}
