/* core.h - return codes, attributes and limits shared by every module.
 *
 * Every function that can fail returns an int holding an enum cairn_rc; outputs go through
 * pointer parameters placed last. A client's mistake is CAIRN_ERR_PROTO with a filled
 * struct problem (see problem.h). */
#ifndef CAIRN_CORE_H
#define CAIRN_CORE_H

#include <stddef.h>
#include <stdint.h>

enum cairn_rc {
    CAIRN_OK = 0,
    CAIRN_ERR_NOMEM = -1,
    CAIRN_ERR_INVAL = -2,    /* bad argument or bad untrusted input without a problem */
    CAIRN_ERR_NOTFOUND = -3, /* no such object */
    CAIRN_ERR_CONFLICT = -4, /* a conditional update matched nothing / unique key taken */
    CAIRN_ERR_BUSY = -5,     /* store busy after retries: 503 + Retry-After */
    CAIRN_ERR_IO = -6,       /* file, socket or database failure */
    CAIRN_ERR_CRYPTO = -7,   /* OpenSSL failure */
    CAIRN_ERR_PROTO = -8,    /* client error: the struct problem says which */
};

#define CAIRN_MUST_CHECK __attribute__((warn_unused_result))
#define CAIRN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define CAIRN_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Formats a message for the caller into err (errsz bytes, truncated) and returns
 * CAIRN_ERR_INVAL: the parsers of configuration and fault specs report this way. */
int cairn_err_inval(char *err, size_t errsz, const char *fmt, ...) CAIRN_PRINTF(3, 4);

/* Object ids: 16 random bytes as 22 base64url characters. */
#define CAIRN_ID_LEN 22
/* Challenge tokens: 32 random bytes as 43 base64url characters. */
#define CAIRN_TOKEN_LEN 43
/* Certificate serials: 16 random bytes, top bit clear, as lowercase hex (at most 40 chars). */
#define CAIRN_SERIAL_HEX_MAX 40
/* RFC 7638 SHA-256 thumbprint as base64url. */
#define CAIRN_THUMBPRINT_LEN 43

/* Returns a / b overflow-checked: 0 on success, -1 on overflow. */
static inline int
size_add(size_t a, size_t b, size_t *out)
{
    if (a > SIZE_MAX - b)
        return -1;
    *out = a + b;
    return 0;
}

static inline int
size_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return -1;
    *out = a * b;
    return 0;
}

#endif
