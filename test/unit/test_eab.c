/* Unit tests for External Account Binding verification (src/jose/eab.c) and the
 * externalAccountMACKeys / profiles config parsers (src/conf/config_proto.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>

#include "cairn/b64url.h"
#include "cairn/config.h"
#include "cairn/eab.h"
#include "cairn/jws.h"

#define URL "https://ca.test/acme/new-account"

static const uint8_t mac_key[] = "0123456789abcdef0123456789abcdef";

struct fixture {
    EVP_PKEY *account;
    EVP_PKEY *other;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    f->account = EVP_EC_gen("P-256");
    f->other = EVP_EC_gen("P-256");
    *state = f;
    return f->account && f->other ? 0 : -1;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    EVP_PKEY_free(f->account);
    EVP_PKEY_free(f->other);
    free(f);
    return 0;
}

static char *
b64(const void *data, size_t n)
{
    return b64url_encode_alloc(data, n);
}

/* A binding: protected = hdr (JSON text), payload = the key's JWK (or payload_text),
 * MAC'd with key (HMAC with md), signature optionally truncated by cut bytes. */
static json_t *
binding(const char *hdr, const EVP_PKEY *pk, const char *payload_text, const EVP_MD *md,
        const uint8_t *key, size_t key_len, size_t cut)
{
    json_t *jwk = jwk_export(pk);
    char *pl = payload_text ? strdup(payload_text) : json_dumps(jwk, JSON_COMPACT);
    char *p64 = b64(hdr, strlen(hdr)), *pl64 = b64(pl, strlen(pl)), *s64, input[4096];
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    json_t *o;

    snprintf(input, sizeof(input), "%s.%s", p64, pl64);
    assert_non_null(HMAC(md, key, (int)key_len, (const uint8_t *)input, strlen(input), mac,
                         &mac_len));
    s64 = b64(mac, mac_len - cut);
    o = json_pack("{s:s, s:s, s:s}", "protected", p64, "payload", pl64, "signature", s64);
    free(p64);
    free(pl64);
    free(s64);
    free(pl);
    json_decref(jwk);
    return o;
}

static const char *
hdr_of(const char *alg)
{
    static char buf[256];

    snprintf(buf, sizeof(buf), "{\"alg\":\"%s\",\"kid\":\"kid-1\",\"url\":\"%s\"}", alg, URL);
    return buf;
}

/* Parses and verifies; returns the problem type (PROB_NONE on success). */
static enum prob_type
check(json_t *b, const EVP_PKEY *account, const uint8_t *key, size_t key_len)
{
    struct eab e;
    struct problem p;
    enum prob_type t = PROB_NONE;
    int rc;

    problem_init(&p);
    rc = eab_parse(b, URL, &e, &p);
    if (rc == CAIRN_OK) {
        assert_string_equal(e.kid, "kid-1");
        rc = eab_verify(&e, key, key_len, account, &p);
    }
    if (rc == CAIRN_ERR_PROTO)
        t = p.type;
    else
        assert_int_equal(rc, CAIRN_OK);
    eab_cleanup(&e);
    problem_cleanup(&p);
    json_decref(b);
    return t;
}

static void
test_valid_bindings(void **state)
{
    struct fixture *f = *state;
    size_t kl = sizeof(mac_key) - 1;

    assert_int_equal(check(binding(hdr_of("HS256"), f->account, NULL, EVP_sha256(), mac_key,
                                   kl, 0), f->account, mac_key, kl), PROB_NONE);
    assert_int_equal(check(binding(hdr_of("HS384"), f->account, NULL, EVP_sha384(), mac_key,
                                   kl, 0), f->account, mac_key, kl), PROB_NONE);
    assert_int_equal(check(binding(hdr_of("HS512"), f->account, NULL, EVP_sha512(), mac_key,
                                   kl, 0), f->account, mac_key, kl), PROB_NONE);
}

static void
test_refused_unauthorized(void **state)
{
    struct fixture *f = *state;
    size_t kl = sizeof(mac_key) - 1;
    static const uint8_t wrong[] = "0123456789abcdef0123456789abcdeX";

    /* MAC with another key, a truncated key, a truncated MAC */
    assert_int_equal(check(binding(hdr_of("HS256"), f->account, NULL, EVP_sha256(), wrong, kl,
                                   0), f->account, mac_key, kl), PROB_UNAUTHORIZED);
    assert_int_equal(check(binding(hdr_of("HS256"), f->account, NULL, EVP_sha256(), mac_key,
                                   kl - 1, 0), f->account, mac_key, kl), PROB_UNAUTHORIZED);
    assert_int_equal(check(binding(hdr_of("HS256"), f->account, NULL, EVP_sha256(), mac_key,
                                   kl, 1), f->account, mac_key, kl), PROB_UNAUTHORIZED);
    /* the alg says HS384 but the MAC is HS256 */
    assert_int_equal(check(binding(hdr_of("HS384"), f->account, NULL, EVP_sha256(), mac_key,
                                   kl, 0), f->account, mac_key, kl), PROB_UNAUTHORIZED);
    /* payload is another key, or not a key */
    assert_int_equal(check(binding(hdr_of("HS256"), f->other, NULL, EVP_sha256(), mac_key, kl,
                                   0), f->account, mac_key, kl), PROB_UNAUTHORIZED);
    assert_int_equal(check(binding(hdr_of("HS256"), f->account, "{\"kty\":\"EC\"}",
                                   EVP_sha256(), mac_key, kl, 0), f->account, mac_key, kl),
                     PROB_UNAUTHORIZED);
    assert_int_equal(check(binding(hdr_of("HS256"), f->account, "not json", EVP_sha256(),
                                   mac_key, kl, 0), f->account, mac_key, kl), PROB_UNAUTHORIZED);
}

static void
test_refused_malformed(void **state)
{
    struct fixture *f = *state;
    size_t kl = sizeof(mac_key) - 1;
    static const char *const hdrs[] = {
        "{\"alg\":\"RS256\",\"kid\":\"kid-1\",\"url\":\"" URL "\"}",
        "{\"alg\":\"none\",\"kid\":\"kid-1\",\"url\":\"" URL "\"}",
        "{\"alg\":\"hs256\",\"kid\":\"kid-1\",\"url\":\"" URL "\"}",
        "{\"kid\":\"kid-1\",\"url\":\"" URL "\"}",
        "{\"alg\":\"HS256\",\"kid\":\"kid-1\",\"url\":\"" URL "\",\"nonce\":\"AAAA\"}",
        "{\"alg\":\"HS256\",\"kid\":\"kid-1\",\"url\":\"https://ca.test/other\"}",
        "{\"alg\":\"HS256\",\"kid\":\"kid-1\"}",
        "{\"alg\":\"HS256\",\"url\":\"" URL "\"}",
        "{\"alg\":\"HS256\",\"kid\":\"\",\"url\":\"" URL "\"}",
        "{\"alg\":\"HS256\",\"kid\":7,\"url\":\"" URL "\"}",
        "{\"alg\":\"HS256\",\"kid\":\"kid-1\",\"url\":\"" URL "\",\"crit\":[\"x\"]}",
        "{\"alg\":\"HS256\",\"alg\":\"HS256\",\"kid\":\"kid-1\",\"url\":\"" URL "\"}",
        "[]",
    };
    json_t *b;

    for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++)
        assert_int_equal(check(binding(hdrs[i], f->account, NULL, EVP_sha256(), mac_key, kl, 0),
                               f->account, mac_key, kl), PROB_MALFORMED);
    /* wrong shapes */
    b = binding(hdr_of("HS256"), f->account, NULL, EVP_sha256(), mac_key, kl, 0);
    json_object_set_new(b, "header", json_object());
    assert_int_equal(check(b, f->account, mac_key, kl), PROB_MALFORMED);
    b = binding(hdr_of("HS256"), f->account, NULL, EVP_sha256(), mac_key, kl, 0);
    json_object_set_new(b, "signature", json_string(""));
    assert_int_equal(check(b, f->account, mac_key, kl), PROB_MALFORMED);
    b = binding(hdr_of("HS256"), f->account, NULL, EVP_sha256(), mac_key, kl, 0);
    json_object_set_new(b, "payload", json_string("ab+/"));
    assert_int_equal(check(b, f->account, mac_key, kl), PROB_MALFORMED);
    b = binding(hdr_of("HS256"), f->account, NULL, EVP_sha256(), mac_key, kl, 0);
    json_object_del(b, "protected");
    assert_int_equal(check(b, f->account, mac_key, kl), PROB_MALFORMED);
    assert_int_equal(check(json_string("a.b.c"), f->account, mac_key, kl), PROB_MALFORMED);
}

static void
test_config_mac_keys(void **state)
{
    struct config cfg;
    char err[256];
    json_t *v;

    (void)state;
    config_defaults(&cfg, false);
    v = json_pack("{s:s, s:s}", "kid-1", "MDEyMzQ1Njc4OWFiY2RlZg", "kid-2",
                  "MDEyMzQ1Njc4OWFiY2RlZg==");
    assert_int_equal(config_parse_eab_keys(&cfg, v, err, sizeof(err)), CAIRN_OK);
    json_decref(v);
    assert_int_equal(cfg.neab_keys, 2);
    assert_non_null(config_eab_key_find(&cfg, "kid-2"));
    assert_null(config_eab_key_find(&cfg, "kid-3"));
    assert_int_equal(config_eab_key_find(&cfg, "kid-1")->key_len, 16);
    assert_memory_equal(config_eab_key_find(&cfg, "kid-1")->key, "0123456789abcdef", 16);
    /* not base64url, empty, not a string: refused without echoing the value */
    v = json_pack("{s:s}", "kid-1", "sec+ret/");
    assert_int_equal(config_parse_eab_keys(&cfg, v, err, sizeof(err)), CAIRN_ERR_INVAL);
    assert_null(strstr(err, "sec+ret"));
    json_decref(v);
    v = json_pack("{s:s}", "kid-1", "");
    assert_int_equal(config_parse_eab_keys(&cfg, v, err, sizeof(err)), CAIRN_ERR_INVAL);
    json_decref(v);
    v = json_pack("{s:i}", "kid-1", 5);
    assert_int_equal(config_parse_eab_keys(&cfg, v, err, sizeof(err)), CAIRN_ERR_INVAL);
    json_decref(v);
}

static void
test_config_profiles(void **state)
{
    struct config cfg;
    char err[256];
    json_t *v;

    (void)state;
    /* none configured: one "default" with certificateValidityPeriod's validity */
    config_defaults(&cfg, false);
    cfg.validity = 3600;
    assert_int_equal(config_finish_proto(&cfg, err, sizeof(err)), CAIRN_OK);
    assert_int_equal(cfg.nprofiles, 1);
    assert_string_equal(cfg.profiles[0].name, "default");
    assert_int_equal(cfg.profiles[0].validity, 3600);
    assert_int_equal(cfg.eab_single_use, 0);
    /* configured: "default" is the default even when not first */
    config_defaults(&cfg, true);
    v = json_loads("{\"short\":{\"description\":\"S\",\"validityPeriod\":60},"
                   "\"default\":{\"validityPeriod\":120,\"promoteCommonName\":true}}", 0, NULL);
    assert_int_equal(config_parse_profiles(&cfg, v, true, err, sizeof(err)), CAIRN_OK);
    json_decref(v);
    assert_int_equal(config_finish_proto(&cfg, err, sizeof(err)), CAIRN_OK);
    assert_int_equal(cfg.nprofiles, 2);
    assert_string_equal(cfg.profiles[cfg.default_profile].name, "default");
    assert_true(config_profile_find(&cfg, "default")->promote_cn);
    assert_int_equal(config_profile_find(&cfg, "short")->validity, 60);
    assert_null(config_profile_find(&cfg, "long"));
    assert_int_equal(cfg.eab_single_use, 1); /* CA mode */
    /* strict (cairn section): unknown member refused; pebble section: ignored */
    v = json_loads("{\"x\":{\"validityPeriod\":60,\"keyUsage\":1}}", 0, NULL);
    assert_int_equal(config_parse_profiles(&cfg, v, true, err, sizeof(err)), CAIRN_ERR_INVAL);
    assert_int_equal(config_parse_profiles(&cfg, v, false, err, sizeof(err)), CAIRN_OK);
    json_decref(v);
    v = json_loads("{\"x\":{\"validityPeriod\":0}}", 0, NULL);
    assert_int_equal(config_parse_profiles(&cfg, v, false, err, sizeof(err)), CAIRN_ERR_INVAL);
    json_decref(v);
    v = json_loads("{\"bad name\":{}}", 0, NULL);
    assert_int_equal(config_parse_profiles(&cfg, v, false, err, sizeof(err)), CAIRN_ERR_INVAL);
    json_decref(v);
    /* an unknown defaultProfile stops the start */
    config_defaults(&cfg, false);
    snprintf(cfg.default_profile_name, sizeof(cfg.default_profile_name), "nope");
    assert_int_equal(config_finish_proto(&cfg, err, sizeof(err)), CAIRN_ERR_INVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_valid_bindings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_unauthorized, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_malformed, setup, teardown),
        cmocka_unit_test(test_config_mac_keys),
        cmocka_unit_test(test_config_profiles),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
