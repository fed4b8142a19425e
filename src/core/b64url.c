#include "cairn/b64url.h"

#include <stdlib.h>

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 1 + the value of each base64url character, 0 for every other byte: the decoder's inner
 * loop runs over every JWS member of every request, so one load instead of five ranges. */
static const uint8_t b64url_values[256] = {
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
    ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15,
    ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22,
    ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29,
    ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
    ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42, ['q'] = 43,
    ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49, ['x'] = 50,
    ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57,
    ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['-'] = 63, ['_'] = 64,
};

/* Value of a base64url character, or -1. */
static int
b64url_value(unsigned char c)
{
    return (int)b64url_values[c] - 1;
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
    /* One pass: the decoded length follows from n (n % 4 == 1 is never valid). */
    size_t max = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
    long long len;
    uint8_t *buf;

    *out = NULL;
    *outlen = 0;
    if (n % 4 == 1)
        return CAIRN_ERR_INVAL;
    buf = malloc(max + 1);
    if (buf == NULL)
        return CAIRN_ERR_NOMEM;
    len = b64url_scan(in, n, buf);
    if (len < 0 || (size_t)len != max) {
        free(buf);
        return CAIRN_ERR_INVAL;
    }
    buf[len] = '\0';
    *out = buf;
    *outlen = (size_t)len;
    return CAIRN_OK;
}
