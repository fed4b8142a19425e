/* admin.c - the management listener (PROTOCOL.md §7 "Management API"). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "cairn/ca.h"
#include "cairn/faults.h"
#include "cairn/metrics.h"
#include "cairn/crl.h"
#include "cairn/store.h"
#include "cairn/va.h"
#include "http/admin_proto.h"
#include "http/send.h"

#define ADMIN_PEM_TYPE "application/pem-certificate-chain; charset=utf-8"

/* /health and /ready: 503 while draining or when the database does not answer. */
static enum MHD_Result
admin_health(struct app *app, struct MHD_Connection *conn)
{
    if (atomic_load(&app->draining))
        return admin_send(conn, 503, "application/json", "{\"status\":\"draining\"}");
    if (store_ping(app->st) != CAIRN_OK)
        return admin_send(conn, 503, "application/json", "{\"status\":\"database down\"}");
    return admin_send(conn, 200, "application/json", "{\"status\":\"ok\"}");
}

/* Pebble's /cert-status-by-serial/{hex}: hex any case, leading zeros allowed. */
static enum MHD_Result
admin_cert_status(struct app *app, struct MHD_Connection *conn, const char *hex)
{
    char serial[CAIRN_SERIAL_HEX_MAX + 1], when[64], *text = NULL;
    struct st_cert cert = { 0 };
    json_t *o = NULL;
    enum MHD_Result ok;
    size_t n = strlen(hex), i = 0, j = 0;
    time_t t;
    struct tm tm;

    if (n == 0 || strspn(hex, "0123456789abcdefABCDEF") != n)
        return admin_send(conn, 400, NULL, "");
    while (i + 1 < n && hex[i] == '0')
        i++;
    if (n - i > CAIRN_SERIAL_HEX_MAX)
        return admin_send(conn, 404, NULL, "");
    for (; i < n; i++)
        serial[j++] = (char)tolower((unsigned char)hex[i]);
    serial[j] = '\0';
    if (store_cert_get(app->st, serial, NULL, &cert) != CAIRN_OK || cert.der == NULL) {
        store_cert_cleanup(&cert);
        return admin_send(conn, 404, NULL, "");
    }
    text = ca_der_to_pem(cert.der, cert.der_len);
    o = json_pack("{s:s, s:s, s:s}", "Status", cert.status == CERT_REVOKED ? "Revoked" : "Valid",
                  "Serial", cert.serial, "Certificate", text ? text : "");
    if (o != NULL && cert.status == CERT_REVOKED) {
        if (cert.reason >= 0)
            json_object_set_new(o, "Reason", json_integer(cert.reason));
        t = (time_t)cert.revoked_at;
        gmtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
        json_object_set_new(o, "RevokedAt", json_string(when));
    }
    free(text);
    text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    ok = text ? admin_send(conn, 200, "application/json; charset=utf-8", text)
              : admin_send(conn, 500, NULL, "");
    free(text);
    json_decref(o);
    store_cert_cleanup(&cert);
    return ok;
}

typedef enum MHD_Result admin_fn(struct app *app, struct MHD_Connection *conn, const char *arg);

/* Binary-safe answer with optional Link rel="alternate" to <path><i> for i != self. */
static enum MHD_Result
admin_send_links(struct app *app, struct MHD_Connection *conn, const char *ctype,
                 const void *body, size_t len, const char *path, int self)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    char link[600];
    enum MHD_Result ok;

    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    for (int i = 0; path != NULL && host != NULL && strlen(host) < 256 &&
                    i <= ca_alternate_count(app->ca);
         i++) {
        if (i == self)
            continue;
        snprintf(link, sizeof(link), "<https://%s%s%d>;rel=\"alternate\"", host, path, i);
        MHD_add_response_header(resp, "Link", link);
    }
    ok = MHD_queue_response(conn, 200, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* "0".."99" -> the number, else -1. */
static int
admin_index(const char *arg)
{
    size_t n = strlen(arg);

    if (n < 1 || n > 2 || strspn(arg, "0123456789") != n)
        return -1;
    return atoi(arg);
}

static enum MHD_Result
admin_root(struct app *app, struct MHD_Connection *conn, const char *arg)
{
    int n = admin_index(arg);
    const char *pem = n >= 0 ? ca_root_pem_n(app->ca, n) : NULL;

    if (pem == NULL)
        return admin_send(conn, 404, NULL, "");
    return admin_send_links(app, conn, ADMIN_PEM_TYPE, pem, strlen(pem), "/roots/", n);
}

/* Pebble's /root-keys/N and /intermediate-keys/N: test mode only (issuer keys are never
 * served by a CA-mode daemon). */
static enum MHD_Result
admin_key(struct app *app, struct MHD_Connection *conn, const char *arg, bool root)
{
    int n = admin_index(arg);
    char *pem = NULL;
    size_t len = 0;
    enum MHD_Result ok;

    if (app->cfg->ca_mode || n < 0 ||
        (root ? ca_root_key_pem(app->ca, n, &pem, &len)
              : ca_intermediate_key_pem(app->ca, n, &pem, &len)) != CAIRN_OK)
        return admin_send(conn, 404, NULL, "");
    ok = admin_send_links(app, conn, "application/x-pem-file; charset=utf-8", pem, len,
                          root ? "/root-keys/" : "/intermediate-keys/", n);
    OPENSSL_cleanse(pem, len);
    free(pem);
    return ok;
}

static enum MHD_Result
admin_root_key(struct app *app, struct MHD_Connection *conn, const char *arg)
{
    return admin_key(app, conn, arg, true);
}

static enum MHD_Result
admin_intermediate_key(struct app *app, struct MHD_Connection *conn, const char *arg)
{
    return admin_key(app, conn, arg, false);
}

static enum MHD_Result
admin_crl(struct app *app, struct MHD_Connection *conn, const char *arg)
{
    uint8_t *der = NULL;
    size_t len = 0;
    enum MHD_Result ok;

    if (crl_cache_get(app->crl, arg, &der, &len) != CAIRN_OK)
        return admin_send(conn, 404, NULL, "");
    ok = admin_send_links(app, conn, "application/pkix-crl", der, len, NULL, 0);
    free(der);
    return ok;
}

static enum MHD_Result
admin_issuer_der(struct app *app, struct MHD_Connection *conn, const char *arg)
{
    size_t len = 0;
    const uint8_t *der = ca_issuer_der(app->ca, &len);

    if (strcmp(arg, "0") != 0 || der == NULL)
        return admin_send(conn, 404, NULL, "");
    return admin_send_links(app, conn, "application/pkix-cert", der, len, NULL, 0);
}

static enum MHD_Result
admin_roots_pem(struct app *app, struct MHD_Connection *conn, const char *arg)
{
    (void)arg;
    return admin_send(conn, 200, ADMIN_PEM_TYPE, ca_root_pem(app->ca));
}

static enum MHD_Result
admin_intermediate(struct app *app, struct MHD_Connection *conn, const char *arg)
{
    int n = admin_index(arg);
    const char *pem = n >= 0 ? ca_intermediate_pem_n(app->ca, n) : NULL;

    if (pem == NULL)
        return admin_send(conn, 404, NULL, "");
    return admin_send_links(app, conn, ADMIN_PEM_TYPE, pem, strlen(pem), "/intermediates/", n);
}

static enum MHD_Result
admin_health_route(struct app *app, struct MHD_Connection *conn, const char *arg)
{
    (void)arg;
    return admin_health(app, conn);
}

static enum MHD_Result
admin_live(struct app *app, struct MHD_Connection *conn, const char *arg)
{
    (void)app;
    (void)arg;
    return admin_send(conn, 200, "application/json", "{\"status\":\"ok\"}");
}

/* GET /metrics: Prometheus text exposition (metrics.h). */
static enum MHD_Result
admin_metrics(struct app *app, struct MHD_Connection *conn, const char *arg)
{
    struct metrics_gauges g = { 0 };
    enum MHD_Result ok;
    char *text;

    (void)arg;
    g.va_queue_depth = va_queue_depth(app->va);
    g.draining = atomic_load(&app->draining);
    g.inflight_requests = atomic_load(&app->inflight);
    text = metrics_render(&g);
    if (text == NULL)
        return admin_send(conn, 500, NULL, "");
    ok = admin_send(conn, 200, "text/plain; version=0.0.4; charset=utf-8", text);
    free(text);
    return ok;
}

/* The request body of the POST being answered (admin_on_request collects it). One MHD
 * callback runs on one thread, so a thread-local keeps admin_fn's signature unchanged. */
static _Thread_local const char *cur_body;

/* /cairn/faults is a test control: test mode, or CA mode with allowTestControls. */
static bool
test_controls(const struct app *app)
{
    return !app->cfg->ca_mode || app->cfg->allow_test_controls;
}

static enum MHD_Result
admin_send_json(struct MHD_Connection *conn, unsigned status, json_t *o)
{
    char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    enum MHD_Result ok = text ? admin_send(conn, status, "application/json", text)
                              : admin_send(conn, 500, NULL, "");

    free(text);
    json_decref(o);
    return ok;
}

static enum MHD_Result
admin_refuse_controls(struct MHD_Connection *conn)
{
    return admin_send(conn, 403, "application/json",
                      "{\"error\":\"test controls are off in CA mode (allowTestControls)\"}");
}

static enum MHD_Result
admin_faults_get(struct app *app, struct MHD_Connection *conn, const char *arg)
{
    (void)arg;
    if (!test_controls(app))
        return admin_refuse_controls(conn);
    return admin_send_json(conn, 200, faults_list());
}

static enum MHD_Result
admin_faults_clear(struct app *app, struct MHD_Connection *conn, const char *arg)
{
    (void)arg;
    if (!test_controls(app))
        return admin_refuse_controls(conn);
    faults_clear();
    return admin_send_json(conn, 200, faults_list());
}

static enum MHD_Result
admin_faults_add(struct app *app, struct MHD_Connection *conn, const char *arg)
{
    json_t *spec;
    char err[256] = "";
    int id = 0, rc;

    (void)arg;
    if (!test_controls(app))
        return admin_refuse_controls(conn);
    spec = json_loads(cur_body ? cur_body : "", JSON_REJECT_DUPLICATES, NULL);
    rc = spec ? faults_add(spec, &id, err, sizeof(err)) : CAIRN_ERR_INVAL;
    json_decref(spec);
    if (spec == NULL)
        snprintf(err, sizeof(err), "the body must be a JSON object");
    if (rc != CAIRN_OK)
        return admin_send_json(conn, rc == CAIRN_ERR_CONFLICT ? 409 : 400,
                               json_pack("{s:s}", "error", err));
    return admin_send_json(conn, 201, json_pack("{s:i}", "id", id));
}

struct admin_route {
    const char *method; /* "GET" also answers HEAD */
    const char *path;   /* exact, or a prefix ending in '/' followed by one argument */
    bool prefix;
    admin_fn *fn;
};

/* The management API (PROTOCOL.md §7): one row per endpoint. */
static const struct admin_route admin_routes[] = {
    { "GET", "/roots/", true, admin_root },
    { "GET", "/roots.pem", false, admin_roots_pem },
    { "GET", "/intermediates/", true, admin_intermediate },
    { "GET", "/cert-status-by-serial/", true, admin_cert_status },
    { "GET", "/health", false, admin_health_route },
    { "GET", "/ready", false, admin_health_route },
    { "GET", "/live", false, admin_live },
    { "GET", "/metrics", false, admin_metrics },
    { "GET", "/cairn/faults", false, admin_faults_get },
    { "POST", "/cairn/faults", false, admin_faults_add },
    { "DELETE", "/cairn/faults", false, admin_faults_clear },
    { "POST", "/cairn/faults/clear", false, admin_faults_clear },
    { "GET", "/root-keys/", true, admin_root_key },
    { "GET", "/intermediate-keys/", true, admin_intermediate_key },
    { "GET", "/crl/", true, admin_crl },
    { "GET", "/issuer/", true, admin_issuer_der },
};

static enum MHD_Result
admin_route(struct app *app, struct MHD_Connection *conn, const char *url, const char *method,
            const struct admin_body *body)
{
    const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
    bool path_known = false;
    enum MHD_Result ok;

    /* endpoints that read a body, and the /cairn/ controls (admin_proto.c) */
    if (admin_proto_route(app, conn, url, m, body, &path_known, &ok))
        return ok;

    for (size_t i = 0; i < CAIRN_ARRAY_LEN(admin_routes); i++) {
        const struct admin_route *r = &admin_routes[i];
        size_t n = strlen(r->path);
        bool hit = r->prefix ? strncmp(url, r->path, n) == 0 && strchr(url + n, '/') == NULL
                             : strcmp(url, r->path) == 0;
        if (!hit)
            continue;
        path_known = true;
        if (strcmp(r->method, m) == 0) {
            cur_body = body ? body->data : NULL;
            ok = r->fn(app, conn, r->prefix ? url + n : "");
            cur_body = NULL;
            return ok;
        }
    }
    return admin_send(conn, path_known ? 405 : 404, NULL, "");
}

enum MHD_Result
admin_on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                 const char *version, const char *upload_data, size_t *upload_data_size,
                 void **con_cls)
{
    struct admin_body *b = *con_cls;

    (void)version;
    if (b == NULL) {
        /* headers seen; answer once the body (if any) is read. Freed by
         * admin_on_completed(). */
        b = calloc(1, sizeof(*b));
        if (b == NULL)
            return MHD_NO;
        *con_cls = b;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        admin_body_append(b, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (b->too_big)
        return admin_send(conn, 413, NULL, "");
    return admin_route(wfe_app(cls), conn, url, method, b);
}
