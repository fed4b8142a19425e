/* Unit tests for RFC 9773 certIDs and renewal windows (src/acme/ari.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cairn/ari.h"

static void
test_parse_rfc_example(void **state)
{
    /* RFC 9773 §4.1: AKI 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4,
     * serial 00:87:65:43:21 */
    static const uint8_t aki[] = { 0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3,
                                   0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4 };
    struct ari_certid id;

    (void)state;
    assert_int_equal(ari_certid_parse("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", &id), CAIRN_OK);
    assert_int_equal(id.aki_len, sizeof(aki));
    assert_memory_equal(id.aki, aki, sizeof(aki));
    assert_string_equal(id.serial_hex, "87654321");
    assert_string_equal(id.canonical, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    assert_int_equal(ari_certid_parse("AQ.AQ", &id), CAIRN_OK);
    assert_string_equal(id.serial_hex, "1");
}

static void
test_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "",
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ",            /* no dot */
        ".AIdlQyE",                               /* empty AKI */
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ.",           /* empty serial */
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdl.QyE",   /* two dots */
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ=.AIdlQyE",   /* padding */
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdl+yE",    /* not base64url */
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AAE",        /* 00 01: not minimal */
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ.gA",         /* 0x80: negative */
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AQIDBAUGBwgJCgsMDQ4PEBESExQV", /* 21 significant bytes */
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyF",    /* non-zero unused bits */
    };
    struct ari_certid id;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ari_certid_parse(bad[i], &id), CAIRN_ERR_INVAL);
    assert_int_equal(ari_certid_parse(NULL, &id), CAIRN_ERR_INVAL);
}

/* A self-signed certificate with an AKI and the given serial bytes; DER (caller frees). */
static uint8_t *
make_cert(const uint8_t *serial, size_t serial_len, size_t *der_len)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    BIGNUM *bn = BN_bin2bn(serial, (int)serial_len, NULL);
    uint8_t *der = NULL;
    int n;

    assert_non_null(k);
    assert_non_null(x);
    X509_set_version(x, 2);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, NULL);
    X509_time_adj_ex(X509_getm_notAfter(x), 90, 0, NULL);
    X509_set_pubkey(x, k);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier, "hash");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    assert_true(X509_sign(x, k, EVP_sha256()) > 0);
    n = i2d_X509(x, &der);
    assert_true(n > 0);
    *der_len = (size_t)n;
    BN_free(bn);
    X509_free(x);
    EVP_PKEY_free(k);
    return der;
}

static void
test_cert_info_roundtrip(void **state)
{
    static const uint8_t top_set[] = { 0x87, 0x65, 0x43, 0x21 };
    static const uint8_t top_clear[] = { 0x45, 0x01 };
    struct ari_certid id, parsed;
    int64_t nb = 0, na = 0;
    size_t len = 0;
    uint8_t *der;

    (void)state;
    der = make_cert(top_set, sizeof(top_set), &len);
    assert_int_equal(ari_cert_info(der, len, &id, &nb, &na), CAIRN_OK);
    assert_string_equal(id.serial_hex, "87654321");
    assert_int_equal(na - nb, 90 * 86400);
    assert_int_equal(id.aki_len, 20);
    /* the certID of a serial with its top bit set carries the DER zero byte */
    assert_non_null(strstr(id.canonical, ".AIdlQyE"));
    assert_int_equal(ari_certid_parse(id.canonical, &parsed), CAIRN_OK);
    assert_memory_equal(parsed.aki, id.aki, id.aki_len);
    assert_int_equal(ari_cert_info(der, len - 1, &id, &nb, &na), CAIRN_ERR_INVAL);
    OPENSSL_free(der);
    der = make_cert(top_clear, sizeof(top_clear), &len);
    assert_int_equal(ari_cert_info(der, len, &id, &nb, &na), CAIRN_OK);
    assert_string_equal(id.serial_hex, "4501");
    assert_non_null(strstr(id.canonical, ".RQE"));
    OPENSSL_free(der);
}

static void
test_window(void **state)
{
    int64_t s = 0, e = 0;

    (void)state;
    /* 90 days: 30 to 15 days before expiry */
    ari_window(1000, 1000 + 7776000, 0, &s, &e);
    assert_int_equal(s, 1000 + 7776000 - 2592000);
    assert_int_equal(e, 1000 + 7776000 - 1296000);
    /* revoked: the hour before the revocation, i.e. renew now */
    ari_window(1000, 1000 + 7776000, 50000, &s, &e);
    assert_int_equal(s, 50000 - 3600);
    assert_int_equal(e, 50000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_rfc_example),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_cert_info_roundtrip),
        cmocka_unit_test(test_window),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
