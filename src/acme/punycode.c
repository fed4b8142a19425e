/* punycode.c - RFC 3492 decode and re-encode for A-label checks (see punycode.h). Written
 * from the RFC's algorithm description (§6.1-6.3) with its parameters (§5). */
#include "cairn/punycode.h"

#include <stdint.h>
#include <string.h>

#define PC_BASE 36
#define PC_TMIN 1
#define PC_TMAX 26
#define PC_SKEW 38
#define PC_DAMP 700
#define PC_BIAS 72
#define PC_N 128
#define PC_MAXOUT 63
#define PC_MAXINT UINT32_MAX

static uint32_t
adapt(uint32_t delta, uint32_t numpoints, bool first)
{
    uint32_t k = 0;

    delta = first ? delta / PC_DAMP : delta / 2;
    delta += delta / numpoints;
    while (delta > ((PC_BASE - PC_TMIN) * PC_TMAX) / 2) {
        delta /= PC_BASE - PC_TMIN;
        k += PC_BASE;
    }
    return k + (PC_BASE - PC_TMIN + 1) * delta / (delta + PC_SKEW);
}

static uint32_t
threshold(uint32_t k, uint32_t bias)
{
    if (k <= bias)
        return PC_TMIN;
    if (k >= bias + PC_TMAX)
        return PC_TMAX;
    return k - bias;
}

/* a-z = 0-25, 0-9 = 26-35 (lower case only: the name was lower-cased already) */
static int
digit_value(char c)
{
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= '0' && c <= '9')
        return c - '0' + 26;
    return -1;
}

static char
digit_char(uint32_t d)
{
    return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

/* RFC 3492 §6.2. */
static bool
decode(const char *s, size_t len, uint32_t *out, size_t *outlen)
{
    uint32_t n = PC_N, i = 0, bias = PC_BIAS;
    size_t b = 0, pos, count = 0;

    for (size_t j = 0; j < len; j++)
        if (s[j] == '-')
            b = j;
    for (size_t j = 0; j < b; j++) {
        if (count >= PC_MAXOUT)
            return false;
        out[count++] = (uint8_t)s[j];
    }
    for (pos = b > 0 ? b + 1 : 0; pos < len;) {
        uint32_t oldi = i, w = 1;

        for (uint32_t k = PC_BASE;; k += PC_BASE) {
            int d = pos < len ? digit_value(s[pos++]) : -1;
            uint32_t t;

            if (d < 0 || (uint32_t)d > (PC_MAXINT - i) / w)
                return false;
            i += (uint32_t)d * w;
            t = threshold(k, bias);
            if ((uint32_t)d < t)
                break;
            if (w > PC_MAXINT / (PC_BASE - t))
                return false;
            w *= PC_BASE - t;
        }
        bias = adapt(i - oldi, (uint32_t)count + 1, oldi == 0);
        if (i / (count + 1) > PC_MAXINT - n)
            return false;
        n += i / (uint32_t)(count + 1);
        i %= (uint32_t)(count + 1);
        if (count >= PC_MAXOUT || n < 0xa0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff))
            return false;
        memmove(out + i + 1, out + i, (count - i) * sizeof(*out));
        out[i++] = n;
        count++;
    }
    *outlen = count;
    return true;
}

/* RFC 3492 §6.3; false when the output would not fit. */
static bool
encode(const uint32_t *in, size_t inlen, char *out, size_t outsz)
{
    uint32_t n = PC_N, delta = 0, bias = PC_BIAS, h, b = 0;
    size_t o = 0;

    for (size_t j = 0; j < inlen; j++) {
        if (in[j] < 0x80) {
            if (o + 1 >= outsz)
                return false;
            out[o++] = (char)in[j];
            b++;
        }
    }
    h = b;
    if (b > 0) {
        if (o + 1 >= outsz)
            return false;
        out[o++] = '-';
    }
    while (h < inlen) {
        uint32_t m = PC_MAXINT;

        for (size_t j = 0; j < inlen; j++)
            if (in[j] >= n && in[j] < m)
                m = in[j];
        if ((m - n) > (PC_MAXINT - delta) / (h + 1))
            return false;
        delta += (m - n) * (h + 1);
        n = m;
        for (size_t j = 0; j < inlen; j++) {
            if (in[j] < n && ++delta == 0)
                return false;
            if (in[j] != n)
                continue;
            uint32_t q = delta;
            for (uint32_t k = PC_BASE;; k += PC_BASE) {
                uint32_t t = threshold(k, bias);
                if (q < t)
                    break;
                if (o + 1 >= outsz)
                    return false;
                out[o++] = digit_char(t + (q - t) % (PC_BASE - t));
                q = (q - t) / (PC_BASE - t);
            }
            if (o + 1 >= outsz)
                return false;
            out[o++] = digit_char(q);
            bias = adapt(delta, h + 1, h == b);
            delta = 0;
            h++;
        }
        delta++;
        n++;
    }
    out[o] = '\0';
    return true;
}

bool
punycode_alabel_ok(const char *s, size_t len)
{
    uint32_t cps[PC_MAXOUT];
    char back[PC_MAXOUT * 4 + 1];
    size_t n = 0;
    bool wide = false;

    if (len == 0 || len > PC_MAXOUT || !decode(s, len, cps, &n))
        return false;
    for (size_t j = 0; j < n; j++)
        wide = wide || cps[j] >= 0x80;
    return wide && encode(cps, n, back, sizeof(back)) && strlen(back) == len &&
           memcmp(back, s, len) == 0;
}
