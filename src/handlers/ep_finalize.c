#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/b64url.h"
#include "cairn/ca.h"
#include "cairn/csr.h"
#include "cairn/limits.h"
#include "cairn/log.h"
#include "cairn/metrics.h"
#include "cairn/ratelimit.h"
#include "cairn/rand.h"
#include "cairn/render.h"
#include "cairn/va.h"
#include "handlers/common.h"
#include "handlers/proto.h"

#define SERIAL_BYTES 16
#define BACKDATE 60 /* seconds: tolerate clients whose clocks run slightly behind */

/* 16 random bytes, top bit clear (positive) and the next bit set, so every serial has the
 * same length and its hex form has no leading zero. */
static int
new_serial(uint8_t serial[SERIAL_BYTES], char hex[CAIRN_SERIAL_HEX_MAX + 1])
{
    int rc = rand_bytes(serial, SERIAL_BYTES);

    if (rc != CAIRN_OK)
        return rc;
    serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x40);
    for (size_t i = 0; i < SERIAL_BYTES; i++)
        snprintf(hex + 2 * i, 3, "%02x", serial[i]);
    return CAIRN_OK;
}

/* D7: a CSR key may not be any account's key. */
static int
check_not_account_key(struct acme_ctx *c, const struct csr *csr, struct problem *p)
{
    char thumb[CAIRN_THUMBPRINT_LEN + 1];
    struct st_account a = { 0 };
    int rc = jwk_thumbprint(csr->key, thumb);

    if (rc != CAIRN_OK)
        return problem_set(p, PROB_BAD_CSR, "CSR key cannot be used");
    rc = store_account_get_by_thumbprint(c->app->st, thumb, &a);
    store_account_cleanup(&a);
    if (rc == CAIRN_OK)
        return problem_set(p, PROB_BAD_CSR, "the CSR key is an account key");
    return rc == CAIRN_ERR_NOTFOUND ? CAIRN_OK : rc;
}

static int
decode_csr(const json_t *payload, uint8_t **der, size_t *len, struct problem *p)
{
    const json_t *v = json_object_get(payload, "csr");

    if (!json_is_string(v))
        return problem_set(p, PROB_MALFORMED, "payload: csr must be a base64url string");
    if (json_string_length(v) > (CAIRN_MAX_CSR_DER / 3 + 1) * 4 ||
        b64url_decode(json_string_value(v), json_string_length(v), der, len) != CAIRN_OK)
        return problem_set(p, PROB_MALFORMED, "payload: csr is not base64url DER");
    return CAIRN_OK;
}

static int
issue(struct acme_ctx *c, struct st_order *o, struct csr *csr)
{
    uint8_t serial[SERIAL_BYTES], *der = NULL;
    size_t der_len = 0;
    struct ca_leaf_req req = { 0 };
    const struct config_profile *prof = proto_order_profile(c->app, o->profile);
    int rc;

    rc = new_serial(serial, o->cert_serial);
    if (rc != CAIRN_OK)
        return rc;
    rc = store_order_finalize_begin(c->app->st, o->id, c->acct.id, o->cert_serial, c->now);
    if (rc != CAIRN_OK)
        return rc;
    req.serial = serial;
    req.serial_len = sizeof(serial);
    req.pubkey = csr->key;
    req.idents = o->idents;
    req.nidents = o->nidents;
    req.not_before = o->not_before ? o->not_before : c->now - BACKDATE;
    req.not_after = o->not_after ? o->not_after : req.not_before + prof->validity - 1;
    req.promote_cn = prof->promote_cn;
    req.crl_url = c->app->crl_url;
    req.ca_issuers_url = c->app->ca_issuers_url;
    rc = ca_issue_leaf(c->app->ca, &req, &der, &der_len);
    if (rc != CAIRN_OK) {
        log_err("acme", "req=%s signing order %s failed (rc %d)", c->req_id, o->id, rc);
        if (store_order_finalize_fail(
                c->app->st, o->id,
                "{\"type\":\"urn:ietf:params:acme:error:serverInternal\","
                "\"detail\":\"issuance failed\",\"status\":500}") != CAIRN_OK)
            log_err("acme", "req=%s order %s left processing", c->req_id, o->id);
        return rc;
    }
    rc = store_order_finalize_complete(c->app->st, o->id, o->cert_serial, der, der_len,
                                       req.not_after, c->now);
    free(der);
    if (rc == CAIRN_OK) {
        log_info("acme", "req=%s order %s valid, certificate %s", c->req_id, o->id,
                 o->cert_serial);
        metrics_cert_issued();
        for (size_t i = 0; i < o->nidents; i++)
            ratelimit_record(RL_CERTS_PER_NAME, o->idents[i].value, c->now);
    }
    return rc;
}

/* The method that validated an authorization ("" when none is recorded). */
static const char *
solved_by(const struct st_authz *az)
{
    for (size_t i = 0; i < az->nchall; i++)
        if (az->chall[i].status == CHALL_VALID)
            return chall_type_name(az->chall[i].type);
    return "";
}

/* PROTOCOL.md §1 finalize: with CAA on, each authorization validated longer ago than
 * caaRecheckAge is checked again; refusals make the order invalid, answered 403 caa with one
 * subproblem per refused name (a failed lookup refuses too: fail closed). */
static int
caa_recheck(struct acme_ctx *c, const struct st_order *o, struct problem *p)
{
    char acct[CAIRN_URL_MAX], *err;
    bool on = true;
    int rc = CAIRN_OK;

    if (!c->app->cfg->va_caa)
        return CAIRN_OK;
    if (render_url(acct, sizeof(acct), c->base, CAIRN_PATH_ACCT, c->acct.id, NULL) != 0)
        return problem_set(p, PROB_SERVER_INTERNAL, "account URL too long");
    for (size_t i = 0; i < o->nauthz && rc == CAIRN_OK && on; i++) {
        struct st_authz az = { 0 };
        struct problem one;

        problem_init(&one);
        rc = store_authz_get(c->app->st, o->authz_ids[i], c->acct.id, c->now, &az);
        if (rc == CAIRN_OK && az.validated_at <= c->now - c->app->cfg->caa_recheck_age) {
            int r = va_caa_recheck(c->app->va, &az.ident, acct, solved_by(&az), &on, &one);

            if (r == CAIRN_ERR_PROTO)
                rc = problem_add_sub(p, one.type, ident_type_name(az.ident.type),
                                     az.ident.value, "%s", one.detail);
            else
                rc = r;
        }
        problem_cleanup(&one);
        store_authz_cleanup(&az);
    }
    if (rc != CAIRN_OK || p->nsub == 0)
        return rc;
    problem_from_subs(p, "CAA records forbid issuance; see subproblems");
    p->type = PROB_CAA;
    p->status = 403;
    err = problem_render_text(p);
    if (err == NULL || store_order_fail_ready(c->app->st, o->id, err) != CAIRN_OK)
        log_warn("acme", "req=%s order %s: CAA refused but the order stayed ready", c->req_id,
                 o->id);
    free(err);
    return CAIRN_ERR_PROTO;
}

/* Loses the race, or the order is no longer ready: orderNotReady (D12), the state unchanged
 * unless an authorization had stopped being valid. */
static int
not_ready(struct acme_ctx *c, struct problem *p)
{
    struct st_order o = { 0 };
    int rc = store_order_get(c->app->st, c->arg, c->acct.id, c->now, &o);

    if (rc == CAIRN_OK)
        rc = problem_set(p, PROB_ORDER_NOT_READY, "order is %s, not ready",
                         order_status_name(o.status));
    store_order_cleanup(&o);
    return ep_store_rc(rc, p);
}

int
ep_finalize(struct acme_ctx *c, struct reply *r, struct problem *p)
{
    const struct key_policy pol = { .allow_p521 = false, .allow_ed25519 = false };
    struct st_order o = { 0 };
    struct csr csr = { 0 };
    uint8_t *der = NULL;
    size_t der_len = 0;
    int rc = store_order_get(c->app->st, c->arg, c->acct.id, c->now, &o);

    if (rc != CAIRN_OK)
        goto out;
    if (o.status != ORDER_READY) {
        rc = problem_set(p, PROB_ORDER_NOT_READY, "order is %s, not ready",
                         order_status_name(o.status));
        goto out;
    }
    rc = decode_csr(c->payload, &der, &der_len, p);
    if (rc == CAIRN_OK)
        rc = csr_check(der, der_len, o.idents, o.nidents, &pol, &csr, p);
    if (rc == CAIRN_OK)
        rc = check_not_account_key(c, &csr, p);
    if (rc == CAIRN_OK)
        rc = ep_check_key_not_blocked(c, csr.key, PROB_BAD_CSR, p);
    if (rc == CAIRN_OK)
        rc = caa_recheck(c, &o, p);
    if (rc == CAIRN_OK)
        rc = issue(c, &o, &csr);
    if (rc == CAIRN_ERR_CONFLICT)
        rc = not_ready(c, p);
    store_order_cleanup(&o);
    if (rc == CAIRN_OK)
        rc = store_order_get(c->app->st, c->arg, c->acct.id, c->now, &o);
    if (rc == CAIRN_OK) {
        if (o.status == ORDER_PROCESSING)
            r->retry_after = c->app->cfg->retry_after_order;
        rc = render_url(r->location, sizeof(r->location), c->base, CAIRN_PATH_ORDER, o.id,
                        NULL);
    }
    if (rc == CAIRN_OK)
        rc = ep_reply_json(r, 200, render_order(c->base, &o));
out:
    free(der);
    csr_cleanup(&csr);
    store_order_cleanup(&o);
    return ep_store_rc(rc, p);
}
