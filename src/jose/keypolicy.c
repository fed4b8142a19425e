#include "cairn/keypolicy.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/err.h>

/* Boulder (goodkey) refuses moduli with a factor below 752, after the Debian weak-key and
 * ROCA studies: such a factor means a broken generator, and it costs almost nothing to test. */
#define KEYPOL_SMALL_PRIME_BOUND 752
/* Fermat rounds: Fermat's method needs about (p - q)^2 / (8 sqrt(n)) steps, so 100 rounds
 * catch primes closer than about 28 * n^(1/4) (Boulder uses the same count). */
#define KEYPOL_FERMAT_ROUNDS 100

/* Returns 1 when n has a prime factor below KEYPOL_SMALL_PRIME_BOUND, 0 when not, -1 on an
 * OpenSSL failure. Primes come from a sieve; trial division by a word is cheap. */
static int
rsa_has_small_factor(const BIGNUM *n)
{
    unsigned char composite[KEYPOL_SMALL_PRIME_BOUND];

    memset(composite, 0, sizeof(composite));
    for (unsigned q = 2; q < KEYPOL_SMALL_PRIME_BOUND; q++) {
        BN_ULONG r;

        if (composite[q])
            continue;
        for (unsigned m = q * q; m < KEYPOL_SMALL_PRIME_BOUND; m += q)
            composite[m] = 1;
        r = BN_mod_word(n, (BN_ULONG)q);
        if (r == (BN_ULONG)-1)
            return -1;
        if (r == 0)
            return 1;
    }
    return 0;
}

/* r = floor(sqrt(n)) for n > 0, by Newton's iteration from a power of two above the root. */
static int
bn_isqrt(BIGNUM *r, const BIGNUM *n, BN_CTX *ctx)
{
    BIGNUM *y = BN_CTX_get(ctx);

    if (y == NULL || !BN_set_word(r, 0) || !BN_set_bit(r, (BN_num_bits(n) + 1) / 2))
        return 0;
    for (;;) {
        if (!BN_div(y, NULL, n, r, ctx) || !BN_add(y, y, r) || !BN_rshift1(y, y))
            return 0;
        if (BN_cmp(y, r) >= 0)
            return 1;
        if (!BN_copy(r, y))
            return 0;
    }
}

/* Fermat's method: n = a^2 - b^2 = (a + b)(a - b). Trying a = ceil(sqrt(n)) upwards finds
 * b quickly when the two primes are close. Returns 1 when factored, 0 when not, -1 on error. */
static int
rsa_has_close_primes(const BIGNUM *n)
{
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *a, *b2, *s;
    int rc = -1;

    if (ctx == NULL)
        return -1;
    BN_CTX_start(ctx);
    a = BN_CTX_get(ctx);
    b2 = BN_CTX_get(ctx);
    s = BN_CTX_get(ctx);
    if (s == NULL || !bn_isqrt(a, n, ctx) || !BN_sqr(b2, a, ctx))
        goto out;
    if (BN_cmp(b2, n) == 0) { /* n = p^2 */
        rc = 1;
        goto out;
    }
    for (int round = 0; round < KEYPOL_FERMAT_ROUNDS; round++) {
        if (!BN_add_word(a, 1) || !BN_sqr(b2, a, ctx) || !BN_sub(b2, b2, n) ||
            !bn_isqrt(s, b2, ctx) || !BN_sqr(s, s, ctx))
            goto out;
        if (BN_cmp(s, b2) == 0) {
            rc = 1;
            goto out;
        }
    }
    rc = 0;
out:
    BN_CTX_end(ctx);
    BN_CTX_free(ctx);
    return rc;
}

static int
rsa_check_modulus(const EVP_PKEY *key, enum prob_type fail, struct problem *p)
{
    BIGNUM *n = NULL;
    int rc = CAIRN_OK, r;

    if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n))
        return problem_set(p, fail, "RSA key without a modulus");
    r = rsa_has_small_factor(n);
    if (r == 0)
        r = rsa_has_close_primes(n) ? 2 : 0;
    if (r == 1)
        rc = problem_set(p, fail, "RSA modulus has a factor below %d",
                         KEYPOL_SMALL_PRIME_BOUND);
    else if (r == 2)
        rc = problem_set(p, fail, "RSA modulus has primes too close together");
    else if (r < 0)
        rc = CAIRN_ERR_CRYPTO;
    BN_free(n);
    return rc;
}

static int
rsa_check(const EVP_PKEY *key, enum prob_type fail, struct problem *p)
{
    BIGNUM *e = NULL;
    int bits = EVP_PKEY_get_bits(key), rc = CAIRN_OK;

    if (bits != 2048 && bits != 3072 && bits != 4096)
        return problem_set(p, fail, "RSA key of %d bits: only 2048, 3072 and 4096 are accepted",
                           bits);
    if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e))
        return problem_set(p, fail, "RSA key without a public exponent");
    if (!BN_is_word(e, 65537))
        rc = problem_set(p, fail, "RSA public exponent must be 65537");
    BN_free(e);
    if (rc == CAIRN_OK)
        rc = rsa_check_modulus(key, fail, p);
    return rc;
}

/* Point on the curve, not at infinity, of the group's order (SP 800-56A §5.6.2.3.3). Every
 * curve ec_check() accepts (P-256, P-384, P-521) has cofactor 1, so a point on the curve other
 * than infinity has the group's order n: the quick check (coordinates in the field, on the
 * curve, not infinity) is the full validation for them, without the n * Q multiplication that
 * EVP_PKEY_public_check() adds (about a third of an ECDSA verification). */
static int
ec_check_point(const EVP_PKEY *key, enum prob_type fail, struct problem *p)
{
    /* EVP_PKEY_CTX_new_from_pkey() wants a mutable key; the check only reads it. */
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, (EVP_PKEY *)key, NULL);
    int ok;

    if (ctx == NULL)
        return CAIRN_ERR_CRYPTO;
    ok = EVP_PKEY_public_check_quick(ctx);
    EVP_PKEY_CTX_free(ctx);
    if (ok != 1)
        return problem_set(p, fail, "EC public key is not a valid point");
    return CAIRN_OK;
}

static int
ec_check(const EVP_PKEY *key, const struct key_policy *pol, enum prob_type fail,
         struct problem *p)
{
    char curve[64];
    size_t len = 0;

    if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve),
                                        &len))
        return problem_set(p, fail, "EC key without a named curve");
    if (strcmp(curve, "prime256v1") != 0 && strcmp(curve, "secp384r1") != 0 &&
        !(pol->allow_p521 && strcmp(curve, "secp521r1") == 0))
        return problem_set(p, fail, "EC curve %s is not accepted", curve);
    return ec_check_point(key, fail, p);
}

static int
key_policy_dispatch(const EVP_PKEY *key, const struct key_policy *pol, enum prob_type fail,
                    struct problem *p)
{
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
        return rsa_check(key, fail, p);
    case EVP_PKEY_EC:
        return ec_check(key, pol, fail, p);
    case EVP_PKEY_ED25519:
        if (pol->allow_ed25519)
            return CAIRN_OK;
        return problem_set(p, fail, "Ed25519 keys are not accepted here");
    default:
        return problem_set(p, fail, "key type is not accepted");
    }
}

int
key_policy_check(const EVP_PKEY *key, const struct key_policy *pol, enum prob_type fail,
                 struct problem *p)
{
    int rc;

    if (key == NULL)
        return problem_set(p, fail, "no public key");
    rc = key_policy_dispatch(key, pol, fail, p);
    if (rc != CAIRN_OK)
        ERR_clear_error(); /* failed checks leave OpenSSL errors behind */
    return rc;
}

/* The named curves key_x509_pubkey_set() encodes itself. */
static int
ec_curve_nid(const char *group)
{
    static const struct {
        const char *name;
        int nid;
    } curves[] = {
        { "prime256v1", NID_X9_62_prime256v1 },
        { "secp384r1", NID_secp384r1 },
        { "secp521r1", NID_secp521r1 },
    };

    for (size_t i = 0; i < CAIRN_ARRAY_LEN(curves); i++)
        if (strcmp(group, curves[i].name) == 0)
            return curves[i].nid;
    return NID_undef;
}

int
key_x509_pubkey_set(X509_PUBKEY *pub, const EVP_PKEY *key)
{
    char group[32], enc[32];
    unsigned char point[1 + 2 * 66], *copy;
    size_t glen = 0, elen = 0, plen = 0;
    int nid;

    if (pub == NULL || key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
        return CAIRN_ERR_INVAL;
    /* Explicit curve parameters are encoded as such by i2d_PUBKEY(): leave them to it. */
    if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                        &glen) ||
        !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_EC_ENCODING, enc, sizeof(enc),
                                        &elen) ||
        strcmp(enc, OSSL_PKEY_EC_ENCODING_GROUP) != 0 ||
        (nid = ec_curve_nid(group)) == NID_undef) {
        ERR_clear_error();
        return CAIRN_ERR_INVAL;
    }
    /* The public point in the key's own conversion form, as the encoder writes it. */
    if (!EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point),
                                         &plen) ||
        plen == 0) {
        ERR_clear_error();
        return CAIRN_ERR_CRYPTO;
    }
    copy = OPENSSL_memdup(point, plen);
    if (copy == NULL)
        return CAIRN_ERR_NOMEM;
    /* RFC 5480 §2.1.1: id-ecPublicKey with the namedCurve OID; OBJ_nid2obj() objects are
     * static, so the algorithm identifier owning them is harmless. */
    if (!X509_PUBKEY_set0_param(pub, OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
                                OBJ_nid2obj(nid), copy, (int)plen)) {
        OPENSSL_free(copy);
        return CAIRN_ERR_CRYPTO;
    }
    return CAIRN_OK;
}

/* DER SubjectPublicKeyInfo of key in a new OPENSSL_malloc()ed buffer; length or <= 0. */
static int
spki_der(const EVP_PKEY *key, unsigned char **der)
{
    X509_PUBKEY *pub = X509_PUBKEY_new();
    int len = -1;

    *der = NULL;
    if (pub != NULL && key_x509_pubkey_set(pub, key) == CAIRN_OK)
        len = i2d_X509_PUBKEY(pub, der);
    X509_PUBKEY_free(pub);
    if (len > 0)
        return len;
    OPENSSL_free(*der);
    *der = NULL;
    return i2d_PUBKEY(key, der);
}

int
key_spki_sha256_hex(const EVP_PKEY *key, char out[65])
{
    unsigned char *der = NULL, md[32];
    int len = spki_der(key, &der);

    if (len <= 0)
        return CAIRN_ERR_CRYPTO;
    SHA256(der, (size_t)len, md);
    OPENSSL_free(der);
    for (size_t i = 0; i < sizeof(md); i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return CAIRN_OK;
}

/* ---- EC keys from points ---- */

static const char *const ec_groups[] = { "prime256v1", "secp384r1", "secp521r1" };
static EVP_PKEY *ec_templates[3]; /* parameters only; read-only once made */
static pthread_once_t ec_templates_once = PTHREAD_ONCE_INIT;

static void
ec_templates_make(void)
{
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(ec_groups); i++) {
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                             (char *)ec_groups[i], 0),
            OSSL_PARAM_construct_end(),
        };
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);

        if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
            EVP_PKEY_fromdata(ctx, &ec_templates[i], EVP_PKEY_KEY_PARAMETERS, params) <= 0)
            ec_templates[i] = NULL; /* that curve falls back to EVP_PKEY_fromdata() */
        EVP_PKEY_CTX_free(ctx);
    }
    ERR_clear_error();
}

/* The slow way, for a curve whose template could not be made. */
static EVP_PKEY *
ec_fromdata(const char *group, const uint8_t *point, size_t len)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point, len),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *key = NULL;

    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        EVP_PKEY_free(key);
        key = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return key;
}

EVP_PKEY *
key_ec_from_point(const char *group, const uint8_t *point, size_t len)
{
    EVP_PKEY *key = NULL;
    size_t i;

    for (i = 0; i < CAIRN_ARRAY_LEN(ec_groups) && strcmp(ec_groups[i], group) != 0; i++)
        ;
    if (i == CAIRN_ARRAY_LEN(ec_groups) || point == NULL || len == 0)
        return NULL;
    pthread_once(&ec_templates_once, ec_templates_make);
    if (ec_templates[i] == NULL) {
        key = ec_fromdata(group, point, len);
    } else {
        key = EVP_PKEY_new();
        /* OpenSSL checks the point here: inside the field and on the curve. */
        if (key == NULL || EVP_PKEY_copy_parameters(key, ec_templates[i]) != 1 ||
            EVP_PKEY_set1_encoded_public_key(key, point, len) != 1) {
            EVP_PKEY_free(key);
            key = NULL;
        }
    }
    if (key == NULL)
        ERR_clear_error();
    return key;
}
