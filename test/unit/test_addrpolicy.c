/* test_addrpolicy.c - the VA's target address policy (PROTOCOL.md §5, §9.7), a pure
 * function: special-purpose ranges refused in CA mode unless allowed, private ranges allowed
 * unless denied, IPv4-mapped IPv6 judged as IPv4, test mode contacts anything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/va.h"

static void
ca_cfg(struct va_config *c)
{
    memset(c, 0, sizeof(*c));
    c->ca_mode = true;
}

static void
expect_allowed(const struct va_config *c, const char *addr)
{
    struct problem p;

    problem_init(&p);
    if (va_addr_check(c, addr, &p) != CAIRN_OK)
        print_error("%s refused: %s\n", addr, p.detail);
    assert_int_equal(va_addr_check(c, addr, &p), CAIRN_OK);
}

static void
expect_refused(const struct va_config *c, const char *addr, const char *needle)
{
    struct problem p;

    problem_init(&p);
    assert_int_equal(va_addr_check(c, addr, &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_CONNECTION);
    assert_non_null(strstr(p.detail, addr)); /* the detail names the address */
    assert_non_null(strstr(p.detail, needle));
}

static void
test_special_refused(void **state)
{
    static const char *const special[] = {
        "0.1.2.3",      "127.0.0.1",     "127.255.255.254", "169.254.1.1", "192.0.2.7",
        "198.18.0.1",   "198.19.255.255", "198.51.100.1",   "203.0.113.9", "224.0.0.1",
        "239.1.1.1",    "240.0.0.1",     "255.255.255.255", "::",          "::1",
        "fe80::1",      "febf::1",       "ff02::1",         "2001:db8::1", "::ffff:127.0.0.1",
        "::ffff:169.254.0.1",
    };
    struct va_config c;

    (void)state;
    ca_cfg(&c);
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
        expect_refused(&c, special[i], "special-purpose");
}

static void
test_public_and_private_allowed(void **state)
{
    static const char *const ok[] = {
        "8.8.8.8",     "10.1.2.3",  "172.16.0.1", "172.31.255.255", "192.168.1.1",
        "100.64.0.1",  "198.17.255.255", "198.20.0.0", "fc00::1", "fd12::1",
        "2001:db9::1", "2606:4700::1", "fec0::1", "::ffff:8.8.8.8", "192.0.3.1",
    };
    struct va_config c;

    (void)state;
    ca_cfg(&c);
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        expect_allowed(&c, ok[i]);
}

static void
test_allowed_ranges(void **state)
{
    struct va_config c;

    (void)state;
    ca_cfg(&c);
    snprintf(c.allowed_ranges[0], VA_RANGE_LEN, "127.0.0.0/8");
    snprintf(c.allowed_ranges[1], VA_RANGE_LEN, "::1");
    c.n_allowed = 2;
    expect_allowed(&c, "127.0.0.1");
    expect_allowed(&c, "127.1.2.3");
    expect_allowed(&c, "::ffff:127.0.0.1");
    expect_allowed(&c, "::1");
    expect_refused(&c, "169.254.1.1", "special-purpose"); /* only what is listed */
    expect_refused(&c, "fe80::1", "special-purpose");
}

static void
test_denied_ranges(void **state)
{
    struct va_config c;

    (void)state;
    ca_cfg(&c);
    snprintf(c.denied_ranges[0], VA_RANGE_LEN, "10.0.0.0/8");
    snprintf(c.denied_ranges[1], VA_RANGE_LEN, "fc00::/7");
    snprintf(c.denied_ranges[2], VA_RANGE_LEN, "192.168.1.0/25");
    snprintf(c.allowed_ranges[0], VA_RANGE_LEN, "10.9.0.0/16"); /* deny wins */
    c.n_denied = 3;
    c.n_allowed = 1;
    expect_refused(&c, "10.9.1.1", "deniedTargetRanges");
    expect_refused(&c, "fd00::5", "deniedTargetRanges");
    expect_refused(&c, "::ffff:10.0.0.1", "deniedTargetRanges");
    expect_refused(&c, "192.168.1.127", "deniedTargetRanges");
    expect_allowed(&c, "192.168.1.128");
    expect_allowed(&c, "172.16.0.1");
}

static void
test_test_mode_allows_all(void **state)
{
    struct va_config c;

    (void)state;
    memset(&c, 0, sizeof(c));
    expect_allowed(&c, "127.0.0.1");
    expect_allowed(&c, "::1");
    expect_allowed(&c, "169.254.169.254");
}

static void
test_range_syntax(void **state)
{
    (void)state;
    assert_true(va_range_valid("10.0.0.0/8"));
    assert_true(va_range_valid("127.0.0.1"));
    assert_true(va_range_valid("::1/128"));
    assert_true(va_range_valid("2001:db8::/32"));
    assert_false(va_range_valid("10.0.0.0/33"));
    assert_false(va_range_valid("::/129"));
    assert_false(va_range_valid("10.0.0/8"));
    assert_false(va_range_valid("example.com"));
    assert_false(va_range_valid("10.0.0.0/"));
    assert_false(va_range_valid("10.0.0.0/-1"));
    assert_false(va_range_valid(""));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_special_refused),
        cmocka_unit_test(test_public_and_private_allowed),
        cmocka_unit_test(test_allowed_ranges),
        cmocka_unit_test(test_denied_ranges),
        cmocka_unit_test(test_test_mode_allows_all),
        cmocka_unit_test(test_range_syntax),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
