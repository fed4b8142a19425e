/* nonce.h - stateless, MAC-sealed anti-replay nonces with a bounded used set
 * (ARCHITECTURE.md §6, RFC 8555 §6.5).
 *
 * nonce = base64url( ver(1) | issued_at(8, BE) | counter(8, BE) | tag(16) )
 * tag   = HMAC-SHA256(key, preceding 17 bytes) truncated to 16 bytes.
 * Issuing allocates nothing: the counter is an atomic. The used set is a sliding bitmap with
 * one bit per counter value inside the window, so every redemption inside the window is
 * remembered in bounded memory (window bits / 8 bytes). Thread-safe (atomics only). */
#ifndef CAIRN_NONCE_H
#define CAIRN_NONCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/core.h"

#define CAIRN_NONCE_STR_LEN 44 /* base64url of 33 bytes */

struct nonce_state;

/* key: 32 bytes (a random one per start in test mode); window_bits: counters remembered
 * (rounded up to a multiple of 64, at least 64); max_age seconds. */
int nonce_state_new(const uint8_t key[32], size_t window_bits, int64_t max_age,
                    struct nonce_state **out) CAIRN_MUST_CHECK;
void nonce_state_free(struct nonce_state *ns);

/* Writes a fresh nonce (CAIRN_NONCE_STR_LEN characters + NUL) issued at now. */
int nonce_issue(struct nonce_state *ns, int64_t now, char out[CAIRN_NONCE_STR_LEN + 1])
    CAIRN_MUST_CHECK;

enum nonce_verdict {
    NONCE_OK = 0,   /* valid and now spent */
    NONCE_BAD_SYNTAX, /* not strict base64url: malformed */
    NONCE_UNKNOWN,  /* wrong length, version or MAC: badNonce */
    NONCE_EXPIRED,  /* too old, from the future, or out of the window: badNonce */
    NONCE_USED,     /* already redeemed: badNonce */
};
/* Checks and spends a nonce (checks in order: syntax, MAC, age, window, used). */
enum nonce_verdict nonce_redeem(struct nonce_state *ns, const char *nonce, int64_t now);

#endif
