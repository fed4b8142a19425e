/* floor.c - the crypto floor of one ES256 issuance, timed with the same OpenSSL: the JWS
 * verifications a full issuance needs (newAccount, newOrder, authz, challenge, authz poll,
 * finalize, certificate: 7), one CSR signature check and one ES256 signature (the leaf). */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <openssl/x509.h>

#define FLOOR_VERIFIES 7

static double
cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static int
sign_der(EVP_PKEY *k, const unsigned char *msg, size_t len, unsigned char *sig, size_t *siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k) == 1 &&
             EVP_DigestSign(md, sig, siglen, msg, len) == 1;

    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

static int
verify_der(EVP_PKEY *k, const unsigned char *msg, size_t len, const unsigned char *sig,
           size_t siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k) == 1 &&
             EVP_DigestVerify(md, sig, siglen, msg, len) == 1;

    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

static X509_REQ *
floor_csr(EVP_PKEY *k)
{
    X509_REQ *req = X509_REQ_new();
    X509_NAME *nm = X509_NAME_new();

    if (req == NULL || nm == NULL ||
        X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"a.example",
                                   -1, -1, 0) != 1 ||
        X509_REQ_set_subject_name(req, nm) != 1 || X509_REQ_set_pubkey(req, k) != 1 ||
        X509_REQ_sign(req, k, EVP_sha256()) <= 0) {
        X509_NAME_free(nm);
        X509_REQ_free(req);
        return NULL;
    }
    X509_NAME_free(nm);
    return req;
}

int
floor_run(unsigned iterations)
{
    EVP_PKEY *acct = acme_keygen(false), *ca = acme_keygen(false), *leaf = acme_keygen(false);
    unsigned char msg[700], tbs[600], sig[128], lsig[128];
    size_t siglen = sizeof(sig), lsiglen;
    X509_REQ *csr = leaf ? floor_csr(leaf) : NULL;
    double c0, c1, t0, t1;
    int rc = -1;

    memset(msg, 'a', sizeof(msg)); /* a JWS signing input is ~300-700 bytes */
    memset(tbs, 'b', sizeof(tbs)); /* a leaf TBSCertificate is ~400-600 bytes */
    if (acct == NULL || ca == NULL || csr == NULL ||
        sign_der(acct, msg, sizeof(msg), sig, &siglen) != 0)
        goto out;
    if (iterations == 0)
        iterations = 2000;
    c0 = cpu_s();
    t0 = (double)now_us();
    for (unsigned i = 0; i < iterations; i++) {
        for (int v = 0; v < FLOOR_VERIFIES; v++) {
            if (verify_der(acct, msg, sizeof(msg), sig, siglen) != 0)
                goto out;
        }
        if (X509_REQ_verify(csr, leaf) != 1)
            goto out;
        lsiglen = sizeof(lsig);
        if (sign_der(ca, tbs, sizeof(tbs), lsig, &lsiglen) != 0)
            goto out;
    }
    c1 = cpu_s();
    t1 = (double)now_us();
    printf("crypto floor (ES256, %s): %d verifications + 1 CSR verify + 1 signature per "
           "issuance\n", OpenSSL_version(OPENSSL_VERSION), FLOOR_VERIFIES);
    printf("FLOOR iterations=%u cpu_ms_per_issuance=%.4f wall_ms_per_issuance=%.4f\n",
           iterations, (c1 - c0) * 1e3 / iterations, (t1 - t0) / 1e3 / iterations);
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "cairn-bench: crypto floor failed\n");
    X509_REQ_free(csr);
    EVP_PKEY_free(acct);
    EVP_PKEY_free(ca);
    EVP_PKEY_free(leaf);
    return rc;
}
