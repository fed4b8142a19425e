/* proto.c - helpers of the protocol-feature handlers: profiles, EAB key lookup, ARI certID
 * lookup. */
#include "handlers/proto.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cairn/eab.h"
#include "cairn/log.h"

/* Built-in fallback when a configuration was not finished by config_load() (unit tests). */
static const struct config_profile *
builtin_default(const struct config *cfg)
{
    static _Thread_local struct config_profile pr;

    snprintf(pr.name, sizeof(pr.name), "default");
    snprintf(pr.description, sizeof(pr.description), "The default profile");
    pr.validity = cfg->validity > 0 ? cfg->validity : 7776000;
    pr.promote_cn = false;
    return &pr;
}

const struct config_profile *
proto_default_profile(struct app *app)
{
    const struct config *cfg = app->cfg;
    int i = atomic_load(&app->default_profile);

    if (cfg->nprofiles <= 0)
        return builtin_default(cfg);
    if (i < 0 || i >= cfg->nprofiles)
        i = cfg->default_profile;
    return &cfg->profiles[i];
}

const struct config_profile *
proto_order_profile(struct app *app, const char *name)
{
    const struct config_profile *pr = config_profile_find(app->cfg, name);

    return pr != NULL ? pr : proto_default_profile(app);
}

/* Config keys first (they win over `cairn eab add` keys of the same id), then the DB. */
static int
eab_key_lookup(struct acme_ctx *c, const char *kid, uint8_t *key, size_t cap, size_t *len)
{
    const struct config_eab_key *k = config_eab_key_find(c->app->cfg, kid);

    if (k != NULL) {
        if (k->key_len > cap)
            return CAIRN_ERR_INVAL;
        memcpy(key, k->key, k->key_len);
        *len = k->key_len;
        return CAIRN_OK;
    }
    return store_eab_key_get(c->app->st, kid, key, cap, len);
}

static int
eab_keys_exist(struct acme_ctx *c, bool *exist)
{
    char kid[1][CAIRN_MAX_EAB_KID_LEN + 1];
    size_t n = 0;
    int rc;

    *exist = c->app->cfg->neab_keys > 0 || c->app->cfg->eab_required;
    if (*exist)
        return CAIRN_OK;
    rc = store_eab_key_list(c->app->st, 1, kid, NULL, &n);
    *exist = n > 0;
    return rc;
}

int
proto_eab_check(struct acme_ctx *c, const json_t *binding, char kid[CAIRN_MAX_EAB_KID_LEN + 1],
                struct problem *p)
{
    uint8_t key[CAIRN_MAX_EAB_KEY];
    size_t len = 0;
    struct eab e = { 0 };
    bool exist = false;
    int rc = eab_keys_exist(c, &exist);

    kid[0] = '\0';
    if (rc != CAIRN_OK)
        return rc;
    if (!exist) { /* PROTOCOL.md §1: checked whenever EAB keys exist */
        log_info("acme", "req=%s externalAccountBinding ignored: no EAB keys are configured",
                 c->req_id);
        return CAIRN_OK;
    }
    rc = eab_parse(binding, c->jws->url, &e, p);
    if (rc != CAIRN_OK)
        return rc;
    rc = eab_key_lookup(c, e.kid, key, sizeof(key), &len);
    if (rc == CAIRN_ERR_NOTFOUND)
        rc = problem_set(p, PROB_UNAUTHORIZED, "externalAccountBinding: unknown key id \"%.64s\"",
                         e.kid);
    if (rc == CAIRN_OK)
        rc = eab_verify(&e, key, len, c->key, p);
    if (rc == CAIRN_OK)
        snprintf(kid, CAIRN_MAX_EAB_KID_LEN + 1, "%s", e.kid);
    OPENSSL_cleanse(key, sizeof(key));
    eab_cleanup(&e);
    return rc;
}

int
proto_certid_lookup(struct acme_ctx *c, const char *certid, struct ari_certid *id,
                    struct st_cert *cert, int64_t *not_before, int64_t *not_after,
                    struct problem *p)
{
    struct ari_certid stored;
    int rc;

    memset(cert, 0, sizeof(*cert));
    if (ari_certid_parse(certid, id) != CAIRN_OK)
        return problem_set(p, PROB_MALFORMED, "\"%.80s\" is not an ARI certID "
                                              "(base64url AKI \".\" base64url serial)", certid);
    rc = store_cert_get(c->app->st, id->serial_hex, NULL, cert);
    if (rc == CAIRN_OK && cert->der == NULL)
        rc = CAIRN_ERR_NOTFOUND;
    if (rc == CAIRN_OK &&
        ari_cert_info(cert->der, cert->der_len, &stored, not_before, not_after) != CAIRN_OK)
        rc = CAIRN_ERR_NOTFOUND;
    if (rc == CAIRN_OK &&
        (stored.aki_len != id->aki_len || memcmp(stored.aki, id->aki, id->aki_len) != 0))
        rc = CAIRN_ERR_NOTFOUND; /* the serial is ours but the issuer named is not */
    if (rc != CAIRN_OK)
        store_cert_cleanup(cert);
    return rc;
}

void
eab_warn_shadowed(const struct config *cfg, struct store *st)
{
    uint8_t key[CAIRN_MAX_EAB_KEY];
    size_t len = 0;

    for (int i = 0; i < cfg->neab_keys; i++) {
        if (store_eab_key_get(st, cfg->eab_keys[i].kid, key, sizeof(key), &len) == CAIRN_OK)
            log_warn("conf", "EAB key id %s is in the config and in the database; the "
                             "config's key is used", cfg->eab_keys[i].kid);
    }
    OPENSSL_cleanse(key, sizeof(key));
}
