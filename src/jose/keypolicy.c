#include "cairn/keypolicy.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>

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
    return rc;
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
    return CAIRN_OK;
}

int
key_policy_check(const EVP_PKEY *key, const struct key_policy *pol, enum prob_type fail,
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
