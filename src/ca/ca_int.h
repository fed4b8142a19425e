/* ca_int.h - internals shared by the files of src/ca/. Issuer keys never leave this module.
 *
 * struct ca is immutable after ca_open() except for sign_lock, which serializes every use of
 * an issuer private key (ARCHITECTURE.md §4 "signer lock"). */
#ifndef CAIRN_CA_INT_H
#define CAIRN_CA_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cairn/ca.h"

#define CA_MAX_CHAIN     8           /* intermediates between a leaf and the root */
#define CA_MAX_NAME      40          /* CA name in subjects: keeps every CN within 64 characters */
#define CA_MAX_FILE      (64 * 1024) /* any file of the hierarchy */
#define CA_SERIAL_LEN    16          /* random serials of CA and listener certificates */
#define CA_ROOT_DAYS     (30 * 365 + 8)
#define CA_INT_DAYS      (10 * 365 + 3)
#define CA_LISTENER_DAYS 365
#define CA_BACKDATE      60 /* seconds; absorbs small clock differences at relying parties */

struct ca {
    pthread_mutex_t sign_lock;
    bool rsa;
    int chain_length;
    X509 *root;
    EVP_PKEY *root_key;
    X509 *ints[CA_MAX_CHAIN]; /* ints[0] is int-1 (under the root); the last one issues leaves */
    EVP_PKEY *int_keys[CA_MAX_CHAIN];
    char *root_pem;
    char *issuer_pem;
    char *chain_pem;
    char fingerprint[65];
    /* Alternate roots: alt_roots[i] self-signed, alt_cross[i] the issuing intermediate's
     * subject and key issued by alt_roots[i]. */
    int nalt;
    X509 *alt_roots[CA_MAX_ALTERNATES];
    EVP_PKEY *alt_keys[CA_MAX_ALTERNATES];
    X509 *alt_cross[CA_MAX_ALTERNATES];
    char *alt_root_pem[CA_MAX_ALTERNATES];
    char *alt_cross_pem[CA_MAX_ALTERNATES];
    uint8_t *issuer_der;
    size_t issuer_der_len;
    const char *name; /* for alternates made after ca_open; borrowed from options */
};

/* statedir.c: files of the hierarchy. Errors are logged there, naming the path, except a
 * missing file on read (CAIRN_ERR_NOTFOUND), which the caller reports in context. */
int ca_dir_prepare(const char *dir) CAIRN_MUST_CHECK;
int ca_dir_sync(const char *dir) CAIRN_MUST_CHECK;
bool ca_dir_exists_file(const char *dir, const char *name);
int ca_file_write(const char *dir, const char *name, const void *buf, size_t len,
                  mode_t mode) CAIRN_MUST_CHECK;
/* *buf is NUL-terminated heap memory of *len bytes; the caller wipes (keys) and frees it. */
int ca_file_read(const char *dir, const char *name, char **buf, size_t *len) CAIRN_MUST_CHECK;
/* The first file name in dir that looks like part of a hierarchy, or false. */
bool ca_dir_find_stray(const char *dir, char *name, size_t namesz);

/* ca.c: shared by the loaders. */
X509 *ca_make_ca_cert(struct ca *ca, const char *name, X509 *parent, EVP_PKEY *parent_key,
                      EVP_PKEY *key);
/* Root PEM, chain PEM, fingerprint and issuer DER from the loaded certificates. */
int ca_derive_pems(struct ca *ca) CAIRN_MUST_CHECK;
/* Writes every certificate and held key plus the manifest (last) into dir. */
int ca_persist(struct ca *ca, const char *dir, bool imported) CAIRN_MUST_CHECK;
/* Reads a PEM certificate / private key file (password: NULL for an unencrypted key). The
 * error is logged naming dir/name. */
int ca_load_cert(const char *dir, const char *name, X509 **out) CAIRN_MUST_CHECK;
int ca_load_key(const char *dir, const char *name, const char *password, EVP_PKEY **out)
    CAIRN_MUST_CHECK;

/* alt.c: alternate roots. Makes alternates nalt..want-1 (in memory). */
int ca_alt_make(struct ca *ca, int want) CAIRN_MUST_CHECK;
int ca_alt_pems(struct ca *ca) CAIRN_MUST_CHECK;

/* xca.c: the x-ca layout. */
int ca_xca_load(struct ca *ca, const struct ca_options *o) CAIRN_MUST_CHECK;

/* x509.c: building blocks. */
EVP_PKEY *ca_keygen(bool rsa);
int ca_random_serial(uint8_t serial[CA_SERIAL_LEN]) CAIRN_MUST_CHECK;
int ca_set_serial(X509 *x, const uint8_t *serial, size_t len) CAIRN_MUST_CHECK;
int ca_set_validity(X509 *x, int64_t not_before, int64_t not_after) CAIRN_MUST_CHECK;
int ca_add_ext(X509 *x, X509 *issuer, int nid, const char *value) CAIRN_MUST_CHECK;
/* Signs x with key under the signer lock (SHA-256; ECDSA or RSA PKCS#1 v1.5). */
int ca_sign(struct ca *ca, X509 *x, EVP_PKEY *key) CAIRN_MUST_CHECK;
/* True when up issued x: names and key identifiers match and up's key verifies x. */
bool ca_issued_by(X509 *x, X509 *up);
char *ca_x509_pem(X509 *x);
/* PKCS#8 PEM of a private key, heap; the caller wipes and frees it. */
char *ca_key_pem(EVP_PKEY *key, size_t *len);
/* "RSA 2048", "ECDSA P-256", ...; false for key types cairn does not use as an issuer. */
bool ca_key_type(EVP_PKEY *key, char *out, size_t outsz);
X509 *ca_x509_from_der(const uint8_t *der, size_t der_len);
int ca_hex(const uint8_t *b, size_t n, char *out, size_t outsz) CAIRN_MUST_CHECK;

#endif
