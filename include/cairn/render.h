/* render.h - ACME resource URLs, JSON rendering of stored objects, and RFC 3339 times.
 * Pure functions; thread-safe. Rendered objects are new jansson references. */
#ifndef CAIRN_RENDER_H
#define CAIRN_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cairn/core.h"
#include "cairn/store.h"

/* Resource path prefixes (PROTOCOL.md §1). */
#define CAIRN_PATH_ACCT "/acme/acct/"
#define CAIRN_PATH_ORDER "/acme/order/"
#define CAIRN_PATH_AUTHZ "/acme/authz/"
#define CAIRN_PATH_CHALL "/acme/chall/"
#define CAIRN_PATH_CERT "/acme/cert/"

/* base + prefix + id + suffix (suffix may be NULL) into out; CAIRN_ERR_INVAL if truncated. */
int render_url(char *out, size_t outsz, const char *base, const char *prefix, const char *id,
               const char *suffix) CAIRN_MUST_CHECK;

/* "2026-11-23T19:19:56Z" into out (at least 32 bytes). */
void render_time(int64_t t, char *out, size_t outsz);
/* Parses an RFC 3339 date-time (Z or ±hh:mm offset, optional fraction). CAIRN_ERR_INVAL. */
int render_time_parse(const char *s, int64_t *out) CAIRN_MUST_CHECK;

json_t *render_account(const char *base, const struct st_account *a);
json_t *render_order(const char *base, const struct st_order *o);
json_t *render_challenge(const char *base, const struct st_challenge *c);
json_t *render_authz(const char *base, const struct st_authz *a);

#endif
