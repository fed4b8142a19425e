/* ident_policy.h - internal: PROTOCOL.md §5 name lists and public-suffix rule (ident.c). */
#ifndef CAIRN_ACME_IDENT_POLICY_H
#define CAIRN_ACME_IDENT_POLICY_H

#include <stdbool.h>

#include "cairn/ident.h"

/* Applies the wildcard-over-suffix refusal, the blocklist, the allowlist and (when
 * pol->public_suffix_rule) the public-suffix rule to a syntactically valid DNS name: base is
 * the name without "*.", shown the name as the client wrote it (for the detail). */
int ident_policy_dns(const struct ident_policy *pol, const char *shown, const char *base,
                     bool wild, struct problem *p) CAIRN_MUST_CHECK;

#endif
