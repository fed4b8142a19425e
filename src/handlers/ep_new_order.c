#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/ident.h"
#include "cairn/limits.h"
#include "cairn/log.h"
#include "cairn/ratelimit.h"
#include "cairn/rand.h"
#include "cairn/render.h"
#include "handlers/common.h"

#define ORDER_LIFETIME (24 * 3600)
#define PENDING_AUTHZ_LIFETIME (24 * 3600)
#define NOT_BEFORE_SLACK 300 /* notBefore may be up to 5 minutes in the past */

struct new_order {
    const char *types[CAIRN_MAX_IDENTS];
    const char *values[CAIRN_MAX_IDENTS];
    size_t n;
    int64_t not_before;
    int64_t not_after;
    const char *profile;
};

static int
parse_identifiers(const json_t *arr, struct new_order *no, struct problem *p)
{
    size_t i;
    const json_t *v;

    if (!json_is_array(arr))
        return problem_set(p, PROB_MALFORMED, "payload: identifiers must be an array");
    if (json_array_size(arr) == 0 || json_array_size(arr) > CAIRN_MAX_IDENTS)
        return problem_set(p, PROB_MALFORMED, "payload: identifiers must hold 1 to %d entries",
                           CAIRN_MAX_IDENTS);
    json_array_foreach(arr, i, v) {
        const json_t *t = json_object_get(v, "type"), *val = json_object_get(v, "value");
        if (!json_is_object(v) || !json_is_string(t) || !json_is_string(val))
            return problem_set(p, PROB_MALFORMED,
                               "payload: identifiers[%zu] must be {\"type\":..., \"value\":...}",
                               i);
        no->types[i] = json_string_value(t);
        no->values[i] = json_string_value(val);
    }
    no->n = json_array_size(arr);
    return CAIRN_OK;
}

static int
parse_date(const json_t *pl, const char *name, int64_t *out, struct problem *p)
{
    const char *s = NULL;
    int rc = ep_opt_string(pl, name, &s, p);

    if (rc != CAIRN_OK || s == NULL)
        return rc;
    if (render_time_parse(s, out) != CAIRN_OK)
        return problem_set(p, PROB_MALFORMED, "payload: %s is not an RFC 3339 date-time", name);
    return CAIRN_OK;
}

/* PROTOCOL.md §1 newOrder dates: notBefore ≥ now − 5 min, notAfter after notBefore and now,
 * span within the profile's validity. */
static int
check_dates(const struct acme_ctx *c, const struct new_order *no, struct problem *p)
{
    int64_t nb = no->not_before ? no->not_before : c->now;

    if (no->not_before && no->not_before < c->now - NOT_BEFORE_SLACK)
        return problem_set(p, PROB_MALFORMED, "notBefore is in the past");
    if (no->not_after && (no->not_after <= nb || no->not_after <= c->now))
        return problem_set(p, PROB_MALFORMED, "notAfter must be after notBefore and now");
    if (no->not_after && no->not_after - nb > c->app->cfg->validity)
        return problem_set(p, PROB_MALFORMED,
                           "notAfter - notBefore exceeds the profile's validity of %lld s",
                           (long long)c->app->cfg->validity);
    return CAIRN_OK;
}

static int
parse(const struct acme_ctx *c, struct new_order *no, struct problem *p)
{
    int rc = parse_identifiers(json_object_get(c->payload, "identifiers"), no, p);

    if (rc == CAIRN_OK)
        rc = parse_date(c->payload, "notBefore", &no->not_before, p);
    if (rc == CAIRN_OK)
        rc = parse_date(c->payload, "notAfter", &no->not_after, p);
    if (rc == CAIRN_OK)
        rc = ep_opt_string(c->payload, "profile", &no->profile, p);
    if (rc == CAIRN_OK && no->profile != NULL && strcmp(no->profile, "default") != 0)
        return problem_set(p, PROB_INVALID_PROFILE, "unknown profile \"%.64s\"", no->profile);
    return rc == CAIRN_OK ? check_dates(c, no, p) : rc;
}

/* The challenges offered (PROTOCOL.md §5): DNS name all three, wildcard dns-01, IP http-01
 * and tls-alpn-01. Test mode shuffles the order so clients do not depend on it. */
static int
make_challenges(const struct acme_ctx *c, struct st_authz *az)
{
    enum chall_type types[3];
    size_t n = 0;
    int rc;

    if (az->ident.wildcard) {
        types[n++] = CHALL_DNS01;
    } else {
        types[n++] = CHALL_HTTP01;
        if (az->ident.type == IDENT_DNS)
            types[n++] = CHALL_DNS01;
        types[n++] = CHALL_TLSALPN01;
    }
    for (size_t i = n; !c->app->cfg->ca_mode && i > 1; i--) {
        size_t j = rand_below((uint32_t)i);
        enum chall_type t = types[i - 1];
        types[i - 1] = types[j];
        types[j] = t;
    }
    az->chall = calloc(n, sizeof(*az->chall));
    if (az->chall == NULL)
        return CAIRN_ERR_NOMEM;
    az->nchall = n;
    for (size_t i = 0; i < n; i++) {
        struct st_challenge *ch = &az->chall[i];
        ch->type = types[i];
        ch->status = CHALL_PENDING;
        memcpy(ch->authz_id, az->id, sizeof(ch->authz_id));
        if ((rc = rand_id(ch->id)) != CAIRN_OK || (rc = rand_token(ch->token)) != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

/* Valid authorizations are reused always in CA mode and with PEBBLE_AUTHZREUSE probability
 * in test mode; pending ones always (PROTOCOL.md §1). */
static bool
reuse_valid(const struct acme_ctx *c)
{
    if (c->app->cfg->ca_mode)
        return true;
    return (int)rand_below(100) < c->app->cfg->authz_reuse_percent;
}

static int
plan_authz(const struct acme_ctx *c, const struct ident *order_id, struct st_authz *az,
           char out_id[CAIRN_ID_LEN + 1], bool *created)
{
    int rc;

    memset(az, 0, sizeof(*az));
    az->ident = *order_id;
    az->ident.wildcard = strncmp(order_id->value, "*.", 2) == 0;
    if (az->ident.wildcard) /* the authz names the base domain */
        memmove(az->ident.value, az->ident.value + 2, strlen(az->ident.value + 2) + 1);
    *created = false;
    rc = store_authz_find_reusable(c->app->st, c->acct.id, &az->ident, reuse_valid(c), c->now,
                                   out_id);
    if (rc != CAIRN_ERR_NOTFOUND)
        return rc;
    if ((rc = rand_id(az->id)) != CAIRN_OK)
        return rc;
    memcpy(az->account_id, c->acct.id, sizeof(az->account_id));
    az->status = AUTHZ_PENDING;
    az->expires_at = c->now + PENDING_AUTHZ_LIFETIME;
    memcpy(out_id, az->id, CAIRN_ID_LEN + 1);
    *created = true;
    return make_challenges(c, az);
}

static int
create_order(struct acme_ctx *c, struct st_order *o, struct reply *r)
{
    struct st_authz *newaz = calloc(o->nidents, sizeof(*newaz));
    enum order_status status = ORDER_PENDING;
    size_t nnew = 0;
    bool created;
    int rc = newaz ? CAIRN_OK : CAIRN_ERR_NOMEM;

    for (size_t i = 0; rc == CAIRN_OK && i < o->nidents; i++) {
        rc = plan_authz(c, &o->idents[i], &newaz[nnew], o->authz_ids[i], &created);
        if (created)
            nnew++;
        else
            store_authz_cleanup(&newaz[nnew]);
    }
    if (rc == CAIRN_OK)
        rc = store_order_create(c->app->st, o, newaz, nnew, &status);
    for (size_t i = 0; newaz && i < nnew; i++)
        store_authz_cleanup(&newaz[i]);
    free(newaz);
    if (rc != CAIRN_OK)
        return rc;
    o->status = status;
    log_info("acme", "req=%s account %s new order %s (%zu identifiers)", c->req_id, c->acct.id,
             o->id, o->nidents);
    rc = render_url(r->location, sizeof(r->location), c->base, CAIRN_PATH_ORDER, o->id, NULL);
    return rc == CAIRN_OK ? ep_reply_json(r, 201, render_order(c->base, o)) : rc;
}

int
ep_new_order(struct acme_ctx *c, struct reply *r, struct problem *p)
{
    const struct ident_policy pol = { .ca_mode = c->app->cfg->ca_mode };
    struct new_order no = { 0 };
    struct st_order o = { 0 };
    int rc = parse(c, &no, p);

    if (rc != CAIRN_OK)
        return rc;
    o.idents = calloc(no.n, sizeof(*o.idents));
    o.authz_ids = calloc(no.n, sizeof(*o.authz_ids));
    if (o.idents == NULL || o.authz_ids == NULL) {
        rc = CAIRN_ERR_NOMEM;
        goto out;
    }
    rc = ident_list_check(no.types, no.values, no.n, &pol, o.idents, &o.nidents, p);
    if (rc == CAIRN_OK)
        rc = ratelimit_new_order(c->acct.id, o.idents, o.nidents, c->now, p);
    if (rc != CAIRN_OK || (rc = rand_id(o.id)) != CAIRN_OK)
        goto out;
    o.nauthz = o.nidents;
    memcpy(o.account_id, c->acct.id, sizeof(o.account_id));
    o.created_at = c->now;
    o.expires_at = c->now + ORDER_LIFETIME;
    o.not_before = no.not_before;
    o.not_after = no.not_after;
    snprintf(o.profile, sizeof(o.profile), "default");
    rc = create_order(c, &o, r);
out:
    store_order_cleanup(&o);
    return rc;
}
