/* ratelimit.c - sliding-window logs per key. Each key keeps the times of its last `count`
 * events in a ring; one more event fits when fewer than count are inside the window. Exact
 * (no bucket approximation) and bounded: memory per key is count timestamps at most. */
#include "cairn/ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/metrics.h"

#define RL_BUCKETS 4096
#define RL_MAX_KEYS 100000 /* beyond this, stale keys are swept before adding */
#define RL_KEY_MAX 320

struct rl_entry {
    struct rl_entry *next;
    enum rl_kind kind;
    char key[RL_KEY_MAX];
    int64_t *ts; /* ring of event times, oldest at head */
    int cap, n, head;
};

static pthread_mutex_t rl_mu = PTHREAD_MUTEX_INITIALIZER;
static struct rl_entry *rl_table[RL_BUCKETS];
static size_t rl_nkeys;
static struct rate_rule rl_rules[RL__MAX];

static const char *const rl_names[RL__MAX] = {
    [RL_NEW_ORDERS] = "newOrdersPerAccount",
    [RL_CERTS_PER_NAME] = "certificatesPerName",
    [RL_FAILED_VALIDATIONS] = "failedValidationsPerAccountName",
};

const char *
ratelimit_name(enum rl_kind k)
{
    return k < RL__MAX ? rl_names[k] : "unknown";
}

void
ratelimit_set_rule(enum rl_kind k, int count, int window)
{
    if (k >= RL__MAX)
        return;
    pthread_mutex_lock(&rl_mu);
    rl_rules[k].count = count > 0 ? count : 0;
    rl_rules[k].window = window > 0 ? window : 1;
    pthread_mutex_unlock(&rl_mu);
}

void
ratelimit_configure(const struct config *cfg)
{
    ratelimit_set_rule(RL_NEW_ORDERS, cfg->rl_new_orders.count, cfg->rl_new_orders.window);
    ratelimit_set_rule(RL_CERTS_PER_NAME, cfg->rl_certs_per_name.count,
                       cfg->rl_certs_per_name.window);
    ratelimit_set_rule(RL_FAILED_VALIDATIONS, cfg->rl_failed_validations.count,
                       cfg->rl_failed_validations.window);
}

static void
entry_free(struct rl_entry *e)
{
    free(e->ts);
    free(e);
}

void
ratelimit_reset(void)
{
    pthread_mutex_lock(&rl_mu);
    for (size_t i = 0; i < RL_BUCKETS; i++) {
        while (rl_table[i] != NULL) {
            struct rl_entry *e = rl_table[i];
            rl_table[i] = e->next;
            entry_free(e);
        }
    }
    rl_nkeys = 0;
    pthread_mutex_unlock(&rl_mu);
}

/* FNV-1a over kind and key. */
static size_t
rl_hash(enum rl_kind k, const char *key)
{
    uint32_t h = 2166136261u ^ (uint32_t)k;

    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 16777619u;
    return h % RL_BUCKETS;
}

/* Drops events older than the window from the head of the ring. */
static void
entry_expire(struct rl_entry *e, int64_t now, int window)
{
    while (e->n > 0 && now - e->ts[e->head] >= window) {
        e->head = (e->head + 1) % e->cap;
        e->n--;
    }
}

/* Removes keys with no event inside their window; under rl_mu. */
static void
rl_sweep(int64_t now)
{
    for (size_t i = 0; i < RL_BUCKETS; i++) {
        struct rl_entry **pp = &rl_table[i];
        while (*pp != NULL) {
            struct rl_entry *e = *pp;
            entry_expire(e, now, rl_rules[e->kind].window);
            if (e->n == 0) {
                *pp = e->next;
                entry_free(e);
                rl_nkeys--;
            } else {
                pp = &e->next;
            }
        }
    }
}

static struct rl_entry *
rl_find(enum rl_kind k, const char *key, bool create, int64_t now)
{
    size_t h = rl_hash(k, key);
    struct rl_entry *e;

    for (e = rl_table[h]; e != NULL; e = e->next)
        if (e->kind == k && strcmp(e->key, key) == 0)
            return e;
    if (!create)
        return NULL;
    if (rl_nkeys >= RL_MAX_KEYS)
        rl_sweep(now);
    if (rl_nkeys >= RL_MAX_KEYS || (e = calloc(1, sizeof(*e))) == NULL)
        return NULL;
    e->kind = k;
    snprintf(e->key, sizeof(e->key), "%s", key);
    e->next = rl_table[h];
    rl_table[h] = e;
    rl_nkeys++;
    return e;
}

/* Under rl_mu: 0 when one more fits, else the seconds to wait. */
static int
rl_wait_locked(enum rl_kind k, const char *key, int64_t now)
{
    const struct rate_rule *r = &rl_rules[k];
    struct rl_entry *e;
    int64_t wait;

    if (r->count <= 0 || (e = rl_find(k, key, false, now)) == NULL)
        return 0;
    entry_expire(e, now, r->window);
    if (e->n < r->count)
        return 0;
    /* the oldest event still counted leaves the window at ts + window */
    wait = e->ts[(e->head + e->n - r->count) % e->cap] + r->window - now;
    return wait < 1 ? 1 : (int)wait;
}

static void
rl_record_locked(enum rl_kind k, const char *key, int64_t now)
{
    const struct rate_rule *r = &rl_rules[k];
    struct rl_entry *e;

    if (r->count <= 0 || (e = rl_find(k, key, true, now)) == NULL)
        return;
    entry_expire(e, now, r->window);
    while (e->n > 0 && e->n >= r->count) { /* only the newest count events ever matter */
        e->head = (e->head + 1) % e->cap;
        e->n--;
    }
    if (e->n == e->cap) {
        int cap = e->cap * 2 > 4 ? e->cap * 2 : 4;
        int64_t *ts;

        if (cap > r->count)
            cap = r->count;
        ts = malloc((size_t)cap * sizeof(*ts));
        if (ts == NULL)
            return;
        for (int i = 0; i < e->n; i++)
            ts[i] = e->ts[(e->head + i) % e->cap];
        free(e->ts);
        e->ts = ts;
        e->cap = cap;
        e->head = 0;
    }
    e->ts[(e->head + e->n) % e->cap] = now;
    e->n++;
}

int
ratelimit_check(enum rl_kind k, const char *key, int64_t now, int *retry_after)
{
    int wait;

    if (k >= RL__MAX)
        return CAIRN_ERR_INVAL;
    pthread_mutex_lock(&rl_mu);
    wait = rl_wait_locked(k, key, now);
    pthread_mutex_unlock(&rl_mu);
    *retry_after = wait;
    return wait > 0 ? CAIRN_ERR_CONFLICT : CAIRN_OK;
}

void
ratelimit_record(enum rl_kind k, const char *key, int64_t now)
{
    if (k >= RL__MAX)
        return;
    pthread_mutex_lock(&rl_mu);
    rl_record_locked(k, key, now);
    pthread_mutex_unlock(&rl_mu);
}

void
ratelimit_fail_key(const char *account_id, const char *ident_value, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s:%s", account_id, ident_value);
}

static int
limited(struct problem *p, enum rl_kind k, int wait, const char *what)
{
    metrics_rate_limited(ratelimit_name(k));
    problem_set(p, PROB_RATE_LIMITED, "too many %s (limit %s); retry after %d seconds", what,
                ratelimit_name(k), wait);
    p->retry_after = wait;
    return CAIRN_ERR_PROTO;
}

int
ratelimit_new_order(const char *account_id, const struct ident *ids, size_t n, int64_t now,
                    struct problem *p)
{
    char key[RL_KEY_MAX];
    int wait = 0;

    pthread_mutex_lock(&rl_mu);
    for (size_t i = 0; i < n && wait == 0; i++) {
        const char *base = ids[i].value;
        if ((wait = rl_wait_locked(RL_CERTS_PER_NAME, base, now)) > 0) {
            pthread_mutex_unlock(&rl_mu);
            return limited(p, RL_CERTS_PER_NAME, wait, "certificates for this name");
        }
        if (strncmp(base, "*.", 2) == 0) /* authorizations name the base domain */
            base += 2;
        ratelimit_fail_key(account_id, base, key, sizeof(key));
        if ((wait = rl_wait_locked(RL_FAILED_VALIDATIONS, key, now)) > 0) {
            pthread_mutex_unlock(&rl_mu);
            return limited(p, RL_FAILED_VALIDATIONS, wait, "failed validations for this name");
        }
    }
    if ((wait = rl_wait_locked(RL_NEW_ORDERS, account_id, now)) > 0) {
        pthread_mutex_unlock(&rl_mu);
        return limited(p, RL_NEW_ORDERS, wait, "new orders for this account");
    }
    rl_record_locked(RL_NEW_ORDERS, account_id, now);
    pthread_mutex_unlock(&rl_mu);
    return CAIRN_OK;
}
