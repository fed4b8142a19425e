#include <string.h>

#include "cairn/log.h"
#include "cairn/render.h"
#include "handlers/common.h"

static int
deactivate(struct acme_ctx *c, struct problem *p)
{
    const char *status = NULL;
    int rc = ep_opt_string(c->payload, "status", &status, p);

    if (rc != CAIRN_OK)
        return rc;
    if (status == NULL)
        return CAIRN_OK; /* nothing to change: answer with the current state */
    if (strcmp(status, "deactivated") != 0)
        return problem_set(p, PROB_MALFORMED, "status may only be set to \"deactivated\"");
    rc = store_authz_deactivate(c->app->st, c->arg, c->acct.id, c->now);
    if (rc == CAIRN_ERR_CONFLICT)
        return problem_set(p, PROB_MALFORMED,
                           "only a pending or valid authorization can be deactivated");
    if (rc == CAIRN_OK)
        log_info("acme", "req=%s authz %s deactivated", c->req_id, c->arg);
    return ep_store_rc(rc, p);
}

int
ep_authz(struct acme_ctx *c, struct reply *r, struct problem *p)
{
    struct st_authz a = { 0 };
    int rc = CAIRN_OK;

    if (!c->post_as_get) {
        /* load first so another account's authz is a 404, never a state change */
        rc = store_authz_get(c->app->st, c->arg, c->acct.id, c->now, &a);
        store_authz_cleanup(&a);
        if (rc == CAIRN_OK)
            rc = deactivate(c, p);
        if (rc != CAIRN_OK)
            return ep_store_rc(rc, p);
    }
    rc = store_authz_get(c->app->st, c->arg, c->acct.id, c->now, &a);
    if (rc == CAIRN_OK) {
        for (size_t i = 0; i < a.nchall; i++)
            if (a.chall[i].status == CHALL_PROCESSING)
                r->retry_after = c->app->cfg->retry_after_authz;
        rc = ep_reply_json(r, 200, render_authz(c->base, &a));
    }
    store_authz_cleanup(&a);
    return ep_store_rc(rc, p);
}
