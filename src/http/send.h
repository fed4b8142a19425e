/* send.h - the only place that turns results into HTTP responses (inside src/http/). */
#ifndef CAIRN_HTTP_SEND_H
#define CAIRN_HTTP_SEND_H

#include <stdbool.h>

#include <microhttpd.h>

#include "cairn/app.h"
#include "cairn/problem.h"
#include "handlers/handlers.h"

/* Queues the response for a handler result on conn (PROTOCOL.md §0 headers on every answer):
 * CAIRN_OK renders rep; CAIRN_ERR_PROTO renders p as application/problem+json;
 * CAIRN_ERR_BUSY gives 503 serverInternal + Retry-After; anything else 500 serverInternal
 * with only the request reference as detail. allow (may be NULL) becomes an Allow header.
 * rep may be NULL for errors. Returns CAIRN_OK when queued. */
int send_result(struct app *app, struct MHD_Connection *conn, const char *req_id, int rc,
                struct reply *rep, struct problem *p, const char *allow, bool head);

/* Management listener (admin.c). */
enum MHD_Result admin_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls);
/* Frees what admin_on_request kept for a request that never got its answer. */
void admin_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                        enum MHD_RequestTerminationCode toe);
/* The struct app behind a daemon's callback argument (wfe.c). */
struct app *wfe_app(void *cls);

#endif
