#include <stdio.h>
#include <string.h>

#include "cairn/ca.h"
#include "handlers/common.h"
#include "handlers/proto.h"

static void
set_url(json_t *o, const char *key, const char *base, const char *path)
{
    char url[CAIRN_URL_MAX];
    snprintf(url, sizeof(url), "%s%s", base, path);
    json_object_set_new(o, key, json_string(url));
}

/* caaIdentities default: the base URL's host (PROTOCOL.md §1). */
static json_t *
caa_identities(const char *base)
{
    const char *h = strstr(base, "://");
    char host[256];
    size_t n;

    h = h ? h + 3 : base;
    n = strcspn(h, ":/");
    if (h[0] == '[')
        n = strcspn(h, "]") + 1;
    snprintf(host, sizeof(host), "%.*s", (int)n, h);
    return json_pack("[s]", host);
}

int
ep_directory(struct acme_ctx *c, struct reply *r, struct problem *p)
{
    const struct config *cfg = c->app->cfg;
    json_t *d = json_object(), *meta = json_object(), *profiles = json_object();

    (void)p;
    set_url(d, "newNonce", c->base, "/acme/new-nonce");
    set_url(d, "newAccount", c->base, "/acme/new-account");
    set_url(d, "newOrder", c->base, "/acme/new-order");
    set_url(d, "revokeCert", c->base, "/acme/revoke-cert");
    set_url(d, "keyChange", c->base, "/acme/key-change");
    set_url(d, "newAuthz", c->base, "/acme/new-authz");
    set_url(d, "renewalInfo", c->base, "/acme/renewal-info");
    json_object_set_new(meta, "termsOfService",
                        json_string(cfg->tos_url[0] ? cfg->tos_url
                                                    : "data:text/plain,Test%20terms%20of%20service"));
    if (cfg->website[0])
        json_object_set_new(meta, "website", json_string(cfg->website));
    if (cfg->n_caa_identities > 0) {
        json_t *ids = json_array();

        for (int i = 0; i < cfg->n_caa_identities; i++)
            json_array_append_new(ids, json_string(cfg->caa_identities[i]));
        json_object_set_new(meta, "caaIdentities", ids);
    } else {
        json_object_set_new(meta, "caaIdentities", caa_identities(c->base));
    }
    json_object_set_new(meta, "externalAccountRequired", json_boolean(cfg->eab_required));
    /* draft-ietf-acme-profiles: name -> description */
    for (int i = 0; i < cfg->nprofiles; i++)
        json_object_set_new(profiles, cfg->profiles[i].name,
                            json_string(cfg->profiles[i].description));
    if (cfg->nprofiles <= 0)
        json_object_set_new(profiles, proto_default_profile(c->app)->name,
                            json_string(proto_default_profile(c->app)->description));
    json_object_set_new(meta, "profiles", profiles);
    json_object_set_new(d, "meta", meta);
    r->no_index_link = true;
    return ep_reply_json(r, 200, d);
}
