/* test_csr.c - finalize-time CSR checks (PROTOCOL.md §5 "CSR", case F06). CSRs are built
 * here with OpenSSL so each rule gets a passing and a failing request. */
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

#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cairn/csr.h"

static const struct key_policy csr_pol = { .allow_p521 = false, .allow_ed25519 = false };
static const struct key_policy ed_pol = { .allow_p521 = true, .allow_ed25519 = true };

static EVP_PKEY *ec_key;  /* P-256 */
static EVP_PKEY *rsa_key; /* 2048 */

static const struct ident order_ab[] = {
    { IDENT_DNS, false, "a.example.com" },
    { IDENT_DNS, false, "b.example.com" },
};

static int
setup(void **state)
{
    (void)state;
    ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    return ec_key && rsa_key ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(ec_key);
    EVP_PKEY_free(rsa_key);
    return 0;
}

/* A CSR for key with an optional CN (";" separates several CNs) and an optional SAN string
 * in openssl config syntax; md NULL signs without a digest (Ed25519). */
static X509_REQ *
build_req(EVP_PKEY *key, const char *cn, const char *sans)
{
    X509_REQ *req = X509_REQ_new();
    X509_NAME *name = X509_REQ_get_subject_name(req);
    char buf[256], *tok, *save = NULL;

    X509_REQ_set_version(req, 0);
    if (cn != NULL) {
        snprintf(buf, sizeof(buf), "%s", cn);
        for (tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save))
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (unsigned char *)tok, -1, -1, 0);
    }
    X509_REQ_set_pubkey(req, key);
    if (sans != NULL) {
        STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
        X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, NULL, NID_subject_alt_name, sans);

        assert_non_null(ext);
        sk_X509_EXTENSION_push(exts, ext);
        X509_REQ_add_extensions(req, exts);
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    }
    return req;
}

static size_t
req_der(X509_REQ *req, uint8_t **der)
{
    int len = i2d_X509_REQ(req, NULL);
    unsigned char *q;

    assert_true(len > 0);
    *der = malloc((size_t)len + 16);
    q = *der;
    assert_int_equal(i2d_X509_REQ(req, &q), len);
    X509_REQ_free(req);
    return (size_t)len;
}

static size_t
make_csr(EVP_PKEY *key, const char *cn, const char *sans, const EVP_MD *md, uint8_t **der)
{
    X509_REQ *req = build_req(key, cn, sans);

    assert_true(X509_REQ_sign(req, key, md) > 0);
    return req_der(req, der);
}

/* Runs csr_check; returns the rc and leaves the problem in *p (caller cleans up). */
static int
run(const uint8_t *der, size_t len, const struct ident *ids, size_t n, const struct key_policy *pol,
    struct problem *p)
{
    struct csr c = { NULL };
    int rc;

    problem_init(p);
    rc = csr_check(der, len, ids, n, pol, &c, p);
    if (rc == CAIRN_OK)
        assert_non_null(c.key);
    else
        assert_null(c.key);
    csr_cleanup(&c);
    return rc;
}

static void
expect_ok(EVP_PKEY *key, const char *cn, const char *sans, const EVP_MD *md,
          const struct ident *ids, size_t n, const struct key_policy *pol)
{
    struct problem p;
    uint8_t *der;
    size_t len = make_csr(key, cn, sans, md, &der);

    if (run(der, len, ids, n, pol, &p) != CAIRN_OK)
        fail_msg("refused: %s", p.detail);
    problem_cleanup(&p);
    free(der);
}

/* Expects badCSR with a detail containing want (NULL: any). */
static void
expect_bad_der(const uint8_t *der, size_t len, const struct ident *ids, size_t n, const char *want)
{
    struct problem p;

    assert_int_equal(run(der, len, ids, n, &csr_pol, &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_BAD_CSR);
    if (want != NULL && strstr(p.detail, want) == NULL)
        fail_msg("detail \"%s\" lacks \"%s\"", p.detail, want);
    problem_cleanup(&p);
}

static void
expect_bad(EVP_PKEY *key, const char *cn, const char *sans, const EVP_MD *md,
           const struct ident *ids, size_t n, const char *want)
{
    uint8_t *der;
    size_t len = make_csr(key, cn, sans, md, &der);

    expect_bad_der(der, len, ids, n, want);
    free(der);
}

static void
test_good_ecdsa_and_rsa(void **state)
{
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    struct csr c = { NULL };
    struct problem p;
    uint8_t *der;
    size_t len;

    (void)state;
    expect_ok(ec_key, "a.example.com", "DNS:a.example.com,DNS:b.example.com", EVP_sha256(),
              order_ab, 2, &csr_pol);
    expect_ok(rsa_key, NULL, "DNS:b.example.com,DNS:a.example.com", EVP_sha256(), order_ab, 2,
              &csr_pol);
    expect_ok(rsa_key, NULL, "DNS:b.example.com,DNS:a.example.com", EVP_sha512(), order_ab, 2,
              &csr_pol);
    expect_ok(p384, "b.example.com", "DNS:a.example.com", EVP_sha384(), order_ab, 2, &csr_pol);
    /* The key handed back is the CSR's. */
    len = make_csr(ec_key, NULL, "DNS:a.example.com,DNS:b.example.com", EVP_sha256(), &der);
    problem_init(&p);
    assert_int_equal(csr_check(der, len, order_ab, 2, &csr_pol, &c, &p), CAIRN_OK);
    assert_int_equal(EVP_PKEY_eq(c.key, ec_key), 1);
    csr_cleanup(&c);
    assert_null(c.key);
    free(der);
    EVP_PKEY_free(p384);
}

/* F06: case and duplicates alone are accepted. */
static void
test_case_and_duplicates(void **state)
{
    (void)state;
    expect_ok(ec_key, "A.EXAMPLE.com",
              "DNS:A.Example.COM,DNS:a.example.com,DNS:b.example.com,DNS:B.EXAMPLE.COM",
              EVP_sha256(), order_ab, 2, &csr_pol);
    /* The CN alone may carry a name. */
    expect_ok(ec_key, "b.example.com", "DNS:a.example.com", EVP_sha256(), order_ab, 2, &csr_pol);
}

/* F06: missing name, extra name, CN outside the order. */
static void
test_name_mismatch(void **state)
{
    struct problem p;
    uint8_t *der;
    size_t len;

    (void)state;
    len = make_csr(ec_key, NULL, "DNS:a.example.com", EVP_sha256(), &der);
    assert_int_equal(run(der, len, order_ab, 2, &csr_pol, &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_BAD_CSR);
    assert_int_equal(p.nsub, 1);
    assert_string_equal(p.sub[0].ident_value, "b.example.com");
    assert_string_equal(p.sub[0].ident_type, "dns");
    assert_non_null(strstr(p.detail, "missing b.example.com"));
    problem_cleanup(&p);
    free(der);

    len = make_csr(ec_key, NULL, "DNS:a.example.com,DNS:b.example.com,DNS:c.example.com",
                   EVP_sha256(), &der);
    assert_int_equal(run(der, len, order_ab, 2, &csr_pol, &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_BAD_CSR);
    assert_int_equal(p.nsub, 1);
    assert_string_equal(p.sub[0].ident_value, "c.example.com");
    problem_cleanup(&p);
    free(der);

    expect_bad(ec_key, "c.example.com", "DNS:a.example.com,DNS:b.example.com", EVP_sha256(),
               order_ab, 2, "CN c.example.com");
    /* No names at all. */
    expect_bad(ec_key, NULL, NULL, EVP_sha256(), order_ab, 2, "missing");
}

/* F06: wildcard vs plain, both ways. */
static void
test_wildcard_vs_plain(void **state)
{
    static const struct ident wild[] = { { IDENT_DNS, true, "*.example.com" } };
    static const struct ident plain[] = { { IDENT_DNS, false, "example.com" } };
    struct problem p;
    uint8_t *der;
    size_t len;

    (void)state;
    expect_ok(ec_key, NULL, "DNS:*.example.com", EVP_sha256(), wild, 1, &csr_pol);
    expect_ok(ec_key, "*.example.com", NULL, EVP_sha256(), wild, 1, &csr_pol);
    expect_bad(ec_key, NULL, "DNS:example.com", EVP_sha256(), wild, 1, NULL);
    len = make_csr(ec_key, NULL, "DNS:*.example.com", EVP_sha256(), &der);
    assert_int_equal(run(der, len, plain, 1, &csr_pol, &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_BAD_CSR);
    assert_int_equal(p.nsub, 2); /* extra "*.example.com", missing "example.com" */
    problem_cleanup(&p);
    free(der);
}

static void
test_ip_names(void **state)
{
    static const struct ident ips[] = {
        { IDENT_IP, false, "10.0.0.1" },
        { IDENT_IP, false, "2001:db8::1" },
        { IDENT_DNS, false, "a.example.com" },
    };

    (void)state;
    expect_ok(ec_key, NULL, "IP:10.0.0.1,IP:2001:DB8:0::1,DNS:a.example.com", EVP_sha256(), ips, 3,
              &csr_pol);
    /* An IP address as dNSName is not the ip identifier. */
    expect_bad(ec_key, NULL, "DNS:10.0.0.1,IP:2001:db8::1,DNS:a.example.com", EVP_sha256(), ips, 3,
               NULL);
    /* CN never an IP. */
    expect_bad(ec_key, "10.0.0.1", "IP:10.0.0.1,IP:2001:db8::1,DNS:a.example.com", EVP_sha256(),
               ips, 3, "IP address");
}

static void
test_other_sans(void **state)
{
    static const struct ident one[] = { { IDENT_DNS, false, "a.example.com" } };

    (void)state;
    expect_ok(ec_key, NULL, "DNS:a.example.com", EVP_sha256(), one, 1, &csr_pol);
    expect_bad(ec_key, NULL, "DNS:a.example.com,email:me@a.example.com", EVP_sha256(), one, 1,
               "email");
    expect_bad(ec_key, NULL, "DNS:a.example.com,URI:https://a.example.com/", EVP_sha256(), one, 1,
               "URI");
    expect_bad(ec_key, NULL, "DNS:a.example.com,RID:1.2.3.4", EVP_sha256(), one, 1, "SAN");
    expect_bad(ec_key, "a.example.com;a.example.com", NULL, EVP_sha256(), one, 1,
               "more than one CN");
}

static void
test_signature_algorithms(void **state)
{
    static const struct ident one[] = { { IDENT_DNS, false, "a.example.com" } };
    EVP_PKEY_CTX *pctx = NULL;
    EVP_MD_CTX *mctx;
    X509_REQ *req;
    uint8_t *der;
    size_t len;

    (void)state;
    expect_bad(ec_key, NULL, "DNS:a.example.com", EVP_sha1(), one, 1, "ecdsa-with-SHA1");
    expect_bad(rsa_key, NULL, "DNS:a.example.com", EVP_sha1(), one, 1, "RSA-SHA1");
    expect_bad(rsa_key, NULL, "DNS:a.example.com", EVP_md5(), one, 1, "RSA-MD5");
    expect_bad(ec_key, NULL, "DNS:a.example.com", EVP_sha224(), one, 1, "SHA224");

    /* RSA-PSS over SHA-256 is refused too. */
    req = build_req(rsa_key, NULL, "DNS:a.example.com");
    mctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit(mctx, &pctx, EVP_sha256(), NULL, rsa_key), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
    assert_true(X509_REQ_sign_ctx(req, mctx) > 0);
    EVP_MD_CTX_free(mctx);
    len = req_der(req, &der);
    expect_bad_der(der, len, one, 1, "RSASSA-PSS");
    free(der);
}

static void
test_broken_signature(void **state)
{
    static const struct ident one[] = { { IDENT_DNS, false, "a.example.com" } };
    uint8_t *der;
    size_t len = make_csr(ec_key, NULL, "DNS:a.example.com", EVP_sha256(), &der);

    (void)state;
    der[len - 1] ^= 0x01; /* last octet of the ECDSA s value */
    expect_bad_der(der, len, one, 1, "does not verify");
    free(der);

    len = make_csr(rsa_key, NULL, "DNS:a.example.com", EVP_sha256(), &der);
    der[len - 10] ^= 0x80;
    expect_bad_der(der, len, one, 1, "does not verify");
    free(der);
}

static void
test_framing(void **state)
{
    static const struct ident one[] = { { IDENT_DNS, false, "a.example.com" } };
    uint8_t *der, big[1];
    size_t len = make_csr(ec_key, NULL, "DNS:a.example.com", EVP_sha256(), &der);
    struct problem p;

    (void)state;
    assert_int_equal(run(der, len, one, 1, &csr_pol, &p), CAIRN_OK);
    problem_cleanup(&p);
    der[len] = 0x00; /* trailing garbage */
    expect_bad_der(der, len + 1, one, 1, "exactly one");
    expect_bad_der(der, len - 1, one, 1, "exactly one");
    expect_bad_der(der, 0, one, 1, "out of range");
    expect_bad_der(big, CAIRN_MAX_CSR_DER + 1, one, 1, "out of range");
    expect_bad_der((const uint8_t *)"\x30\x03\x02\x01\x00", 5, one, 1, NULL);
    free(der);
}

static void
test_key_policy(void **state)
{
    static const struct ident one[] = { { IDENT_DNS, false, "a.example.com" } };
    EVP_PKEY *rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    EVP_PKEY *p521 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

    (void)state;
    expect_bad(rsa1024, NULL, "DNS:a.example.com", EVP_sha256(), one, 1, "1024");
    expect_bad(p521, NULL, "DNS:a.example.com", EVP_sha512(), one, 1, "secp521r1");
    expect_ok(p521, NULL, "DNS:a.example.com", EVP_sha512(), one, 1, &ed_pol);
    expect_bad(ed, NULL, "DNS:a.example.com", NULL, one, 1, "ED25519");
    expect_ok(ed, NULL, "DNS:a.example.com", NULL, one, 1, &ed_pol);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(p521);
    EVP_PKEY_free(rsa1024);
}

static void
test_too_many_sans(void **state)
{
    static struct ident ids[CAIRN_MAX_CSR_SANS + 1];
    static char sans[(CAIRN_MAX_CSR_SANS + 1) * 24];
    size_t off = 0;

    (void)state;
    for (int i = 0; i <= CAIRN_MAX_CSR_SANS; i++) {
        ids[i].type = IDENT_DNS;
        snprintf(ids[i].value, sizeof(ids[i].value), "h%d.example.com", i);
        off += (size_t)snprintf(sans + off, sizeof(sans) - off, "%sDNS:h%d.example.com",
                                i ? "," : "", i);
        if (i == CAIRN_MAX_CSR_SANS - 1)
            expect_ok(ec_key, NULL, sans, EVP_sha256(), ids, CAIRN_MAX_CSR_SANS, &csr_pol);
    }
    expect_bad(ec_key, NULL, sans, EVP_sha256(), ids, CAIRN_MAX_CSR_SANS + 1, "more than");
}

/* The EC fast path (src/acme/csr.c) and the X509_REQ path must give the same verdict and the
 * same detail for the same names: each case runs with the P-256 key (fast path) and the RSA
 * key (X509_REQ path), and the two answers are compared. */
static void
test_paths_agree(void **state)
{
    static const struct ident one_ip[] = { { IDENT_IP, false, "192.0.2.1" } };
    static const struct {
        const char *cn, *sans;
        const struct ident *ids;
        size_t n;
    } cases[] = {
        { NULL, "DNS:a.example.com,DNS:b.example.com", order_ab, 2 },
        { "a.example.com", "DNS:b.example.com", order_ab, 2 },
        { "A.EXAMPLE.COM", "DNS:a.example.com,DNS:B.example.com", order_ab, 2 },
        { NULL, "DNS:a.example.com", order_ab, 2 },
        { NULL, "DNS:a.example.com,DNS:b.example.com,DNS:c.example.com", order_ab, 2 },
        { "c.example.com", "DNS:a.example.com,DNS:b.example.com", order_ab, 2 },
        { "a.example.com;b.example.com", "DNS:a.example.com,DNS:b.example.com", order_ab, 2 },
        { NULL, NULL, order_ab, 2 },
        { NULL, "DNS:a.example.com,DNS:b.example.com,email:x@example.com", order_ab, 2 },
        { NULL, "IP:192.0.2.1", one_ip, 1 },
        { "192.0.2.1", "IP:192.0.2.1", one_ip, 1 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct problem pe, pr;
        uint8_t *de, *dr;
        size_t le = make_csr(ec_key, cases[i].cn, cases[i].sans, EVP_sha256(), &de);
        size_t lr = make_csr(rsa_key, cases[i].cn, cases[i].sans, EVP_sha256(), &dr);
        int re = run(de, le, cases[i].ids, cases[i].n, &csr_pol, &pe);
        int rr = run(dr, lr, cases[i].ids, cases[i].n, &csr_pol, &pr);

        if (re != rr || strcmp(pe.detail, pr.detail) != 0 || pe.nsub != pr.nsub)
            fail_msg("case %zu: EC %d \"%s\" vs RSA %d \"%s\"", i, re, pe.detail, rr, pr.detail);
        problem_cleanup(&pe);
        problem_cleanup(&pr);
        free(de);
        free(dr);
    }
}

/* Fast-path corners: the key's point must be a point of the named curve, curves the fast path
 * does not know go the X509_REQ way (and meet the key policy there), P-384 takes it. */
static void
test_ec_key_forms(void **state)
{
    static const struct ident one[] = { { IDENT_DNS, false, "a.example.com" } };
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    unsigned char pt[65];
    size_t ptlen = 0;
    uint8_t *der;
    size_t len, off;

    (void)state;
    expect_ok(p384, NULL, "DNS:a.example.com", EVP_sha384(), one, 1, &csr_pol);
    expect_bad(k1, NULL, "DNS:a.example.com", EVP_sha256(), one, 1, NULL);

    /* Move the P-256 point off the curve: flip a bit of y inside the DER. */
    assert_int_equal(EVP_PKEY_get_octet_string_param(ec_key, "encoded-pub-key", pt, sizeof(pt),
                                                     &ptlen), 1);
    assert_int_equal(ptlen, 65);
    len = make_csr(ec_key, NULL, "DNS:a.example.com", EVP_sha256(), &der);
    for (off = 0; off + ptlen <= len && memcmp(der + off, pt, ptlen) != 0; off++)
        ;
    assert_true(off + ptlen <= len);
    der[off + 64] ^= 0x01;
    expect_bad_der(der, len, one, 1, "public key does not parse");
    free(der);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(p384);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_ecdsa_and_rsa),
        cmocka_unit_test(test_case_and_duplicates),
        cmocka_unit_test(test_name_mismatch),
        cmocka_unit_test(test_wildcard_vs_plain),
        cmocka_unit_test(test_ip_names),
        cmocka_unit_test(test_other_sans),
        cmocka_unit_test(test_signature_algorithms),
        cmocka_unit_test(test_broken_signature),
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_key_policy),
        cmocka_unit_test(test_too_many_sans),
        cmocka_unit_test(test_paths_agree),
        cmocka_unit_test(test_ec_key_forms),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
