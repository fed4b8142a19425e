/* Operations modules: the rate limiter, the metrics exposition, fault specs and log format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/faults.h"
#include "cairn/ident.h"
#include "cairn/log.h"
#include "cairn/metrics.h"
#include "cairn/ratelimit.h"

static int
reset(void **state)
{
    (void)state;
    ratelimit_reset();
    for (int k = 0; k < RL__MAX; k++)
        ratelimit_set_rule((enum rl_kind)k, 0, 1);
    faults_clear();
    return 0;
}

static void
test_window_slides(void **state)
{
    int wait = 0;

    (void)state;
    ratelimit_set_rule(RL_NEW_ORDERS, 2, 100);
    assert_int_equal(ratelimit_check(RL_NEW_ORDERS, "a", 1000, &wait), CAIRN_OK);
    ratelimit_record(RL_NEW_ORDERS, "a", 1000);
    ratelimit_record(RL_NEW_ORDERS, "a", 1040);
    assert_int_equal(ratelimit_check(RL_NEW_ORDERS, "a", 1050, &wait), CAIRN_ERR_CONFLICT);
    assert_int_equal(wait, 50); /* the event at 1000 leaves the window at 1100 */
    assert_int_equal(ratelimit_check(RL_NEW_ORDERS, "b", 1050, &wait), CAIRN_OK);
    assert_int_equal(ratelimit_check(RL_NEW_ORDERS, "a", 1100, &wait), CAIRN_OK);
    ratelimit_record(RL_NEW_ORDERS, "a", 1100);
    assert_int_equal(ratelimit_check(RL_NEW_ORDERS, "a", 1101, &wait), CAIRN_ERR_CONFLICT);
    assert_int_equal(wait, 39);
    /* a kind is its own namespace */
    assert_int_equal(ratelimit_check(RL_CERTS_PER_NAME, "a", 1101, &wait), CAIRN_OK);
}

static void
test_off_and_many_events(void **state)
{
    int wait = 0;

    (void)state;
    for (int i = 0; i < 1000; i++)
        ratelimit_record(RL_CERTS_PER_NAME, "x", 5000);
    assert_int_equal(ratelimit_check(RL_CERTS_PER_NAME, "x", 5000, &wait), CAIRN_OK);
    ratelimit_set_rule(RL_CERTS_PER_NAME, 50, 10);
    for (int i = 0; i < 500; i++) /* the ring keeps the newest 50 only */
        ratelimit_record(RL_CERTS_PER_NAME, "x", 6000 + i / 100);
    assert_int_equal(ratelimit_check(RL_CERTS_PER_NAME, "x", 6004, &wait), CAIRN_ERR_CONFLICT);
    assert_int_equal(wait, 10);
    assert_int_equal(ratelimit_check(RL_CERTS_PER_NAME, "x", 6014, &wait), CAIRN_OK);
}

static void
test_new_order_gate(void **state)
{
    struct ident ids[2] = { { IDENT_DNS, true, "*.w.example" }, { IDENT_DNS, false, "n.example" } };
    struct problem p;
    char key[128];

    (void)state;
    problem_init(&p);
    ratelimit_set_rule(RL_NEW_ORDERS, 1, 60);
    ratelimit_set_rule(RL_FAILED_VALIDATIONS, 1, 60);
    ratelimit_set_rule(RL_CERTS_PER_NAME, 1, 60);
    assert_int_equal(ratelimit_new_order("acct", ids, 2, 100, &p), CAIRN_OK);
    assert_int_equal(ratelimit_new_order("acct", ids, 2, 101, &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_RATE_LIMITED);
    assert_int_equal(p.retry_after, 59);
    assert_non_null(strstr(p.detail, "newOrdersPerAccount"));
    /* a failed validation of the wildcard's base name blocks that account only */
    ratelimit_fail_key("other", "w.example", key, sizeof(key));
    ratelimit_record(RL_FAILED_VALIDATIONS, key, 100);
    assert_int_equal(ratelimit_new_order("other", ids, 1, 110, &p), CAIRN_ERR_PROTO);
    assert_non_null(strstr(p.detail, "failedValidationsPerAccountName"));
    assert_int_equal(ratelimit_new_order("third", ids, 1, 110, &p), CAIRN_OK);
    /* a certificate issued for a name blocks new orders naming it */
    ratelimit_record(RL_CERTS_PER_NAME, "n.example", 100);
    assert_int_equal(ratelimit_new_order("fourth", ids + 1, 1, 120, &p), CAIRN_ERR_PROTO);
    assert_non_null(strstr(p.detail, "certificatesPerName"));
    assert_int_equal(p.retry_after, 40);
}

static void
test_metrics_exposition(void **state)
{
    struct metrics_gauges g = { .va_queue_depth = 3, .inflight_requests = 1 };
    double before = metrics_value("cairn_http_requests_total",
                                  "route=\"/dir\",method=\"GET\",code=\"200\"");
    char *text;

    (void)state;
    metrics_http_request("/dir", "GET", 200, 0.003);
    metrics_http_request("/dir", "GET", 200, 20.0);
    metrics_problem("badNonce");
    metrics_cert_issued();
    assert_true(metrics_value("cairn_http_requests_total",
                              "route=\"/dir\",method=\"GET\",code=\"200\"") ==
                (before < 0 ? 0 : before) + 2);
    assert_true(metrics_value("cairn_bad_nonces_total", "") >= 1);
    assert_true(metrics_value("cairn_problems_total", "type=\"badNonce\"") >= 1);
    /* 20 s is beyond the last bound: only +Inf counts it */
    assert_true(metrics_value("cairn_http_request_duration_seconds_bucket", "le=\"10\"") + 1 ==
                metrics_value("cairn_http_request_duration_seconds_bucket", "le=\"+Inf\""));
    text = metrics_render(&g);
    assert_non_null(text);
    assert_non_null(strstr(text, "# TYPE cairn_http_request_duration_seconds histogram\n"));
    assert_non_null(strstr(text, "\ncairn_va_queue_depth 3\n"));
    assert_null(strstr(text, "cairn_va_queue_depth 3\ncairn_va_queue_depth")); /* once */
    free(text);
}

static void
test_fault_specs(void **state)
{
    const char *bad[] = {
        "{\"endpoint\":\"newOrder\"}",                          /* does nothing */
        "{\"endpoint\":\"x\",\"status\":302}",                  /* not an error status */
        "{\"endpoint\":\"x\",\"every\":2,\"percent\":3,\"status\":500}",
        "{\"endpoint\":\"x\",\"problem\":\"nope\"}",
        "{\"endpoint\":\"x\",\"delayMs\":1,\"extra\":1}",
        "{\"status\":500}",
    };
    struct fault_hit hit;
    struct problem p;
    char err[256];
    json_t *j;
    int id;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        j = json_loads(bad[i], 0, NULL);
        assert_non_null(j);
        assert_int_equal(faults_add(j, &id, err, sizeof(err)), CAIRN_ERR_INVAL);
        json_decref(j);
    }
    j = json_loads("{\"endpoint\":\"newOrder\",\"every\":3,\"problem\":\"rateLimited\","
                   "\"retryAfter\":9}", 0, NULL);
    assert_int_equal(faults_add(j, &id, err, sizeof(err)), CAIRN_OK);
    json_decref(j);
    assert_false(faults_match("order", &hit));
    assert_false(faults_match("newOrder", &hit));
    assert_false(faults_match("newOrder", &hit));
    assert_true(faults_match("newOrder", &hit));
    assert_int_equal(hit.status, 429);
    problem_init(&p);
    assert_int_equal(faults_apply(&hit, &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_RATE_LIMITED);
    assert_int_equal(p.retry_after, 9);
    faults_clear();
    assert_false(faults_match("newOrder", &hit));
}

static void
test_log_format_names(void **state)
{
    enum log_format f;

    (void)state;
    assert_int_equal(log_format_parse("json", &f), CAIRN_OK);
    assert_int_equal(f, LOG_FMT_JSON);
    assert_int_equal(log_format_parse("logfmt", &f), CAIRN_OK);
    assert_int_equal(f, LOG_FMT_LOGFMT);
    assert_int_equal(log_format_parse("xml", &f), CAIRN_ERR_INVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_window_slides, reset),
        cmocka_unit_test_setup(test_off_and_many_events, reset),
        cmocka_unit_test_setup(test_new_order_gate, reset),
        cmocka_unit_test_setup(test_metrics_exposition, reset),
        cmocka_unit_test_setup(test_fault_specs, reset),
        cmocka_unit_test_setup(test_log_format_names, reset),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    ratelimit_reset();
    return rc;
}
