/* eab.c - External Account Binding verification (RFC 8555 §7.3.4). */
#include "cairn/eab.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include "cairn/b64url.h"
#include "cairn/jsonutil.h"
#include "cairn/jws.h"
#include "cairn/limits.h"

void
eab_cleanup(struct eab *e)
{
    if (e == NULL)
        return;
    json_decref(e->header);
    free(e->payload);
    free(e->signing_input);
    free(e->mac);
    memset(e, 0, sizeof(*e));
}

static int
decode_member(const json_t *obj, const char *name, uint8_t **out, size_t *len,
              struct problem *p)
{
    const json_t *v = json_object_get(obj, name);

    if (!json_is_string(v))
        return problem_set(p, PROB_MALFORMED, "externalAccountBinding: \"%s\" must be a string",
                           name);
    if (b64url_decode(json_string_value(v), json_string_length(v), out, len) != CAIRN_OK)
        return problem_set(p, PROB_MALFORMED,
                           "externalAccountBinding: \"%s\" is not strict base64url", name);
    return CAIRN_OK;
}

/* Exactly the three flattened members (no header, no signatures). */
static int
check_shape(const json_t *b, struct problem *p)
{
    const char *name;
    const json_t *v;

    if (!json_is_object(b))
        return problem_set(p, PROB_MALFORMED, "externalAccountBinding must be a flattened JWS");
    json_object_foreach((json_t *)b, name, v) {
        (void)v;
        if (strcmp(name, "protected") != 0 && strcmp(name, "payload") != 0 &&
            strcmp(name, "signature") != 0)
            return problem_set(p, PROB_MALFORMED,
                               "externalAccountBinding has an unexpected member \"%.32s\"", name);
    }
    return CAIRN_OK;
}

static int
signing_input(const json_t *b, struct eab *e)
{
    const json_t *prot = json_object_get(b, "protected"), *pl = json_object_get(b, "payload");
    size_t plen = json_string_length(prot), ylen = json_string_length(pl), total;

    if (size_add(plen, ylen, &total) != 0 || size_add(total, 2, &total) != 0)
        return CAIRN_ERR_NOMEM;
    e->signing_input = malloc(total);
    if (e->signing_input == NULL)
        return CAIRN_ERR_NOMEM;
    memcpy(e->signing_input, json_string_value(prot), plen);
    e->signing_input[plen] = '.';
    memcpy(e->signing_input + plen + 1, json_string_value(pl), ylen);
    e->signing_input[plen + 1 + ylen] = '\0';
    e->signing_input_len = plen + 1 + ylen;
    return CAIRN_OK;
}

static int
check_header(struct eab *e, const char *outer_url, struct problem *p)
{
    const json_t *alg = json_object_get(e->header, "alg");
    const json_t *kid = json_object_get(e->header, "kid");
    const json_t *url = json_object_get(e->header, "url");
    const char *a = json_string_value(alg);

    if (a != NULL && strcmp(a, "HS256") == 0)
        e->md = EVP_sha256();
    else if (a != NULL && strcmp(a, "HS384") == 0)
        e->md = EVP_sha384();
    else if (a != NULL && strcmp(a, "HS512") == 0)
        e->md = EVP_sha512();
    else
        return problem_set(p, PROB_MALFORMED,
                           "externalAccountBinding: alg must be HS256, HS384 or HS512");
    e->alg = a;
    if (json_object_get(e->header, "nonce") != NULL)
        return problem_set(p, PROB_MALFORMED, "externalAccountBinding must not have a nonce");
    if (json_object_get(e->header, "crit") != NULL)
        return problem_set(p, PROB_MALFORMED, "externalAccountBinding: crit is not supported");
    if (!json_is_string(url) || strcmp(json_string_value(url), outer_url) != 0)
        return problem_set(p, PROB_MALFORMED,
                           "externalAccountBinding: url must equal the outer JWS url");
    if (!json_is_string(kid) || json_string_length(kid) == 0 ||
        json_string_length(kid) > CAIRN_MAX_EAB_KID_LEN)
        return problem_set(p, PROB_MALFORMED,
                           "externalAccountBinding: kid must be a key id of 1 to %d characters",
                           CAIRN_MAX_EAB_KID_LEN);
    e->kid = json_string_value(kid);
    return CAIRN_OK;
}

static int
parse_rules(const json_t *b, const char *outer_url, struct eab *e, struct problem *p)
{
    uint8_t *hdr = NULL;
    size_t hdr_len = 0;
    int rc = check_shape(b, p);

    if (rc == CAIRN_OK)
        rc = decode_member(b, "protected", &hdr, &hdr_len, p);
    if (rc == CAIRN_OK)
        rc = decode_member(b, "payload", &e->payload, &e->payload_len, p);
    if (rc == CAIRN_OK)
        rc = decode_member(b, "signature", &e->mac, &e->mac_len, p);
    if (rc == CAIRN_OK && e->mac_len == 0)
        rc = problem_set(p, PROB_MALFORMED, "externalAccountBinding: signature is empty");
    if (rc == CAIRN_OK)
        rc = json_load_object((const char *)hdr, hdr_len, "externalAccountBinding protected",
                              &e->header, p);
    free(hdr);
    if (rc == CAIRN_OK)
        rc = check_header(e, outer_url, p);
    if (rc == CAIRN_OK)
        rc = signing_input(b, e);
    return rc;
}

int
eab_parse(const json_t *binding, const char *outer_url, struct eab *out, struct problem *p)
{
    int rc;

    memset(out, 0, sizeof(*out));
    if (outer_url == NULL)
        return CAIRN_ERR_INVAL;
    rc = parse_rules(binding, outer_url, out, p);
    if (rc != CAIRN_OK)
        eab_cleanup(out);
    return rc;
}

/* The payload must be the outer JWK: compared by RFC 7638 thumbprint, so member order and
 * extra members do not matter. */
static int
check_payload(const struct eab *e, const EVP_PKEY *account_key, struct problem *p)
{
    char want[CAIRN_THUMBPRINT_LEN + 1], got[CAIRN_THUMBPRINT_LEN + 1];
    struct problem ignored;
    json_t *jwk = NULL;
    EVP_PKEY *key = NULL;
    int rc;

    problem_init(&ignored);
    rc = jwk_thumbprint(account_key, want);
    if (rc != CAIRN_OK)
        return rc;
    if (json_load_object((const char *)e->payload, e->payload_len, "payload", &jwk,
                         &ignored) != CAIRN_OK ||
        jwk_import(jwk, &key, &ignored) != CAIRN_OK || jwk_thumbprint(key, got) != CAIRN_OK ||
        strcmp(want, got) != 0)
        rc = problem_set(p, PROB_UNAUTHORIZED,
                         "externalAccountBinding payload is not the account key");
    problem_cleanup(&ignored);
    EVP_PKEY_free(key);
    json_decref(jwk);
    return rc;
}

int
eab_verify(const struct eab *e, const uint8_t *key, size_t key_len, const EVP_PKEY *account_key,
           struct problem *p)
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    bool ok;

    if (e == NULL || e->md == NULL || key == NULL || key_len == 0 || key_len > INT32_MAX)
        return CAIRN_ERR_INVAL;
    if (HMAC(e->md, key, (int)key_len, (const unsigned char *)e->signing_input,
             e->signing_input_len, mac, &mac_len) == NULL)
        return CAIRN_ERR_CRYPTO;
    /* the length is public (it follows from alg); the bytes are compared in constant time */
    ok = mac_len == e->mac_len && CRYPTO_memcmp(mac, e->mac, mac_len) == 0;
    OPENSSL_cleanse(mac, sizeof(mac));
    if (!ok)
        return problem_set(p, PROB_UNAUTHORIZED,
                           "externalAccountBinding MAC does not verify with key id \"%.64s\"",
                           e->kid);
    return check_payload(e, account_key, p);
}
