/* sqlite_order.c - orders: create (with new authorizations), load, list; authz reuse. */
#include "cairn/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cairn/log.h"
#include "store/sqlite_int.h"

/* ---- identifiers as JSON text: [{"type":"dns","value":"*.example.com"}, ...] ---- */

static int
idents_encode(const struct ident *idents, size_t n, char **out)
{
    json_t *arr = json_array();
    int rc = CAIRN_ERR_NOMEM;

    *out = NULL;
    if (arr == NULL)
        return CAIRN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:s,s:s}", "type", store_ident_type_name(idents[i].type),
                              "value", idents[i].value);

        if (o == NULL || json_array_append_new(arr, o) != 0)
            goto out;
    }
    *out = json_dumps(arr, JSON_COMPACT);
    if (*out != NULL)
        rc = CAIRN_OK;
out:
    json_decref(arr);
    return rc;
}

static int
ident_decode(json_t *o, struct ident *out)
{
    json_t *t = json_object_get(o, "type");
    json_t *v = json_object_get(o, "value");
    int rc;

    if (!json_is_string(t) || !json_is_string(v) ||
        json_string_length(v) > CAIRN_MAX_IDENT_VALUE)
        return CAIRN_ERR_IO;
    rc = store_ident_type_parse(json_string_value(t), &out->type);
    if (rc != CAIRN_OK)
        return rc;
    memcpy(out->value, json_string_value(v), json_string_length(v) + 1);
    /* Order form: a wildcard keeps its "*." label. */
    out->wildcard = out->type == IDENT_DNS && strncmp(out->value, "*.", 2) == 0;
    return CAIRN_OK;
}

static int
idents_decode(const char *text, struct ident **out, size_t *n)
{
    json_error_t err;
    json_t *arr = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    size_t len;
    int rc = CAIRN_ERR_IO;

    if (arr == NULL || !json_is_array(arr) || json_array_size(arr) == 0 ||
        json_array_size(arr) > CAIRN_MAX_IDENTS) {
        log_err("store", "corrupt order identifiers");
        goto out;
    }
    len = json_array_size(arr);
    *out = calloc(len, sizeof(**out));
    if (*out == NULL) {
        rc = CAIRN_ERR_NOMEM;
        goto out;
    }
    *n = len;
    for (size_t i = 0; i < len; i++) {
        rc = ident_decode(json_array_get(arr, i), &(*out)[i]);
        if (rc != CAIRN_OK)
            goto out;
    }
    rc = CAIRN_OK;
out:
    json_decref(arr);
    return rc;
}

/* ---- create ---- */

struct order_create {
    const struct st_order *o;
    const struct st_authz *new_authz;
    size_t nnew;
    const char *idents_json;
    enum order_status status;
};

static int
insert_challenges(struct store_conn *c, const struct st_authz *a)
{
    int rc = CAIRN_OK;

    for (size_t j = 0; j < a->nchall && rc == CAIRN_OK; j++) {
        const struct st_challenge *ch = &a->chall[j];

        rc = store_q_exec(c,
                          "INSERT INTO challenges (id, authz_id, type, token, status, "
                          "validated_at, error, pos) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                          STORE_ARGS(STORE_T(ch->id), STORE_T(a->id),
                                     STORE_T(chall_type_name(ch->type)), STORE_T(ch->token),
                                     STORE_T(chall_status_name(ch->status)),
                                     STORE_I(ch->validated_at), STORE_T(ch->error),
                                     STORE_I(j)),
                          NULL);
    }
    return rc;
}

static int
insert_authz(struct store_conn *c, const char *account_id, const struct st_authz *a,
             int64_t now)
{
    int rc;

    /* The order's account owns the authorization, whatever a->account_id says. */
    rc = store_q_exec(c,
                      "INSERT INTO authzs (id, account_id, ident_type, ident_value, wildcard, "
                      "status, expires_at, validated_at, created_at) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                      STORE_ARGS(STORE_T(a->id), STORE_T(account_id),
                                 STORE_T(store_ident_type_name(a->ident.type)),
                                 STORE_T(a->ident.value), STORE_I(a->ident.wildcard ? 1 : 0),
                                 STORE_T(authz_status_name(a->status)),
                                 STORE_I(a->expires_at), STORE_I(a->validated_at),
                                 STORE_I(now)),
                      NULL);
    if (rc == CAIRN_OK)
        rc = insert_challenges(c, a);
    return rc;
}

int
store_authz_insert(struct store_conn *c, const char *account_id, const struct st_authz *a,
                   int64_t now)
{
    return insert_authz(c, account_id, a, now);
}

/* ARI: at most one live order replaces a certificate (alreadyReplaced). */
static int
check_not_replaced(struct store_conn *c, const struct st_order *o)
{
    int64_t one = 0;
    int rc;

    if (o->replaces[0] == '\0')
        return CAIRN_OK;
    rc = store_q_int(c, STORE_SQL_ORDER_REPLACED,
                     STORE_ARGS(STORE_T(o->replaces), STORE_I(o->created_at)), &one);
    if (rc == CAIRN_OK)
        return CAIRN_ERR_CONFLICT;
    return rc == CAIRN_ERR_NOTFOUND ? CAIRN_OK : rc;
}

/* Links authz i to the order; an authorization that is missing, another account's, expired
 * or no longer pending/valid (lost a race since store_authz_find_reusable) is a CONFLICT. */
static int
link_authz(struct store_conn *c, const struct st_order *o, size_t i, bool *all_valid)
{
    sqlite3_stmt *s = NULL;
    bool row = false;
    char status[16] = "";
    int rc;

    rc = store_q_start(c,
                       "SELECT status FROM authzs WHERE id = ?1 AND account_id = ?2 "
                       "AND expires_at > ?3 AND status IN ('pending', 'valid')",
                       STORE_ARGS(STORE_T(o->authz_ids[i]), STORE_T(o->account_id),
                                  STORE_I(o->created_at)),
                       &s);
    if (rc != CAIRN_OK)
        return rc;
    rc = store_q_step(c, s, &row);
    if (rc == CAIRN_OK && !row)
        rc = CAIRN_ERR_CONFLICT;
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 0, status, sizeof(status));
    store_q_end(s);
    if (rc != CAIRN_OK)
        return rc;
    if (strcmp(status, "valid") != 0)
        *all_valid = false;
    return store_q_exec(c,
                        "INSERT INTO order_authzs (order_id, authz_id, pos) VALUES (?1, ?2, ?3)",
                        STORE_ARGS(STORE_T(o->id), STORE_T(o->authz_ids[i]), STORE_I(i)),
                        NULL);
}

static int
tx_order_create(struct store_conn *c, void *arg)
{
    struct order_create *oc = arg;
    const struct st_order *o = oc->o;
    bool all_valid = true;
    int rc = check_not_replaced(c, o);

    for (size_t i = 0; i < oc->nnew && rc == CAIRN_OK; i++)
        rc = insert_authz(c, o->account_id, &oc->new_authz[i], o->created_at);
    if (rc == CAIRN_OK)
        rc = store_q_exec(
            c,
            "INSERT INTO orders (id, account_id, status, expires_at, not_before, not_after, "
            "profile, identifiers, created_at, seq, replaces) VALUES (?1, ?2, 'pending', ?3, "
            "?4, ?5, ?6, ?7, ?8, (SELECT COALESCE(MAX(seq), 0) + 1 FROM orders), ?9)",
            STORE_ARGS(STORE_T(o->id), STORE_T(o->account_id), STORE_I(o->expires_at),
                       STORE_I(o->not_before), STORE_I(o->not_after), STORE_T(o->profile),
                       STORE_T(oc->idents_json), STORE_I(o->created_at),
                       STORE_T(o->replaces[0] ? o->replaces : NULL)),
            NULL);
    for (size_t i = 0; i < o->nauthz && rc == CAIRN_OK; i++)
        rc = link_authz(c, o, i, &all_valid);
    if (rc != CAIRN_OK)
        return rc;
    oc->status = all_valid ? ORDER_READY : ORDER_PENDING;
    if (all_valid)
        rc = store_q_exec(c, "UPDATE orders SET status = 'ready' WHERE id = ?1",
                          STORE_ARGS(STORE_T(o->id)), NULL);
    return rc;
}

static bool
order_args_ok(const struct st_order *o, const struct st_authz *new_authz, size_t nnew)
{
    if (o == NULL || o->id[0] == '\0' || o->account_id[0] == '\0' || o->idents == NULL ||
        o->authz_ids == NULL || o->nidents == 0 || o->nidents > CAIRN_MAX_IDENTS ||
        o->nauthz != o->nidents || (nnew > 0 && new_authz == NULL) || nnew > o->nidents)
        return false;
    for (size_t i = 0; i < nnew; i++) {
        if ((unsigned)new_authz[i].status >= AUTHZ__MAX ||
            (new_authz[i].nchall > 0 && new_authz[i].chall == NULL))
            return false;
    }
    return true;
}

int
store_order_create(struct store *st, const struct st_order *o,
                   const struct st_authz *new_authz, size_t nnew,
                   enum order_status *status_out)
{
    struct order_create oc = { .o = o, .new_authz = new_authz, .nnew = nnew };
    char *json = NULL;
    int rc;

    if (!order_args_ok(o, new_authz, nnew))
        return CAIRN_ERR_INVAL;
    rc = idents_encode(o->idents, o->nidents, &json);
    if (rc != CAIRN_OK)
        return rc;
    oc.idents_json = json;
    rc = store_tx(st, tx_order_create, &oc);
    if (rc == CAIRN_OK && status_out != NULL)
        *status_out = oc.status;
    free(json);
    return rc;
}

/* ---- load ---- */

struct order_get {
    const char *id;
    const char *account_id;
    struct st_order *out;
};

static int
order_row(sqlite3_stmt *s, struct st_order *o)
{
    char status[16];
    char *idents = NULL;
    int rc;

    rc = store_col_text(s, 0, o->id, sizeof(o->id));
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 1, o->account_id, sizeof(o->account_id));
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 2, status, sizeof(status));
    if (rc == CAIRN_OK)
        rc = store_order_status_parse(status, &o->status);
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 7, o->profile, sizeof(o->profile));
    if (rc == CAIRN_OK)
        rc = store_col_dup(s, 9, &o->error);
    if (rc == CAIRN_OK && sqlite3_column_type(s, 10) != SQLITE_NULL)
        rc = store_col_text(s, 10, o->cert_serial, sizeof(o->cert_serial));
    if (rc == CAIRN_OK && sqlite3_column_type(s, 11) != SQLITE_NULL)
        rc = store_col_text(s, 11, o->replaces, sizeof(o->replaces));
    if (rc == CAIRN_OK)
        rc = store_col_dup(s, 8, &idents);
    if (rc == CAIRN_OK)
        rc = idents == NULL ? CAIRN_ERR_IO : idents_decode(idents, &o->idents, &o->nidents);
    free(idents);
    o->expires_at = sqlite3_column_int64(s, 3);
    o->not_before = sqlite3_column_int64(s, 4);
    o->not_after = sqlite3_column_int64(s, 5);
    o->created_at = sqlite3_column_int64(s, 6);
    return rc;
}

static int
order_load_authz_ids(struct store_conn *c, struct st_order *o)
{
    sqlite3_stmt *s = NULL;
    bool row = false;
    size_t n = 0;
    int rc;

    o->authz_ids = calloc(o->nidents, sizeof(*o->authz_ids));
    if (o->authz_ids == NULL)
        return CAIRN_ERR_NOMEM;
    rc = store_q_start(c, "SELECT authz_id FROM order_authzs WHERE order_id = ?1 ORDER BY pos",
                       STORE_ARGS(STORE_T(o->id)), &s);
    if (rc != CAIRN_OK)
        return rc;
    while ((rc = store_q_step(c, s, &row)) == CAIRN_OK && row) {
        if (n == o->nidents) {
            rc = CAIRN_ERR_IO; /* more authorizations than identifiers: corrupt */
            break;
        }
        rc = store_col_text(s, 0, o->authz_ids[n], sizeof(o->authz_ids[n]));
        if (rc != CAIRN_OK)
            break;
        n++;
    }
    store_q_end(s);
    o->nauthz = n;
    if (rc == CAIRN_OK && n != o->nidents) {
        log_err("store", "order has %zu authorizations for %zu identifiers", n, o->nidents);
        rc = CAIRN_ERR_IO;
    }
    return rc;
}

static int
tx_order_get(struct store_conn *c, void *arg)
{
    struct order_get *g = arg;
    sqlite3_stmt *s = NULL;
    bool row = false;
    int rc;

    store_order_cleanup(g->out);
    rc = store_q_start(c,
                       "SELECT o.id, o.account_id, o.status, o.expires_at, o.not_before, "
                       "o.not_after, o.created_at, o.profile, o.identifiers, o.error, "
                       "(SELECT serial FROM certs WHERE order_id = o.id "
                       " AND status IN ('good', 'revoked')), o.replaces "
                       "FROM orders o WHERE o.id = ?1 AND (?2 IS NULL OR o.account_id = ?2)",
                       STORE_ARGS(STORE_T(g->id), STORE_T(g->account_id)), &s);
    if (rc != CAIRN_OK)
        return rc;
    rc = store_q_step(c, s, &row);
    if (rc == CAIRN_OK && !row)
        rc = CAIRN_ERR_NOTFOUND;
    if (rc == CAIRN_OK)
        rc = order_row(s, g->out);
    store_q_end(s);
    if (rc == CAIRN_OK)
        rc = order_load_authz_ids(c, g->out);
    if (rc != CAIRN_OK)
        store_order_cleanup(g->out);
    return rc;
}

struct order_expire {
    const char *id;
    int64_t now;
};

static int
tx_order_expire(struct store_conn *c, void *arg)
{
    const struct order_expire *e = arg;

    return store_q_exec(c,
                        "UPDATE orders SET status = 'invalid' WHERE id = ?1 "
                        "AND status IN ('pending', 'ready', 'processing') AND expires_at <= ?2",
                        STORE_ARGS(STORE_T(e->id), STORE_I(e->now)), NULL);
}

int
store_order_get(struct store *st, const char *id, const char *account_id, int64_t now,
                struct st_order *out)
{
    struct order_get g = { .id = id, .account_id = account_id, .out = out };
    struct order_expire e = { .id = id, .now = now };
    int rc;

    memset(out, 0, sizeof(*out));
    if (id == NULL)
        return CAIRN_ERR_INVAL;
    rc = store_rx(st, tx_order_get, &g);
    if (rc != CAIRN_OK)
        return rc;
    /* RFC 8555 §7.1.6: an order past its expiry without a certificate is invalid. */
    if ((out->status == ORDER_PENDING || out->status == ORDER_READY ||
         out->status == ORDER_PROCESSING) && out->expires_at <= now) {
        rc = store_tx(st, tx_order_expire, &e);
        if (rc != CAIRN_OK) {
            store_order_cleanup(out);
            return rc;
        }
        out->status = ORDER_INVALID;
    }
    return CAIRN_OK;
}

/* ---- list ---- */

struct order_list {
    const char *account_id;
    const char *cursor;
    size_t max;
    char (*ids)[CAIRN_ID_LEN + 1];
    size_t n;
    bool more;
    int64_t now;
};

static int
tx_orders_list(struct store_conn *c, void *arg)
{
    struct order_list *l = arg;
    sqlite3_stmt *s = NULL;
    bool row = false;
    int64_t after = 0;
    int rc = CAIRN_OK;

    l->n = 0;
    l->more = false;
    if (l->cursor[0] != '\0')
        rc = store_q_int(c, "SELECT seq FROM orders WHERE id = ?1 AND account_id = ?2",
                         STORE_ARGS(STORE_T(l->cursor), STORE_T(l->account_id)), &after);
    if (rc == CAIRN_OK)
        rc = store_q_start(c,
                           "SELECT id FROM orders WHERE account_id = ?1 AND seq > ?2 "
                           "AND status <> 'invalid' AND NOT (status IN ('pending', 'ready', "
                           "'processing') AND expires_at <= ?3) ORDER BY seq LIMIT ?4",
                           STORE_ARGS(STORE_T(l->account_id), STORE_I(after), STORE_I(l->now),
                                      STORE_I(l->max + 1)),
                           &s);
    if (rc != CAIRN_OK)
        return rc;
    while ((rc = store_q_step(c, s, &row)) == CAIRN_OK && row) {
        if (l->n == l->max) {
            l->more = true;
            break;
        }
        rc = store_col_text(s, 0, l->ids[l->n], sizeof(l->ids[l->n]));
        if (rc != CAIRN_OK)
            break;
        l->n++;
    }
    store_q_end(s);
    return rc;
}

int
store_orders_list(struct store *st, const char *account_id, const char *cursor, size_t max,
                  char (*ids)[CAIRN_ID_LEN + 1], size_t *n, bool *more)
{
    struct order_list l = { .account_id = account_id, .cursor = cursor, .max = max,
                            .ids = ids, .now = (int64_t)time(NULL) };
    int rc;

    *n = 0;
    *more = false;
    if (account_id == NULL || cursor == NULL || (max > 0 && ids == NULL) || max > INT32_MAX)
        return CAIRN_ERR_INVAL;
    rc = store_rx(st, tx_orders_list, &l);
    if (rc == CAIRN_OK) {
        *n = l.n;
        *more = l.more;
    }
    return rc;
}

/* ---- authorization reuse ---- */

struct authz_find {
    const char *account_id;
    const struct ident *ident;
    bool allow_valid;
    int64_t now;
    char *out_id;
};

static int
tx_authz_find(struct store_conn *c, void *arg)
{
    struct authz_find *f = arg;
    sqlite3_stmt *s = NULL;
    bool row = false;
    int rc;

    /* Prefer a valid authorization (nothing left to do), then the longest-lived. */
    rc = store_q_start(c,
                       "SELECT id FROM authzs WHERE account_id = ?1 AND ident_type = ?2 "
                       "AND ident_value = ?3 AND wildcard = ?4 AND expires_at > ?5 "
                       "AND (status = 'pending' OR (?6 AND status = 'valid')) "
                       "ORDER BY status = 'valid' DESC, expires_at DESC LIMIT 1",
                       STORE_ARGS(STORE_T(f->account_id),
                                  STORE_T(store_ident_type_name(f->ident->type)),
                                  STORE_T(f->ident->value), STORE_I(f->ident->wildcard ? 1 : 0),
                                  STORE_I(f->now), STORE_I(f->allow_valid ? 1 : 0)),
                       &s);
    if (rc != CAIRN_OK)
        return rc;
    rc = store_q_step(c, s, &row);
    if (rc == CAIRN_OK && !row)
        rc = CAIRN_ERR_NOTFOUND;
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 0, f->out_id, CAIRN_ID_LEN + 1);
    store_q_end(s);
    return rc;
}

int
store_authz_find_reusable(struct store *st, const char *account_id, const struct ident *ident,
                          bool allow_valid, int64_t now, char out_id[CAIRN_ID_LEN + 1])
{
    struct authz_find f = { .account_id = account_id, .ident = ident,
                            .allow_valid = allow_valid, .now = now, .out_id = out_id };

    out_id[0] = '\0';
    if (account_id == NULL || ident == NULL)
        return CAIRN_ERR_INVAL;
    return store_rx(st, tx_authz_find, &f);
}
