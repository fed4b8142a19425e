/* app.h - the daemon's shared context: configuration and the long-lived modules. Created by
 * main() before the listeners start and destroyed after they stop; read-only in between
 * except for the atomics, which the management API may flip at run time. */
#ifndef CAIRN_APP_H
#define CAIRN_APP_H

#include <stdatomic.h>
#include <stdbool.h>

#include "cairn/config.h"

struct store;
struct ca;
struct va;
struct nonce_state;
struct crl_cache;

struct app {
    const struct config *cfg;
    struct store *st;
    struct ca *ca;
    struct va *va;
    struct nonce_state *nonces;
    atomic_int nonce_reject_percent; /* PEBBLE_WFE_NONCEREJECT, runtime-adjustable */
    atomic_bool draining;            /* SIGTERM received: new requests get 503 */
    atomic_bool va_always_valid;     /* PEBBLE_VA_ALWAYS_VALID, runtime-adjustable; the VA
                                      * reads it through va_config.always_valid_rt */
    atomic_int default_profile;      /* index into cfg->profiles; POST /cairn/default-profile */
    atomic_long inflight;            /* ACME requests between first byte and completion */
    struct crl_cache *crl;           /* the issuer's CRL (cairn/crl.h) */
    const char *crl_url;             /* CRL distribution point put in leaves, or NULL */
    const char *ca_issuers_url;      /* AIA caIssuers put in leaves, or NULL */
};

#endif
