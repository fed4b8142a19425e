/* test_ca_extra.c - import checks, the x-ca layout (made with the openssl CLI, plain and
 * DES3-encrypted keys), alternate roots and CRL contents. */
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

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cairn/ca.h"
#include "cairn/log.h"

struct fx {
    char dir[64];
    char cmd[4096];
    char path[512];
    struct ca *ca;
};

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/cairn-cax-XXXXXX");
    if (f == NULL || mkdtemp(f->dir) == NULL)
        return -1;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;

    ca_free(f->ca);
    snprintf(f->cmd, sizeof(f->cmd), "rm -rf '%s'", f->dir);
    if (system(f->cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static const char *
p(struct fx *f, const char *name)
{
    snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
    return f->path;
}

/* Runs a shell command inside the fixture directory; fails the test when it fails. */
static void sh(struct fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sh(struct fx *f, const char *fmt, ...)
{
    char inner[3000];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(inner, sizeof(inner), fmt, ap);
    va_end(ap);
    snprintf(f->cmd, sizeof(f->cmd), "cd '%s' && (%s) >/dev/null 2>&1", f->dir, inner);
    assert_int_equal(system(f->cmd), 0);
}

#define CA_EXT                                                                                \
    "printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign,cRLSign\\n"    \
    "subjectKeyIdentifier=hash\\nauthorityKeyIdentifier=keyid\\n' > ca.ext"

/* root.crt/root.key (RSA), int.crt/int.key (P-256) signed by the root, leaf.crt (not a CA). */
static void
make_material(struct fx *f)
{
    sh(f, "openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.crt "
          "-subj /CN=TestRoot -days 30");
    sh(f, CA_EXT);
    sh(f, "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout int.key "
          "-out int.csr -subj /CN=TestInt && openssl x509 -req -in int.csr -CA root.crt "
          "-CAkey root.key -CAcreateserial -out int.crt -days 20 -extfile ca.ext");
    sh(f, "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key "
          "-out leaf.csr -subj /CN=leaf && openssl x509 -req -in leaf.csr -CA int.crt "
          "-CAkey int.key -CAcreateserial -out leaf.crt -days 10");
    sh(f, "printf 'keyUsage=critical,digitalSignature\\nbasicConstraints=critical,CA:TRUE\\n' "
          "> noks.ext && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
          "-keyout noks.key -out noks.csr -subj /CN=NoKS && openssl x509 -req -in noks.csr "
          "-signkey noks.key -out noks.crt -days 10 -extfile noks.ext");
}

static struct ca_import_req
import_req(struct fx *f, const char *cert, const char *key, const char *chain)
{
    static char c[512], k[512], ch[512], d[512];
    struct ca_import_req r = { 0 };

    snprintf(c, sizeof(c), "%s/%s", f->dir, cert);
    snprintf(k, sizeof(k), "%s/%s", f->dir, key);
    snprintf(ch, sizeof(ch), "%s/%s", f->dir, chain ? chain : "");
    snprintf(d, sizeof(d), "%s/state-ca", f->dir);
    r.dir = d;
    r.cert_file = c;
    r.key_file = k;
    r.chain_file = chain ? ch : NULL;
    r.chain_length = 1;
    r.name = "lab";
    r.now = (int64_t)time(NULL);
    return r;
}

static X509 *
pem_x509(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);

    BIO_free(b);
    return x;
}

static X509 *
file_x509(const char *path)
{
    BIO *b = BIO_new_file(path, "r");
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

    BIO_free(b);
    return x;
}

/* Issues a leaf and verifies leaf + chain n against root_pem. */
static int
issue_verifies(struct ca *ca, int n, const char *root_pem)
{
    static const struct ident id = { IDENT_DNS, false, "x.lab" };
    uint8_t serial[16] = { 0x42, 1, 2, 3 }, *der = NULL;
    int64_t now = (int64_t)time(NULL);
    struct ca_leaf_req req = { serial, 16, NULL, &id, 1, now - 60, now + 86400, false,
                               "http://127.0.0.1:1/crl/0", "http://127.0.0.1:1/issuer/0" };
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *chain = sk_X509_new_null();
    BIO *b = BIO_new_mem_buf(ca_chain_pem_n(ca, n), -1);
    X509 *leaf, *x, *root = pem_x509(root_pem);
    const unsigned char *q;
    size_t len = 0;
    int ok;

    req.pubkey = k;
    assert_int_equal(ca_issue_leaf(ca, &req, &der, &len), CAIRN_OK);
    q = der;
    leaf = d2i_X509(NULL, &q, (long)len);
    assert_non_null(leaf);
    assert_true(X509_get_ext_by_NID(leaf, NID_crl_distribution_points, -1) >= 0);
    assert_true(X509_get_ext_by_NID(leaf, NID_info_access, -1) >= 0);
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
        sk_X509_push(chain, x);
    ERR_clear_error();
    X509_STORE_add_cert(store, root);
    X509_STORE_CTX_init(ctx, store, leaf, chain);
    ok = X509_verify_cert(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_pop_free(chain, X509_free);
    BIO_free(b);
    X509_free(leaf);
    X509_free(root);
    EVP_PKEY_free(k);
    free(der);
    ERR_clear_error();
    return ok;
}

static void
test_import_checks(void **state)
{
    struct fx *f = *state;
    struct ca_import_req r;

    make_material(f);
    r = import_req(f, "root.crt", "int.key", NULL);
    assert_int_equal(ca_import(&r), CAIRN_ERR_INVAL); /* key does not match */
    r = import_req(f, "leaf.crt", "leaf.key", "int.crt");
    assert_int_equal(ca_import(&r), CAIRN_ERR_INVAL); /* not a CA */
    r = import_req(f, "noks.crt", "noks.key", NULL);
    assert_int_equal(ca_import(&r), CAIRN_ERR_INVAL); /* key usage without keyCertSign */
    r = import_req(f, "int.crt", "int.key", NULL);
    assert_int_equal(ca_import(&r), CAIRN_ERR_INVAL); /* intermediate without --chain */
    r = import_req(f, "int.crt", "int.key", "leaf.crt");
    assert_int_equal(ca_import(&r), CAIRN_ERR_INVAL); /* chain without its issuer */
    r = import_req(f, "root.crt", "root.key", NULL);
    r.now += 40 * 86400;
    assert_int_equal(ca_import(&r), CAIRN_ERR_INVAL); /* expired by then */
    r.now -= 2 * 40 * 86400;
    assert_int_equal(ca_import(&r), CAIRN_ERR_INVAL); /* not valid yet */
    assert_int_equal(access(p(f, "state-ca"), F_OK), -1); /* nothing written */
}

static void
test_import_root(void **state)
{
    struct fx *f = *state;
    struct ca_import_req r;
    struct ca_options o = { .chain_length = 1, .name = "lab" };
    X509 *root, *imported;
    char *pem = NULL;
    size_t len = 0;

    make_material(f);
    r = import_req(f, "root.crt", "root.key", NULL);
    r.chain_length = 2;
    assert_int_equal(ca_import(&r), CAIRN_OK);
    assert_int_equal(ca_import(&r), CAIRN_ERR_CONFLICT); /* never overwritten silently */
    o.dir = r.dir;
    assert_int_equal(ca_open(&o, &f->ca), CAIRN_OK);
    root = pem_x509(ca_root_pem(f->ca));
    imported = file_x509(p(f, "root.crt"));
    assert_int_equal(X509_cmp(root, imported), 0);
    assert_non_null(strstr(ca_issuer_pem(f->ca), "-----BEGIN CERTIFICATE-----"));
    assert_int_equal(issue_verifies(f->ca, 0, ca_root_pem(f->ca)), 1);
    assert_int_equal(ca_root_key_pem(f->ca, 0, &pem, &len), CAIRN_OK);
    assert_non_null(strstr(pem, "-----BEGIN RSA PRIVATE KEY-----"));
    OPENSSL_cleanse(pem, len);
    free(pem);
    ca_free(f->ca);
    f->ca = NULL;
    r.force = true;
    assert_int_equal(ca_import(&r), CAIRN_OK); /* the old one is moved aside */
    snprintf(f->cmd, sizeof(f->cmd), "ls -d '%s'.replaced-* >/dev/null 2>&1", r.dir);
    assert_int_equal(system(f->cmd), 0);
    X509_free(root);
    X509_free(imported);
}

static void
test_import_intermediate(void **state)
{
    struct fx *f = *state;
    struct ca_import_req r;
    struct ca_options o = { .chain_length = 3, .name = "lab" };
    struct ca_cert_info info[4];
    size_t n = 0;
    char *pem = NULL;
    size_t len = 0;

    make_material(f);
    r = import_req(f, "int.crt", "int.key", "root.crt");
    assert_int_equal(ca_import(&r), CAIRN_OK);
    o.dir = r.dir;
    assert_int_equal(ca_open(&o, &f->ca), CAIRN_OK);
    assert_int_equal(ca_list_certs(f->ca, info, 4, &n), CAIRN_OK);
    assert_int_equal(n, 2); /* the stored chain wins over chain_length */
    assert_string_equal(info[0].subject, "/CN=TestRoot");
    assert_false(info[0].has_key);
    assert_string_equal(info[1].subject, "/CN=TestInt");
    assert_string_equal(info[1].key_type, "ECDSA P-256");
    assert_true(info[1].issuer);
    assert_int_equal(ca_root_key_pem(f->ca, 0, &pem, &len), CAIRN_ERR_NOTFOUND);
    assert_int_equal(ca_intermediate_key_pem(f->ca, 0, &pem, &len), CAIRN_OK);
    assert_non_null(strstr(pem, "-----BEGIN EC PRIVATE KEY-----"));
    OPENSSL_cleanse(pem, len);
    free(pem);
    assert_int_equal(issue_verifies(f->ca, 0, ca_root_pem(f->ca)), 1);
}

static void
make_xca(struct fx *f, bool des3)
{
    sh(f, "mkdir -p x/ca/root-ca/private x/ca/tls-ca/private && " CA_EXT);
    sh(f, "openssl req -x509 -newkey rsa:2048 -nodes -keyout x/ca/root-ca/private/root-ca.key "
          "-out x/ca/root-ca.crt -subj /CN=XRoot -days 30");
    sh(f, "openssl req -newkey rsa:2048 -nodes -keyout x/ca/tls-ca/private/tls-ca.key -out "
          "tls.csr -subj /CN=XTls && openssl x509 -req -in tls.csr -CA x/ca/root-ca.crt -CAkey "
          "x/ca/root-ca/private/root-ca.key -CAcreateserial -out x/ca/tls-ca.crt -days 20 "
          "-extfile ca.ext");
    if (!des3)
        return;
    sh(f, "openssl rsa -in x/ca/root-ca/private/root-ca.key -des3 -traditional -passout "
          "pass:%s -out x/ca/root-ca/private/root-ca-des3.key", "rootpw");
    sh(f, "openssl rsa -in x/ca/tls-ca/private/tls-ca.key -des3 -passout pass:%s "
          "-out x/ca/tls-ca/private/tls-ca-des3.key && rm x/ca/*/private/*-ca.key", "tlspw");
}

static void
test_xca_plain(void **state)
{
    struct fx *f = *state;
    char base[512];
    struct ca_options o = { .chain_length = 1, .name = "cairn" };

    make_xca(f, false);
    snprintf(base, sizeof(base), "%s/x", f->dir);
    o.x_ca_path = base;
    assert_int_equal(ca_open(&o, &f->ca), CAIRN_OK);
    assert_int_equal(issue_verifies(f->ca, 0, ca_root_pem(f->ca)), 1);
    ca_free(f->ca);
    f->ca = NULL;
    o.x_ca_des3 = true; /* the -des3 files do not exist */
    assert_int_not_equal(ca_open(&o, &f->ca), CAIRN_OK);
    assert_null(f->ca);
    /* nothing written to the x-ca tree */
    snprintf(f->cmd, sizeof(f->cmd),
             "test -z \"$(find '%s/x' -name '*.pem' -o -name manifest.json)\"", f->dir);
    assert_int_equal(system(f->cmd), 0);
}

static void
test_xca_des3(void **state)
{
    struct fx *f = *state;
    char base[512];
    struct ca_options o = { .chain_length = 1, .name = "cairn", .x_ca_des3 = true };

    make_xca(f, true);
    snprintf(base, sizeof(base), "%s/x", f->dir);
    o.x_ca_path = base;
    o.x_ca_root_password = "rootpw";
    o.x_ca_tls_password = "wrong";
    assert_int_equal(ca_open(&o, &f->ca), CAIRN_ERR_IO);
    o.x_ca_tls_password = NULL;
    assert_int_equal(ca_open(&o, &f->ca), CAIRN_ERR_IO);
    o.x_ca_tls_password = "tlspw";
    o.alternate_roots = 1;
    assert_int_equal(ca_open(&o, &f->ca), CAIRN_OK);
    assert_int_equal(issue_verifies(f->ca, 0, ca_root_pem(f->ca)), 1);
    assert_int_equal(issue_verifies(f->ca, 1, ca_root_pem_n(f->ca, 1)), 1);
}

static void
test_alternate_roots(void **state)
{
    struct fx *f = *state;
    char dir[512];
    struct ca_options o = { .chain_length = 2, .name = "cairn", .alternate_roots = 2 };

    snprintf(dir, sizeof(dir), "%s/h", f->dir);
    o.dir = dir;
    assert_int_equal(ca_open(&o, &f->ca), CAIRN_OK);
    assert_int_equal(ca_alternate_count(f->ca), 2);
    for (int n = 0; n <= 2; n++)
        assert_int_equal(issue_verifies(f->ca, n, ca_root_pem_n(f->ca, n)), 1);
    /* an alternate chain does not lead to another root */
    assert_int_equal(issue_verifies(f->ca, 1, ca_root_pem_n(f->ca, 2)), 0);
    assert_int_equal(issue_verifies(f->ca, 1, ca_root_pem_n(f->ca, 0)), 0);
    assert_null(ca_root_pem_n(f->ca, 3));
    assert_null(ca_chain_pem_n(f->ca, -1));
    ca_free(f->ca);
    f->ca = NULL;
    o.alternate_roots = 0; /* stored alternates are kept */
    assert_int_equal(ca_open(&o, &f->ca), CAIRN_OK);
    assert_int_equal(ca_alternate_count(f->ca), 2);
    assert_int_equal(issue_verifies(f->ca, 2, ca_root_pem_n(f->ca, 2)), 1);
}

static void
test_crl_contents(void **state)
{
    struct fx *f = *state;
    char dir[512];
    struct ca_options o = { .chain_length = 1, .name = "cairn" };
    struct ca_crl_entry e[2] = { { "0abc", 1700000000, 1 }, { "7f0102", 1700000100, 0 } };
    uint8_t *der = NULL;
    size_t len = 0;
    const unsigned char *q;
    X509_CRL *crl;
    X509 *issuer;
    X509_REVOKED *rev = NULL;
    ASN1_INTEGER *num, *serial;
    BIGNUM *bn = NULL;
    ASN1_ENUMERATED *reason;
    AUTHORITY_KEYID *akid;

    snprintf(dir, sizeof(dir), "%s/h", f->dir);
    o.dir = dir;
    assert_int_equal(ca_open(&o, &f->ca), CAIRN_OK);
    assert_int_equal(ca_make_crl(f->ca, e, 2, 7, 1700000200, 1700000100, &der, &len),
                     CAIRN_ERR_INVAL);
    assert_int_equal(ca_make_crl(f->ca, e, 2, 7, 1700000200, 1700086600, &der, &len), CAIRN_OK);
    q = der;
    crl = d2i_X509_CRL(NULL, &q, (long)len);
    assert_non_null(crl);
    issuer = pem_x509(ca_issuer_pem(f->ca));
    assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(issuer)), 1);
    assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)), 0);
    assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 2);
    num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
    assert_int_equal(ASN1_INTEGER_get(num), 7);
    akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);
    assert_non_null(akid);
    AUTHORITY_KEYID_free(akid);
    BN_hex2bn(&bn, "abc");
    serial = BN_to_ASN1_INTEGER(bn, NULL);
    assert_int_equal(X509_CRL_get0_by_serial(crl, &rev, serial), 1);
    reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
    assert_non_null(reason);
    assert_int_equal(ASN1_ENUMERATED_get(reason), 1);
    ASN1_ENUMERATED_free(reason);
    ASN1_INTEGER_free(serial);
    BN_hex2bn(&bn, "7f0102");
    serial = BN_to_ASN1_INTEGER(bn, NULL);
    assert_int_equal(X509_CRL_get0_by_serial(crl, &rev, serial), 1);
    /* unspecified (0) has no reasonCode extension */
    assert_null(X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL));
    ASN1_INTEGER_free(serial);
    BN_hex2bn(&bn, "abd");
    serial = BN_to_ASN1_INTEGER(bn, NULL);
    assert_int_equal(X509_CRL_get0_by_serial(crl, &rev, serial), 0);
    ASN1_INTEGER_free(serial);
    BN_free(bn);
    ASN1_INTEGER_free(num);
    X509_free(issuer);
    X509_CRL_free(crl);
    free(der);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_import_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_intermediate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xca_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xca_des3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alternate_roots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crl_contents, setup, teardown),
    };

    log_set_level(LOG_LVL_ERR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
