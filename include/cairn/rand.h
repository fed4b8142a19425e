/* rand.h - CSPRNG helpers (OpenSSL RAND_bytes). Thread-safe. */
#ifndef CAIRN_RAND_H
#define CAIRN_RAND_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/core.h"

/* Fills buf; CAIRN_OK or CAIRN_ERR_CRYPTO. */
int rand_bytes(uint8_t *buf, size_t n) CAIRN_MUST_CHECK;
/* A fresh object id: 16 random bytes as 22 base64url characters + NUL. */
int rand_id(char out[CAIRN_ID_LEN + 1]) CAIRN_MUST_CHECK;
/* A fresh challenge token: 32 random bytes as 43 base64url characters + NUL. */
int rand_token(char out[CAIRN_TOKEN_LEN + 1]) CAIRN_MUST_CHECK;
/* Uniform integer in [0, n) (n > 0); 0 on RNG failure. */
uint32_t rand_below(uint32_t n);

#endif
