/* crlsrv.c - the optional plain-HTTP listener for relying parties (cairn.crlListenAddress):
 * GET /crl/{issuer} (application/pkix-crl) and /issuer/{issuer} (application/pkix-cert), the
 * URLs put in leaves. Nothing else is served here; no TLS, as CRLs and issuer certificates
 * are signed objects fetched over http by clients that cannot bootstrap TLS to their CA. */
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "cairn/ca.h"
#include "cairn/crl.h"
#include "cairn/log.h"
#include "cairn/wfe.h"

struct wfe_crl {
    struct MHD_Daemon *d;
    struct app *app;
};

static enum MHD_Result
crl_send(struct MHD_Connection *conn, unsigned status, const char *ctype, const void *body,
         size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ok;

    if (resp == NULL)
        return MHD_NO;
    if (ctype != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (status == 405)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    ok = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result
crl_route(struct app *app, struct MHD_Connection *conn, const char *url)
{
    uint8_t *der = NULL;
    const uint8_t *cder;
    size_t len = 0;
    enum MHD_Result ok;

    if (strncmp(url, "/crl/", 5) == 0) {
        if (crl_cache_get(app->crl, url + 5, &der, &len) != CAIRN_OK)
            return crl_send(conn, 404, NULL, "", 0);
        ok = crl_send(conn, 200, "application/pkix-crl", der, len);
        free(der);
        return ok;
    }
    if (strcmp(url, "/issuer/0") == 0) {
        cder = ca_issuer_der(app->ca, &len);
        return crl_send(conn, 200, "application/pkix-cert", cder, len);
    }
    return crl_send(conn, 404, NULL, "", 0);
}

static enum MHD_Result
crl_on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
               const char *version, const char *upload_data, size_t *upload_data_size,
               void **con_cls)
{
    struct wfe_crl *w = cls;

    (void)version;
    (void)upload_data;
    if (*con_cls == NULL) {
        *con_cls = (void *)1;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    *con_cls = NULL;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return crl_send(conn, 405, NULL, "", 0);
    return crl_route(w->app, conn, url);
}

int
wfe_crl_start(struct app *app, int fd, struct wfe_crl **out)
{
    struct wfe_crl *w = calloc(1, sizeof(*w));

    *out = NULL;
    if (w == NULL)
        return CAIRN_ERR_NOMEM;
    w->app = app;
    w->d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC, 0, NULL, NULL,
                            crl_on_request, w, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
                            MHD_OPTION_END);
    if (w->d == NULL) {
        log_err("http", "cannot start the CRL listener");
        free(w);
        return CAIRN_ERR_IO;
    }
    *out = w;
    return CAIRN_OK;
}

void
wfe_crl_stop(struct wfe_crl *w)
{
    if (w == NULL)
        return;
    MHD_stop_daemon(w->d);
    free(w);
}
