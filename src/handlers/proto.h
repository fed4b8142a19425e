/* proto.h - helpers of the protocol-feature handlers (profiles, EAB, ARI, newAuthz). */
#ifndef CAIRN_HANDLERS_PROTO_H
#define CAIRN_HANDLERS_PROTO_H

#include "cairn/ari.h"
#include "cairn/config.h"
#include "handlers/common.h"

/* The profile newOrder uses when none is asked for (POST /cairn/default-profile may change
 * it at run time). Never NULL after config_load(). */
const struct config_profile *proto_default_profile(struct app *app);
/* The profile an order was created with; the default one when the configuration no longer
 * has it (a restart with other profiles). */
const struct config_profile *proto_order_profile(struct app *app, const char *name);

/* Checks an externalAccountBinding for a new account signed by c->key (PROTOCOL.md §1 EAB).
 * kid receives the bound key id, or "" when no EAB keys exist at all (the binding is then
 * ignored). */
int proto_eab_check(struct acme_ctx *c, const json_t *binding,
                    char kid[CAIRN_MAX_EAB_KID_LEN + 1], struct problem *p);

/* Looks a certID up: our certificate (store row with DER) whose AKI matches. Unparsable:
 * malformed 400; unknown: *cert zeroed and CAIRN_ERR_NOTFOUND (callers choose the status). */
int proto_certid_lookup(struct acme_ctx *c, const char *certid, struct ari_certid *id,
                        struct st_cert *cert, int64_t *not_before, int64_t *not_after,
                        struct problem *p);

/* ep_new_order.c's challenge set for a new authorization (PROTOCOL.md §5). */
int ep_make_challenges(const struct acme_ctx *c, struct st_authz *az);

#endif
