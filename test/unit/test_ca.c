/* test_ca.c - the issuer hierarchy, leaf issuance and certificate utilities. */
/* cmocka.h needs these before it, in this order. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include <dirent.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cairn/ca.h"
#include "cairn/log.h"

struct fixture {
    char dir[64];
    struct ca *ca;
};

static void
rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static int
open_ca(struct fixture *f, bool rsa, int chain_length)
{
    struct ca_options o = {
        .dir = f->dir, .rsa = rsa, .chain_length = chain_length, .name = "cairn"
    };
    return ca_open(&o, &f->ca);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/cairn-ca-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    /* A subdirectory that ca_open() must create itself. */
    strncat(f->dir, "/ca", sizeof(f->dir) - strlen(f->dir) - 1);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char *slash;

    ca_free(f->ca);
    rm_tree(f->dir);
    slash = strrchr(f->dir, '/');
    *slash = '\0';
    rmdir(f->dir);
    free(f);
    return 0;
}

static char *
path_of(const struct fixture *f, const char *name)
{
    static char path[512];

    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    return path;
}

static mode_t
mode_of(const struct fixture *f, const char *name)
{
    struct stat st;

    assert_int_equal(stat(path_of(f, name), &st), 0);
    return st.st_mode & 0777;
}

static X509 *
pem_to_x509(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);

    BIO_free(b);
    return x;
}

static STACK_OF(X509) * pem_to_stack(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    STACK_OF(X509) *sk = sk_X509_new_null();
    X509 *x;

    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
        sk_X509_push(sk, x);
    ERR_clear_error();
    BIO_free(b);
    return sk;
}

/* X509_verify_cert of leaf against the CA's root, with chain as untrusted intermediates. */
static int
verify_chain(const struct ca *ca, X509 *leaf, const char *chain_pem)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509 *root = pem_to_x509(ca_root_pem(ca));
    STACK_OF(X509) *chain = pem_to_stack(chain_pem);
    int ok;

    assert_non_null(root);
    X509_STORE_add_cert(store, root);
    X509_STORE_CTX_init(ctx, store, leaf, chain);
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    ok = X509_verify_cert(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(root);
    sk_X509_pop_free(chain, X509_free);
    return ok;
}

static int
count_blocks(const char *pem)
{
    int n = 0;

    for (const char *q = pem; (q = strstr(q, "-----BEGIN CERTIFICATE-----")) != NULL; q++)
        n++;
    return n;
}

static void
test_create_files_and_modes(void **state)
{
    struct fixture *f = *state;
    static const char *const keys[] = { "root.key.pem", "int-1.key.pem" };
    static const char *const certs[] = { "root.crt.pem", "int-1.crt.pem", "manifest.json" };
    struct stat st;

    assert_int_equal(open_ca(f, false, 1), CAIRN_OK);
    assert_int_equal(stat(f->dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(mode_of(f, keys[i]), 0600);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(mode_of(f, certs[i]), 0644);
    assert_int_equal(stat(path_of(f, "int-2.crt.pem"), &st), -1);
    assert_int_equal(strlen(ca_root_fingerprint(f->ca)), 64);
    assert_int_equal(count_blocks(ca_root_pem(f->ca)), 1);
    assert_int_equal(count_blocks(ca_chain_pem(f->ca)), 1);
    assert_string_equal(ca_chain_pem(f->ca), ca_issuer_pem(f->ca));
}

static void
assert_subject(const char *pem, const char *prefix)
{
    X509 *x = pem_to_x509(pem);
    char cn[128];
    size_t plen = strlen(prefix);

    assert_non_null(x);
    assert_true(
        X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn)) > 0);
    assert_int_equal(strncmp(cn, prefix, plen), 0);
    assert_int_equal(strlen(cn), plen + 6); /* 6 hex characters */
    assert_int_equal(strspn(cn + plen, "0123456789abcdef"), 6);
    assert_int_equal(X509_check_ca(x), 1);
    assert_true((X509_get_key_usage(x) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) ==
                (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
    assert_non_null(X509_get0_subject_key_id(x));
    assert_non_null(X509_get0_authority_key_id(x));
    X509_free(x);
}

static void
test_ca_subjects_and_extensions(void **state)
{
    struct fixture *f = *state;
    X509 *root;
    time_t life;
    int days = 0, secs = 0;

    assert_int_equal(open_ca(f, false, 1), CAIRN_OK);
    assert_subject(ca_root_pem(f->ca), "cairn root CA ");
    assert_subject(ca_issuer_pem(f->ca), "cairn intermediate CA ");
    root = pem_to_x509(ca_root_pem(f->ca));
    assert_true(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(root), X509_get0_notAfter(root)));
    life = days / 365;
    assert_true(life >= 29 && life <= 31);
    X509_free(root);
}

static void
test_reload_same_root(void **state)
{
    struct fixture *f = *state;
    char fp[65], issuer[4096];

    assert_int_equal(open_ca(f, false, 1), CAIRN_OK);
    snprintf(fp, sizeof(fp), "%s", ca_root_fingerprint(f->ca));
    snprintf(issuer, sizeof(issuer), "%s", ca_issuer_pem(f->ca));
    ca_free(f->ca);
    f->ca = NULL;
    /* The stored hierarchy wins over the options (RSA, chain 3 ignored). */
    assert_int_equal(open_ca(f, true, 3), CAIRN_OK);
    assert_string_equal(ca_root_fingerprint(f->ca), fp);
    assert_string_equal(ca_issuer_pem(f->ca), issuer);
    assert_int_equal(count_blocks(ca_chain_pem(f->ca)), 1);
}

static void
test_partial_missing_key(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(open_ca(f, false, 1), CAIRN_OK);
    ca_free(f->ca);
    f->ca = NULL;
    assert_int_equal(unlink(path_of(f, "int-1.key.pem")), 0);
    assert_int_equal(open_ca(f, false, 1), CAIRN_ERR_IO);
    assert_null(f->ca);
    /* Nothing was regenerated behind our back. */
    assert_int_equal(access(path_of(f, "int-1.key.pem"), F_OK), -1);
}

static void
test_partial_missing_manifest(void **state)
{
    struct fixture *f = *state;
    char fp[65];

    assert_int_equal(open_ca(f, false, 1), CAIRN_OK);
    snprintf(fp, sizeof(fp), "%s", ca_root_fingerprint(f->ca));
    ca_free(f->ca);
    f->ca = NULL;
    assert_int_equal(unlink(path_of(f, "manifest.json")), 0);
    assert_int_equal(open_ca(f, false, 1), CAIRN_ERR_IO);
    assert_int_equal(access(path_of(f, "manifest.json"), F_OK), -1);
}

static void
test_mismatched_key(void **state)
{
    struct fixture *f = *state;
    char from[512], cmd[1200];

    assert_int_equal(open_ca(f, false, 1), CAIRN_OK);
    ca_free(f->ca);
    f->ca = NULL;
    /* The root key where the intermediate's belongs: present but not matching. */
    snprintf(from, sizeof(from), "%s", path_of(f, "root.key.pem"));
    snprintf(cmd, sizeof(cmd), "cp %s %s", from, path_of(f, "int-1.key.pem"));
    assert_int_equal(system(cmd), 0);
    assert_int_equal(open_ca(f, false, 1), CAIRN_ERR_IO);
    /* A manifest that names a path outside the directory. */
    snprintf(cmd, sizeof(cmd), "sed -i 's|int-1.key.pem|../int-1.key.pem|' %s",
             path_of(f, "manifest.json"));
    assert_int_equal(system(cmd), 0);
    assert_int_equal(open_ca(f, false, 1), CAIRN_ERR_IO);
}

static void
test_bad_options(void **state)
{
    struct fixture *f = *state;
    struct ca_options o = { .dir = f->dir, .chain_length = 0, .name = "cairn" };

    assert_int_equal(ca_open(&o, &f->ca), CAIRN_ERR_INVAL);
    o.chain_length = 1;
    o.dir = NULL;
    assert_int_equal(ca_open(&o, &f->ca), CAIRN_ERR_INVAL);
    assert_null(f->ca);
}

static const uint8_t serial20[20] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x10, 0x32,
                                      0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0x00, 0x11, 0x22, 0x33 };

static X509 *
issue(struct ca *ca, EVP_PKEY *key, const struct ident *ids, size_t n, bool cn, int *rc_out)
{
    int64_t now = (int64_t)time(NULL);
    struct ca_leaf_req req = { serial20, sizeof(serial20), key, ids, n,
                               now - 60, now + 90 * 86400, cn, NULL, NULL };
    uint8_t *der = NULL;
    size_t len = 0;
    const unsigned char *q;
    X509 *x;

    *rc_out = ca_issue_leaf(ca, &req, &der, &len);
    if (*rc_out != CAIRN_OK)
        return NULL;
    q = der;
    x = d2i_X509(NULL, &q, (long)len);
    assert_ptr_equal(q, der + len);
    free(der);
    return x;
}

static const struct ident leaf_ids[] = {
    { IDENT_DNS, false, "www.example.org" },
    { IDENT_DNS, true, "*.example.org" },
    { IDENT_IP, false, "192.0.2.7" },
    { IDENT_IP, false, "2001:db8::1" },
};

static void
check_sans(X509 *x)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    static const uint8_t v4[4] = { 192, 0, 2, 7 };
    static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    GENERAL_NAME *g;

    assert_non_null(gens);
    assert_int_equal(sk_GENERAL_NAME_num(gens), 4);
    g = sk_GENERAL_NAME_value(gens, 0);
    assert_int_equal(g->type, GEN_DNS);
    assert_string_equal((const char *)ASN1_STRING_get0_data(g->d.dNSName), "www.example.org");
    g = sk_GENERAL_NAME_value(gens, 1);
    assert_int_equal(g->type, GEN_DNS);
    assert_string_equal((const char *)ASN1_STRING_get0_data(g->d.dNSName), "*.example.org");
    g = sk_GENERAL_NAME_value(gens, 2);
    assert_int_equal(g->type, GEN_IPADD);
    assert_int_equal(ASN1_STRING_length(g->d.iPAddress), 4);
    assert_memory_equal(ASN1_STRING_get0_data(g->d.iPAddress), v4, 4);
    g = sk_GENERAL_NAME_value(gens, 3);
    assert_int_equal(g->type, GEN_IPADD);
    assert_memory_equal(ASN1_STRING_get0_data(g->d.iPAddress), v6, 16);
    GENERAL_NAMES_free(gens);
}

static bool
ext_critical(X509 *x, int nid)
{
    int idx = X509_get_ext_by_NID(x, nid, -1);

    assert_true(idx >= 0);
    return X509_EXTENSION_get_critical(X509_get_ext(x, idx)) == 1;
}

static void
check_leaf_exts(X509 *x, bool rsa_key)
{
    uint32_t ku = X509_get_key_usage(x);

    assert_int_equal(X509_check_ca(x), 0);
    assert_true(ext_critical(x, NID_basic_constraints));
    assert_true(ext_critical(x, NID_key_usage));
    assert_false(ext_critical(x, NID_ext_key_usage));
    assert_true((ku & KU_DIGITAL_SIGNATURE) != 0);
    assert_int_equal((ku & KU_KEY_ENCIPHERMENT) != 0, rsa_key);
    assert_int_equal(ku & KU_KEY_CERT_SIGN, 0);
    assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_SERVER);
    assert_non_null(X509_get0_subject_key_id(x));
    assert_non_null(X509_get0_authority_key_id(x));
}

static void
check_serial(X509 *x)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    uint8_t buf[20];

    assert_int_equal(BN_num_bytes(bn), 20);
    assert_int_equal(BN_bn2bin(bn, buf), 20);
    assert_memory_equal(buf, serial20, 20);
    BN_free(bn);
}

static void
test_issue_leaf(void **state)
{
    struct fixture *f = *state;
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    char cn[128];
    X509 *x;
    int rc;

    assert_int_equal(open_ca(f, false, 1), CAIRN_OK);
    x = issue(f->ca, key, leaf_ids, 4, false, &rc);
    assert_int_equal(rc, CAIRN_OK);
    assert_int_equal(verify_chain(f->ca, x, ca_chain_pem(f->ca)), 1);
    check_sans(x);
    check_leaf_exts(x, false);
    check_serial(x);
    /* Without a CN the subject is empty and the SAN extension critical. */
    assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 0);
    assert_true(ext_critical(x, NID_subject_alt_name));
    assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), key), 1);
    X509_free(x);

    x = issue(f->ca, key, leaf_ids, 4, true, &rc);
    assert_int_equal(rc, CAIRN_OK);
    assert_true(
        X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn)) > 0);
    assert_string_equal(cn, "www.example.org");
    assert_false(ext_critical(x, NID_subject_alt_name));
    X509_free(x);

    /* A leaf that does not verify without the intermediate (untrusted chain missing). */
    x = issue(f->ca, key, leaf_ids, 1, false, &rc);
    assert_int_equal(verify_chain(f->ca, x, ""), 0);
    X509_free(x);
    EVP_PKEY_free(key);
}

static void
test_issue_leaf_bad_requests(void **state)
{
    struct fixture *f = *state;
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    static const struct ident bad_ip = { IDENT_IP, false, "10.0.0.256" };
    uint8_t neg[16] = { 0x80, 1 }, zero[16] = { 0 };
    int64_t now = (int64_t)time(NULL);
    struct ca_leaf_req req = { serial20, 20, key, leaf_ids, 1, now, now + 3600, false, NULL, NULL };
    uint8_t *der = NULL;
    size_t len = 0;

    assert_int_equal(open_ca(f, false, 1), CAIRN_OK);
    assert_int_equal(ca_issue_leaf(f->ca, &req, &der, &len), CAIRN_OK);
    free(der);
    req.serial_len = 15;
    assert_int_equal(ca_issue_leaf(f->ca, &req, &der, &len), CAIRN_ERR_INVAL);
    req.serial = neg;
    req.serial_len = 16;
    assert_int_equal(ca_issue_leaf(f->ca, &req, &der, &len), CAIRN_ERR_INVAL);
    req.serial = zero;
    assert_int_equal(ca_issue_leaf(f->ca, &req, &der, &len), CAIRN_ERR_INVAL);
    req.serial = serial20;
    req.not_after = now - 1;
    assert_int_equal(ca_issue_leaf(f->ca, &req, &der, &len), CAIRN_ERR_INVAL);
    req.not_after = now + 3600;
    req.nidents = 0;
    assert_int_equal(ca_issue_leaf(f->ca, &req, &der, &len), CAIRN_ERR_INVAL);
    req.idents = &bad_ip;
    req.nidents = 1;
    assert_int_equal(ca_issue_leaf(f->ca, &req, &der, &len), CAIRN_ERR_INVAL);
    assert_null(der);
    EVP_PKEY_free(key);
}

static X509 *
self_signed(EVP_PKEY *key, const char *cn)
{
    X509 *x = X509_new();

    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 12345);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_sign(x, key, EVP_sha256());
    return x;
}

static size_t
to_der(X509 *x, uint8_t **der)
{
    int len = i2d_X509(x, NULL);
    unsigned char *q;

    *der = malloc((size_t)len + 1);
    q = *der;
    assert_int_equal(i2d_X509(x, &q), len);
    return (size_t)len;
}

static void
test_serial_if_ours(void **state)
{
    struct fixture *f = *state;
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    char hex[CAIRN_SERIAL_HEX_MAX + 1];
    uint8_t *der;
    size_t len;
    X509 *x, *foreign, *spoof;
    int rc;

    assert_int_equal(open_ca(f, false, 1), CAIRN_OK);
    x = issue(f->ca, key, leaf_ids, 2, false, &rc);
    len = to_der(x, &der);
    assert_int_equal(ca_cert_serial_if_ours(f->ca, der, len, hex), CAIRN_OK);
    assert_string_equal(hex, "123456789abcdef1032547698badcfe00112233");
    /* Trailing garbage: not exactly one certificate. */
    der[len] = 0;
    assert_int_equal(ca_cert_serial_if_ours(f->ca, der, len + 1, hex), CAIRN_ERR_INVAL);
    assert_int_equal(ca_cert_serial_if_ours(f->ca, der, len - 1, hex), CAIRN_ERR_INVAL);
    free(der);

    foreign = self_signed(key, "foreign");
    len = to_der(foreign, &der);
    assert_int_equal(ca_cert_serial_if_ours(f->ca, der, len, hex), CAIRN_ERR_NOTFOUND);
    free(der);

    /* Same issuer name as ours but signed by another key. */
    spoof = self_signed(key, "x");
    X509_set_issuer_name(spoof, X509_get_issuer_name(x));
    X509_sign(spoof, key, EVP_sha256());
    len = to_der(spoof, &der);
    assert_int_equal(ca_cert_serial_if_ours(f->ca, der, len, hex), CAIRN_ERR_NOTFOUND);
    free(der);
    X509_free(spoof);
    X509_free(foreign);
    X509_free(x);
    EVP_PKEY_free(key);
}

static void
test_der_to_pem_and_pubkey(void **state)
{
    struct fixture *f = *state;
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *got;
    uint8_t *der;
    size_t len;
    char *pem;
    X509 *x, *back;
    int rc;

    assert_int_equal(open_ca(f, false, 1), CAIRN_OK);
    x = issue(f->ca, key, leaf_ids, 1, false, &rc);
    len = to_der(x, &der);
    pem = ca_der_to_pem(der, len);
    assert_non_null(pem);
    assert_int_equal(count_blocks(pem), 1);
    back = pem_to_x509(pem);
    assert_int_equal(X509_cmp(back, x), 0);
    got = ca_cert_pubkey(der, len);
    assert_int_equal(EVP_PKEY_eq(got, key), 1);
    assert_null(ca_der_to_pem(der, len - 3));
    assert_null(ca_cert_pubkey((const uint8_t *)"garbage", 7));
    EVP_PKEY_free(got);
    X509_free(back);
    free(pem);
    free(der);
    X509_free(x);
    EVP_PKEY_free(key);
}

static void
test_chain_length_3(void **state)
{
    struct fixture *f = *state;
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    STACK_OF(X509) * chain;
    X509 *x, *root;
    int rc;

    assert_int_equal(open_ca(f, false, 3), CAIRN_OK);
    assert_int_equal(access(path_of(f, "int-3.key.pem"), F_OK), 0);
    assert_int_equal(count_blocks(ca_chain_pem(f->ca)), 3);
    /* The chain starts with the issuer and ends with the one under the root. */
    assert_int_equal(
        strncmp(ca_chain_pem(f->ca), ca_issuer_pem(f->ca), strlen(ca_issuer_pem(f->ca))), 0);
    chain = pem_to_stack(ca_chain_pem(f->ca));
    root = pem_to_x509(ca_root_pem(f->ca));
    assert_int_equal(X509_check_issued(root, sk_X509_value(chain, 2)), X509_V_OK);
    assert_int_equal(X509_check_issued(sk_X509_value(chain, 1), sk_X509_value(chain, 0)),
                     X509_V_OK);
    x = issue(f->ca, key, leaf_ids, 4, false, &rc);
    assert_int_equal(verify_chain(f->ca, x, ca_chain_pem(f->ca)), 1);
    X509_free(x);
    X509_free(root);
    sk_X509_pop_free(chain, X509_free);
    ca_free(f->ca);
    f->ca = NULL;
    assert_int_equal(open_ca(f, false, 1), CAIRN_OK);
    assert_int_equal(count_blocks(ca_chain_pem(f->ca)), 3);
    EVP_PKEY_free(key);
}

static void
test_rsa(void **state)
{
    struct fixture *f = *state;
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    X509 *x, *issuer;
    int rc;

    assert_int_equal(open_ca(f, true, 1), CAIRN_OK);
    issuer = pem_to_x509(ca_issuer_pem(f->ca));
    assert_int_equal(EVP_PKEY_get_base_id(X509_get0_pubkey(issuer)), EVP_PKEY_RSA);
    assert_int_equal(X509_get_signature_nid(issuer), NID_sha256WithRSAEncryption);
    x = issue(f->ca, key, leaf_ids, 4, false, &rc);
    assert_int_equal(rc, CAIRN_OK);
    check_leaf_exts(x, true);
    assert_int_equal(verify_chain(f->ca, x, ca_chain_pem(f->ca)), 1);
    X509_free(x);
    X509_free(issuer);
    EVP_PKEY_free(key);
}

static void
test_listener_cert(void **state)
{
    struct fixture *f = *state;
    const char *names[] = { "localhost", "127.0.0.1", "::1", "acme.lab" };
    char *cert = NULL, *key = NULL;
    GENERAL_NAMES *gens;
    BIO *b;
    EVP_PKEY *pk;
    X509 *x;

    assert_int_equal(open_ca(f, false, 2), CAIRN_OK);
    assert_int_equal(ca_make_listener_cert(f->ca, names, 4, &cert, &key), CAIRN_OK);
    assert_int_equal(count_blocks(cert), 3); /* leaf + 2 intermediates */
    x = pem_to_x509(cert);
    b = BIO_new_mem_buf(key, -1);
    pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    assert_non_null(pk);
    assert_int_equal(X509_check_private_key(x, pk), 1);
    assert_int_equal(EVP_PKEY_get_base_id(pk), EVP_PKEY_EC);
    assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_SERVER);
    assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(x, "acme.lab", 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(x, "other.lab", 0, 0, NULL), 0);
    assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
    gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    assert_int_equal(sk_GENERAL_NAME_value(gens, 1)->type, GEN_IPADD);
    assert_int_equal(verify_chain(f->ca, x, strstr(cert + 1, "-----BEGIN")), 1);
    GENERAL_NAMES_free(gens);
    EVP_PKEY_free(pk);
    BIO_free(b);
    X509_free(x);
    OPENSSL_cleanse(key, strlen(key));
    free(key);
    free(cert);
    assert_int_equal(ca_make_listener_cert(f->ca, names, 0, &cert, &key), CAIRN_ERR_INVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_files_and_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_subjects_and_extensions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_same_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_missing_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_missing_manifest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mismatched_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_issue_leaf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_issue_leaf_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_serial_if_ours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_der_to_pem_and_pubkey, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_length_3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rsa, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listener_cert, setup, teardown),
    };

    log_set_level(LOG_LVL_ERR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
