/* ari.c - RFC 9773 certificate identifiers and renewal windows. */
#include "cairn/ari.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cairn/b64url.h"

/* base64url(a) "." base64url(b) into out. */
static int
certid_encode(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, char *out,
              size_t outsz)
{
    size_t n = b64url_encoded_len(alen);

    if (n + 1 + b64url_encoded_len(blen) + 1 > outsz)
        return CAIRN_ERR_INVAL;
    if (b64url_encode(a, alen, out, outsz) != CAIRN_OK)
        return CAIRN_ERR_INVAL;
    out[n] = '.';
    return b64url_encode(b, blen, out + n + 1, outsz - n - 1);
}

/* Serial content bytes (a DER INTEGER's, positive and minimal) to lowercase hex without
 * leading zeros. */
static int
serial_to_hex(const uint8_t *b, size_t n, char out[CAIRN_SERIAL_HEX_MAX + 1])
{
    char hex[2 * CAIRN_ARI_SERIAL_MAX + 1];
    size_t i = 0, h = 0;

    if (n == 0 || n > CAIRN_ARI_SERIAL_MAX || (b[0] & 0x80) != 0)
        return CAIRN_ERR_INVAL; /* empty, too long or negative */
    if (n > 1 && b[0] == 0 && (b[1] & 0x80) == 0)
        return CAIRN_ERR_INVAL; /* not minimal: DER forbids the padding byte */
    if (n == CAIRN_ARI_SERIAL_MAX && b[0] != 0)
        return CAIRN_ERR_INVAL; /* more than 20 significant bytes */
    for (i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", b[i]);
    while (hex[h] == '0' && hex[h + 1] != '\0')
        h++;
    if (strlen(hex + h) > CAIRN_SERIAL_HEX_MAX)
        return CAIRN_ERR_INVAL;
    memcpy(out, hex + h, strlen(hex + h) + 1);
    return CAIRN_OK;
}

int
ari_certid_parse(const char *s, struct ari_certid *out)
{
    const char *dot;
    uint8_t *aki = NULL, *serial = NULL;
    size_t aki_len = 0, serial_len = 0, n;
    int rc = CAIRN_ERR_INVAL;

    memset(out, 0, sizeof(*out));
    if (s == NULL || (n = strlen(s)) == 0 || n > CAIRN_MAX_CERTID_LEN)
        return CAIRN_ERR_INVAL;
    dot = strchr(s, '.');
    if (dot == NULL || dot == s || dot[1] == '\0' || strchr(dot + 1, '.') != NULL)
        return CAIRN_ERR_INVAL;
    if (b64url_decode(s, (size_t)(dot - s), &aki, &aki_len) != CAIRN_OK ||
        b64url_decode(dot + 1, strlen(dot + 1), &serial, &serial_len) != CAIRN_OK)
        goto out;
    if (aki_len == 0 || aki_len > CAIRN_ARI_AKI_MAX)
        goto out;
    if (serial_to_hex(serial, serial_len, out->serial_hex) != CAIRN_OK)
        goto out;
    memcpy(out->aki, aki, aki_len);
    out->aki_len = aki_len;
    rc = certid_encode(aki, aki_len, serial, serial_len, out->canonical,
                       sizeof(out->canonical));
out:
    free(aki);
    free(serial);
    if (rc != CAIRN_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

static int
asn1_time_unix(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;

    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return CAIRN_ERR_INVAL;
    *out = (int64_t)timegm(&tm);
    return CAIRN_OK;
}

/* The serial's DER content bytes: the magnitude, with a zero byte when its top bit is set. */
static int
serial_content(const X509 *x, uint8_t *buf, size_t cap, size_t *len)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    int n;
    int rc = CAIRN_ERR_INVAL;

    if (bn == NULL || BN_is_negative(bn))
        goto out;
    n = BN_num_bytes(bn);
    if (n <= 0) {
        buf[0] = 0;
        *len = 1;
        rc = CAIRN_OK;
        goto out;
    }
    if ((size_t)n + 1 > cap)
        goto out;
    buf[0] = 0;
    BN_bn2bin(bn, buf + 1);
    if (buf[1] & 0x80) {
        *len = (size_t)n + 1;
    } else {
        memmove(buf, buf + 1, (size_t)n);
        *len = (size_t)n;
    }
    rc = CAIRN_OK;
out:
    BN_free(bn);
    return rc;
}

int
ari_cert_info(const uint8_t *der, size_t der_len, struct ari_certid *id, int64_t *not_before,
              int64_t *not_after)
{
    const unsigned char *pp = der;
    const ASN1_OCTET_STRING *aki;
    uint8_t serial[CAIRN_ARI_SERIAL_MAX + 1];
    size_t serial_len = 0;
    X509 *x;
    int rc = CAIRN_ERR_INVAL;

    memset(id, 0, sizeof(*id));
    if (der == NULL || der_len == 0 || der_len > LONG_MAX)
        return CAIRN_ERR_INVAL;
    x = d2i_X509(NULL, &pp, (long)der_len);
    if (x == NULL)
        return CAIRN_ERR_INVAL;
    if (pp != der + der_len)
        goto out;
    aki = X509_get0_authority_key_id(x);
    if (aki == NULL || ASN1_STRING_length(aki) <= 0 ||
        ASN1_STRING_length(aki) > CAIRN_ARI_AKI_MAX)
        goto out;
    if (serial_content(x, serial, sizeof(serial), &serial_len) != CAIRN_OK ||
        serial_to_hex(serial, serial_len, id->serial_hex) != CAIRN_OK)
        goto out;
    id->aki_len = (size_t)ASN1_STRING_length(aki);
    memcpy(id->aki, ASN1_STRING_get0_data(aki), id->aki_len);
    if (certid_encode(id->aki, id->aki_len, serial, serial_len, id->canonical,
                      sizeof(id->canonical)) != CAIRN_OK)
        goto out;
    if (asn1_time_unix(X509_get0_notBefore(x), not_before) != CAIRN_OK ||
        asn1_time_unix(X509_get0_notAfter(x), not_after) != CAIRN_OK)
        goto out;
    rc = CAIRN_OK;
out:
    X509_free(x);
    if (rc != CAIRN_OK)
        memset(id, 0, sizeof(*id));
    return rc;
}

void
ari_window(int64_t not_before, int64_t not_after, int64_t revoked_at, int64_t *start,
           int64_t *end)
{
    int64_t life = not_after > not_before ? not_after - not_before : 0;

    if (revoked_at > 0) {
        *start = revoked_at - 3600;
        *end = revoked_at;
        return;
    }
    *start = not_after - life / 3;
    *end = not_after - life / 6;
}
