#include "handlers/common.h"

#include "cairn/keypolicy.h"

int
ep_not_found(struct problem *p)
{
    return problem_set_status(p, PROB_MALFORMED, 404, "resource not found");
}

int
ep_store_rc(int rc, struct problem *p)
{
    return rc == CAIRN_ERR_NOTFOUND ? ep_not_found(p) : rc;
}

int
ep_reply_json(struct reply *r, int status, json_t *obj)
{
    if (obj == NULL)
        return CAIRN_ERR_NOMEM;
    json_decref(r->json);
    r->json = obj;
    r->status = status;
    return CAIRN_OK;
}

int
ep_opt_bool(const json_t *payload, const char *name, bool *out, struct problem *p)
{
    const json_t *v = json_object_get(payload, name);

    if (v == NULL)
        return CAIRN_OK;
    if (!json_is_boolean(v))
        return problem_set(p, PROB_MALFORMED, "payload: %s must be a boolean", name);
    *out = json_is_true(v);
    return CAIRN_OK;
}

int
ep_opt_string(const json_t *payload, const char *name, const char **out, struct problem *p)
{
    const json_t *v = json_object_get(payload, name);

    if (v == NULL)
        return CAIRN_OK;
    if (!json_is_string(v))
        return problem_set(p, PROB_MALFORMED, "payload: %s must be a string", name);
    *out = json_string_value(v);
    return CAIRN_OK;
}

int
ep_check_key_not_blocked(struct acme_ctx *c, const EVP_PKEY *key, enum prob_type fail,
                         struct problem *p)
{
    char spki[65];
    bool blocked = false;
    int rc = key_spki_sha256_hex(key, spki);

    if (rc == CAIRN_OK)
        rc = store_key_is_blocked(c->app->st, spki, &blocked);
    if (rc == CAIRN_OK && blocked)
        return problem_set(p, fail, "this key was revoked for key compromise");
    return rc;
}
