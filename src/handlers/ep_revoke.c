#include <stdlib.h>
#include <string.h>

#include "cairn/b64url.h"
#include "cairn/ca.h"
#include "cairn/crl.h"
#include "cairn/keypolicy.h"
#include "cairn/limits.h"
#include "cairn/log.h"
#include "handlers/common.h"

/* Reasons Let's Encrypt accepts (PROTOCOL.md §1; Pebble accepts more). */
static bool
reason_ok(json_int_t r)
{
    return r == 0 || r == 1 || r == 3 || r == 4 || r == 5;
}

static int
parse_reason(const json_t *pl, int *reason, struct problem *p)
{
    const json_t *v = json_object_get(pl, "reason");

    /* absent: none recorded (-1), so cert-status-by-serial omits Reason as Pebble does; the
     * CRL entry has no reasonCode either way, as for 0 (unspecified) */
    *reason = -1;
    if (v == NULL)
        return CAIRN_OK;
    if (!json_is_integer(v))
        return problem_set(p, PROB_MALFORMED, "payload: reason must be an integer");
    if (!reason_ok(json_integer_value(v)))
        return problem_set(p, PROB_BAD_REVOCATION_REASON,
                           "reason %lld is not one of 0, 1, 3, 4, 5",
                           (long long)json_integer_value(v));
    *reason = (int)json_integer_value(v);
    return CAIRN_OK;
}

/* The stored certificate identical to der and issued by us, or a 404. */
static int
find_cert(struct acme_ctx *c, const uint8_t *der, size_t len, struct st_cert *out,
          struct problem *p)
{
    char serial[CAIRN_SERIAL_HEX_MAX + 1];
    int rc = ca_cert_serial_if_ours(c->app->ca, der, len, serial);

    if (rc == CAIRN_ERR_INVAL)
        return problem_set(p, PROB_MALFORMED, "payload: certificate is not one DER certificate");
    if (rc != CAIRN_OK)
        return ep_not_found(p);
    rc = store_cert_get(c->app->st, serial, NULL, out);
    if (rc != CAIRN_OK)
        return ep_store_rc(rc, p);
    if (out->der == NULL || out->der_len != len || memcmp(out->der, der, len) != 0)
        return ep_not_found(p);
    return CAIRN_OK;
}

/* RFC 8555 §7.6: an account holding valid authorizations for every name of the
 * certificate (the issuing order's identifiers, which the certificate's SANs equal). */
static int
holds_all_names(struct acme_ctx *c, const struct st_cert *cert, bool *holds)
{
    struct st_order o = { 0 };
    int rc = store_order_get(c->app->st, cert->order_id, NULL, c->now, &o);

    if (rc == CAIRN_OK)
        rc = store_account_holds_authz(c->app->st, c->acct.id, o.idents, o.nidents, c->now,
                                       holds);
    store_order_cleanup(&o);
    return rc;
}

/* RFC 8555 §7.6: the issuing account (kid), an account authorized for all names (kid;
 * *by_authz set), or the certificate's key (jwk). */
static int
check_right(struct acme_ctx *c, const struct st_cert *cert, bool *by_authz, struct problem *p)
{
    EVP_PKEY *certkey;
    bool same, holds = false;
    int rc;

    *by_authz = false;
    if (c->has_acct) {
        if (strcmp(cert->account_id, c->acct.id) == 0)
            return CAIRN_OK;
        rc = holds_all_names(c, cert, &holds);
        if (rc != CAIRN_OK)
            return rc;
        *by_authz = holds;
        if (holds)
            return CAIRN_OK;
        return problem_set(p, PROB_UNAUTHORIZED,
                           "this account may not revoke the certificate");
    }
    certkey = ca_cert_pubkey(cert->der, cert->der_len);
    same = certkey != NULL && EVP_PKEY_eq(certkey, c->key) == 1;
    EVP_PKEY_free(certkey);
    if (!same)
        return problem_set(p, PROB_UNAUTHORIZED, "the JWS key is not the certificate's key");
    return CAIRN_OK;
}

int
ep_revoke(struct acme_ctx *c, struct reply *r, struct problem *p)
{
    const json_t *v = json_object_get(c->payload, "certificate");
    struct st_cert cert = { 0 };
    uint8_t *der = NULL;
    size_t len = 0;
    char spki[65];
    bool by_authz = false;
    int reason = -1, rc;

    if (!json_is_string(v) || json_string_length(v) > (CAIRN_MAX_CERT_DER / 3 + 1) * 4 ||
        b64url_decode(json_string_value(v), json_string_length(v), &der, &len) != CAIRN_OK)
        return problem_set(p, PROB_MALFORMED, "payload: certificate must be base64url DER");
    rc = find_cert(c, der, len, &cert, p);
    if (rc == CAIRN_OK && cert.not_after < c->now)
        rc = problem_set(p, PROB_UNAUTHORIZED, "the certificate has expired");
    if (rc == CAIRN_OK)
        rc = check_right(c, &cert, &by_authz, p);
    /* D15: authorization first, so revocation state is not leaked */
    if (rc == CAIRN_OK && cert.status == CERT_REVOKED)
        rc = problem_set(p, PROB_ALREADY_REVOKED, "the certificate is already revoked");
    if (rc == CAIRN_OK)
        rc = parse_reason(c->payload, &reason, p);
    if (rc == CAIRN_OK && !c->has_acct)
        reason = 1; /* revoked with the certificate key: keyCompromise */
    if (rc == CAIRN_OK && by_authz)
        reason = 5; /* PROTOCOL.md §1: by another authorized account, cessationOfOperation */
    if (rc == CAIRN_OK && !c->has_acct)
        rc = key_spki_sha256_hex(c->key, spki);
    if (rc == CAIRN_OK) {
        rc = store_cert_revoke(c->app->st, cert.serial, reason, c->now,
                               c->has_acct ? NULL : spki);
        if (rc == CAIRN_ERR_CONFLICT)
            rc = problem_set(p, PROB_ALREADY_REVOKED, "the certificate is already revoked");
    }
    if (rc == CAIRN_OK) {
        log_info("acme", "req=%s certificate %s revoked, reason %d", c->req_id, cert.serial,
                 reason);
        if (c->app->crl != NULL && crl_cache_refresh(c->app->crl, c->now) != CAIRN_OK)
            log_warn("acme", "req=%s CRL not regenerated; the schedule will retry", c->req_id);
        r->status = 200;
    }
    free(der);
    store_cert_cleanup(&cert);
    return rc;
}
