/* jwk.c - JWK <-> EVP_PKEY (RFC 7517, RFC 7518 §6) and RFC 7638 thumbprints. */
#include "cairn/jws.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "cairn/b64url.h"
#include "cairn/keypolicy.h"

/* RFC 7518 §6.2.2 and §6.3.2 private members, plus "k" of symmetric keys. */
static const char *const jwk_private_members[] = { "d", "p", "q", "dp", "dq", "qi", "oth", "k" };

/* Upper bound on an RSA modulus we even try to build; the key policy stops at 4096 bits. */
#define JWK_MAX_RSA_N 1024
#define JWK_MAX_RSA_E 8

struct jwk_curve {
    const char *crv;   /* JWK name */
    const char *group; /* OpenSSL group name */
    size_t coord_len;  /* RFC 7518 §6.2.1.2: the full coordinate size */
};

static const struct jwk_curve jwk_curves[] = {
    { "P-256", "prime256v1", 32 },
    { "P-384", "secp384r1", 48 },
    { "P-521", "secp521r1", 66 },
};

#define JWK_ED25519_LEN 32

/* A required string member; missing or not a string is malformed. */
static int
jwk_get_str(const json_t *jwk, const char *name, const char **out, struct problem *p)
{
    const json_t *v = json_object_get(jwk, name);

    if (v == NULL)
        return problem_set(p, PROB_MALFORMED, "JWK member \"%s\" missing", name);
    if (!json_is_string(v))
        return problem_set(p, PROB_MALFORMED, "JWK member \"%s\" is not a string", name);
    *out = json_string_value(v);
    return CAIRN_OK;
}

/* A required member holding non-empty strict base64url; *out is heap memory. */
static int
jwk_get_b64(const json_t *jwk, const char *name, uint8_t **out, size_t *len, struct problem *p)
{
    const char *s = NULL;
    int rc;

    *out = NULL;
    *len = 0;
    rc = jwk_get_str(jwk, name, &s, p);
    if (rc != CAIRN_OK)
        return rc;
    if (*s == '\0')
        return problem_set(p, PROB_MALFORMED, "JWK member \"%s\" is empty", name);
    rc = b64url_decode(s, json_string_length(json_object_get(jwk, name)), out, len);
    if (rc == CAIRN_ERR_INVAL)
        return problem_set(p, PROB_MALFORMED, "JWK member \"%s\" is not base64url", name);
    return rc;
}

/* Builds a public key of the given OpenSSL type from params. */
static EVP_PKEY *
jwk_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *key = NULL;

    if (params == NULL)
        goto out;
    ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        EVP_PKEY_free(key);
        key = NULL;
    }
out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    if (key == NULL)
        ERR_clear_error();
    return key;
}

static int
jwk_import_rsa(const json_t *jwk, EVP_PKEY **out, struct problem *p)
{
    uint8_t *n = NULL, *e = NULL;
    size_t nlen = 0, elen = 0;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    int rc;

    rc = jwk_get_b64(jwk, "n", &n, &nlen, p);
    if (rc == CAIRN_OK)
        rc = jwk_get_b64(jwk, "e", &e, &elen, p);
    if (rc != CAIRN_OK)
        goto out;
    if (nlen > JWK_MAX_RSA_N || elen > JWK_MAX_RSA_E) {
        rc = problem_set(p, PROB_BAD_PUBLIC_KEY, "RSA key too large");
        goto out;
    }
    rc = CAIRN_ERR_CRYPTO;
    bn_n = BN_bin2bn(n, (int)nlen, NULL);
    bn_e = BN_bin2bn(e, (int)elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (bn_n == NULL || bn_e == NULL || bld == NULL ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
        goto out;
    *out = jwk_fromdata("RSA", bld);
    if (*out == NULL)
        rc = problem_set(p, PROB_BAD_PUBLIC_KEY, "RSA key is not usable");
    else
        rc = CAIRN_OK;
out:
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    free(n);
    free(e);
    return rc;
}

static const struct jwk_curve *
jwk_curve_by_crv(const char *crv)
{
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(jwk_curves); i++)
        if (strcmp(jwk_curves[i].crv, crv) == 0)
            return &jwk_curves[i];
    return NULL;
}

static const struct jwk_curve *
jwk_curve_by_group(const char *group)
{
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(jwk_curves); i++)
        if (strcmp(jwk_curves[i].group, group) == 0)
            return &jwk_curves[i];
    return NULL;
}

static int
jwk_import_ec(const json_t *jwk, EVP_PKEY **out, struct problem *p)
{
    const struct jwk_curve *c;
    const char *crv = NULL;
    uint8_t *x = NULL, *y = NULL, point[1 + 2 * 66];
    size_t xlen = 0, ylen = 0;
    int rc;

    rc = jwk_get_str(jwk, "crv", &crv, p);
    if (rc != CAIRN_OK)
        return rc;
    rc = jwk_get_b64(jwk, "x", &x, &xlen, p);
    if (rc == CAIRN_OK)
        rc = jwk_get_b64(jwk, "y", &y, &ylen, p);
    if (rc != CAIRN_OK)
        goto out;
    c = jwk_curve_by_crv(crv);
    if (c == NULL) {
        rc = problem_set(p, PROB_BAD_PUBLIC_KEY, "EC curve is not accepted");
        goto out;
    }
    if (xlen != c->coord_len || ylen != c->coord_len) {
        rc = problem_set(p, PROB_BAD_PUBLIC_KEY, "%s coordinates must be %zu bytes", c->crv,
                         c->coord_len);
        goto out;
    }
    /* SEC 1 §2.3.3 uncompressed point: 0x04 || x || y */
    point[0] = 0x04;
    memcpy(point + 1, x, xlen);
    memcpy(point + 1 + xlen, y, ylen);
    /* OpenSSL refuses coordinates outside the field and points off the curve here. */
    *out = key_ec_from_point(c->group, point, 1 + xlen + ylen);
    if (*out == NULL)
        rc = problem_set(p, PROB_BAD_PUBLIC_KEY, "EC point is not on the %s curve", c->crv);
    else
        rc = CAIRN_OK;
out:
    free(x);
    free(y);
    return rc;
}

static int
jwk_import_okp(const json_t *jwk, EVP_PKEY **out, struct problem *p)
{
    const char *crv = NULL;
    uint8_t *x = NULL;
    size_t xlen = 0;
    OSSL_PARAM_BLD *bld = NULL;
    int rc;

    rc = jwk_get_str(jwk, "crv", &crv, p);
    if (rc == CAIRN_OK)
        rc = jwk_get_b64(jwk, "x", &x, &xlen, p);
    if (rc != CAIRN_OK)
        goto out;
    /* RFC 8037: Ed448, X25519 and X448 exist, but only Ed25519 is accepted. */
    if (strcmp(crv, "Ed25519") != 0) {
        rc = problem_set(p, PROB_BAD_PUBLIC_KEY, "OKP curve is not accepted");
        goto out;
    }
    if (xlen != JWK_ED25519_LEN) {
        rc = problem_set(p, PROB_BAD_PUBLIC_KEY, "Ed25519 key must be %d bytes",
                         JWK_ED25519_LEN);
        goto out;
    }
    rc = CAIRN_ERR_CRYPTO;
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL || !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, x, xlen))
        goto out;
    *out = jwk_fromdata("ED25519", bld);
    if (*out == NULL)
        rc = problem_set(p, PROB_BAD_PUBLIC_KEY, "Ed25519 key is not usable");
    else
        rc = CAIRN_OK;
out:
    OSSL_PARAM_BLD_free(bld);
    free(x);
    return rc;
}

int
jwk_import(const json_t *jwk, EVP_PKEY **out, struct problem *p)
{
    static const struct key_policy account_policy = { .allow_p521 = true,
                                                      .allow_ed25519 = true };
    const char *kty = NULL;
    EVP_PKEY *key = NULL;
    int rc;

    *out = NULL;
    if (!json_is_object(jwk))
        return problem_set(p, PROB_MALFORMED, "JWK is not a JSON object");
    /* Private members are refused before anything else, and never echoed or logged. */
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(jwk_private_members); i++)
        if (json_object_get(jwk, jwk_private_members[i]) != NULL)
            return problem_set(p, PROB_MALFORMED, "JWK contains private member \"%s\"",
                               jwk_private_members[i]);
    rc = jwk_get_str(jwk, "kty", &kty, p);
    if (rc != CAIRN_OK)
        return rc;
    if (strcmp(kty, "RSA") == 0)
        rc = jwk_import_rsa(jwk, &key, p);
    else if (strcmp(kty, "EC") == 0)
        rc = jwk_import_ec(jwk, &key, p);
    else if (strcmp(kty, "OKP") == 0)
        rc = jwk_import_okp(jwk, &key, p);
    else
        return problem_set(p, PROB_BAD_PUBLIC_KEY, "JWK key type is not accepted");
    if (rc == CAIRN_OK)
        rc = key_policy_check(key, &account_policy, PROB_BAD_PUBLIC_KEY, p);
    if (rc != CAIRN_OK) {
        EVP_PKEY_free(key);
        ERR_clear_error();
        return rc;
    }
    *out = key;
    return CAIRN_OK;
}

/* Sets obj[name] to the base64url of a BIGNUM parameter, left-padded to pad bytes (0: the
 * minimal big-endian form, RFC 7518 §6.3.1). */
static int
jwk_set_bn(json_t *obj, const char *name, const EVP_PKEY *key, const char *param, size_t pad)
{
    BIGNUM *bn = NULL;
    uint8_t *buf = NULL;
    char *s = NULL;
    size_t len;
    int rc = -1;

    if (!EVP_PKEY_get_bn_param(key, param, &bn))
        goto out;
    len = pad ? pad : (size_t)BN_num_bytes(bn);
    if (len == 0 || (size_t)BN_num_bytes(bn) > len)
        goto out;
    buf = malloc(len);
    if (buf == NULL || BN_bn2binpad(bn, buf, (int)len) != (int)len)
        goto out;
    s = b64url_encode_alloc(buf, len);
    if (s != NULL)
        rc = json_object_set_new(obj, name, json_string(s));
out:
    free(s);
    free(buf);
    BN_free(bn);
    return rc;
}

static int
jwk_export_ec(json_t *obj, const EVP_PKEY *key)
{
    const struct jwk_curve *c;
    char group[64];
    size_t len = 0;

    if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                        &len))
        return -1;
    c = jwk_curve_by_group(group);
    if (c == NULL)
        return -1;
    if (json_object_set_new(obj, "crv", json_string(c->crv)) != 0 ||
        json_object_set_new(obj, "kty", json_string("EC")) != 0 ||
        jwk_set_bn(obj, "x", key, OSSL_PKEY_PARAM_EC_PUB_X, c->coord_len) != 0 ||
        jwk_set_bn(obj, "y", key, OSSL_PKEY_PARAM_EC_PUB_Y, c->coord_len) != 0)
        return -1;
    return 0;
}

static int
jwk_export_ed25519(json_t *obj, const EVP_PKEY *key)
{
    uint8_t raw[JWK_ED25519_LEN];
    size_t len = sizeof(raw);
    char s[64];

    if (!EVP_PKEY_get_raw_public_key(key, raw, &len) || len != sizeof(raw) ||
        b64url_encode(raw, len, s, sizeof(s)) != CAIRN_OK)
        return -1;
    if (json_object_set_new(obj, "crv", json_string("Ed25519")) != 0 ||
        json_object_set_new(obj, "kty", json_string("OKP")) != 0 ||
        json_object_set_new(obj, "x", json_string(s)) != 0)
        return -1;
    return 0;
}

json_t *
jwk_export(const EVP_PKEY *key)
{
    json_t *obj;
    int rc;

    if (key == NULL)
        return NULL;
    obj = json_object();
    if (obj == NULL)
        return NULL;
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
        rc = jwk_set_bn(obj, "e", key, OSSL_PKEY_PARAM_RSA_E, 0);
        if (rc == 0)
            rc = json_object_set_new(obj, "kty", json_string("RSA"));
        if (rc == 0)
            rc = jwk_set_bn(obj, "n", key, OSSL_PKEY_PARAM_RSA_N, 0);
        break;
    case EVP_PKEY_EC:
        rc = jwk_export_ec(obj, key);
        break;
    case EVP_PKEY_ED25519:
        rc = jwk_export_ed25519(obj, key);
        break;
    default:
        rc = -1;
        break;
    }
    if (rc != 0) {
        json_decref(obj);
        ERR_clear_error();
        return NULL;
    }
    return obj;
}

int
jwk_thumbprint(const EVP_PKEY *key, char out[CAIRN_THUMBPRINT_LEN + 1])
{
    uint8_t md[32];
    unsigned int mdlen = 0;
    json_t *jwk;
    char *text = NULL;
    int rc = CAIRN_ERR_CRYPTO;

    out[0] = '\0';
    jwk = jwk_export(key);
    if (jwk == NULL)
        return CAIRN_ERR_CRYPTO;
    /* RFC 7638 §3.3: required members only, sorted by name, no whitespace. Every value is
     * a fixed name or base64url, so jansson's escaping never changes the text. */
    text = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL) {
        rc = CAIRN_ERR_NOMEM;
        goto out;
    }
    if (!EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL) ||
        mdlen != sizeof(md)) {
        ERR_clear_error();
        goto out;
    }
    rc = b64url_encode(md, sizeof(md), out, CAIRN_THUMBPRINT_LEN + 1);
out:
    free(text);
    json_decref(jwk);
    return rc;
}
