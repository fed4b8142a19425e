/* admin_proto.h - management endpoints of the protocol features (PROTOCOL.md §7): Pebble's
 * POST /set-renewal-info/ and cairn's /cairn/... test controls (API.md). */
#ifndef CAIRN_HTTP_ADMIN_PROTO_H
#define CAIRN_HTTP_ADMIN_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include <microhttpd.h>

#include "cairn/app.h"
#include "http/send.h"

#define ADMIN_MAX_BODY (64 * 1024)

/* A management request's body, read up to ADMIN_MAX_BODY (then too_big: 413). */
struct admin_body {
    char *data;  /* NUL-terminated, or NULL when empty */
    size_t len;
    bool too_big;
};

void admin_body_append(struct admin_body *b, const char *data, size_t n);

/* Queues body (copied) with status, an optional Content-Type and Cache-Control: no-store:
 * every management answer goes out through it. */
enum MHD_Result admin_send(struct MHD_Connection *conn, unsigned status, const char *ctype,
                           const char *body);

/* Routes a management request (method: HEAD already mapped to GET) to the endpoints of this
 * file. Returns true when the path is one of them with this method, the answer queued and its
 * result in *ok; sets *path_known when the path is one of them (for a 405 otherwise). */
bool admin_proto_route(struct app *app, struct MHD_Connection *conn, const char *url,
                       const char *method, const struct admin_body *body, bool *path_known,
                       enum MHD_Result *ok);

#endif
