/* punycode.h - RFC 3492 Punycode, only as far as identifier validation needs it. Pure
 * functions; thread-safe. */
#ifndef CAIRN_PUNYCODE_H
#define CAIRN_PUNYCODE_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) (the part of an A-label after "xn--", lower case) is well-formed
 * Punycode that decodes to at most 63 code points, at least one of them non-ASCII, none a
 * control, surrogate or beyond U+10FFFF, and encodes back to exactly s (one spelling per
 * U-label). This is the Punycode half of IDNA2008's round trip; the code point tables
 * (disallowed characters, NFC, bidi) would need libidn2. */
bool punycode_alabel_ok(const char *s, size_t len);

#endif
