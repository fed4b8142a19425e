/* sqlite_proto.c - store queries of the protocol features: external account binding,
 * newAuthz pre-authorization, revocation by authorization holders, ARI and the management
 * API's listings and reset (declared at the end of store.h). */
#include "cairn/store.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store/sqlite_int.h"

/* Upper bound on listing sizes, so a caller's max never reaches SQLite as a huge LIMIT. */
#define LIST_MAX 100000

/* Runs a one-column text query and copies up to max rows into out (rows of width bytes). */
static int
list_text(struct store_conn *c, const char *sql, const struct store_arg *args, size_t max,
          char *out, size_t width, size_t *n)
{
    sqlite3_stmt *s = NULL;
    bool row = false;
    int rc = store_q_start(c, sql, args, &s);

    *n = 0;
    if (rc != CAIRN_OK)
        return rc;
    while (*n < max && (rc = store_q_step(c, s, &row)) == CAIRN_OK && row) {
        rc = store_col_text(s, 0, out + *n * width, width);
        if (rc != CAIRN_OK)
            break;
        (*n)++;
    }
    store_q_end(s);
    return rc;
}

/* ---- external account binding ---- */

struct acct_eab {
    const struct st_account *a;
    const char *kid;
    bool single_use;
    bool kid_taken;
};

static int
tx_account_create_eab(struct store_conn *c, void *arg)
{
    struct acct_eab *e = arg;
    const struct st_account *a = e->a;
    int64_t one = 0;
    int rc = CAIRN_ERR_NOTFOUND;

    e->kid_taken = false;
    if (e->kid != NULL && e->single_use)
        rc = store_q_int(c, "SELECT 1 FROM accounts WHERE eab_kid = ?1 LIMIT 1",
                         STORE_ARGS(STORE_T(e->kid)), &one);
    if (rc == CAIRN_OK) {
        e->kid_taken = true;
        return CAIRN_ERR_CONFLICT;
    }
    if (rc != CAIRN_ERR_NOTFOUND)
        return rc;
    return store_q_exec(c,
                        "INSERT INTO accounts (id, key_thumbprint, jwk, status, contact, "
                        "tos_agreed, created_at, updated_at, eab_kid) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)",
                        STORE_ARGS(STORE_T(a->id), STORE_T(a->thumbprint), STORE_T(a->jwk),
                                   STORE_T(acct_status_name(a->status)), STORE_T(a->contact),
                                   STORE_I(a->tos_agreed ? 1 : 0), STORE_I(a->created_at),
                                   STORE_T(e->kid)),
                        NULL);
}

int
store_account_create_eab(struct store *st, const struct st_account *a, const char *eab_kid,
                         bool single_use, bool *kid_taken)
{
    struct acct_eab e = { .a = a, .kid = eab_kid, .single_use = single_use };
    int rc;

    *kid_taken = false;
    if (a == NULL || a->id[0] == '\0' || a->thumbprint[0] == '\0' || a->jwk == NULL ||
        (unsigned)a->status >= ACCT__MAX)
        return CAIRN_ERR_INVAL;
    rc = store_tx(st, tx_account_create_eab, &e);
    *kid_taken = e.kid_taken;
    return rc;
}

struct text_get {
    const char *key;
    char *out;
    size_t outsz;
    char **dup;
};

static int
tx_account_eab_kid(struct store_conn *c, void *arg)
{
    struct text_get *g = arg;
    sqlite3_stmt *s = NULL;
    bool row = false;
    int rc = store_q_start(c, "SELECT eab_kid FROM accounts WHERE id = ?1",
                           STORE_ARGS(STORE_T(g->key)), &s);

    if (rc != CAIRN_OK)
        return rc;
    rc = store_q_step(c, s, &row);
    if (rc == CAIRN_OK && !row)
        rc = CAIRN_ERR_NOTFOUND;
    if (rc == CAIRN_OK && sqlite3_column_type(s, 0) != SQLITE_NULL)
        rc = store_col_text(s, 0, g->out, g->outsz);
    store_q_end(s);
    return rc;
}

int
store_account_eab_kid(struct store *st, const char *id, char out[CAIRN_MAX_EAB_KID_LEN + 1])
{
    struct text_get g = { .key = id, .out = out, .outsz = CAIRN_MAX_EAB_KID_LEN + 1 };

    out[0] = '\0';
    if (id == NULL)
        return CAIRN_ERR_INVAL;
    return store_rx(st, tx_account_eab_kid, &g);
}

struct count_q {
    const char *key;
    int64_t count;
};

static int
tx_eab_kid_accounts(struct store_conn *c, void *arg)
{
    struct count_q *q = arg;

    return store_q_int(c, "SELECT COUNT(*) FROM accounts WHERE eab_kid = ?1",
                       STORE_ARGS(STORE_T(q->key)), &q->count);
}

int
store_eab_kid_accounts(struct store *st, const char *kid, int64_t *count)
{
    struct count_q q = { .key = kid };
    int rc;

    *count = 0;
    if (kid == NULL)
        return CAIRN_ERR_INVAL;
    rc = store_rx(st, tx_eab_kid_accounts, &q);
    if (rc == CAIRN_OK)
        *count = q.count;
    return rc;
}

struct eab_key_op {
    const char *kid;
    const uint8_t *key;
    size_t len;
    uint8_t *out;
    size_t cap;
    size_t out_len;
    int64_t now;
};

static int
tx_eab_key_put(struct store_conn *c, void *arg)
{
    struct eab_key_op *o = arg;

    return store_q_exec(c, "INSERT INTO eab_keys (kid, mac_key, created_at) VALUES (?1, ?2, ?3)",
                        STORE_ARGS(STORE_T(o->kid), STORE_B(o->key, o->len), STORE_I(o->now)),
                        NULL);
}

int
store_eab_key_put(struct store *st, const char *kid, const uint8_t *key, size_t len,
                  int64_t now)
{
    struct eab_key_op o = { .kid = kid, .key = key, .len = len, .now = now };

    if (kid == NULL || *kid == '\0' || strlen(kid) > CAIRN_MAX_EAB_KID_LEN || key == NULL ||
        len == 0 || len > CAIRN_MAX_EAB_KEY)
        return CAIRN_ERR_INVAL;
    return store_tx(st, tx_eab_key_put, &o);
}

static int
tx_eab_key_get(struct store_conn *c, void *arg)
{
    struct eab_key_op *o = arg;
    sqlite3_stmt *s = NULL;
    bool row = false;
    int len;
    int rc = store_q_start(c, "SELECT mac_key FROM eab_keys WHERE kid = ?1",
                           STORE_ARGS(STORE_T(o->kid)), &s);

    if (rc != CAIRN_OK)
        return rc;
    rc = store_q_step(c, s, &row);
    if (rc == CAIRN_OK && !row)
        rc = CAIRN_ERR_NOTFOUND;
    if (rc == CAIRN_OK) {
        const void *blob = sqlite3_column_blob(s, 0);

        len = sqlite3_column_bytes(s, 0);
        if (blob == NULL || len <= 0 || (size_t)len > o->cap) {
            rc = CAIRN_ERR_IO;
        } else {
            memcpy(o->out, blob, (size_t)len);
            o->out_len = (size_t)len;
        }
    }
    store_q_end(s);
    return rc;
}

int
store_eab_key_get(struct store *st, const char *kid, uint8_t *key, size_t cap, size_t *len)
{
    struct eab_key_op o = { .kid = kid, .out = key, .cap = cap };
    int rc;

    *len = 0;
    if (kid == NULL || key == NULL)
        return CAIRN_ERR_INVAL;
    rc = store_rx(st, tx_eab_key_get, &o);
    if (rc == CAIRN_OK)
        *len = o.out_len;
    return rc;
}

static int
tx_eab_key_delete(struct store_conn *c, void *arg)
{
    struct eab_key_op *o = arg;
    int changes = 0;
    int rc = store_q_exec(c, "DELETE FROM eab_keys WHERE kid = ?1", STORE_ARGS(STORE_T(o->kid)),
                          &changes);

    return rc == CAIRN_OK && changes == 0 ? CAIRN_ERR_NOTFOUND : rc;
}

int
store_eab_key_delete(struct store *st, const char *kid)
{
    struct eab_key_op o = { .kid = kid };

    if (kid == NULL)
        return CAIRN_ERR_INVAL;
    return store_tx(st, tx_eab_key_delete, &o);
}

struct eab_list {
    size_t max;
    char (*kids)[CAIRN_MAX_EAB_KID_LEN + 1];
    int64_t *created;
    size_t n;
};

static int
tx_eab_key_list(struct store_conn *c, void *arg)
{
    struct eab_list *l = arg;
    sqlite3_stmt *s = NULL;
    bool row = false;
    int rc = store_q_start(c, "SELECT kid, created_at FROM eab_keys ORDER BY created_at, kid",
                           STORE_NOARGS, &s);

    l->n = 0;
    if (rc != CAIRN_OK)
        return rc;
    while (l->n < l->max && (rc = store_q_step(c, s, &row)) == CAIRN_OK && row) {
        rc = store_col_text(s, 0, l->kids[l->n], sizeof(l->kids[l->n]));
        if (rc != CAIRN_OK)
            break;
        if (l->created != NULL)
            l->created[l->n] = sqlite3_column_int64(s, 1);
        l->n++;
    }
    store_q_end(s);
    return rc;
}

int
store_eab_key_list(struct store *st, size_t max, char (*kids)[CAIRN_MAX_EAB_KID_LEN + 1],
                   int64_t *created, size_t *n)
{
    struct eab_list l = { .max = max, .kids = kids, .created = created };
    int rc;

    *n = 0;
    if (max > 0 && kids == NULL)
        return CAIRN_ERR_INVAL;
    rc = store_rx(st, tx_eab_key_list, &l);
    if (rc == CAIRN_OK)
        *n = l.n;
    return rc;
}

/* ---- pre-authorization ---- */

struct preauth {
    const struct st_authz *a;
    const char *id;
    const char *account_id;
    int64_t now;
};

static int
tx_authz_create_preauth(struct store_conn *c, void *arg)
{
    struct preauth *pa = arg;
    int rc = store_authz_insert(c, pa->a->account_id, pa->a, pa->now);

    if (rc == CAIRN_OK)
        rc = store_q_exec(c, "UPDATE authzs SET preauth = 1 WHERE id = ?1",
                          STORE_ARGS(STORE_T(pa->a->id)), NULL);
    return rc;
}

int
store_authz_create_preauth(struct store *st, const struct st_authz *a, int64_t now)
{
    struct preauth pa = { .a = a, .now = now };

    if (a == NULL || a->id[0] == '\0' || a->account_id[0] == '\0' ||
        (unsigned)a->status >= AUTHZ__MAX || (a->nchall > 0 && a->chall == NULL))
        return CAIRN_ERR_INVAL;
    return store_tx(st, tx_authz_create_preauth, &pa);
}

static int
tx_authz_mark_preauth(struct store_conn *c, void *arg)
{
    struct preauth *pa = arg;
    int changes = 0;
    int rc = store_q_exec(c, "UPDATE authzs SET preauth = 1 WHERE id = ?1 AND account_id = ?2",
                          STORE_ARGS(STORE_T(pa->id), STORE_T(pa->account_id)), &changes);

    return rc == CAIRN_OK && changes == 0 ? CAIRN_ERR_NOTFOUND : rc;
}

int
store_authz_mark_preauth(struct store *st, const char *id, const char *account_id)
{
    struct preauth pa = { .id = id, .account_id = account_id };

    if (id == NULL || account_id == NULL)
        return CAIRN_ERR_INVAL;
    return store_tx(st, tx_authz_mark_preauth, &pa);
}

struct preauth_find {
    const char *account_id;
    const struct ident *ident;
    int64_t now;
    char *out_id;
    size_t n;
};

static int
tx_authz_find_preauth(struct store_conn *c, void *arg)
{
    struct preauth_find *f = arg;

    return list_text(c,
                     "SELECT id FROM authzs WHERE account_id = ?1 AND ident_type = ?2 "
                     "AND ident_value = ?3 AND wildcard = ?4 AND expires_at > ?5 "
                     "AND status = 'valid' AND preauth = 1 ORDER BY expires_at DESC LIMIT 1",
                     STORE_ARGS(STORE_T(f->account_id),
                                STORE_T(store_ident_type_name(f->ident->type)),
                                STORE_T(f->ident->value), STORE_I(f->ident->wildcard ? 1 : 0),
                                STORE_I(f->now)),
                     1, f->out_id, CAIRN_ID_LEN + 1, &f->n);
}

int
store_authz_find_preauth(struct store *st, const char *account_id, const struct ident *ident,
                         int64_t now, char out_id[CAIRN_ID_LEN + 1])
{
    struct preauth_find f = { .account_id = account_id, .ident = ident, .now = now,
                              .out_id = out_id };
    int rc;

    out_id[0] = '\0';
    if (account_id == NULL || ident == NULL)
        return CAIRN_ERR_INVAL;
    rc = store_rx(st, tx_authz_find_preauth, &f);
    return rc == CAIRN_OK && f.n == 0 ? CAIRN_ERR_NOTFOUND : rc;
}

/* ---- revocation by authorization holders ---- */

struct holds {
    const char *account_id;
    const struct ident *idents;
    size_t n;
    int64_t now;
    bool holds;
};

static int
tx_account_holds_authz(struct store_conn *c, void *arg)
{
    struct holds *h = arg;
    int64_t one = 0;
    int rc = CAIRN_OK;

    h->holds = true;
    for (size_t i = 0; i < h->n && h->holds; i++) {
        const struct ident *id = &h->idents[i];
        const char *value = id->value;

        if (id->type == IDENT_DNS && strncmp(value, "*.", 2) == 0)
            value += 2; /* an authorization names the base domain */
        rc = store_q_int(c,
                         "SELECT 1 FROM authzs WHERE account_id = ?1 AND ident_type = ?2 "
                         "AND ident_value = ?3 AND status = 'valid' AND expires_at > ?4 "
                         "LIMIT 1",
                         STORE_ARGS(STORE_T(h->account_id),
                                    STORE_T(store_ident_type_name(id->type)), STORE_T(value),
                                    STORE_I(h->now)),
                         &one);
        if (rc == CAIRN_ERR_NOTFOUND) {
            h->holds = false;
            rc = CAIRN_OK;
        }
        if (rc != CAIRN_OK)
            break;
    }
    return rc;
}

int
store_account_holds_authz(struct store *st, const char *account_id, const struct ident *idents,
                          size_t n, int64_t now, bool *holds)
{
    struct holds h = { .account_id = account_id, .idents = idents, .n = n, .now = now };
    int rc;

    *holds = false;
    if (account_id == NULL || idents == NULL || n == 0)
        return CAIRN_ERR_INVAL;
    rc = store_rx(st, tx_account_holds_authz, &h);
    if (rc == CAIRN_OK)
        *holds = h.holds;
    return rc;
}

/* ---- ARI ---- */

struct replaced_q {
    const char *certid;
    int64_t now;
    bool replaced;
};

static int
tx_order_replaced(struct store_conn *c, void *arg)
{
    struct replaced_q *q = arg;
    int64_t one = 0;
    int rc = store_q_int(c, STORE_SQL_ORDER_REPLACED,
                         STORE_ARGS(STORE_T(q->certid), STORE_I(q->now)), &one);

    q->replaced = rc == CAIRN_OK;
    return rc == CAIRN_ERR_NOTFOUND ? CAIRN_OK : rc;
}

int
store_order_replaced(struct store *st, const char *certid, int64_t now, bool *replaced)
{
    struct replaced_q q = { .certid = certid, .now = now };
    int rc;

    *replaced = false;
    if (certid == NULL)
        return CAIRN_ERR_INVAL;
    rc = store_rx(st, tx_order_replaced, &q);
    if (rc == CAIRN_OK)
        *replaced = q.replaced;
    return rc;
}

struct ari_override {
    const char *serial;
    const char *response;
    int64_t now;
    char *out;
};

static int
tx_ari_override_set(struct store_conn *c, void *arg)
{
    struct ari_override *o = arg;

    return store_q_exec(c,
                        "INSERT INTO ari_overrides (serial, response, created_at) "
                        "VALUES (?1, ?2, ?3) ON CONFLICT (serial) DO UPDATE SET "
                        "response = excluded.response, created_at = excluded.created_at",
                        STORE_ARGS(STORE_T(o->serial), STORE_T(o->response), STORE_I(o->now)),
                        NULL);
}

int
store_ari_override_set(struct store *st, const char *serial, const char *response, int64_t now)
{
    struct ari_override o = { .serial = serial, .response = response, .now = now };

    if (serial == NULL || response == NULL)
        return CAIRN_ERR_INVAL;
    return store_tx(st, tx_ari_override_set, &o);
}

static int
tx_ari_override_get(struct store_conn *c, void *arg)
{
    struct ari_override *o = arg;
    sqlite3_stmt *s = NULL;
    bool row = false;
    int rc = store_q_start(c, "SELECT response FROM ari_overrides WHERE serial = ?1",
                           STORE_ARGS(STORE_T(o->serial)), &s);

    if (rc != CAIRN_OK)
        return rc;
    rc = store_q_step(c, s, &row);
    if (rc == CAIRN_OK && !row)
        rc = CAIRN_ERR_NOTFOUND;
    if (rc == CAIRN_OK)
        rc = store_col_dup(s, 0, &o->out);
    store_q_end(s);
    return rc;
}

int
store_ari_override_get(struct store *st, const char *serial, char **response)
{
    struct ari_override o = { .serial = serial };
    int rc;

    *response = NULL;
    if (serial == NULL)
        return CAIRN_ERR_INVAL;
    rc = store_rx(st, tx_ari_override_get, &o);
    if (rc == CAIRN_OK && o.out == NULL)
        rc = CAIRN_ERR_IO;
    if (rc == CAIRN_OK)
        *response = o.out;
    else
        free(o.out);
    return rc;
}

/* ---- management listings and reset ---- */

struct ids_q {
    const char *key;
    size_t max;
    char *out;
    size_t width;
    size_t n;
};

static int
tx_account_ids(struct store_conn *c, void *arg)
{
    struct ids_q *q = arg;

    return list_text(c, "SELECT id FROM accounts ORDER BY created_at, rowid LIMIT ?1",
                     STORE_ARGS(STORE_I(q->max)), q->max, q->out, q->width, &q->n);
}

static int
tx_account_order_ids(struct store_conn *c, void *arg)
{
    struct ids_q *q = arg;

    return list_text(c, "SELECT id FROM orders WHERE account_id = ?1 ORDER BY seq LIMIT ?2",
                     STORE_ARGS(STORE_T(q->key), STORE_I(q->max)), q->max, q->out, q->width,
                     &q->n);
}

static int
tx_cert_serials(struct store_conn *c, void *arg)
{
    struct ids_q *q = arg;

    return list_text(c,
                     "SELECT serial FROM certs WHERE status IN ('good', 'revoked') "
                     "ORDER BY created_at, rowid LIMIT ?1",
                     STORE_ARGS(STORE_I(q->max)), q->max, q->out, q->width, &q->n);
}

static int
run_ids(struct store *st, store_tx_fn *fn, const char *key, size_t max, char *out, size_t width,
        size_t *n)
{
    struct ids_q q = { .key = key, .max = max > LIST_MAX ? LIST_MAX : max, .out = out,
                       .width = width };
    int rc;

    *n = 0;
    if (max > 0 && out == NULL)
        return CAIRN_ERR_INVAL;
    rc = store_rx(st, fn, &q);
    if (rc == CAIRN_OK)
        *n = q.n;
    return rc;
}

int
store_account_ids(struct store *st, size_t max, char (*ids)[CAIRN_ID_LEN + 1], size_t *n)
{
    return run_ids(st, tx_account_ids, NULL, max, (char *)ids, sizeof(*ids), n);
}

int
store_account_order_ids(struct store *st, const char *account_id, size_t max,
                        char (*ids)[CAIRN_ID_LEN + 1], size_t *n)
{
    if (account_id == NULL) {
        *n = 0;
        return CAIRN_ERR_INVAL;
    }
    return run_ids(st, tx_account_order_ids, account_id, max, (char *)ids, sizeof(*ids), n);
}

int
store_cert_serials(struct store *st, size_t max, char (*serials)[CAIRN_SERIAL_HEX_MAX + 1],
                   size_t *n)
{
    return run_ids(st, tx_cert_serials, NULL, max, (char *)serials, sizeof(*serials), n);
}

static int
tx_reset(struct store_conn *c, void *arg)
{
    /* children before parents: the foreign keys are enforced */
    static const char *const sql[] = {
        "DELETE FROM ari_overrides", "DELETE FROM challenges", "DELETE FROM order_authzs",
        "DELETE FROM certs",         "DELETE FROM orders",     "DELETE FROM authzs",
        "DELETE FROM blocked_keys",  "DELETE FROM accounts",
    };
    int rc = CAIRN_OK;

    (void)arg;
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(sql) && rc == CAIRN_OK; i++)
        rc = store_q_exec(c, sql[i], STORE_NOARGS, NULL);
    return rc;
}

int
store_reset(struct store *st)
{
    return store_tx(st, tx_reset, NULL);
}
