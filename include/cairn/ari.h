/* ari.h - ACME Renewal Information (RFC 9773): certificate identifiers and suggested
 * windows (PROTOCOL.md §1 renewalInfo). Pure functions; thread-safe. */
#ifndef CAIRN_ARI_H
#define CAIRN_ARI_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/core.h"
#include "cairn/limits.h"

#define CAIRN_ARI_AKI_MAX 64     /* keyIdentifier bytes accepted */
#define CAIRN_ARI_SERIAL_MAX 21  /* serial content bytes: 20 + a leading zero */
#define CAIRN_ARI_RETRY_AFTER 21600

/* A parsed certID: base64url(AKI keyIdentifier) "." base64url(serial DER content bytes). */
struct ari_certid {
    uint8_t aki[CAIRN_ARI_AKI_MAX];
    size_t aki_len;
    char serial_hex[CAIRN_SERIAL_HEX_MAX + 1]; /* lowercase, no leading zeros */
    char canonical[CAIRN_MAX_CERTID_LEN + 1];  /* re-encoded from the parsed parts */
};

/* Parses s. CAIRN_ERR_INVAL when it is not exactly two non-empty strict base64url parts
 * joined by one ".", the AKI is longer than CAIRN_ARI_AKI_MAX, or the serial is not a
 * minimal (DER) positive integer of at most 20 significant bytes. */
int ari_certid_parse(const char *s, struct ari_certid *out) CAIRN_MUST_CHECK;

/* The certID of a DER certificate (which must carry an AKI keyIdentifier), plus its
 * validity. CAIRN_ERR_INVAL when der does not parse or has no AKI. */
int ari_cert_info(const uint8_t *der, size_t der_len, struct ari_certid *id,
                  int64_t *not_before, int64_t *not_after) CAIRN_MUST_CHECK;

/* The suggested window: [notAfter - L/3, notAfter - L/6] for the lifetime
 * L = notAfter - notBefore; for a revoked certificate (revoked_at > 0) the hour before the
 * revocation, i.e. renew now. */
void ari_window(int64_t not_before, int64_t not_after, int64_t revoked_at, int64_t *start,
                int64_t *end);

#endif
