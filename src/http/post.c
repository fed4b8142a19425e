/* post.c - the POST pipeline: JWS checks in PROTOCOL.md §2's fixed order. The nonce is spent
 * only after the signature verifies (rule 15 after 13), so a forged request never burns one. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cairn/jsonutil.h"
#include "cairn/limits.h"
#include "cairn/log.h"
#include "cairn/nonce.h"
#include "cairn/rand.h"
#include "cairn/render.h"
#include "cairn/store.h"
#include "http/http.h"

/* Rule 1: application/jose+json, parameters allowed. */
static bool
content_type_ok(const char *ct)
{
    static const char want[] = "application/jose+json";
    size_t n = sizeof(want) - 1;

    if (ct == NULL || strncasecmp(ct, want, n) != 0)
        return false;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t';
}

/* Parsed account keys, so a kid request skips the JSON parse, the import and the key policy's
 * point check (together more CPU than the signature check itself; docs/performance.md).
 * Correctness rests on the key being a pure function of its RFC 7638 thumbprint: an entry is
 * used only when it matches the thumbprint read from the store for this very request, so a
 * rolled key (new thumbprint) misses, and the account status is still checked on every
 * request from the same read. Direct-mapped by thumbprint; the lock covers no I/O. */
#define KEY_CACHE_SLOTS 1024

struct key_slot {
    char thumbprint[CAIRN_THUMBPRINT_LEN + 1];
    EVP_PKEY *key;
};

static struct key_slot key_cache[KEY_CACHE_SLOTS];
static pthread_mutex_t key_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t
key_cache_slot(const char *thumbprint)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (const char *q = thumbprint; *q; q++)
        h = (h ^ (uint8_t)*q) * 16777619u;
    return h % KEY_CACHE_SLOTS;
}

/* A new reference to the cached key for thumbprint, or NULL. */
static EVP_PKEY *
key_cache_get(const char *thumbprint)
{
    struct key_slot *s = &key_cache[key_cache_slot(thumbprint)];
    EVP_PKEY *k = NULL;

    pthread_mutex_lock(&key_cache_lock);
    if (s->key != NULL && strcmp(s->thumbprint, thumbprint) == 0 && EVP_PKEY_up_ref(s->key) == 1)
        k = s->key;
    pthread_mutex_unlock(&key_cache_lock);
    return k;
}

static void
key_cache_put(const char *thumbprint, EVP_PKEY *key)
{
    struct key_slot *s = &key_cache[key_cache_slot(thumbprint)];
    EVP_PKEY *old = NULL;

    if (strlen(thumbprint) != CAIRN_THUMBPRINT_LEN || EVP_PKEY_up_ref(key) != 1)
        return;
    pthread_mutex_lock(&key_cache_lock);
    old = s->key;
    s->key = key;
    memcpy(s->thumbprint, thumbprint, CAIRN_THUMBPRINT_LEN + 1);
    pthread_mutex_unlock(&key_cache_lock);
    EVP_PKEY_free(old);
}

/* Rule 11: kid = {base}/acme/acct/{id}; loads the account and its key. */
static int
load_kid(struct acme_ctx *c, struct post_state *ps, struct problem *p)
{
    char prefix[CAIRN_URL_MAX];
    const char *kid = ps->jws.kid, *id;
    json_t *jwk;
    int rc;

    if (render_url(prefix, sizeof(prefix), c->base, CAIRN_PATH_ACCT, "", NULL) != CAIRN_OK)
        return CAIRN_ERR_INVAL;
    if (strncmp(kid, prefix, strlen(prefix)) != 0)
        return problem_set(p, PROB_MALFORMED, "kid is not an account URL of this server");
    id = kid + strlen(prefix);
    if (strlen(id) != CAIRN_ID_LEN)
        return problem_set(p, PROB_ACCOUNT_DOES_NOT_EXIST, "no account %s", kid);
    rc = store_account_get(c->app->st, id, &c->acct);
    if (rc == CAIRN_ERR_NOTFOUND)
        return problem_set(p, PROB_ACCOUNT_DOES_NOT_EXIST, "no account %s", kid);
    if (rc != CAIRN_OK)
        return rc;
    c->has_acct = true;
    ps->key = key_cache_get(c->acct.thumbprint);
    if (ps->key != NULL) {
        snprintf(c->thumbprint, sizeof(c->thumbprint), "%s", c->acct.thumbprint);
        return CAIRN_OK;
    }
    jwk = json_loads(c->acct.jwk, 0, NULL);
    if (jwk == NULL)
        return CAIRN_ERR_IO;
    rc = jwk_import(jwk, &ps->key, p);
    json_decref(jwk);
    if (rc == CAIRN_OK) {
        snprintf(c->thumbprint, sizeof(c->thumbprint), "%s", c->acct.thumbprint);
        key_cache_put(c->acct.thumbprint, ps->key);
    }
    return rc;
}

/* Rule 7 (the route's half): which of jwk/kid this endpoint accepts. */
static int
check_key_kind(const struct route *rt, const struct jws *j, struct problem *p)
{
    if (rt->auth == AUTH_JWK && j->jwk == NULL)
        return problem_set(p, PROB_MALFORMED, "this endpoint requires a jwk, not a kid");
    if ((rt->auth == AUTH_KID || rt->auth == AUTH_OPTIONAL) && j->kid == NULL)
        return problem_set(p, PROB_MALFORMED, "this endpoint requires a kid, not a jwk");
    return CAIRN_OK;
}

static int
redeem_nonce(struct acme_ctx *c, const char *nonce, struct problem *p)
{
    int reject = atomic_load(&c->app->nonce_reject_percent);

    switch (nonce_redeem(c->app->nonces, nonce, c->now)) {
    case NONCE_OK:
        break;
    case NONCE_BAD_SYNTAX:
        return problem_set(p, PROB_MALFORMED, "nonce is not base64url");
    case NONCE_USED:
        return problem_set(p, PROB_BAD_NONCE, "nonce was already used");
    case NONCE_EXPIRED:
        return problem_set(p, PROB_BAD_NONCE, "nonce has expired");
    default:
        return problem_set(p, PROB_BAD_NONCE, "nonce was not issued by this server");
    }
    if (reject > 0 && (int)rand_below(100) < reject)
        return problem_set(p, PROB_BAD_NONCE, "nonce rejected on purpose (nonce reject %d%%)",
                           reject);
    return CAIRN_OK;
}

/* Rules 16-17. */
static int
check_url_payload(struct acme_ctx *c, const struct route *rt, struct post_state *ps,
                  struct problem *p)
{
    char want[CAIRN_URL_MAX + CAIRN_MAX_URL_LEN];
    int rc;

    snprintf(want, sizeof(want), "%s%s%s%s", c->base, c->path, c->cursor ? "?cursor=" : "",
             c->cursor ? c->cursor : "");
    if (strcmp(ps->jws.url, want) != 0)
        return problem_set(p, PROB_UNAUTHORIZED, "JWS url \"%.200s\" does not match the request URL",
                           ps->jws.url);
    if (ps->jws.payload_len == 0) {
        if (rt->payload == PAYLOAD_OBJECT)
            return problem_set(p, PROB_MALFORMED, "this endpoint needs a JSON object payload, "
                                                  "not POST-as-GET");
        c->post_as_get = true;
        return CAIRN_OK;
    }
    if (rt->payload == PAYLOAD_EMPTY)
        return problem_set(p, PROB_MALFORMED, "POST-as-GET requires an empty payload");
    rc = json_load_payload((const char *)ps->jws.payload, ps->jws.payload_len, "payload",
                           &ps->payload, p);
    if (rc != CAIRN_OK)
        return rc;
    if (c->app->cfg->strict) {
        const char *res = json_string_value(json_object_get(ps->payload, "resource"));
        if (res != NULL && *res != '\0')
            return problem_set(p, PROB_MALFORMED, "-strict: no \"resource\" member (ACME v1)");
    }
    c->payload = ps->payload;
    return CAIRN_OK;
}

int
post_verify(struct acme_ctx *c, const struct route *rt, const char *content_type,
            bool has_replay_nonce_hdr, const char *body, size_t body_len, struct post_state *ps,
            struct problem *p)
{
    int rc;

    memset(ps, 0, sizeof(*ps));
    c->is_post = true;
    if (!content_type_ok(content_type))
        return problem_set_status(p, PROB_MALFORMED, 415,
                                  "Content-Type must be application/jose+json");
    if (has_replay_nonce_hdr)
        return problem_set(p, PROB_MALFORMED, "the nonce belongs in the JWS, not a header");
    rc = jws_parse(body, body_len, JWS_OUTER, &ps->jws, p);
    if (rc == CAIRN_OK)
        rc = check_key_kind(rt, &ps->jws, p);
    if (rc != CAIRN_OK)
        return rc;
    if (ps->jws.jwk != NULL) {
        rc = jwk_import(ps->jws.jwk, &ps->key, p);
        if (rc == CAIRN_OK)
            rc = jwk_thumbprint(ps->key, c->thumbprint);
    } else {
        rc = load_kid(c, ps, p);
    }
    if (rc == CAIRN_OK)
        rc = jws_check_alg_key(&ps->jws, ps->key, p);
    if (rc == CAIRN_OK)
        rc = jws_verify(&ps->jws, ps->key, p);
    if (rc != CAIRN_OK)
        return rc;
    /* A verified jwk (newAccount, above all) is the key the account's next kid request will
     * load: cache it now so that request skips the import. Same thumbprint, same key. */
    if (ps->jws.jwk != NULL)
        key_cache_put(c->thumbprint, ps->key);
    if (c->has_acct && c->acct.status != ACCT_VALID)
        return problem_set_status(p, PROB_UNAUTHORIZED, 401, "account is %s",
                                  acct_status_name(c->acct.status));
    rc = redeem_nonce(c, ps->jws.nonce, p);
    if (rc == CAIRN_OK)
        rc = check_url_payload(c, rt, ps, p);
    c->jws = &ps->jws;
    c->key = ps->key;
    return rc;
}

void
post_cleanup(struct acme_ctx *c, struct post_state *ps)
{
    jws_cleanup(&ps->jws);
    EVP_PKEY_free(ps->key);
    json_decref(ps->payload);
    store_account_cleanup(&c->acct);
    memset(ps, 0, sizeof(*ps));
}
