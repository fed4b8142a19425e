/* eab.h - External Account Binding (RFC 8555 §7.3.4, PROTOCOL.md §1 EAB): the binding is a
 * flattened JWS MAC'd with a pre-shared key whose payload is the new account's JWK.
 *
 * Verification is split so the caller can look the key up in between:
 *   eab_parse()   shape and protected header (failures: 400 malformed)
 *   (key lookup by e->kid: unknown key id 403 unauthorized, by the caller)
 *   eab_verify()  MAC (constant time) and payload = account key (failures: 403 unauthorized)
 * MAC keys are never logged or put in a problem detail. Thread-safe. */
#ifndef CAIRN_EAB_H
#define CAIRN_EAB_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cairn/core.h"
#include "cairn/problem.h"

struct eab {
    json_t *header;         /* decoded protected header, owned */
    const char *kid;        /* borrowed from header */
    const char *alg;        /* "HS256", "HS384" or "HS512", borrowed from header */
    const EVP_MD *md;
    uint8_t *payload;       /* decoded payload, owned */
    size_t payload_len;
    char *signing_input;    /* "<protected>.<payload>" as sent, owned */
    size_t signing_input_len;
    uint8_t *mac;           /* decoded signature, owned */
    size_t mac_len;
};

/* Checks the binding object: exactly protected, payload, signature (strings, strict
 * base64url, non-empty signature); protected a JSON object with alg HS256/HS384/HS512, a kid
 * string of 1 to CAIRN_MAX_EAB_KID_LEN characters, url equal to outer_url, no nonce, no
 * crit. Failures: malformed. *out is clean on failure (eab_cleanup() is still safe). */
int eab_parse(const json_t *binding, const char *outer_url, struct eab *out, struct problem *p)
    CAIRN_MUST_CHECK;
/* Checks the MAC over the signing input with key (CRYPTO_memcmp) and that the payload is a
 * JWK of the same key as account_key (RFC 7638 thumbprints). Failures: unauthorized. */
int eab_verify(const struct eab *e, const uint8_t *key, size_t key_len,
               const EVP_PKEY *account_key, struct problem *p) CAIRN_MUST_CHECK;
void eab_cleanup(struct eab *e);

struct config;
struct store;
/* Start-up check (src/handlers/proto.c): logs a warning for each key id that is both in the
 * config and in the database (`cairn eab add`); the config's key wins. */
void eab_warn_shadowed(const struct config *cfg, struct store *st);

#endif
