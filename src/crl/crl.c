/* crl.c - the CRL cache: store (revoked serials, CRL number) + ca (signing). */
#include "cairn/crl.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/ca.h"
#include "cairn/log.h"
#include "cairn/store.h"

#define CRL_ISSUER_ID "0"

struct crl_cache {
    pthread_mutex_t lock; /* guards der, der_len, made_at; also serializes regeneration */
    struct store *st;
    struct ca *ca;
    uint8_t *der;
    size_t der_len;
    int64_t made_at;
};

static int
crl_build(struct crl_cache *c, int64_t now, uint8_t **der, size_t *len)
{
    struct st_revoked *rev = NULL;
    struct ca_crl_entry *ents = NULL;
    size_t n = 0;
    int64_t number = 0;
    int rc = store_crl_revoked(c->st, now, &rev, &n);

    if (rc == CAIRN_OK && n > 0 && (ents = calloc(n, sizeof(*ents))) == NULL)
        rc = CAIRN_ERR_NOMEM;
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++)
        ents[i] = (struct ca_crl_entry){ rev[i].serial, rev[i].revoked_at, rev[i].reason };
    if (rc == CAIRN_OK)
        rc = store_crl_next_number(c->st, CRL_ISSUER_ID, &number);
    if (rc == CAIRN_OK)
        rc = ca_make_crl(c->ca, ents, n, number, now, now + CRL_VALIDITY_SECONDS, der, len);
    if (rc == CAIRN_OK)
        log_debug("crl", "CRL %lld made with %zu entries", (long long)number, n);
    free(ents);
    free(rev);
    return rc;
}

int
crl_cache_refresh(struct crl_cache *c, int64_t now)
{
    uint8_t *der = NULL;
    size_t len = 0;
    int rc;

    if (c == NULL)
        return CAIRN_ERR_INVAL;
    /* One regeneration at a time, so a newer CRL number is never replaced by an older one. */
    pthread_mutex_lock(&c->lock);
    rc = crl_build(c, now, &der, &len);
    if (rc == CAIRN_OK) {
        free(c->der);
        c->der = der;
        c->der_len = len;
        c->made_at = now;
    }
    pthread_mutex_unlock(&c->lock);
    if (rc != CAIRN_OK)
        log_err("crl", "cannot regenerate the CRL (rc %d); the previous one stays", rc);
    return rc;
}

void
crl_cache_tick(struct crl_cache *c, int64_t now)
{
    int64_t made;

    if (c == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    made = c->made_at;
    pthread_mutex_unlock(&c->lock);
    if ((now - made >= CRL_REFRESH_SECONDS || now < made) &&
        crl_cache_refresh(c, now) != CAIRN_OK)
        log_debug("crl", "scheduled regeneration failed"); /* the cause is logged already */
}

int
crl_cache_get(struct crl_cache *c, const char *issuer_id, uint8_t **der, size_t *len)
{
    int rc = CAIRN_OK;

    *der = NULL;
    *len = 0;
    if (c == NULL || issuer_id == NULL || strcmp(issuer_id, CRL_ISSUER_ID) != 0)
        return CAIRN_ERR_NOTFOUND;
    pthread_mutex_lock(&c->lock);
    if (c->der == NULL) {
        rc = CAIRN_ERR_NOTFOUND;
    } else if ((*der = malloc(c->der_len)) == NULL) {
        rc = CAIRN_ERR_NOMEM;
    } else {
        memcpy(*der, c->der, c->der_len);
        *len = c->der_len;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int
crl_cache_new(struct store *st, struct ca *ca, int64_t now, struct crl_cache **out)
{
    struct crl_cache *c = calloc(1, sizeof(*c));
    int rc;

    *out = NULL;
    if (c == NULL)
        return CAIRN_ERR_NOMEM;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return CAIRN_ERR_NOMEM;
    }
    c->st = st;
    c->ca = ca;
    rc = crl_cache_refresh(c, now);
    if (rc != CAIRN_OK) {
        crl_cache_free(c);
        return rc;
    }
    *out = c;
    return CAIRN_OK;
}

void
crl_cache_free(struct crl_cache *c)
{
    if (c == NULL)
        return;
    free(c->der);
    pthread_mutex_destroy(&c->lock);
    free(c);
}
