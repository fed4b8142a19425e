#include "cairn/rand.h"

#include <openssl/rand.h>

#include "cairn/b64url.h"

int
rand_bytes(uint8_t *buf, size_t n)
{
    if (n > INT32_MAX || RAND_bytes(buf, (int)n) != 1)
        return CAIRN_ERR_CRYPTO;
    return CAIRN_OK;
}

static int
rand_b64(size_t nbytes, char *out, size_t outsz)
{
    uint8_t raw[32];
    int rc;

    if (nbytes > sizeof(raw))
        return CAIRN_ERR_INVAL;
    rc = rand_bytes(raw, nbytes);
    if (rc != CAIRN_OK)
        return rc;
    return b64url_encode(raw, nbytes, out, outsz);
}

int
rand_id(char out[CAIRN_ID_LEN + 1])
{
    return rand_b64(16, out, CAIRN_ID_LEN + 1);
}

int
rand_token(char out[CAIRN_TOKEN_LEN + 1])
{
    return rand_b64(32, out, CAIRN_TOKEN_LEN + 1);
}

uint32_t
rand_below(uint32_t n)
{
    uint32_t v, limit;

    if (n <= 1)
        return 0;
    limit = UINT32_MAX - (UINT32_MAX % n);
    do {
        if (rand_bytes((uint8_t *)&v, sizeof(v)) != CAIRN_OK)
            return 0;
    } while (v >= limit);
    return v % n;
}
