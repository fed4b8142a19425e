/* sqlite_va.c - the VA's queue of record (challenges in processing) and its results. */
#include "cairn/store.h"

#include <string.h>

#include "store/sqlite_int.h"

#define VA_JOB_SELECT                                                                         \
    "SELECT c.id, c.authz_id, a.account_id, acc.key_thumbprint, c.type, c.token, "           \
    "a.ident_type, a.ident_value, a.wildcard, c.due_at, c.attempts, c.status "               \
    "FROM challenges c JOIN authzs a ON a.id = c.authz_id "                                   \
    "JOIN accounts acc ON acc.id = a.account_id "

static int
va_job_row(sqlite3_stmt *s, struct st_va_job *j)
{
    char type[16];
    char itype[8];
    int rc;

    memset(j, 0, sizeof(*j));
    rc = store_col_text(s, 0, j->chall_id, sizeof(j->chall_id));
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 1, j->authz_id, sizeof(j->authz_id));
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 2, j->account_id, sizeof(j->account_id));
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 3, j->thumbprint, sizeof(j->thumbprint));
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 4, type, sizeof(type));
    if (rc == CAIRN_OK)
        rc = store_chall_type_parse(type, &j->type);
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 5, j->token, sizeof(j->token));
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 6, itype, sizeof(itype));
    if (rc == CAIRN_OK)
        rc = store_ident_type_parse(itype, &j->ident.type);
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 7, j->ident.value, sizeof(j->ident.value));
    j->ident.wildcard = sqlite3_column_int64(s, 8) != 0;
    j->due_at = sqlite3_column_int64(s, 9);
    j->attempts = sqlite3_column_int(s, 10);
    return rc;
}

struct va_get {
    const char *chall_id;
    struct st_va_job *out;
};

static int
tx_va_job_get(struct store_conn *c, void *arg)
{
    struct va_get *g = arg;
    sqlite3_stmt *s = NULL;
    bool row = false;
    char status[16] = "";
    int rc;

    rc = store_q_start(c, VA_JOB_SELECT "WHERE c.id = ?1", STORE_ARGS(STORE_T(g->chall_id)),
                       &s);
    if (rc != CAIRN_OK)
        return rc;
    rc = store_q_step(c, s, &row);
    if (rc == CAIRN_OK && !row)
        rc = CAIRN_ERR_NOTFOUND;
    if (rc == CAIRN_OK)
        rc = va_job_row(s, g->out);
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 11, status, sizeof(status));
    store_q_end(s);
    if (rc == CAIRN_OK && strcmp(status, "processing") != 0)
        rc = CAIRN_ERR_CONFLICT;
    return rc;
}

int
store_va_job_get(struct store *st, const char *chall_id, struct st_va_job *out)
{
    struct va_get g = { .chall_id = chall_id, .out = out };

    memset(out, 0, sizeof(*out));
    if (chall_id == NULL)
        return CAIRN_ERR_INVAL;
    return store_rx(st, tx_va_job_get, &g);
}

struct va_pending {
    int64_t now;
    struct st_va_job *out;
    size_t max;
    size_t n;
};

static int
tx_va_jobs_pending(struct store_conn *c, void *arg)
{
    struct va_pending *p = arg;
    sqlite3_stmt *s = NULL;
    bool row = false;
    int rc;

    p->n = 0;
    /* A validation outliving its authorization can no longer change anything: record the
     * expiry, then close such challenges so they leave the queue. */
    rc = store_q_exec(c,
                      "UPDATE authzs SET status = 'expired' WHERE status IN ('pending', "
                      "'valid') AND expires_at <= ?1 AND id IN (SELECT authz_id FROM "
                      "challenges WHERE status = 'processing')",
                      STORE_ARGS(STORE_I(p->now)), NULL);
    if (rc == CAIRN_OK)
        rc = store_q_exec(c,
                          /* correlated, so it walks the few challenges in flight and
                           * not a list of every authorization ever made */
                          "UPDATE challenges SET status = 'invalid', error = ?1 "
                          "WHERE status = 'processing' AND EXISTS (SELECT 1 FROM authzs a "
                          "WHERE a.id = challenges.authz_id AND a.status <> 'pending')",
                          STORE_ARGS(STORE_T(STORE_PROB_VA_ABANDONED)), NULL);
    if (rc == CAIRN_OK)
        rc = store_q_start(c, VA_JOB_SELECT "WHERE c.status = 'processing' "
                                            "ORDER BY c.due_at, c.id LIMIT ?1",
                           STORE_ARGS(STORE_I(p->max)), &s);
    if (rc != CAIRN_OK)
        return rc;
    while (p->n < p->max && (rc = store_q_step(c, s, &row)) == CAIRN_OK && row) {
        rc = va_job_row(s, &p->out[p->n]);
        if (rc != CAIRN_OK)
            break;
        p->n++;
    }
    store_q_end(s);
    return rc;
}

int
store_va_jobs_pending(struct store *st, int64_t now, struct st_va_job *out, size_t max,
                      size_t *n)
{
    struct va_pending p = { .now = now, .out = out, .max = max };
    int rc;

    *n = 0;
    if ((max > 0 && out == NULL) || max > INT32_MAX)
        return CAIRN_ERR_INVAL;
    rc = store_tx(st, tx_va_jobs_pending, &p);
    if (rc == CAIRN_OK)
        *n = p.n;
    return rc;
}

struct va_apply {
    const char *chall_id;
    bool valid;
    const char *error;
    int64_t now;
    int64_t until;
};

/* The authorization's outcome and its orders'. Only a pending authorization moves, so a
 * result arriving after a deactivation changes nothing beyond the challenge. */
static int
apply_authz(struct store_conn *c, const struct va_apply *a, const char *authz_id)
{
    int changes = 0;
    int rc;

    if (a->valid)
        rc = store_q_exec(c,
                          "UPDATE authzs SET status = 'valid', expires_at = ?2, "
                          "validated_at = ?3 WHERE id = ?1 AND status = 'pending'",
                          STORE_ARGS(STORE_T(authz_id), STORE_I(a->until), STORE_I(a->now)),
                          &changes);
    else
        rc = store_q_exec(c,
                          "UPDATE authzs SET status = 'invalid' "
                          "WHERE id = ?1 AND status = 'pending'",
                          STORE_ARGS(STORE_T(authz_id)), &changes);
    if (rc != CAIRN_OK || changes == 0)
        return rc;
    if (a->valid)
        return store_q_exec(c,
                            "UPDATE orders SET status = 'ready' WHERE status = 'pending' "
                            "AND id IN (SELECT order_id FROM order_authzs WHERE authz_id = ?1) "
                            "AND NOT EXISTS (SELECT 1 FROM order_authzs oa JOIN authzs z "
                            "ON z.id = oa.authz_id WHERE oa.order_id = orders.id "
                            "AND z.status <> 'valid')",
                            STORE_ARGS(STORE_T(authz_id)), NULL);
    return store_q_exec(c,
                        "UPDATE orders SET status = 'invalid', error = ?2 "
                        "WHERE status IN ('pending', 'ready') AND id IN "
                        "(SELECT order_id FROM order_authzs WHERE authz_id = ?1)",
                        STORE_ARGS(STORE_T(authz_id), STORE_T(a->error)), NULL);
}

static int
tx_apply_validation(struct store_conn *c, void *arg)
{
    const struct va_apply *a = arg;
    sqlite3_stmt *s = NULL;
    bool row = false;
    char authz_id[CAIRN_ID_LEN + 1] = "";
    int changes = 0;
    int rc;

    rc = store_q_start(c, "SELECT authz_id FROM challenges WHERE id = ?1",
                       STORE_ARGS(STORE_T(a->chall_id)), &s);
    if (rc != CAIRN_OK)
        return rc;
    rc = store_q_step(c, s, &row);
    if (rc == CAIRN_OK && !row)
        rc = CAIRN_ERR_NOTFOUND;
    if (rc == CAIRN_OK)
        rc = store_col_text(s, 0, authz_id, sizeof(authz_id));
    store_q_end(s);
    if (rc != CAIRN_OK)
        return rc;
    rc = store_q_exec(c,
                      "UPDATE challenges SET status = ?2, validated_at = ?3, error = ?4 "
                      "WHERE id = ?1 AND status = 'processing'",
                      STORE_ARGS(STORE_T(a->chall_id), STORE_T(a->valid ? "valid" : "invalid"),
                                 STORE_I(a->valid ? a->now : 0),
                                 STORE_T(a->valid ? NULL : a->error)),
                      &changes);
    if (rc == CAIRN_OK && changes == 0)
        rc = CAIRN_ERR_CONFLICT;
    if (rc == CAIRN_OK)
        rc = apply_authz(c, a, authz_id);
    return rc;
}

int
store_apply_validation(struct store *st, const char *chall_id, bool valid, const char *error,
                       int64_t now, int64_t authz_valid_until)
{
    struct va_apply a = { .chall_id = chall_id, .valid = valid, .error = error, .now = now,
                          .until = authz_valid_until };

    if (chall_id == NULL)
        return CAIRN_ERR_INVAL;
    return store_tx(st, tx_apply_validation, &a);
}
