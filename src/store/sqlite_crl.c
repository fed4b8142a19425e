/* sqlite_crl.c - what a CRL needs from the store: the revoked, unexpired serials and a
 * monotonic CRL number per issuer (in the kv table). */
#include "cairn/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"

#define CRL_MAX_ENTRIES 1000000

struct crl_list {
    int64_t now;
    struct st_revoked *v;
    size_t n;
    size_t cap;
};

static int
list_push(struct crl_list *l, sqlite3_stmt *s)
{
    struct st_revoked *e;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct st_revoked *nv;

        if (cap > CRL_MAX_ENTRIES)
            return CAIRN_ERR_NOMEM;
        nv = realloc(l->v, cap * sizeof(*nv));
        if (nv == NULL)
            return CAIRN_ERR_NOMEM;
        l->v = nv;
        l->cap = cap;
    }
    e = &l->v[l->n];
    if (store_col_text(s, 0, e->serial, sizeof(e->serial)) != CAIRN_OK)
        return CAIRN_ERR_IO;
    e->revoked_at = sqlite3_column_int64(s, 1);
    e->reason = sqlite3_column_int(s, 2);
    l->n++;
    return CAIRN_OK;
}

static int
tx_crl_revoked(struct store_conn *c, void *arg)
{
    struct crl_list *l = arg;
    sqlite3_stmt *s = NULL;
    bool row = true;
    int rc;

    l->n = 0; /* a retried transaction starts over */
    rc = store_q_start(c,
                       "SELECT serial, revoked_at, reason FROM certs "
                       "WHERE status = 'revoked' AND not_after > ?1 ORDER BY serial",
                       STORE_ARGS(STORE_I(l->now)), &s);
    if (rc != CAIRN_OK)
        return rc;
    while (rc == CAIRN_OK) {
        rc = store_q_step(c, s, &row);
        if (rc != CAIRN_OK || !row)
            break;
        rc = list_push(l, s);
    }
    store_q_end(s);
    return rc;
}

int
store_crl_revoked(struct store *st, int64_t now, struct st_revoked **out, size_t *n)
{
    struct crl_list l = { .now = now };
    int rc;

    *out = NULL;
    *n = 0;
    rc = store_rx(st, tx_crl_revoked, &l);
    if (rc != CAIRN_OK) {
        free(l.v);
        return rc;
    }
    *out = l.v;
    *n = l.n;
    return CAIRN_OK;
}

struct crl_number {
    char name[96];
    int64_t value;
};

static int
tx_crl_number(struct store_conn *c, void *arg)
{
    struct crl_number *cn = arg;
    char text[32];
    int64_t cur = 0;
    int rc = store_q_int(c, "SELECT CAST(value AS INTEGER) FROM kv WHERE name = ?1",
                         STORE_ARGS(STORE_T(cn->name)), &cur);

    if (rc == CAIRN_ERR_NOTFOUND)
        cur = 0;
    else if (rc != CAIRN_OK)
        return rc;
    cn->value = cur + 1;
    snprintf(text, sizeof(text), "%lld", (long long)cn->value);
    return store_q_exec(c,
                        "INSERT INTO kv (name, value) VALUES (?1, ?2) "
                        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                        STORE_ARGS(STORE_T(cn->name), STORE_T(text)), NULL);
}

int
store_crl_next_number(struct store *st, const char *issuer, int64_t *number)
{
    struct crl_number cn = { .value = 0 };
    int n;

    if (issuer == NULL || number == NULL)
        return CAIRN_ERR_INVAL;
    n = snprintf(cn.name, sizeof(cn.name), "crl_number.%s", issuer);
    if (n < 0 || (size_t)n >= sizeof(cn.name))
        return CAIRN_ERR_INVAL;
    n = store_tx(st, tx_crl_number, &cn);
    if (n != CAIRN_OK)
        return n;
    *number = cn.value;
    return CAIRN_OK;
}
