/* ca.h - the certificate authority: issuer hierarchy, leaf issuance, listener certificates.
 *
 * Issuer private keys never leave src/ca/. The hierarchy lives in a directory (the state
 * directory's "ca/" or a private temporary one in throw-away test mode): created on first
 * use (root + chain_length intermediates, keys 0600, files written atomically), loaded
 * unchanged afterwards. Signing is serialized by one mutex inside struct ca; everything else
 * is read-only after ca_open(), so a struct ca may be shared by all threads. */
#ifndef CAIRN_CA_H
#define CAIRN_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "cairn/core.h"
#include "cairn/ident.h"

struct ca;

struct ca_options {
    const char *dir;     /* directory for the hierarchy; created (0700) if missing */
    bool rsa;            /* keyAlgorithm "rsa" (RSA-2048) instead of ECDSA P-256 */
    int chain_length;    /* intermediates between leaf and root, >= 1 */
    const char *name;    /* CA name used in subjects, e.g. "cairn" -> "cairn root CA <hex>" */
};

/* Loads the hierarchy from o->dir, or creates it there when the directory holds none. A
 * partial or unreadable hierarchy is an error (CAIRN_ERR_IO), never silently replaced. On a
 * load the stored key algorithm and chain length win over o. */
int ca_open(const struct ca_options *o, struct ca **out) CAIRN_MUST_CHECK;
void ca_free(struct ca *ca);

/* PEM of the root certificate (one CERTIFICATE block). Borrowed; lives as long as ca. */
const char *ca_root_pem(const struct ca *ca);
/* PEM of the issuing intermediate (the leaf's issuer). Borrowed. */
const char *ca_issuer_pem(const struct ca *ca);
/* PEM of every intermediate from the leaf's issuer up to the one under the root, no root.
 * Borrowed. This is what follows the leaf in a certificate download. */
const char *ca_chain_pem(const struct ca *ca);
/* Hex SHA-256 fingerprint of the root certificate (64 characters). Borrowed. */
const char *ca_root_fingerprint(const struct ca *ca);

struct ca_leaf_req {
    const uint8_t *serial;      /* big-endian serial bytes, positive (top bit clear) */
    size_t serial_len;          /* 16..20 */
    EVP_PKEY *pubkey;           /* subject public key (from the CSR); borrowed */
    const struct ident *idents; /* order identifiers (wildcards keep "*."), borrowed */
    size_t nidents;
    int64_t not_before;         /* Unix seconds */
    int64_t not_after;
    bool promote_cn;            /* set the CN to the first DNS name of <= 64 characters */
};

/* Issues an end-entity certificate signed by the issuing intermediate: SANs (dNSName /
 * iPAddress) exactly the identifiers, critical basicConstraints CA:FALSE, critical KU
 * digitalSignature (+ keyEncipherment for RSA keys), EKU serverAuth, SKI, AKI. *der is a
 * heap buffer the caller frees. */
int ca_issue_leaf(struct ca *ca, const struct ca_leaf_req *req, uint8_t **der, size_t *der_len)
    CAIRN_MUST_CHECK;

/* Makes a key and a certificate for cairn's own HTTPS listeners, signed by the issuing
 * intermediate, valid for the given host names and IP literals. Returns PEM (cert followed by
 * the issuer chain) and the private key PEM; both heap, the caller frees (wipe the key with
 * OPENSSL_cleanse before free). */
int ca_make_listener_cert(struct ca *ca, const char *const *names, size_t n, char **cert_pem,
                          char **key_pem) CAIRN_MUST_CHECK;

/* Checks that der (an X.509 certificate) was signed by this CA's issuing intermediate and
 * writes its serial as lowercase hex without leading zeros. CAIRN_ERR_INVAL when it does not
 * parse or consume der exactly, CAIRN_ERR_NOTFOUND when not ours. */
int ca_cert_serial_if_ours(const struct ca *ca, const uint8_t *der, size_t der_len,
                           char serial_hex[CAIRN_SERIAL_HEX_MAX + 1]) CAIRN_MUST_CHECK;

/* DER certificate to one PEM block (heap, caller frees); NULL on failure. */
char *ca_der_to_pem(const uint8_t *der, size_t der_len);
/* The public key of a DER certificate (new reference, caller frees) or NULL. */
EVP_PKEY *ca_cert_pubkey(const uint8_t *der, size_t der_len);

#endif
