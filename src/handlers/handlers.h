/* handlers.h - the contract between the HTTP front end and the endpoint handlers.
 *
 * Handlers get a struct acme_ctx whose request has passed every central rule of its route
 * (methods, JWS checks 1-17, nonce, url); they never see MHD or SQL. A handler returns
 * CAIRN_OK with *r filled, CAIRN_ERR_PROTO with *p filled, CAIRN_ERR_BUSY (503) or another
 * error (500 with only a reference as detail). */
#ifndef CAIRN_HANDLERS_H
#define CAIRN_HANDLERS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cairn/app.h"
#include "cairn/jws.h"
#include "cairn/problem.h"
#include "cairn/store.h"

#define CAIRN_URL_MAX 1024
#define CAIRN_REPLY_LINKS 12 /* index + alternates (up to 8) + paging */

struct acme_ctx {
    struct app *app;
    int64_t now;
    const char *base;      /* "https://host:port", no trailing slash */
    const char *method;    /* "GET", "HEAD", "POST", ... */
    const char *path;      /* request path as received */
    const char *arg;       /* path parameter ({id}, {serial}) or NULL */
    const char *req_id;    /* for logs */
    const char *cursor;    /* ?cursor= of the orders list, or NULL */
    /* Filled by the POST pipeline (is_post true): */
    bool is_post;
    bool post_as_get;      /* payload was "" */
    json_t *payload;       /* the payload object, or NULL for POST-as-GET (borrowed) */
    struct jws *jws;       /* the verified JWS (borrowed) */
    EVP_PKEY *key;         /* the key that verified it (borrowed) */
    char thumbprint[CAIRN_THUMBPRINT_LEN + 1]; /* of key */
    bool has_acct;         /* signed by kid: acct is the (valid) account */
    struct st_account acct;
};

struct reply {
    int status;
    json_t *json;          /* owned; sent as application/json */
    char *body;            /* owned raw body (when json is NULL) */
    size_t body_len;
    const char *content_type; /* for body */
    char location[CAIRN_URL_MAX];
    char links[CAIRN_REPLY_LINKS][CAIRN_URL_MAX + 32]; /* full Link header values */
    int nlinks;
    int retry_after;       /* seconds; 0 = no header */
    bool no_index_link;    /* the directory does not link to itself */
    const char *cache_control; /* static text replacing "no-store" (renewalInfo), or NULL */
};

typedef int ep_fn(struct acme_ctx *c, struct reply *r, struct problem *p);

/* Adds `<url>;rel="<rel>"` to r. */
void reply_add_link(struct reply *r, const char *url, const char *rel);
void reply_cleanup(struct reply *r);

ep_fn ep_directory;
ep_fn ep_new_nonce;
ep_fn ep_new_account;
ep_fn ep_account;
ep_fn ep_orders_list;
ep_fn ep_key_change;
ep_fn ep_new_order;
ep_fn ep_order;
ep_fn ep_finalize;
ep_fn ep_authz;
ep_fn ep_challenge;
ep_fn ep_cert;
ep_fn ep_revoke;
ep_fn ep_new_authz;
ep_fn ep_renewal_info;
ep_fn ep_cert_alt;    /* /acme/cert/{serial}/{n}: the chain to alternate root n */
ep_fn ep_crl;         /* GET /crl/{issuer}: DER CRL */
ep_fn ep_issuer_cert; /* GET /issuer/{issuer}: DER issuing certificate (AIA caIssuers) */

#endif
