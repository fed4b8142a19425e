/* test_b64url.c - strict base64url (RFC 4648 §5, RFC 8555 §6.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/b64url.h"

struct vec {
    const char *raw;
    const char *enc;
};

/* RFC 4648 §10, without padding */
static const struct vec rfc4648[] = {
    { "", "" },          { "f", "Zg" },         { "fo", "Zm8" },      { "foo", "Zm9v" },
    { "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
};

static void
test_encode_rfc4648(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        char out[16];
        size_t n = strlen(rfc4648[i].raw);

        assert_int_equal(b64url_encoded_len(n), strlen(rfc4648[i].enc));
        assert_int_equal(b64url_encode((const uint8_t *)rfc4648[i].raw, n, out, sizeof(out)), 0);
        assert_string_equal(out, rfc4648[i].enc);
    }
}

static void
test_decode_rfc4648(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        uint8_t *out = NULL;
        size_t len = 99;
        const char *e = rfc4648[i].enc;

        assert_int_equal(b64url_decode(e, strlen(e), &out, &len), CAIRN_OK);
        assert_int_equal(len, strlen(rfc4648[i].raw));
        assert_memory_equal(out, rfc4648[i].raw, len);
        assert_int_equal(out[len], 0); /* NUL-terminated */
        free(out);
    }
}

/* The two characters that differ from standard base64 (RFC 4648 §5). */
static void
test_url_alphabet(void **state)
{
    static const uint8_t raw[] = { 0xfb, 0xff, 0xbf };
    uint8_t *out = NULL;
    size_t len = 0;
    char enc[8];

    (void)state;
    assert_int_equal(b64url_encode(raw, sizeof(raw), enc, sizeof(enc)), CAIRN_OK);
    assert_string_equal(enc, "-_-_");
    assert_int_equal(b64url_decode("-_-_", 4, &out, &len), CAIRN_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(out, raw, 3);
    free(out);
    /* the same bytes in the standard alphabet are refused */
    assert_int_equal(b64url_decode("+/+/", 4, &out, &len), CAIRN_ERR_INVAL);
    assert_null(out);
    assert_int_equal(b64url_decode("-_+_", 4, &out, &len), CAIRN_ERR_INVAL);
    assert_int_equal(b64url_decode("-_-/", 4, &out, &len), CAIRN_ERR_INVAL);
}

static void
expect_refused(const char *s)
{
    uint8_t *out = (uint8_t *)1;
    size_t len = 42;

    assert_int_equal(b64url_decode(s, strlen(s), &out, &len), CAIRN_ERR_INVAL);
    assert_null(out);
    assert_int_equal(len, 0);
    assert_false(b64url_is_valid(s, strlen(s)));
}

static void
test_padding_refused(void **state)
{
    (void)state;
    expect_refused("Zg==");
    expect_refused("Zm8=");
    expect_refused("Zg=");
    expect_refused("====");
    assert_true(b64url_is_valid("Zg", 2));
    assert_true(b64url_is_valid("Zm8", 3));
}

static void
test_whitespace_refused(void **state)
{
    (void)state;
    expect_refused("Zm9v YmFy");
    expect_refused("Zm9v\nYmFy");
    expect_refused(" Zm9v");
    expect_refused("Zm9v\t");
    expect_refused("Zm9v\r\n");
    assert_true(b64url_is_valid("Zm9vYmFy", 8));
}

/* RFC 4648 §3.5: the unused low bits of the last character must be zero. */
static void
test_trailing_bits_refused(void **state)
{
    (void)state;
    expect_refused("Zh");  /* 'h' = 33: low 4 bits 0001 */
    expect_refused("Zm9");  /* valid form is "Zm8" ("fo"): '9' sets an unused bit */
    expect_refused("Zm-");
    expect_refused("_x");  /* 'x' = 49: low 4 bits 0001 */
    assert_true(b64url_is_valid("Zm8", 3));
    assert_true(b64url_is_valid("_w", 2)); /* 0xff */
    assert_true(b64url_is_valid("_g", 2)); /* 0xfe */
}

static void
test_length_1_mod_4_refused(void **state)
{
    (void)state;
    expect_refused("Z");
    expect_refused("Zm9vY");
    expect_refused("Zm9vYmFyZ");
    assert_true(b64url_is_valid("Zm9vYg", 6));
}

static void
test_other_bytes_refused(void **state)
{
    uint8_t *out = NULL;
    size_t len = 0;

    (void)state;
    expect_refused("Zm9v.mFy");
    expect_refused("Zm9v\xc3\xa9");
    assert_int_equal(b64url_decode("Zm\0v", 4, &out, &len), CAIRN_ERR_INVAL);
    assert_false(b64url_is_valid("", 0)); /* is_valid also requires non-empty */
    assert_int_equal(b64url_decode("", 0, &out, &len), CAIRN_OK);
    assert_int_equal(len, 0);
    assert_int_equal(out[0], 0);
    free(out);
}

static void
test_encode_buffer_too_small(void **state)
{
    char out[4];

    (void)state;
    /* "foo" needs 4 characters plus the NUL */
    assert_int_equal(b64url_encode((const uint8_t *)"foo", 3, out, sizeof(out)), CAIRN_ERR_INVAL);
    {
        char ok[5];
        assert_int_equal(b64url_encode((const uint8_t *)"foo", 3, ok, sizeof(ok)), CAIRN_OK);
        assert_string_equal(ok, "Zm9v");
    }
}

static void
test_roundtrip_all_lengths(void **state)
{
    uint8_t raw[64];

    (void)state;
    for (size_t i = 0; i < sizeof(raw); i++)
        raw[i] = (uint8_t)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof(raw); n++) {
        char *enc = b64url_encode_alloc(raw, n);
        uint8_t *dec = NULL;
        size_t len = 0;

        assert_non_null(enc);
        assert_int_equal(strlen(enc), b64url_encoded_len(n));
        assert_null(strpbrk(enc, "=+/"));
        assert_int_equal(b64url_decode(enc, strlen(enc), &dec, &len), CAIRN_OK);
        assert_int_equal(len, n);
        if (n > 0)
            assert_memory_equal(dec, raw, n);
        free(dec);
        free(enc);
    }
}

/* Every byte value: the 64 alphabet characters decode to their index, all others refuse. */
static void
test_every_byte(void **state)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    (void)state;
    for (int c = 0; c < 256; c++) {
        const char *hit = c != 0 ? memchr(alphabet, c, 64) : NULL;
        char enc[4] = { (char)c, 'A', 'A', 'A' };
        uint8_t *out = NULL;
        size_t len = 0;
        int rc = b64url_decode(enc, sizeof(enc), &out, &len);

        if (hit == NULL) {
            assert_int_equal(rc, CAIRN_ERR_INVAL);
            assert_null(out);
            continue;
        }
        assert_int_equal(rc, CAIRN_OK);
        assert_int_equal(len, 3);
        assert_int_equal(out[0], (uint8_t)((hit - alphabet) << 2));
        free(out);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_rfc4648),
        cmocka_unit_test(test_decode_rfc4648),
        cmocka_unit_test(test_every_byte),
        cmocka_unit_test(test_url_alphabet),
        cmocka_unit_test(test_padding_refused),
        cmocka_unit_test(test_whitespace_refused),
        cmocka_unit_test(test_trailing_bits_refused),
        cmocka_unit_test(test_length_1_mod_4_refused),
        cmocka_unit_test(test_other_bytes_refused),
        cmocka_unit_test(test_encode_buffer_too_small),
        cmocka_unit_test(test_roundtrip_all_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
