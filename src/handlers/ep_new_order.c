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
#include "handlers/ident_conf.h"
#include "handlers/proto.h"

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
    const char *replaces;               /* ARI certID (RFC 9773 §5), or NULL */
    const struct config_profile *prof;  /* the profile used */
};

/* max: limits.maxIdentifiersPerOrder, at most CAIRN_MAX_IDENTS (the size of no's arrays). */
static int
parse_identifiers(const json_t *arr, size_t max, struct new_order *no, struct problem *p)
{
    size_t i;
    const json_t *v;

    if (max > CAIRN_MAX_IDENTS)
        max = CAIRN_MAX_IDENTS;
    if (!json_is_array(arr))
        return problem_set(p, PROB_MALFORMED, "payload: identifiers must be an array");
    if (json_array_size(arr) == 0 || json_array_size(arr) > max)
        return problem_set(p, PROB_MALFORMED, "payload: identifiers must hold 1 to %zu entries",
                           max);
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
    if (no->not_after && no->not_after - nb > no->prof->validity)
        return problem_set(p, PROB_MALFORMED,
                           "notAfter - notBefore exceeds the validity of profile %s, %lld s",
                           no->prof->name, (long long)no->prof->validity);
    return CAIRN_OK;
}

static int
parse(const struct acme_ctx *c, struct new_order *no, struct problem *p)
{
    int rc = parse_identifiers(json_object_get(c->payload, "identifiers"),
                               (size_t)c->app->cfg->max_idents, no, p);

    if (rc == CAIRN_OK)
        rc = parse_date(c->payload, "notBefore", &no->not_before, p);
    if (rc == CAIRN_OK)
        rc = parse_date(c->payload, "notAfter", &no->not_after, p);
    if (rc == CAIRN_OK)
        rc = ep_opt_string(c->payload, "profile", &no->profile, p);
    if (rc == CAIRN_OK)
        rc = ep_opt_string(c->payload, "replaces", &no->replaces, p);
    if (rc != CAIRN_OK)
        return rc;
    /* draft-ietf-acme-profiles: an unknown name is refused; none means the default profile,
     * never a random one as Pebble picks */
    no->prof = no->profile ? config_profile_find(c->app->cfg, no->profile)
                           : proto_default_profile(c->app);
    if (no->prof == NULL)
        return problem_set(p, PROB_INVALID_PROFILE, "unknown profile \"%.64s\"", no->profile);
    return check_dates(c, no, p);
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

int
ep_make_challenges(const struct acme_ctx *c, struct st_authz *az)
{
    return make_challenges(c, az);
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
    /* newAuthz pre-authorizations exist to satisfy later orders: always reused */
    rc = store_authz_find_preauth(c->app->st, c->acct.id, &az->ident, c->now, out_id);
    if (rc != CAIRN_ERR_NOTFOUND)
        return rc;
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

/* RFC 9773 §5: one live order per replaced certificate. */
static int
check_not_replaced(struct acme_ctx *c, const char *certid, struct problem *p)
{
    bool replaced = false;
    int rc = store_order_replaced(c->app->st, certid, c->now, &replaced);

    if (rc == CAIRN_OK && replaced)
        return problem_set(p, PROB_ALREADY_REPLACED,
                           "certificate %.80s is already replaced by another order", certid);
    return rc;
}

static bool
shares_ident(const struct st_order *a, const struct st_order *b)
{
    for (size_t i = 0; i < a->nidents; i++)
        for (size_t j = 0; j < b->nidents; j++)
            if (a->idents[i].type == b->idents[j].type &&
                strcmp(a->idents[i].value, b->idents[j].value) == 0)
                return true;
    return false;
}

/* PROTOCOL.md §1: replaces must name our certificate (400 malformed) of this account (403
 * unauthorized) sharing an identifier (400 malformed), not yet replaced (409). */
static int
check_replaces(struct acme_ctx *c, const char *certid, struct st_order *o, struct problem *p)
{
    struct ari_certid id;
    struct st_cert cert = { 0 };
    struct st_order old = { 0 };
    int64_t nb = 0, na = 0;
    int rc = proto_certid_lookup(c, certid, &id, &cert, &nb, &na, p);

    if (rc == CAIRN_ERR_NOTFOUND)
        rc = problem_set(p, PROB_MALFORMED, "replaces: no certificate %.80s was issued here",
                         certid);
    if (rc == CAIRN_OK && strcmp(cert.account_id, c->acct.id) != 0)
        rc = problem_set(p, PROB_UNAUTHORIZED,
                         "replaces: the certificate was issued to another account");
    if (rc == CAIRN_OK)
        rc = store_order_get(c->app->st, cert.order_id, NULL, c->now, &old);
    if (rc == CAIRN_OK && !shares_ident(o, &old))
        rc = problem_set(p, PROB_MALFORMED,
                         "replaces: the order shares no identifier with the certificate");
    if (rc == CAIRN_OK)
        rc = check_not_replaced(c, id.canonical, p);
    if (rc == CAIRN_OK)
        snprintf(o->replaces, sizeof(o->replaces), "%s", id.canonical);
    store_order_cleanup(&old);
    store_cert_cleanup(&cert);
    return rc;
}

static int
create_order(struct acme_ctx *c, struct st_order *o, struct reply *r, struct problem *p)
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
    /* a concurrent order took the replacement between the check and the insert */
    if (rc == CAIRN_ERR_CONFLICT && o->replaces[0] &&
        check_not_replaced(c, o->replaces, p) == CAIRN_ERR_PROTO)
        rc = CAIRN_ERR_PROTO;
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
    const struct ident_policy pol = ep_ident_policy(c->app->cfg);
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
    snprintf(o.profile, sizeof(o.profile), "%s", no.prof->name);
    if (no.replaces != NULL && (rc = check_replaces(c, no.replaces, &o, p)) != CAIRN_OK)
        goto out;
    rc = create_order(c, &o, r, p);
out:
    store_order_cleanup(&o);
    return rc;
}
