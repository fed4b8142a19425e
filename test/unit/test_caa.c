/* test_caa.c - CAA (RFC 8659, RFC 8657) against test/tools/mockdns.py: the climb, issue and
 * issuewild, accounturi, validationmethods, critical tags, unparsable values and fail-closed
 * lookups. Through va_caa_check() (the function the VA and finalize call). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cairn/va.h"
#include "va/va_internal.h"
#include "va_fixture.h"

#define ACCT "https://ca.test:14000/acme/acct/A1"

static pid_t dns_pid = -1;
static int dns_port;

static int
group_setup(void **state)
{
    const char *src = getenv("CAIRN_SOURCE_DIR");
    char script[1024];

    (void)state;
    if (src == NULL || va_global_init() != CAIRN_OK)
        return -1;
    snprintf(script, sizeof(script), "%s/test/tools/mockdns.py", src);
    {
        char *const argv[] = {
            "/usr/bin/python3", script, "--port", "0",
            "--caa", "allow.test=0,issue,ca.test",
            "--caa", "other.test=0,issue,otherca.test",
            "--caa", "upper.test=0,ISSUE,CA.Test",
            "--caa", "wild.test=0,issue,otherca.test",
            "--caa", "wild.test=0,issuewild,ca.test",
            "--caa", "nowild.test=0,issue,ca.test",
            "--caa", "acct.test=0,issue,ca.test; accounturi=" ACCT,
            "--caa", "meth.test=0,issue,ca.test; validationmethods=dns-01,tls-alpn-01",
            "--caa", "crit.test=128,tbs,anything",
            "--caa", "crit.test=0,issue,ca.test",
            "--caa", "noncrit.test=0,tbs,anything",
            "--caa", "noncrit.test=0,issue,ca.test",
            "--caa", "parent.test=0,issue,otherca.test",
            "--caa", "nxparent.test=0,issue,ca.test",
            "--nxdomain", "gone.nxparent.test",
            "--caa", "repeat.test=0,issue,ca.test; accounturi=" ACCT "; accounturi=" ACCT,
            "--caa", "garbage.test=0,issue,ca.test; =x",
            "--caa", "nobody.test=0,issue,;",
            "--caa", "iodef.test=0,iodef,mailto:security@iodef.test",
            "--caa", "mixed.test=0,issue,otherca.test",
            "--caa", "mixed.test=0,issue,ca.test",
            "--caa-servfail", "sf.test",
            "--caa-servfail", "sfparent.test",
            NULL,
        };
        dns_pid = fixture_dns_start(argv, &dns_port);
    }
    return dns_pid > 0 ? 0 : -1;
}

static int
group_teardown(void **state)
{
    (void)state;
    fixture_dns_stop(dns_pid);
    va_global_cleanup();
    return 0;
}

static void
caa_cfg(struct va_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->timeout_ms = 5000;
    cfg->caa = true;
    snprintf(cfg->dns_server, sizeof(cfg->dns_server), "127.0.0.1:%d", dns_port);
    snprintf(cfg->caa_identities[0], VA_CAA_ID_LEN, "ca.test");
    cfg->n_caa_identities = 1;
}

/* Runs the check for name; returns rc and leaves the problem in *p. */
static int
check(const struct va_config *cfg, const char *name, bool wildcard, const char *acct,
      const char *method, struct problem *p)
{
    struct ident id;

    memset(&id, 0, sizeof(id));
    id.type = IDENT_DNS;
    id.wildcard = wildcard;
    snprintf(id.value, sizeof(id.value), "%s", name);
    problem_init(p);
    return va_caa_check(cfg, &id, acct, method, 5000, p);
}

static void
expect_ok(const char *name, bool wildcard, const char *acct, const char *method)
{
    struct va_config cfg;
    struct problem p;
    int rc;

    caa_cfg(&cfg);
    rc = check(&cfg, name, wildcard, acct, method, &p);
    if (rc != CAIRN_OK)
        print_error("%s: rc=%d %s: %s\n", name, rc, problem_name(p.type), p.detail);
    assert_int_equal(rc, CAIRN_OK);
}

static void
expect_refused(const char *name, bool wildcard, const char *acct, const char *method,
               enum prob_type type, const char *needle)
{
    struct va_config cfg;
    struct problem p;
    int rc;

    caa_cfg(&cfg);
    rc = check(&cfg, name, wildcard, acct, method, &p);
    if (rc != CAIRN_ERR_PROTO || p.type != type || strstr(p.detail, needle) == NULL)
        print_error("%s: rc=%d %s: %s\n", name, rc, problem_name(p.type), p.detail);
    assert_int_equal(rc, CAIRN_ERR_PROTO);
    assert_int_equal(p.type, type);
    assert_non_null(strstr(p.detail, needle));
}

static void
test_issue(void **state)
{
    (void)state;
    expect_ok("allow.test", false, ACCT, "http-01");
    expect_ok("www.allow.test", false, ACCT, "http-01"); /* climbs to allow.test */
    expect_ok("upper.test", false, ACCT, "http-01");     /* tags and names ignore case */
    expect_refused("other.test", false, ACCT, "http-01", PROB_CAA, "no record names this CA");
    expect_ok("mixed.test", false, ACCT, "http-01"); /* one record naming us is enough */
}

static void
test_no_records(void **state)
{
    (void)state;
    expect_ok("none.test", false, ACCT, "http-01");
    expect_ok("iodef.test", false, ACCT, "http-01"); /* no issue property: no restriction */
}

static void
test_issuewild(void **state)
{
    (void)state;
    expect_ok("wild.test", true, ACCT, "dns-01");
    expect_refused("wild.test", false, ACCT, "dns-01", PROB_CAA, "no record names"); /* issue */
    expect_ok("nowild.test", true, ACCT, "dns-01"); /* no issuewild: issue governs */
}

static void
test_accounturi(void **state)
{
    (void)state;
    expect_ok("acct.test", false, ACCT, "http-01");
    expect_refused("acct.test", false, "https://ca.test:14000/acme/acct/A2", "http-01", PROB_CAA,
                   "accounturi");
}

static void
test_validationmethods(void **state)
{
    (void)state;
    expect_ok("meth.test", false, ACCT, "dns-01");
    expect_ok("meth.test", false, ACCT, "tls-alpn-01");
    expect_refused("meth.test", false, ACCT, "http-01", PROB_CAA, "validationmethods");
}

static void
test_critical_tag(void **state)
{
    (void)state;
    expect_refused("crit.test", false, ACCT, "http-01", PROB_CAA, "unknown critical");
    expect_ok("noncrit.test", false, ACCT, "http-01");
}

static void
test_climb(void **state)
{
    (void)state;
    expect_refused("a.b.parent.test", false, ACCT, "http-01", PROB_CAA, "(at parent.test)");
    expect_ok("gone.nxparent.test", false, ACCT, "http-01"); /* NXDOMAIN climbs */
}

static void
test_unparsable(void **state)
{
    (void)state;
    expect_refused("repeat.test", false, ACCT, "http-01", PROB_CAA, "unparsable");
    expect_refused("garbage.test", false, ACCT, "http-01", PROB_CAA, "unparsable");
    expect_refused("nobody.test", false, ACCT, "http-01", PROB_CAA, "no record names");
}

static void
test_fail_closed(void **state)
{
    (void)state;
    expect_refused("sf.test", false, ACCT, "http-01", PROB_DNS, "SERVFAIL looking up CAA");
    expect_refused("www.sfparent.test", false, ACCT, "http-01", PROB_DNS,
                   "SERVFAIL looking up CAA for sfparent.test");
}

static void
test_default_identity(void **state)
{
    struct va_config cfg;
    struct problem p;

    (void)state;
    caa_cfg(&cfg);
    cfg.n_caa_identities = 0; /* the account URL's host, as the directory's caaIdentities */
    assert_int_equal(check(&cfg, "allow.test", false, ACCT, "http-01", &p), CAIRN_OK);
    assert_int_equal(check(&cfg, "allow.test", false, "https://elsewhere.test/acme/acct/A1",
                           "http-01", &p),
                     CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_CAA);
}

static void
test_ip_has_no_caa(void **state)
{
    struct va_config cfg;
    struct problem p;
    struct ident id = { .type = IDENT_IP, .value = "127.0.0.1" };

    (void)state;
    caa_cfg(&cfg);
    cfg.dns_server[0] = '\0';
    problem_init(&p);
    assert_int_equal(va_caa_check(&cfg, &id, ACCT, "http-01", 1000, &p), CAIRN_OK);
}

/* The raw parser: a record running past the end is refused; the same record with the right
 * length is read. */
static void
test_parse_bounds(void **state)
{
    uint8_t msg[] = {
        0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, /* header: one answer, no question */
        0,                                        /* root owner */
        0x01, 0x01, 0, 1, 0, 0, 0, 60, 0, 40,     /* CAA IN ttl 60, rdlength 40 */
        0, 5, 'i', 's', 's', 'u', 'e',            /* only 7 of the 40 bytes */
    };
    static struct va_caa_set set;

    (void)state;
    assert_int_equal(va_caa_parse(msg, sizeof(msg), &set), CAIRN_ERR_INVAL);
    msg[22] = 7;
    assert_int_equal(va_caa_parse(msg, sizeof(msg), &set), CAIRN_OK);
    assert_int_equal(set.n, 1);
    assert_string_equal(set.rr[0].tag, "issue");
    assert_int_equal(set.rr[0].value_len, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue),
        cmocka_unit_test(test_no_records),
        cmocka_unit_test(test_issuewild),
        cmocka_unit_test(test_accounturi),
        cmocka_unit_test(test_validationmethods),
        cmocka_unit_test(test_critical_tag),
        cmocka_unit_test(test_climb),
        cmocka_unit_test(test_unparsable),
        cmocka_unit_test(test_fail_closed),
        cmocka_unit_test(test_default_identity),
        cmocka_unit_test(test_ip_has_no_caa),
        cmocka_unit_test(test_parse_bounds),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
