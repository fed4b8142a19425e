/* ident_conf.c - builds the identifier policy from the configuration (PROTOCOL.md §5). */
#include "handlers/ident_conf.h"

struct ident_policy
ep_ident_policy(const struct config *cfg)
{
    struct ident_policy pol = {
        .ca_mode = cfg->ca_mode,
        .public_suffix_rule = cfg->ca_mode, /* test mode: any name (a Pebble fixture) */
        .blocklist = &cfg->domain_blocklist[0][0],
        .nblocklist = (size_t)cfg->n_domain_blocklist,
        .allowlist = &cfg->domain_allowlist[0][0],
        .nallowlist = (size_t)cfg->n_domain_allowlist,
        .list_width = CAIRN_CONF_DOMAIN,
    };

    return pol;
}
