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
    /* PEBBLE_ALTERNATE_ROOTS: extra roots, each cross-signing the issuing intermediate's key
     * (same subject and key, issued by the alternate root). Missing ones are added to a stored
     * hierarchy; more stored than asked are kept. 0..CA_MAX_ALTERNATES. */
    int alternate_roots;
    bool no_create;      /* load only: a directory without a hierarchy is CAIRN_ERR_NOTFOUND */
    /* The x-ca layout (USE_X_CA): when set, dir is ignored and the hierarchy is read, never
     * written, from <x_ca_path>/ca/{root-ca,tls-ca}.crt and their keys. Alternate roots are
     * then made in memory for this run only. */
    const char *x_ca_path;
    bool x_ca_des3;                 /* IS_DES3_KEY: read the *-des3.key files */
    const char *x_ca_root_password; /* X_CA_ROOT_CA_PASSWORD; borrowed, never logged */
    const char *x_ca_tls_password;  /* X_CA_TLS_CA_PASSWORD */
};

#define CA_MAX_ALTERNATES 8

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
    const char *crl_url;        /* CRL distribution point URI, or NULL for none */
    const char *ca_issuers_url; /* AIA caIssuers URI (DER of the issuer), or NULL */
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

/* ---- alternate chains (PEBBLE_ALTERNATE_ROOTS) ---- */

/* Number of alternate roots (0 when none). Chain n = 0 is the primary one; 1..count the
 * alternates. */
int ca_alternate_count(const struct ca *ca);
/* PEM of root n (0 primary), of intermediate n (0 the issuing intermediate, n its cross-sign
 * by alternate root n) and of the chain after a leaf towards root n. NULL when n is out of
 * range. Borrowed. */
const char *ca_root_pem_n(const struct ca *ca, int n);
const char *ca_intermediate_pem_n(const struct ca *ca, int n);
const char *ca_chain_pem_n(const struct ca *ca, int n);
/* Private keys in Pebble's format (RSA: "RSA PRIVATE KEY" PKCS#1, EC: "EC PRIVATE KEY"
 * SEC1): root n's key, and the issuing key (the same for every n, as the alternates are
 * cross-signs). Heap; the caller wipes and frees. CAIRN_ERR_NOTFOUND when n is out of range
 * or the key is not held (an imported intermediate's root). For the test-mode management API
 * only. */
int ca_root_key_pem(const struct ca *ca, int n, char **pem, size_t *len) CAIRN_MUST_CHECK;
int ca_intermediate_key_pem(const struct ca *ca, int n, char **pem, size_t *len)
    CAIRN_MUST_CHECK;
/* DER of the issuing intermediate (what an AIA caIssuers URL serves). Borrowed. */
const uint8_t *ca_issuer_der(const struct ca *ca, size_t *len);

/* ---- inspection (`cairn ca show`) ---- */

struct ca_cert_info {
    char role[48];         /* "root", "intermediate 1", "alternate root 1", ... */
    char subject[256];     /* one-line RFC 2253 form */
    char fingerprint[65];  /* hex SHA-256 of the DER */
    char key_type[32];     /* "ECDSA P-256", "RSA 2048", ... */
    int64_t not_before;
    int64_t not_after;
    bool has_key;          /* cairn holds its private key */
    bool issuer;           /* signs leaves */
};
/* Every CA certificate: the root, the intermediates from under the root to the issuer, then
 * each alternate root and its cross-sign. Writes up to max entries and the total to *n. */
int ca_list_certs(const struct ca *ca, struct ca_cert_info *out, size_t max, size_t *n)
    CAIRN_MUST_CHECK;

/* ---- import (`cairn ca import`) ---- */

struct ca_import_req {
    const char *dir;        /* the CA directory to write (as ca_options.dir) */
    const char *cert_file;  /* PEM: a root, or an intermediate (then chain_file is needed) */
    const char *key_file;   /* PEM private key of cert_file, unencrypted */
    const char *chain_file; /* PEM: the certificates above an intermediate, up to the root */
    bool force;             /* move an existing hierarchy aside (dir.replaced-<time>) */
    bool rsa;               /* key algorithm of intermediates made under an imported root */
    int chain_length;       /* intermediates to make under an imported root, >= 1 */
    const char *name;       /* CA name for those intermediates' subjects */
    int64_t now;
};
/* Checks the material (key matches cert, CA:TRUE, keyCertSign when key usage is present,
 * RSA >= 2048 or ECDSA P-256/P-384, every certificate within its validity, the chain verifies
 * to a self-signed root) and writes a hierarchy that ca_open() loads: under an imported root
 * cairn makes chain_length intermediates; an imported intermediate issues leaves itself.
 * Errors are printed to stderr naming the file and the rule; CAIRN_ERR_INVAL for bad
 * material, CAIRN_ERR_CONFLICT when a hierarchy exists and force is false. */
int ca_import(const struct ca_import_req *req) CAIRN_MUST_CHECK;

/* ---- CRL ---- */

struct ca_crl_entry {
    const char *serial_hex; /* lowercase hex */
    int64_t revoked_at;
    int reason;             /* RFC 5280 CRLReason; 0 or -1: no reasonCode extension */
};
/* A v2 CRL signed by the issuing intermediate: AKI, CRL number, thisUpdate/nextUpdate and the
 * given entries. *der is heap, the caller frees. */
int ca_make_crl(struct ca *ca, const struct ca_crl_entry *entries, size_t n, int64_t number,
                int64_t this_update, int64_t next_update, uint8_t **der, size_t *der_len)
    CAIRN_MUST_CHECK;

#endif
