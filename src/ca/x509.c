/* x509.c - small X.509 building blocks for the hierarchy, leaves and listener certificates.
 * OpenSSL 3 non-deprecated APIs only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca_int.h"
#include "cairn/log.h"
#include "cairn/rand.h"

EVP_PKEY *
ca_keygen(bool rsa)
{
    EVP_PKEY *k;

    if (rsa)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    else
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (k == NULL)
        log_openssl("ca", "key generation");
    return k;
}

int
ca_random_serial(uint8_t serial[CA_SERIAL_LEN])
{
    int rc = rand_bytes(serial, CA_SERIAL_LEN);

    if (rc != CAIRN_OK)
        return rc;
    serial[0] &= 0x7f; /* positive */
    serial[0] |= 0x01; /* and never zero */
    return CAIRN_OK;
}

int
ca_set_serial(X509 *x, const uint8_t *serial, size_t len)
{
    BIGNUM *bn = BN_bin2bn(serial, (int)len, NULL);
    ASN1_INTEGER *ai = NULL;
    int rc = CAIRN_ERR_CRYPTO;

    if (bn == NULL)
        goto out;
    ai = BN_to_ASN1_INTEGER(bn, NULL);
    if (ai != NULL && X509_set_serialNumber(x, ai) == 1)
        rc = CAIRN_OK;
out:
    ASN1_INTEGER_free(ai);
    BN_free(bn);
    return rc;
}

int
ca_set_validity(X509 *x, int64_t not_before, int64_t not_after)
{
    /* ASN1_TIME_set picks UTCTime up to 2049 and GeneralizedTime after, as RFC 5280 wants. */
    if (ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before) == NULL ||
        ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after) == NULL)
        return CAIRN_ERR_CRYPTO;
    return CAIRN_OK;
}

int
ca_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
    if (ext == NULL) {
        log_openssl("ca", "extension");
        return CAIRN_ERR_CRYPTO;
    }
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? CAIRN_OK : CAIRN_ERR_CRYPTO;
}

int
ca_sign(struct ca *ca, X509 *x, EVP_PKEY *key)
{
    int n;

    pthread_mutex_lock(&ca->sign_lock);
    n = X509_sign(x, key, EVP_sha256());
    pthread_mutex_unlock(&ca->sign_lock);
    if (n <= 0) {
        log_openssl("ca", "signing");
        return CAIRN_ERR_CRYPTO;
    }
    return CAIRN_OK;
}

/* Copies a memory BIO into a NUL-terminated heap string. */
static char *
bio_dup(BIO *b, size_t *len)
{
    char *data = NULL, *s;
    long n = BIO_get_mem_data(b, &data);

    if (n <= 0)
        return NULL;
    s = malloc((size_t)n + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    if (len != NULL)
        *len = (size_t)n;
    return s;
}

char *
ca_x509_pem(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *s = NULL;

    if (b != NULL && PEM_write_bio_X509(b, x) == 1)
        s = bio_dup(b, NULL);
    BIO_free(b);
    return s;
}

char *
ca_key_pem(EVP_PKEY *key, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *s = NULL;

    /* A memory BIO wipes its buffer when freed (BUF_MEM_free uses OPENSSL_clear_free). */
    if (b != NULL && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1)
        s = bio_dup(b, len);
    BIO_free(b);
    return s;
}

X509 *
ca_x509_from_der(const uint8_t *der, size_t der_len)
{
    const unsigned char *q = der;
    X509 *x;

    if (der == NULL || der_len == 0 || der_len > CAIRN_MAX_CERT_DER)
        return NULL;
    x = d2i_X509(NULL, &q, (long)der_len);
    if (x != NULL && q != der + der_len) { /* one certificate, nothing after it */
        X509_free(x);
        x = NULL;
    }
    ERR_clear_error();
    return x;
}

int
ca_hex(const uint8_t *b, size_t n, char *out, size_t outsz)
{
    static const char hex[] = "0123456789abcdef";

    if (outsz < 2 * n + 1)
        return CAIRN_ERR_INVAL;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 0x0f];
    }
    out[2 * n] = '\0';
    return CAIRN_OK;
}

bool
ca_key_type(EVP_PKEY *key, char *out, size_t outsz)
{
    char group[64] = "";
    size_t glen = 0;

    if (key == NULL)
        return false;
    if (EVP_PKEY_is_a(key, "RSA")) {
        snprintf(out, outsz, "RSA %d", EVP_PKEY_get_bits(key));
        return true;
    }
    if (EVP_PKEY_is_a(key, "EC") &&
        EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof(group), &glen) == 1) {
        if (strcmp(group, "prime256v1") == 0)
            snprintf(out, outsz, "ECDSA P-256");
        else if (strcmp(group, "secp384r1") == 0)
            snprintf(out, outsz, "ECDSA P-384");
        else if (strcmp(group, "secp521r1") == 0)
            snprintf(out, outsz, "ECDSA P-521");
        else
            snprintf(out, outsz, "ECDSA %s", group);
        return true;
    }
    return false;
}

bool
ca_issued_by(X509 *x, X509 *up)
{
    bool ok = X509_check_issued(up, x) == X509_V_OK && X509_verify(x, X509_get0_pubkey(up)) == 1;

    ERR_clear_error();
    return ok;
}
