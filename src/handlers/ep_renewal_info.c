/* ep_renewal_info.c - ACME Renewal Information (RFC 9773, PROTOCOL.md §1 renewalInfo). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/render.h"
#include "handlers/proto.h"

/* PROTOCOL.md §0: renewalInfo may be cached for as long as Retry-After says. */
#define ARI_CACHE_CONTROL "public, max-age=21600"

static json_t *
window_json(int64_t start, int64_t end)
{
    char s[32], e[32];

    render_time(start, s, sizeof(s));
    render_time(end, e, sizeof(e));
    return json_pack("{s:{s:s, s:s}}", "suggestedWindow", "start", s, "end", e);
}

int
ep_renewal_info(struct acme_ctx *c, struct reply *r, struct problem *p)
{
    struct ari_certid id;
    struct st_cert cert = { 0 };
    int64_t nb = 0, na = 0, start, end;
    char *override = NULL;
    int rc = proto_certid_lookup(c, c->arg, &id, &cert, &nb, &na, p);

    if (rc == CAIRN_ERR_NOTFOUND)
        rc = problem_set_status(p, PROB_MALFORMED, 404, "no certificate %.80s was issued here",
                                c->arg);
    if (rc != CAIRN_OK)
        goto out;
    r->retry_after = CAIRN_ARI_RETRY_AFTER;
    r->cache_control = ARI_CACHE_CONTROL;
    /* POST /set-renewal-info/ (test mode only): the stored text, verbatim */
    rc = c->app->cfg->ca_mode ? CAIRN_ERR_NOTFOUND
                              : store_ari_override_get(c->app->st, cert.serial, &override);
    if (rc == CAIRN_OK) {
        r->status = 200;
        r->body = override;
        r->body_len = strlen(override);
        r->content_type = "application/json";
        goto out;
    }
    if (rc != CAIRN_ERR_NOTFOUND)
        goto out;
    ari_window(nb, na, cert.status == CERT_REVOKED ? cert.revoked_at : 0, &start, &end);
    rc = ep_reply_json(r, 200, window_json(start, end));
out:
    store_cert_cleanup(&cert);
    return rc;
}
