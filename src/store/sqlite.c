/* sqlite.c - the SQLite store: connections, migrations, transactions and statement helpers.
 *
 * Each thread gets its own connection (SQLITE_OPEN_NOMUTEX) on first use, kept under a
 * pthread key whose destructor closes it when the thread exits. The store also keeps a list
 * of every connection so store_close() can close those of threads still alive. The operations
 * themselves live in sqlite_account.c, sqlite_order.c, sqlite_authz.c, sqlite_va.c and
 * sqlite_cert.c. */
#include "cairn/store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/log.h"
#include "cairn/metrics.h"
#include "cairn/rand.h"
#include "store/migrations.h"
#include "store/sqlite_int.h"

#define STORE_BUSY_TIMEOUT_MS 5000
/* Re-runs of a whole transaction after SQLITE_BUSY (ARCHITECTURE.md §3). */
#define STORE_TX_RETRIES 3

struct stmt_slot {
    const char *sql; /* the cache key: the literal's address */
    sqlite3_stmt *stmt;
};

struct store_conn {
    sqlite3 *db;
    struct store *st;
    struct store_conn *prev;
    struct store_conn *next;
    struct stmt_slot *cache; /* owned; grows as statements are first used */
    size_t ncache;
    size_t capcache;
    bool snapshot; /* a store_snapshot_begin() read transaction is open */
};

struct store {
    char *path;
    bool sync_full;
    pthread_key_t key;
    /* Locked list (ARCHITECTURE.md §4): every open connection, so store_close() can close
     * those whose threads are still alive. Touched only on connection open and close. */
    pthread_mutex_t lock;
    struct store_conn *conns;
    /* One connection for every write transaction of the process, used under write_lock.
     * SQLite admits one writer at a time anyway; queueing our own writers on a mutex instead
     * of letting them meet in SQLite's busy handler removes its 1-25 ms sleep-and-poll (the
     * p99 of an issuance halved) and keeps the writer's page cache warm. Readers keep their
     * per-thread connections and run beside the writer (WAL). Held across the commit's disk
     * I/O by design: that is the SQLite write lock's own extent, not the request path's
     * network I/O. docs/performance.md, round 3. */
    pthread_mutex_t write_lock;
    struct store_conn *writer;
    /* Checkpoints, in two steps (checkpoint_copy(), checkpoint_finish()): the writer's WAL
     * size after its last commit (its wal hook); a thread is copying; the copy is done and
     * the writer should backfill the last frames so that its next write restarts the WAL. */
    atomic_int wal_pages;
    atomic_bool copying;
    atomic_bool finish;
};

/* WAL pages before a checkpoint (32 MiB) instead of SQLite's 1000: an issuance rewrites the
 * same index and table pages over and over, so a longer interval copies far fewer page
 * versions back and syncs less often (the checkpoint was 7 % of the server's CPU per
 * certificate, docs/performance.md). Durability is unchanged: every commit still reaches the
 * WAL under the synchronous setting. Only the writer commits, and its wal hook drives the
 * checkpoints (checkpoint_copy()), so no connection uses SQLite's auto-checkpoint. */
#define STORE_CHECKPOINT_PAGES 8192

static void
conn_free(struct store_conn *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->ncache; i++)
        sqlite3_finalize(c->cache[i].stmt);
    free(c->cache);
    sqlite3_close_v2(c->db);
    free(c);
}

static void
conn_unlink(struct store_conn *c)
{
    struct store *st = c->st;

    pthread_mutex_lock(&st->lock);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        st->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&st->lock);
}

/* pthread key destructor: a thread that used the store is exiting. */
static void
conn_key_destructor(void *p)
{
    struct store_conn *c = p;

    conn_unlink(c);
    conn_free(c);
}

int
store_db_rc(struct store_conn *c, int src, const char *what)
{
    switch (src & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return CAIRN_ERR_BUSY;
    case SQLITE_NOMEM:
        return CAIRN_ERR_NOMEM;
    case SQLITE_CONSTRAINT:
        if (src == SQLITE_CONSTRAINT_UNIQUE || src == SQLITE_CONSTRAINT_PRIMARYKEY)
            return CAIRN_ERR_CONFLICT;
        if (src == SQLITE_CONSTRAINT_FOREIGNKEY)
            return CAIRN_ERR_NOTFOUND;
        break;
    default:
        break;
    }
    /* sqlite3_errmsg names tables and columns, never bound values. */
    log_err("store", "%.80s: %s (%d)", what, c != NULL ? sqlite3_errmsg(c->db)
                                                       : sqlite3_errstr(src), src);
    return CAIRN_ERR_IO;
}

static int
q_prepare(struct store_conn *c, const char *sql, sqlite3_stmt **out)
{
    sqlite3_stmt *s = NULL;
    int src;

    for (size_t i = 0; i < c->ncache; i++) {
        if (c->cache[i].sql == sql) {
            *out = c->cache[i].stmt;
            return CAIRN_OK;
        }
    }
    if (c->ncache == c->capcache) {
        size_t cap = c->capcache == 0 ? 32 : c->capcache * 2;
        size_t bytes;
        struct stmt_slot *n;

        if (size_mul(cap, sizeof(*n), &bytes) != 0)
            return CAIRN_ERR_NOMEM;
        n = realloc(c->cache, bytes);
        if (n == NULL)
            return CAIRN_ERR_NOMEM;
        c->cache = n;
        c->capcache = cap;
    }
    src = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
    if (src != SQLITE_OK) {
        sqlite3_finalize(s);
        return store_db_rc(c, src, sql);
    }
    c->cache[c->ncache].sql = sql;
    c->cache[c->ncache].stmt = s;
    c->ncache++;
    *out = s;
    return CAIRN_OK;
}

static int
q_bind_one(sqlite3_stmt *s, int idx, const struct store_arg *a)
{
    switch (a->kind) {
    case STORE_ARG_TEXT:
        if (a->text == NULL)
            return sqlite3_bind_null(s, idx);
        return sqlite3_bind_text(s, idx, a->text, -1, SQLITE_TRANSIENT);
    case STORE_ARG_INT:
        return sqlite3_bind_int64(s, idx, a->i);
    case STORE_ARG_BLOB:
        if (a->blob == NULL)
            return sqlite3_bind_null(s, idx);
        return sqlite3_bind_blob64(s, idx, a->blob, a->blob_len, SQLITE_TRANSIENT);
    case STORE_ARG_END:
        break;
    }
    return SQLITE_MISUSE;
}

int
store_q_start(struct store_conn *c, const char *sql, const struct store_arg *args,
              sqlite3_stmt **out)
{
    sqlite3_stmt *s = NULL;
    int rc = q_prepare(c, sql, &s);

    if (rc != CAIRN_OK)
        return rc;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    for (int i = 0; args[i].kind != STORE_ARG_END; i++) {
        int src = q_bind_one(s, i + 1, &args[i]);

        if (src != SQLITE_OK) {
            sqlite3_reset(s);
            return store_db_rc(c, src, sql);
        }
    }
    *out = s;
    return CAIRN_OK;
}

int
store_q_step(struct store_conn *c, sqlite3_stmt *s, bool *row)
{
    int src = sqlite3_step(s);

    if (src == SQLITE_ROW) {
        *row = true;
        return CAIRN_OK;
    }
    *row = false;
    if (src == SQLITE_DONE)
        return CAIRN_OK;
    return store_db_rc(c, src, sqlite3_sql(s));
}

void
store_q_end(sqlite3_stmt *s)
{
    if (s == NULL)
        return;
    sqlite3_reset(s);
    /* Drop copies of bound values (JWKs, DER) now rather than at the next use. */
    sqlite3_clear_bindings(s);
}

int
store_q_exec(struct store_conn *c, const char *sql, const struct store_arg *args,
             int *changes)
{
    sqlite3_stmt *s = NULL;
    bool row = false;
    int rc = store_q_start(c, sql, args, &s);

    if (rc != CAIRN_OK)
        return rc;
    do {
        rc = store_q_step(c, s, &row);
    } while (rc == CAIRN_OK && row);
    if (rc == CAIRN_OK && changes != NULL)
        *changes = sqlite3_changes(c->db);
    store_q_end(s);
    return rc;
}

int
store_q_int(struct store_conn *c, const char *sql, const struct store_arg *args, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    bool row = false;
    int rc = store_q_start(c, sql, args, &s);

    if (rc != CAIRN_OK)
        return rc;
    rc = store_q_step(c, s, &row);
    if (rc == CAIRN_OK && !row)
        rc = CAIRN_ERR_NOTFOUND;
    if (rc == CAIRN_OK)
        *out = sqlite3_column_int64(s, 0);
    store_q_end(s);
    return rc;
}

int
store_col_text(sqlite3_stmt *s, int col, char *buf, size_t size)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    int len = sqlite3_column_bytes(s, col);

    if (t == NULL || len < 0 || (size_t)len >= size) {
        log_err("store", "corrupt row: column %d of \"%.60s\" is NULL or too long", col,
                sqlite3_sql(s));
        return CAIRN_ERR_IO;
    }
    memcpy(buf, t, (size_t)len);
    buf[len] = '\0';
    return CAIRN_OK;
}

int
store_col_dup(sqlite3_stmt *s, int col, char **out)
{
    const unsigned char *t;
    int len;

    *out = NULL;
    if (sqlite3_column_type(s, col) == SQLITE_NULL)
        return CAIRN_OK;
    t = sqlite3_column_text(s, col);
    len = sqlite3_column_bytes(s, col);
    if (t == NULL || len < 0)
        return CAIRN_ERR_NOMEM;
    *out = malloc((size_t)len + 1);
    if (*out == NULL)
        return CAIRN_ERR_NOMEM;
    memcpy(*out, t, (size_t)len);
    (*out)[len] = '\0';
    return CAIRN_OK;
}

/* PRAGMA journal_mode answers with the mode in force; anything but "wal" means the file
 * could not switch (e.g. a read-only directory) and the locking promises would not hold. */
static int
conn_set_wal(struct store_conn *c)
{
    static const char sql[] = "PRAGMA journal_mode=WAL";
    sqlite3_stmt *s = NULL;
    bool row = false;
    char mode[16] = "";
    int rc = store_q_start(c, sql, STORE_NOARGS, &s);

    if (rc != CAIRN_OK)
        return rc;
    rc = store_q_step(c, s, &row);
    if (rc == CAIRN_OK && row)
        rc = store_col_text(s, 0, mode, sizeof(mode));
    store_q_end(s);
    if (rc == CAIRN_OK && strcmp(mode, "wal") != 0) {
        log_err("store", "cannot switch %s to WAL mode (got \"%s\")", c->st->path, mode);
        rc = CAIRN_ERR_IO;
    }
    return rc;
}

static int
conn_setup(struct store_conn *c)
{
    int rc;

    sqlite3_extended_result_codes(c->db, 1);
    if (sqlite3_db_readonly(c->db, "main") != 0) {
        log_err("store", "database %s is read-only", c->st->path);
        return CAIRN_ERR_IO;
    }
    sqlite3_busy_timeout(c->db, STORE_BUSY_TIMEOUT_MS);
    rc = conn_set_wal(c);
    if (rc == CAIRN_OK)
        rc = store_q_exec(c, "PRAGMA foreign_keys=ON", STORE_NOARGS, NULL);
    if (rc == CAIRN_OK)
        rc = store_q_exec(c, c->st->sync_full ? "PRAGMA synchronous=FULL"
                                              : "PRAGMA synchronous=NORMAL",
                          STORE_NOARGS, NULL);
    if (rc == CAIRN_OK)
        rc = store_q_exec(c, "PRAGMA trusted_schema=OFF", STORE_NOARGS, NULL);
    return rc;
}

static int
conn_open(struct store *st, struct store_conn **out)
{
    struct store_conn *c = calloc(1, sizeof(*c));
    int src;
    int rc;

    if (c == NULL)
        return CAIRN_ERR_NOMEM;
    c->st = st;
    src = sqlite3_open_v2(st->path, &c->db,
                          SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                          NULL);
    if (src != SQLITE_OK) {
        log_err("store", "cannot open %s: %s", st->path,
                c->db != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(src));
        rc = src == SQLITE_NOMEM ? CAIRN_ERR_NOMEM : CAIRN_ERR_IO;
        goto out;
    }
    rc = conn_setup(c);
    if (rc != CAIRN_OK)
        log_err("store", "cannot use database %s", st->path);
out:
    if (rc != CAIRN_OK) {
        conn_free(c);
        return rc;
    }
    *out = c;
    return CAIRN_OK;
}

/* Adds c to the list store_close() closes. */
static void
conn_link(struct store_conn *c)
{
    struct store *st = c->st;

    pthread_mutex_lock(&st->lock);
    c->next = st->conns;
    if (st->conns != NULL)
        st->conns->prev = c;
    st->conns = c;
    pthread_mutex_unlock(&st->lock);
}

/* This thread's connection (for reads), opened on first use. */
static int
conn_get(struct store *st, struct store_conn **out)
{
    struct store_conn *c = pthread_getspecific(st->key);
    int rc;

    if (c != NULL) {
        *out = c;
        return CAIRN_OK;
    }
    rc = conn_open(st, &c);
    if (rc != CAIRN_OK)
        return rc;
    if (pthread_setspecific(st->key, c) != 0) {
        conn_free(c);
        return CAIRN_ERR_NOMEM;
    }
    conn_link(c);
    *out = c;
    return CAIRN_OK;
}

static int
wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct store *st = arg;

    (void)db;
    (void)name;
    atomic_store(&st->wal_pages, pages);
    return SQLITE_OK;
}

/* The process's write connection, opened on first use; the caller holds write_lock. Its wal
 * hook replaces SQLite's auto-checkpoint, which would copy the whole WAL inside a commit,
 * that is under write_lock, stalling every other writer (the p99 at c=16). */
static int
conn_writer(struct store *st, struct store_conn **out)
{
    int rc;

    if (st->writer == NULL) {
        rc = conn_open(st, &st->writer);
        if (rc != CAIRN_OK)
            return rc;
        sqlite3_wal_hook(st->writer->db, wal_hook, st);
        conn_link(st->writer);
    }
    *out = st->writer;
    return CAIRN_OK;
}

static void
tx_rollback(struct store_conn *c)
{
    int rc;

    /* Some errors (IOERR, FULL, NOMEM) already rolled the transaction back. */
    if (sqlite3_get_autocommit(c->db))
        return;
    rc = store_q_exec(c, "ROLLBACK", STORE_NOARGS, NULL);
    if (rc != CAIRN_OK)
        log_err("store", "rollback failed (%d)", rc);
}

static int
tx_once(struct store_conn *c, store_tx_fn *fn, void *arg, bool write)
{
    int rc = store_q_exec(c, write ? "BEGIN IMMEDIATE" : "BEGIN", STORE_NOARGS, NULL);

    if (rc != CAIRN_OK)
        return rc;
    rc = fn(c, arg);
    if (rc == CAIRN_OK)
        rc = store_q_exec(c, "COMMIT", STORE_NOARGS, NULL);
    if (rc != CAIRN_OK)
        tx_rollback(c);
    return rc;
}

/* A little jitter so that retrying writers do not collide again in lock step. */
static void
tx_backoff(int attempt)
{
    long ms = 5L * (attempt + 1) + (long)rand_below(20);
    struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000L };

    nanosleep(&ts, NULL);
}

static void
snapshot_close(struct store_conn *c)
{
    if (c == NULL || !c->snapshot)
        return;
    c->snapshot = false;
    tx_rollback(c); /* reads only: ROLLBACK and COMMIT are the same, and never fail usefully */
}

void
store_snapshot_begin(struct store *st)
{
    struct store_conn *c = NULL;

    if (conn_get(st, &c) != CAIRN_OK)
        return;
    snapshot_close(c); /* a request that never ended its snapshot must not pin the WAL */
    if (store_q_exec(c, "BEGIN", STORE_NOARGS, NULL) == CAIRN_OK)
        c->snapshot = true;
}

void
store_snapshot_end(struct store *st)
{
    snapshot_close(pthread_getspecific(st->key));
}

/* A read inside this thread's open snapshot: no BEGIN/COMMIT of its own. A busy or failed
 * read closes the snapshot, so the caller's retry below starts a fresh transaction. */
static int
tx_in_snapshot(struct store_conn *c, store_tx_fn *fn, void *arg)
{
    int rc = fn(c, arg);

    if (rc != CAIRN_OK && rc != CAIRN_ERR_NOTFOUND)
        snapshot_close(c);
    return rc;
}

static void
checkpoint(sqlite3 *db)
{
    int src = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);

    if (src != SQLITE_OK && src != SQLITE_BUSY)
        log_warn("store", "checkpoint: %s", sqlite3_errmsg(db));
}

/* Step 1, after a write and outside write_lock: once the WAL holds STORE_CHECKPOINT_PAGES,
 * one thread copies it into the database on its own connection while writers go on. */
static void
checkpoint_copy(struct store *st)
{
    struct store_conn *c = NULL;

    if (atomic_load(&st->wal_pages) < STORE_CHECKPOINT_PAGES ||
        atomic_exchange(&st->copying, true))
        return;
    if (conn_get(st, &c) == CAIRN_OK) {
        checkpoint(c->db);
        atomic_store(&st->finish, true);
    }
    atomic_store(&st->copying, false);
}

/* Step 2, under write_lock before the next write: backfill the few frames written during the
 * copy. The write that follows then starts on a fully copied WAL and rewinds it to its
 * start instead of growing it (SQLite restarts a WAL only in that state). */
static void
checkpoint_finish(struct store *st, struct store_conn *w)
{
    if (atomic_exchange(&st->finish, false))
        checkpoint(w->db);
}

/* One attempt at a write transaction: on the writer, under write_lock, then the checkpoint
 * step that runs outside it. */
static int
tx_write_once(struct store *st, store_tx_fn *fn, void *arg)
{
    struct store_conn *w = NULL;
    int rc;

    pthread_mutex_lock(&st->write_lock);
    rc = conn_writer(st, &w);
    if (rc == CAIRN_OK) {
        checkpoint_finish(st, w);
        rc = tx_once(w, fn, arg, true);
    }
    pthread_mutex_unlock(&st->write_lock);
    checkpoint_copy(st);
    return rc;
}

static int
tx_run(struct store *st, store_tx_fn *fn, void *arg, bool write)
{
    struct store_conn *c = NULL;
    double start = metrics_now();
    int rc = CAIRN_OK;

    if (!write) {
        rc = conn_get(st, &c);
        if (rc != CAIRN_OK)
            return rc;
        if (c->snapshot) {
            rc = tx_in_snapshot(c, fn, arg);
            if (rc != CAIRN_ERR_BUSY) {
                metrics_store_tx(write, metrics_now() - start);
                return rc;
            }
        }
    } else {
        snapshot_close(pthread_getspecific(st->key)); /* read your own writes */
    }
    for (int attempt = 0;; attempt++) {
        rc = write ? tx_write_once(st, fn, arg) : tx_once(c, fn, arg, false);
        if (rc != CAIRN_ERR_BUSY || attempt >= STORE_TX_RETRIES)
            break;
        /* Retries are for the immediate BUSY of a snapshot conflict; once the busy timeout
         * itself has run out, a writer holds the lock: 503 now (PROTOCOL.md §6: 5 s), not
         * after another STORE_TX_RETRIES timeouts with an HTTP thread held. */
        if ((metrics_now() - start) * 1000 >= STORE_BUSY_TIMEOUT_MS)
            break;
        tx_backoff(attempt);
    }
    if (rc == CAIRN_ERR_BUSY)
        log_warn("store", "database busy after %d retries", STORE_TX_RETRIES);
    metrics_store_tx(write, metrics_now() - start);
    return rc;
}

int
store_tx(struct store *st, store_tx_fn *fn, void *arg)
{
    return tx_run(st, fn, arg, true);
}

int
store_rx(struct store *st, store_tx_fn *fn, void *arg)
{
    return tx_run(st, fn, arg, false);
}

static int
migrations_latest(void)
{
    int v = 0;

    for (size_t i = 0; i < store_migrations_count; i++) {
        if (store_migrations[i].version > v)
            v = store_migrations[i].version;
    }
    return v;
}

static int
migrate_one(struct store_conn *c, const struct store_migration *m)
{
    char *err = NULL;
    int src = sqlite3_exec(c->db, m->sql, NULL, NULL, &err);

    if (src != SQLITE_OK) {
        int rc = store_db_rc(c, src, m->name);

        sqlite3_free(err);
        return rc == CAIRN_ERR_BUSY ? rc : CAIRN_ERR_IO;
    }
    log_info("store", "applied migration %s", m->name);
    return store_q_exec(c, "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                        STORE_ARGS(STORE_I(m->version), STORE_I(time(NULL))), NULL);
}

static int
tx_migrate(struct store_conn *c, void *arg)
{
    int64_t cur = 0;
    int latest = migrations_latest();
    int rc;

    (void)arg;
    rc = store_q_exec(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                         "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
                      STORE_NOARGS, NULL);
    if (rc == CAIRN_OK)
        rc = store_q_int(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                         STORE_NOARGS, &cur);
    if (rc != CAIRN_OK)
        return rc;
    if (cur > latest) {
        log_err("store", "database %s has schema version %lld, newer than this binary's %d",
                c->st->path, (long long)cur, latest);
        return CAIRN_ERR_IO;
    }
    /* The table is generated sorted by file name, i.e. by version. */
    for (size_t i = 0; i < store_migrations_count && rc == CAIRN_OK; i++) {
        if (store_migrations[i].version > cur)
            rc = migrate_one(c, &store_migrations[i]);
    }
    return rc;
}

int
store_open(const char *path, bool sync_full, struct store **out)
{
    struct store *st;
    int rc;

    if (path == NULL || *path == '\0' || out == NULL)
        return CAIRN_ERR_INVAL;
    st = calloc(1, sizeof(*st));
    if (st == NULL)
        return CAIRN_ERR_NOMEM;
    st->sync_full = sync_full;
    st->path = strdup(path);
    if (st->path == NULL) {
        free(st);
        return CAIRN_ERR_NOMEM;
    }
    if (pthread_key_create(&st->key, conn_key_destructor) != 0) {
        free(st->path);
        free(st);
        return CAIRN_ERR_NOMEM;
    }
    pthread_mutex_init(&st->lock, NULL);
    pthread_mutex_init(&st->write_lock, NULL);
    rc = store_tx(st, tx_migrate, NULL);
    if (rc != CAIRN_OK) {
        store_close(st);
        return rc;
    }
    *out = st;
    return CAIRN_OK;
}

/* Every other thread must be done with the store (joined or idle for good). */
void
store_close(struct store *st)
{
    struct store_conn *c;

    if (st == NULL)
        return;
    pthread_setspecific(st->key, NULL);
    pthread_key_delete(st->key);
    pthread_mutex_lock(&st->lock);
    c = st->conns;
    st->conns = NULL;
    pthread_mutex_unlock(&st->lock);
    while (c != NULL) {
        struct store_conn *next = c->next;

        conn_free(c);
        c = next;
    }
    st->writer = NULL;
    pthread_mutex_destroy(&st->write_lock);
    pthread_mutex_destroy(&st->lock);
    free(st->path);
    free(st);
}

int
store_ping(struct store *st)
{
    struct store_conn *c = NULL;
    int64_t v = 0;
    int rc = conn_get(st, &c);

    if (rc != CAIRN_OK)
        return rc;
    rc = store_q_int(c, "SELECT 1", STORE_NOARGS, &v);
    return rc == CAIRN_OK && v == 1 ? CAIRN_OK : CAIRN_ERR_IO;
}

/* For sqlite_admin.c: the calling thread's connection and its handle (online backup). */
int
store_conn_for_thread(struct store *st, struct store_conn **out)
{
    return conn_get(st, out);
}

sqlite3 *
store_conn_db(struct store_conn *c)
{
    return c->db;
}
