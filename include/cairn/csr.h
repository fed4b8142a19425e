/* csr.h - certificate signing request checks at finalize (PROTOCOL.md §5 "CSR").
 * Pure functions; thread-safe. */
#ifndef CAIRN_CSR_H
#define CAIRN_CSR_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "cairn/core.h"
#include "cairn/ident.h"
#include "cairn/keypolicy.h"
#include "cairn/problem.h"

struct csr {
    EVP_PKEY *key; /* subject public key, owned */
};

/* Parses der as exactly one PKCS#10 CSR and checks it against the order's identifiers
 * (normalised, order form: a wildcard's value keeps its "*."):
 * self-signature verifies (RSA PKCS#1 v1.5 or ECDSA with SHA-256/384/512; Ed25519 when the
 * policy allows it); key passes key_policy_check(); dNSName + iPAddress SANs plus the CN,
 * lower-cased and de-duplicated, equal the identifiers exactly (no missing, extra, or
 * wildcard/plain swap); no email/URI/other SANs; a CN, if present, is one of the DNS names;
 * at most CAIRN_MAX_CSR_SANS SANs. Any failure: badCSR with a detail naming the rule (and
 * the offending name); a name mismatch also adds one badCSR subproblem per missing or extra
 * identifier. p must be initialised (problem_init). On success out->key is the CSR's public
 * key (owned by out; release with csr_cleanup()); on failure out->key is NULL. */
int csr_check(const uint8_t *der, size_t der_len, const struct ident *idents, size_t nidents,
              const struct key_policy *pol, struct csr *out, struct problem *p) CAIRN_MUST_CHECK;
void csr_cleanup(struct csr *c);

#endif
