/* import.c - `cairn ca import`: adopt a root or an intermediate made elsewhere (e.g. with the
 * openssl CLI). The material is checked before anything is written, and an existing
 * hierarchy is never overwritten: with --force it is moved aside, keys included. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca_int.h"

#define IMPORT_MAX_CHAIN_CERTS 16

static int imp_err(const char *file, const char *fmt, ...) CAIRN_PRINTF(2, 3);

static int
imp_err(const char *file, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "cairn: ca import: %s: ", file);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    ERR_clear_error();
    return CAIRN_ERR_INVAL;
}

static int
read_certs(const char *file, X509 **out, size_t max, size_t *n)
{
    BIO *b = BIO_new_file(file, "r");
    X509 *x;

    *n = 0;
    if (b == NULL)
        return imp_err(file, "cannot open: %s", strerror(errno));
    while (*n < max && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
        out[(*n)++] = x;
    BIO_free(b);
    ERR_clear_error(); /* the end of the file reads as an error */
    if (*n == 0)
        return imp_err(file, "holds no PEM certificate");
    return CAIRN_OK;
}

static int
no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static int
read_key(const char *file, EVP_PKEY **out)
{
    BIO *b = BIO_new_file(file, "r");

    if (b == NULL)
        return imp_err(file, "cannot open: %s", strerror(errno));
    *out = PEM_read_bio_PrivateKey(b, NULL, no_password, NULL);
    BIO_free(b);
    if (*out == NULL)
        return imp_err(file, "holds no unencrypted PEM private key (decrypt it first, e.g. "
                             "openssl pkey -in KEY -out PLAIN)");
    return CAIRN_OK;
}

static bool
key_type_ok(EVP_PKEY *k)
{
    char t[32];

    if (!ca_key_type(k, t, sizeof(t)))
        return false;
    if (EVP_PKEY_is_a(k, "RSA"))
        return EVP_PKEY_get_bits(k) >= 2048 && EVP_PKEY_get_bits(k) <= 8192;
    return strcmp(t, "ECDSA P-256") == 0 || strcmp(t, "ECDSA P-384") == 0;
}

/* CA:TRUE, keyCertSign when a key usage is present, a usable key, within validity. */
static int
check_ca_cert(const char *file, X509 *x, int64_t now)
{
    uint32_t flags = X509_get_extension_flags(x);
    time_t t = (time_t)now;

    if ((flags & EXFLAG_CA) == 0 || X509_check_ca(x) < 1)
        return imp_err(file, "is not a CA certificate (basicConstraints CA:TRUE is missing)");
    if ((flags & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(x) & KU_KEY_CERT_SIGN) == 0)
        return imp_err(file, "its key usage lacks keyCertSign");
    if (!key_type_ok(X509_get0_pubkey(x)))
        return imp_err(file, "its key is neither RSA (2048 to 8192 bits) nor ECDSA P-256/P-384");
    if (X509_cmp_time(X509_get0_notBefore(x), &t) > 0)
        return imp_err(file, "is not valid yet (notBefore is in the future)");
    if (X509_cmp_time(X509_get0_notAfter(x), &t) <= 0)
        return imp_err(file, "has expired (notAfter is in the past)");
    return CAIRN_OK;
}

/* Orders the chain file from the intermediate's issuer up to a self-signed root. path[0] is
 * the certificate right above cert; the last entry is the root. */
static int
build_path(const struct ca_import_req *req, X509 *cert, X509 **pool, size_t npool,
           X509 **path, size_t *n)
{
    X509 *cur = cert;

    *n = 0;
    while (*n <= CA_MAX_CHAIN) {
        X509 *up = NULL;

        for (size_t i = 0; i < npool && up == NULL; i++)
            if (pool[i] != cur && ca_issued_by(cur, pool[i]))
                up = pool[i];
        if (up == NULL)
            return imp_err(req->chain_file, "holds no issuer of %s", *n ? "a chain certificate"
                                                                        : req->cert_file);
        path[(*n)++] = up;
        if (ca_issued_by(up, up))
            return CAIRN_OK;
        cur = up;
    }
    return imp_err(req->chain_file, "does not reach a self-signed root within %d certificates",
                   CA_MAX_CHAIN);
}

/* The full chain verifies as OpenSSL's relying parties see it (signatures, CA flags, path
 * lengths, validity). */
static int
verify_chain(const struct ca_import_req *req, X509 *cert, X509 **path, size_t n)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    int ok = 0, err = 0;

    if (store && ctx && untrusted && X509_STORE_add_cert(store, path[n - 1]) == 1) {
        for (size_t i = 0; i + 1 < n; i++)
            sk_X509_push(untrusted, path[i]);
        if (X509_STORE_CTX_init(ctx, store, cert, untrusted) == 1) {
            ok = X509_verify_cert(ctx) == 1;
            err = X509_STORE_CTX_get_error(ctx);
        }
    }
    sk_X509_free(untrusted);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    if (!ok)
        return imp_err(req->chain_file, "the chain does not verify: %s",
                       X509_verify_cert_error_string(err));
    return CAIRN_OK;
}

static struct ca *
ca_new(void)
{
    struct ca *ca = calloc(1, sizeof(*ca));

    if (ca != NULL && pthread_mutex_init(&ca->sign_lock, NULL) != 0) {
        free(ca);
        return NULL;
    }
    return ca;
}

static int
adopt_root(const struct ca_import_req *req, struct ca *ca)
{
    const char *name = req->name ? req->name : "cairn";

    ca->rsa = req->rsa;
    ca->chain_length = req->chain_length;
    for (int i = 0; i < ca->chain_length; i++) {
        X509 *parent = i ? ca->ints[i - 1] : ca->root;
        EVP_PKEY *pkey = i ? ca->int_keys[i - 1] : ca->root_key;

        ca->int_keys[i] = ca_keygen(ca->rsa);
        if (ca->int_keys[i] == NULL)
            return CAIRN_ERR_CRYPTO;
        ca->ints[i] = ca_make_ca_cert(ca, name, parent, pkey, ca->int_keys[i]);
        if (ca->ints[i] == NULL)
            return CAIRN_ERR_CRYPTO;
    }
    return CAIRN_OK;
}

static int
adopt_intermediate(const struct ca_import_req *req, struct ca *ca, X509 *cert, EVP_PKEY *key)
{
    X509 *pool[IMPORT_MAX_CHAIN_CERTS] = { NULL }, *path[CA_MAX_CHAIN + 1];
    size_t npool = 0, n = 0;
    int rc;

    if (req->chain_file == NULL) {
        X509_free(cert);
        EVP_PKEY_free(key);
        return imp_err(req->cert_file, "is not self-signed: give --chain with the "
                                       "certificates up to the root");
    }
    rc = read_certs(req->chain_file, pool, IMPORT_MAX_CHAIN_CERTS, &npool);
    if (rc == CAIRN_OK)
        rc = build_path(req, cert, pool, npool, path, &n);
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++)
        rc = check_ca_cert(req->chain_file, path[i], req->now);
    if (rc == CAIRN_OK)
        rc = verify_chain(req, cert, path, n);
    if (rc == CAIRN_OK && n > CA_MAX_CHAIN) /* n - 1 intermediates above + cert */
        rc = imp_err(req->chain_file, "more than %d intermediates", CA_MAX_CHAIN);
    if (rc == CAIRN_OK) {
        ca->root = X509_dup(path[n - 1]);
        ca->chain_length = (int)n;
        for (size_t i = 0; i + 1 < n; i++) /* ints[0] is right under the root */
            ca->ints[i] = X509_dup(path[n - 2 - i]);
        ca->ints[n - 1] = cert;
        ca->int_keys[n - 1] = key;
        cert = NULL;
        key = NULL;
        ca->rsa = EVP_PKEY_is_a(ca->int_keys[n - 1], "RSA");
        for (size_t i = 0; i < n; i++)
            if (ca->ints[i] == NULL || ca->root == NULL)
                rc = CAIRN_ERR_NOMEM;
    }
    for (size_t i = 0; i < npool; i++)
        X509_free(pool[i]);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

/* An existing hierarchy: refused, or moved aside with --force. */
static int
clear_dir(const struct ca_import_req *req)
{
    char stray[256], aside[4096 + 64];
    int n;

    if (!ca_dir_exists_file(req->dir, "manifest.json") &&
        !ca_dir_find_stray(req->dir, stray, sizeof(stray)))
        return CAIRN_OK;
    if (!req->force) {
        fprintf(stderr, "cairn: ca import: %s already holds a CA hierarchy; use --force to "
                        "move it aside and import anyway\n", req->dir);
        return CAIRN_ERR_CONFLICT;
    }
    n = snprintf(aside, sizeof(aside), "%s.replaced-%lld", req->dir, (long long)req->now);
    if (n < 0 || (size_t)n >= sizeof(aside) || rename(req->dir, aside) != 0) {
        fprintf(stderr, "cairn: ca import: cannot move %s aside: %s\n", req->dir,
                strerror(errno));
        return CAIRN_ERR_IO;
    }
    fprintf(stderr, "cairn: ca import: the previous hierarchy was moved to %s\n", aside);
    return CAIRN_OK;
}

static int
load_material(const struct ca_import_req *req, X509 **cert, EVP_PKEY **key)
{
    X509 *certs[1] = { NULL };
    size_t n = 0;
    int rc = read_certs(req->cert_file, certs, 1, &n);

    *cert = certs[0];
    if (rc == CAIRN_OK)
        rc = read_key(req->key_file, key);
    if (rc == CAIRN_OK && X509_check_private_key(*cert, *key) != 1)
        rc = imp_err(req->key_file, "does not match the certificate %s", req->cert_file);
    if (rc == CAIRN_OK)
        rc = check_ca_cert(req->cert_file, *cert, req->now);
    return rc;
}

int
ca_import(const struct ca_import_req *req)
{
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    struct ca *ca = NULL;
    int rc;

    if (req == NULL || req->dir == NULL || req->cert_file == NULL || req->key_file == NULL ||
        req->chain_length < 1 || req->chain_length > CA_MAX_CHAIN)
        return CAIRN_ERR_INVAL;
    rc = load_material(req, &cert, &key);
    if (rc == CAIRN_OK && (ca = ca_new()) == NULL)
        rc = CAIRN_ERR_NOMEM;
    if (rc != CAIRN_OK) {
        X509_free(cert);
        EVP_PKEY_free(key);
        return rc;
    }
    ca->name = req->name ? req->name : "cairn";
    if (ca_issued_by(cert, cert)) {
        ca->root = cert;
        ca->root_key = key;
        rc = adopt_root(req, ca);
    } else {
        rc = adopt_intermediate(req, ca, cert, key);
    }
    if (rc == CAIRN_OK)
        rc = ca_derive_pems(ca);
    if (rc == CAIRN_OK)
        rc = clear_dir(req);
    if (rc == CAIRN_OK)
        rc = ca_dir_prepare(req->dir);
    if (rc == CAIRN_OK)
        rc = ca_persist(ca, req->dir, true);
    ca_free(ca);
    return rc;
}
