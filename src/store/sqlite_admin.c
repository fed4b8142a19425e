/* sqlite_admin.c - queries for the admin commands (accounts, certs, db backup and check).
 * Read-only except the backup's destination; lists are small (a lab CA), so they are loaded
 * whole into heap arrays. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cairn/log.h"
#include "store/sqlite_int.h"

struct accounts_q {
    const char *id;
    struct st_account_summary *out;
    size_t n, cap;
};

static int
account_row(sqlite3_stmt *s, struct st_account_summary *a)
{
    int rc;

    memset(a, 0, sizeof(*a));
    if ((rc = store_col_text(s, 0, a->acct.id, sizeof(a->acct.id))) != CAIRN_OK ||
        (rc = store_col_text(s, 1, a->acct.thumbprint, sizeof(a->acct.thumbprint))) != CAIRN_OK)
        return rc;
    if ((rc = store_acct_status_parse((const char *)sqlite3_column_text(s, 2), &a->acct.status)) !=
            CAIRN_OK ||
        (rc = store_col_dup(s, 3, &a->acct.contact)) != CAIRN_OK ||
        (rc = store_col_dup(s, 7, &a->acct.jwk)) != CAIRN_OK)
        return rc;
    a->acct.tos_agreed = sqlite3_column_int(s, 4) != 0;
    a->acct.created_at = sqlite3_column_int64(s, 5);
    a->orders = sqlite3_column_int64(s, 6);
    a->certs = sqlite3_column_int64(s, 8);
    return CAIRN_OK;
}

static int
tx_accounts(struct store_conn *c, void *arg)
{
    struct accounts_q *q = arg;
    sqlite3_stmt *s;
    bool row = false;
    int rc;

    for (size_t i = 0; i < q->n; i++) /* a busy retry starts over */
        store_account_cleanup(&q->out[i].acct);
    q->n = 0;
    rc = store_q_start(c,
                           "SELECT a.id, a.key_thumbprint, a.status, a.contact, a.tos_agreed, "
                           "a.created_at, (SELECT count(*) FROM orders o WHERE o.account_id = "
                           "a.id), a.jwk, (SELECT count(*) FROM certs t WHERE t.account_id = a.id "
                           "AND t.status != 'pending') FROM accounts a WHERE ?1 IS NULL OR a.id "
                           "= ?1 ORDER BY a.created_at, a.id",
                           STORE_ARGS(STORE_T(q->id)), &s);

    while (rc == CAIRN_OK && (rc = store_q_step(c, s, &row)) == CAIRN_OK && row) {
        if (q->n == q->cap) {
            size_t cap = q->cap ? q->cap * 2 : 16;
            struct st_account_summary *na = realloc(q->out, cap * sizeof(*na));
            if (na == NULL) {
                rc = CAIRN_ERR_NOMEM;
                break;
            }
            q->out = na;
            q->cap = cap;
        }
        rc = account_row(s, &q->out[q->n]);
        q->n++; /* counted even on failure so the partial row is freed */
    }
    store_q_end(s);
    return rc;
}

int
store_admin_accounts(struct store *st, const char *id, struct st_account_summary **out,
                     size_t *n)
{
    struct accounts_q q = { .id = id };
    int rc = store_rx(st, tx_accounts, &q);

    if (rc == CAIRN_OK && id != NULL && q.n == 0)
        rc = CAIRN_ERR_NOTFOUND;
    if (rc != CAIRN_OK) {
        store_admin_accounts_free(q.out, q.n);
        q.out = NULL;
        q.n = 0;
    }
    *out = q.out;
    *n = q.n;
    return rc;
}

void
store_admin_accounts_free(struct st_account_summary *a, size_t n)
{
    for (size_t i = 0; a != NULL && i < n; i++)
        store_account_cleanup(&a[i].acct);
    free(a);
}

struct certs_q {
    const char *account_id;
    struct st_cert *out;
    size_t n, cap;
};

static int
cert_row(sqlite3_stmt *s, struct st_cert *t)
{
    int rc;

    memset(t, 0, sizeof(*t));
    if ((rc = store_col_text(s, 0, t->serial, sizeof(t->serial))) != CAIRN_OK ||
        (rc = store_col_text(s, 1, t->order_id, sizeof(t->order_id))) != CAIRN_OK ||
        (rc = store_col_text(s, 2, t->account_id, sizeof(t->account_id))) != CAIRN_OK ||
        (rc = store_cert_status_parse((const char *)sqlite3_column_text(s, 3), &t->status)) !=
            CAIRN_OK)
        return rc;
    t->not_after = sqlite3_column_int64(s, 4);
    t->revoked_at = sqlite3_column_int64(s, 5);
    t->reason = sqlite3_column_int(s, 6);
    t->created_at = sqlite3_column_int64(s, 7);
    return CAIRN_OK;
}

static int
tx_certs(struct store_conn *c, void *arg)
{
    struct certs_q *q = arg;
    sqlite3_stmt *s;
    bool row = false;
    int rc;

    q->n = 0; /* a busy retry starts over (rows own nothing without DER) */
    rc = store_q_start(c,
                           "SELECT serial, order_id, account_id, status, not_after, revoked_at, "
                           "reason, created_at FROM certs WHERE status != 'pending' AND (?1 IS "
                           "NULL OR account_id = ?1) ORDER BY created_at DESC, serial",
                           STORE_ARGS(STORE_T(q->account_id)), &s);

    while (rc == CAIRN_OK && (rc = store_q_step(c, s, &row)) == CAIRN_OK && row) {
        if (q->n == q->cap) {
            size_t cap = q->cap ? q->cap * 2 : 16;
            struct st_cert *nc = realloc(q->out, cap * sizeof(*nc));
            if (nc == NULL) {
                rc = CAIRN_ERR_NOMEM;
                break;
            }
            q->out = nc;
            q->cap = cap;
        }
        rc = cert_row(s, &q->out[q->n++]);
    }
    store_q_end(s);
    return rc;
}

int
store_admin_certs(struct store *st, const char *account_id, struct st_cert **out, size_t *n)
{
    struct certs_q q = { .account_id = account_id };
    int rc = store_rx(st, tx_certs, &q);

    if (rc != CAIRN_OK) {
        store_admin_certs_free(q.out, q.n);
        q.out = NULL;
        q.n = 0;
    }
    *out = q.out;
    *n = q.n;
    return rc;
}

void
store_admin_certs_free(struct st_cert *c, size_t n)
{
    for (size_t i = 0; c != NULL && i < n; i++)
        store_cert_cleanup(&c[i]);
    free(c);
}

/* Copies page batches, yielding between them so the daemon's writers are not starved. */
static int
backup_copy(sqlite3 *src, sqlite3 *dst)
{
    struct timespec pause = { 0, 5 * 1000000L };
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    int src_rc;

    if (b == NULL)
        return CAIRN_ERR_IO;
    for (int i = 0; i < 1000000; i++) {
        src_rc = sqlite3_backup_step(b, 256);
        if (src_rc == SQLITE_DONE)
            break;
        if (src_rc != SQLITE_OK && src_rc != SQLITE_BUSY && src_rc != SQLITE_LOCKED)
            break;
        nanosleep(&pause, NULL);
    }
    return sqlite3_backup_finish(b) == SQLITE_OK && src_rc == SQLITE_DONE ? CAIRN_OK
                                                                          : CAIRN_ERR_IO;
}

static int
quick_check(sqlite3 *db)
{
    sqlite3_stmt *s = NULL;
    int ok = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) == SQLITE_OK &&
             sqlite3_step(s) == SQLITE_ROW &&
             strcmp((const char *)sqlite3_column_text(s, 0), "ok") == 0;

    sqlite3_finalize(s);
    return ok ? CAIRN_OK : CAIRN_ERR_IO;
}

int
store_admin_backup(struct store *st, const char *dest_path)
{
    struct store_conn *c;
    sqlite3 *dst = NULL;
    int rc;

    if (access(dest_path, F_OK) == 0)
        return CAIRN_ERR_CONFLICT;
    if ((rc = store_conn_for_thread(st, &c)) != CAIRN_OK)
        return rc;
    if (sqlite3_open_v2(dest_path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        sqlite3_close(dst);
        return CAIRN_ERR_IO;
    }
    rc = backup_copy(store_conn_db(c), dst);
    if (rc == CAIRN_OK)
        rc = quick_check(dst);
    /* the copy is a standalone file: fold any WAL content into it before handing it over */
    if (rc == CAIRN_OK &&
        sqlite3_exec(dst, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK)
        rc = CAIRN_ERR_IO;
    if (sqlite3_close(dst) != SQLITE_OK)
        rc = CAIRN_ERR_IO;
    if (rc != CAIRN_OK)
        unlink(dest_path);
    return rc;
}

struct check_q {
    char *integrity;
    size_t integrity_sz;
    struct st_check_item *items;
    size_t n;
};

/* Each invariant: a name and a query counting the rows that break it. */
static const struct {
    const char *name;
    const char *sql;
} invariants[] = {
    { "foreign keys", "SELECT count(*) FROM pragma_foreign_key_check" },
    { "valid orders without a certificate",
      "SELECT count(*) FROM orders o WHERE o.status = 'valid' AND NOT EXISTS (SELECT 1 FROM "
      "certs t WHERE t.order_id = o.id AND t.status IN ('good', 'revoked'))" },
    { "issued certificates without DER",
      "SELECT count(*) FROM certs WHERE status != 'pending' AND der IS NULL" },
    { "revoked certificates without a time",
      "SELECT count(*) FROM certs WHERE status = 'revoked' AND revoked_at = 0" },
    { "valid authorizations without a valid challenge",
      "SELECT count(*) FROM authzs a WHERE a.status = 'valid' AND NOT EXISTS (SELECT 1 FROM "
      "challenges c WHERE c.authz_id = a.id AND c.status = 'valid')" },
    { "orders without authorizations",
      "SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_authzs x WHERE "
      "x.order_id = o.id)" },
};

static int
tx_check(struct store_conn *c, void *arg)
{
    struct check_q *q = arg;
    sqlite3_stmt *s;
    bool row = false;
    int rc = store_q_start(c, "PRAGMA integrity_check", STORE_NOARGS, &s);

    q->n = 0;
    if (rc == CAIRN_OK && (rc = store_q_step(c, s, &row)) == CAIRN_OK && row)
        snprintf(q->integrity, q->integrity_sz, "%s",
                 (const char *)sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0)
                                                         : "");
    store_q_end(s);
    for (size_t i = 0; rc == CAIRN_OK && i < CAIRN_ARRAY_LEN(invariants); i++) {
        q->items[q->n].name = invariants[i].name;
        rc = store_q_int(c, invariants[i].sql, STORE_NOARGS, &q->items[q->n].count);
        q->n++;
    }
    return rc;
}

int
store_admin_check(struct store *st, char *integrity, size_t integrity_sz,
                  struct st_check_item items[STORE_CHECK_ITEMS], size_t *n)
{
    struct check_q q = { integrity, integrity_sz, items, 0 };
    int rc;

    integrity[0] = '\0';
    rc = store_rx(st, tx_check, &q);
    *n = q.n;
    return rc;
}
