/* ident_conf.h - the identifier policy newOrder and newAuthz apply (PROTOCOL.md §5). */
#ifndef CAIRN_HANDLERS_IDENT_CONF_H
#define CAIRN_HANDLERS_IDENT_CONF_H

#include "cairn/config.h"
#include "cairn/ident.h"

/* The policy from the configuration: CA-mode rules, the public-suffix rule (CA mode only),
 * domainBlocklist and domainAllowlist (borrowed from cfg, which outlives the request). */
struct ident_policy ep_ident_policy(const struct config *cfg);

#endif
