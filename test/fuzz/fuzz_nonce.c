/* fuzz_nonce.c - nonce_redeem() on attacker strings, and on sealed nonces with arbitrary
 * contents (the fuzzer cannot forge the MAC, so mode 1 seals what it chose with the known
 * test key: that reaches the age, window and used-set logic with any issued_at and
 * counter). The state persists between inputs with a small window, so wrap-around and reuse
 * are exercised too. First byte: mode (bit 0) and how many nonces to issue first (bits 1-4). */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cairn/b64url.h"
#include "cairn/nonce.h"
#include "fuzz.h"

#define NOW 1700000000
#define BODY 17
#define TAG 16

static struct nonce_state *ns;
static const uint8_t test_key[32]; /* all zero, as test/fuzz/make_corpus.py assumes */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (nonce_state_new(test_key, 256, 300, &ns) != CAIRN_OK)
        abort();
    return 0;
}

static void
redeem_sealed(const uint8_t *data, size_t size)
{
    uint8_t raw[BODY + TAG], mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    char text[CAIRN_NONCE_STR_LEN + 1];

    if (size < BODY)
        return;
    memcpy(raw, data, BODY);
    if (HMAC(EVP_sha256(), test_key, sizeof(test_key), raw, BODY, mac, &len) == NULL)
        abort();
    memcpy(raw + BODY, mac, TAG);
    if (b64url_encode(raw, sizeof(raw), text, sizeof(text)) != CAIRN_OK)
        abort();
    if (nonce_redeem(ns, text, NOW) == NONCE_OK && nonce_redeem(ns, text, NOW) != NONCE_USED)
        abort(); /* a nonce accepted twice */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char fresh[CAIRN_NONCE_STR_LEN + 1];
    unsigned issue;

    if (size == 0)
        return 0;
    issue = (data[0] >> 1) & 0x0f;
    for (unsigned i = 0; i < issue; i++)
        if (nonce_issue(ns, NOW, fresh) != CAIRN_OK)
            abort();
    if (issue > 0 && (nonce_redeem(ns, fresh, NOW) != NONCE_OK ||
                      nonce_redeem(ns, fresh, NOW) != NONCE_USED))
        abort(); /* a fresh nonce must redeem exactly once */
    if (data[0] & 1) {
        redeem_sealed(data + 1, size - 1);
    } else {
        char *s = fuzz_strndup(data + 1, size - 1);
        (void)nonce_redeem(ns, s, NOW);
        free(s);
    }
    return 0;
}
