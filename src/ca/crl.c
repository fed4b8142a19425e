/* crl.c - certificate revocation lists signed by the issuing intermediate (RFC 5280 §5). The
 * entries come from the store; this file only encodes and signs. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca_int.h"
#include "cairn/log.h"

static int
set_time(ASN1_TIME **t, int64_t when)
{
    ASN1_TIME *x = ASN1_TIME_set(NULL, (time_t)when);

    if (x == NULL)
        return CAIRN_ERR_CRYPTO;
    *t = x;
    return CAIRN_OK;
}

static int
add_entry(X509_CRL *crl, const struct ca_crl_entry *e)
{
    X509_REVOKED *r = X509_REVOKED_new();
    BIGNUM *bn = NULL;
    ASN1_INTEGER *serial = NULL;
    ASN1_TIME *when = NULL;
    ASN1_ENUMERATED *reason = NULL;
    int rc = CAIRN_ERR_CRYPTO;

    if (r == NULL || BN_hex2bn(&bn, e->serial_hex) == 0 ||
        (serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
        X509_REVOKED_set_serialNumber(r, serial) != 1 || set_time(&when, e->revoked_at) ||
        X509_REVOKED_set_revocationDate(r, when) != 1)
        goto out;
    /* RFC 5280 §5.3.1: unspecified (0) is expressed by leaving the extension out. */
    if (e->reason > 0) {
        reason = ASN1_ENUMERATED_new();
        if (reason == NULL || ASN1_ENUMERATED_set(reason, e->reason) != 1 ||
            X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, reason, 0, 0) != 1)
            goto out;
    }
    if (X509_CRL_add0_revoked(crl, r) != 1)
        goto out;
    r = NULL;
    rc = CAIRN_OK;
out:
    ASN1_ENUMERATED_free(reason);
    ASN1_TIME_free(when);
    ASN1_INTEGER_free(serial);
    BN_free(bn);
    X509_REVOKED_free(r);
    return rc;
}

static int
crl_header(X509_CRL *crl, X509 *issuer, int64_t number, int64_t this_update,
           int64_t next_update)
{
    ASN1_TIME *tu = NULL, *nu = NULL;
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    X509V3_CTX ctx;
    X509_EXTENSION *aki;
    int rc = CAIRN_ERR_CRYPTO;

    if (num == NULL || ASN1_INTEGER_set_int64(num, number) != 1 ||
        X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
        X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) != 1 ||
        set_time(&tu, this_update) || set_time(&nu, next_update) ||
        X509_CRL_set1_lastUpdate(crl, tu) != 1 || X509_CRL_set1_nextUpdate(crl, nu) != 1 ||
        X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1)
        goto out;
    X509V3_set_ctx(&ctx, issuer, NULL, NULL, crl, 0);
    aki = X509V3_EXT_nconf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
    if (aki == NULL)
        goto out;
    if (X509_CRL_add_ext(crl, aki, -1) == 1)
        rc = CAIRN_OK;
    X509_EXTENSION_free(aki);
out:
    ASN1_TIME_free(tu);
    ASN1_TIME_free(nu);
    ASN1_INTEGER_free(num);
    return rc;
}

static int
crl_der(X509_CRL *crl, uint8_t **der, size_t *der_len)
{
    unsigned char *q;
    int len = i2d_X509_CRL(crl, NULL);

    if (len <= 0)
        return CAIRN_ERR_CRYPTO;
    *der = malloc((size_t)len);
    if (*der == NULL)
        return CAIRN_ERR_NOMEM;
    q = *der;
    if (i2d_X509_CRL(crl, &q) != len) {
        free(*der);
        *der = NULL;
        return CAIRN_ERR_CRYPTO;
    }
    *der_len = (size_t)len;
    return CAIRN_OK;
}

int
ca_make_crl(struct ca *ca, const struct ca_crl_entry *entries, size_t n, int64_t number,
            int64_t this_update, int64_t next_update, uint8_t **der, size_t *der_len)
{
    X509 *issuer = ca->ints[ca->chain_length - 1];
    EVP_PKEY *key = ca->int_keys[ca->chain_length - 1];
    X509_CRL *crl = X509_CRL_new();
    int rc = crl ? CAIRN_OK : CAIRN_ERR_NOMEM, n_signed;

    *der = NULL;
    *der_len = 0;
    if (number < 0 || next_update <= this_update || (n > 0 && entries == NULL))
        rc = CAIRN_ERR_INVAL;
    if (rc == CAIRN_OK)
        rc = crl_header(crl, issuer, number, this_update, next_update);
    for (size_t i = 0; i < n && rc == CAIRN_OK; i++)
        rc = add_entry(crl, &entries[i]);
    if (rc == CAIRN_OK && X509_CRL_sort(crl) != 1)
        rc = CAIRN_ERR_CRYPTO;
    if (rc == CAIRN_OK) {
        pthread_mutex_lock(&ca->sign_lock);
        n_signed = X509_CRL_sign(crl, key, EVP_sha256());
        pthread_mutex_unlock(&ca->sign_lock);
        rc = n_signed > 0 ? CAIRN_OK : CAIRN_ERR_CRYPTO;
    }
    if (rc == CAIRN_OK)
        rc = crl_der(crl, der, der_len);
    if (rc != CAIRN_OK)
        log_openssl("ca", "building a CRL");
    X509_CRL_free(crl);
    return rc;
}
