/* sqlite_account.c - accounts: create, load, update, deactivate, key rollover. */
#include "cairn/store.h"

#include <string.h>
#include <time.h>

#include "store/sqlite_int.h"

#define ACCT_COLS "id, key_thumbprint, jwk, status, contact, tos_agreed, created_at"

static int
acct_row(sqlite3_stmt *s, struct st_account *out)
{
    char status[16];
    int rc;

    rc = store_col_text(s, 0, out->id, sizeof(out->id));
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 1, out->thumbprint, sizeof(out->thumbprint));
    if (rc == CAIRN_OK)
        rc = store_col_dup(s, 2, &out->jwk);
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 3, status, sizeof(status));
    if (rc == CAIRN_OK)
        rc = store_acct_status_parse(status, &out->status);
    if (rc == CAIRN_OK)
        rc = store_col_dup(s, 4, &out->contact);
    if (rc != CAIRN_OK)
        return rc;
    if (out->jwk == NULL)
        return CAIRN_ERR_IO;
    out->tos_agreed = sqlite3_column_int64(s, 5) != 0;
    out->created_at = sqlite3_column_int64(s, 6);
    return CAIRN_OK;
}

struct acct_get {
    const char *key;
    bool by_thumbprint;
    struct st_account *out;
};

static int
tx_acct_get(struct store_conn *c, void *arg)
{
    struct acct_get *g = arg;
    sqlite3_stmt *s = NULL;
    bool row = false;
    int rc;

    store_account_cleanup(g->out);
    if (g->by_thumbprint)
        rc = store_q_start(c, "SELECT " ACCT_COLS " FROM accounts WHERE key_thumbprint = ?1",
                           STORE_ARGS(STORE_T(g->key)), &s);
    else
        rc = store_q_start(c, "SELECT " ACCT_COLS " FROM accounts WHERE id = ?1",
                           STORE_ARGS(STORE_T(g->key)), &s);
    if (rc != CAIRN_OK)
        return rc;
    rc = store_q_step(c, s, &row);
    if (rc == CAIRN_OK && !row)
        rc = CAIRN_ERR_NOTFOUND;
    if (rc == CAIRN_OK)
        rc = acct_row(s, g->out);
    store_q_end(s);
    if (rc != CAIRN_OK)
        store_account_cleanup(g->out);
    return rc;
}

int
store_account_get(struct store *st, const char *id, struct st_account *out)
{
    struct acct_get g = { .key = id, .by_thumbprint = false, .out = out };

    memset(out, 0, sizeof(*out));
    if (id == NULL)
        return CAIRN_ERR_INVAL;
    return store_rx(st, tx_acct_get, &g);
}

int
store_account_get_by_thumbprint(struct store *st, const char *thumbprint,
                                struct st_account *out)
{
    struct acct_get g = { .key = thumbprint, .by_thumbprint = true, .out = out };

    memset(out, 0, sizeof(*out));
    if (thumbprint == NULL)
        return CAIRN_ERR_INVAL;
    return store_rx(st, tx_acct_get, &g);
}

struct acct_create {
    const struct st_account *a;
};

static int
tx_acct_create(struct store_conn *c, void *arg)
{
    const struct st_account *a = ((const struct acct_create *)arg)->a;

    return store_q_exec(c,
                        "INSERT INTO accounts (id, key_thumbprint, jwk, status, contact, "
                        "tos_agreed, created_at, updated_at) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                        STORE_ARGS(STORE_T(a->id), STORE_T(a->thumbprint), STORE_T(a->jwk),
                                   STORE_T(acct_status_name(a->status)), STORE_T(a->contact),
                                   STORE_I(a->tos_agreed ? 1 : 0), STORE_I(a->created_at)),
                        NULL);
}

int
store_account_create(struct store *st, const struct st_account *a)
{
    struct acct_create cr = { .a = a };

    if (a == NULL || a->id[0] == '\0' || a->thumbprint[0] == '\0' || a->jwk == NULL ||
        (unsigned)a->status >= ACCT__MAX)
        return CAIRN_ERR_INVAL;
    /* UNIQUE(key_thumbprint) or the id taken: CONFLICT via store_db_rc(). */
    return store_tx(st, tx_acct_create, &cr);
}

/* After a conditional update matched nothing: was the row missing or in another state? */
static int
acct_miss_rc(struct store_conn *c, const char *id)
{
    int64_t one = 0;
    int rc = store_q_int(c, "SELECT 1 FROM accounts WHERE id = ?1",
                         STORE_ARGS(STORE_T(id)), &one);

    return rc == CAIRN_OK ? CAIRN_ERR_CONFLICT : rc;
}

struct acct_update {
    const char *id;
    const char *contact;
    bool tos_agreed;
    int64_t now;
    const char *old_tp;
    const char *new_tp;
    const char *new_jwk;
};

static int
tx_acct_update(struct store_conn *c, void *arg)
{
    const struct acct_update *u = arg;
    int changes = 0;
    int rc;

    rc = store_q_exec(c,
                      "UPDATE accounts SET contact = COALESCE(?2, contact), "
                      "tos_agreed = MAX(tos_agreed, ?3), updated_at = ?4 "
                      "WHERE id = ?1 AND status = 'valid'",
                      STORE_ARGS(STORE_T(u->id), STORE_T(u->contact),
                                 STORE_I(u->tos_agreed ? 1 : 0), STORE_I(u->now)),
                      &changes);
    if (rc == CAIRN_OK && changes == 0)
        rc = acct_miss_rc(c, u->id);
    return rc;
}

int
store_account_update(struct store *st, const char *id, const char *contact, bool tos_agreed)
{
    struct acct_update u = { .id = id, .contact = contact, .tos_agreed = tos_agreed,
                             .now = (int64_t)time(NULL) };

    if (id == NULL)
        return CAIRN_ERR_INVAL;
    return store_tx(st, tx_acct_update, &u);
}

static int
tx_acct_deactivate(struct store_conn *c, void *arg)
{
    const struct acct_update *u = arg;
    int changes = 0;
    int rc;

    rc = store_q_exec(c,
                      "UPDATE accounts SET status = 'deactivated', updated_at = ?2 "
                      "WHERE id = ?1 AND status = 'valid'",
                      STORE_ARGS(STORE_T(u->id), STORE_I(u->now)), &changes);
    if (rc == CAIRN_OK && changes == 0)
        return acct_miss_rc(c, u->id);
    /* RFC 8555 §7.3.6: the account's pending objects must not complete later. */
    if (rc == CAIRN_OK)
        rc = store_q_exec(c,
                          "UPDATE authzs SET status = 'deactivated' "
                          "WHERE account_id = ?1 AND status = 'pending'",
                          STORE_ARGS(STORE_T(u->id)), NULL);
    if (rc == CAIRN_OK)
        rc = store_q_exec(c,
                          "UPDATE orders SET status = 'invalid' "
                          "WHERE account_id = ?1 AND status IN ('pending', 'ready')",
                          STORE_ARGS(STORE_T(u->id)), NULL);
    return rc;
}

int
store_account_deactivate(struct store *st, const char *id, int64_t now)
{
    struct acct_update u = { .id = id, .now = now };

    if (id == NULL)
        return CAIRN_ERR_INVAL;
    return store_tx(st, tx_acct_deactivate, &u);
}

static int
tx_acct_change_key(struct store_conn *c, void *arg)
{
    const struct acct_update *u = arg;
    int changes = 0;
    int rc;

    /* UNIQUE(key_thumbprint) makes a key taken by another account a CONFLICT here. */
    rc = store_q_exec(c,
                      "UPDATE accounts SET key_thumbprint = ?3, jwk = ?4, updated_at = ?5 "
                      "WHERE id = ?1 AND key_thumbprint = ?2 AND status = 'valid'",
                      STORE_ARGS(STORE_T(u->id), STORE_T(u->old_tp), STORE_T(u->new_tp),
                                 STORE_T(u->new_jwk), STORE_I(u->now)),
                      &changes);
    if (rc == CAIRN_OK && changes == 0)
        rc = acct_miss_rc(c, u->id);
    return rc;
}

int
store_account_change_key(struct store *st, const char *id, const char *old_thumbprint,
                         const char *new_thumbprint, const char *new_jwk)
{
    struct acct_update u = { .id = id, .old_tp = old_thumbprint, .new_tp = new_thumbprint,
                             .new_jwk = new_jwk, .now = (int64_t)time(NULL) };

    if (id == NULL || old_thumbprint == NULL || new_thumbprint == NULL || new_jwk == NULL ||
        *new_thumbprint == '\0')
        return CAIRN_ERR_INVAL;
    return store_tx(st, tx_acct_change_key, &u);
}
