#include "cairn/render.h"
#include "handlers/common.h"

int
ep_order(struct acme_ctx *c, struct reply *r, struct problem *p)
{
    struct st_order o = { 0 };
    int rc = store_order_get(c->app->st, c->arg, c->acct.id, c->now, &o);

    if (rc == CAIRN_OK) {
        if (o.status == ORDER_PROCESSING)
            r->retry_after = c->app->cfg->retry_after_order;
        rc = ep_reply_json(r, 200, render_order(c->base, &o));
    }
    store_order_cleanup(&o);
    return ep_store_rc(rc, p);
}
