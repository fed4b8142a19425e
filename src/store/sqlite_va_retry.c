/* sqlite_va_retry.c - the VA's retry bookkeeping and finalize's CAA refusal. A failed
 * attempt that will be retried keeps the challenge processing and only moves due_at and
 * attempts, so a restart resumes the back-off where it was (the row stays the queue of
 * record). */
#include "cairn/store.h"

#include "store/sqlite_int.h"

struct va_retry {
    const char *chall_id;
    int64_t due_at;
};

static int
tx_challenge_retry(struct store_conn *c, void *arg)
{
    const struct va_retry *r = arg;
    int changes = 0;
    int rc = store_q_exec(c,
                          "UPDATE challenges SET attempts = attempts + 1, due_at = ?2 "
                          "WHERE id = ?1 AND status = 'processing'",
                          STORE_ARGS(STORE_T(r->chall_id), STORE_I(r->due_at)), &changes);

    if (rc == CAIRN_OK && changes == 0)
        rc = CAIRN_ERR_CONFLICT;
    return rc;
}

int
store_challenge_retry(struct store *st, const char *chall_id, int64_t due_at)
{
    struct va_retry r = { .chall_id = chall_id, .due_at = due_at };

    if (st == NULL || chall_id == NULL)
        return CAIRN_ERR_INVAL;
    return store_tx(st, tx_challenge_retry, &r);
}

struct order_fail {
    const char *order_id;
    const char *error;
};

static int
tx_order_fail_ready(struct store_conn *c, void *arg)
{
    const struct order_fail *f = arg;
    int changes = 0;
    int rc = store_q_exec(c,
                          "UPDATE orders SET status = 'invalid', error = ?2 "
                          "WHERE id = ?1 AND status = 'ready'",
                          STORE_ARGS(STORE_T(f->order_id), STORE_T(f->error)), &changes);

    if (rc == CAIRN_OK && changes == 0)
        rc = CAIRN_ERR_CONFLICT;
    return rc;
}

int
store_order_fail_ready(struct store *st, const char *order_id, const char *error)
{
    struct order_fail f = { .order_id = order_id, .error = error };

    if (st == NULL || order_id == NULL || error == NULL)
        return CAIRN_ERR_INVAL;
    return store_tx(st, tx_order_fail_ready, &f);
}
