/* xca.c - the x-ca layout (USE_X_CA, for users of the x-ca fork of Pebble): a root and a
 * "tls-ca" issuing CA made elsewhere, read in place and never written. Encrypted (DES3) keys
 * are opened with passwords from the environment, which are never logged; every failure
 * names the file so start-up stops with an actionable message. */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca_int.h"
#include "cairn/log.h"

#define XCA_ROOT_CERT "ca/root-ca.crt"
#define XCA_TLS_CERT  "ca/tls-ca.crt"

static int
xca_pair(const char *base, const char *cert, const char *key, const char *pw,
         const char *pw_var, X509 **x, EVP_PKEY **k)
{
    int rc;

    if (pw != NULL && pw[0] == '\0')
        pw = NULL;
    if (key != NULL && strstr(key, "-des3") != NULL && pw == NULL) {
        log_err("ca", "%s/%s is encrypted but %s is not set", base, key, pw_var);
        return CAIRN_ERR_IO;
    }
    rc = ca_load_cert(base, cert, x);
    if (rc == CAIRN_OK)
        rc = ca_load_key(base, key, pw, k);
    if (rc == CAIRN_OK && X509_check_private_key(*x, *k) != 1) {
        ERR_clear_error();
        log_err("ca", "%s/%s does not match %s/%s", base, key, base, cert);
        return CAIRN_ERR_IO;
    }
    if (rc == CAIRN_OK && X509_check_ca(*x) < 1) {
        log_err("ca", "%s/%s is not a CA certificate", base, cert);
        return CAIRN_ERR_IO;
    }
    return rc;
}

int
ca_xca_load(struct ca *ca, const struct ca_options *o)
{
    const char *base = o->x_ca_path[0] ? o->x_ca_path : "/x-ca";
    const char *rkey = o->x_ca_des3 ? "ca/root-ca/private/root-ca-des3.key"
                                    : "ca/root-ca/private/root-ca.key";
    const char *tkey = o->x_ca_des3 ? "ca/tls-ca/private/tls-ca-des3.key"
                                    : "ca/tls-ca/private/tls-ca.key";
    X509 *tls = NULL;
    int rc;

    log_info("ca", "loading the x-ca hierarchy from %s%s", base,
             o->x_ca_des3 ? " (DES3-encrypted keys)" : "");
    rc = xca_pair(base, XCA_ROOT_CERT, rkey, o->x_ca_des3 ? o->x_ca_root_password : NULL,
                  "X_CA_ROOT_CA_PASSWORD", &ca->root, &ca->root_key);
    if (rc == CAIRN_OK)
        rc = xca_pair(base, XCA_TLS_CERT, tkey, o->x_ca_des3 ? o->x_ca_tls_password : NULL,
                      "X_CA_TLS_CA_PASSWORD", &tls, &ca->int_keys[0]);
    if (rc != CAIRN_OK) {
        X509_free(tls);
        return rc;
    }
    ca->ints[0] = tls;
    ca->chain_length = 1;
    ca->rsa = EVP_PKEY_is_a(ca->int_keys[0], "RSA");
    if (X509_check_issued(ca->root, tls) != X509_V_OK ||
        X509_verify(tls, X509_get0_pubkey(ca->root)) != 1 ||
        X509_check_issued(ca->root, ca->root) != X509_V_OK) {
        ERR_clear_error();
        log_err("ca", "%s/%s is not issued by the self-signed %s/%s", base, XCA_TLS_CERT, base,
                XCA_ROOT_CERT);
        return CAIRN_ERR_IO;
    }
    rc = ca_alt_make(ca, o->alternate_roots);
    if (rc == CAIRN_OK)
        rc = ca_derive_pems(ca);
    return rc;
}
