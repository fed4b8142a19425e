/* jws.h - the JWS verifier (RFC 7515 flattened JSON, RFC 8555 §6.2) and JWK handling.
 *
 * The checks are split so the request pipeline can run them in PROTOCOL.md §2's order:
 *   jws_parse()         rules 3-9 (shape, base64url, protected header, alg, jwk/kid, nonce
 *                       syntax, url, crit/b64)
 *   jwk_import()        rule 10 (JWK members, key policy)
 *   (kid lookup in the store: rule 11, by the caller)
 *   jws_check_alg_key() rule 12
 *   jws_verify()        rule 13
 * Thread-safe; no global state. */
#ifndef CAIRN_JWS_H
#define CAIRN_JWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cairn/core.h"
#include "cairn/problem.h"

enum jws_alg { JWS_ALG_RS256 = 0, JWS_ALG_ES256, JWS_ALG_ES384, JWS_ALG_ES512, JWS_ALG_EDDSA,
               JWS_ALG__MAX };

/* How jws_parse() treats the header. */
enum jws_kind {
    JWS_OUTER = 0, /* an ACME request: nonce and url required, exactly one of jwk/kid */
    JWS_INNER,     /* keyChange inner JWS: jwk and url required, no nonce, no kid */
};

struct jws {
    json_t *header;        /* decoded protected header, owned */
    enum jws_alg alg;
    const char *nonce;     /* borrowed from header; NULL for JWS_INNER */
    const char *url;       /* borrowed from header */
    const char *kid;       /* borrowed from header, or NULL */
    const json_t *jwk;     /* borrowed from header, or NULL */
    uint8_t *payload;      /* decoded payload, NUL-terminated, owned; payload_len may be 0 */
    size_t payload_len;
    char *signing_input;   /* "<protected>.<payload>" as sent, owned */
    size_t signing_input_len;
    uint8_t *sig;          /* decoded signature, owned */
    size_t sig_len;
};

/* Parses a request body (rules 3-9). On failure the problem is malformed, badNonce (nonce
 * absent) or badSignatureAlgorithm; *out is left clean (jws_cleanup() is still safe). */
int jws_parse(const char *body, size_t len, enum jws_kind kind, struct jws *out,
              struct problem *p) CAIRN_MUST_CHECK;
/* As jws_parse() for a JWS that arrived as a JSON object (the keyChange payload). */
int jws_parse_json(const json_t *obj, enum jws_kind kind, struct jws *out, struct problem *p)
    CAIRN_MUST_CHECK;
void jws_cleanup(struct jws *j);

/* "RS256", "ES256", ... */
const char *jws_alg_name(enum jws_alg alg);
/* The accepted algorithms as a JSON array (new reference), for badSignatureAlgorithm. */
json_t *jws_algorithms_json(void);

/* Rule 10: imports a public JWK (RSA n/e; EC crv/x/y; OKP Ed25519 x). Missing or wrong-typed
 * members: malformed; private members (d, p, q, dp, dq, qi, oth, k): malformed; a key that
 * fails key_policy_check(): badPublicKey. *out is a new key the caller frees. */
int jwk_import(const json_t *jwk, EVP_PKEY **out, struct problem *p) CAIRN_MUST_CHECK;
/* Canonical public JWK (only the RFC 7638 required members), new reference or NULL. */
json_t *jwk_export(const EVP_PKEY *key);
/* RFC 7638 SHA-256 thumbprint, base64url (43 characters + NUL). */
int jwk_thumbprint(const EVP_PKEY *key, char out[CAIRN_THUMBPRINT_LEN + 1]) CAIRN_MUST_CHECK;

/* Rule 12: alg fits the key type and curve, and a JWK "alg" member (when jwk is non-NULL and
 * has one) equals it; else badPublicKey. */
int jws_check_alg_key(const struct jws *j, const EVP_PKEY *key, struct problem *p)
    CAIRN_MUST_CHECK;
/* Rule 13: the signature over signing_input verifies (ECDSA as fixed-size R||S of 64/96/132
 * bytes, converted to DER internally; RS256 PKCS#1 v1.5; EdDSA pure). Else malformed. */
int jws_verify(const struct jws *j, EVP_PKEY *key, struct problem *p) CAIRN_MUST_CHECK;

#endif
