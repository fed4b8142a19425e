/* info.c - read-only views of the hierarchy: numbered roots, intermediates and chains for the
 * management API and certificate downloads, issuer keys in Pebble's formats (test mode), and
 * the certificate list of `cairn ca show`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca_int.h"

int
ca_alternate_count(const struct ca *ca)
{
    return ca->nalt;
}

const char *
ca_root_pem_n(const struct ca *ca, int n)
{
    if (n == 0)
        return ca->root_pem;
    return n > 0 && n <= ca->nalt ? ca->alt_root_pem[n - 1] : NULL;
}

const char *
ca_intermediate_pem_n(const struct ca *ca, int n)
{
    if (n == 0)
        return ca->issuer_pem;
    return n > 0 && n <= ca->nalt ? ca->alt_cross_pem[n - 1] : NULL;
}

const char *
ca_chain_pem_n(const struct ca *ca, int n)
{
    if (n == 0)
        return ca->chain_pem;
    return n > 0 && n <= ca->nalt ? ca->alt_cross_pem[n - 1] : NULL;
}

const uint8_t *
ca_issuer_der(const struct ca *ca, size_t *len)
{
    *len = ca->issuer_der_len;
    return ca->issuer_der;
}

/* "type-specific" PEM: PKCS#1 for RSA, SEC1 for EC, as Pebble writes them. */
static int
traditional_pem(EVP_PKEY *key, char **pem, size_t *len)
{
    OSSL_ENCODER_CTX *ctx;
    unsigned char *data = NULL;
    size_t n = 0;
    int rc = CAIRN_ERR_CRYPTO;

    *pem = NULL;
    *len = 0;
    if (key == NULL)
        return CAIRN_ERR_NOTFOUND;
    ctx = OSSL_ENCODER_CTX_new_for_pkey(key, EVP_PKEY_KEYPAIR, "PEM", "type-specific", NULL);
    if (ctx != NULL && OSSL_ENCODER_to_data(ctx, &data, &n) == 1) {
        *pem = malloc(n + 1);
        if (*pem == NULL) {
            rc = CAIRN_ERR_NOMEM;
        } else {
            memcpy(*pem, data, n);
            (*pem)[n] = '\0';
            *len = n;
            rc = CAIRN_OK;
        }
    }
    if (data != NULL)
        OPENSSL_clear_free(data, n);
    OSSL_ENCODER_CTX_free(ctx);
    ERR_clear_error();
    return rc;
}

int
ca_root_key_pem(const struct ca *ca, int n, char **pem, size_t *len)
{
    if (n == 0)
        return traditional_pem(ca->root_key, pem, len);
    if (n < 0 || n > ca->nalt)
        return CAIRN_ERR_NOTFOUND;
    return traditional_pem(ca->alt_keys[n - 1], pem, len);
}

int
ca_intermediate_key_pem(const struct ca *ca, int n, char **pem, size_t *len)
{
    if (n < 0 || n > ca->nalt)
        return CAIRN_ERR_NOTFOUND;
    return traditional_pem(ca->int_keys[ca->chain_length - 1], pem, len);
}

static int64_t
asn1_time_unix(const ASN1_TIME *t)
{
    struct tm tm;

    if (ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (int64_t)timegm(&tm);
}

static void
cert_info(X509 *x, EVP_PKEY *key, const char *role, bool issuer, struct ca_cert_info *out)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;

    memset(out, 0, sizeof(*out));
    snprintf(out->role, sizeof(out->role), "%s", role);
    X509_NAME_oneline(X509_get_subject_name(x), out->subject, (int)sizeof(out->subject));
    if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1 ||
        ca_hex(md, mdlen, out->fingerprint, sizeof(out->fingerprint)) != CAIRN_OK)
        out->fingerprint[0] = '\0';
    if (!ca_key_type(X509_get0_pubkey(x), out->key_type, sizeof(out->key_type)))
        snprintf(out->key_type, sizeof(out->key_type), "other");
    out->not_before = asn1_time_unix(X509_get0_notBefore(x));
    out->not_after = asn1_time_unix(X509_get0_notAfter(x));
    out->has_key = key != NULL;
    out->issuer = issuer;
    ERR_clear_error();
}

int
ca_list_certs(const struct ca *ca, struct ca_cert_info *out, size_t max, size_t *n)
{
    char role[48];
    size_t k = 0;

    if (k < max)
        cert_info(ca->root, ca->root_key, "root", false, &out[k]);
    k++;
    for (int i = 0; i < ca->chain_length; i++, k++) {
        snprintf(role, sizeof(role), "intermediate %d", i + 1);
        if (k < max)
            cert_info(ca->ints[i], ca->int_keys[i], role, i == ca->chain_length - 1, &out[k]);
    }
    for (int i = 0; i < ca->nalt; i++) {
        snprintf(role, sizeof(role), "alternate root %d", i + 1);
        if (k < max)
            cert_info(ca->alt_roots[i], ca->alt_keys[i], role, false, &out[k]);
        k++;
        snprintf(role, sizeof(role), "cross-signed issuer %d", i + 1);
        if (k < max)
            cert_info(ca->alt_cross[i], ca->int_keys[ca->chain_length - 1], role, true, &out[k]);
        k++;
    }
    *n = k;
    return CAIRN_OK;
}
