/* test_ident.c - identifier syntax and policy (PROTOCOL.md §5, cases O02/O04/O06/O10/O14/O16). */
/* cmocka.h needs these before it, in this order. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cairn/ident.h"

static const struct ident_policy test_pol = { .ca_mode = false };
static const struct ident_policy ca_pol = { .ca_mode = true };

/* Checks one identifier; returns the rc and leaves the problem type in *type. */
static int
check(const char *type, const char *value, const struct ident_policy *pol, struct ident *out,
      enum prob_type *ptype)
{
    struct problem p;
    int rc;

    problem_init(&p);
    rc = ident_check(type, value, pol, out, &p);
    *ptype = p.type;
    if (rc == CAIRN_ERR_PROTO)
        assert_true(p.detail[0] != '\0');
    problem_cleanup(&p);
    return rc;
}

static void
expect_ok(const char *type, const char *value, const struct ident_policy *pol,
          const char *normalised)
{
    struct ident id;
    enum prob_type t;

    if (check(type, value, pol, &id, &t) != CAIRN_OK)
        fail_msg("%s %s refused", type, value);
    assert_string_equal(id.value, normalised);
}

static void
expect_bad(const char *type, const char *value, const struct ident_policy *pol, enum prob_type want)
{
    struct ident id;
    enum prob_type t;

    if (check(type, value, pol, &id, &t) != CAIRN_ERR_PROTO)
        fail_msg("%s %s accepted", type, value);
    assert_int_equal(t, want);
}

static void
test_type_names(void **state)
{
    enum ident_type t;

    (void)state;
    assert_string_equal(ident_type_name(IDENT_DNS), "dns");
    assert_string_equal(ident_type_name(IDENT_IP), "ip");
    assert_int_equal(ident_type_parse("dns", &t), CAIRN_OK);
    assert_int_equal(t, IDENT_DNS);
    assert_int_equal(ident_type_parse("ip", &t), CAIRN_OK);
    assert_int_equal(t, IDENT_IP);
    assert_int_equal(ident_type_parse("DNS", &t), CAIRN_ERR_INVAL);
    assert_int_equal(ident_type_parse("", &t), CAIRN_ERR_INVAL);
    assert_int_equal(ident_type_parse(NULL, &t), CAIRN_ERR_INVAL);
}

/* O02 */
static void
test_unsupported_types(void **state)
{
    (void)state;
    expect_bad("email", "a@example.com", &test_pol, PROB_UNSUPPORTED_IDENTIFIER);
    expect_bad("uri", "https://example.com", &test_pol, PROB_UNSUPPORTED_IDENTIFIER);
    expect_bad("DNS", "example.com", &test_pol, PROB_UNSUPPORTED_IDENTIFIER);
    expect_bad("foo", "example.com", &test_pol, PROB_UNSUPPORTED_IDENTIFIER);
    expect_bad(NULL, "example.com", &test_pol, PROB_UNSUPPORTED_IDENTIFIER);
    expect_ok("dns", "example.com", &test_pol, "example.com");
}

static void
test_dns_good(void **state)
{
    (void)state;
    expect_ok("dns", "Example.COM", &test_pol, "example.com");
    expect_ok("dns", "a-b.c0.example.net", &test_pol, "a-b.c0.example.net");
    expect_ok("dns", "1.2.3.example", &test_pol, "1.2.3.example");
    expect_ok("dns", "xn--bcher-kva.example", &test_pol, "xn--bcher-kva.example");
    expect_ok("dns", "a.b.c.d.e.f.g.h.i.j", &test_pol, "a.b.c.d.e.f.g.h.i.j");
}

static char long_label[80];
static char long_name[300];

/* O06 */
static void
test_dns_bad(void **state)
{
    const enum prob_type rej = PROB_REJECTED_IDENTIFIER;
    char ok_label[80];

    (void)state;
    memset(long_label, 'a', 64);
    snprintf(long_label + 64, sizeof(long_label) - 64, ".com");
    expect_bad("dns", long_label, &test_pol, rej);
    memset(ok_label, 'a', 63);
    snprintf(ok_label + 63, sizeof(ok_label) - 63, ".com");
    expect_ok("dns", ok_label, &test_pol, ok_label);

    /* 254 octets: 63+1+63+1+63+1+58+1+3 = 254; one less is 253 and fine. */
    snprintf(long_name, sizeof(long_name), "%.63s.%.63s.%.63s.%.58s.com", ok_label, ok_label,
             ok_label, ok_label);
    assert_int_equal(strlen(long_name), 254);
    expect_bad("dns", long_name, &test_pol, rej);
    snprintf(long_name, sizeof(long_name), "%.63s.%.63s.%.63s.%.57s.com", ok_label, ok_label,
             ok_label, ok_label);
    expect_ok("dns", long_name, &test_pol, long_name);

    expect_bad("dns", "a.b.c.d.e.f.g.h.i.j.k", &test_pol, rej); /* 11 labels */
    expect_bad("dns", "example.com.", &test_pol, rej);
    expect_bad("dns", "a..com", &test_pol, rej);
    expect_bad("dns", ".example.com", &test_pol, rej);
    expect_bad("dns", "-a.example.com", &test_pol, rej);
    expect_bad("dns", "a-.example.com", &test_pol, rej);
    expect_bad("dns", "com", &test_pol, rej);
    expect_bad("dns", "localhost", &test_pol, rej);
    expect_bad("dns", "", &test_pol, rej);
    expect_bad("dns", NULL, &test_pol, rej);
    expect_bad("dns", "a_b.example.com", &test_pol, rej);
    expect_bad("dns", "a b.example.com", &test_pol, rej);
    expect_bad("dns",
               "b\xc3\xbc"
               "cher.example",
               &test_pol, rej); /* U-label */
    expect_bad("dns", "ab--cd.example", &test_pol, rej);
    expect_bad("dns", "xn--.example", &test_pol, rej);
    expect_ok("dns", "ab-cd.example", &test_pol, "ab-cd.example");
    expect_ok("dns", "a--b.example", &test_pol, "a--b.example"); /* "--" not at 3-4 */
}

static void
test_dns_ip_literal(void **state)
{
    (void)state;
    expect_bad("dns", "192.0.2.1", &test_pol, PROB_REJECTED_IDENTIFIER);
    expect_bad("dns", "10.1", &test_pol, PROB_REJECTED_IDENTIFIER);
    expect_bad("dns", "::1", &test_pol, PROB_REJECTED_IDENTIFIER);
    expect_ok("dns", "10.1.example", &test_pol, "10.1.example");
}

/* O10 */
static void
test_wildcards(void **state)
{
    struct ident id;
    enum prob_type t;

    (void)state;
    assert_int_equal(check("dns", "*.Example.com", &test_pol, &id, &t), CAIRN_OK);
    assert_string_equal(id.value, "*.example.com");
    assert_true(id.wildcard);
    assert_int_equal(check("dns", "www.example.com", &test_pol, &id, &t), CAIRN_OK);
    assert_false(id.wildcard);
    expect_bad("dns", "*.com", &test_pol, PROB_REJECTED_IDENTIFIER);
    expect_bad("dns", "*.*.example.com", &test_pol, PROB_REJECTED_IDENTIFIER);
    expect_bad("dns", "a.*.example.com", &test_pol, PROB_REJECTED_IDENTIFIER);
    expect_bad("dns", "*a.example.com", &test_pol, PROB_REJECTED_IDENTIFIER);
    expect_bad("dns", "*", &test_pol, PROB_REJECTED_IDENTIFIER);
    expect_bad("dns", "*.", &test_pol, PROB_REJECTED_IDENTIFIER);
    expect_bad("ip", "*.1.2.3", &test_pol, PROB_REJECTED_IDENTIFIER);
    expect_bad("dns", "*.a.b.c.d.e.f.g.h.i.j", &test_pol, PROB_REJECTED_IDENTIFIER);
    expect_ok("dns", "*.a.b.c.d.e.f.g.h.i", &test_pol, "*.a.b.c.d.e.f.g.h.i");
}

static void
test_reserved_names(void **state)
{
    static const char *const names[] = {
        "example.com", "www.example.com", "example.net", "a.example.org", "foo.example",
        "a.test",      "host.invalid",    "x.localhost", "*.example.com",
    };

    (void)state;
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(names); i++) {
        expect_bad("dns", names[i], &ca_pol, PROB_REJECTED_IDENTIFIER);
        expect_ok("dns", names[i], &test_pol, names[i]);
    }
    expect_ok("dns", "myexample.com", &ca_pol, "myexample.com");
    expect_ok("dns", "example.co", &ca_pol, "example.co");
    expect_ok("dns", "nottest.lab", &ca_pol, "nottest.lab");
}

static void
test_ipv4(void **state)
{
    const enum prob_type rej = PROB_REJECTED_IDENTIFIER;

    (void)state;
    expect_ok("ip", "93.184.216.34", &test_pol, "93.184.216.34");
    expect_ok("ip", "0.0.0.0", &test_pol, "0.0.0.0");
    expect_ok("ip", "255.255.255.255", &test_pol, "255.255.255.255");
    expect_bad("ip", "01.2.3.4", &test_pol, rej);
    expect_bad("ip", "1.2.3.04", &test_pol, rej);
    expect_bad("ip", "1.2.3", &test_pol, rej);
    expect_bad("ip", "1.2.3.4.5", &test_pol, rej);
    expect_bad("ip", "256.1.1.1", &test_pol, rej);
    expect_bad("ip", "1.2.3.4 ", &test_pol, rej);
    expect_bad("ip", "1.2.3.", &test_pol, rej);
    expect_bad("ip", "1..2.3", &test_pol, rej);
    expect_bad("ip", "0x1.2.3.4", &test_pol, rej);
    expect_bad("ip", "1.2.3.4/32", &test_pol, rej);
    expect_bad("ip", "1000.2.3.4", &test_pol, rej);
    expect_bad("ip", "example.com", &test_pol, rej);
    expect_bad("ip", "", &test_pol, rej);
}

static void
test_ipv6(void **state)
{
    const enum prob_type rej = PROB_REJECTED_IDENTIFIER;

    (void)state;
    expect_ok("ip", "2606:4700::1111", &test_pol, "2606:4700::1111");
    expect_ok("ip", "2001:db8:0:1:1:1:1:1", &test_pol, "2001:db8:0:1:1:1:1:1");
    expect_ok("ip", "::1", &test_pol, "::1");
    expect_bad("ip", "2606:4700:0:0:0:0:0:1111", &test_pol, rej); /* not compressed */
    expect_bad("ip", "2606:4700::1111:0:0:0:0:1", &test_pol, rej);
    expect_bad("ip", "2606:4700::ABCD", &test_pol, rej);   /* upper case */
    expect_bad("ip", "2606:4700:0000::1", &test_pol, rej); /* leading zeros */
    /* Equal zero runs: the first one is compressed (RFC 5952 §4.2.3). */
    expect_ok("ip", "2001:db8::1:0:0:1", &test_pol, "2001:db8::1:0:0:1");
    expect_bad("ip", "2001:db8:0:0:1::1", &test_pol, rej);
    expect_bad("ip", "2001:db8::0:1:0:0:1", &test_pol, rej); /* 1-field "::" */
    expect_bad("ip", "fe80::1%eth0", &test_pol, rej);
    expect_bad("ip", "2001:db8::/32", &test_pol, rej);
    expect_bad("ip", "[2001:db8::1]", &test_pol, rej);
    expect_bad("ip", "2001:db8:::1", &test_pol, rej);
}

/* O16 and the special-purpose ranges. */
static void
test_ip_ca_mode(void **state)
{
    static const char *const special[] = {
        "0.1.2.3",
        "127.0.0.1",
        "169.254.1.1",
        "192.0.2.1",
        "198.18.0.1",
        "198.19.255.255",
        "198.51.100.7",
        "203.0.113.9",
        "224.0.0.1",
        "239.1.1.1",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "fe80::1",
        "febf::1",
        "ff02::1",
        "2001:db8::1",
        "::ffff:127.0.0.1",
    };
    static const char *const allowed[] = {
        "93.184.216.34",   "10.0.0.1",        "172.16.5.4",  "192.168.1.1", "100.64.0.1",
        "198.20.0.1",      "223.255.255.255", "169.253.1.1", "fc00::1",     "fd12:3456::1",
        "2606:4700::1111", "fec0::1",         "2001:db9::1",
    };

    (void)state;
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(special); i++) {
        expect_bad("ip", special[i], &ca_pol, PROB_REJECTED_IDENTIFIER);
        expect_ok("ip", special[i], &test_pol, special[i]);
    }
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(allowed); i++)
        expect_ok("ip", allowed[i], &ca_pol, allowed[i]);
}

static int
list(const char *const *types, const char *const *values, size_t n, const struct ident_policy *pol,
     struct ident *out, size_t *nout, struct problem *p)
{
    problem_init(p);
    return ident_list_check(types, values, n, pol, out, nout, p);
}

/* O04 */
static void
test_list_dedup(void **state)
{
    const char *types[] = { "dns", "dns", "ip", "dns", "ip" };
    const char *values[] = { "Example.COM", "example.com", "10.0.0.1", "www.example.com",
                             "10.0.0.1" };
    struct ident out[5];
    struct problem p;
    size_t n = 0;

    (void)state;
    assert_int_equal(list(types, values, 5, &test_pol, out, &n, &p), CAIRN_OK);
    assert_int_equal(n, 3);
    assert_string_equal(out[0].value, "example.com");
    assert_int_equal(out[1].type, IDENT_IP);
    assert_string_equal(out[1].value, "10.0.0.1");
    assert_string_equal(out[2].value, "www.example.com");
    problem_cleanup(&p);
}

static void
test_list_wildcard_cover(void **state)
{
    const char *types[] = { "dns", "dns", "dns" };
    const char *values[] = { "*.example.com", "example.com", "a.b.example.com" };
    const char *covered[] = { "*.example.com", "www.EXAMPLE.com" };
    struct ident out[3];
    struct problem p;
    size_t n = 0;

    (void)state;
    /* The base name and deeper names are not covered by "*.example.com". */
    assert_int_equal(list(types, values, 3, &test_pol, out, &n, &p), CAIRN_OK);
    assert_int_equal(n, 3);
    assert_true(out[0].wildcard);
    problem_cleanup(&p);
    assert_int_equal(list(types, covered, 2, &test_pol, out, &n, &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_MALFORMED);
    assert_non_null(strstr(p.detail, "www.example.com"));
    problem_cleanup(&p);
    /* Order does not matter. */
    covered[0] = "www.example.com";
    covered[1] = "*.example.com";
    assert_int_equal(list(types, covered, 2, &test_pol, out, &n, &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_MALFORMED);
    problem_cleanup(&p);
}

/* O14 */
static void
test_list_subproblems(void **state)
{
    const char *types[] = { "dns", "dns", "dns", "ip" };
    const char *values[] = { "good.example", "bad..example", "-bad.example", "01.2.3.4" };
    const char *mixed_t[] = { "dns", "email" };
    const char *mixed_v[] = { "a..b", "x@y.example" };
    struct ident out[4];
    struct problem p;
    size_t n = 0;

    (void)state;
    assert_int_equal(list(types, values, 4, &test_pol, out, &n, &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_REJECTED_IDENTIFIER);
    assert_int_equal(p.nsub, 3);
    assert_string_equal(p.sub[0].ident_type, "dns");
    assert_string_equal(p.sub[0].ident_value, "bad..example");
    assert_int_equal(p.sub[0].type, PROB_REJECTED_IDENTIFIER);
    assert_string_equal(p.sub[1].ident_value, "-bad.example");
    assert_string_equal(p.sub[2].ident_type, "ip");
    assert_string_equal(p.sub[2].ident_value, "01.2.3.4");
    problem_cleanup(&p);

    assert_int_equal(list(mixed_t, mixed_v, 2, &test_pol, out, &n, &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_COMPOUND);
    assert_int_equal(p.nsub, 2);
    assert_int_equal(p.sub[1].type, PROB_UNSUPPORTED_IDENTIFIER);
    assert_string_equal(p.sub[1].ident_type, "");
    problem_cleanup(&p);

    /* One bad identifier: its type at the top, the detail names it. */
    assert_int_equal(list(mixed_t + 1, mixed_v + 1, 1, &test_pol, out, &n, &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_UNSUPPORTED_IDENTIFIER);
    assert_int_equal(p.nsub, 1);
    problem_cleanup(&p);
}

static void
test_list_bounds(void **state)
{
    const char *types[CAIRN_MAX_IDENTS + 1];
    const char *values[CAIRN_MAX_IDENTS + 1];
    static char names[CAIRN_MAX_IDENTS + 1][32];
    static struct ident out[CAIRN_MAX_IDENTS + 1];
    struct problem p;
    size_t n = 0;

    (void)state;
    for (size_t i = 0; i <= CAIRN_MAX_IDENTS; i++) {
        snprintf(names[i], sizeof(names[i]), "h%zu.example", i);
        types[i] = "dns";
        values[i] = names[i];
    }
    assert_int_equal(list(types, values, CAIRN_MAX_IDENTS, &test_pol, out, &n, &p), CAIRN_OK);
    assert_int_equal(n, CAIRN_MAX_IDENTS);
    problem_cleanup(&p);
    assert_int_equal(list(types, values, CAIRN_MAX_IDENTS + 1, &test_pol, out, &n, &p),
                     CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_MALFORMED);
    problem_cleanup(&p);
    assert_int_equal(list(types, values, 0, &test_pol, out, &n, &p), CAIRN_ERR_PROTO);
    problem_cleanup(&p);
}

static void
test_reverse_names(void **state)
{
    struct ident v4 = { IDENT_IP, false, "192.0.2.5" };
    struct ident v6 = { IDENT_IP, false, "2001:db8::567:89ab" };
    struct ident dns = { IDENT_DNS, false, "example.com" };
    char out[128], tiny[16];

    (void)state;
    assert_int_equal(ident_reverse_name(&v4, out, sizeof(out)), CAIRN_OK);
    assert_string_equal(out, "5.2.0.192.in-addr.arpa");
    assert_int_equal(ident_reverse_name(&v6, out, sizeof(out)), CAIRN_OK);
    assert_string_equal(out, "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
                             ".ip6.arpa");
    assert_int_equal(ident_reverse_name(&dns, out, sizeof(out)), CAIRN_ERR_INVAL);
    assert_int_equal(ident_reverse_name(&v4, tiny, sizeof(tiny)), CAIRN_ERR_INVAL);
    assert_int_equal(ident_reverse_name(&v6, tiny, sizeof(tiny)), CAIRN_ERR_INVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_unsupported_types),
        cmocka_unit_test(test_dns_good),
        cmocka_unit_test(test_dns_bad),
        cmocka_unit_test(test_dns_ip_literal),
        cmocka_unit_test(test_wildcards),
        cmocka_unit_test(test_reserved_names),
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_ip_ca_mode),
        cmocka_unit_test(test_list_dedup),
        cmocka_unit_test(test_list_wildcard_cover),
        cmocka_unit_test(test_list_subproblems),
        cmocka_unit_test(test_list_bounds),
        cmocka_unit_test(test_reverse_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
