/* common.h - small helpers shared by the endpoint handlers. */
#ifndef CAIRN_HANDLERS_COMMON_H
#define CAIRN_HANDLERS_COMMON_H

#include "handlers/handlers.h"

/* The one 404 body for unknown paths and other accounts' objects (D14). */
int ep_not_found(struct problem *p);
/* Maps a store error: NOTFOUND -> the 404 above, others passed through. */
int ep_store_rc(int rc, struct problem *p);
/* Sets r->json (stealing obj) and status; CAIRN_ERR_NOMEM when obj is NULL. */
int ep_reply_json(struct reply *r, int status, json_t *obj);
/* Payload member type checks: absent is fine; present with another type: malformed naming
 * the member. */
int ep_opt_bool(const json_t *payload, const char *name, bool *out, struct problem *p);
int ep_opt_string(const json_t *payload, const char *name, const char **out, struct problem *p);

/* PROTOCOL.md §2: a key revoked for keyCompromise is refused with problem type fail. */
int ep_check_key_not_blocked(struct acme_ctx *c, const EVP_PKEY *key, enum prob_type fail,
                             struct problem *p);

#endif
