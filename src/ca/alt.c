/* alt.c - alternate roots (PEBBLE_ALTERNATE_ROOTS): each is a self-signed root that
 * cross-signs the issuing intermediate, i.e. issues a second certificate with the issuer's
 * subject and key. A leaf signed by the issuing key therefore chains to the primary root
 * through the normal intermediates and to alternate root n through cross-sign n; one CRL
 * signed by that key serves both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca_int.h"
#include "cairn/log.h"

/* The issuer's SKI copied as is (an imported issuer may not use the "hash" method), so AKIs
 * in leaves match both the intermediate and its cross-sign. */
static int
copy_ski(X509 *x, X509 *issuer, X509 *root)
{
    int pos = X509_get_ext_by_NID(issuer, NID_subject_key_identifier, -1);

    if (pos < 0)
        return ca_add_ext(x, root, NID_subject_key_identifier, "hash");
    return X509_add_ext(x, X509_get_ext(issuer, pos), -1) == 1 ? CAIRN_OK : CAIRN_ERR_CRYPTO;
}

static X509 *
make_cross(struct ca *ca, X509 *root, EVP_PKEY *root_key, X509 *issuer)
{
    uint8_t serial[CA_SERIAL_LEN];
    X509 *x = X509_new();

    if (x == NULL || ca_random_serial(serial) != CAIRN_OK ||
        X509_set_version(x, X509_VERSION_3) != 1 ||
        ca_set_serial(x, serial, sizeof(serial)) != CAIRN_OK ||
        X509_set_subject_name(x, X509_get_subject_name(issuer)) != 1 ||
        X509_set_issuer_name(x, X509_get_subject_name(root)) != 1 ||
        X509_set_pubkey(x, X509_get0_pubkey(issuer)) != 1 ||
        X509_set1_notBefore(x, X509_get0_notBefore(issuer)) != 1 ||
        X509_set1_notAfter(x, X509_get0_notAfter(issuer)) != 1)
        goto fail;
    if (ca_add_ext(x, root, NID_basic_constraints, "critical,CA:TRUE") ||
        ca_add_ext(x, root, NID_key_usage, "critical,keyCertSign,cRLSign") ||
        copy_ski(x, issuer, root) ||
        ca_add_ext(x, root, NID_authority_key_identifier, "keyid:always"))
        goto fail;
    if (ca_sign(ca, x, root_key) != CAIRN_OK)
        goto fail;
    return x;
fail:
    log_openssl("ca", "building a cross-signed intermediate");
    X509_free(x);
    return NULL;
}

int
ca_alt_make(struct ca *ca, int want)
{
    X509 *issuer = ca->ints[ca->chain_length - 1];

    if (want > CA_MAX_ALTERNATES)
        return CAIRN_ERR_INVAL;
    while (ca->nalt < want) {
        int i = ca->nalt;

        ca->alt_keys[i] = ca_keygen(ca->rsa);
        if (ca->alt_keys[i] == NULL)
            return CAIRN_ERR_CRYPTO;
        ca->alt_roots[i] = ca_make_ca_cert(ca, ca->name, NULL, NULL, ca->alt_keys[i]);
        if (ca->alt_roots[i] == NULL)
            return CAIRN_ERR_CRYPTO;
        ca->alt_cross[i] = make_cross(ca, ca->alt_roots[i], ca->alt_keys[i], issuer);
        if (ca->alt_cross[i] == NULL)
            return CAIRN_ERR_CRYPTO;
        ca->nalt++;
    }
    return CAIRN_OK;
}

int
ca_alt_pems(struct ca *ca)
{
    for (int i = 0; i < ca->nalt; i++) {
        if (ca->alt_root_pem[i] == NULL)
            ca->alt_root_pem[i] = ca_x509_pem(ca->alt_roots[i]);
        if (ca->alt_cross_pem[i] == NULL)
            ca->alt_cross_pem[i] = ca_x509_pem(ca->alt_cross[i]);
        if (ca->alt_root_pem[i] == NULL || ca->alt_cross_pem[i] == NULL)
            return CAIRN_ERR_NOMEM;
    }
    return CAIRN_OK;
}
