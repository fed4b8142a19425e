#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/problem.h"
#include "cairn/render.h"

static void
test_time_roundtrip(void **state)
{
    char buf[32];
    int64_t t = 0;

    (void)state;
    render_time(0, buf, sizeof(buf));
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    render_time(1795461596, buf, sizeof(buf));
    assert_int_equal(render_time_parse(buf, &t), CAIRN_OK);
    assert_int_equal(t, 1795461596);
}

static void
test_time_parse_forms(void **state)
{
    int64_t t = 0;

    (void)state;
    assert_int_equal(render_time_parse("2016-01-01T00:04:00+04:00", &t), CAIRN_OK);
    assert_int_equal(t, 1451592240); /* 2016-01-01T00:04:00+04:00 = 2015-12-31T20:04:00Z */
    assert_int_equal(render_time_parse("2016-01-01T00:00:00.123456789Z", &t), CAIRN_OK);
    assert_int_equal(t, 1451606400);
    assert_int_equal(render_time_parse("2024-02-29T12:00:00-01:30", &t), CAIRN_OK);
    assert_int_equal(t, 1709213400); /* = 13:30Z */
}

static void
test_time_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "", "2016-01-01", "2016-01-01T00:00:00", "2016-13-01T00:00:00Z",
        "2016-01-01T24:00:00Z", "2016-01-01T00:00:00ZZ", "2016-01-01T00:00:00.Z",
        "2016-01-01T00:00:00+0400", "2016/01/01T00:00:00Z", "2016-01-01T00:00:00.1234567890Z",
    };
    int64_t t;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(render_time_parse(bad[i], &t), CAIRN_ERR_INVAL);
}

static void
test_url(void **state)
{
    char small[8], url[128];

    (void)state;
    assert_int_equal(render_url(url, sizeof(url), "https://h:1", CAIRN_PATH_ORDER, "abc",
                                "/finalize"),
                     CAIRN_OK);
    assert_string_equal(url, "https://h:1/acme/order/abc/finalize");
    assert_int_equal(render_url(small, sizeof(small), "https://h:1", CAIRN_PATH_ORDER, "abc",
                                NULL),
                     CAIRN_ERR_INVAL);
}

static void
test_problem_render(void **state)
{
    struct problem p;
    char *text;

    (void)state;
    problem_init(&p);
    assert_int_equal(problem_set_status(&p, PROB_MALFORMED, 415, "bad %s", "type"),
                     CAIRN_ERR_PROTO);
    text = problem_render_text(&p);
    assert_non_null(strstr(text, "\"urn:ietf:params:acme:error:malformed\""));
    assert_non_null(strstr(text, "\"status\":415"));
    assert_non_null(strstr(text, "\"detail\":\"bad type\""));
    free(text);
    problem_set(&p, PROB_BAD_SIGNATURE_ALGORITHM, "no");
    text = problem_render_text(&p);
    assert_non_null(strstr(text, "\"algorithms\":[\"RS256\",\"ES256\",\"ES384\",\"ES512\",\"EdDSA\"]"));
    assert_non_null(strstr(text, "\"status\":400"));
    free(text);
    problem_cleanup(&p);
}

static void
test_problem_subproblems(void **state)
{
    struct problem p;
    char *text;

    (void)state;
    problem_init(&p);
    assert_int_equal(problem_add_sub(&p, PROB_REJECTED_IDENTIFIER, "dns", "a..com", "empty"), 0);
    assert_int_equal(problem_add_sub(&p, PROB_REJECTED_IDENTIFIER, "dns", "-a.com", "dash"), 0);
    problem_from_subs(&p, "two bad");
    assert_int_equal(p.type, PROB_REJECTED_IDENTIFIER);
    assert_int_equal(problem_add_sub(&p, PROB_UNSUPPORTED_IDENTIFIER, "email", "x", "type"), 0);
    problem_from_subs(&p, "three bad");
    assert_int_equal(p.type, PROB_COMPOUND);
    text = problem_render_text(&p);
    assert_non_null(strstr(text, "\"identifier\":{\"type\":\"dns\",\"value\":\"a..com\"}"));
    free(text);
    problem_cleanup(&p);
    assert_int_equal(p.nsub, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_roundtrip),      cmocka_unit_test(test_time_parse_forms),
        cmocka_unit_test(test_time_parse_rejects),  cmocka_unit_test(test_url),
        cmocka_unit_test(test_problem_render),      cmocka_unit_test(test_problem_subproblems),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
