/* sqlite_cert.c - finalize (serial reservation, completion, failure), certificates,
 * revocation and crash recovery. */
#include "cairn/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/log.h"
#include "store/sqlite_int.h"

struct finalize {
    const char *order_id;
    const char *account_id;
    const char *serial;
    const uint8_t *der;
    size_t der_len;
    int64_t not_after;
    const char *error;
    int64_t now;
    int result; /* reported while the transaction still commits */
};

/* The order was ready but could not move: expired, or an authorization died since. Either
 * way it becomes invalid (committed) and the caller is told CONFLICT. */
static int
finalize_kill(struct store_conn *c, struct finalize *f, int64_t expires_at)
{
    int rc;

    f->result = CAIRN_ERR_CONFLICT;
    if (expires_at <= f->now)
        return store_q_exec(c, "UPDATE orders SET status = 'invalid' "
                               "WHERE id = ?1 AND status = 'ready'",
                            STORE_ARGS(STORE_T(f->order_id)), NULL);
    rc = store_q_exec(c,
                      "UPDATE authzs SET status = 'expired' WHERE status IN ('pending', "
                      "'valid') AND expires_at <= ?2 AND id IN "
                      "(SELECT authz_id FROM order_authzs WHERE order_id = ?1)",
                      STORE_ARGS(STORE_T(f->order_id), STORE_I(f->now)), NULL);
    if (rc == CAIRN_OK)
        rc = store_q_exec(c,
                          "UPDATE orders SET status = 'invalid', error = ?2 "
                          "WHERE id = ?1 AND status = 'ready'",
                          STORE_ARGS(STORE_T(f->order_id), STORE_T(STORE_PROB_AUTHZ_GONE)),
                          NULL);
    return rc;
}

static int
tx_finalize_begin(struct store_conn *c, void *arg)
{
    struct finalize *f = arg;
    sqlite3_stmt *s = NULL;
    bool row = false;
    char status[16] = "";
    int64_t expires_at = 0;
    int changes = 0;
    int rc;

    f->result = CAIRN_OK;
    rc = store_q_start(c,
                       "SELECT status, expires_at FROM orders "
                       "WHERE id = ?1 AND (?2 IS NULL OR account_id = ?2)",
                       STORE_ARGS(STORE_T(f->order_id), STORE_T(f->account_id)), &s);
    if (rc != CAIRN_OK)
        return rc;
    rc = store_q_step(c, s, &row);
    if (rc == CAIRN_OK && !row)
        rc = CAIRN_ERR_NOTFOUND;
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 0, status, sizeof(status));
    expires_at = sqlite3_column_int64(s, 1);
    store_q_end(s);
    if (rc != CAIRN_OK)
        return rc;
    /* The one conditional statement that decides who signs (PROTOCOL.md §9.1). */
    rc = store_q_exec(c,
                      "UPDATE orders SET status = 'processing' WHERE id = ?1 "
                      "AND status = 'ready' AND expires_at > ?2 AND NOT EXISTS (SELECT 1 "
                      "FROM order_authzs oa JOIN authzs a ON a.id = oa.authz_id "
                      "WHERE oa.order_id = ?1 AND (a.status <> 'valid' OR a.expires_at <= ?2))",
                      STORE_ARGS(STORE_T(f->order_id), STORE_I(f->now)), &changes);
    if (rc != CAIRN_OK)
        return rc;
    if (changes == 0)
        return strcmp(status, "ready") == 0 ? finalize_kill(c, f, expires_at)
                                            : CAIRN_ERR_CONFLICT;
    /* UNIQUE(serial) and UNIQUE(order_id) back the update up. */
    return store_q_exec(c,
                        "INSERT INTO certs (serial, order_id, account_id, status, created_at) "
                        "SELECT ?1, id, account_id, 'pending', ?3 FROM orders WHERE id = ?2",
                        STORE_ARGS(STORE_T(f->serial), STORE_T(f->order_id), STORE_I(f->now)),
                        NULL);
}

int
store_order_finalize_begin(struct store *st, const char *order_id, const char *account_id,
                           const char *serial, int64_t now)
{
    struct finalize f = { .order_id = order_id, .account_id = account_id, .serial = serial,
                          .now = now };
    int rc;

    if (order_id == NULL || serial == NULL || *serial == '\0' ||
        strlen(serial) > CAIRN_SERIAL_HEX_MAX)
        return CAIRN_ERR_INVAL;
    rc = store_tx(st, tx_finalize_begin, &f);
    return rc == CAIRN_OK ? f.result : rc;
}

/* After a conditional update matched nothing: NOTFOUND when the row is missing. */
static int
miss_rc(struct store_conn *c, const char *sql, const char *key)
{
    int64_t one = 0;
    int rc = store_q_int(c, sql, STORE_ARGS(STORE_T(key)), &one);

    return rc == CAIRN_OK ? CAIRN_ERR_CONFLICT : rc;
}

static int
tx_finalize_complete(struct store_conn *c, void *arg)
{
    const struct finalize *f = arg;
    int changes = 0;
    int rc;

    rc = store_q_exec(c,
                      "UPDATE certs SET status = 'good', der = ?3, not_after = ?4, "
                      "created_at = ?5 WHERE serial = ?1 AND order_id = ?2 "
                      "AND status = 'pending'",
                      STORE_ARGS(STORE_T(f->serial), STORE_T(f->order_id),
                                 STORE_B(f->der, f->der_len), STORE_I(f->not_after),
                                 STORE_I(f->now)),
                      &changes);
    if (rc == CAIRN_OK && changes == 0)
        return miss_rc(c, "SELECT 1 FROM certs WHERE serial = ?1", f->serial);
    if (rc == CAIRN_OK)
        rc = store_q_exec(c,
                          "UPDATE orders SET status = 'valid' "
                          "WHERE id = ?1 AND status = 'processing'",
                          STORE_ARGS(STORE_T(f->order_id)), &changes);
    if (rc == CAIRN_OK && changes == 0)
        rc = CAIRN_ERR_CONFLICT; /* rolls the certificate back to pending too */
    return rc;
}

int
store_order_finalize_complete(struct store *st, const char *order_id, const char *serial,
                              const uint8_t *der, size_t der_len, int64_t not_after,
                              int64_t now)
{
    struct finalize f = { .order_id = order_id, .serial = serial, .der = der,
                          .der_len = der_len, .not_after = not_after, .now = now };

    if (order_id == NULL || serial == NULL || der == NULL || der_len == 0 ||
        der_len > INT32_MAX)
        return CAIRN_ERR_INVAL;
    return store_tx(st, tx_finalize_complete, &f);
}

static int
tx_finalize_fail(struct store_conn *c, void *arg)
{
    const struct finalize *f = arg;
    int changes = 0;
    int rc;

    rc = store_q_exec(c,
                      "UPDATE orders SET status = 'invalid', error = ?2 "
                      "WHERE id = ?1 AND status = 'processing'",
                      STORE_ARGS(STORE_T(f->order_id), STORE_T(f->error)), &changes);
    if (rc == CAIRN_OK && changes == 0)
        rc = miss_rc(c, "SELECT 1 FROM orders WHERE id = ?1", f->order_id);
    return rc;
}

int
store_order_finalize_fail(struct store *st, const char *order_id, const char *error)
{
    struct finalize f = { .order_id = order_id, .error = error };

    if (order_id == NULL)
        return CAIRN_ERR_INVAL;
    return store_tx(st, tx_finalize_fail, &f);
}

/* ---- certificates ---- */

struct cert_get {
    const char *serial;
    const char *account_id;
    struct st_cert *out;
};

static int
cert_row(sqlite3_stmt *s, struct st_cert *out)
{
    char status[16];
    const void *der;
    int len;
    int rc;

    rc = store_col_text(s, 0, out->serial, sizeof(out->serial));
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 1, out->order_id, sizeof(out->order_id));
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 2, out->account_id, sizeof(out->account_id));
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 3, status, sizeof(status));
    if (rc == CAIRN_OK)
        rc = store_cert_status_parse(status, &out->status);
    if (rc != CAIRN_OK)
        return rc;
    out->not_after = sqlite3_column_int64(s, 5);
    out->revoked_at = sqlite3_column_int64(s, 6);
    out->reason = sqlite3_column_int(s, 7);
    out->created_at = sqlite3_column_int64(s, 8);
    if (sqlite3_column_type(s, 4) == SQLITE_NULL)
        return CAIRN_OK;
    der = sqlite3_column_blob(s, 4);
    len = sqlite3_column_bytes(s, 4);
    if (der == NULL || len <= 0)
        return len == 0 ? CAIRN_OK : CAIRN_ERR_NOMEM;
    out->der = malloc((size_t)len);
    if (out->der == NULL)
        return CAIRN_ERR_NOMEM;
    memcpy(out->der, der, (size_t)len);
    out->der_len = (size_t)len;
    return CAIRN_OK;
}

static int
tx_cert_get(struct store_conn *c, void *arg)
{
    struct cert_get *g = arg;
    sqlite3_stmt *s = NULL;
    bool row = false;
    int rc;

    store_cert_cleanup(g->out);
    rc = store_q_start(c,
                       "SELECT serial, order_id, account_id, status, der, not_after, "
                       "revoked_at, reason, created_at FROM certs "
                       "WHERE serial = ?1 AND (?2 IS NULL OR account_id = ?2)",
                       STORE_ARGS(STORE_T(g->serial), STORE_T(g->account_id)), &s);
    if (rc != CAIRN_OK)
        return rc;
    rc = store_q_step(c, s, &row);
    if (rc == CAIRN_OK && !row)
        rc = CAIRN_ERR_NOTFOUND;
    if (rc == CAIRN_OK)
        rc = cert_row(s, g->out);
    store_q_end(s);
    if (rc != CAIRN_OK)
        store_cert_cleanup(g->out);
    return rc;
}

int
store_cert_get(struct store *st, const char *serial, const char *account_id,
               struct st_cert *out)
{
    struct cert_get g = { .serial = serial, .account_id = account_id, .out = out };

    memset(out, 0, sizeof(*out));
    if (serial == NULL)
        return CAIRN_ERR_INVAL;
    return store_rx(st, tx_cert_get, &g);
}

struct cert_revoke {
    const char *serial;
    int reason;
    int64_t now;
    const char *block_spki;
};

static int
tx_cert_revoke(struct store_conn *c, void *arg)
{
    const struct cert_revoke *r = arg;
    int changes = 0;
    int rc;

    rc = store_q_exec(c,
                      "UPDATE certs SET status = 'revoked', revoked_at = ?2, reason = ?3 "
                      "WHERE serial = ?1 AND status = 'good'",
                      STORE_ARGS(STORE_T(r->serial), STORE_I(r->now), STORE_I(r->reason)),
                      &changes);
    if (rc == CAIRN_OK && changes == 0)
        rc = miss_rc(c, "SELECT 1 FROM certs WHERE serial = ?1", r->serial);
    if (rc == CAIRN_OK && r->block_spki != NULL)
        rc = store_q_exec(c,
                          "INSERT INTO blocked_keys (spki_sha256, reason, created_at) "
                          "VALUES (?1, ?2, ?3) ON CONFLICT (spki_sha256) DO NOTHING",
                          STORE_ARGS(STORE_T(r->block_spki), STORE_I(r->reason),
                                     STORE_I(r->now)),
                          NULL);
    return rc;
}

static int
tx_key_blocked(struct store_conn *c, void *arg)
{
    const char *spki = arg;
    int64_t one = 0;

    return store_q_int(c, "SELECT 1 FROM blocked_keys WHERE spki_sha256 = ?1",
                       STORE_ARGS(STORE_T(spki)), &one);
}

int
store_key_is_blocked(struct store *st, const char *spki_sha256, bool *blocked)
{
    int rc = store_rx(st, tx_key_blocked, (void *)spki_sha256);

    *blocked = rc == CAIRN_OK;
    return rc == CAIRN_ERR_NOTFOUND ? CAIRN_OK : rc;
}

int
store_cert_revoke(struct store *st, const char *serial, int reason, int64_t now,
                  const char *block_spki)
{
    struct cert_revoke r = { .serial = serial, .reason = reason, .now = now,
                             .block_spki = block_spki };

    if (serial == NULL)
        return CAIRN_ERR_INVAL;
    return store_tx(st, tx_cert_revoke, &r);
}

/* ---- recovery ---- */

struct recover {
    size_t fixed;
    bool was_clean; /* the last run ended with store_mark_clean_shutdown() */
};

/* The clean-shutdown marker lives in kv: "1" written by store_mark_clean_shutdown() after
 * every writer stopped, "0" written by store_recover() at start. A crash, kill or power loss
 * leaves "0" (or no row: a database from before the marker), so the next start runs the full
 * integrity check; a clean restart skips it, which on a large store is most of the start. */
#define STORE_KV_CLEAN "clean_shutdown"

static int
tx_read_clean(struct store_conn *c, void *arg)
{
    struct recover *r = arg;
    int64_t v = 0;
    int rc = store_q_int(c, "SELECT value = '1' FROM kv WHERE name = ?1",
                         STORE_ARGS(STORE_T(STORE_KV_CLEAN)), &v);

    if (rc == CAIRN_ERR_NOTFOUND)
        return CAIRN_OK;
    if (rc == CAIRN_OK)
        r->was_clean = v == 1;
    return rc;
}

static int
tx_set_clean(struct store_conn *c, void *arg)
{
    return store_q_exec(c, "INSERT INTO kv (name, value) VALUES (?1, ?2) "
                           "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                        STORE_ARGS(STORE_T(STORE_KV_CLEAN), STORE_T((const char *)arg)), NULL);
}

int
store_mark_clean_shutdown(struct store *st)
{
    return store_tx(st, tx_set_clean, (void *)"1");
}

static int
tx_recover(struct store_conn *c, void *arg)
{
    struct recover *r = arg;
    int changes = 0;
    int rc;

    /* PROTOCOL.md §9.3: the reserved serial stays in certs (pending), never reused. */
    rc = store_q_exec(c,
                      "UPDATE orders SET status = 'invalid', error = ?1 "
                      "WHERE status = 'processing' AND NOT EXISTS (SELECT 1 FROM certs "
                      "WHERE certs.order_id = orders.id AND certs.status IN ('good', 'revoked'))",
                      STORE_ARGS(STORE_T(STORE_PROB_RECOVERED)), &changes);
    if (rc == CAIRN_OK)
        r->fixed = (size_t)changes;
    /* from now on an unclean end must be detectable at the next start */
    if (rc == CAIRN_OK)
        rc = tx_set_clean(c, (void *)"0");
    return rc;
}

static int
tx_integrity(struct store_conn *c, void *arg)
{
    sqlite3_stmt *s = NULL;
    bool row = false;
    char res[64] = "";
    int rc;

    (void)arg;
    rc = store_q_start(c, "PRAGMA integrity_check(1)", STORE_NOARGS, &s);
    if (rc != CAIRN_OK)
        return rc;
    rc = store_q_step(c, s, &row);
    if (rc == CAIRN_OK && row && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        const unsigned char *t = sqlite3_column_text(s, 0);

        /* Truncation is fine: only "ok" matters, the rest is for the log. */
        if (t != NULL)
            (void)snprintf(res, sizeof(res), "%s", (const char *)t);
    }
    store_q_end(s);
    if (rc == CAIRN_OK && strcmp(res, "ok") != 0) {
        log_err("store", "integrity check failed: %s", res);
        rc = CAIRN_ERR_IO;
    }
    return rc;
}

int
store_recover(struct store *st, int64_t now, size_t *fixed)
{
    struct recover r = { 0 };
    int rc;

    (void)now;
    *fixed = 0;
    rc = store_rx(st, tx_read_clean, &r);
    if (rc == CAIRN_OK && !r.was_clean)
        rc = store_rx(st, tx_integrity, NULL);
    else if (rc == CAIRN_OK)
        log_debug("store", "clean shutdown recorded: integrity check skipped");
    if (rc == CAIRN_OK)
        rc = store_tx(st, tx_recover, &r);
    if (rc == CAIRN_OK)
        *fixed = r.fixed;
    return rc;
}
