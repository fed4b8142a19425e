/* ep_new_authz.c - newAuthz pre-authorization (RFC 8555 §7.4.1, PROTOCOL.md §1 newAuthz). */
#include <stdio.h>
#include <string.h>

#include "cairn/log.h"
#include "cairn/rand.h"
#include "cairn/render.h"
#include "handlers/ident_conf.h"
#include "handlers/proto.h"

#define PENDING_AUTHZ_LIFETIME (24 * 3600)

/* {"identifier": {"type": ..., "value": ...}} with newOrder's identifier rules; a wildcard
 * cannot be pre-authorized (§7.4.1). */
static int
parse_identifier(struct acme_ctx *c, struct ident *out, struct problem *p)
{
    const struct ident_policy pol = ep_ident_policy(c->app->cfg);
    const json_t *v = json_object_get(c->payload, "identifier");
    const json_t *t = json_object_get(v, "type"), *val = json_object_get(v, "value");
    const char *type, *value;
    size_t n = 0;
    int rc;

    if (!json_is_object(v) || !json_is_string(t) || !json_is_string(val))
        return problem_set(p, PROB_MALFORMED,
                           "payload: identifier must be {\"type\":..., \"value\":...}");
    type = json_string_value(t);
    value = json_string_value(val);
    rc = ident_list_check(&type, &value, 1, &pol, out, &n, p);
    if (rc != CAIRN_OK)
        return rc;
    if (out->wildcard)
        return problem_set(p, PROB_MALFORMED,
                           "a wildcard cannot be pre-authorized; use newOrder");
    return CAIRN_OK;
}

static int
reply_authz(struct acme_ctx *c, const char *id, int status, struct reply *r)
{
    struct st_authz a = { 0 };
    int rc = store_authz_get(c->app->st, id, c->acct.id, c->now, &a);

    if (rc == CAIRN_OK)
        rc = render_url(r->location, sizeof(r->location), c->base, CAIRN_PATH_AUTHZ, id, NULL);
    if (rc == CAIRN_OK)
        rc = ep_reply_json(r, status, render_authz(c->base, &a));
    store_authz_cleanup(&a);
    return rc;
}

static int
create_authz(struct acme_ctx *c, const struct ident *ident, struct reply *r)
{
    struct st_authz az = { 0 };
    int rc = rand_id(az.id);

    az.ident = *ident;
    memcpy(az.account_id, c->acct.id, sizeof(az.account_id));
    az.status = AUTHZ_PENDING;
    az.expires_at = c->now + PENDING_AUTHZ_LIFETIME;
    if (rc == CAIRN_OK)
        rc = ep_make_challenges(c, &az);
    if (rc == CAIRN_OK)
        rc = store_authz_create_preauth(c->app->st, &az, c->now);
    if (rc == CAIRN_OK) {
        log_info("acme", "req=%s account %s pre-authorization %s", c->req_id, c->acct.id,
                 az.id);
        rc = reply_authz(c, az.id, 201, r);
    }
    store_authz_cleanup(&az);
    return rc;
}

int
ep_new_authz(struct acme_ctx *c, struct reply *r, struct problem *p)
{
    struct ident ident;
    char id[CAIRN_ID_LEN + 1];
    int rc = parse_identifier(c, &ident, p);

    if (rc != CAIRN_OK)
        return rc;
    /* the account's live pending or valid authorization for the name: 200, and it becomes a
     * pre-authorization so later orders reuse it */
    rc = store_authz_find_reusable(c->app->st, c->acct.id, &ident, true, c->now, id);
    if (rc == CAIRN_OK)
        rc = store_authz_mark_preauth(c->app->st, id, c->acct.id);
    if (rc == CAIRN_OK)
        return reply_authz(c, id, 200, r);
    if (rc != CAIRN_ERR_NOTFOUND)
        return rc;
    return create_authz(c, &ident, r);
}
