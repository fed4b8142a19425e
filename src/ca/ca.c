/* ca.c - the issuer hierarchy: create it once, load it unchanged afterwards (ARCHITECTURE.md
 * §11). The manifest is written last, so its presence marks a complete hierarchy; files
 * without a manifest, or a manifest naming missing files, are an error for the operator. */
#include "cairn/ca.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca_int.h"
#include "cairn/log.h"
#include "cairn/rand.h"

#define MANIFEST         "manifest.json"
#define MANIFEST_VERSION 1

/* File names of one certificate and its key. */
struct ca_files {
    char cert[32];
    char key[32];
};

static void
files_for(int level, struct ca_files *f)
{
    if (level == 0) {
        snprintf(f->cert, sizeof(f->cert), "root.crt.pem");
        snprintf(f->key, sizeof(f->key), "root.key.pem");
    } else {
        snprintf(f->cert, sizeof(f->cert), "int-%d.crt.pem", level);
        snprintf(f->key, sizeof(f->key), "int-%d.key.pem", level);
    }
}

/* One CA certificate: subject "<name> root CA <hex>" or "<name> intermediate CA <hex>". */
X509 *
ca_make_ca_cert(struct ca *ca, const char *name, X509 *parent, EVP_PKEY *parent_key,
                EVP_PKEY *key)
{
    uint8_t serial[CA_SERIAL_LEN], suffix[3];
    char hex[7], cn[64 + 1];
    int64_t now = (int64_t)time(NULL);
    int days = parent == NULL ? CA_ROOT_DAYS : CA_INT_DAYS;
    X509 *x = X509_new();
    X509_NAME *subj;
    int n;

    if (x == NULL || ca_random_serial(serial) != CAIRN_OK || rand_bytes(suffix, 3) != CAIRN_OK ||
        ca_hex(suffix, 3, hex, sizeof(hex)) != CAIRN_OK)
        goto fail;
    n = snprintf(cn, sizeof(cn), "%s %s CA %s", name, parent ? "intermediate" : "root", hex);
    if (n < 0 || (size_t)n >= sizeof(cn))
        goto fail;
    subj = X509_get_subject_name(x);
    if (X509_set_version(x, X509_VERSION_3) != 1 ||
        ca_set_serial(x, serial, sizeof(serial)) != CAIRN_OK ||
        X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                   0) != 1 ||
        X509_set_issuer_name(x, parent ? X509_get_subject_name(parent) : subj) != 1 ||
        X509_set_pubkey(x, key) != 1 ||
        ca_set_validity(x, now - CA_BACKDATE, now + (int64_t)days * 86400) != CAIRN_OK)
        goto fail;
    /* SKI before AKI: a self-signed root's AKI copies its own SKI. */
    if (ca_add_ext(x, parent ? parent : x, NID_basic_constraints, "critical,CA:TRUE") ||
        ca_add_ext(x, parent ? parent : x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
        ca_add_ext(x, parent ? parent : x, NID_subject_key_identifier, "hash") ||
        ca_add_ext(x, parent ? parent : x, NID_authority_key_identifier, "keyid:always"))
        goto fail;
    if (ca_sign(ca, x, parent ? parent_key : key) != CAIRN_OK)
        goto fail;
    return x;
fail:
    log_openssl("ca", "building a CA certificate");
    X509_free(x);
    return NULL;
}

static int
issuer_der_make(struct ca *ca)
{
    unsigned char *q;
    int len = i2d_X509(ca->ints[ca->chain_length - 1], NULL);

    if (len <= 0)
        return CAIRN_ERR_CRYPTO;
    ca->issuer_der = malloc((size_t)len);
    if (ca->issuer_der == NULL)
        return CAIRN_ERR_NOMEM;
    q = ca->issuer_der;
    if (i2d_X509(ca->ints[ca->chain_length - 1], &q) != len)
        return CAIRN_ERR_CRYPTO;
    ca->issuer_der_len = (size_t)len;
    return CAIRN_OK;
}

int
ca_derive_pems(struct ca *ca)
{
    size_t total = 1, lens[CA_MAX_CHAIN];
    char *pems[CA_MAX_CHAIN] = { NULL };
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    int rc = CAIRN_ERR_NOMEM;

    ca->root_pem = ca_x509_pem(ca->root);
    ca->issuer_pem = ca_x509_pem(ca->ints[ca->chain_length - 1]);
    if (ca->root_pem == NULL || ca->issuer_pem == NULL)
        goto out;
    for (int i = 0; i < ca->chain_length; i++) {
        pems[i] = ca_x509_pem(ca->ints[i]);
        if (pems[i] == NULL)
            goto out;
        lens[i] = strlen(pems[i]);
        total += lens[i];
    }
    ca->chain_pem = malloc(total);
    if (ca->chain_pem == NULL)
        goto out;
    /* From the leaf's issuer up to the intermediate under the root. */
    ca->chain_pem[0] = '\0';
    for (size_t off = 0, i = (size_t)ca->chain_length; i-- > 0;) {
        memcpy(ca->chain_pem + off, pems[i], lens[i] + 1);
        off += lens[i];
    }
    if (X509_digest(ca->root, EVP_sha256(), md, &mdlen) != 1 ||
        ca_hex(md, mdlen, ca->fingerprint, sizeof(ca->fingerprint)) != CAIRN_OK) {
        rc = CAIRN_ERR_CRYPTO;
        goto out;
    }
    rc = issuer_der_make(ca);
    if (rc == CAIRN_OK)
        rc = ca_alt_pems(ca);
out:
    for (int i = 0; i < ca->chain_length; i++)
        free(pems[i]);
    return rc;
}

/* File names of alternate root n (1-based) and its cross-sign of the issuer. */
static void
alt_files(int n, struct ca_files *f, char cross[32])
{
    snprintf(f->cert, sizeof(f->cert), "alt-%d.crt.pem", n);
    snprintf(f->key, sizeof(f->key), "alt-%d.key.pem", n);
    snprintf(cross, 32, "alt-%d-cross.crt.pem", n);
}

static int
write_cert(const char *dir, const char *name, X509 *cert)
{
    char *cpem = ca_x509_pem(cert);
    int rc = cpem ? ca_file_write(dir, name, cpem, strlen(cpem), 0644) : CAIRN_ERR_NOMEM;

    free(cpem);
    return rc;
}

/* A certificate and, when held, its key (0600). */
static int
write_pair(const char *dir, const struct ca_files *f, X509 *cert, EVP_PKEY *key)
{
    size_t klen = 0;
    char *kpem;
    int rc;

    if (key != NULL) {
        kpem = ca_key_pem(key, &klen);
        if (kpem == NULL)
            return CAIRN_ERR_NOMEM;
        rc = ca_file_write(dir, f->key, kpem, klen, 0600);
        OPENSSL_cleanse(kpem, klen);
        free(kpem);
        if (rc != CAIRN_OK)
            return rc;
    }
    return write_cert(dir, f->cert, cert);
}

static json_t *
manifest_pair(const struct ca_files *f, bool has_key)
{
    return has_key ? json_pack("{s:s,s:s}", "cert", f->cert, "key", f->key)
                   : json_pack("{s:s}", "cert", f->cert);
}

static json_t *
manifest_build(const struct ca *ca, bool imported)
{
    json_t *m = json_object(), *ints = json_array(), *alts = json_array();
    struct ca_files f;
    char cross[32];

    if (m == NULL || ints == NULL || alts == NULL) {
        json_decref(m);
        json_decref(ints);
        json_decref(alts);
        return NULL;
    }
    files_for(0, &f);
    json_object_set_new(m, "version", json_integer(MANIFEST_VERSION));
    json_object_set_new(m, "keyAlgorithm", json_string(ca->rsa ? "rsa" : "ecdsa"));
    json_object_set_new(m, "chainLength", json_integer(ca->chain_length));
    json_object_set_new(m, "root", manifest_pair(&f, ca->root_key != NULL));
    for (int i = 1; i <= ca->chain_length; i++) {
        files_for(i, &f);
        json_array_append_new(ints, manifest_pair(&f, ca->int_keys[i - 1] != NULL));
    }
    json_object_set_new(m, "intermediates", ints);
    for (int i = 1; i <= ca->nalt; i++) {
        alt_files(i, &f, cross);
        json_array_append_new(alts, json_pack("{s:o,s:s}", "root", manifest_pair(&f, true),
                                              "cross", cross));
    }
    json_object_set_new(m, "alternates", alts);
    if (imported)
        json_object_set_new(m, "imported", json_true());
    json_object_set_new(m, "rootFingerprint", json_string(ca->fingerprint));
    return m;
}

static int
write_manifest(const char *dir, const struct ca *ca, bool imported)
{
    json_t *m = manifest_build(ca, imported);
    char *s = m ? json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    int rc = s ? ca_file_write(dir, MANIFEST, s, strlen(s), 0644) : CAIRN_ERR_NOMEM;

    free(s);
    json_decref(m);
    return rc;
}

int
ca_persist(struct ca *ca, const char *dir, bool imported)
{
    struct ca_files f;
    char cross[32];
    int rc;

    files_for(0, &f);
    rc = write_pair(dir, &f, ca->root, ca->root_key);
    for (int i = 0; i < ca->chain_length && rc == CAIRN_OK; i++) {
        files_for(i + 1, &f);
        rc = write_pair(dir, &f, ca->ints[i], ca->int_keys[i]);
    }
    for (int i = 0; i < ca->nalt && rc == CAIRN_OK; i++) {
        alt_files(i + 1, &f, cross);
        rc = write_pair(dir, &f, ca->alt_roots[i], ca->alt_keys[i]);
        if (rc == CAIRN_OK)
            rc = write_cert(dir, cross, ca->alt_cross[i]);
    }
    if (rc == CAIRN_OK)
        rc = ca_dir_sync(dir);
    /* Last: the manifest's presence means every other file is durable. */
    if (rc == CAIRN_OK)
        rc = write_manifest(dir, ca, imported);
    if (rc == CAIRN_OK)
        rc = ca_dir_sync(dir);
    return rc;
}

static int
create_hierarchy(struct ca *ca, const struct ca_options *o)
{
    const char *name = o->name ? o->name : "cairn";
    int rc;

    log_info("ca", "creating a %s hierarchy with %d intermediate(s) in %s",
             o->rsa ? "RSA-2048" : "ECDSA P-256", o->chain_length, o->dir);
    ca->rsa = o->rsa;
    ca->chain_length = o->chain_length;
    ca->root_key = ca_keygen(ca->rsa);
    if (ca->root_key == NULL)
        return CAIRN_ERR_CRYPTO;
    ca->root = ca_make_ca_cert(ca, name, NULL, NULL, ca->root_key);
    if (ca->root == NULL)
        return CAIRN_ERR_CRYPTO;
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
    rc = ca_alt_make(ca, o->alternate_roots);
    if (rc == CAIRN_OK)
        rc = ca_derive_pems(ca);
    if (rc == CAIRN_OK)
        rc = ca_persist(ca, o->dir, false);
    return rc;
}

struct pem_pw {
    const char *pw;
};

static int
pem_password(char *buf, int size, int rwflag, void *u)
{
    const struct pem_pw *p = u;
    size_t n;

    (void)rwflag;
    /* No password: never prompt on a terminal, fail instead. */
    if (p == NULL || p->pw == NULL || size <= 0)
        return -1;
    n = strlen(p->pw);
    if (n > (size_t)size)
        return -1;
    memcpy(buf, p->pw, n);
    return (int)n;
}

static int
read_file_logged(const char *dir, const char *name, char **buf, size_t *len)
{
    int rc = ca_file_read(dir, name, buf, len);

    if (rc == CAIRN_ERR_NOTFOUND) {
        log_err("ca", "%s/%s is missing", dir, name);
        rc = CAIRN_ERR_IO;
    }
    return rc;
}

/* A manifest file name: a plain name inside the directory. */
static bool
safe_name(const char *s)
{
    return s != NULL && s[0] != '\0' && s[0] != '.' && strchr(s, '/') == NULL && strlen(s) < 64;
}

int
ca_load_cert(const char *dir, const char *name, X509 **out)
{
    char *buf = NULL;
    size_t len = 0;
    BIO *b;
    int rc = read_file_logged(dir, name, &buf, &len);

    if (rc != CAIRN_OK)
        return rc;
    b = BIO_new_mem_buf(buf, (int)len);
    *out = b ? PEM_read_bio_X509(b, NULL, pem_password, NULL) : NULL;
    BIO_free(b);
    free(buf);
    if (*out == NULL) {
        log_openssl("ca", "certificate");
        log_err("ca", "%s/%s holds no PEM certificate", dir, name);
        return CAIRN_ERR_IO;
    }
    return CAIRN_OK;
}

int
ca_load_key(const char *dir, const char *name, const char *password, EVP_PKEY **out)
{
    struct pem_pw pw = { password };
    char *buf = NULL;
    size_t len = 0;
    BIO *b;
    int rc = read_file_logged(dir, name, &buf, &len);

    if (rc != CAIRN_OK)
        return rc;
    b = BIO_new_mem_buf(buf, (int)len);
    *out = b ? PEM_read_bio_PrivateKey(b, NULL, pem_password, &pw) : NULL;
    BIO_free(b);
    OPENSSL_cleanse(buf, len);
    free(buf);
    if (*out == NULL) {
        ERR_clear_error(); /* the queue might quote key material context; do not log it */
        if (password != NULL)
            log_err("ca", "%s/%s: cannot decrypt the private key (wrong password?)", dir,
                    name);
        else
            log_err("ca", "%s/%s holds no unencrypted PEM private key", dir, name);
        return CAIRN_ERR_IO;
    }
    return CAIRN_OK;
}

/* A certificate and its key; the key may be absent from the manifest unless need_key. */
static int
load_pair(const char *dir, const json_t *entry, bool need_key, X509 **cert, EVP_PKEY **key)
{
    const char *c = json_string_value(json_object_get(entry, "cert"));
    const char *k = json_string_value(json_object_get(entry, "key"));
    int rc;

    if (!safe_name(c) || (k != NULL && !safe_name(k)) || (k == NULL && need_key)) {
        log_err("ca", "%s/%s names a bad file", dir, MANIFEST);
        return CAIRN_ERR_IO;
    }
    rc = ca_load_cert(dir, c, cert);
    if (rc == CAIRN_OK && k != NULL)
        rc = ca_load_key(dir, k, NULL, key);
    if (rc == CAIRN_OK && k != NULL && X509_check_private_key(*cert, *key) != 1) {
        ERR_clear_error();
        log_err("ca", "%s/%s does not match %s", dir, k, c);
        rc = CAIRN_ERR_IO;
    }
    if (rc == CAIRN_OK && X509_check_ca(*cert) < 1) {
        log_err("ca", "%s/%s is not a CA certificate", dir, c);
        rc = CAIRN_ERR_IO;
    }
    return rc;
}

/* Each certificate must be signed by the one above it, the root by itself; each cross-sign
 * by its alternate root, with the issuer's subject and key. */
static int
verify_links(const struct ca *ca, const char *dir)
{
    X509 *issuer = ca->ints[ca->chain_length - 1];

    for (int i = -1; i < ca->chain_length; i++) {
        X509 *x = i < 0 ? ca->root : ca->ints[i];
        X509 *up = i <= 0 ? ca->root : ca->ints[i - 1];

        if (!ca_issued_by(x, up)) {
            log_err("ca", "hierarchy in %s is inconsistent: level %d is not issued by level %d",
                    dir, i + 1, i < 0 ? 0 : i);
            return CAIRN_ERR_IO;
        }
    }
    for (int i = 0; i < ca->nalt; i++) {
        if (!ca_issued_by(ca->alt_roots[i], ca->alt_roots[i]) ||
            !ca_issued_by(ca->alt_cross[i], ca->alt_roots[i]) ||
            X509_NAME_cmp(X509_get_subject_name(ca->alt_cross[i]),
                          X509_get_subject_name(issuer)) != 0 ||
            EVP_PKEY_eq(X509_get0_pubkey(ca->alt_cross[i]), X509_get0_pubkey(issuer)) != 1) {
            ERR_clear_error();
            log_err("ca", "hierarchy in %s is inconsistent: alternate %d", dir, i + 1);
            return CAIRN_ERR_IO;
        }
    }
    return CAIRN_OK;
}

static int
parse_manifest(const char *dir, json_t **out)
{
    char *buf = NULL;
    size_t len = 0;
    json_error_t err;
    int rc = read_file_logged(dir, MANIFEST, &buf, &len);

    if (rc != CAIRN_OK)
        return rc;
    *out = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
    free(buf);
    if (*out == NULL || !json_is_object(*out)) {
        log_err("ca", "%s/%s does not parse: %s", dir, MANIFEST, err.text);
        json_decref(*out);
        *out = NULL;
        return CAIRN_ERR_IO;
    }
    return CAIRN_OK;
}

static int
load_alternates(struct ca *ca, const char *dir, const json_t *alts)
{
    int rc = CAIRN_OK;

    if (alts == NULL)
        return CAIRN_OK;
    if (!json_is_array(alts) || json_array_size(alts) > CA_MAX_ALTERNATES) {
        log_err("ca", "%s/%s: bad alternates", dir, MANIFEST);
        return CAIRN_ERR_IO;
    }
    for (size_t i = 0; i < json_array_size(alts) && rc == CAIRN_OK; i++) {
        const json_t *a = json_array_get(alts, i);
        const char *cross = json_string_value(json_object_get(a, "cross"));

        if (!safe_name(cross)) {
            log_err("ca", "%s/%s names a bad file", dir, MANIFEST);
            return CAIRN_ERR_IO;
        }
        rc = load_pair(dir, json_object_get(a, "root"), true, &ca->alt_roots[i],
                       &ca->alt_keys[i]);
        if (rc == CAIRN_OK)
            rc = ca_load_cert(dir, cross, &ca->alt_cross[i]);
        if (rc == CAIRN_OK)
            ca->nalt = (int)i + 1;
    }
    return rc;
}

static int
manifest_check(const json_t *m, const char *dir)
{
    const json_t *ints = json_object_get(m, "intermediates");
    const char *alg = json_string_value(json_object_get(m, "keyAlgorithm"));

    if (json_integer_value(json_object_get(m, "version")) != MANIFEST_VERSION || alg == NULL ||
        (strcmp(alg, "rsa") != 0 && strcmp(alg, "ecdsa") != 0) || !json_is_array(ints) ||
        json_array_size(ints) < 1 || json_array_size(ints) > CA_MAX_CHAIN ||
        json_integer_value(json_object_get(m, "chainLength")) !=
            (json_int_t)json_array_size(ints)) {
        log_err("ca", "%s/%s: bad version, keyAlgorithm, chainLength or intermediates", dir,
                MANIFEST);
        return CAIRN_ERR_IO;
    }
    return CAIRN_OK;
}

static int
load_hierarchy(struct ca *ca, const char *dir)
{
    json_t *m = NULL, *ints;
    const char *fp;
    int rc = parse_manifest(dir, &m);

    if (rc != CAIRN_OK)
        return rc;
    rc = manifest_check(m, dir);
    if (rc != CAIRN_OK)
        goto out;
    ints = json_object_get(m, "intermediates");
    ca->rsa = strcmp(json_string_value(json_object_get(m, "keyAlgorithm")), "rsa") == 0;
    ca->chain_length = (int)json_array_size(ints);
    /* Only the issuing intermediate's key is required: an imported intermediate comes
     * without the keys above it. */
    rc = load_pair(dir, json_object_get(m, "root"), false, &ca->root, &ca->root_key);
    for (int i = 0; i < ca->chain_length && rc == CAIRN_OK; i++)
        rc = load_pair(dir, json_array_get(ints, (size_t)i), i == ca->chain_length - 1,
                       &ca->ints[i], &ca->int_keys[i]);
    if (rc == CAIRN_OK)
        rc = load_alternates(ca, dir, json_object_get(m, "alternates"));
    if (rc == CAIRN_OK)
        rc = verify_links(ca, dir);
    if (rc == CAIRN_OK)
        rc = ca_derive_pems(ca);
    fp = json_string_value(json_object_get(m, "rootFingerprint"));
    if (rc == CAIRN_OK && fp != NULL && strcmp(fp, ca->fingerprint) != 0) {
        log_err("ca", "%s: the root certificate does not match rootFingerprint in %s", dir,
                MANIFEST);
        rc = CAIRN_ERR_IO;
    }
out:
    json_decref(m);
    return rc;
}

/* A stored hierarchy gains the alternate roots asked for that it does not have yet. */
static int
add_alternates(struct ca *ca, const struct ca_options *o)
{
    json_t *m = NULL;
    bool imported;
    int rc;

    if (o->alternate_roots <= ca->nalt)
        return CAIRN_OK;
    rc = parse_manifest(o->dir, &m);
    if (rc != CAIRN_OK)
        return rc;
    imported = json_is_true(json_object_get(m, "imported"));
    json_decref(m);
    log_info("ca", "adding %d alternate root(s) in %s", o->alternate_roots - ca->nalt, o->dir);
    rc = ca_alt_make(ca, o->alternate_roots);
    if (rc == CAIRN_OK)
        rc = ca_alt_pems(ca);
    if (rc == CAIRN_OK)
        rc = ca_persist(ca, o->dir, imported);
    return rc;
}

static int
options_check(const struct ca_options *o)
{
    if (o == NULL || ((o->dir == NULL || o->dir[0] == '\0') && o->x_ca_path == NULL))
        return CAIRN_ERR_INVAL;
    if (o->chain_length < 1 || o->chain_length > CA_MAX_CHAIN)
        return CAIRN_ERR_INVAL;
    if (o->name != NULL && (o->name[0] == '\0' || strlen(o->name) > CA_MAX_NAME))
        return CAIRN_ERR_INVAL;
    if (o->alternate_roots < 0 || o->alternate_roots > CA_MAX_ALTERNATES)
        return CAIRN_ERR_INVAL;
    return CAIRN_OK;
}

static int
open_dir(struct ca *ca, const struct ca_options *o)
{
    char stray[256];
    int rc;

    if (o->no_create && !ca_dir_exists_file(o->dir, MANIFEST) &&
        !ca_dir_find_stray(o->dir, stray, sizeof(stray)))
        return CAIRN_ERR_NOTFOUND;
    rc = ca_dir_prepare(o->dir);
    if (rc != CAIRN_OK)
        return rc;
    if (ca_dir_exists_file(o->dir, MANIFEST)) {
        rc = load_hierarchy(ca, o->dir);
        if (rc == CAIRN_OK && !o->no_create)
            rc = add_alternates(ca, o);
    } else if (ca_dir_find_stray(o->dir, stray, sizeof(stray))) {
        /* Never regenerate over what may be the only copy of an issuer key. */
        log_err("ca", "hierarchy in %s is incomplete: %s exists but %s is missing", o->dir, stray,
                MANIFEST);
        rc = CAIRN_ERR_IO;
    } else {
        rc = create_hierarchy(ca, o);
    }
    return rc;
}

int
ca_open(const struct ca_options *o, struct ca **out)
{
    struct ca *ca;
    int rc;

    *out = NULL;
    rc = options_check(o);
    if (rc != CAIRN_OK)
        return rc;
    ca = calloc(1, sizeof(*ca));
    if (ca == NULL)
        return CAIRN_ERR_NOMEM;
    if (pthread_mutex_init(&ca->sign_lock, NULL) != 0) {
        free(ca);
        return CAIRN_ERR_NOMEM;
    }
    ca->name = o->name ? o->name : "cairn";
    rc = o->x_ca_path != NULL ? ca_xca_load(ca, o) : open_dir(ca, o);
    if (rc == CAIRN_OK)
        log_info("ca", "hierarchy ready in %s: root sha256 %s",
                 o->x_ca_path ? o->x_ca_path : o->dir, ca->fingerprint);
    if (rc != CAIRN_OK) {
        ca_free(ca);
        return rc;
    }
    *out = ca;
    return CAIRN_OK;
}

void
ca_free(struct ca *ca)
{
    if (ca == NULL)
        return;
    for (int i = 0; i < CA_MAX_CHAIN; i++) {
        X509_free(ca->ints[i]);
        EVP_PKEY_free(ca->int_keys[i]);
    }
    for (int i = 0; i < CA_MAX_ALTERNATES; i++) {
        X509_free(ca->alt_roots[i]);
        EVP_PKEY_free(ca->alt_keys[i]);
        X509_free(ca->alt_cross[i]);
        free(ca->alt_root_pem[i]);
        free(ca->alt_cross_pem[i]);
    }
    X509_free(ca->root);
    EVP_PKEY_free(ca->root_key);
    free(ca->root_pem);
    free(ca->issuer_pem);
    free(ca->chain_pem);
    free(ca->issuer_der);
    pthread_mutex_destroy(&ca->sign_lock);
    free(ca);
}


const char *
ca_root_pem(const struct ca *ca)
{
    return ca->root_pem;
}

const char *
ca_issuer_pem(const struct ca *ca)
{
    return ca->issuer_pem;
}

const char *
ca_chain_pem(const struct ca *ca)
{
    return ca->chain_pem;
}

const char *
ca_root_fingerprint(const struct ca *ca)
{
    return ca->fingerprint;
}
