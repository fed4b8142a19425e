#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/nonce.h"

static const uint8_t key_a[32] = { 1, 2, 3 };
static const uint8_t key_b[32] = { 9, 9, 9 };

static void
test_issue_redeem_once(void **state)
{
    struct nonce_state *ns;
    char n[CAIRN_NONCE_STR_LEN + 1];

    (void)state;
    assert_int_equal(nonce_state_new(key_a, 1024, 300, &ns), CAIRN_OK);
    assert_int_equal(nonce_issue(ns, 1000, n), CAIRN_OK);
    assert_int_equal(strlen(n), CAIRN_NONCE_STR_LEN);
    assert_int_equal(nonce_redeem(ns, n, 1001), NONCE_OK);
    assert_int_equal(nonce_redeem(ns, n, 1001), NONCE_USED);
    nonce_state_free(ns);
}

static void
test_bad_syntax_and_mac(void **state)
{
    struct nonce_state *a, *b;
    char n[CAIRN_NONCE_STR_LEN + 1];

    (void)state;
    assert_int_equal(nonce_state_new(key_a, 1024, 300, &a), CAIRN_OK);
    assert_int_equal(nonce_state_new(key_b, 1024, 300, &b), CAIRN_OK);
    assert_int_equal(nonce_redeem(a, "abc+def", 1000), NONCE_BAD_SYNTAX);
    assert_int_equal(nonce_redeem(a, "", 1000), NONCE_BAD_SYNTAX);
    assert_int_equal(nonce_redeem(a, "AAAA", 1000), NONCE_UNKNOWN);
    assert_int_equal(nonce_issue(b, 1000, n), CAIRN_OK);
    /* another key (another instance or a previous start) */
    assert_int_equal(nonce_redeem(a, n, 1000), NONCE_UNKNOWN);
    /* one flipped character breaks the MAC */
    assert_int_equal(nonce_issue(a, 1000, n), CAIRN_OK);
    n[10] = n[10] == 'A' ? 'B' : 'A';
    assert_int_equal(nonce_redeem(a, n, 1000), NONCE_UNKNOWN);
    nonce_state_free(a);
    nonce_state_free(b);
}

static void
test_age(void **state)
{
    struct nonce_state *ns;
    char n1[CAIRN_NONCE_STR_LEN + 1], n2[CAIRN_NONCE_STR_LEN + 1];

    (void)state;
    assert_int_equal(nonce_state_new(key_a, 1024, 300, &ns), CAIRN_OK);
    assert_int_equal(nonce_issue(ns, 1000, n1), CAIRN_OK);
    assert_int_equal(nonce_issue(ns, 1000, n2), CAIRN_OK);
    assert_int_equal(nonce_redeem(ns, n1, 1301), NONCE_EXPIRED);
    assert_int_equal(nonce_redeem(ns, n2, 1300), NONCE_OK);
    /* issued more than the allowed skew in the future */
    assert_int_equal(nonce_issue(ns, 2000, n1), CAIRN_OK);
    assert_int_equal(nonce_redeem(ns, n1, 1990), NONCE_EXPIRED);
    nonce_state_free(ns);
}

/* A valid, unused nonce inside the window is never refused however many were issued after
 * it; one that fell out of the window is expired, never accepted twice. */
static void
test_window(void **state)
{
    struct nonce_state *ns;
    char first[CAIRN_NONCE_STR_LEN + 1], n[CAIRN_NONCE_STR_LEN + 1];

    (void)state;
    assert_int_equal(nonce_state_new(key_a, 128, 300, &ns), CAIRN_OK);
    assert_int_equal(nonce_issue(ns, 1000, first), CAIRN_OK);
    for (int i = 0; i < 126; i++)
        assert_int_equal(nonce_issue(ns, 1000, n), CAIRN_OK);
    assert_int_equal(nonce_redeem(ns, first, 1000), NONCE_OK);
    assert_int_equal(nonce_redeem(ns, first, 1000), NONCE_USED);
    for (int i = 0; i < 200; i++)
        assert_int_equal(nonce_issue(ns, 1000, n), CAIRN_OK);
    assert_int_equal(nonce_redeem(ns, first, 1000), NONCE_EXPIRED);
    assert_int_equal(nonce_redeem(ns, n, 1000), NONCE_OK);
    nonce_state_free(ns);
}

/* Found by fuzz_nonce: an extreme issued_at must compare, not overflow (UBSan in the ASan
 * build fails this test on the old "now - issued" form). */
static void
test_extreme_issue_time(void **state)
{
    struct nonce_state *ns;
    char n[CAIRN_NONCE_STR_LEN + 1];

    (void)state;
    assert_int_equal(nonce_state_new(key_a, 1024, 300, &ns), CAIRN_OK);
    assert_int_equal(nonce_issue(ns, INT64_MIN, n), CAIRN_OK);
    assert_int_equal(nonce_redeem(ns, n, 1000), NONCE_EXPIRED);
    assert_int_equal(nonce_issue(ns, INT64_MAX, n), CAIRN_OK);
    assert_int_equal(nonce_redeem(ns, n, 1000), NONCE_EXPIRED);
    assert_int_equal(nonce_issue(ns, 1000, n), CAIRN_OK);
    assert_int_equal(nonce_redeem(ns, n, 1000), NONCE_OK);
    nonce_state_free(ns);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue_redeem_once),
        cmocka_unit_test(test_bad_syntax_and_mac),
        cmocka_unit_test(test_age),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_extreme_issue_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
