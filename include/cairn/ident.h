/* ident.h - ACME identifiers (RFC 8555 §7.1.4, RFC 8738) and their policy (PROTOCOL.md §5).
 * Pure functions; thread-safe. */
#ifndef CAIRN_IDENT_H
#define CAIRN_IDENT_H

#include <stdbool.h>
#include <stddef.h>

#include "cairn/core.h"
#include "cairn/limits.h"
#include "cairn/problem.h"

enum ident_type { IDENT_DNS = 0, IDENT_IP, IDENT__MAX };

/* A normalised identifier. For an order, value keeps a leading "*." of a wildcard; for an
 * authorization the "*." is stripped and wildcard is set. ident_check() and
 * ident_list_check() return the order form with wildcard also set for "*." names. */
struct ident {
    enum ident_type type;
    bool wildcard;
    char value[CAIRN_MAX_IDENT_VALUE + 1];
};

struct ident_policy {
    bool ca_mode; /* refuse special-purpose IP ranges and RFC 2606 example names */
    /* PROTOCOL.md §5 name lists and the public-suffix rule; all zero = off. The lists are
     * rows of list_width chars holding lower-case names without a trailing dot (the
     * config's domainBlocklist / domainAllowlist); they are borrowed, not copied. */
    bool public_suffix_rule; /* a DNS name must end in, and not equal, an ICANN suffix */
    const char *blocklist;   /* refuses the name, names below it and wildcards over it */
    size_t nblocklist;
    const char *allowlist;   /* non-empty: only names equal to or below one; such names */
    size_t nallowlist;       /* are exempt from the public-suffix rule */
    size_t list_width;
};

/* "dns" / "ip". */
const char *ident_type_name(enum ident_type t);
/* CAIRN_OK and *out, or CAIRN_ERR_INVAL for an unknown type string (exact case). */
int ident_type_parse(const char *s, enum ident_type *out) CAIRN_MUST_CHECK;

/* Checks and normalises one identifier (type string and value as the client sent them).
 * DNS: lower-cased ASCII, ≤ 253 octets, 2–10 labels of 1–63 [a-z0-9-], no leading/trailing
 * '-', no trailing dot, no IP literal, "xx--" only as a valid "xn--" A-label; a wildcard is
 * "*." as the whole leftmost label once, never over an ICANN public suffix (both modes);
 * then the policy's blocklist, allowlist and public-suffix rule, in that order. IP: canonical IPv4 dotted quad without leading zeros
 * or RFC 5952 IPv6 (lowercase, compressed, no zone/prefix); CA mode refuses special ranges.
 * Fails with unsupportedIdentifier (type) or rejectedIdentifier (value); the detail names the
 * rule. */
int ident_check(const char *type, const char *value, const struct ident_policy *pol,
                struct ident *out, struct problem *p) CAIRN_MUST_CHECK;

/* Checks a whole list (an order): every element with ident_check(), collecting one
 * subproblem per bad identifier (top-level type: shared or compound); then removes
 * duplicates (after normalisation) keeping first occurrences, and refuses a name covered by a
 * wildcard in the same list (malformed). out must hold n entries; *nout gets the count. */
int ident_list_check(const char *const *types, const char *const *values, size_t n,
                     const struct ident_policy *pol, struct ident *out, size_t *nout,
                     struct problem *p) CAIRN_MUST_CHECK;

/* True when the DNS name (lower case, no "*.") is an ICANN public suffix ("com",
 * "co.uk"); false when the public suffix list cannot be loaded. */
bool ident_is_public_suffix(const char *name);

/* The reverse-DNS name for an IP identifier (in-addr.arpa / ip6.arpa), RFC 8738 §6. */
int ident_reverse_name(const struct ident *id, char *out, size_t outsz) CAIRN_MUST_CHECK;

#endif
