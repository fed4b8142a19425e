#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/jsonutil.h"
#include "cairn/log.h"
#include "cairn/render.h"
#include "handlers/common.h"

/* The inner payload: {"account": <outer kid>, "oldKey": <current JWK>} (RFC 8555 §7.3.5). */
static int
check_inner_payload(struct acme_ctx *c, const struct jws *inner, struct problem *p)
{
    char thumb[CAIRN_THUMBPRINT_LEN + 1];
    EVP_PKEY *old = NULL;
    json_t *pl = NULL;
    const char *acct;
    int rc;

    rc = json_load_payload((const char *)inner->payload, inner->payload_len, "inner payload",
                           &pl, p);
    if (rc != CAIRN_OK)
        return rc;
    acct = json_string_value(json_object_get(pl, "account"));
    if (acct == NULL || strcmp(acct, c->jws->kid) != 0) {
        rc = problem_set(p, PROB_MALFORMED, "inner payload: account must equal the outer kid");
        goto out;
    }
    if (!json_is_object(json_object_get(pl, "oldKey"))) {
        rc = problem_set(p, PROB_MALFORMED, "inner payload: oldKey must be a JWK");
        goto out;
    }
    rc = jwk_import(json_object_get(pl, "oldKey"), &old, p);
    if (rc == CAIRN_OK)
        rc = jwk_thumbprint(old, thumb);
    if (rc == CAIRN_OK && strcmp(thumb, c->acct.thumbprint) != 0)
        rc = problem_set(p, PROB_MALFORMED, "inner payload: oldKey is not the account key");
    if (rc == CAIRN_ERR_PROTO && p->type == PROB_BAD_PUBLIC_KEY)
        rc = problem_set(p, PROB_MALFORMED, "inner payload: oldKey is not the account key");
out:
    EVP_PKEY_free(old);
    json_decref(pl);
    return rc;
}

/* 409 with the holder's Location when the new key already belongs to an account. */
static int
key_taken(struct acme_ctx *c, const char *thumb, struct problem *p)
{
    struct st_account other = { 0 };
    int rc = store_account_get_by_thumbprint(c->app->st, thumb, &other);

    if (rc == CAIRN_OK) {
        rc = problem_set_status(p, PROB_MALFORMED, 409, "the new key is already in use");
        if (render_url(p->location, sizeof(p->location), c->base, CAIRN_PATH_ACCT, other.id,
                       NULL) != CAIRN_OK)
            p->location[0] = '\0';
    } else if (rc == CAIRN_ERR_NOTFOUND) {
        rc = problem_set_status(p, PROB_UNAUTHORIZED, 401, "account is no longer valid");
    }
    store_account_cleanup(&other);
    return rc;
}

static int
roll(struct acme_ctx *c, EVP_PKEY *newkey, struct problem *p)
{
    char thumb[CAIRN_THUMBPRINT_LEN + 1], *text = NULL;
    json_t *jwk = NULL;
    int rc = jwk_thumbprint(newkey, thumb);

    if (rc != CAIRN_OK)
        return rc;
    if (strcmp(thumb, c->acct.thumbprint) == 0)
        return problem_set(p, PROB_MALFORMED, "the new key is the current key");
    jwk = jwk_export(newkey);
    text = jwk ? json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    rc = text ? store_account_change_key(c->app->st, c->acct.id, c->acct.thumbprint, thumb,
                                         text)
              : CAIRN_ERR_NOMEM;
    if (rc == CAIRN_ERR_CONFLICT)
        rc = key_taken(c, thumb, p);
    if (rc == CAIRN_OK)
        log_info("acme", "req=%s account %s rolled over its key", c->req_id, c->acct.id);
    free(text);
    json_decref(jwk);
    return rc;
}

int
ep_key_change(struct acme_ctx *c, struct reply *r, struct problem *p)
{
    struct st_account a = { 0 };
    struct jws inner = { 0 };
    EVP_PKEY *newkey = NULL;
    int rc = jws_parse_json(c->payload, JWS_INNER, &inner, p);

    if (rc == CAIRN_OK && strcmp(inner.url, c->jws->url) != 0)
        rc = problem_set(p, PROB_MALFORMED, "inner JWS url must equal the outer url");
    if (rc == CAIRN_OK)
        rc = jwk_import(inner.jwk, &newkey, p);
    if (rc == CAIRN_OK)
        rc = ep_check_key_not_blocked(c, newkey, PROB_BAD_PUBLIC_KEY, p);
    if (rc == CAIRN_OK)
        rc = jws_check_alg_key(&inner, newkey, p);
    if (rc == CAIRN_OK)
        rc = jws_verify(&inner, newkey, p);
    if (rc == CAIRN_OK)
        rc = check_inner_payload(c, &inner, p);
    if (rc == CAIRN_OK)
        rc = roll(c, newkey, p);
    if (rc == CAIRN_OK)
        rc = store_account_get(c->app->st, c->acct.id, &a);
    if (rc == CAIRN_OK)
        rc = render_url(r->location, sizeof(r->location), c->base, CAIRN_PATH_ACCT, a.id, NULL);
    if (rc == CAIRN_OK)
        rc = ep_reply_json(r, 200, render_account(c->base, &a));
    store_account_cleanup(&a);
    EVP_PKEY_free(newkey);
    jws_cleanup(&inner);
    return rc;
}
