/* test_jsonutil.c - json_load_object() on hostile input (PROTOCOL.md §6 "JSON"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/jsonutil.h"
#include "cairn/limits.h"

static int
load(const char *buf, size_t len, json_t **out, struct problem *p)
{
    problem_init(p);
    return json_load_object(buf, len, "payload", out, p);
}

static void
expect_malformed(const char *buf, size_t len)
{
    struct problem p;
    json_t *obj = (json_t *)1;

    assert_int_equal(load(buf, len, &obj, &p), CAIRN_ERR_PROTO);
    assert_null(obj);
    assert_int_equal(p.type, PROB_MALFORMED);
    assert_int_equal(strncmp(p.detail, "payload: ", 9), 0);
}

static void
expect_ok(const char *buf, size_t len)
{
    struct problem p;
    json_t *obj = NULL;

    assert_int_equal(load(buf, len, &obj, &p), CAIRN_OK);
    assert_true(json_is_object(obj));
    json_decref(obj);
}

#define EXPECT_OK(s) expect_ok(s, sizeof(s) - 1)
#define EXPECT_MALFORMED(s) expect_malformed(s, sizeof(s) - 1)

/* {"a":[[[...]]]} with `depth` nested containers in total, the outer object included. */
static char *
nested(size_t depth, int with_strings)
{
    size_t cap = depth * 16 + 64, o = 0;
    char *s = malloc(cap);

    assert_non_null(s);
    o += (size_t)snprintf(s + o, cap - o, "{\"a\":");
    for (size_t i = 1; i < depth; i++)
        o += (size_t)snprintf(s + o, cap - o, with_strings ? "[\"[{\\\"\"," : "[");
    o += (size_t)snprintf(s + o, cap - o, "1");
    for (size_t i = 1; i < depth; i++)
        o += (size_t)snprintf(s + o, cap - o, "]");
    o += (size_t)snprintf(s + o, cap - o, "}");
    assert_true(o < cap);
    return s;
}

static void
test_depth(void **state)
{
    char *s;

    (void)state;
    s = nested(CAIRN_MAX_JSON_DEPTH, 0);
    expect_ok(s, strlen(s));
    free(s);
    s = nested(CAIRN_MAX_JSON_DEPTH + 1, 0);
    expect_malformed(s, strlen(s));
    free(s);
    s = nested(5000, 0); /* far beyond, and beyond jansson's own limit */
    expect_malformed(s, strlen(s));
    free(s);
}

/* Brackets and escaped quotes inside strings do not count towards the depth. */
static void
test_depth_ignores_strings(void **state)
{
    char *s;

    (void)state;
    s = nested(CAIRN_MAX_JSON_DEPTH, 1);
    expect_ok(s, strlen(s));
    free(s);
    s = nested(CAIRN_MAX_JSON_DEPTH + 1, 1);
    expect_malformed(s, strlen(s));
    free(s);
    EXPECT_OK("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}");
}

static void
test_duplicates(void **state)
{
    (void)state;
    EXPECT_MALFORMED("{\"a\":1,\"a\":1}");
    EXPECT_MALFORMED("{\"a\":1,\"b\":{\"c\":1,\"c\":2}}");
    EXPECT_MALFORMED("{\"url\":\"x\",\"url\":\"y\"}");
    EXPECT_OK("{\"a\":1,\"A\":1,\"b\":{\"a\":2}}");
}

static void
test_nul(void **state)
{
    (void)state;
    EXPECT_MALFORMED("{\"a\":1}\0");
    EXPECT_MALFORMED("{\"a\":\"x\0y\"}");
    EXPECT_MALFORMED("{\"a\":\"x\\u0000y\"}");
    EXPECT_OK("{\"a\":\"x\\u0001y\"}");
}

static void
test_bom(void **state)
{
    (void)state;
    EXPECT_MALFORMED("\xef\xbb\xbf{\"a\":1}");
    EXPECT_OK("{\"a\":\"\xef\xbb\xbf\"}"); /* inside a string it is just a character */
}

static void
test_trailing_data(void **state)
{
    (void)state;
    EXPECT_MALFORMED("{\"a\":1}x");
    EXPECT_MALFORMED("{\"a\":1}{}");
    EXPECT_MALFORMED("{\"a\":1},");
    EXPECT_OK("{\"a\":1}\n");
    EXPECT_OK("  {\"a\":1}  \r\n");
}

static void
test_top_level(void **state)
{
    (void)state;
    EXPECT_MALFORMED("[1,2]");
    EXPECT_MALFORMED("[]");
    EXPECT_MALFORMED("\"x\"");
    EXPECT_MALFORMED("1");
    EXPECT_MALFORMED("null");
    EXPECT_MALFORMED("");
    EXPECT_MALFORMED("   ");
    EXPECT_MALFORMED("hi");
    EXPECT_MALFORMED("aaa.bbb.ccc");
    EXPECT_OK("{}");
}

static void
test_big_integers(void **state)
{
    struct problem p;
    json_t *obj = NULL;
    static const char max[] = "{\"n\":9223372036854775807,\"m\":-9223372036854775808}";

    (void)state;
    assert_int_equal(load(max, sizeof(max) - 1, &obj, &p), CAIRN_OK);
    assert_true(json_integer_value(json_object_get(obj, "n")) == INT64_MAX);
    assert_true(json_integer_value(json_object_get(obj, "m")) == INT64_MIN);
    json_decref(obj);
    EXPECT_MALFORMED("{\"n\":9223372036854775808}");
    EXPECT_MALFORMED("{\"n\":-9223372036854775809}");
    EXPECT_MALFORMED("{\"n\":18446744073709551616}");
    EXPECT_MALFORMED("{\"n\":1e999}");
}

static void
test_bad_utf8(void **state)
{
    (void)state;
    EXPECT_MALFORMED("{\"a\":\"\xff\"}");
    EXPECT_MALFORMED("{\"a\":\"\xc0\xaf\"}");       /* overlong '/' */
    EXPECT_MALFORMED("{\"a\":\"\xed\xa0\x80\"}");   /* UTF-16 surrogate */
    EXPECT_MALFORMED("{\"a\":\"\\ud800\"}");        /* lone surrogate escape */
    EXPECT_OK("{\"a\":\"\xc3\xa9\xe2\x82\xac\"}");  /* é€ */
}

static void
test_detail_names_what(void **state)
{
    struct problem p;
    json_t *obj = NULL;

    (void)state;
    problem_init(&p);
    assert_int_equal(json_load_object("[]", 2, "protected header", &obj, &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_MALFORMED);
    assert_non_null(strstr(p.detail, "protected header: "));
}

/* {"a":"xxx..."} with a string of n characters, or with a member name of n characters. */
static char *
long_string(size_t n, int as_name)
{
    char *s = malloc(n + 32);

    assert_non_null(s);
    memcpy(s, as_name ? "{\"" : "{\"a\":\"", as_name ? 2 : 6);
    memset(s + (as_name ? 2 : 6), 'x', n);
    snprintf(s + (as_name ? 2 : 6) + n, 32, "%s", as_name ? "\":1}" : "\"}");
    return s;
}

static int
load_payload(const char *s)
{
    struct problem p;
    json_t *obj = NULL;
    int rc;

    problem_init(&p);
    rc = json_load_payload(s, strlen(s), "payload", &obj, &p);
    if (rc == CAIRN_OK) {
        assert_true(json_is_object(obj));
        json_decref(obj);
    } else {
        assert_null(obj);
        assert_int_equal(p.type, PROB_MALFORMED);
    }
    problem_cleanup(&p);
    return rc;
}

/* limits.maxJsonDepth and limits.maxJsonString (json_limits_set). */
static void
test_configured_limits(void **state)
{
    char *s;

    (void)state;
    s = long_string(CAIRN_MAX_JSON_STRING, 0);
    assert_int_equal(load_payload(s), CAIRN_OK);
    free(s);
    s = long_string(CAIRN_MAX_JSON_STRING + 1, 0);
    assert_int_equal(load_payload(s), CAIRN_ERR_PROTO);
    expect_ok(s, strlen(s)); /* json_load_object() has no string cap */
    free(s);

    json_limits_set(4, 5000);
    s = nested(4, 0);
    expect_ok(s, strlen(s));
    free(s);
    s = nested(5, 0);
    expect_malformed(s, strlen(s));
    free(s);
    s = long_string(5000, 0);
    assert_int_equal(load_payload(s), CAIRN_OK);
    free(s);
    s = long_string(5001, 0);
    assert_int_equal(load_payload(s), CAIRN_ERR_PROTO);
    free(s);
    s = long_string(5001, 1); /* member names count too */
    assert_int_equal(load_payload(s), CAIRN_ERR_PROTO);
    free(s);
    /* escapes count as written: 2,500 "\\" pairs are 5,000 characters of text */
    s = long_string(5000, 0);
    for (size_t i = 6; i < 6 + 5000; i += 2)
        memcpy(s + i, "\\\\", 2);
    assert_int_equal(load_payload(s), CAIRN_OK);
    free(s);

    json_limits_set(CAIRN_MAX_JSON_DEPTH + 10, 0); /* capped at the bound; 0 = default */
    s = nested(CAIRN_MAX_JSON_DEPTH + 1, 0);
    expect_malformed(s, strlen(s));
    free(s);
    s = long_string(CAIRN_MAX_JSON_STRING, 0);
    assert_int_equal(load_payload(s), CAIRN_OK);
    free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_depth_ignores_strings),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_nul),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_trailing_data),
        cmocka_unit_test(test_top_level),
        cmocka_unit_test(test_big_integers),
        cmocka_unit_test(test_bad_utf8),
        cmocka_unit_test(test_detail_names_what),
        cmocka_unit_test(test_configured_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
