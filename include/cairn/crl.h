/* crl.h - the CRL of each issuer, kept signed in memory (issue 5). One issuing key, so one
 * CRL, issuer id "0", served at the stable path /crl/0. It is regenerated at start, after
 * every revocation and on a schedule (crl_cache_tick), with a new CRL number from the store
 * each time. Thread-safe: readers copy the current DER under a mutex. */
#ifndef CAIRN_CRL_H
#define CAIRN_CRL_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/core.h"

struct store;
struct ca;
struct crl_cache;

#define CRL_REFRESH_SECONDS 3600     /* scheduled regeneration */
#define CRL_VALIDITY_SECONDS 86400   /* nextUpdate = thisUpdate + this */

/* Makes the first CRL at once (an error here stops start-up). */
int crl_cache_new(struct store *st, struct ca *ca, int64_t now, struct crl_cache **out)
    CAIRN_MUST_CHECK;
void crl_cache_free(struct crl_cache *c);
/* Regenerates now (after a revocation). On failure the previous CRL stays served. */
int crl_cache_refresh(struct crl_cache *c, int64_t now) CAIRN_MUST_CHECK;
/* Regenerates when CRL_REFRESH_SECONDS have passed since the last one; logs failures. */
void crl_cache_tick(struct crl_cache *c, int64_t now);
/* A heap copy of the DER CRL of issuer id ("0"); CAIRN_ERR_NOTFOUND for another id. */
int crl_cache_get(struct crl_cache *c, const char *issuer_id, uint8_t **der, size_t *len)
    CAIRN_MUST_CHECK;

#endif
