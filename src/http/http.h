/* http.h - internal interface of the HTTP front end (src/http/). Only this directory includes
 * <microhttpd.h>. */
#ifndef CAIRN_HTTP_INTERNAL_H
#define CAIRN_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "cairn/app.h"
#include "cairn/problem.h"
#include "handlers/handlers.h"

enum http_method { M_GET = 1 << 0, M_HEAD = 1 << 1, M_POST = 1 << 2, M_OPTIONS = 1 << 3 };

enum route_auth {
    AUTH_NONE,     /* plain GET/HEAD only (POST answered 405) */
    AUTH_OPTIONAL, /* GET/HEAD, or POST-as-GET signed by kid (directory, newNonce) */
    AUTH_JWK,      /* POST signed with an embedded jwk (newAccount) */
    AUTH_KID,      /* POST signed by an account kid */
    AUTH_ANY,      /* POST by jwk or kid (revokeCert) */
};

enum route_payload {
    PAYLOAD_OBJECT,     /* a JSON object is required */
    PAYLOAD_EMPTY,      /* POST-as-GET only */
    PAYLOAD_EITHER,     /* either (account, authz, challenge) */
};

struct route {
    const char *prefix;     /* exact path, or prefix before a parameter */
    bool has_param;         /* prefix is followed by one id segment */
    const char *suffix;     /* after the parameter ("" or "/finalize") */
    unsigned methods;       /* enum http_method bits (OPTIONS is always allowed) */
    enum route_auth auth;
    enum route_payload payload;
    bool index_link;        /* send Link rel="index" */
    ep_fn *fn;
};

/* A route suffix meaning "/<index>" (one or two digits) after the parameter; the handler's
 * argument is then "<param>/<index>". */
#define ROUTE_INDEX_SUFFIX "/#"

/* Finds the route for path; *arg receives a malloc'd copy of the parameter (caller frees).
 * NULL when nothing matches. */
const struct route *routes_match(const char *path, char **arg);
/* "GET, HEAD, POST" style Allow header for a route. */
void routes_allow(const struct route *rt, char *out, size_t outsz);

/* Runs JWS checks 1-17 for a POST and fills c (PROTOCOL.md §2). content_type and
 * replay_nonce_hdr are the request headers (NULL when absent). Returns CAIRN_OK or an error
 * with *p filled (CAIRN_ERR_PROTO). On return the caller must call post_cleanup(c). */
struct post_state {
    struct jws jws;
    EVP_PKEY *key;
    json_t *payload;
};
int post_verify(struct acme_ctx *c, const struct route *rt, const char *content_type,
                bool has_replay_nonce_hdr, const char *body, size_t body_len,
                struct post_state *ps, struct problem *p);
void post_cleanup(struct acme_ctx *c, struct post_state *ps);

#endif
