#include "cairn/b64url.h"

#include <stdlib.h>

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Value of a base64url character, or -1. */
static int
b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

size_t
b64url_encoded_len(size_t n)
{
    return (n / 3) * 4 + ((n % 3) ? (n % 3) + 1 : 0);
}

int
b64url_encode(const uint8_t *in, size_t n, char *out, size_t outsz)
{
    size_t o = 0, i = 0;

    if (n > (SIZE_MAX / 4) * 3 - 3 || outsz < b64url_encoded_len(n) + 1)
        return CAIRN_ERR_INVAL;
    for (; i + 2 < n; i += 3) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
        out[o++] = b64url_alphabet[(v >> 18) & 63];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
        out[o++] = b64url_alphabet[(v >> 6) & 63];
        out[o++] = b64url_alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64url_alphabet[(v >> 18) & 63];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8);
        out[o++] = b64url_alphabet[(v >> 18) & 63];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
        out[o++] = b64url_alphabet[(v >> 6) & 63];
    }
    out[o] = '\0';
    return CAIRN_OK;
}

char *
b64url_encode_alloc(const uint8_t *in, size_t n)
{
    size_t len = b64url_encoded_len(n) + 1;
    char *s = malloc(len);

    if (s == NULL)
        return NULL;
    if (b64url_encode(in, n, s, len) != CAIRN_OK) {
        free(s);
        return NULL;
    }
    return s;
}

/* Decodes into out when non-NULL; returns the byte count or -1 when not strict. */
static long long
b64url_scan(const char *in, size_t n, uint8_t *out)
{
    size_t o = 0, i = 0;
    uint32_t acc = 0;

    if (n % 4 == 1)
        return -1;
    for (; i < n; i++) {
        int v = b64url_value((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        if (i % 4 == 3) {
            if (out) {
                out[o] = (uint8_t)(acc >> 16);
                out[o + 1] = (uint8_t)(acc >> 8);
                out[o + 2] = (uint8_t)acc;
            }
            o += 3;
            acc = 0;
        }
    }
    if (n % 4 == 2) {
        if (acc & 0xf) /* RFC 4648 §3.5: unused bits must be zero */
            return -1;
        if (out)
            out[o] = (uint8_t)(acc >> 4);
        o += 1;
    } else if (n % 4 == 3) {
        if (acc & 0x3)
            return -1;
        if (out) {
            out[o] = (uint8_t)(acc >> 10);
            out[o + 1] = (uint8_t)(acc >> 2);
        }
        o += 2;
    }
    return (long long)o;
}

bool
b64url_is_valid(const char *s, size_t n)
{
    return n > 0 && b64url_scan(s, n, NULL) >= 0;
}

int
b64url_decode(const char *in, size_t n, uint8_t **out, size_t *outlen)
{
    long long len = b64url_scan(in, n, NULL);
    uint8_t *buf;

    *out = NULL;
    *outlen = 0;
    if (len < 0)
        return CAIRN_ERR_INVAL;
    buf = malloc((size_t)len + 1);
    if (buf == NULL)
        return CAIRN_ERR_NOMEM;
    b64url_scan(in, n, buf);
    buf[len] = '\0';
    *out = buf;
    *outlen = (size_t)len;
    return CAIRN_OK;
}
