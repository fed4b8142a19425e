/* admin_proto.c - management endpoints of the protocol features (PROTOCOL.md §7, API.md):
 * Pebble's POST /set-renewal-info/ and cairn's /cairn/... inspection and test controls.
 *
 * Who may call what: the controls that weaken or fake the CA (nonce rejection, always-valid,
 * the ARI override, the default-profile switch) exist in test mode only; listing and reset
 * also in CA mode when cairn.allowTestControls is set. Anything refused is a 404 with an
 * empty body, as for Pebble's key export in CA mode. */
#include "http/admin_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cairn/ca.h"
#include "cairn/jsonutil.h"
#include "cairn/log.h"
#include "cairn/problem.h"
#include "cairn/render.h"
#include "cairn/store.h"

#define ADMIN_LIST_MAX 1000

typedef enum MHD_Result admin_body_fn(struct app *app, struct MHD_Connection *conn,
                                      const char *arg, const struct admin_body *body);

static admin_body_fn admin_set_renewal_info, admin_accounts, admin_account, admin_order,
    admin_certs, admin_reset, admin_nonce_reject, admin_va_always_valid, admin_default_profile;
#define JSON_TYPE "application/json; charset=utf-8"

void
admin_body_append(struct admin_body *b, const char *data, size_t n)
{
    char *nb;

    if (b->too_big)
        return;
    if (n > ADMIN_MAX_BODY - b->len) {
        b->too_big = true;
        return;
    }
    nb = realloc(b->data, b->len + n + 1);
    if (nb == NULL) {
        b->too_big = true;
        return;
    }
    memcpy(nb + b->len, data, n);
    b->data = nb;
    b->len += n;
    b->data[b->len] = '\0';
}

void
admin_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                   enum MHD_RequestTerminationCode toe)
{
    struct admin_body *b = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (b == NULL)
        return;
    free(b->data);
    free(b);
    *con_cls = NULL;
}

enum MHD_Result
admin_send(struct MHD_Connection *conn, unsigned status, const char *ctype, const char *body)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ok;

    if (resp == NULL)
        return MHD_NO;
    if (ctype != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    ok = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* Sends o (stolen) as JSON. */
static enum MHD_Result
send_json(struct MHD_Connection *conn, unsigned status, json_t *o)
{
    char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    enum MHD_Result ok = text ? admin_send(conn, status, JSON_TYPE, text)
                              : admin_send(conn, 500, NULL, "");

    free(text);
    json_decref(o);
    return ok;
}

static enum MHD_Result
send_problem(struct MHD_Connection *conn, struct problem *p)
{
    char *text = problem_render_text(p);
    enum MHD_Result ok = text ? admin_send(conn, (unsigned)problem_status(p),
                                          "application/problem+json", text)
                              : admin_send(conn, 500, NULL, "");

    free(text);
    problem_cleanup(p);
    return ok;
}

static enum MHD_Result
send_malformed(struct MHD_Connection *conn, int status, const char *detail)
{
    struct problem p;

    problem_init(&p);
    problem_set_status(&p, PROB_MALFORMED, status, "%s", detail);
    return send_problem(conn, &p);
}

static enum MHD_Result
send_store_error(struct MHD_Connection *conn, int rc)
{
    if (rc == CAIRN_ERR_NOTFOUND)
        return send_malformed(conn, 404, "not found");
    return admin_send(conn, rc == CAIRN_ERR_BUSY ? 503 : 500, NULL, "");
}

static bool
test_mode(const struct app *app)
{
    return !app->cfg->ca_mode;
}

static bool
controls_allowed(const struct app *app)
{
    return !app->cfg->ca_mode || app->cfg->allow_test_controls;
}

static enum MHD_Result
refused(struct MHD_Connection *conn)
{
    return admin_send(conn, 404, NULL, "");
}

/* The body as a JSON object (strict rules as for ACME payloads), or a 400 sent. */
static json_t *
body_object(struct MHD_Connection *conn, const struct admin_body *body, enum MHD_Result *ok)
{
    struct problem p;
    json_t *o = NULL;

    problem_init(&p);
    if (json_load_object(body->data ? body->data : "", body->len, "body", &o, &p) != CAIRN_OK) {
        *ok = send_problem(conn, &p);
        return NULL;
    }
    problem_cleanup(&p);
    return o;
}

static void
set_time(json_t *o, const char *key, int64_t t)
{
    char buf[32];

    render_time(t, buf, sizeof(buf));
    json_object_set_new(o, key, json_string(buf));
}

/* ---- Pebble's ARI override ---- */

/* PEM certificate text to DER (heap); NULL when it is not one certificate. */
static uint8_t *
pem_to_der(const char *pem, size_t *len)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    unsigned char *der = NULL;
    int n = x ? i2d_X509(x, &der) : -1;

    X509_free(x);
    BIO_free(bio);
    if (n <= 0)
        return NULL;
    *len = (size_t)n;
    return der;
}

static enum MHD_Result
admin_set_renewal_info(struct app *app, struct MHD_Connection *conn, const char *arg,
                       const struct admin_body *body)
{
    char serial[CAIRN_SERIAL_HEX_MAX + 1];
    struct st_cert cert = { 0 };
    enum MHD_Result ok = MHD_NO;
    const char *pem, *resp;
    uint8_t *der = NULL;
    size_t len = 0;
    json_t *o;
    int rc;

    (void)arg;
    if (!test_mode(app))
        return refused(conn);
    if ((o = body_object(conn, body, &ok)) == NULL)
        return ok;
    pem = json_string_value(json_object_get(o, "Certificate"));
    resp = json_string_value(json_object_get(o, "ARIResponse"));
    if (pem == NULL || resp == NULL) {
        ok = send_malformed(conn, 400, "body must be {\"Certificate\":\"<PEM>\","
                                       "\"ARIResponse\":\"<string>\"}");
        goto out;
    }
    if ((der = pem_to_der(pem, &len)) == NULL) {
        ok = send_malformed(conn, 400, "Certificate is not a PEM certificate");
        goto out;
    }
    rc = ca_cert_serial_if_ours(app->ca, der, len, serial);
    if (rc == CAIRN_OK)
        rc = store_cert_get(app->st, serial, NULL, &cert);
    if (rc == CAIRN_OK && (cert.der == NULL || cert.der_len != len ||
                           memcmp(cert.der, der, len) != 0))
        rc = CAIRN_ERR_NOTFOUND;
    if (rc == CAIRN_OK)
        rc = store_ari_override_set(app->st, serial, resp, (int64_t)time(NULL));
    if (rc == CAIRN_OK)
        log_info("admin", "renewalInfo of certificate %s overridden", serial);
    ok = rc == CAIRN_OK ? admin_send(conn, 200, NULL, "")
         : rc == CAIRN_ERR_NOTFOUND || rc == CAIRN_ERR_INVAL
             ? send_malformed(conn, 404, "no such certificate was issued here")
             : send_store_error(conn, rc);
out:
    OPENSSL_free(der);
    store_cert_cleanup(&cert);
    json_decref(o);
    return ok;
}

/* ---- listings ---- */

static json_t *
account_json(struct app *app, const char *id)
{
    struct st_account a = { 0 };
    char kid[CAIRN_MAX_EAB_KID_LEN + 1] = "";
    json_t *o = NULL, *contact;

    if (store_account_get(app->st, id, &a) != CAIRN_OK ||
        store_account_eab_kid(app->st, id, kid) != CAIRN_OK)
        goto out;
    o = json_pack("{s:s, s:s, s:b, s:s}", "id", a.id, "status", acct_status_name(a.status),
                  "termsOfServiceAgreed", a.tos_agreed, "keyThumbprint", a.thumbprint);
    if (o == NULL)
        goto out;
    contact = a.contact ? json_loads(a.contact, 0, NULL) : json_array();
    json_object_set_new(o, "contact", contact ? contact : json_array());
    json_object_set_new(o, "key", json_loads(a.jwk, 0, NULL));
    set_time(o, "createdAt", a.created_at);
    if (kid[0])
        json_object_set_new(o, "externalAccountBinding", json_string(kid));
out:
    store_account_cleanup(&a);
    return o;
}

/* A listing: the store's ids (fixed-width strings, at most ADMIN_LIST_MAX) each rendered by
 * render under key; an id that vanished meanwhile is left out. */
struct listing {
    const char *key;
    size_t width;
    int (*ids)(struct store *st, size_t max, void *out, size_t *n);
    json_t *(*render)(struct app *app, const char *id);
};

static enum MHD_Result
admin_list(struct app *app, struct MHD_Connection *conn, const struct listing *l)
{
    char *ids = NULL;
    json_t *arr = NULL;
    size_t n = 0;
    int rc;

    if (!controls_allowed(app))
        return refused(conn);
    ids = calloc(ADMIN_LIST_MAX, l->width);
    arr = json_array();
    rc = ids && arr ? l->ids(app->st, ADMIN_LIST_MAX, ids, &n) : CAIRN_ERR_NOMEM;
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++) {
        json_t *o = l->render(app, ids + i * l->width);
        if (o != NULL)
            json_array_append_new(arr, o);
    }
    free(ids);
    if (rc != CAIRN_OK) {
        json_decref(arr);
        return send_store_error(conn, rc);
    }
    return send_json(conn, 200, json_pack("{s:o}", l->key, arr));
}

static int
account_ids(struct store *st, size_t max, void *out, size_t *n)
{
    return store_account_ids(st, max, out, n);
}

static enum MHD_Result
admin_accounts(struct app *app, struct MHD_Connection *conn, const char *arg,
               const struct admin_body *body)
{
    static const struct listing l = { "accounts", CAIRN_ID_LEN + 1, account_ids, account_json };

    (void)arg;
    (void)body;
    return admin_list(app, conn, &l);
}

static enum MHD_Result
admin_account(struct app *app, struct MHD_Connection *conn, const char *arg,
              const struct admin_body *body)
{
    char (*ids)[CAIRN_ID_LEN + 1] = NULL;
    json_t *o, *orders;
    size_t n = 0;
    int rc;

    (void)body;
    if (!controls_allowed(app))
        return refused(conn);
    if ((o = account_json(app, arg)) == NULL)
        return send_malformed(conn, 404, "no such account");
    ids = calloc(ADMIN_LIST_MAX, sizeof(*ids));
    orders = json_array();
    rc = ids && orders ? store_account_order_ids(app->st, arg, ADMIN_LIST_MAX, ids, &n)
                       : CAIRN_ERR_NOMEM;
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++)
        json_array_append_new(orders, json_string(ids[i]));
    free(ids);
    json_object_set_new(o, "orders", orders);
    if (rc != CAIRN_OK) {
        json_decref(o);
        return send_store_error(conn, rc);
    }
    return send_json(conn, 200, o);
}

/* The order as the ACME API renders it (URLs as paths), plus the owner, the certificate
 * serial and the authorizations in full. */
static json_t *
order_json(struct app *app, const struct st_order *o)
{
    json_t *j = render_order("", o), *authz = json_array();
    int64_t now = (int64_t)time(NULL);

    if (j == NULL || authz == NULL) {
        json_decref(j);
        json_decref(authz);
        return NULL;
    }
    json_object_set_new(j, "id", json_string(o->id));
    json_object_set_new(j, "account", json_string(o->account_id));
    set_time(j, "createdAt", o->created_at);
    if (o->cert_serial[0])
        json_object_set_new(j, "certificateSerial", json_string(o->cert_serial));
    for (size_t i = 0; i < o->nauthz; i++) {
        struct st_authz a = { 0 };
        json_t *aj;

        if (store_authz_get(app->st, o->authz_ids[i], NULL, now, &a) != CAIRN_OK)
            continue;
        aj = render_authz("", &a);
        if (aj != NULL) {
            json_object_set_new(aj, "id", json_string(a.id));
            json_array_append_new(authz, aj);
        }
        store_authz_cleanup(&a);
    }
    json_object_set_new(j, "authorizationObjects", authz);
    return j;
}

static enum MHD_Result
admin_order(struct app *app, struct MHD_Connection *conn, const char *arg,
            const struct admin_body *body)
{
    struct st_order o = { 0 };
    enum MHD_Result ok;
    int rc;

    (void)body;
    if (!controls_allowed(app))
        return refused(conn);
    rc = store_order_get(app->st, arg, NULL, (int64_t)time(NULL), &o);
    ok = rc == CAIRN_OK ? send_json(conn, 200, order_json(app, &o)) : send_store_error(conn, rc);
    store_order_cleanup(&o);
    return ok;
}

static json_t *
cert_json(struct app *app, const char *serial)
{
    struct st_cert c = { 0 };
    json_t *o = NULL;

    if (store_cert_get(app->st, serial, NULL, &c) != CAIRN_OK)
        goto out;
    o = json_pack("{s:s, s:s, s:s, s:s}", "serial", c.serial, "account", c.account_id, "order",
                  c.order_id, "status", c.status == CERT_REVOKED ? "revoked" : "valid");
    if (o == NULL)
        goto out;
    set_time(o, "issuedAt", c.created_at);
    set_time(o, "notAfter", c.not_after);
    if (c.status == CERT_REVOKED) {
        set_time(o, "revokedAt", c.revoked_at);
        if (c.reason >= 0)
            json_object_set_new(o, "reason", json_integer(c.reason));
    }
out:
    store_cert_cleanup(&c);
    return o;
}

static int
cert_serials(struct store *st, size_t max, void *out, size_t *n)
{
    return store_cert_serials(st, max, out, n);
}

static enum MHD_Result
admin_certs(struct app *app, struct MHD_Connection *conn, const char *arg,
            const struct admin_body *body)
{
    static const struct listing l = { "certificates", CAIRN_SERIAL_HEX_MAX + 1, cert_serials,
                                      cert_json };

    (void)arg;
    (void)body;
    return admin_list(app, conn, &l);
}

/* ---- controls ---- */

static enum MHD_Result
admin_reset(struct app *app, struct MHD_Connection *conn, const char *arg,
            const struct admin_body *body)
{
    int rc;

    (void)arg;
    (void)body;
    if (!controls_allowed(app))
        return refused(conn);
    rc = store_reset(app->st);
    if (rc != CAIRN_OK)
        return send_store_error(conn, rc);
    log_warn("admin", "ACME state reset: accounts, orders, authorizations and certificates "
                      "deleted; the CA is kept");
    return send_json(conn, 200, json_pack("{s:s}", "status", "ok"));
}

static enum MHD_Result
admin_nonce_reject(struct app *app, struct MHD_Connection *conn, const char *arg,
                   const struct admin_body *body)
{
    enum MHD_Result ok = MHD_NO;
    const json_t *v;
    json_t *o;

    (void)arg;
    if (!test_mode(app))
        return refused(conn);
    if ((o = body_object(conn, body, &ok)) == NULL)
        return ok;
    v = json_object_get(o, "percent");
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 100) {
        ok = send_malformed(conn, 400, "body must be {\"percent\": 0..100}");
    } else {
        atomic_store(&app->nonce_reject_percent, (int)json_integer_value(v));
        log_info("admin", "nonce rejection set to %d%%", (int)json_integer_value(v));
        ok = send_json(conn, 200, json_pack("{s:I}", "percent", json_integer_value(v)));
    }
    json_decref(o);
    return ok;
}

static enum MHD_Result
admin_va_always_valid(struct app *app, struct MHD_Connection *conn, const char *arg,
                      const struct admin_body *body)
{
    enum MHD_Result ok = MHD_NO;
    const json_t *v;
    json_t *o;

    (void)arg;
    if (!test_mode(app))
        return refused(conn);
    if ((o = body_object(conn, body, &ok)) == NULL)
        return ok;
    v = json_object_get(o, "enabled");
    if (!json_is_boolean(v)) {
        ok = send_malformed(conn, 400, "body must be {\"enabled\": true|false}");
    } else {
        atomic_store(&app->va_always_valid, json_is_true(v));
        log_info("admin", "VA always-valid %s", json_is_true(v) ? "on" : "off");
        ok = send_json(conn, 200, json_pack("{s:b}", "enabled", json_is_true(v)));
    }
    json_decref(o);
    return ok;
}

static enum MHD_Result
admin_default_profile(struct app *app, struct MHD_Connection *conn, const char *arg,
                      const struct admin_body *body)
{
    enum MHD_Result ok = MHD_NO;
    const char *name;
    const struct config_profile *pr;
    json_t *o;

    (void)arg;
    if (!test_mode(app))
        return refused(conn);
    if ((o = body_object(conn, body, &ok)) == NULL)
        return ok;
    name = json_string_value(json_object_get(o, "profile"));
    pr = config_profile_find(app->cfg, name);
    if (pr == NULL) {
        ok = send_malformed(conn, 400, "body must be {\"profile\": <a configured profile>}");
    } else {
        atomic_store(&app->default_profile, (int)(pr - app->cfg->profiles));
        log_info("admin", "default profile set to %s", pr->name);
        ok = send_json(conn, 200, json_pack("{s:s}", "profile", pr->name));
    }
    json_decref(o);
    return ok;
}

struct admin_proto_route {
    const char *method;
    const char *path; /* exact, or a prefix ending in '/' followed by one argument */
    bool prefix;
    admin_body_fn *fn;
};

static const struct admin_proto_route proto_routes[] = {
    { "POST", "/set-renewal-info/", false, admin_set_renewal_info },
    { "GET", "/cairn/accounts", false, admin_accounts },
    { "GET", "/cairn/accounts/", true, admin_account },
    { "GET", "/cairn/orders/", true, admin_order },
    { "GET", "/cairn/certs", false, admin_certs },
    { "POST", "/cairn/reset", false, admin_reset },
    { "POST", "/cairn/nonce-reject", false, admin_nonce_reject },
    { "POST", "/cairn/va-always-valid", false, admin_va_always_valid },
    { "POST", "/cairn/default-profile", false, admin_default_profile },
};

bool
admin_proto_route(struct app *app, struct MHD_Connection *conn, const char *url,
                  const char *method, const struct admin_body *body, bool *path_known,
                  enum MHD_Result *ok)
{
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(proto_routes); i++) {
        const struct admin_proto_route *r = &proto_routes[i];
        size_t n = strlen(r->path);
        bool hit = r->prefix ? strncmp(url, r->path, n) == 0 && strchr(url + n, '/') == NULL
                             : strcmp(url, r->path) == 0;

        if (!hit)
            continue;
        *path_known = true;
        if (strcmp(r->method, method) == 0) {
            *ok = r->fn(app, conn, r->prefix ? url + n : "", body);
            return true;
        }
    }
    return false;
}
