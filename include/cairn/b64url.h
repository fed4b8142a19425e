/* b64url.h - strict base64url (RFC 4648 §5) without padding, as RFC 8555 §6.1 requires.
 * Thread-safe; no global state. */
#ifndef CAIRN_B64URL_H
#define CAIRN_B64URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/core.h"

/* Characters needed for n bytes, excluding the NUL. */
size_t b64url_encoded_len(size_t n);
/* Encodes into out (outsz must hold b64url_encoded_len(n) + 1). Returns CAIRN_OK or
 * CAIRN_ERR_INVAL when out is too small. */
int b64url_encode(const uint8_t *in, size_t n, char *out, size_t outsz) CAIRN_MUST_CHECK;
/* Heap copy (caller frees with free()); NULL on allocation failure. */
char *b64url_encode_alloc(const uint8_t *in, size_t n);
/* Strict decode: alphabet A-Z a-z 0-9 - _ only; no padding, whitespace, '+' or '/'; a
 * length of 1 mod 4 or non-zero unused trailing bits is refused. On success *out is a heap
 * buffer of *outlen bytes plus a NUL terminator (caller frees). Returns CAIRN_OK,
 * CAIRN_ERR_INVAL (not strict base64url) or CAIRN_ERR_NOMEM. */
int b64url_decode(const char *in, size_t n, uint8_t **out, size_t *outlen) CAIRN_MUST_CHECK;
/* True when s[0..n) is non-empty strict base64url (same rules as b64url_decode). */
bool b64url_is_valid(const char *s, size_t n);

#endif
