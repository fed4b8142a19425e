#include <stdlib.h>
#include <string.h>

#include "cairn/contact.h"
#include "cairn/log.h"
#include "cairn/render.h"
#include "handlers/common.h"

static int
reply_account(struct acme_ctx *c, struct reply *r)
{
    struct st_account a = { 0 };
    int rc = store_account_get(c->app->st, c->acct.id, &a);

    if (rc == CAIRN_OK)
        rc = ep_reply_json(r, 200, render_account(c->base, &a));
    store_account_cleanup(&a);
    return rc;
}

/* RFC 8555 §7.3.2 update and §7.3.6 deactivation. */
static int
update(struct acme_ctx *c, struct problem *p)
{
    const json_t *contact = json_object_get(c->payload, "contact");
    const char *status = NULL;
    char *contact_json = NULL;
    bool tos = false;
    int rc;

    rc = ep_opt_string(c->payload, "status", &status, p);
    if (rc == CAIRN_OK)
        rc = ep_opt_bool(c->payload, "termsOfServiceAgreed", &tos, p);
    if (rc != CAIRN_OK)
        return rc;
    if (status != NULL && strcmp(status, "deactivated") != 0 && strcmp(status, "valid") != 0)
        return problem_set(p, PROB_MALFORMED, "status may only be set to \"deactivated\"");
    if (contact != NULL &&
        (rc = contact_check(contact, c->app->cfg->ca_mode, (size_t)c->app->cfg->max_contacts,
                                &contact_json, p)) != CAIRN_OK)
        return rc;
    if (contact_json != NULL || tos)
        rc = store_account_update(c->app->st, c->acct.id, contact_json, tos);
    free(contact_json);
    if (rc == CAIRN_OK && status != NULL && strcmp(status, "deactivated") == 0) {
        rc = store_account_deactivate(c->app->st, c->acct.id, c->now);
        if (rc == CAIRN_OK)
            log_info("acme", "req=%s account %s deactivated", c->req_id, c->acct.id);
    }
    if (rc == CAIRN_ERR_CONFLICT)
        return problem_set_status(p, PROB_UNAUTHORIZED, 401, "account is no longer valid");
    return rc;
}

int
ep_account(struct acme_ctx *c, struct reply *r, struct problem *p)
{
    int rc;

    /* RFC 8555 §7.3: an account URL answers only to its own key */
    if (strcmp(c->arg, c->acct.id) != 0)
        return ep_not_found(p);
    if (!c->post_as_get) {
        rc = update(c, p);
        if (rc != CAIRN_OK)
            return rc;
    }
    rc = render_url(r->location, sizeof(r->location), c->base, CAIRN_PATH_ACCT, c->acct.id,
                    NULL);
    return rc == CAIRN_OK ? reply_account(c, r) : rc;
}

int
ep_orders_list(struct acme_ctx *c, struct reply *r, struct problem *p)
{
    size_t max = (size_t)c->app->cfg->orders_per_page, n = 0;
    char(*ids)[CAIRN_ID_LEN + 1];
    char url[CAIRN_URL_MAX];
    json_t *arr;
    bool more = false;
    int rc;

    if (strcmp(c->arg, c->acct.id) != 0)
        return ep_not_found(p);
    if (c->cursor != NULL && strlen(c->cursor) != CAIRN_ID_LEN)
        return ep_not_found(p);
    ids = calloc(max, sizeof(*ids));
    if (ids == NULL)
        return CAIRN_ERR_NOMEM;
    rc = store_orders_list(c->app->st, c->acct.id, c->cursor ? c->cursor : "", max, ids, &n,
                           &more);
    arr = json_array();
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++)
        if (render_url(url, sizeof(url), c->base, CAIRN_PATH_ORDER, ids[i], NULL) == CAIRN_OK)
            json_array_append_new(arr, json_string(url));
    if (rc == CAIRN_OK && more && n > 0) {
        char next[CAIRN_URL_MAX];
        snprintf(next, sizeof(next), "%s%s%s/orders?cursor=%s", c->base, CAIRN_PATH_ACCT,
                 c->acct.id, ids[n - 1]);
        reply_add_link(r, next, "next");
    }
    free(ids);
    if (rc != CAIRN_OK) {
        json_decref(arr);
        return ep_store_rc(rc, p);
    }
    return ep_reply_json(r, 200, json_pack("{s:o}", "orders", arr));
}
