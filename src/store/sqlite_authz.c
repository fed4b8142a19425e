/* sqlite_authz.c - authorizations and challenges: load, expiry, deactivate, start. */
#include "cairn/store.h"

#include <stdlib.h>
#include <string.h>

#include "cairn/log.h"
#include "store/sqlite_int.h"

/* An authorization has one challenge per enabled type; more is a corrupt database. */
#define STORE_MAX_CHALLS 8

static int
chall_row(sqlite3_stmt *s, struct st_challenge *ch)
{
    char type[16];
    char status[16];
    int rc;

    rc = store_col_text(s, 0, ch->id, sizeof(ch->id));
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 1, ch->authz_id, sizeof(ch->authz_id));
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 2, type, sizeof(type));
    if (rc == CAIRN_OK)
        rc = store_chall_type_parse(type, &ch->type);
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 3, ch->token, sizeof(ch->token));
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 4, status, sizeof(status));
    if (rc == CAIRN_OK)
        rc = store_chall_status_parse(status, &ch->status);
    if (rc == CAIRN_OK)
        rc = store_col_dup(s, 6, &ch->error);
    ch->validated_at = sqlite3_column_int64(s, 5);
    return rc;
}

static int
authz_load_challs(struct store_conn *c, struct st_authz *a)
{
    sqlite3_stmt *s = NULL;
    bool row = false;
    int rc;

    a->chall = calloc(STORE_MAX_CHALLS, sizeof(*a->chall));
    if (a->chall == NULL)
        return CAIRN_ERR_NOMEM;
    rc = store_q_start(c,
                       "SELECT id, authz_id, type, token, status, validated_at, error "
                       "FROM challenges WHERE authz_id = ?1 ORDER BY pos",
                       STORE_ARGS(STORE_T(a->id)), &s);
    if (rc != CAIRN_OK)
        return rc;
    while ((rc = store_q_step(c, s, &row)) == CAIRN_OK && row) {
        if (a->nchall == STORE_MAX_CHALLS) {
            log_err("store", "authorization with more than %d challenges", STORE_MAX_CHALLS);
            rc = CAIRN_ERR_IO;
            break;
        }
        /* Counted first so a half-read row is freed by store_authz_cleanup(). */
        a->nchall++;
        rc = chall_row(s, &a->chall[a->nchall - 1]);
        if (rc != CAIRN_OK)
            break;
    }
    store_q_end(s);
    return rc;
}

static int
authz_row(sqlite3_stmt *s, struct st_authz *a)
{
    char type[8];
    char status[16];
    int rc;

    rc = store_col_text(s, 0, a->id, sizeof(a->id));
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 1, a->account_id, sizeof(a->account_id));
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 2, type, sizeof(type));
    if (rc == CAIRN_OK)
        rc = store_ident_type_parse(type, &a->ident.type);
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 3, a->ident.value, sizeof(a->ident.value));
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 5, status, sizeof(status));
    if (rc == CAIRN_OK)
        rc = store_authz_status_parse(status, &a->status);
    a->ident.wildcard = sqlite3_column_int64(s, 4) != 0;
    a->expires_at = sqlite3_column_int64(s, 6);
    a->validated_at = sqlite3_column_int64(s, 7);
    return rc;
}

int
store_authz_load(struct store_conn *c, const char *id, const char *account_id,
                 struct st_authz *out)
{
    sqlite3_stmt *s = NULL;
    bool row = false;
    int rc;

    store_authz_cleanup(out);
    rc = store_q_start(c,
                       "SELECT id, account_id, ident_type, ident_value, wildcard, status, "
                       "expires_at, validated_at FROM authzs "
                       "WHERE id = ?1 AND (?2 IS NULL OR account_id = ?2)",
                       STORE_ARGS(STORE_T(id), STORE_T(account_id)), &s);
    if (rc != CAIRN_OK)
        return rc;
    rc = store_q_step(c, s, &row);
    if (rc == CAIRN_OK && !row)
        rc = CAIRN_ERR_NOTFOUND;
    if (rc == CAIRN_OK)
        rc = authz_row(s, out);
    store_q_end(s);
    if (rc == CAIRN_OK)
        rc = authz_load_challs(c, out);
    if (rc != CAIRN_OK)
        store_authz_cleanup(out);
    return rc;
}

struct authz_expire {
    const char *id;
    int64_t now;
};

static int
tx_authz_expire(struct store_conn *c, void *arg)
{
    const struct authz_expire *e = arg;

    return store_q_exec(c,
                        "UPDATE authzs SET status = 'expired' WHERE id = ?1 "
                        "AND status IN ('pending', 'valid') AND expires_at <= ?2",
                        STORE_ARGS(STORE_T(e->id), STORE_I(e->now)), NULL);
}

int
store_authz_expire(struct store *st, struct st_authz *a, int64_t now)
{
    struct authz_expire e = { .id = a->id, .now = now };
    int rc;

    if ((a->status != AUTHZ_PENDING && a->status != AUTHZ_VALID) || a->expires_at > now)
        return CAIRN_OK;
    rc = store_tx(st, tx_authz_expire, &e);
    if (rc == CAIRN_OK)
        a->status = AUTHZ_EXPIRED;
    return rc;
}

struct authz_get {
    const char *id;
    const char *account_id;
    struct st_authz *out;
};

static int
tx_authz_get(struct store_conn *c, void *arg)
{
    struct authz_get *g = arg;

    return store_authz_load(c, g->id, g->account_id, g->out);
}

int
store_authz_get(struct store *st, const char *id, const char *account_id, int64_t now,
                struct st_authz *out)
{
    struct authz_get g = { .id = id, .account_id = account_id, .out = out };
    int rc;

    memset(out, 0, sizeof(*out));
    if (id == NULL)
        return CAIRN_ERR_INVAL;
    rc = store_rx(st, tx_authz_get, &g);
    if (rc == CAIRN_OK)
        rc = store_authz_expire(st, out, now);
    if (rc != CAIRN_OK)
        store_authz_cleanup(out);
    return rc;
}

struct authz_deact {
    const char *id;
    const char *account_id;
    int64_t now;
};

static int
tx_authz_deactivate(struct store_conn *c, void *arg)
{
    const struct authz_deact *d = arg;
    int64_t one = 0;
    int changes = 0;
    int rc;

    /* An authorization past its expiry reads as expired, so it cannot be deactivated. */
    rc = store_q_exec(c,
                      "UPDATE authzs SET status = 'deactivated' WHERE id = ?1 "
                      "AND (?2 IS NULL OR account_id = ?2) "
                      "AND status IN ('pending', 'valid') AND expires_at > ?3",
                      STORE_ARGS(STORE_T(d->id), STORE_T(d->account_id), STORE_I(d->now)),
                      &changes);
    if (rc == CAIRN_OK && changes == 0) {
        rc = store_q_int(c, "SELECT 1 FROM authzs WHERE id = ?1 "
                            "AND (?2 IS NULL OR account_id = ?2)",
                         STORE_ARGS(STORE_T(d->id), STORE_T(d->account_id)), &one);
        return rc == CAIRN_OK ? CAIRN_ERR_CONFLICT : rc;
    }
    if (rc == CAIRN_OK)
        rc = store_q_exec(c,
                          "UPDATE orders SET status = 'invalid' "
                          "WHERE status IN ('pending', 'ready') AND id IN "
                          "(SELECT order_id FROM order_authzs WHERE authz_id = ?1)",
                          STORE_ARGS(STORE_T(d->id)), NULL);
    return rc;
}

int
store_authz_deactivate(struct store *st, const char *id, const char *account_id, int64_t now)
{
    struct authz_deact d = { .id = id, .account_id = account_id, .now = now };

    if (id == NULL)
        return CAIRN_ERR_INVAL;
    return store_tx(st, tx_authz_deactivate, &d);
}

/* ---- challenges ---- */

struct chall_get {
    const char *id;
    const char *account_id;
    struct st_authz authz;
};

static int
tx_chall_get(struct store_conn *c, void *arg)
{
    struct chall_get *g = arg;
    sqlite3_stmt *s = NULL;
    bool row = false;
    char authz_id[CAIRN_ID_LEN + 1] = "";
    int rc;

    rc = store_q_start(c,
                       "SELECT c.authz_id FROM challenges c JOIN authzs a ON a.id = c.authz_id "
                       "WHERE c.id = ?1 AND (?2 IS NULL OR a.account_id = ?2)",
                       STORE_ARGS(STORE_T(g->id), STORE_T(g->account_id)), &s);
    if (rc != CAIRN_OK)
        return rc;
    rc = store_q_step(c, s, &row);
    if (rc == CAIRN_OK && !row)
        rc = CAIRN_ERR_NOTFOUND;
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 0, authz_id, sizeof(authz_id));
    store_q_end(s);
    if (rc == CAIRN_OK)
        rc = store_authz_load(c, authz_id, NULL, &g->authz);
    return rc;
}

/* Moves challenge id out of a loaded authorization into out. */
static int
chall_take(struct st_authz *a, const char *id, struct st_challenge *out)
{
    for (size_t i = 0; i < a->nchall; i++) {
        if (strcmp(a->chall[i].id, id) == 0) {
            *out = a->chall[i];
            out->error = NULL;
            if (a->chall[i].error != NULL) {
                out->error = strdup(a->chall[i].error);
                if (out->error == NULL)
                    return CAIRN_ERR_NOMEM;
            }
            return CAIRN_OK;
        }
    }
    return CAIRN_ERR_NOTFOUND;
}

int
store_challenge_get(struct store *st, const char *id, const char *account_id, int64_t now,
                    struct st_challenge *out, struct st_authz *out_authz)
{
    struct chall_get g = { .id = id, .account_id = account_id };
    int rc;

    memset(out, 0, sizeof(*out));
    if (out_authz != NULL)
        memset(out_authz, 0, sizeof(*out_authz));
    if (id == NULL)
        return CAIRN_ERR_INVAL;
    rc = store_rx(st, tx_chall_get, &g);
    if (rc == CAIRN_OK)
        rc = store_authz_expire(st, &g.authz, now);
    if (rc == CAIRN_OK)
        rc = chall_take(&g.authz, id, out);
    if (rc == CAIRN_OK && out_authz != NULL) {
        *out_authz = g.authz;
        memset(&g.authz, 0, sizeof(g.authz));
    }
    store_authz_cleanup(&g.authz);
    if (rc != CAIRN_OK)
        store_challenge_cleanup(out);
    return rc;
}

struct chall_start_arg {
    const char *id;
    const char *account_id;
    int64_t now;
    int64_t due_at;
    enum chall_start result;
};

struct chall_state {
    char cstatus[16];
    char authz_id[CAIRN_ID_LEN + 1];
    char astatus[16];
    int64_t expires_at;
};

static int
chall_state_load(struct store_conn *c, const struct chall_start_arg *a, struct chall_state *cs)
{
    sqlite3_stmt *s = NULL;
    bool row = false;
    int rc;

    rc = store_q_start(c,
                       "SELECT c.status, a.id, a.status, a.expires_at FROM challenges c "
                       "JOIN authzs a ON a.id = c.authz_id "
                       "WHERE c.id = ?1 AND (?2 IS NULL OR a.account_id = ?2)",
                       STORE_ARGS(STORE_T(a->id), STORE_T(a->account_id)), &s);
    if (rc != CAIRN_OK)
        return rc;
    rc = store_q_step(c, s, &row);
    if (rc == CAIRN_OK && !row)
        rc = CAIRN_ERR_NOTFOUND;
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 0, cs->cstatus, sizeof(cs->cstatus));
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 1, cs->authz_id, sizeof(cs->authz_id));
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 2, cs->astatus, sizeof(cs->astatus));
    if (rc == CAIRN_OK)
        cs->expires_at = sqlite3_column_int64(s, 3);
    store_q_end(s);
    return rc;
}

static int
tx_chall_start(struct store_conn *c, void *arg)
{
    struct chall_start_arg *a = arg;
    struct chall_state cs;
    bool live;
    int changes = 0;
    int rc = chall_state_load(c, a, &cs);

    if (rc != CAIRN_OK)
        return rc;
    live = cs.expires_at > a->now;
    a->result = CHALL_START_NOOP;
    if (strcmp(cs.cstatus, "pending") != 0 || (strcmp(cs.astatus, "valid") == 0 && live))
        return CAIRN_OK;
    a->result = CHALL_START_AUTHZ_DEAD;
    if (strcmp(cs.astatus, "pending") != 0 && strcmp(cs.astatus, "valid") != 0)
        return CAIRN_OK;
    if (!live) /* record the expiry the client is about to be told about */
        return store_q_exec(c, "UPDATE authzs SET status = 'expired' WHERE id = ?1",
                            STORE_ARGS(STORE_T(cs.authz_id)), NULL);
    /* The one conditional statement that decides (ARCHITECTURE.md §4 "exactly once"). */
    rc = store_q_exec(c,
                      "UPDATE challenges SET status = 'processing', due_at = ?3, attempts = 0 "
                      "WHERE id = ?1 AND status = 'pending' AND NOT EXISTS (SELECT 1 FROM "
                      "challenges s WHERE s.authz_id = ?2 AND s.id <> ?1 "
                      "AND s.status <> 'pending') AND EXISTS (SELECT 1 FROM authzs a "
                      "WHERE a.id = ?2 AND a.status = 'pending' AND a.expires_at > ?4)",
                      STORE_ARGS(STORE_T(a->id), STORE_T(cs.authz_id), STORE_I(a->due_at),
                                 STORE_I(a->now)),
                      &changes);
    if (rc == CAIRN_OK)
        a->result = changes == 1 ? CHALL_START_STARTED : CHALL_START_SIBLING;
    return rc;
}

int
store_challenge_start(struct store *st, const char *id, const char *account_id, int64_t now,
                      int64_t due_at, enum chall_start *result)
{
    struct chall_start_arg a = { .id = id, .account_id = account_id, .now = now,
                                 .due_at = due_at };
    int rc;

    if (id == NULL || result == NULL)
        return CAIRN_ERR_INVAL;
    rc = store_tx(st, tx_chall_start, &a);
    if (rc == CAIRN_OK)
        *result = a.result;
    return rc;
}
