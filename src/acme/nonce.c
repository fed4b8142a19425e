#include "cairn/nonce.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cairn/b64url.h"

#define NONCE_VERSION 1
#define NONCE_BODY 17 /* ver + issued_at + counter */
#define NONCE_TAG 16
#define NONCE_RAW (NONCE_BODY + NONCE_TAG)

/* Locked singleton (ARCHITECTURE.md §4): the used set, shared by all request threads. Lock
 * free: a counter and a bitmap of atomic words. */
struct nonce_state {
    uint8_t key[32];
    int64_t max_age;
    uint64_t nbits;               /* window size in counters */
    atomic_uint_fast64_t next;    /* next counter to issue */
    _Atomic uint64_t *bits;       /* nbits / 64 words */
    /* HMAC-SHA256 keyed once; each tag works on a copy. HMAC() fetched the algorithm and
     * hashed the key on every call: 2.0 us against 0.6 us per nonce issued or redeemed
     * (docs/performance.md, round 3). Read-only after nonce_state_new(). */
    EVP_MAC_CTX *mac;
};

_Static_assert(CAIRN_NONCE_STR_LEN == (NONCE_RAW / 3) * 4 + (NONCE_RAW % 3 ? NONCE_RAW % 3 + 1 : 0),
               "nonce string length matches its raw size");

static int
mac_init(struct nonce_state *ns)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    int ok = 0;

    if (mac != NULL)
        ns->mac = EVP_MAC_CTX_new(mac);
    if (ns->mac != NULL)
        ok = EVP_MAC_init(ns->mac, ns->key, sizeof(ns->key), params);
    EVP_MAC_free(mac); /* the context holds its own reference */
    return ok == 1 ? CAIRN_OK : CAIRN_ERR_CRYPTO;
}

int
nonce_state_new(const uint8_t key[32], size_t window_bits, int64_t max_age,
                struct nonce_state **out)
{
    struct nonce_state *ns;
    uint64_t words = (window_bits + 63) / 64;

    if (words == 0)
        words = 1;
    ns = calloc(1, sizeof(*ns));
    if (ns == NULL)
        return CAIRN_ERR_NOMEM;
    ns->bits = calloc(words, sizeof(*ns->bits));
    if (ns->bits == NULL) {
        free(ns);
        return CAIRN_ERR_NOMEM;
    }
    memcpy(ns->key, key, sizeof(ns->key));
    if (mac_init(ns) != CAIRN_OK) {
        nonce_state_free(ns);
        return CAIRN_ERR_CRYPTO;
    }
    ns->max_age = max_age;
    ns->nbits = words * 64;
    /* Counter 0 is never issued, so an all-zero counter cannot pass the window check. */
    atomic_init(&ns->next, 1);
    *out = ns;
    return CAIRN_OK;
}

void
nonce_state_free(struct nonce_state *ns)
{
    if (ns == NULL)
        return;
    OPENSSL_cleanse(ns->key, sizeof(ns->key));
    EVP_MAC_CTX_free(ns->mac);
    free((void *)ns->bits);
    free(ns);
}

static void
put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t
get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static int
nonce_tag(const struct nonce_state *ns, const uint8_t *body, uint8_t tag[NONCE_TAG])
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(ns->mac);
    size_t len = 0;
    int ok = c != NULL && EVP_MAC_update(c, body, NONCE_BODY) == 1 &&
             EVP_MAC_final(c, mac, &len, sizeof(mac)) == 1 && len >= NONCE_TAG;

    EVP_MAC_CTX_free(c);
    if (!ok)
        return CAIRN_ERR_CRYPTO;
    memcpy(tag, mac, NONCE_TAG);
    OPENSSL_cleanse(mac, sizeof(mac));
    return CAIRN_OK;
}

int
nonce_issue(struct nonce_state *ns, int64_t now, char out[CAIRN_NONCE_STR_LEN + 1])
{
    uint8_t raw[NONCE_RAW];
    uint64_t ctr = atomic_fetch_add(&ns->next, 1);
    int rc;

    /* The slot this counter will use held a counter one window ago, now out of the window:
     * clear it so the new nonce starts unused. */
    atomic_fetch_and(&ns->bits[(ctr % ns->nbits) / 64], ~((uint64_t)1 << (ctr % 64)));
    raw[0] = NONCE_VERSION;
    put_be64(raw + 1, (uint64_t)now);
    put_be64(raw + 9, ctr);
    rc = nonce_tag(ns, raw, raw + NONCE_BODY);
    if (rc != CAIRN_OK)
        return rc;
    return b64url_encode(raw, sizeof(raw), out, CAIRN_NONCE_STR_LEN + 1);
}

/* True while ctr is among the last nbits counters issued. */
static bool
in_window(const struct nonce_state *ns, uint64_t ctr)
{
    uint64_t next = atomic_load(&ns->next);
    return ctr != 0 && ctr < next && next - ctr <= ns->nbits;
}

enum nonce_verdict
nonce_redeem(struct nonce_state *ns, const char *nonce, int64_t now)
{
    uint8_t tag[NONCE_TAG], *raw = NULL;
    size_t len = 0, n = strlen(nonce);
    enum nonce_verdict v = NONCE_UNKNOWN;
    uint64_t ctr, mask, old;
    int64_t issued;

    if (n == 0 || n > 128 || b64url_decode(nonce, n, &raw, &len) != CAIRN_OK)
        return NONCE_BAD_SYNTAX;
    if (len != NONCE_RAW || raw[0] != NONCE_VERSION || nonce_tag(ns, raw, tag) != CAIRN_OK ||
        CRYPTO_memcmp(tag, raw + NONCE_BODY, NONCE_TAG) != 0)
        goto out;
    issued = (int64_t)get_be64(raw + 1);
    ctr = get_be64(raw + 9);
    v = NONCE_EXPIRED;
    /* issued is sealed, but compare without subtracting it: no overflow on any value */
    if (issued > now + 5 || issued < now - ns->max_age || !in_window(ns, ctr))
        goto out;
    mask = (uint64_t)1 << (ctr % 64);
    old = atomic_fetch_or(&ns->bits[(ctr % ns->nbits) / 64], mask);
    if (old & mask)
        v = NONCE_USED;
    else if (!in_window(ns, ctr)) /* the window moved past it while we set the bit */
        v = NONCE_EXPIRED;
    else
        v = NONCE_OK;
out:
    free(raw);
    return v;
}
