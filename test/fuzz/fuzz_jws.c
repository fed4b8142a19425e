/* fuzz_jws.c - the JWS pipeline a request body meets first: jws_parse() (rules 3-9), then
 * jwk_import() (rule 10), jws_check_alg_key() (12) and jws_verify() (13). The same bytes are
 * also parsed as a keyChange inner JWS. */
#include <stddef.h>
#include <stdint.h>

#include "cairn/jws.h"
#include "fuzz.h"

static void
run(const uint8_t *data, size_t size, enum jws_kind kind)
{
    struct jws j;
    struct problem p;
    EVP_PKEY *key = NULL;

    problem_init(&p);
    if (jws_parse((const char *)data, size, kind, &j, &p) == CAIRN_OK && j.jwk != NULL &&
        jwk_import(j.jwk, &key, &p) == CAIRN_OK && jws_check_alg_key(&j, key, &p) == CAIRN_OK)
        (void)jws_verify(&j, key, &p);
    EVP_PKEY_free(key);
    jws_cleanup(&j);
    problem_cleanup(&p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size, JWS_OUTER);
    run(data, size, JWS_INNER);
    return 0;
}
