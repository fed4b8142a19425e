/* jws.c - the flattened JWS envelope and its header rules (PROTOCOL.md §2 rules 3-9, 12, 13). */
#include "cairn/jws.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>

#include "cairn/b64url.h"
#include "cairn/jsonutil.h"
#include "cairn/limits.h"

static const char *const jws_alg_names[JWS_ALG__MAX] = {
    [JWS_ALG_RS256] = "RS256", [JWS_ALG_ES256] = "ES256", [JWS_ALG_ES384] = "ES384",
    [JWS_ALG_ES512] = "ES512", [JWS_ALG_EDDSA] = "EdDSA",
};

/* Header names whose case variants are refused (rule 5): RFC 7515 §4.1, RFC 7797 (b64) and
 * RFC 8555 §6.4-6.5 (url, nonce). A client writing "URL" or "Nonce" is confused or probing;
 * either way, other implementations might read the variant, so cairn refuses it. */
static const char *const jws_known_names[] = {
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit",
    "b64", "nonce", "url",
};

/* Byte length of the fixed-size ECDSA signature (R || S) for alg, 0 when not ECDSA. */
static size_t
jws_ecdsa_sig_len(enum jws_alg alg)
{
    switch (alg) {
    case JWS_ALG_ES256:
        return 64;
    case JWS_ALG_ES384:
        return 96;
    case JWS_ALG_ES512:
        return 132;
    default:
        return 0;
    }
}

const char *
jws_alg_name(enum jws_alg alg)
{
    if ((unsigned)alg >= JWS_ALG__MAX)
        return "unknown";
    return jws_alg_names[alg];
}

json_t *
jws_algorithms_json(void)
{
    json_t *arr = json_array();

    if (arr == NULL)
        return NULL;
    for (size_t i = 0; i < JWS_ALG__MAX; i++) {
        if (json_array_append_new(arr, json_string(jws_alg_names[i])) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

void
jws_cleanup(struct jws *j)
{
    if (j == NULL)
        return;
    json_decref(j->header);
    free(j->payload);
    free(j->signing_input);
    free(j->sig);
    memset(j, 0, sizeof(*j));
}

/* Rule 3: exactly the members protected, payload and signature, all strings. */
static int
jws_check_shape(const json_t *obj, const json_t **prot, const json_t **payload,
                const json_t **sig, struct problem *p)
{
    const char *name;
    const json_t *v;

    if (!json_is_object(obj))
        return problem_set(p, PROB_MALFORMED, "JWS is not a JSON object");
    /* json_object_foreach wants a non-const object; it only reads. */
    json_object_foreach((json_t *)obj, name, v) {
        (void)v;
        if (strcmp(name, "header") == 0)
            return problem_set(p, PROB_MALFORMED, "JWS unprotected header is not allowed");
        if (strcmp(name, "signatures") == 0)
            return problem_set(p, PROB_MALFORMED,
                               "JWS general serialization is not allowed; use flattened");
        if (strcmp(name, "protected") != 0 && strcmp(name, "payload") != 0 &&
            strcmp(name, "signature") != 0)
            return problem_set(p, PROB_MALFORMED, "JWS has an unexpected member \"%.32s\"",
                               name);
    }
    *prot = json_object_get(obj, "protected");
    *payload = json_object_get(obj, "payload");
    *sig = json_object_get(obj, "signature");
    if (!json_is_string(*prot))
        return problem_set(p, PROB_MALFORMED, "JWS \"protected\" must be a string");
    if (!json_is_string(*payload))
        return problem_set(p, PROB_MALFORMED, "JWS \"payload\" must be a string");
    /* an empty signature is refused after the alg check; see jws_parse_rules() */
    if (!json_is_string(*sig))
        return problem_set(p, PROB_MALFORMED, "JWS \"signature\" must be a string");
    return CAIRN_OK;
}

static int
jws_decode_one(const json_t *s, const char *what, uint8_t **out, size_t *len, struct problem *p)
{
    int rc = b64url_decode(json_string_value(s), json_string_length(s), out, len);

    if (rc == CAIRN_ERR_INVAL)
        return problem_set(p, PROB_MALFORMED, "JWS \"%s\" is not strict base64url", what);
    return rc;
}

/* Rule 4 plus the signing input "<protected>.<payload>" exactly as sent (RFC 7515 §5.2). */
static int
jws_decode_parts(struct jws *j, const json_t *prot, const json_t *payload, const json_t *sig,
                 uint8_t **hdr, size_t *hdr_len, struct problem *p)
{
    size_t plen = json_string_length(prot), ylen = json_string_length(payload), total;
    int rc;

    rc = jws_decode_one(prot, "protected", hdr, hdr_len, p);
    if (rc == CAIRN_OK)
        rc = jws_decode_one(payload, "payload", &j->payload, &j->payload_len, p);
    if (rc == CAIRN_OK)
        rc = jws_decode_one(sig, "signature", &j->sig, &j->sig_len, p);
    if (rc != CAIRN_OK)
        return rc;
    if (size_add(plen, ylen, &total) != 0 || size_add(total, 2, &total) != 0)
        return CAIRN_ERR_NOMEM;
    j->signing_input = malloc(total);
    if (j->signing_input == NULL)
        return CAIRN_ERR_NOMEM;
    memcpy(j->signing_input, json_string_value(prot), plen);
    j->signing_input[plen] = '.';
    memcpy(j->signing_input + plen + 1, json_string_value(payload), ylen);
    j->signing_input[plen + 1 + ylen] = '\0';
    j->signing_input_len = plen + 1 + ylen;
    return CAIRN_OK;
}

/* Rule 5 (second half): no case variant of a known header name. */
static int
jws_check_names(const json_t *hdr, struct problem *p)
{
    const char *name;
    const json_t *v;

    json_object_foreach((json_t *)hdr, name, v) {
        (void)v;
        for (size_t i = 0; i < CAIRN_ARRAY_LEN(jws_known_names); i++) {
            if (strcasecmp(name, jws_known_names[i]) == 0 &&
                strcmp(name, jws_known_names[i]) != 0)
                return problem_set(p, PROB_MALFORMED,
                                   "protected header name \"%s\" must be written \"%s\"",
                                   jws_known_names[i], jws_known_names[i]);
        }
    }
    return CAIRN_OK;
}

/* Rule 6. */
static int
jws_check_alg(struct jws *j, struct problem *p)
{
    const json_t *alg = json_object_get(j->header, "alg");

    if (alg == NULL)
        return problem_set(p, PROB_MALFORMED, "protected header has no \"alg\"");
    if (!json_is_string(alg))
        return problem_set(p, PROB_MALFORMED, "protected header \"alg\" is not a string");
    for (size_t i = 0; i < JWS_ALG__MAX; i++) {
        /* exact case: "es256" is a different (unsupported) algorithm */
        if (strcmp(json_string_value(alg), jws_alg_names[i]) == 0) {
            j->alg = (enum jws_alg)i;
            return CAIRN_OK;
        }
    }
    return problem_set(p, PROB_BAD_SIGNATURE_ALGORITHM,
                       "signature algorithm is not supported; use RS256, ES256, ES384, ES512 "
                       "or EdDSA");
}

/* Rule 7. */
static int
jws_check_key_ref(struct jws *j, enum jws_kind kind, struct problem *p)
{
    const json_t *jwk = json_object_get(j->header, "jwk");
    const json_t *kid = json_object_get(j->header, "kid");

    if (jwk != NULL && kid != NULL)
        return problem_set(p, PROB_MALFORMED, "protected header has both \"jwk\" and \"kid\"");
    if (kind == JWS_INNER && kid != NULL)
        return problem_set(p, PROB_MALFORMED, "inner JWS must use \"jwk\", not \"kid\"");
    if (jwk == NULL && kid == NULL)
        return problem_set(p, PROB_MALFORMED, "protected header needs \"jwk\" or \"kid\"");
    if (jwk != NULL) {
        if (!json_is_object(jwk))
            return problem_set(p, PROB_MALFORMED, "protected header \"jwk\" is not an object");
        j->jwk = jwk;
        return CAIRN_OK;
    }
    if (!json_is_string(kid) || json_string_length(kid) == 0 ||
        json_string_length(kid) > CAIRN_MAX_KID_LEN)
        return problem_set(p, PROB_MALFORMED, "protected header \"kid\" must be a string of "
                                              "1 to %d characters", CAIRN_MAX_KID_LEN);
    j->kid = json_string_value(kid);
    return CAIRN_OK;
}

/* Rule 8. The nonce must be a base64url-encoded octet string (RFC 8555 §6.5.1); whether it
 * is one of ours is rule 15, checked by the caller after the signature. */
static int
jws_check_nonce(struct jws *j, enum jws_kind kind, struct problem *p)
{
    const json_t *nonce = json_object_get(j->header, "nonce");
    size_t len;

    if (kind == JWS_INNER) {
        if (nonce != NULL) /* RFC 8555 §7.3.5: the inner JWS MUST omit nonce (D13) */
            return problem_set(p, PROB_MALFORMED, "inner JWS must not have a \"nonce\"");
        return CAIRN_OK;
    }
    if (nonce == NULL)
        return problem_set(p, PROB_BAD_NONCE, "JWS has no anti-replay nonce");
    if (!json_is_string(nonce))
        return problem_set(p, PROB_MALFORMED, "protected header \"nonce\" is not a string");
    len = json_string_length(nonce);
    if (len == 0 || len > CAIRN_MAX_NONCE_LEN ||
        !b64url_is_valid(json_string_value(nonce), len))
        return problem_set(p, PROB_MALFORMED, "protected header \"nonce\" must be 1 to %d "
                                              "base64url characters", CAIRN_MAX_NONCE_LEN);
    j->nonce = json_string_value(nonce);
    return CAIRN_OK;
}

/* Rule 9. */
static int
jws_check_url(struct jws *j, struct problem *p)
{
    const json_t *url = json_object_get(j->header, "url");

    if (url == NULL)
        return problem_set(p, PROB_MALFORMED, "protected header has no \"url\"");
    if (!json_is_string(url) || json_string_length(url) == 0 ||
        json_string_length(url) > CAIRN_MAX_URL_LEN)
        return problem_set(p, PROB_MALFORMED, "protected header \"url\" must be a string of "
                                              "1 to %d characters", CAIRN_MAX_URL_LEN);
    /* RFC 7515 §4.1.11 / RFC 7797: no extension cairn understands may be made critical, and
     * an unencoded payload is never acceptable in ACME (RFC 8555 §6.2). */
    if (json_object_get(j->header, "crit") != NULL)
        return problem_set(p, PROB_MALFORMED, "protected header \"crit\" is not supported");
    if (json_object_get(j->header, "b64") != NULL)
        return problem_set(p, PROB_MALFORMED, "protected header \"b64\" is not allowed");
    j->url = json_string_value(url);
    return CAIRN_OK;
}

/* Rules 3-9 on an already parsed object; out must be zeroed. */
static int
jws_parse_rules(const json_t *obj, enum jws_kind kind, struct jws *out, struct problem *p)
{
    const json_t *prot = NULL, *payload = NULL, *sig = NULL;
    uint8_t *hdr = NULL;
    size_t hdr_len = 0;
    int rc;

    rc = jws_check_shape(obj, &prot, &payload, &sig, p);
    if (rc != CAIRN_OK)
        return rc;
    rc = jws_decode_parts(out, prot, payload, sig, &hdr, &hdr_len, p);
    if (rc == CAIRN_OK)
        rc = json_load_object((const char *)hdr, hdr_len, "protected header", &out->header, p);
    free(hdr);
    if (rc == CAIRN_OK)
        rc = jws_check_names(out->header, p);
    if (rc == CAIRN_OK)
        rc = jws_check_alg(out, p);
    /* Rule 3's non-empty signature, checked only now so that an unsigned alg "none" JWS
     * (RFC 7515 §A.5: empty signature) is answered badSignatureAlgorithm, as case J09
     * demands; every other empty signature stays malformed. */
    if (rc == CAIRN_OK && out->sig_len == 0)
        rc = problem_set(p, PROB_MALFORMED, "JWS \"signature\" must not be empty");
    if (rc == CAIRN_OK)
        rc = jws_check_key_ref(out, kind, p);
    if (rc == CAIRN_OK)
        rc = jws_check_nonce(out, kind, p);
    if (rc == CAIRN_OK)
        rc = jws_check_url(out, p);
    return rc;
}

int
jws_parse_json(const json_t *obj, enum jws_kind kind, struct jws *out, struct problem *p)
{
    int rc;

    memset(out, 0, sizeof(*out));
    rc = jws_parse_rules(obj, kind, out, p);
    if (rc != CAIRN_OK)
        jws_cleanup(out);
    return rc;
}

int
jws_parse(const char *body, size_t len, enum jws_kind kind, struct jws *out, struct problem *p)
{
    json_t *obj = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = json_load_object(body, len, "JWS", &obj, p);
    if (rc != CAIRN_OK)
        return rc;
    rc = jws_parse_json(obj, kind, out, p);
    json_decref(obj);
    return rc;
}

/* The OpenSSL group name an ECDSA alg requires, NULL for other algs. */
static const char *
jws_alg_group(enum jws_alg alg)
{
    switch (alg) {
    case JWS_ALG_ES256:
        return "prime256v1";
    case JWS_ALG_ES384:
        return "secp384r1";
    case JWS_ALG_ES512:
        return "secp521r1";
    default:
        return NULL;
    }
}

/* RFC 7518 §3.1 and RFC 8037 §3.1: the key type (and curve) each alg needs. */
static bool
jws_key_fits(enum jws_alg alg, const EVP_PKEY *key)
{
    char group[64];
    size_t len = 0;

    switch (alg) {
    case JWS_ALG_RS256:
        return EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA;
    case JWS_ALG_EDDSA:
        return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519;
    case JWS_ALG_ES256:
    case JWS_ALG_ES384:
    case JWS_ALG_ES512:
        if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
            return false;
        if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                            sizeof(group), &len)) {
            ERR_clear_error();
            return false;
        }
        return strcmp(group, jws_alg_group(alg)) == 0;
    default:
        return false;
    }
}

int
jws_check_alg_key(const struct jws *j, const EVP_PKEY *key, struct problem *p)
{
    const json_t *jwk_alg;

    if (key == NULL || !jws_key_fits(j->alg, key))
        return problem_set(p, PROB_BAD_PUBLIC_KEY, "algorithm %s does not fit the account key",
                           jws_alg_name(j->alg));
    if (j->jwk == NULL)
        return CAIRN_OK;
    /* RFC 7517 §4.4: a key restricted to one algorithm must not be used with another. */
    jwk_alg = json_object_get(j->jwk, "alg");
    if (jwk_alg == NULL)
        return CAIRN_OK;
    if (!json_is_string(jwk_alg) || strcmp(json_string_value(jwk_alg), jws_alg_name(j->alg)) != 0)
        return problem_set(p, PROB_BAD_PUBLIC_KEY, "JWK \"alg\" differs from the JWS \"alg\" %s",
                           jws_alg_name(j->alg));
    return CAIRN_OK;
}

/* JWS ECDSA signatures are R || S (RFC 7518 §3.4); OpenSSL verifies DER (SEC 1 ECDSA-Sig). */
static int
jws_ecdsa_to_der(const uint8_t *sig, size_t sig_len, uint8_t **der, size_t *der_len)
{
    size_t half = sig_len / 2;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)half, NULL);
    BIGNUM *s = BN_bin2bn(sig + half, (int)half, NULL);
    unsigned char *buf = NULL;
    int len;

    *der = NULL;
    if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return CAIRN_ERR_CRYPTO;
    }
    len = i2d_ECDSA_SIG(es, &buf); /* es owns r and s now */
    ECDSA_SIG_free(es);
    if (len <= 0)
        return CAIRN_ERR_CRYPTO;
    *der = buf;
    *der_len = (size_t)len;
    return CAIRN_OK;
}

static const EVP_MD *
jws_alg_md(enum jws_alg alg)
{
    switch (alg) {
    case JWS_ALG_RS256:
    case JWS_ALG_ES256:
        return EVP_sha256();
    case JWS_ALG_ES384:
        return EVP_sha384();
    case JWS_ALG_ES512:
        return EVP_sha512();
    default:
        return NULL; /* EdDSA signs the message itself (RFC 8032 pure Ed25519) */
    }
}

/* Signature length rules that OpenSSL would only apply loosely, or not at all. */
static int
jws_check_sig_len(const struct jws *j, const EVP_PKEY *key, struct problem *p)
{
    size_t want = jws_ecdsa_sig_len(j->alg);

    if (j->alg == JWS_ALG_RS256)
        want = (size_t)EVP_PKEY_get_size(key); /* RFC 8017 §8.2.2 step 1: exactly k octets */
    else if (j->alg == JWS_ALG_EDDSA)
        want = 64;
    if (j->sig_len != want)
        return problem_set(p, PROB_MALFORMED, "JWS signature must be %zu bytes for %s", want,
                           jws_alg_name(j->alg));
    return CAIRN_OK;
}

int
jws_verify(const struct jws *j, EVP_PKEY *key, struct problem *p)
{
    EVP_MD_CTX *ctx = NULL;
    uint8_t *der = NULL;
    const uint8_t *sig = j->sig;
    size_t sig_len = j->sig_len;
    int rc;

    /* rule 12 again: an RS256 header must never be verified with, say, an ECDSA key */
    if (key == NULL || !jws_key_fits(j->alg, key))
        return problem_set(p, PROB_BAD_PUBLIC_KEY, "algorithm %s does not fit the account key",
                           jws_alg_name(j->alg));
    rc = jws_check_sig_len(j, key, p);
    if (rc != CAIRN_OK)
        return rc;
    if (jws_ecdsa_sig_len(j->alg) != 0) {
        rc = jws_ecdsa_to_der(j->sig, j->sig_len, &der, &sig_len);
        if (rc != CAIRN_OK)
            goto out;
        sig = der;
    }
    rc = CAIRN_ERR_CRYPTO;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestVerifyInit(ctx, NULL, jws_alg_md(j->alg), NULL, key) != 1)
        goto out;
    if (EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)j->signing_input,
                         j->signing_input_len) == 1)
        rc = CAIRN_OK;
    else
        rc = problem_set(p, PROB_MALFORMED, "JWS signature is invalid");
out:
    if (rc != CAIRN_OK)
        ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return rc;
}
