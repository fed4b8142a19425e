/* keypolicy.h - which public keys cairn accepts (PROTOCOL.md §2 "Key policy").
 * Used for account keys (failure: badPublicKey) and CSR keys (failure: badCSR). */
#ifndef CAIRN_KEYPOLICY_H
#define CAIRN_KEYPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cairn/core.h"
#include "cairn/problem.h"

struct key_policy {
    bool allow_p521;    /* account keys: yes; CSR keys only by profile */
    bool allow_ed25519; /* account keys: yes; CSR keys only by profile */
};

/* RSA 2048/3072/4096 bits with e = 65537 and no small factors; EC P-256/P-384 (P-521 when
 * allowed) with a valid point; Ed25519 when allowed. Fails with problem type `fail` and a
 * detail naming the reason. */
int key_policy_check(const EVP_PKEY *key, const struct key_policy *pol, enum prob_type fail,
                     struct problem *p) CAIRN_MUST_CHECK;

/* Lowercase hex SHA-256 of the key's DER SubjectPublicKeyInfo (64 characters + NUL): the
 * identity under which compromised keys are blocked. */
int key_spki_sha256_hex(const EVP_PKEY *key, char out[65]) CAIRN_MUST_CHECK;

/* Sets pub's AlgorithmIdentifier and key bits to key's SubjectPublicKeyInfo, the same DER that
 * i2d_PUBKEY() gives, without OpenSSL 3's encoder machinery (which costs more than an ECDSA
 * signature; docs/performance.md). Handles EC keys on P-256, P-384 and P-521 with named-curve
 * parameters; any other key: CAIRN_ERR_INVAL, pub unchanged, and the caller falls back to
 * X509_PUBKEY_set() or i2d_PUBKEY(). pub's cached EVP_PKEY is left as it was. */
int key_x509_pubkey_set(X509_PUBKEY *pub, const EVP_PKEY *key) CAIRN_MUST_CHECK;

/* A public EC key from its SEC 1 point (uncompressed or compressed) on group "prime256v1",
 * "secp384r1" or "secp521r1"; NULL for another group, a point off the curve or coordinates
 * outside the field. Built from a parameters-only key per curve made once, which costs a
 * quarter of EVP_PKEY_fromdata() (that rebuilds the curve every call; docs/performance.md).
 * Thread-safe. */
EVP_PKEY *key_ec_from_point(const char *group, const uint8_t *point, size_t len);

#endif
