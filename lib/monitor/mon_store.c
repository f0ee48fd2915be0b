/*
 * The monitor's history in SQLite. Only changes are written: a serial when
 * the primary publishes it, each server's convergence on it, and events
 * (status, findings, regressions, unreachable periods). WAL with
 * synchronous=NORMAL: a killed process loses nothing committed, and writes
 * are committed in batches about once a second, so a kill -9 loses at most
 * that last second. The zones table also holds what a restart needs to
 * continue (status, reference serial, open findings); the serials still
 * waited for are the ones with a pending convergence row.
 *
 * The schema has a version (PRAGMA user_version) and an application id;
 * each migration step is one transaction.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include <soasync/error.h>

#include "mon_int.h"

#define APP_ID 0x736f6173 /* "soas" */

/* Migrations: MIGRATIONS[i] takes the schema from version i to i + 1. */
static const char *const MIGRATIONS[] = {
    /* 0 -> 1 */
    "CREATE TABLE zones("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " added_ms INTEGER NOT NULL,"
    " removed_ms INTEGER,"
    " status TEXT NOT NULL DEFAULT 'ok',"
    " status_since_ms INTEGER NOT NULL DEFAULT 0,"
    " reference INTEGER,"
    " reference_since_ms INTEGER,"
    " reference_via TEXT,"
    " findings TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE serials("
    " id INTEGER PRIMARY KEY,"
    " zone_id INTEGER NOT NULL REFERENCES zones(id),"
    " serial INTEGER NOT NULL,"
    " first_seen_ms INTEGER NOT NULL,"
    " via TEXT NOT NULL,"
    " timed_out INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX serials_by_zone ON serials(zone_id, first_seen_ms);"
    "CREATE INDEX serials_by_serial ON serials(zone_id, serial);"
    "CREATE TABLE convergence("
    " serial_id INTEGER NOT NULL REFERENCES serials(id) ON DELETE CASCADE,"
    " address TEXT NOT NULL,"
    " name TEXT,"
    " converged_ms INTEGER,"
    " never INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(serial_id, address)) WITHOUT ROWID;"
    "CREATE INDEX convergence_pending ON convergence(serial_id)"
    " WHERE converged_ms IS NULL AND never = 0;"
    "CREATE TABLE servers("
    " zone_id INTEGER NOT NULL REFERENCES zones(id),"
    " address TEXT NOT NULL,"
    " name TEXT,"
    " unreachable_since_ms INTEGER NOT NULL DEFAULT 0,"
    " last_converged_ms INTEGER NOT NULL DEFAULT 0,"
    " last_lag_ms INTEGER NOT NULL DEFAULT -1,"
    " PRIMARY KEY(zone_id, address)) WITHOUT ROWID;"
    "CREATE TABLE events("
    " id INTEGER PRIMARY KEY,"
    " zone_id INTEGER NOT NULL REFERENCES zones(id),"
    " time_ms INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " serial INTEGER,"
    " old_serial INTEGER,"
    " address TEXT,"
    " name TEXT,"
    " lag_ms INTEGER,"
    " status TEXT,"
    " previous TEXT,"
    " code TEXT,"
    " severity TEXT,"
    " message TEXT);"
    "CREATE INDEX events_by_zone ON events(zone_id, time_ms);"
    "CREATE INDEX events_by_time ON events(time_ms);",
};
#define SCHEMA_VERSION ((int)(sizeof(MIGRATIONS) / sizeof(MIGRATIONS[0])))

enum {
	Q_ZONE_GET,
	Q_ZONE_ADD,
	Q_ZONE_REVIVE,
	Q_ZONE_REMOVE,
	Q_ZONE_STATUS,
	Q_ZONE_FINDINGS,
	Q_ZONE_REFERENCE,
	Q_SERIAL_ADD,
	Q_SERIAL_FIND,
	Q_SERIAL_TIMEOUT,
	Q_CONV_PENDING,
	Q_CONV_DONE,
	Q_CONV_NEVER,
	Q_SERVER_SET,
	Q_EVENT_ADD,
	Q_LOAD_ZONE,
	Q_LOAD_SERVERS,
	Q_LOAD_OPEN,
	Q_COUNT
};

static const char *const SQL[Q_COUNT] = {
    [Q_ZONE_GET] = "SELECT id, removed_ms FROM zones WHERE name = ?1",
    [Q_ZONE_ADD] = "INSERT INTO zones(name, added_ms, status_since_ms) VALUES(?1, ?2, ?2)",
    [Q_ZONE_REVIVE] = "UPDATE zones SET removed_ms = NULL, added_ms = ?2 WHERE id = ?1",
    [Q_ZONE_REMOVE] = "UPDATE zones SET removed_ms = ?2 WHERE id = ?1",
    [Q_ZONE_STATUS] = "UPDATE zones SET status = ?2, status_since_ms = ?3 WHERE id = ?1",
    [Q_ZONE_FINDINGS] = "UPDATE zones SET findings = ?2 WHERE id = ?1",
    [Q_ZONE_REFERENCE] = "UPDATE zones SET reference = ?2, reference_since_ms = ?3,"
                         " reference_via = ?4 WHERE id = ?1",
    [Q_SERIAL_ADD] = "INSERT INTO serials(zone_id, serial, first_seen_ms, via)"
                     " VALUES(?1, ?2, ?3, ?4)",
    [Q_SERIAL_FIND] = "SELECT id FROM serials WHERE zone_id = ?1 AND serial = ?2"
                      " ORDER BY first_seen_ms DESC, id DESC LIMIT 1",
    [Q_SERIAL_TIMEOUT] = "UPDATE serials SET timed_out = 1 WHERE id = ?1",
    [Q_CONV_PENDING] = "INSERT OR IGNORE INTO convergence(serial_id, address, name)"
                       " VALUES(?1, ?2, ?3)",
    [Q_CONV_DONE] = "INSERT INTO convergence(serial_id, address, name, converged_ms)"
                    " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(serial_id, address) DO UPDATE"
                    " SET converged_ms = excluded.converged_ms",
    [Q_CONV_NEVER] = "INSERT INTO convergence(serial_id, address, name, never)"
                     " VALUES(?1, ?2, ?3, 1) ON CONFLICT(serial_id, address) DO UPDATE"
                     " SET never = 1",
    [Q_SERVER_SET] = "INSERT INTO servers(zone_id, address, name, unreachable_since_ms,"
                     " last_converged_ms, last_lag_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
                     " ON CONFLICT(zone_id, address) DO UPDATE SET name = excluded.name,"
                     " unreachable_since_ms = excluded.unreachable_since_ms,"
                     " last_converged_ms = excluded.last_converged_ms,"
                     " last_lag_ms = excluded.last_lag_ms",
    [Q_EVENT_ADD] = "INSERT INTO events(zone_id, time_ms, kind, serial, old_serial, address,"
                    " name, lag_ms, status, previous, code, severity, message)"
                    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    [Q_LOAD_ZONE] = "SELECT status, status_since_ms, reference, reference_since_ms,"
                    " reference_via, findings FROM zones WHERE id = ?1",
    [Q_LOAD_SERVERS] = "SELECT address, name, unreachable_since_ms, last_converged_ms,"
                       " last_lag_ms FROM servers WHERE zone_id = ?1",
    /* Only the last MON_MAX_OPEN serials can still be waited for. */
    [Q_LOAD_OPEN] = "SELECT s.id, s.serial, s.first_seen_ms, c.address, c.name, c.converged_ms,"
                    " c.never, s.via, s.timed_out FROM (SELECT * FROM serials WHERE zone_id = ?1"
                    " ORDER BY first_seen_ms DESC, id DESC LIMIT ?2) s JOIN convergence c ON"
                    " c.serial_id = s.id WHERE EXISTS (SELECT 1 FROM convergence p WHERE"
                    " p.serial_id = s.id AND p.converged_ms IS NULL AND p.never = 0) ORDER BY"
                    " s.first_seen_ms, s.id",
};

struct ss_mon_store {
	sqlite3 *db;
	bool readonly;
	bool in_tx;
	sqlite3_stmt *q[Q_COUNT];
	char path[256];
};

/* ---- opening ----------------------------------------------------------------- */

static int db_error(ss_mon_store_t *st, ss_mon_error_t *err, const char *what)
{
	mon_error_set(err, st->path, 0, 0, "%s: %s", what, sqlite3_errmsg(st->db));
	return SS_EIO;
}

static int exec(ss_mon_store_t *st, const char *sql, ss_mon_error_t *err, const char *what)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) == SQLITE_OK) {
		return 0;
	}
	mon_error_set(err, st->path, 0, 0, "%s: %s", what, msg ? msg : sqlite3_errmsg(st->db));
	sqlite3_free(msg);
	return SS_EIO;
}

static int pragma_int(ss_mon_store_t *st, const char *sql, int *out)
{
	sqlite3_stmt *s = NULL;
	int ret = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK &&
	                  sqlite3_step(s) == SQLITE_ROW
	              ? 0
	              : SS_EIO;
	if (ret == 0) {
		*out = sqlite3_column_int(s, 0);
	}
	sqlite3_finalize(s);
	return ret;
}

/* A monitor database, or an empty one (the monitor creates it). */
static int check_identity(ss_mon_store_t *st, int *version, ss_mon_error_t *err)
{
	int app = 0, tables = 0;
	if (pragma_int(st, "PRAGMA application_id", &app) != 0 ||
	    pragma_int(st, "PRAGMA user_version", version) != 0 ||
	    pragma_int(st, "SELECT count(*) FROM sqlite_schema", &tables) != 0) {
		return db_error(st, err, "cannot read the database");
	}
	if (app != APP_ID && (tables > 0 || *version != 0)) {
		mon_error_set(err, st->path, 0, 0, "not a soasync monitor database");
		return SS_EIO;
	}
	if (*version > SCHEMA_VERSION) {
		mon_error_set(err, st->path, 0, 0,
		              "database schema version %d is newer than this soasync's (%d)",
		              *version, SCHEMA_VERSION);
		return SS_EIO;
	}
	if (st->readonly && app != APP_ID) {
		mon_error_set(err, st->path, 0, 0, "not a soasync monitor database (empty)");
		return SS_EIO;
	}
	return 0;
}

static int migrate(ss_mon_store_t *st, int version, ss_mon_error_t *err)
{
	for (int v = version; v < SCHEMA_VERSION; v++) {
		char set[96];
		snprintf(set, sizeof(set), "PRAGMA user_version = %d; PRAGMA application_id = %d;",
		         v + 1, APP_ID);
		int ret = exec(st, "BEGIN IMMEDIATE", err, "migration");
		ret = ret ? ret : exec(st, MIGRATIONS[v], err, "migration");
		ret = ret ? ret : exec(st, set, err, "migration");
		ret = ret ? ret : exec(st, "COMMIT", err, "migration");
		if (ret != 0) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return ret;
		}
	}
	return 0;
}

static int prepare_all(ss_mon_store_t *st, ss_mon_error_t *err)
{
	for (int i = 0; i < Q_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &st->q[i],
		                       NULL) != SQLITE_OK) {
			return db_error(st, err, "prepare");
		}
	}
	return 0;
}

static int open_db(const char *path, bool readonly, ss_mon_store_t **out, ss_mon_error_t *err)
{
	ss_mon_store_t *st = calloc(1, sizeof(*st));
	if (st == NULL) {
		return SS_ENOMEM;
	}
	snprintf(st->path, sizeof(st->path), "%s", path);
	st->readonly = readonly;
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int version = 0;
	int ret = sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK
	              ? 0
	              : db_error(st, err, "cannot open the database");
	if (ret == 0) {
		sqlite3_busy_timeout(st->db, 5000);
		ret = check_identity(st, &version, err);
	}
	if (ret == 0 && !readonly) {
		ret = exec(st,
		           "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
		           " PRAGMA foreign_keys = ON;",
		           err, "cannot set up the database");
		ret = ret ? ret : migrate(st, version, err);
		ret = ret ? ret : prepare_all(st, err);
	}
	if (ret != 0) {
		ss_mon_store_close(st);
		return ret;
	}
	*out = st;
	return 0;
}

int mon_store_open(const char *path, ss_mon_store_t **out, ss_mon_error_t *err)
{
	return open_db(path, false, out, err);
}

int ss_mon_store_open_readonly(const char *path, ss_mon_store_t **out, ss_mon_error_t *err)
{
	return open_db(path, true, out, err);
}

void ss_mon_store_close(ss_mon_store_t *st)
{
	if (st == NULL) {
		return;
	}
	if (st->in_tx) {
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	}
	for (int i = 0; i < Q_COUNT; i++) {
		sqlite3_finalize(st->q[i]);
	}
	sqlite3_close_v2(st->db);
	free(st);
}

const char *mon_store_errmsg(const ss_mon_store_t *st)
{
	return sqlite3_errmsg(st->db);
}

/* ---- writing ------------------------------------------------------------------ */

/* Run a prepared statement once (it was bound by the caller). */
static int run(ss_mon_store_t *st, int q)
{
	sqlite3_stmt *s = st->q[q];
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : SS_EIO;
}

static int begin(ss_mon_store_t *st)
{
	if (st->in_tx) {
		return 0;
	}
	if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		return SS_EIO;
	}
	st->in_tx = true;
	return 0;
}

int mon_store_commit(ss_mon_store_t *st)
{
	if (!st->in_tx) {
		return 0;
	}
	int rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	}
	st->in_tx = false;
	return rc == SQLITE_OK ? 0 : SS_EIO;
}

static void bind_text(sqlite3_stmt *s, int i, const char *t)
{
	if (t != NULL) {
		sqlite3_bind_text(s, i, t, -1, SQLITE_TRANSIENT);
	} else {
		sqlite3_bind_null(s, i);
	}
}

static void bind_addr(sqlite3_stmt *s, int i, const ss_addr_t *a)
{
	char buf[SS_ADDR_STRLEN];
	bind_text(s, i, ss_addr_format(a, buf, sizeof(buf)));
}

int mon_store_zone(ss_mon_store_t *st, const char *zone, int64_t now, int64_t *id, bool *is_new)
{
	int ret = begin(st);
	if (ret != 0) {
		return ret;
	}
	sqlite3_stmt *s = st->q[Q_ZONE_GET];
	bind_text(s, 1, zone);
	int rc = sqlite3_step(s);
	bool removed = rc == SQLITE_ROW && sqlite3_column_type(s, 1) != SQLITE_NULL;
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	*is_new = *id == 0 || removed;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		return SS_EIO;
	}
	if (*id != 0) {
		if (!removed) {
			return 0;
		}
		sqlite3_bind_int64(st->q[Q_ZONE_REVIVE], 1, *id);
		sqlite3_bind_int64(st->q[Q_ZONE_REVIVE], 2, now);
		return run(st, Q_ZONE_REVIVE);
	}
	bind_text(st->q[Q_ZONE_ADD], 1, zone);
	sqlite3_bind_int64(st->q[Q_ZONE_ADD], 2, now);
	ret = run(st, Q_ZONE_ADD);
	*id = sqlite3_last_insert_rowid(st->db);
	return ret;
}

int mon_store_zone_removed(ss_mon_store_t *st, int64_t id, int64_t now)
{
	int ret = begin(st);
	sqlite3_bind_int64(st->q[Q_ZONE_REMOVE], 1, id);
	sqlite3_bind_int64(st->q[Q_ZONE_REMOVE], 2, now);
	return ret ? ret : run(st, Q_ZONE_REMOVE);
}

static int64_t serial_id(ss_mon_store_t *st, int64_t zone_id, uint32_t serial)
{
	sqlite3_stmt *s = st->q[Q_SERIAL_FIND];
	sqlite3_bind_int64(s, 1, zone_id);
	sqlite3_bind_int64(s, 2, serial);
	int64_t id = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return id;
}

/* A new serial, with every server it waits for pending. */
static int put_serial(ss_mon_store_t *st, int64_t zid, const mon_zstate_t *zs,
                      const ss_mon_event_t *e)
{
	sqlite3_stmt *s = st->q[Q_SERIAL_ADD];
	sqlite3_bind_int64(s, 1, zid);
	sqlite3_bind_int64(s, 2, e->serial);
	sqlite3_bind_int64(s, 3, e->time_ms);
	bind_text(s, 4, ss_mon_via_name(e->via));
	int ret = run(st, Q_SERIAL_ADD);
	int64_t sid = sqlite3_last_insert_rowid(st->db);
	s = st->q[Q_ZONE_REFERENCE];
	sqlite3_bind_int64(s, 1, zid);
	sqlite3_bind_int64(s, 2, e->serial);
	sqlite3_bind_int64(s, 3, e->time_ms);
	bind_text(s, 4, ss_mon_via_name(e->via));
	ret = ret ? ret : run(st, Q_ZONE_REFERENCE);
	for (size_t i = 0; i < zs->nservers && ret == 0; i++) {
		const ss_mon_server_t *v = &zs->servers[i];
		if (!ss_verdict_counts(v->verdict) || v->is_primary) {
			continue;
		}
		s = st->q[Q_CONV_PENDING];
		sqlite3_bind_int64(s, 1, sid);
		bind_addr(s, 2, &v->address);
		bind_text(s, 3, v->name);
		ret = run(st, Q_CONV_PENDING);
	}
	return ret;
}

static int put_convergence(ss_mon_store_t *st, int64_t zid, const ss_mon_event_t *e)
{
	int64_t sid = serial_id(st, zid, e->serial);
	if (sid == 0) {
		return 0; /* its serial was removed by retention */
	}
	if (e->kind == SS_MON_EV_CONVERGE_TIMEOUT) {
		sqlite3_bind_int64(st->q[Q_SERIAL_TIMEOUT], 1, sid);
		return run(st, Q_SERIAL_TIMEOUT);
	}
	int q = e->kind == SS_MON_EV_CONVERGED ? Q_CONV_DONE : Q_CONV_NEVER;
	sqlite3_stmt *s = st->q[q];
	sqlite3_bind_int64(s, 1, sid);
	bind_addr(s, 2, &e->address);
	bind_text(s, 3, e->name);
	if (q == Q_CONV_DONE) {
		sqlite3_bind_int64(s, 4, e->time_ms);
	}
	return run(st, q);
}

/* What a restart needs of a server: unreachable since, last convergence. */
static int put_server(ss_mon_store_t *st, int64_t zid, const mon_zstate_t *zs, const ss_addr_t *a)
{
	for (size_t i = 0; i < zs->nservers; i++) {
		const ss_mon_server_t *v = &zs->servers[i];
		if (!ss_addr_equal(&v->address, a)) {
			continue;
		}
		sqlite3_stmt *s = st->q[Q_SERVER_SET];
		sqlite3_bind_int64(s, 1, zid);
		bind_addr(s, 2, a);
		bind_text(s, 3, v->name);
		sqlite3_bind_int64(s, 4, v->unreachable_since_ms);
		sqlite3_bind_int64(s, 5, v->last_converged_ms);
		sqlite3_bind_int64(s, 6, v->last_lag_ms);
		return run(st, Q_SERVER_SET);
	}
	return 0;
}

/* The open findings as "code=severity,..." (names, so codes can be added). */
static int put_findings(ss_mon_store_t *st, int64_t zid, const mon_zstate_t *zs)
{
	char buf[2048];
	size_t n = 0;
	buf[0] = '\0';
	for (int c = 0; c < SS_F_COUNT && n < sizeof(buf); c++) {
		if (zs->finding[c]) {
			n +=
			    (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s=%s", n ? "," : "",
			                     ss_fcode_name((ss_fcode_t)c),
			                     ss_severity_name((ss_severity_t)(zs->finding[c] - 1)));
		}
	}
	sqlite3_bind_int64(st->q[Q_ZONE_FINDINGS], 1, zid);
	bind_text(st->q[Q_ZONE_FINDINGS], 2, buf);
	return run(st, Q_ZONE_FINDINGS);
}

static int put_event(ss_mon_store_t *st, int64_t zid, const ss_mon_event_t *e)
{
	sqlite3_stmt *s = st->q[Q_EVENT_ADD];
	sqlite3_bind_int64(s, 1, zid);
	sqlite3_bind_int64(s, 2, e->time_ms);
	bind_text(s, 3, ss_mon_event_name(e->kind));
	if (e->has_serial) {
		sqlite3_bind_int64(s, 4, e->serial);
	}
	if (e->kind == SS_MON_EV_REGRESSION) {
		sqlite3_bind_int64(s, 5, e->old_serial);
	}
	if (e->has_address) {
		bind_addr(s, 6, &e->address);
	}
	bind_text(s, 7, e->name);
	if (e->lag_ms >= 0) {
		sqlite3_bind_int64(s, 8, e->lag_ms);
	}
	if (e->kind == SS_MON_EV_STATUS || e->kind == SS_MON_EV_FINDING_OPENED ||
	    e->kind == SS_MON_EV_FINDING_CLOSED) {
		bind_text(s, 9, ss_status_name(e->status));
	}
	if (e->kind == SS_MON_EV_STATUS) {
		bind_text(s, 10, ss_status_name(e->previous));
	}
	if (e->code < SS_F_COUNT) {
		bind_text(s, 11, ss_fcode_name(e->code));
	}
	if (e->kind == SS_MON_EV_FINDING_OPENED) {
		bind_text(s, 12, ss_severity_name(e->severity));
	}
	bind_text(s, 13, e->message);
	return run(st, Q_EVENT_ADD);
}

static int put_status(ss_mon_store_t *st, int64_t zid, const ss_mon_event_t *e)
{
	sqlite3_stmt *s = st->q[Q_ZONE_STATUS];
	sqlite3_bind_int64(s, 1, zid);
	bind_text(s, 2, ss_status_name(e->status));
	sqlite3_bind_int64(s, 3, e->time_ms);
	return run(st, Q_ZONE_STATUS);
}

static int record_one(ss_mon_store_t *st, int64_t zid, const mon_zstate_t *zs,
                      const ss_mon_event_t *e)
{
	switch (e->kind) {
	case SS_MON_EV_SERIAL:
		return put_serial(st, zid, zs, e);
	case SS_MON_EV_CONVERGED:
		return put_convergence(st, zid, e) || put_server(st, zid, zs, &e->address) ? SS_EIO
		                                                                           : 0;
	case SS_MON_EV_NEVER:
		return put_convergence(st, zid, e);
	case SS_MON_EV_CONVERGE_TIMEOUT:
		return put_convergence(st, zid, e) || put_event(st, zid, e) ? SS_EIO : 0;
	case SS_MON_EV_UNREACHABLE:
	case SS_MON_EV_REACHABLE:
		return put_server(st, zid, zs, &e->address) || put_event(st, zid, e) ? SS_EIO : 0;
	case SS_MON_EV_STATUS:
		return put_status(st, zid, e) || put_event(st, zid, e) ? SS_EIO : 0;
	case SS_MON_EV_FINDING_OPENED:
	case SS_MON_EV_FINDING_CLOSED:
		return put_findings(st, zid, zs) || put_event(st, zid, e) ? SS_EIO : 0;
	default:
		return put_event(st, zid, e);
	}
}

int mon_store_record(ss_mon_store_t *st, int64_t zone_id, const mon_zstate_t *zs,
                     const mon_events_t *ev)
{
	int ret = ev->n ? begin(st) : 0;
	for (size_t i = 0; i < ev->n && ret == 0; i++) {
		ret = record_one(st, zone_id, zs, &ev->v[i]);
	}
	return ret;
}

int mon_store_retention(ss_mon_store_t *st, int64_t cutoff_ms)
{
	char sql[512];
	snprintf(sql, sizeof(sql),
	         "DELETE FROM events WHERE time_ms < %" PRId64 ";"
	         "DELETE FROM serials WHERE first_seen_ms < %" PRId64 ";"
	         "DELETE FROM servers WHERE zone_id IN (SELECT id FROM zones WHERE removed_ms"
	         " < %" PRId64 ");"
	         "DELETE FROM zones WHERE removed_ms < %" PRId64 " AND id NOT IN"
	         " (SELECT zone_id FROM serials) AND id NOT IN (SELECT zone_id FROM events);",
	         cutoff_ms, cutoff_ms, cutoff_ms, cutoff_ms);
	int ret = begin(st);
	return ret ? ret : (sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : SS_EIO);
}

/* ---- restoring a zone's state -------------------------------------------------- */

static ss_status_t status_parse(const char *s)
{
	for (int i = SS_STATUS_OK; i <= SS_STATUS_UNKNOWN; i++) {
		if (s != NULL && strcmp(s, ss_status_name((ss_status_t)i)) == 0) {
			return (ss_status_t)i;
		}
	}
	return SS_STATUS_UNKNOWN;
}

static ss_severity_t severity_parse(const char *s)
{
	for (int i = SS_SEV_INFO; i <= SS_SEV_UNKNOWN; i++) {
		if (s != NULL && strcmp(s, ss_severity_name((ss_severity_t)i)) == 0) {
			return (ss_severity_t)i;
		}
	}
	return SS_SEV_UNKNOWN;
}

static ss_mon_via_t via_parse(const char *s)
{
	for (int i = SS_MON_VIA_POLL; i <= SS_MON_VIA_START; i++) {
		if (s != NULL && strcmp(s, ss_mon_via_name((ss_mon_via_t)i)) == 0) {
			return (ss_mon_via_t)i;
		}
	}
	return SS_MON_VIA_POLL;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static void findings_parse(const char *text, uint8_t *out)
{
	char buf[2048];
	snprintf(buf, sizeof(buf), "%s", text ? text : "");
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (eq == NULL) {
			continue;
		}
		*eq = '\0';
		ss_fcode_t c = ss_fcode_parse(tok);
		if (c < SS_F_COUNT) {
			out[c] = (uint8_t)(severity_parse(eq + 1) + 1);
		}
	}
}

static int query(ss_mon_store_t *st, const char *sql, sqlite3_stmt **out)
{
	return sqlite3_prepare_v2(st->db, sql, -1, out, NULL) == SQLITE_OK ? 0 : SS_EIO;
}

static int load_zone_row(ss_mon_store_t *st, int64_t zid, mon_zstate_t *zs)
{
	sqlite3_stmt *s = st->q[Q_LOAD_ZONE];
	sqlite3_bind_int64(s, 1, zid);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		zs->status = status_parse(col_text(s, 0));
		zs->status_since_ms = sqlite3_column_int64(s, 1);
		zs->has_reference = sqlite3_column_type(s, 2) != SQLITE_NULL;
		zs->reference = (uint32_t)sqlite3_column_int64(s, 2);
		zs->reference_since_ms = sqlite3_column_int64(s, 3);
		zs->reference_via = via_parse(col_text(s, 4));
		findings_parse(col_text(s, 5), zs->finding);
		zs->checked = zs->has_reference;
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : SS_EIO;
}

static int load_servers(ss_mon_store_t *st, int64_t zid, mon_zstate_t *zs)
{
	sqlite3_stmt *s = st->q[Q_LOAD_SERVERS];
	int ret = 0;
	sqlite3_bind_int64(s, 1, zid);
	while (ret == 0 && sqlite3_step(s) == SQLITE_ROW) {
		ss_mon_server_t v = {.last_lag_ms = -1};
		if (ss_addr_parse(&v.address, col_text(s, 0), 53) != 0) {
			continue;
		}
		ss_mon_server_t *grown = realloc(zs->servers, (zs->nservers + 1) * sizeof(*grown));
		if (grown == NULL) {
			ret = SS_ENOMEM;
			break;
		}
		zs->servers = grown;
		v.name = col_text(s, 1) ? strdup(col_text(s, 1)) : NULL;
		v.unreachable_since_ms = sqlite3_column_int64(s, 2);
		v.last_converged_ms = sqlite3_column_int64(s, 3);
		v.last_lag_ms = sqlite3_column_int64(s, 4);
		grown[zs->nservers++] = v;
	}
	sqlite3_reset(s);
	return ret;
}

static int add_waiter(mon_serial_t *o, sqlite3_stmt *s)
{
	mon_wait_t w = {.converged = sqlite3_column_type(s, 5) != SQLITE_NULL};
	if (ss_addr_parse(&w.addr, col_text(s, 3), 53) != 0) {
		return 0;
	}
	mon_wait_t *grown = realloc(o->w, (o->nw + 1) * sizeof(*grown));
	if (grown == NULL) {
		return SS_ENOMEM;
	}
	o->w = grown;
	w.converged_ms = sqlite3_column_int64(s, 5);
	w.never = sqlite3_column_int(s, 6) != 0;
	w.name = col_text(s, 4) ? strdup(col_text(s, 4)) : NULL;
	grown[o->nw++] = w;
	return 0;
}

/* The serials still waited for (a pending convergence row), oldest first. */
static int load_open(ss_mon_store_t *st, int64_t zid, mon_zstate_t *zs)
{
	sqlite3_stmt *s = st->q[Q_LOAD_OPEN];
	int ret = 0;
	sqlite3_bind_int64(s, 1, zid);
	sqlite3_bind_int(s, 2, MON_MAX_OPEN);
	int64_t last = 0;
	while (ret == 0 && sqlite3_step(s) == SQLITE_ROW) {
		if (sqlite3_column_int64(s, 0) != last) {
			mon_serial_t *grown = realloc(zs->open, (zs->nopen + 1) * sizeof(*grown));
			if (grown == NULL) {
				ret = SS_ENOMEM;
				break;
			}
			zs->open = grown;
			mon_serial_t *o = &grown[zs->nopen++];
			memset(o, 0, sizeof(*o));
			o->serial = (uint32_t)sqlite3_column_int64(s, 1);
			o->first_seen_ms = sqlite3_column_int64(s, 2);
			o->via = via_parse(col_text(s, 7));
			o->timed_out = sqlite3_column_int(s, 8) != 0;
			last = sqlite3_column_int64(s, 0);
			zs->converging = zs->converging || !o->timed_out;
		}
		ret = add_waiter(&zs->open[zs->nopen - 1], s);
	}
	sqlite3_reset(s);
	return ret;
}

int mon_store_load(ss_mon_store_t *st, int64_t zone_id, mon_zstate_t *zs)
{
	int ret = load_zone_row(st, zone_id, zs);
	ret = ret ? ret : load_servers(st, zone_id, zs);
	return ret ? ret : load_open(st, zone_id, zs);
}

/* ---- history queries ------------------------------------------------------------- */

typedef struct {
	ss_mon_hist_server_t *v;
	size_t n, cap;
} hservers_t;

static int cmp_hist_server(const void *a, const void *b)
{
	ss_addr_t x, y;
	if (ss_addr_parse(&x, ((const ss_mon_hist_server_t *)a)->address, 53) != 0 ||
	    ss_addr_parse(&y, ((const ss_mon_hist_server_t *)b)->address, 53) != 0) {
		return strcmp(((const ss_mon_hist_server_t *)a)->address,
		              ((const ss_mon_hist_server_t *)b)->address);
	}
	return ss_addr_cmp(&x, &y);
}

static int serial_servers(int64_t sid, int64_t first_seen, hservers_t *h, sqlite3_stmt *s)
{
	h->n = 0;
	sqlite3_bind_int64(s, 1, sid);
	int ret = 0;
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (h->n == h->cap) {
			size_t ncap = h->cap ? h->cap * 2 : 8;
			ss_mon_hist_server_t *grown = realloc(h->v, ncap * sizeof(*grown));
			if (grown == NULL) {
				ret = SS_ENOMEM;
				break;
			}
			h->v = grown;
			h->cap = ncap;
		}
		ss_mon_hist_server_t *v = &h->v[h->n++];
		memset(v, 0, sizeof(*v));
		v->address = strdup(col_text(s, 0) ? col_text(s, 0) : "?");
		v->name = col_text(s, 1) ? strdup(col_text(s, 1)) : NULL;
		v->converged = sqlite3_column_type(s, 2) != SQLITE_NULL;
		v->converged_ms = sqlite3_column_int64(s, 2);
		v->lag_ms = v->converged ? v->converged_ms - first_seen : -1;
		v->never = !v->converged && sqlite3_column_int(s, 3) != 0;
	}
	sqlite3_reset(s);
	if (h->n > 1) {
		qsort(h->v, h->n, sizeof(*h->v), cmp_hist_server);
	}
	return ret;
}

static void hservers_clear(hservers_t *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free((char *)h->v[i].address);
		free((char *)h->v[i].name);
	}
	h->n = 0;
}

static const char *zone_filter_sql(const ss_mon_hist_query_t *q)
{
	return q->nzones ? " AND z.name = ?3" : "";
}

/* Run the query (bound: ?1 since, ?2 last, ?3 the zone when filtered) once,
 * or once per zone asked for, and hand each row to row(); a non-zero return
 * from row() stops (positive: asked to, negative: an error). */
typedef int (*row_fn)(sqlite3_stmt *s, void *arg);

static int per_zone(sqlite3_stmt *s, const ss_mon_hist_query_t *q, row_fn row, void *arg)
{
	size_t rounds = q->nzones ? q->nzones : 1;
	int ret = 0;
	for (size_t i = 0; i < rounds && ret == 0; i++) {
		char *zone = NULL;
		if (q->nzones > 0 && mon_zone_name_norm(q->zones[i], &zone) == SS_ENOMEM) {
			return SS_ENOMEM;
		}
		sqlite3_bind_int64(s, 1, q->since_ms);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)q->last);
		if (q->nzones > 0) {
			bind_text(s, 3, zone); /* NULL (not a name): no rows */
		}
		while (ret == 0 && sqlite3_step(s) == SQLITE_ROW) {
			ret = row(s, arg);
		}
		sqlite3_reset(s);
		free(zone);
	}
	return ret < 0 ? ret : 0;
}

typedef struct {
	sqlite3_stmt *conv;
	hservers_t h;
	ss_mon_hist_serial_cb cb;
	void *arg;
} serial_rows_t;

static int serial_row(sqlite3_stmt *s, void *arg)
{
	serial_rows_t *sr = arg;
	ss_mon_hist_serial_t row = {
	    .zone = col_text(s, 0),
	    .serial = (uint32_t)sqlite3_column_int64(s, 2),
	    .first_seen_ms = sqlite3_column_int64(s, 3),
	    .via = via_parse(col_text(s, 4)),
	};
	int ret = serial_servers(sqlite3_column_int64(s, 1), row.first_seen_ms, &sr->h, sr->conv);
	row.servers = sr->h.v;
	row.nservers = sr->h.n;
	if (ret == 0 && sr->cb(&row, sr->arg) != 0) {
		ret = 1;
	}
	hservers_clear(&sr->h);
	return ret;
}

int ss_mon_history_serials(ss_mon_store_t *st, const ss_mon_hist_query_t *q,
                           ss_mon_hist_serial_cb cb, void *arg)
{
	char sql[768];
	snprintf(sql, sizeof(sql),
	         "SELECT name, id, serial, first_seen_ms, via FROM (SELECT z.name, s.id, s.serial,"
	         " s.first_seen_ms, s.via, row_number() OVER (PARTITION BY s.zone_id ORDER BY"
	         " s.first_seen_ms DESC, s.id DESC) AS nth FROM serials s JOIN zones z ON z.id ="
	         " s.zone_id WHERE s.first_seen_ms >= ?1%s) WHERE ?2 = 0 OR nth <= ?2 ORDER BY"
	         " name, first_seen_ms, id",
	         zone_filter_sql(q));
	sqlite3_stmt *s = NULL;
	serial_rows_t sr = {.cb = cb, .arg = arg};
	int ret = query(st, sql, &s);
	ret = ret ? ret
	          : query(st,
	                  "SELECT address, name, converged_ms, never FROM convergence WHERE"
	                  " serial_id = ?1",
	                  &sr.conv);
	ret = ret ? ret : per_zone(s, q, serial_row, &sr);
	free(sr.h.v);
	sqlite3_finalize(s);
	sqlite3_finalize(sr.conv);
	return ret;
}

static ss_mon_event_kind_t kind_parse(const char *s)
{
	for (int i = 0; i < SS_MON_EV_COUNT; i++) {
		if (s != NULL && strcmp(s, ss_mon_event_name((ss_mon_event_kind_t)i)) == 0) {
			return (ss_mon_event_kind_t)i;
		}
	}
	return SS_MON_EV_COUNT;
}

static void event_from_row(sqlite3_stmt *s, ss_mon_event_t *e)
{
	memset(e, 0, sizeof(*e));
	e->zone = col_text(s, 0);
	e->time_ms = sqlite3_column_int64(s, 1);
	e->kind = kind_parse(col_text(s, 2));
	e->has_serial = sqlite3_column_type(s, 3) != SQLITE_NULL;
	e->serial = (uint32_t)sqlite3_column_int64(s, 3);
	e->old_serial = (uint32_t)sqlite3_column_int64(s, 4);
	e->has_address = col_text(s, 5) && ss_addr_parse(&e->address, col_text(s, 5), 53) == 0;
	e->name = col_text(s, 6);
	e->lag_ms = sqlite3_column_type(s, 7) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 7);
	e->status = col_text(s, 8) ? status_parse(col_text(s, 8)) : SS_STATUS_OK;
	e->previous = col_text(s, 9) ? status_parse(col_text(s, 9)) : SS_STATUS_OK;
	e->code = col_text(s, 10) ? ss_fcode_parse(col_text(s, 10)) : SS_F_COUNT;
	e->severity = col_text(s, 11) ? severity_parse(col_text(s, 11)) : SS_SEV_INFO;
	e->message = col_text(s, 12);
}

typedef struct {
	ss_mon_hist_event_cb cb;
	void *arg;
} event_rows_t;

static int event_row(sqlite3_stmt *s, void *arg)
{
	event_rows_t *er = arg;
	ss_mon_event_t e;
	event_from_row(s, &e);
	return e.kind < SS_MON_EV_COUNT && er->cb(&e, er->arg) != 0 ? 1 : 0;
}

int ss_mon_history_events(ss_mon_store_t *st, const ss_mon_hist_query_t *q, ss_mon_hist_event_cb cb,
                          void *arg)
{
	char sql[768];
	snprintf(sql, sizeof(sql),
	         "SELECT name, time_ms, kind, serial, old_serial, address, ename, lag_ms, status,"
	         " previous, code, severity, message FROM (SELECT z.name, e.time_ms, e.kind,"
	         " e.serial, e.old_serial, e.address, e.name AS ename, e.lag_ms, e.status,"
	         " e.previous, e.code, e.severity, e.message, e.id, row_number() OVER (PARTITION"
	         " BY e.zone_id ORDER BY e.time_ms DESC, e.id DESC) AS nth FROM events e JOIN"
	         " zones z ON z.id = e.zone_id WHERE e.time_ms >= ?1%s) WHERE ?2 = 0 OR nth <= ?2"
	         " ORDER BY name, time_ms, id",
	         zone_filter_sql(q));
	sqlite3_stmt *s = NULL;
	event_rows_t er = {cb, arg};
	int ret = query(st, sql, &s);
	ret = ret ? ret : per_zone(s, q, event_row, &er);
	sqlite3_finalize(s);
	return ret;
}
