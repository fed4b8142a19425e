/* test_ident_policy.c - domainBlocklist, domainAllowlist and the public-suffix rule
 * (PROTOCOL.md §5) through ident_check() and ident_list_check(). */
/* cmocka.h needs these before it, in this order. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <string.h>

#include "cairn/ident.h"

#define W 64

static const char block[][W] = { "blocked.com", "bad.cairn-lab.net" };
static const char allow[][W] = { "lab.internal", "corp.co.uk" };

static struct ident_policy
policy(bool ca, bool with_block, bool with_allow)
{
    struct ident_policy pol = { .ca_mode = ca, .public_suffix_rule = ca, .list_width = W };

    if (with_block) {
        pol.blocklist = &block[0][0];
        pol.nblocklist = sizeof(block) / sizeof(block[0]);
    }
    if (with_allow) {
        pol.allowlist = &allow[0][0];
        pol.nallowlist = sizeof(allow) / sizeof(allow[0]);
    }
    return pol;
}

static int
check(const char *value, const struct ident_policy *pol, enum prob_type *t, char *detail,
      size_t dsz)
{
    struct problem p;
    struct ident id;
    int rc;

    problem_init(&p);
    rc = ident_check("dns", value, pol, &id, &p);
    *t = p.type;
    snprintf(detail, dsz, "%s", p.detail);
    problem_cleanup(&p);
    return rc;
}

static void
expect_ok(const char *value, const struct ident_policy *pol)
{
    enum prob_type t;
    char d[512];

    if (check(value, pol, &t, d, sizeof(d)) != CAIRN_OK)
        fail_msg("%s refused: %s", value, d);
}

/* Refused with rejectedIdentifier and a detail containing why. */
static void
expect_refused(const char *value, const struct ident_policy *pol, const char *why)
{
    enum prob_type t;
    char d[512];

    if (check(value, pol, &t, d, sizeof(d)) != CAIRN_ERR_PROTO)
        fail_msg("%s accepted", value);
    assert_int_equal(t, PROB_REJECTED_IDENTIFIER);
    if (strstr(d, why) == NULL)
        fail_msg("%s: detail \"%s\" lacks \"%s\"", value, d, why);
}

static void
test_public_suffix_lookup(void **state)
{
    (void)state;
    assert_true(ident_is_public_suffix("com"));
    assert_true(ident_is_public_suffix("co.uk"));
    assert_false(ident_is_public_suffix("example.co.uk"));
    assert_false(ident_is_public_suffix("lan")); /* no implicit "*" rule */
    assert_false(ident_is_public_suffix("github.io")); /* private section, not ICANN */
}

static void
test_blocklist(void **state)
{
    (void)state;
    for (int ca = 0; ca <= 1; ca++) {
        struct ident_policy pol = policy(ca, true, false);

        expect_refused("blocked.com", &pol, "blocklist");
        expect_refused("BLOCKED.com", &pol, "blocklist");
        expect_refused("www.blocked.com", &pol, "blocklist");
        expect_refused("a.b.blocked.com", &pol, "blocklist");
        expect_refused("*.blocked.com", &pol, "blocklist");
        expect_refused("*.cairn-lab.net", &pol, "blocklist"); /* covers bad.cairn-lab.net */
        expect_ok("notblocked.com", &pol);
        expect_ok("blocked.com.au", &pol);
        expect_ok("good.cairn-lab.net", &pol);
        expect_ok("*.good.cairn-lab.net", &pol);
    }
    /* without the list the same names pass */
    struct ident_policy none = policy(false, false, false);
    expect_ok("blocked.com", &none);
}

static void
test_allowlist(void **state)
{
    (void)state;
    struct ident_policy t = policy(false, false, true), ca = policy(true, false, true);

    expect_ok("lab.internal", &t);
    expect_ok("host.lab.internal", &t);
    expect_ok("*.lab.internal", &t);
    expect_refused("otherlab.internal", &t, "allowlist");
    expect_refused("www.google.com", &t, "allowlist");
    /* CA mode: allowlisted names are exempt from the public-suffix rule */
    expect_ok("host.lab.internal", &ca);
    expect_ok("www.corp.co.uk", &ca);
    expect_refused("www.other.co.uk", &ca, "allowlist");
    /* the blocklist applies first, whatever the allowlist says */
    struct ident_policy both = policy(true, true, true);
    expect_refused("blocked.com", &both, "blocklist");
}

static void
test_public_suffix_rule(void **state)
{
    (void)state;
    struct ident_policy t = policy(false, false, false), ca = policy(true, false, false);

    expect_refused("co.uk", &ca, "public suffix");
    expect_refused("com.au", &ca, "public suffix");
    expect_refused("host.lan", &ca, "does not end in an ICANN public suffix");
    expect_refused("lab.internal", &ca, "does not end in an ICANN public suffix");
    expect_ok("example.co.uk", &ca);
    expect_ok("www.cairn-lab.org", &ca);
    expect_ok("*.cairn-lab.org", &ca);
    expect_ok("user.github.io", &ca);
    /* test mode skips the rule */
    expect_ok("co.uk", &t);
    expect_ok("host.lan", &t);
    /* wildcards over a public suffix: refused in both modes */
    expect_refused("*.co.uk", &t, "wildcard over a public suffix");
    expect_refused("*.co.uk", &ca, "wildcard over a public suffix");
    expect_ok("*.lan.internal", &t);
}

/* One subproblem per refused identifier in an order; the good one is not listed. */
static void
test_list_subproblems(void **state)
{
    (void)state;
    struct ident_policy pol = policy(false, true, false);
    const char *types[] = { "dns", "dns", "dns" };
    const char *values[] = { "ok.example.org", "x.blocked.com", "bad.cairn-lab.net" };
    struct ident out[3];
    struct problem p;
    size_t n = 0;

    problem_init(&p);
    assert_int_equal(ident_list_check(types, values, 3, &pol, out, &n, &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_REJECTED_IDENTIFIER);
    assert_int_equal(p.nsub, 2);
    assert_int_equal(p.sub[0].type, PROB_REJECTED_IDENTIFIER);
    assert_non_null(strstr(p.sub[0].detail, "x.blocked.com"));
    assert_non_null(strstr(p.sub[1].detail, "bad.cairn-lab.net"));
    problem_cleanup(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_public_suffix_lookup),
        cmocka_unit_test(test_blocklist),
        cmocka_unit_test(test_allowlist),
        cmocka_unit_test(test_public_suffix_rule),
        cmocka_unit_test(test_list_subproblems),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
