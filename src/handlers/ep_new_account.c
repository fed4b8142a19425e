#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/contact.h"
#include "cairn/log.h"
#include "cairn/rand.h"
#include "cairn/render.h"
#include "handlers/common.h"
#include "handlers/proto.h"

struct new_account {
    bool tos;
    bool only_existing;
    const json_t *contact;
    const json_t *eab;
};

static int
parse(const json_t *pl, struct new_account *na, struct problem *p)
{
    int rc = ep_opt_bool(pl, "termsOfServiceAgreed", &na->tos, p);

    if (rc == CAIRN_OK)
        rc = ep_opt_bool(pl, "onlyReturnExisting", &na->only_existing, p);
    na->contact = json_object_get(pl, "contact");
    na->eab = json_object_get(pl, "externalAccountBinding");
    if (rc == CAIRN_OK && na->eab != NULL && !json_is_object(na->eab))
        rc = problem_set(p, PROB_MALFORMED, "payload: externalAccountBinding must be an object");
    return rc;
}

/* An existing account: 200 + Location, the request's other fields ignored (§7.3.1). */
static int
reply_existing(struct acme_ctx *c, const struct st_account *a, struct reply *r,
               struct problem *p)
{
    if (a->status != ACCT_VALID)
        return problem_set_status(p, PROB_UNAUTHORIZED, 401, "account is %s",
                                  acct_status_name(a->status));
    if (render_url(r->location, sizeof(r->location), c->base, CAIRN_PATH_ACCT, a->id, NULL))
        return CAIRN_ERR_INVAL;
    return ep_reply_json(r, 200, render_account(c->base, a));
}

static int
create(struct acme_ctx *c, const struct new_account *na, const char *eab_kid, struct reply *r,
       struct problem *p)
{
    struct st_account a = { 0 }, existing = { 0 };
    json_t *jwk = NULL;
    bool kid_taken = false;
    int rc;

    if (na->contact != NULL &&
        (rc = contact_check(na->contact, c->app->cfg->ca_mode,
                                (size_t)c->app->cfg->max_contacts, &a.contact, p)) != CAIRN_OK)
        goto out;
    rc = rand_id(a.id);
    if (rc != CAIRN_OK)
        goto out;
    jwk = jwk_export(c->key);
    a.jwk = jwk ? json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (a.jwk == NULL) {
        rc = CAIRN_ERR_NOMEM;
        goto out;
    }
    snprintf(a.thumbprint, sizeof(a.thumbprint), "%s", c->thumbprint);
    a.status = ACCT_VALID;
    a.tos_agreed = na->tos;
    a.created_at = c->now;
    rc = store_account_create_eab(c->app->st, &a, eab_kid[0] ? eab_kid : NULL,
                                  c->app->cfg->eab_single_use > 0, &kid_taken);
    if (rc == CAIRN_ERR_CONFLICT && kid_taken) {
        rc = problem_set(p, PROB_UNAUTHORIZED,
                         "externalAccountBinding: key id \"%.64s\" is already bound to an "
                         "account", eab_kid);
        goto out;
    }
    if (rc == CAIRN_ERR_CONFLICT) { /* a concurrent request registered the key first */
        rc = store_account_get_by_thumbprint(c->app->st, c->thumbprint, &existing);
        if (rc == CAIRN_OK)
            rc = reply_existing(c, &existing, r, p);
        goto out;
    }
    if (rc != CAIRN_OK)
        goto out;
    log_info("acme", "req=%s new account %s%s%s", c->req_id, a.id,
             eab_kid[0] ? " bound to EAB key id " : "", eab_kid);
    rc = render_url(r->location, sizeof(r->location), c->base, CAIRN_PATH_ACCT, a.id, NULL);
    if (rc == CAIRN_OK)
        rc = ep_reply_json(r, 201, render_account(c->base, &a));
out:
    json_decref(jwk);
    store_account_cleanup(&a);
    store_account_cleanup(&existing);
    return rc;
}

int
ep_new_account(struct acme_ctx *c, struct reply *r, struct problem *p)
{
    struct new_account na = { 0 };
    struct st_account existing = { 0 };
    char eab_kid[CAIRN_MAX_EAB_KID_LEN + 1] = "";
    int rc = parse(c->payload, &na, p);

    if (rc != CAIRN_OK)
        return rc;
    rc = store_account_get_by_thumbprint(c->app->st, c->thumbprint, &existing);
    if (rc == CAIRN_OK) {
        rc = reply_existing(c, &existing, r, p);
        store_account_cleanup(&existing);
        return rc;
    }
    if (rc != CAIRN_ERR_NOTFOUND)
        return rc;
    if (na.only_existing)
        return problem_set(p, PROB_ACCOUNT_DOES_NOT_EXIST, "no account exists for this key");
    rc = ep_check_key_not_blocked(c, c->key, PROB_BAD_PUBLIC_KEY, p);
    if (rc != CAIRN_OK)
        return rc;
    /* D8: terms are always published, so agreement is required */
    if (!na.tos)
        return problem_set(p, PROB_MALFORMED, "termsOfServiceAgreed must be true");
    if (c->app->cfg->eab_required && na.eab == NULL)
        return problem_set(p, PROB_EXTERNAL_ACCOUNT_REQUIRED,
                           "this CA requires an external account binding");
    if (na.eab != NULL && (rc = proto_eab_check(c, na.eab, eab_kid, p)) != CAIRN_OK)
        return rc;
    return create(c, &na, eab_kid, r, p);
}
