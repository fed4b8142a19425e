/* test_jws.c - JWS rules 3-13 (PROTOCOL.md §2), JWK import/export and RFC 7638 thumbprints.
 *
 * Keys are generated here with OpenSSL and every JWS is really signed by the small signer
 * below, so a passing case proves the verifier accepts what real clients send, and each
 * failing case changes exactly one thing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "cairn/b64url.h"
#include "cairn/jws.h"
#include "cairn/keypolicy.h"
#include "cairn/limits.h"

#define NONCE "Zm9vYmFyYmF6cXV4"
#define URL "https://ca.example/acme/new-order"
#define KID "https://ca.example/acme/acct/abc"

struct tkey {
    const char *alg;
    EVP_PKEY *key;
};

/* Generated once in the group setup. */
static struct tkey keys[5];
static EVP_PKEY *other_p256, *rsa1024;

#define K_ES256 (keys[0].key)
#define K_ES384 (keys[1].key)
#define K_ES512 (keys[2].key)
#define K_RS256 (keys[3].key)
#define K_EDDSA (keys[4].key)

static int
setup_keys(void **state)
{
    (void)state;
    keys[0] = (struct tkey){ "ES256", EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") };
    keys[1] = (struct tkey){ "ES384", EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384") };
    keys[2] = (struct tkey){ "ES512", EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521") };
    keys[3] = (struct tkey){ "RS256", EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048) };
    keys[4] = (struct tkey){ "EdDSA", EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") };
    other_p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    for (size_t i = 0; i < 5; i++)
        if (keys[i].key == NULL)
            return -1;
    return other_p256 && rsa1024 ? 0 : -1;
}

static int
teardown_keys(void **state)
{
    (void)state;
    for (size_t i = 0; i < 5; i++)
        EVP_PKEY_free(keys[i].key);
    EVP_PKEY_free(other_p256);
    EVP_PKEY_free(rsa1024);
    return 0;
}

/* ---- the test signer ---------------------------------------------------------------- */

static char *
b64s(const char *text)
{
    char *s = b64url_encode_alloc((const uint8_t *)text, strlen(text));

    assert_non_null(s);
    return s;
}

static char *
b64b(const uint8_t *b, size_t n)
{
    char *s = b64url_encode_alloc(b, n);

    assert_non_null(s);
    return s;
}

/* OpenSSL's DER ECDSA-Sig-Value to the JWS form R || S, each coord bytes (RFC 7518 §3.4). */
static uint8_t *
der_to_rs(const uint8_t *der, size_t len, size_t coord)
{
    const unsigned char *q = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)len);
    const BIGNUM *r, *s;
    uint8_t *out = malloc(2 * coord);

    assert_non_null(es);
    assert_non_null(out);
    ECDSA_SIG_get0(es, &r, &s);
    assert_int_equal(BN_bn2binpad(r, out, (int)coord), (int)coord);
    assert_int_equal(BN_bn2binpad(s, out + coord, (int)coord), (int)coord);
    ECDSA_SIG_free(es);
    return out;
}

/* Signs input with key: SHA-2 matching alg (SHA-256 for anything unknown), pure Ed25519. */
static uint8_t *
raw_sign(EVP_PKEY *key, const char *alg, const char *input, size_t *len)
{
    const EVP_MD *md = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t *sig;
    size_t slen = 0;

    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519)
        md = strcmp(alg, "ES384") == 0   ? EVP_sha384()
             : strcmp(alg, "ES512") == 0 ? EVP_sha512()
                                         : EVP_sha256();
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, key), 1);
    assert_int_equal(EVP_DigestSign(ctx, NULL, &slen, (const uint8_t *)input, strlen(input)), 1);
    sig = malloc(slen);
    assert_non_null(sig);
    assert_int_equal(EVP_DigestSign(ctx, sig, &slen, (const uint8_t *)input, strlen(input)), 1);
    EVP_MD_CTX_free(ctx);
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
        size_t coord = ((size_t)EVP_PKEY_get_bits(key) + 7) / 8;
        uint8_t *rs = der_to_rs(sig, slen, coord);

        free(sig);
        sig = rs;
        slen = 2 * coord;
    }
    *len = slen;
    return sig;
}

/* A flattened JWS in pieces, so tests can change one of them after signing. */
struct parts {
    char *prot;    /* base64url */
    char *payload; /* base64url */
    uint8_t *sig;  /* raw signature */
    size_t sig_len;
};

static void
parts_make(struct parts *pt, EVP_PKEY *key, const char *alg, const char *hdr_text,
           const char *payload_text)
{
    size_t n;
    char *input;

    pt->prot = b64s(hdr_text);
    pt->payload = b64s(payload_text);
    n = strlen(pt->prot) + strlen(pt->payload) + 2;
    input = malloc(n);
    assert_non_null(input);
    assert_true(snprintf(input, n, "%s.%s", pt->prot, pt->payload) < (int)n);
    pt->sig = raw_sign(key, alg, input, &pt->sig_len);
    free(input);
}

static void
parts_free(struct parts *pt)
{
    free(pt->prot);
    free(pt->payload);
    free(pt->sig);
}

static char *
body_from(const char *prot, const char *payload, const char *sig)
{
    json_t *o = json_pack("{s:s,s:s,s:s}", "protected", prot, "payload", payload, "signature",
                          sig);
    char *s;

    assert_non_null(o);
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    assert_non_null(s);
    return s;
}

/* Body from parts; frees the parts. */
static char *
parts_body(struct parts *pt)
{
    char *sig = b64b(pt->sig, pt->sig_len);
    char *body = body_from(pt->prot, pt->payload, sig);

    free(sig);
    parts_free(pt);
    return body;
}

static char *
body_raw(EVP_PKEY *key, const char *alg, const char *hdr_text, const char *payload_text)
{
    struct parts pt;

    parts_make(&pt, key, alg, hdr_text, payload_text);
    return parts_body(&pt);
}

/* {"alg", "jwk", "nonce", "url"} for key. */
static json_t *
hdr_jwk(EVP_PKEY *key, const char *alg)
{
    json_t *jwk = jwk_export(key);
    json_t *h;

    assert_non_null(jwk);
    h = json_pack("{s:s,s:o,s:s,s:s}", "alg", alg, "jwk", jwk, "nonce", NONCE, "url", URL);
    assert_non_null(h);
    return h;
}

static json_t *
hdr_kid(const char *alg)
{
    json_t *h = json_pack("{s:s,s:s,s:s,s:s}", "alg", alg, "kid", KID, "nonce", NONCE, "url",
                          URL);

    assert_non_null(h);
    return h;
}

/* Compact text of h; consumes h. */
static char *
hdr_text(json_t *h)
{
    char *s = json_dumps(h, JSON_COMPACT);

    json_decref(h);
    assert_non_null(s);
    return s;
}

/* A body signed by key with header h (consumed). */
static char *
body_hdr(EVP_PKEY *key, const char *alg, json_t *h, const char *payload)
{
    char *text = hdr_text(h);
    char *body = body_raw(key, alg, text, payload);

    free(text);
    return body;
}

/* ---- the pipeline under test -------------------------------------------------------- */

/* Rules 3-13 in the order the request pipeline runs them; a kid resolves to kid_key. */
static int
run(const char *body, enum jws_kind kind, EVP_PKEY *kid_key, struct problem *p)
{
    struct jws j;
    EVP_PKEY *key = NULL;
    int rc;

    ERR_clear_error();
    problem_init(p);
    rc = jws_parse(body, strlen(body), kind, &j, p);
    if (rc != CAIRN_OK) {
        /* *out is left clean */
        assert_null(j.header);
        assert_null(j.payload);
        assert_null(j.sig);
        assert_null(j.signing_input);
        goto out;
    }
    if (j.jwk != NULL) {
        rc = jwk_import(j.jwk, &key, p);
    } else {
        assert_non_null(kid_key);
        assert_string_equal(j.kid, KID);
        key = kid_key;
        EVP_PKEY_up_ref(key);
    }
    if (rc == CAIRN_OK)
        rc = jws_check_alg_key(&j, key, p);
    if (rc == CAIRN_OK)
        rc = jws_verify(&j, key, p);
out:
    /* a failed check must not leave errors for later OpenSSL calls on this thread */
    assert_int_equal(ERR_peek_error(), 0);
    EVP_PKEY_free(key);
    jws_cleanup(&j);
    return rc;
}

/* Runs body (consumed) and expects want (PROB_NONE: success). */
static void
check_kind(char *body, enum jws_kind kind, EVP_PKEY *kid_key, enum prob_type want)
{
    struct problem p;
    int rc = run(body, kind, kid_key, &p);

    if (want == PROB_NONE && rc != CAIRN_OK)
        fail_msg("expected success, got rc %d %s: %s\nbody: %s", rc, problem_name(p.type),
                 p.detail, body);
    if (want != PROB_NONE && (rc != CAIRN_ERR_PROTO || p.type != want))
        fail_msg("expected %s, got rc %d %s: %s\nbody: %s", problem_name(want), rc,
                 rc == CAIRN_OK ? "-" : problem_name(p.type), p.detail, body);
    free(body);
}

static void
check(char *body, EVP_PKEY *kid_key, enum prob_type want)
{
    check_kind(body, JWS_OUTER, kid_key, want);
}

static char *
dupstr(const char *s)
{
    char *d = strdup(s);

    assert_non_null(d);
    return d;
}

/* A string of n copies of c. */
static char *
repeat(char c, size_t n)
{
    char *s = malloc(n + 1);

    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* ---- passing cases ------------------------------------------------------------------ */

static void
test_valid_every_alg(void **state)
{
    (void)state;
    for (size_t i = 0; i < 5; i++) {
        check(body_hdr(keys[i].key, keys[i].alg, hdr_jwk(keys[i].key, keys[i].alg),
                       "{\"contact\":[]}"),
              NULL, PROB_NONE);
        check(body_hdr(keys[i].key, keys[i].alg, hdr_kid(keys[i].alg), "{}"), keys[i].key,
              PROB_NONE);
        /* POST-as-GET: empty payload */
        check(body_hdr(keys[i].key, keys[i].alg, hdr_kid(keys[i].alg), ""), keys[i].key,
              PROB_NONE);
    }
}

static void
test_parsed_fields(void **state)
{
    struct problem p;
    struct jws j;
    char *body = body_hdr(K_ES384, "ES384", hdr_jwk(K_ES384, "ES384"), "{\"a\":1}");
    char *expect;

    (void)state;
    problem_init(&p);
    assert_int_equal(jws_parse(body, strlen(body), JWS_OUTER, &j, &p), CAIRN_OK);
    assert_int_equal(j.alg, JWS_ALG_ES384);
    assert_string_equal(j.nonce, NONCE);
    assert_string_equal(j.url, URL);
    assert_null(j.kid);
    assert_true(json_is_object(j.jwk));
    assert_int_equal(j.payload_len, 7);
    assert_string_equal((const char *)j.payload, "{\"a\":1}");
    assert_int_equal(j.sig_len, 96);
    /* the signing input is exactly "<protected>.<payload>" as sent */
    {
        json_t *o = json_loads(body, 0, NULL);
        size_t n = strlen(body);

        expect = malloc(n);
        assert_non_null(expect);
        snprintf(expect, n, "%s.%s", json_string_value(json_object_get(o, "protected")),
                 json_string_value(json_object_get(o, "payload")));
        json_decref(o);
    }
    assert_int_equal(j.signing_input_len, strlen(expect));
    assert_string_equal(j.signing_input, expect);
    jws_cleanup(&j);
    jws_cleanup(&j); /* idempotent */
    free(expect);
    free(body);
}

/* ---- rule 3: shape ------------------------------------------------------------------ */

/* A valid body with member name set to value (consumed; NULL deletes the member). */
static char *
body_with_member(const char *name, json_t *value)
{
    char *good = body_hdr(K_ES256, "ES256", hdr_jwk(K_ES256, "ES256"), "{}");
    json_t *o = json_loads(good, 0, NULL);
    char *s;

    assert_non_null(o);
    if (value == NULL)
        json_object_del(o, name);
    else
        json_object_set_new(o, name, value);
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    free(good);
    return s;
}

static void
test_shape(void **state)
{
    (void)state;
    check(dupstr(""), NULL, PROB_MALFORMED);
    check(dupstr("hi"), NULL, PROB_MALFORMED);
    check(dupstr("aaa.bbb.ccc"), NULL, PROB_MALFORMED);
    check(dupstr("[]"), NULL, PROB_MALFORMED);
    check(dupstr("{}"), NULL, PROB_MALFORMED);
    check(body_with_member("protected", NULL), NULL, PROB_MALFORMED);
    check(body_with_member("payload", NULL), NULL, PROB_MALFORMED);
    check(body_with_member("signature", NULL), NULL, PROB_MALFORMED);
    check(body_with_member("protected", json_integer(1)), NULL, PROB_MALFORMED);
    check(body_with_member("payload", json_null()), NULL, PROB_MALFORMED);
    check(body_with_member("payload", json_object()), NULL, PROB_MALFORMED);
    check(body_with_member("signature", json_array()), NULL, PROB_MALFORMED);
    check(body_with_member("signature", json_string("")), NULL, PROB_MALFORMED);
    /* rule 3 (empty signature) is decided before rule 8 (missing nonce) */
    {
        json_t *h = hdr_jwk(K_ES256, "ES256");
        char *text, *prot, *pay;

        json_object_del(h, "nonce");
        text = hdr_text(h);
        prot = b64s(text);
        pay = b64s("{}");
        check(body_from(prot, pay, ""), NULL, PROB_MALFORMED);
        free(prot);
        free(pay);
        free(text);
    }
    /* the control: the same construction with nothing changed passes */
    check(body_with_member("unused-name-deleted", NULL), NULL, PROB_NONE);
}

static void
test_unprotected_header(void **state)
{
    (void)state;
    check(body_with_member("header", json_object()), NULL, PROB_MALFORMED);
    check(body_with_member("header", json_pack("{s:s}", "kid", KID)), NULL, PROB_MALFORMED);
    check(body_with_member("header", json_pack("{s:s}", "nonce", NONCE)), NULL, PROB_MALFORMED);
    check(body_with_member("header", json_pack("{s:s}", "alg", "ES256")), NULL, PROB_MALFORMED);
}

static void
test_signatures_member(void **state)
{
    (void)state;
    check(body_with_member("signatures", json_array()), NULL, PROB_MALFORMED);
    check(body_with_member("signatures", json_pack("[{s:s}]", "signature", "AAAA")), NULL,
          PROB_MALFORMED);
}

static void
test_unknown_member(void **state)
{
    (void)state;
    check(body_with_member("foo", json_integer(1)), NULL, PROB_MALFORMED);
    check(body_with_member("Protected", json_string("e30")), NULL, PROB_MALFORMED);
}

/* ---- rule 4: strict base64url ------------------------------------------------------- */

/* A valid body whose part (0 protected, 1 payload, 2 signature) gets suffix appended. */
static char *
body_part_suffix(int part, const char *suffix, const char *payload)
{
    struct parts pt;
    char *sig, *s[3], *body, *text = hdr_text(hdr_jwk(K_ES256, "ES256"));
    size_t n;

    parts_make(&pt, K_ES256, "ES256", text, payload);
    free(text);
    sig = b64b(pt.sig, pt.sig_len);
    s[0] = pt.prot;
    s[1] = pt.payload;
    s[2] = sig;
    n = strlen(s[part]) + strlen(suffix) + 1;
    {
        char *t = malloc(n);

        assert_non_null(t);
        snprintf(t, n, "%s%s", s[part], suffix);
        s[part] = t;
    }
    body = body_from(s[0], s[1], s[2]);
    free(s[part]);
    free(sig);
    parts_free(&pt);
    return body;
}

static void
test_base64url(void **state)
{
    (void)state;
    /* "{}" -> "e30": a suffix of "=" is padding */
    check(body_part_suffix(1, "=", "{}"), NULL, PROB_MALFORMED);
    check(body_part_suffix(0, "==", "{}"), NULL, PROB_MALFORMED);
    check(body_part_suffix(2, "=", "{}"), NULL, PROB_MALFORMED);
    check(body_part_suffix(0, " ", "{}"), NULL, PROB_MALFORMED);
    check(body_part_suffix(1, "\n", "{}"), NULL, PROB_MALFORMED);
    check(body_part_suffix(2, "\r\n", "{}"), NULL, PROB_MALFORMED);
    check(body_part_suffix(1, "+", "{}"), NULL, PROB_MALFORMED);
    check(body_part_suffix(1, "/", "{}"), NULL, PROB_MALFORMED);
    /* "{}" is "e30"; "e30AA" has a length of 1 mod 4 */
    check(body_part_suffix(1, "AA", "{}"), NULL, PROB_MALFORMED);
    /* "e31" decodes like "e30" but with a non-zero unused bit */
    {
        struct parts pt;
        char *text = hdr_text(hdr_jwk(K_ES256, "ES256"));

        parts_make(&pt, K_ES256, "ES256", text, "{}");
        free(text);
        assert_string_equal(pt.payload, "e30");
        pt.payload[2] = '1';
        check(parts_body(&pt), NULL, PROB_MALFORMED);
    }
    check(body_part_suffix(1, "", "{}"), NULL, PROB_NONE);
}

/* ---- rule 5: protected header ------------------------------------------------------- */

static void
test_header_not_object(void **state)
{
    (void)state;
    check(body_raw(K_ES256, "ES256", "", "{}"), NULL, PROB_MALFORMED);
    check(body_raw(K_ES256, "ES256", "[]", "{}"), NULL, PROB_MALFORMED);
    check(body_raw(K_ES256, "ES256", "\"ES256\"", "{}"), NULL, PROB_MALFORMED);
    check(body_raw(K_ES256, "ES256", "alg=ES256", "{}"), NULL, PROB_MALFORMED);
    check(body_raw(K_ES256, "ES256", "{\"alg\":\"ES256\"", "{}"), NULL, PROB_MALFORMED);
    /* not UTF-8 */
    check(body_raw(K_ES256, "ES256", "{\"alg\":\"ES256\",\"x\":\"\xff\"}", "{}"), NULL,
          PROB_MALFORMED);
    /* trailing data after the object */
    {
        char *text = hdr_text(hdr_jwk(K_ES256, "ES256"));
        size_t n = strlen(text) + 3;
        char *t = malloc(n);

        assert_non_null(t);
        snprintf(t, n, "%s{}", text);
        check(body_raw(K_ES256, "ES256", t, "{}"), NULL, PROB_MALFORMED);
        check(body_raw(K_ES256, "ES256", text, "{}"), NULL, PROB_NONE);
        free(t);
        free(text);
    }
}

/* The compact header text of a valid jwk header with `member` inserted first. */
static char *
hdr_with_prefix(EVP_PKEY *key, const char *alg, const char *member)
{
    char *text = hdr_text(hdr_jwk(key, alg));
    size_t n = strlen(text) + strlen(member) + 3;
    char *t = malloc(n);

    assert_non_null(t);
    snprintf(t, n, "{%s,%s", member, text + 1);
    free(text);
    return t;
}

static void
check_hdr_prefix(const char *member, enum prob_type want)
{
    char *t = hdr_with_prefix(K_ES256, "ES256", member);

    check(body_raw(K_ES256, "ES256", t, "{}"), NULL, want);
    free(t);
}

static void
test_header_duplicates(void **state)
{
    (void)state;
    check_hdr_prefix("\"url\":\"" URL "\"", PROB_MALFORMED);
    check_hdr_prefix("\"alg\":\"ES256\"", PROB_MALFORMED);
    check_hdr_prefix("\"nonce\":\"" NONCE "\"", PROB_MALFORMED);
    check_hdr_prefix("\"jwk\":{}", PROB_MALFORMED);
    check_hdr_prefix("\"typ\":\"JWT\"", PROB_NONE); /* an extra, non-duplicate name is fine */
}

/* A jwk header with name renamed to variant. */
static char *
body_renamed(const char *name, const char *variant)
{
    json_t *h = hdr_jwk(K_ES256, "ES256");
    json_t *v = json_object_get(h, name);

    json_incref(v);
    json_object_del(h, name);
    json_object_set_new(h, variant, v);
    return body_hdr(K_ES256, "ES256", h, "{}");
}

static void
test_header_case_variants(void **state)
{
    json_t *h;

    (void)state;
    check(body_renamed("url", "URL"), NULL, PROB_MALFORMED);
    check(body_renamed("url", "Url"), NULL, PROB_MALFORMED);
    check(body_renamed("nonce", "Nonce"), NULL, PROB_MALFORMED); /* not badNonce: rule 5 */
    check(body_renamed("alg", "ALG"), NULL, PROB_MALFORMED);
    check(body_renamed("jwk", "JWK"), NULL, PROB_MALFORMED);
    h = hdr_kid("ES256");
    json_object_set_new(h, "Kid", json_string(KID));
    json_object_del(h, "kid");
    check(body_hdr(K_ES256, "ES256", h, "{}"), K_ES256, PROB_MALFORMED);
    /* a variant beside the right name is refused too */
    h = hdr_jwk(K_ES256, "ES256");
    json_object_set_new(h, "URL", json_string(URL));
    check(body_hdr(K_ES256, "ES256", h, "{}"), NULL, PROB_MALFORMED);
    h = hdr_jwk(K_ES256, "ES256");
    json_object_set_new(h, "CRIT", json_array());
    check(body_hdr(K_ES256, "ES256", h, "{}"), NULL, PROB_MALFORMED);
    /* the exact name, renamed to itself, passes */
    check(body_renamed("url", "url"), NULL, PROB_NONE);
}

/* ---- rule 6: alg -------------------------------------------------------------------- */

static char *
body_alg(json_t *alg)
{
    json_t *h = hdr_jwk(K_ES256, "ES256");

    if (alg == NULL)
        json_object_del(h, "alg");
    else
        json_object_set_new(h, "alg", alg);
    return body_hdr(K_ES256, "ES256", h, "{}");
}

static void
test_alg(void **state)
{
    static const char *const refused[] = { "none", "HS256", "es256", "ES256 ", "RS512",
                                           "PS256", "EDDSA", "Ed25519", "" };
    json_t *h;

    (void)state;
    check(body_alg(NULL), NULL, PROB_MALFORMED);
    check(body_alg(json_integer(256)), NULL, PROB_MALFORMED);
    check(body_alg(json_null()), NULL, PROB_MALFORMED);
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(refused); i++)
        check(body_alg(json_string(refused[i])), NULL, PROB_BAD_SIGNATURE_ALGORITHM);
    /* unsigned alg "none" (RFC 7515 §A.5: empty signature) is still badSignatureAlgorithm */
    h = hdr_jwk(K_ES256, "none");
    {
        char *text = hdr_text(h);
        char *prot = b64s(text);
        char *pay = b64s("{}");

        check(body_from(prot, pay, ""), NULL, PROB_BAD_SIGNATURE_ALGORITHM);
        free(prot);
        free(pay);
        free(text);
    }
    /* HS256 "keyed" with the public key bytes: still refused on the name alone */
    check(body_raw(K_ES256, "HS256", "{\"alg\":\"HS256\",\"kid\":\"" KID "\"}", "{}"), NULL,
          PROB_BAD_SIGNATURE_ALGORITHM);
    check(body_alg(json_string("ES256")), NULL, PROB_NONE);
}

static void
test_algorithms_json(void **state)
{
    json_t *a = jws_algorithms_json();

    (void)state;
    assert_true(json_is_array(a));
    assert_int_equal(json_array_size(a), JWS_ALG__MAX);
    for (size_t i = 0; i < JWS_ALG__MAX; i++)
        assert_string_equal(json_string_value(json_array_get(a, i)),
                            jws_alg_name((enum jws_alg)i));
    json_decref(a);
    assert_string_equal(jws_alg_name(JWS_ALG_RS256), "RS256");
    assert_string_equal(jws_alg_name(JWS_ALG_ES512), "ES512");
    assert_string_equal(jws_alg_name(JWS_ALG_EDDSA), "EdDSA");
    assert_string_equal(jws_alg_name(JWS_ALG__MAX), "unknown");
}

/* ---- rule 7: jwk / kid -------------------------------------------------------------- */

static void
test_jwk_kid(void **state)
{
    json_t *h;
    char *s;

    (void)state;
    h = hdr_jwk(K_ES256, "ES256");
    json_object_set_new(h, "kid", json_string(KID));
    check(body_hdr(K_ES256, "ES256", h, "{}"), K_ES256, PROB_MALFORMED);
    h = hdr_jwk(K_ES256, "ES256");
    json_object_del(h, "jwk");
    check(body_hdr(K_ES256, "ES256", h, "{}"), K_ES256, PROB_MALFORMED);
    h = hdr_jwk(K_ES256, "ES256");
    json_object_set_new(h, "jwk", json_string("{}"));
    check(body_hdr(K_ES256, "ES256", h, "{}"), NULL, PROB_MALFORMED);
    h = hdr_kid("ES256");
    json_object_set_new(h, "kid", json_integer(1));
    check(body_hdr(K_ES256, "ES256", h, "{}"), K_ES256, PROB_MALFORMED);
    h = hdr_kid("ES256");
    json_object_set_new(h, "kid", json_string(""));
    check(body_hdr(K_ES256, "ES256", h, "{}"), K_ES256, PROB_MALFORMED);
    /* kid length: 2048 parses (rule 11 judges its content), 2049 does not */
    s = repeat('k', CAIRN_MAX_KID_LEN + 1);
    h = hdr_kid("ES256");
    json_object_set_new(h, "kid", json_string(s));
    check(body_hdr(K_ES256, "ES256", h, "{}"), K_ES256, PROB_MALFORMED);
    s[CAIRN_MAX_KID_LEN] = '\0';
    {
        struct problem p;
        struct jws j;
        char *body;

        h = hdr_kid("ES256");
        json_object_set_new(h, "kid", json_string(s));
        body = body_hdr(K_ES256, "ES256", h, "{}");
        problem_init(&p);
        assert_int_equal(jws_parse(body, strlen(body), JWS_OUTER, &j, &p), CAIRN_OK);
        assert_int_equal(strlen(j.kid), CAIRN_MAX_KID_LEN);
        jws_cleanup(&j);
        free(body);
    }
    free(s);
}

/* ---- rule 8: nonce ------------------------------------------------------------------ */

static char *
body_nonce(json_t *nonce)
{
    json_t *h = hdr_jwk(K_ES256, "ES256");

    if (nonce == NULL)
        json_object_del(h, "nonce");
    else
        json_object_set_new(h, "nonce", nonce);
    return body_hdr(K_ES256, "ES256", h, "{}");
}

static void
test_nonce(void **state)
{
    char *s;

    (void)state;
    check(body_nonce(NULL), NULL, PROB_BAD_NONCE);
    check(body_nonce(json_string("")), NULL, PROB_MALFORMED);
    check(body_nonce(json_integer(12)), NULL, PROB_MALFORMED);
    check(body_nonce(json_null()), NULL, PROB_MALFORMED);
    check(body_nonce(json_string("abc+")), NULL, PROB_MALFORMED);
    check(body_nonce(json_string("abc/")), NULL, PROB_MALFORMED);
    check(body_nonce(json_string("Zg==")), NULL, PROB_MALFORMED);
    check(body_nonce(json_string("Zm9v YmFy")), NULL, PROB_MALFORMED);
    /* 129 characters are never base64url (1 mod 4); 130 and 132 would be */
    s = repeat('A', CAIRN_MAX_NONCE_LEN + 4);
    check(body_nonce(json_string(s)), NULL, PROB_MALFORMED);
    s[CAIRN_MAX_NONCE_LEN + 2] = '\0';
    check(body_nonce(json_string(s)), NULL, PROB_MALFORMED);
    s[CAIRN_MAX_NONCE_LEN + 1] = '\0';
    check(body_nonce(json_string(s)), NULL, PROB_MALFORMED);
    s[CAIRN_MAX_NONCE_LEN] = '\0';
    check(body_nonce(json_string(s)), NULL, PROB_NONE);
    free(s);
    check(body_nonce(json_string("Zg")), NULL, PROB_NONE);
}

/* Rule order: a missing nonce (8) is reported before crit (9), after a bad alg (6). */
static void
test_rule_order(void **state)
{
    json_t *h;

    (void)state;
    h = hdr_jwk(K_ES256, "ES256");
    json_object_del(h, "nonce");
    json_object_set_new(h, "crit", json_pack("[s]", "b64"));
    json_object_del(h, "url");
    check(body_hdr(K_ES256, "ES256", h, "{}"), NULL, PROB_BAD_NONCE);
    h = hdr_jwk(K_ES256, "none");
    json_object_del(h, "nonce");
    check(body_hdr(K_ES256, "ES256", h, "{}"), NULL, PROB_BAD_SIGNATURE_ALGORITHM);
    h = hdr_jwk(K_ES256, "ES256");
    json_object_del(h, "nonce");
    json_object_set_new(h, "kid", json_string(KID));
    check(body_hdr(K_ES256, "ES256", h, "{}"), NULL, PROB_MALFORMED);
}

/* ---- rule 9: url, crit, b64 --------------------------------------------------------- */

static char *
body_member(const char *name, json_t *value)
{
    json_t *h = hdr_jwk(K_ES256, "ES256");

    if (value == NULL)
        json_object_del(h, name);
    else
        json_object_set_new(h, name, value);
    return body_hdr(K_ES256, "ES256", h, "{}");
}

static void
test_url_crit_b64(void **state)
{
    char *s;

    (void)state;
    check(body_member("url", NULL), NULL, PROB_MALFORMED);
    check(body_member("url", json_string("")), NULL, PROB_MALFORMED);
    check(body_member("url", json_integer(1)), NULL, PROB_MALFORMED);
    check(body_member("url", json_pack("[s]", URL)), NULL, PROB_MALFORMED);
    s = repeat('u', CAIRN_MAX_URL_LEN + 1);
    check(body_member("url", json_string(s)), NULL, PROB_MALFORMED);
    s[CAIRN_MAX_URL_LEN] = '\0';
    check(body_member("url", json_string(s)), NULL, PROB_NONE);
    free(s);
    check(body_member("crit", json_pack("[s]", "b64")), NULL, PROB_MALFORMED);
    check(body_member("crit", json_array()), NULL, PROB_MALFORMED);
    check(body_member("b64", json_false()), NULL, PROB_MALFORMED);
    check(body_member("b64", json_true()), NULL, PROB_MALFORMED);
    check(body_member("typ", json_string("JOSE+JSON")), NULL, PROB_NONE);
}

/* ---- rule 10: JWK import and key policy --------------------------------------------- */

/* jwk_import() of jwk (consumed): PROB_NONE on success. */
static enum prob_type
import_type(json_t *jwk)
{
    struct problem p;
    EVP_PKEY *key = NULL;
    int rc;

    ERR_clear_error();
    problem_init(&p);
    rc = jwk_import(jwk, &key, &p);
    json_decref(jwk);
    assert_int_equal(ERR_peek_error(), 0);
    if (rc == CAIRN_OK) {
        assert_non_null(key);
        EVP_PKEY_free(key);
        return PROB_NONE;
    }
    assert_int_equal(rc, CAIRN_ERR_PROTO);
    assert_null(key);
    return p.type;
}

static json_t *
export_with(EVP_PKEY *key, const char *name, json_t *value)
{
    json_t *jwk = jwk_export(key);

    assert_non_null(jwk);
    if (value == NULL)
        json_object_del(jwk, name);
    else
        json_object_set_new(jwk, name, value);
    return jwk;
}

static void
test_jwk_private_members(void **state)
{
    static const char *const priv[] = { "d", "p", "q", "dp", "dq", "qi", "oth", "k" };
    json_t *h;

    (void)state;
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(priv); i++) {
        assert_int_equal(import_type(export_with(K_RS256, priv[i], json_string("AQAB"))),
                         PROB_MALFORMED);
        assert_int_equal(import_type(export_with(K_ES256, priv[i], json_string("AQAB"))),
                         PROB_MALFORMED);
    }
    /* through the pipeline */
    h = hdr_jwk(K_EDDSA, "EdDSA");
    json_object_set_new(json_object_get(h, "jwk"), "d", json_string("AAAA"));
    check(body_hdr(K_EDDSA, "EdDSA", h, "{}"), NULL, PROB_MALFORMED);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(import_type(jwk_export(keys[i].key)), PROB_NONE);
}

static void
test_jwk_member_types(void **state)
{
    (void)state;
    assert_int_equal(import_type(json_string("x")), PROB_MALFORMED);
    assert_int_equal(import_type(json_array()), PROB_MALFORMED);
    assert_int_equal(import_type(export_with(K_RS256, "kty", NULL)), PROB_MALFORMED);
    assert_int_equal(import_type(export_with(K_RS256, "kty", json_integer(1))), PROB_MALFORMED);
    assert_int_equal(import_type(export_with(K_RS256, "n", NULL)), PROB_MALFORMED);
    assert_int_equal(import_type(export_with(K_RS256, "e", NULL)), PROB_MALFORMED);
    assert_int_equal(import_type(export_with(K_RS256, "n", json_integer(5))), PROB_MALFORMED);
    assert_int_equal(import_type(export_with(K_RS256, "e", json_integer(65537))),
                     PROB_MALFORMED);
    assert_int_equal(import_type(export_with(K_RS256, "e", json_string("AQAB="))),
                     PROB_MALFORMED);
    assert_int_equal(import_type(export_with(K_RS256, "n", json_string(""))), PROB_MALFORMED);
    assert_int_equal(import_type(export_with(K_ES256, "crv", NULL)), PROB_MALFORMED);
    assert_int_equal(import_type(export_with(K_ES256, "x", NULL)), PROB_MALFORMED);
    assert_int_equal(import_type(export_with(K_ES256, "y", json_null())), PROB_MALFORMED);
    assert_int_equal(import_type(export_with(K_ES256, "y", json_string("a+b/"))),
                     PROB_MALFORMED);
    assert_int_equal(import_type(export_with(K_EDDSA, "x", NULL)), PROB_MALFORMED);
    assert_int_equal(import_type(export_with(K_EDDSA, "crv", json_true())), PROB_MALFORMED);
}

static void
test_jwk_unknown_kty_or_curve(void **state)
{
    (void)state;
    assert_int_equal(import_type(export_with(K_RS256, "kty", json_string("oct"))),
                     PROB_BAD_PUBLIC_KEY);
    assert_int_equal(import_type(export_with(K_RS256, "kty", json_string("rsa"))),
                     PROB_BAD_PUBLIC_KEY);
    assert_int_equal(import_type(export_with(K_ES256, "kty", json_string("DSA"))),
                     PROB_BAD_PUBLIC_KEY);
    assert_int_equal(import_type(export_with(K_ES256, "crv", json_string("secp256k1"))),
                     PROB_BAD_PUBLIC_KEY);
    assert_int_equal(import_type(export_with(K_ES256, "crv", json_string("p-256"))),
                     PROB_BAD_PUBLIC_KEY);
    assert_int_equal(import_type(export_with(K_EDDSA, "crv", json_string("Ed448"))),
                     PROB_BAD_PUBLIC_KEY);
    assert_int_equal(import_type(export_with(K_EDDSA, "crv", json_string("X25519"))),
                     PROB_BAD_PUBLIC_KEY);
}

/* key's JWK with base64url member name resized to new_len bytes (truncated or zero-extended),
 * then optionally its last bit flipped or every byte set to fill (when fill >= 0). */
static json_t *
jwk_mutate(EVP_PKEY *key, const char *name, size_t new_len, int flip_last_bit, int fill)
{
    json_t *jwk = jwk_export(key);
    const char *v = json_string_value(json_object_get(jwk, name));
    uint8_t *raw = NULL, *buf;
    size_t len = 0;
    char *s;

    assert_int_equal(b64url_decode(v, strlen(v), &raw, &len), CAIRN_OK);
    buf = calloc(1, new_len ? new_len : 1);
    assert_non_null(buf);
    memcpy(buf, raw, len < new_len ? len : new_len);
    if (flip_last_bit)
        buf[new_len - 1] ^= 1;
    if (fill >= 0)
        memset(buf, fill, new_len);
    s = b64b(buf, new_len);
    json_object_set_new(jwk, name, json_string(s));
    free(s);
    free(buf);
    free(raw);
    return jwk;
}

static void
test_jwk_ec_point(void **state)
{
    json_t *h;

    (void)state;
    /* exact coordinate lengths */
    assert_int_equal(import_type(jwk_mutate(K_ES256, "x", 31, 0, -1)), PROB_BAD_PUBLIC_KEY);
    assert_int_equal(import_type(jwk_mutate(K_ES256, "y", 33, 0, -1)), PROB_BAD_PUBLIC_KEY);
    assert_int_equal(import_type(jwk_mutate(K_ES384, "x", 32, 0, -1)), PROB_BAD_PUBLIC_KEY);
    assert_int_equal(import_type(jwk_mutate(K_ES512, "y", 65, 0, -1)), PROB_BAD_PUBLIC_KEY);
    assert_int_equal(import_type(jwk_mutate(K_ES256, "x", 200, 0, -1)), PROB_BAD_PUBLIC_KEY);
    assert_int_equal(import_type(jwk_mutate(K_ES512, "y", 300, 0, -1)), PROB_BAD_PUBLIC_KEY);
    assert_int_equal(import_type(jwk_mutate(K_ES256, "x", 32, 0, -1)), PROB_NONE);
    /* off the curve */
    assert_int_equal(import_type(jwk_mutate(K_ES256, "y", 32, 1, -1)), PROB_BAD_PUBLIC_KEY);
    assert_int_equal(import_type(jwk_mutate(K_ES384, "x", 48, 1, -1)), PROB_BAD_PUBLIC_KEY);
    assert_int_equal(import_type(jwk_mutate(K_ES512, "y", 66, 1, -1)), PROB_BAD_PUBLIC_KEY);
    /* coordinates outside the field, and (0, 0) */
    assert_int_equal(import_type(jwk_mutate(K_ES256, "x", 32, 0, 0xff)), PROB_BAD_PUBLIC_KEY);
    {
        json_t *jwk = jwk_mutate(K_ES256, "x", 32, 0, 0);
        char *zero = b64b((const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
                                           "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
                          32);

        json_object_set_new(jwk, "y", json_string(zero));
        free(zero);
        assert_int_equal(import_type(jwk), PROB_BAD_PUBLIC_KEY);
    }
    /* Ed25519 key length */
    assert_int_equal(import_type(jwk_mutate(K_EDDSA, "x", 31, 0, -1)), PROB_BAD_PUBLIC_KEY);
    assert_int_equal(import_type(jwk_mutate(K_EDDSA, "x", 33, 0, -1)), PROB_BAD_PUBLIC_KEY);
    /* through the pipeline */
    h = hdr_jwk(K_ES256, "ES256");
    json_object_set_new(h, "jwk", jwk_mutate(K_ES256, "y", 32, 1, -1));
    check(body_hdr(K_ES256, "ES256", h, "{}"), NULL, PROB_BAD_PUBLIC_KEY);
}

/* An RSA JWK with modulus n and exponent e. */
static json_t *
rsa_jwk(const BIGNUM *n, const char *e)
{
    int len = BN_num_bytes(n);
    uint8_t *buf = malloc((size_t)len);
    char *s;
    json_t *jwk;

    assert_non_null(buf);
    BN_bn2bin(n, buf);
    s = b64b(buf, (size_t)len);
    jwk = json_pack("{s:s,s:s,s:s}", "kty", "RSA", "n", s, "e", e);
    free(s);
    free(buf);
    return jwk;
}

static void
test_rsa_policy(void **state)
{
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *n = BN_new(), *m = BN_new(), *q = BN_new();

    (void)state;
    assert_non_null(ctx);
    /* 1024 bits, signed for real */
    check(body_hdr(rsa1024, "RS256", hdr_jwk(rsa1024, "RS256"), "{}"), NULL,
          PROB_BAD_PUBLIC_KEY);
    /* exponent 3 on a good modulus; the same modulus with 65537 passes */
    assert_true(EVP_PKEY_get_bn_param(K_RS256, OSSL_PKEY_PARAM_RSA_N, &n));
    assert_int_equal(import_type(rsa_jwk(n, "Aw")), PROB_BAD_PUBLIC_KEY);
    assert_int_equal(import_type(rsa_jwk(n, "AQAB")), PROB_NONE);
    /* a 2048-bit modulus 751 * prime (751: the largest prime below 752) */
    do {
        assert_true(BN_generate_prime_ex(m, 2038, 0, NULL, NULL, NULL));
        assert_true(BN_mul_word(BN_copy(n, m), 751));
    } while (BN_num_bits(n) != 2048);
    assert_int_equal(import_type(rsa_jwk(n, "AQAB")), PROB_BAD_PUBLIC_KEY);
    /* 757 (the first prime above) times a prime is not refused for its small factor */
    do {
        assert_true(BN_generate_prime_ex(q, 2038, 0, NULL, NULL, NULL));
        assert_true(BN_mul_word(BN_copy(n, q), 757));
    } while (BN_num_bits(n) != 2048);
    assert_int_equal(import_type(rsa_jwk(n, "AQAB")), PROB_NONE);
    /* close primes: q = the next prime after p; and p^2 */
    assert_true(BN_generate_prime_ex(m, 1024, 0, NULL, NULL, NULL));
    assert_non_null(BN_copy(q, m));
    do
        assert_true(BN_add_word(q, 2));
    while (BN_check_prime(q, ctx, NULL) != 1);
    assert_true(BN_mul(n, m, q, ctx));
    assert_int_equal(BN_num_bits(n), 2048);
    assert_int_equal(import_type(rsa_jwk(n, "AQAB")), PROB_BAD_PUBLIC_KEY);
    assert_true(BN_sqr(n, m, ctx));
    assert_int_equal(import_type(rsa_jwk(n, "AQAB")), PROB_BAD_PUBLIC_KEY);
    BN_free(n);
    BN_free(m);
    BN_free(q);
    BN_CTX_free(ctx);
}

static void
test_key_policy_flags(void **state)
{
    static const struct key_policy strict = { .allow_p521 = false, .allow_ed25519 = false };
    static const struct key_policy loose = { .allow_p521 = true, .allow_ed25519 = true };
    struct problem p;

    (void)state;
    problem_init(&p);
    assert_int_equal(key_policy_check(K_ES512, &strict, PROB_BAD_CSR, &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_BAD_CSR);
    assert_int_equal(key_policy_check(K_EDDSA, &strict, PROB_BAD_CSR, &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_BAD_CSR);
    assert_int_equal(key_policy_check(K_ES512, &loose, PROB_BAD_CSR, &p), CAIRN_OK);
    assert_int_equal(key_policy_check(K_EDDSA, &loose, PROB_BAD_CSR, &p), CAIRN_OK);
    assert_int_equal(key_policy_check(K_ES256, &strict, PROB_BAD_CSR, &p), CAIRN_OK);
    assert_int_equal(key_policy_check(K_ES384, &strict, PROB_BAD_CSR, &p), CAIRN_OK);
    assert_int_equal(key_policy_check(K_RS256, &strict, PROB_BAD_CSR, &p), CAIRN_OK);
    assert_int_equal(key_policy_check(rsa1024, &loose, PROB_BAD_PUBLIC_KEY, &p),
                     CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_BAD_PUBLIC_KEY);
    assert_int_equal(ERR_peek_error(), 0);
}

/* ---- SubjectPublicKeyInfo without the encoder -------------------------------------- */

/* The DER key_x509_pubkey_set() writes, or NULL when it declines the key. */
static unsigned char *
direct_spki(const EVP_PKEY *key, int *len)
{
    X509_PUBKEY *pub = X509_PUBKEY_new();
    unsigned char *der = NULL;

    assert_non_null(pub);
    *len = 0;
    if (key_x509_pubkey_set(pub, key) == CAIRN_OK)
        *len = i2d_X509_PUBKEY(pub, &der);
    X509_PUBKEY_free(pub);
    return der;
}

/* key_spki_sha256_hex() must hash exactly what i2d_PUBKEY() gives: blocked keys are stored
 * under that identity. */
static void
assert_spki_hash(const EVP_PKEY *key)
{
    unsigned char *der = NULL, md[32];
    char want[65], got[65];
    int len = i2d_PUBKEY(key, &der);

    assert_true(len > 0);
    SHA256(der, (size_t)len, md);
    for (size_t i = 0; i < sizeof(md); i++)
        snprintf(want + 2 * i, 3, "%02x", md[i]);
    OPENSSL_free(der);
    assert_int_equal(key_spki_sha256_hex(key, got), CAIRN_OK);
    assert_string_equal(got, want);
}

static void
assert_direct_equals_encoder(const EVP_PKEY *key)
{
    unsigned char *want = NULL, *got;
    int wlen = i2d_PUBKEY(key, &want), glen;

    got = direct_spki(key, &glen);
    assert_non_null(got);
    assert_int_equal(glen, wlen);
    assert_memory_equal(got, want, (size_t)wlen);
    OPENSSL_free(got);
    OPENSSL_free(want);
    assert_spki_hash(key);
}

static void
test_spki_direct(void **state)
{
    EVP_PKEY *compressed = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *explicit = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    unsigned char *der;
    int len;

    (void)state;
    assert_non_null(compressed);
    assert_non_null(explicit);
    /* Named curves, uncompressed (the JWK and CSR norm) and compressed points. */
    assert_direct_equals_encoder(K_ES256);
    assert_direct_equals_encoder(K_ES384);
    assert_direct_equals_encoder(K_ES512);
    assert_int_equal(EVP_PKEY_set_utf8_string_param(compressed,
                                                    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                                    OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_COMPRESSED),
                     1);
    assert_direct_equals_encoder(compressed);
    der = direct_spki(compressed, &len);
    assert_int_equal(len, 26 + 33); /* DER framing and OIDs, then 0x02/0x03 || x */
    OPENSSL_free(der);
    /* Declined: other key types and explicit curve parameters; the hash still matches. */
    assert_int_equal(EVP_PKEY_set_utf8_string_param(explicit, OSSL_PKEY_PARAM_EC_ENCODING,
                                                    OSSL_PKEY_EC_ENCODING_EXPLICIT),
                     1);
    assert_null(direct_spki(explicit, &len));
    assert_null(direct_spki(K_RS256, &len));
    assert_null(direct_spki(K_EDDSA, &len));
    assert_int_equal(key_x509_pubkey_set(NULL, K_ES256), CAIRN_ERR_INVAL);
    assert_spki_hash(explicit);
    assert_spki_hash(K_RS256);
    assert_spki_hash(K_EDDSA);
    assert_int_equal(ERR_peek_error(), 0);
    EVP_PKEY_free(compressed);
    EVP_PKEY_free(explicit);
}

/* ---- rule 12: alg fits the key ------------------------------------------------------ */

static void
test_alg_key_mismatch(void **state)
{
    json_t *h;

    (void)state;
    /* jwk: header alg vs the JWK's key; signed with that key so only rule 12 can fail */
    check(body_hdr(K_ES384, "ES256", hdr_jwk(K_ES384, "ES256"), "{}"), NULL,
          PROB_BAD_PUBLIC_KEY);
    check(body_hdr(K_RS256, "ES256", hdr_jwk(K_RS256, "ES256"), "{}"), NULL,
          PROB_BAD_PUBLIC_KEY);
    check(body_hdr(K_ES256, "RS256", hdr_jwk(K_ES256, "RS256"), "{}"), NULL,
          PROB_BAD_PUBLIC_KEY);
    check(body_hdr(K_ES256, "ES512", hdr_jwk(K_ES256, "ES512"), "{}"), NULL,
          PROB_BAD_PUBLIC_KEY);
    check(body_hdr(K_ES512, "ES384", hdr_jwk(K_ES512, "ES384"), "{}"), NULL,
          PROB_BAD_PUBLIC_KEY);
    check(body_hdr(K_ES256, "EdDSA", hdr_jwk(K_ES256, "EdDSA"), "{}"), NULL,
          PROB_BAD_PUBLIC_KEY);
    check(body_hdr(K_EDDSA, "ES256", hdr_jwk(K_EDDSA, "ES256"), "{}"), NULL,
          PROB_BAD_PUBLIC_KEY);
    /* kid: the stored key decides */
    check(body_hdr(K_ES384, "ES256", hdr_kid("ES256"), "{}"), K_ES384, PROB_BAD_PUBLIC_KEY);
    check(body_hdr(K_RS256, "EdDSA", hdr_kid("EdDSA"), "{}"), K_RS256, PROB_BAD_PUBLIC_KEY);
    /* a JWK "alg" member must agree */
    h = hdr_jwk(K_ES256, "ES256");
    json_object_set_new(json_object_get(h, "jwk"), "alg", json_string("ES384"));
    check(body_hdr(K_ES256, "ES256", h, "{}"), NULL, PROB_BAD_PUBLIC_KEY);
    h = hdr_jwk(K_RS256, "RS256");
    json_object_set_new(json_object_get(h, "jwk"), "alg", json_string("rs256"));
    check(body_hdr(K_RS256, "RS256", h, "{}"), NULL, PROB_BAD_PUBLIC_KEY);
    h = hdr_jwk(K_ES256, "ES256");
    json_object_set_new(json_object_get(h, "jwk"), "alg", json_integer(1));
    check(body_hdr(K_ES256, "ES256", h, "{}"), NULL, PROB_BAD_PUBLIC_KEY);
    h = hdr_jwk(K_ES256, "ES256");
    json_object_set_new(json_object_get(h, "jwk"), "alg", json_string("ES256"));
    check(body_hdr(K_ES256, "ES256", h, "{}"), NULL, PROB_NONE);
}

/* jws_verify() refuses a key that does not fit even when rule 12 was skipped. */
static void
test_verify_refuses_unfit_key(void **state)
{
    struct problem p;
    struct jws j;
    char *body = body_hdr(K_ES256, "ES256", hdr_kid("ES256"), "{}");

    (void)state;
    problem_init(&p);
    assert_int_equal(jws_parse(body, strlen(body), JWS_OUTER, &j, &p), CAIRN_OK);
    assert_int_equal(jws_verify(&j, K_ES384, &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_BAD_PUBLIC_KEY);
    assert_int_equal(jws_verify(&j, K_RS256, &p), CAIRN_ERR_PROTO);
    assert_int_equal(jws_verify(&j, other_p256, &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_MALFORMED);
    assert_int_equal(jws_verify(&j, K_ES256, &p), CAIRN_OK);
    assert_int_equal(ERR_peek_error(), 0);
    jws_cleanup(&j);
    free(body);
}

/* ---- rule 13: signature ------------------------------------------------------------- */

static void
test_tampered(void **state)
{
    (void)state;
    for (size_t i = 0; i < 5; i++) {
        struct parts pt;
        char *text = hdr_text(hdr_jwk(keys[i].key, keys[i].alg));

        /* payload changed after signing */
        parts_make(&pt, keys[i].key, keys[i].alg, text, "{\"a\":1}");
        free(pt.payload);
        pt.payload = b64s("{\"a\":2}");
        check(parts_body(&pt), NULL, PROB_MALFORMED);
        /* one signature bit flipped */
        parts_make(&pt, keys[i].key, keys[i].alg, text, "{\"a\":1}");
        pt.sig[pt.sig_len / 2] ^= 0x10;
        check(parts_body(&pt), NULL, PROB_MALFORMED);
        /* the untouched control */
        parts_make(&pt, keys[i].key, keys[i].alg, text, "{\"a\":1}");
        check(parts_body(&pt), NULL, PROB_NONE);
        free(text);
    }
    /* signed by another key of the same type */
    check(body_hdr(other_p256, "ES256", hdr_jwk(K_ES256, "ES256"), "{}"), NULL, PROB_MALFORMED);
    check(body_hdr(other_p256, "ES256", hdr_kid("ES256"), "{}"), K_ES256, PROB_MALFORMED);
}

static void
test_signature_lengths(void **state)
{
    (void)state;
    for (size_t i = 0; i < 5; i++) {
        char *text = hdr_text(hdr_jwk(keys[i].key, keys[i].alg));
        struct parts pt;

        /* one byte short */
        parts_make(&pt, keys[i].key, keys[i].alg, text, "{}");
        pt.sig_len--;
        check(parts_body(&pt), NULL, PROB_MALFORMED);
        /* one zero byte more */
        parts_make(&pt, keys[i].key, keys[i].alg, text, "{}");
        {
            uint8_t *b = calloc(1, pt.sig_len + 1);

            assert_non_null(b);
            memcpy(b + 1, pt.sig, pt.sig_len);
            free(pt.sig);
            pt.sig = b;
            pt.sig_len++;
        }
        check(parts_body(&pt), NULL, PROB_MALFORMED);
        free(text);
    }
}

/* ECDSA as OpenSSL's DER instead of R || S is refused. */
static void
test_ecdsa_der_refused(void **state)
{
    char *text = hdr_text(hdr_jwk(K_ES256, "ES256"));
    struct parts pt;
    ECDSA_SIG *es = ECDSA_SIG_new();
    unsigned char *der = NULL;
    int len;

    (void)state;
    parts_make(&pt, K_ES256, "ES256", text, "{}");
    assert_true(ECDSA_SIG_set0(es, BN_bin2bn(pt.sig, 32, NULL),
                               BN_bin2bn(pt.sig + 32, 32, NULL)));
    len = i2d_ECDSA_SIG(es, &der);
    assert_true(len > 0);
    free(pt.sig);
    pt.sig = malloc((size_t)len);
    assert_non_null(pt.sig);
    memcpy(pt.sig, der, (size_t)len);
    pt.sig_len = (size_t)len;
    check(parts_body(&pt), NULL, PROB_MALFORMED);
    /* R = S = 0 */
    parts_make(&pt, K_ES256, "ES256", text, "{}");
    memset(pt.sig, 0, pt.sig_len);
    check(parts_body(&pt), NULL, PROB_MALFORMED);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    free(text);
}

/* ---- keyChange inner JWS ------------------------------------------------------------ */

static json_t *
hdr_inner(EVP_PKEY *key, const char *alg)
{
    json_t *h = hdr_jwk(key, alg);

    json_object_del(h, "nonce");
    return h;
}

static void
test_inner(void **state)
{
    json_t *h;

    (void)state;
    for (size_t i = 0; i < 5; i++)
        check_kind(body_hdr(keys[i].key, keys[i].alg, hdr_inner(keys[i].key, keys[i].alg),
                            "{\"account\":\"" KID "\",\"oldKey\":{}}"),
                   JWS_INNER, NULL, PROB_NONE);
    h = hdr_inner(K_ES256, "ES256");
    json_object_set_new(h, "nonce", json_string(NONCE));
    check_kind(body_hdr(K_ES256, "ES256", h, "{}"), JWS_INNER, NULL, PROB_MALFORMED);
    h = hdr_inner(K_ES256, "ES256");
    json_object_del(h, "jwk");
    json_object_set_new(h, "kid", json_string(KID));
    check_kind(body_hdr(K_ES256, "ES256", h, "{}"), JWS_INNER, K_ES256, PROB_MALFORMED);
    h = hdr_inner(K_ES256, "ES256");
    json_object_del(h, "jwk");
    check_kind(body_hdr(K_ES256, "ES256", h, "{}"), JWS_INNER, K_ES256, PROB_MALFORMED);
    h = hdr_inner(K_ES256, "ES256");
    json_object_del(h, "url");
    check_kind(body_hdr(K_ES256, "ES256", h, "{}"), JWS_INNER, NULL, PROB_MALFORMED);
    /* the same inner header as an outer JWS lacks its nonce */
    check_kind(body_hdr(K_ES256, "ES256", hdr_inner(K_ES256, "ES256"), "{}"), JWS_OUTER, NULL,
               PROB_BAD_NONCE);
}

/* The keyChange payload carries the inner JWS as an object: jws_parse_json(). */
static void
test_parse_json(void **state)
{
    struct problem p;
    struct jws j;
    char *body = body_hdr(K_ES256, "ES256", hdr_inner(K_ES256, "ES256"), "{}");
    json_t *obj = json_loads(body, 0, NULL);
    json_t *arr = json_array();

    (void)state;
    problem_init(&p);
    assert_int_equal(jws_parse_json(obj, JWS_INNER, &j, &p), CAIRN_OK);
    assert_null(j.nonce);
    assert_string_equal(j.url, URL);
    jws_cleanup(&j);
    assert_int_equal(jws_parse_json(arr, JWS_INNER, &j, &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_MALFORMED);
    assert_null(j.header);
    json_object_set_new(obj, "header", json_object());
    assert_int_equal(jws_parse_json(obj, JWS_INNER, &j, &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_MALFORMED);
    json_decref(arr);
    json_decref(obj);
    free(body);
}

/* ---- JWK export and RFC 7638 thumbprints -------------------------------------------- */

static void
test_thumbprint_rfc7638(void **state)
{
    /* RFC 7638 §3.1, with the members that are not part of the thumbprint */
    static const char jwk_text[] =
        "{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT"
        "86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93l"
        "qt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajr"
        "n1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-"
        "csFCur-kEgU8awapJzKnqDKgw\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}";
    json_t *jwk = json_loads(jwk_text, 0, NULL), *out;
    struct problem p;
    EVP_PKEY *key = NULL;
    char tp[CAIRN_THUMBPRINT_LEN + 1];

    (void)state;
    assert_non_null(jwk);
    problem_init(&p);
    assert_int_equal(jwk_import(jwk, &key, &p), CAIRN_OK);
    assert_int_equal(jwk_thumbprint(key, tp), CAIRN_OK);
    assert_string_equal(tp, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    /* export: exactly the required members, n in its minimal form */
    out = jwk_export(key);
    assert_int_equal(json_object_size(out), 3);
    assert_string_equal(json_string_value(json_object_get(out, "kty")), "RSA");
    assert_string_equal(json_string_value(json_object_get(out, "e")), "AQAB");
    assert_true(json_equal(json_object_get(out, "n"), json_object_get(jwk, "n")));
    json_decref(out);
    json_decref(jwk);
    EVP_PKEY_free(key);
}

/* RFC 8037 §A.3: the Ed25519 thumbprint vector. */
static void
test_thumbprint_rfc8037(void **state)
{
    json_t *jwk = json_pack("{s:s,s:s,s:s}", "kty", "OKP", "crv", "Ed25519", "x",
                            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
    struct problem p;
    EVP_PKEY *key = NULL;
    char tp[CAIRN_THUMBPRINT_LEN + 1];

    (void)state;
    problem_init(&p);
    assert_int_equal(jwk_import(jwk, &key, &p), CAIRN_OK);
    assert_int_equal(jwk_thumbprint(key, tp), CAIRN_OK);
    assert_string_equal(tp, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    json_decref(jwk);
    EVP_PKEY_free(key);
}

/* SHA-256 base64url of text, computed independently of jwk_thumbprint(). */
static void
sha256_b64(const char *text, char out[CAIRN_THUMBPRINT_LEN + 1])
{
    uint8_t md[32];
    unsigned int len = 0;

    assert_true(EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL));
    assert_int_equal(b64url_encode(md, sizeof(md), out, CAIRN_THUMBPRINT_LEN + 1), CAIRN_OK);
}

static void
test_export_roundtrip(void **state)
{
    static const size_t coord_chars[] = { 43, 64, 88 };
    static const char *const crv[] = { "P-256", "P-384", "P-521" };

    (void)state;
    for (size_t i = 0; i < 5; i++) {
        json_t *jwk = jwk_export(keys[i].key);
        struct problem p;
        EVP_PKEY *back = NULL;
        char a[CAIRN_THUMBPRINT_LEN + 1], b[CAIRN_THUMBPRINT_LEN + 1];

        assert_non_null(jwk);
        problem_init(&p);
        assert_int_equal(jwk_import(jwk, &back, &p), CAIRN_OK);
        assert_int_equal(EVP_PKEY_eq(back, keys[i].key), 1);
        assert_int_equal(jwk_thumbprint(keys[i].key, a), CAIRN_OK);
        assert_int_equal(jwk_thumbprint(back, b), CAIRN_OK);
        assert_string_equal(a, b);
        assert_int_equal(strlen(a), CAIRN_THUMBPRINT_LEN);
        json_decref(jwk);
        EVP_PKEY_free(back);
    }
    /* EC: fixed-length coordinates and the RFC 7638 §3.2 member order crv, kty, x, y */
    for (size_t i = 0; i < 3; i++) {
        json_t *jwk = jwk_export(keys[i].key);
        const char *x = json_string_value(json_object_get(jwk, "x"));
        const char *y = json_string_value(json_object_get(jwk, "y"));
        char text[512], want[CAIRN_THUMBPRINT_LEN + 1], got[CAIRN_THUMBPRINT_LEN + 1];

        assert_int_equal(json_object_size(jwk), 4);
        assert_string_equal(json_string_value(json_object_get(jwk, "crv")), crv[i]);
        assert_int_equal(strlen(x), coord_chars[i]);
        assert_int_equal(strlen(y), coord_chars[i]);
        snprintf(text, sizeof(text), "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                 crv[i], x, y);
        sha256_b64(text, want);
        assert_int_equal(jwk_thumbprint(keys[i].key, got), CAIRN_OK);
        assert_string_equal(got, want);
        json_decref(jwk);
    }
    assert_null(jwk_export(NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_every_alg),
        cmocka_unit_test(test_parsed_fields),
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_unprotected_header),
        cmocka_unit_test(test_signatures_member),
        cmocka_unit_test(test_unknown_member),
        cmocka_unit_test(test_base64url),
        cmocka_unit_test(test_header_not_object),
        cmocka_unit_test(test_header_duplicates),
        cmocka_unit_test(test_header_case_variants),
        cmocka_unit_test(test_alg),
        cmocka_unit_test(test_algorithms_json),
        cmocka_unit_test(test_jwk_kid),
        cmocka_unit_test(test_nonce),
        cmocka_unit_test(test_rule_order),
        cmocka_unit_test(test_url_crit_b64),
        cmocka_unit_test(test_jwk_private_members),
        cmocka_unit_test(test_jwk_member_types),
        cmocka_unit_test(test_jwk_unknown_kty_or_curve),
        cmocka_unit_test(test_jwk_ec_point),
        cmocka_unit_test(test_rsa_policy),
        cmocka_unit_test(test_key_policy_flags),
        cmocka_unit_test(test_spki_direct),
        cmocka_unit_test(test_alg_key_mismatch),
        cmocka_unit_test(test_verify_refuses_unfit_key),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_signature_lengths),
        cmocka_unit_test(test_ecdsa_der_refused),
        cmocka_unit_test(test_inner),
        cmocka_unit_test(test_parse_json),
        cmocka_unit_test(test_thumbprint_rfc7638),
        cmocka_unit_test(test_thumbprint_rfc8037),
        cmocka_unit_test(test_export_roundtrip),
    };
    return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
