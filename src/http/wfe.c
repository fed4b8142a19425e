/* wfe.c - the web front end: libmicrohttpd daemons, request framing and body limits, routing,
 * and the central response rules (PROTOCOL.md §0). Handlers never see MHD. */
#include "cairn/wfe.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "cairn/faults.h"
#include "cairn/limits.h"
#include "cairn/log.h"
#include "cairn/metrics.h"
#include "cairn/nonce.h"
#include "cairn/rand.h"
#include "http/http.h"
#include "http/send.h"

/* One MHD daemon and its requests in flight: a certificate reload starts a new daemon on the
 * same socket and retires the old one once it has nothing in flight (ARCHITECTURE.md §9). */
struct listener {
    struct MHD_Daemon *d;
    struct wfe *w;
    atomic_long inflight;
    atomic_long conns;      /* open connections, idle keep-alive ones included */
    bool mgmt;
};

struct wfe {
    struct listener *acme;
    struct listener *mgmt;
    struct app *app;
    char *cert_pem; /* the pair in use, to fall back on when a reload cannot start */
    char *key_pem;
};

/* Per-request state, allocated on MHD's first callback and freed on completion. */
struct req {
    char *body;
    size_t len;
    size_t cap;
    bool too_big;
    bool framing_error;
    char id[12];
    /* for the access line and the metrics, written once the answer is queued */
    struct listener *l;
    double start;
    char method[8];
    char path[256];
    char route[64];         /* route pattern, "" when unmatched */
    int status;
    const char *problem;    /* short problem type, NULL for success */
    char acct[CAIRN_ID_LEN + 1];
    char order[CAIRN_ID_LEN + 1];
    int fault;              /* id of the fault injected, 0 = none */
    int64_t start_ms;       /* monotonic: when the headers were complete (body deadline) */
};

static atomic_uint_fast64_t req_counter;

static int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
split_host_port(const char *addr, char *host, size_t hostsz, char *port, size_t portsz)
{
    const char *colon;

    if (addr[0] == '[') {
        const char *end = strchr(addr, ']');
        if (end == NULL || end[1] != ':')
            return -1;
        snprintf(host, hostsz, "%.*s", (int)(end - addr - 1), addr + 1);
        snprintf(port, portsz, "%s", end + 2);
        return 0;
    }
    colon = strrchr(addr, ':');
    if (colon == NULL)
        return -1;
    snprintf(host, hostsz, "%.*s", (int)(colon - addr), addr);
    snprintf(port, portsz, "%s", colon + 1);
    return 0;
}

int
wfe_listen(const char *addr, char *err, size_t errsz)
{
    struct addrinfo hints = { 0 }, *ai = NULL;
    char host[256], port[16];
    int fd = -1, one = 1, rc;

    if (split_host_port(addr, host, sizeof(host), port, sizeof(port)) != 0) {
        snprintf(err, errsz, "listen address \"%s\" is not host:port", addr);
        return -1;
    }
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errsz, "cannot resolve listen address %s: %s", addr, gai_strerror(rc));
        return -1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        snprintf(err, errsz, "cannot listen on %s (port %s): %s", addr, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static unsigned
method_bit(const char *m)
{
    if (strcmp(m, "GET") == 0)
        return M_GET;
    if (strcmp(m, "HEAD") == 0)
        return M_HEAD;
    if (strcmp(m, "POST") == 0)
        return M_POST;
    if (strcmp(m, "OPTIONS") == 0)
        return M_OPTIONS;
    return 0;
}

/* Base URL: externalURL, else https:// + Host (test mode, as Pebble). */
static int
base_url(struct app *app, struct MHD_Connection *conn, char *out, size_t outsz,
         struct problem *p)
{
    const char *host;

    if (app->cfg->external_url[0]) {
        snprintf(out, outsz, "%s", app->cfg->external_url);
        return CAIRN_OK;
    }
    host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (host == NULL || *host == '\0' || strlen(host) > 255 ||
        strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
            strlen(host))
        return problem_set(p, PROB_MALFORMED, "Host header must be host[:port]");
    snprintf(out, outsz, "https://%s", host);
    return CAIRN_OK;
}

static enum MHD_Result
count_content_length(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    int *n = cls;
    (void)kind;
    (void)value;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        (*n)++;
    return MHD_YES;
}

/* Stage 1: framing rules before any body is read (PROTOCOL.md §6, H03). */
static int
check_framing(const struct config *cfg, struct MHD_Connection *conn, struct problem *p)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    int ncl = 0;
    char *end;
    unsigned long long v;

    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_content_length, &ncl);
    if (ncl > 1)
        return problem_set(p, PROB_MALFORMED, "more than one Content-Length");
    if (cl == NULL)
        return CAIRN_OK;
    errno = 0;
    v = strtoull(cl, &end, 10);
    if (cl[0] < '0' || cl[0] > '9' || *end != '\0')
        return problem_set(p, PROB_MALFORMED, "Content-Length is not a decimal number");
    if (errno == ERANGE || v > (unsigned long long)cfg->max_body)
        return problem_set_status(p, PROB_MALFORMED, 413, "request body exceeds %d bytes",
                                  cfg->max_body);
    return CAIRN_OK;
}

/* PROTOCOL.md §6 (H01): request target 8 KiB (414); header fields 8 KiB each, 16 KiB in all,
 * 100 of them (431); limits.maxRequestTarget and limits.maxHeader* lower them. libmicrohttpd's
 * 64 KiB connection pool bounds memory before this runs; these are the protocol's tighter
 * limits. */
struct head_size {
    size_t fields, total, largest;
};

static enum MHD_Result
measure_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct head_size *h = cls;
    size_t n = strlen(key) + (value != NULL ? strlen(value) : 0);

    (void)kind;
    h->fields++;
    h->total += n;
    if (n > h->largest)
        h->largest = n;
    return MHD_YES;
}

static int
check_head(const struct config *cfg, struct MHD_Connection *conn, const char *url,
           struct problem *p)
{
    struct head_size h = { 0 };

    if (strlen(url) > (size_t)cfg->max_request_target)
        return problem_set_status(p, PROB_MALFORMED, 414, "request target over %d bytes",
                                  cfg->max_request_target);
    MHD_get_connection_values(conn, MHD_HEADER_KIND, measure_header, &h);
    if (h.fields > (size_t)cfg->max_header_fields || h.largest > (size_t)cfg->max_header_field ||
        h.total > (size_t)cfg->max_header_total)
        return problem_set_status(p, PROB_MALFORMED, 431,
                                  "header fields over the limits (%d fields, %d bytes each, "
                                  "%d in all)", cfg->max_header_fields, cfg->max_header_field,
                                  cfg->max_header_total);
    return CAIRN_OK;
}

static void
body_append(struct req *r, const char *data, size_t n, size_t max)
{
    size_t need;

    if (r->too_big)
        return;
    if (size_add(r->len, n, &need) != 0 || need > max) {
        r->too_big = true;
        return;
    }
    if (need + 1 > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        char *nb;
        while (cap < need + 1)
            cap *= 2;
        nb = realloc(r->body, cap);
        if (nb == NULL) {
            r->too_big = true;
            return;
        }
        r->body = nb;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len = need;
    r->body[r->len] = '\0';
}

/* Directory-style endpoint names, as /cairn/faults and the logs use them. */
static const struct {
    ep_fn *fn;
    const char *name;
} endpoint_names[] = {
    { ep_directory, "directory" },    { ep_new_nonce, "newNonce" },
    { ep_new_account, "newAccount" }, { ep_account, "account" },
    { ep_orders_list, "orders" },     { ep_key_change, "keyChange" },
    { ep_new_order, "newOrder" },     { ep_order, "order" },
    { ep_finalize, "finalize" },      { ep_authz, "authz" },
    { ep_challenge, "challenge" },    { ep_cert, "certificate" },
    { ep_revoke, "revokeCert" },
};

static const char *
endpoint_name(const struct route *rt)
{
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(endpoint_names); i++)
        if (endpoint_names[i].fn == rt->fn)
            return endpoint_names[i].name;
    return "other";
}

/* The last path segment of a Location URL (the new account's or order's id). */
static void
id_from_location(const char *loc, char *out, size_t outsz)
{
    const char *slash = strrchr(loc, '/');

    if (slash != NULL && strlen(slash + 1) < outsz)
        snprintf(out, outsz, "%s", slash + 1);
}

/* Remembers who and what a request touched, for its access line. */
static void
note_request(struct req *r, const struct route *rt, const struct acme_ctx *c,
             const struct reply *rep)
{
    const char *ep = endpoint_name(rt);

    snprintf(r->route, sizeof(r->route), "%s%s%s", rt->prefix, rt->has_param ? "{id}" : "",
             rt->suffix);
    if (strcmp(ep, "newAccount") == 0 && rep->location[0])
        id_from_location(rep->location, r->acct, sizeof(r->acct));
    if (strcmp(ep, "newOrder") == 0 && rep->location[0])
        id_from_location(rep->location, r->order, sizeof(r->order));
    if ((strcmp(ep, "order") == 0 || strcmp(ep, "finalize") == 0) && c->arg != NULL)
        snprintf(r->order, sizeof(r->order), "%s", c->arg);
}

/* Runtime fault injection (test controls): delays, then maybe answers with an error. */
static int
inject_fault(struct req *r, const struct route *rt, struct problem *p)
{
    struct fault_hit hit;

    if (!faults_match(endpoint_name(rt), &hit))
        return CAIRN_OK;
    r->fault = hit.id;
    return faults_apply(&hit, p);
}

static void
problem_not_found(struct problem *p)
{
    problem_set_status(p, PROB_MALFORMED, 404, "resource not found");
}

/* PROTOCOL.md §0: User-Agent is optional except under -strict. */
static bool
has_user_agent(struct MHD_Connection *conn)
{
    const char *ua = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_USER_AGENT);

    return ua != NULL && *ua != '\0';
}

/* Runs the route's handler (after the POST pipeline for POSTs). */
static int
dispatch(struct acme_ctx *c, const struct route *rt, struct MHD_Connection *conn,
         struct req *r, struct reply *rep, struct problem *p)
{
    struct post_state ps;
    const char *ct;
    bool nonce_hdr;
    int rc;

    if (!c->is_post)
        return rt->fn(c, rep, p);
    ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    nonce_hdr = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Replay-Nonce") != NULL;
    /* One read snapshot for the account lookup and the handler's reads (docs/store.md). */
    store_snapshot_begin(c->app->st);
    rc = post_verify(c, rt, ct, nonce_hdr, r->body ? r->body : "", r->len, &ps, p);
    if (rc == CAIRN_OK)
        rc = rt->fn(c, rep, p);
    store_snapshot_end(c->app->st);
    if (c->has_acct)
        snprintf(r->acct, sizeof(r->acct), "%s", c->acct.id);
    post_cleanup(c, &ps);
    return rc;
}

static enum MHD_Result
handle_acme(struct wfe *w, struct MHD_Connection *conn, const char *url, const char *method,
            struct req *r)
{
    struct acme_ctx c = { 0 };
    struct reply rep = { 0 };
    struct problem p;
    const struct route *rt = NULL;
    char base[CAIRN_URL_MAX], allow[64] = "", *arg = NULL;
    unsigned m = method_bit(method);
    int rc, hrc;

    problem_init(&p);
    c.app = w->app;
    c.now = (int64_t)time(NULL);
    c.base = base;
    c.path = url;
    c.method = method;
    c.req_id = r->id;
    if (atomic_load(&w->app->draining)) {
        rc = problem_set_status(&p, PROB_SERVER_INTERNAL, 503, "server is shutting down");
    } else if (r->too_big) {
        rc = problem_set_status(&p, PROB_MALFORMED, 413, "request body exceeds %d bytes",
                                w->app->cfg->max_body);
    } else if ((rc = base_url(w->app, conn, base, sizeof(base), &p)) != CAIRN_OK) {
        /* problem set */
    } else if ((rt = routes_match(url, &arg)) == NULL) {
        problem_not_found(&p);
        rc = CAIRN_ERR_PROTO;
    } else if (m == M_OPTIONS) {
        rep.status = 200;
        rc = CAIRN_OK;
    } else if ((rt->methods & m) == 0) {
        routes_allow(rt, allow, sizeof(allow));
        rc = problem_set_status(&p, PROB_MALFORMED, 405, "method %s not allowed here; use %s",
                                m ? method : "(unknown)", allow);
    } else if (w->app->cfg->strict && !has_user_agent(conn)) {
        rc = problem_set(&p, PROB_MALFORMED, "-strict: a User-Agent header is required");
    } else if ((rc = inject_fault(r, rt, &p)) != CAIRN_OK) {
        /* problem set by the fault */
    } else {
        c.arg = arg;
        c.cursor = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "cursor");
        c.is_post = (m == M_POST);
        rc = dispatch(&c, rt, conn, r, &rep, &p);
    }
    if (rt != NULL && !rt->index_link)
        rep.no_index_link = true;
    if (rt != NULL)
        note_request(r, rt, &c, &rep);
    hrc = rc;
    rc = send_result(w->app, conn, r->id, rc, &rep, &p, allow[0] ? allow : NULL,
                     m == M_HEAD);
    /* send_result() turned any error into p (500/503 included) */
    r->status = hrc == CAIRN_OK ? (rep.status ? rep.status : 200) : problem_status(&p);
    r->problem = hrc == CAIRN_OK ? NULL : problem_name(p.type);
    free(arg);
    reply_cleanup(&rep);
    problem_cleanup(&p);
    return rc == CAIRN_OK ? MHD_YES : MHD_NO;
}

static struct req *
req_new(struct listener *l, const char *url, const char *method)
{
    struct req *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    snprintf(r->id, sizeof(r->id), "%llx",
             (unsigned long long)atomic_fetch_add(&req_counter, 1));
    r->l = l;
    r->start = metrics_now();
    snprintf(r->method, sizeof(r->method), "%s", method_bit(method) ? method : "other");
    snprintf(r->path, sizeof(r->path), "%s", url);
    atomic_fetch_add(&l->inflight, 1);
    atomic_fetch_add(&l->w->app->inflight, 1);
    return r;
}

/* PROTOCOL.md §6: the body must be complete within bodyTimeout of the headers; the idle
 * timeout alone lets a client that trickles a byte now and then hold a slot forever.
 * libmicrohttpd 0.9.75 cannot queue a response while a body is still arriving, so a body
 * still incomplete at the deadline closes the connection, and one that completes after it
 * is answered 408. */
static bool
body_late(const struct wfe *w, const struct req *r)
{
    return mono_ms() - r->start_ms > (int64_t)w->app->cfg->body_timeout * 1000;
}

/* True when this chunk ends a body of declared length (then the 408 can still be sent). */
static bool
body_completes(struct MHD_Connection *conn, const struct req *r, size_t chunk)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    size_t have;

    /* check_framing() accepted it: a decimal number within max_body */
    return cl != NULL && size_add(r->len, chunk, &have) == 0 &&
           have >= (size_t)strtoull(cl, NULL, 10);
}

static enum MHD_Result
send_body_late(struct wfe *w, struct MHD_Connection *conn, struct req *r)
{
    struct problem p;

    problem_init(&p);
    problem_set_status(&p, PROB_MALFORMED, 408, "request body not complete within %d s",
                       w->app->cfg->body_timeout);
    r->framing_error = true;
    log_info("http", "req=%s body after the %d s deadline: 408", r->id,
             w->app->cfg->body_timeout);
    return send_result(w->app, conn, r->id, CAIRN_ERR_PROTO, NULL, &p, NULL, false) == CAIRN_OK
               ? MHD_YES
               : MHD_NO;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size,
           void **con_cls)
{
    struct listener *l = cls;
    struct wfe *w = l->w;
    struct req *r = *con_cls;
    struct problem p;

    (void)version;
    if (r == NULL) {
        r = req_new(l, url, method);
        if (r == NULL)
            return MHD_NO;
        *con_cls = r;
        r->start_ms = mono_ms();
        problem_init(&p);
        if (check_head(w->app->cfg, conn, url, &p) != CAIRN_OK ||
            check_framing(w->app->cfg, conn, &p) != CAIRN_OK) {
            r->framing_error = true;
            r->status = problem_status(&p);
            r->problem = problem_name(p.type);
            return send_result(w->app, conn, r->id, CAIRN_ERR_PROTO, NULL, &p, NULL, false) ==
                           CAIRN_OK
                       ? MHD_YES
                       : MHD_NO;
        }
        return MHD_YES;
    }
    if (r->framing_error)
        return MHD_NO;
    if (*upload_data_size > 0) {
        if (body_late(w, r) && !body_completes(conn, r, *upload_data_size)) {
            log_info("http", "req=%s body incomplete after %d s: closing", r->id,
                     w->app->cfg->body_timeout);
            return MHD_NO;
        }
        body_append(r, upload_data, *upload_data_size, (size_t)w->app->cfg->max_body);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->len > 0 && body_late(w, r))
        return send_body_late(w, conn, r);
    return handle_acme(w, conn, url, method, r);
}

/* The access line: one per request, whatever its outcome (status 0: no answer was sent). */
static void
log_access(const struct req *r, double secs, enum MHD_RequestTerminationCode toe)
{
    struct log_kv kv[] = {
        LOG_S("req", r->id),
        LOG_S("method", r->method),
        LOG_S("path", r->path),
        LOG_N("status", r->status),
        LOG_S("problem", r->problem),
        LOG_S("acct", r->acct[0] ? r->acct : NULL),
        LOG_S("order", r->order[0] ? r->order : NULL),
        LOG_N("dur_ms", (long long)(secs * 1000.0)),
        r->fault ? LOG_N("fault", r->fault) : LOG_S("fault", NULL),
        toe != MHD_REQUEST_TERMINATED_COMPLETED_OK ? LOG_S("aborted", "true")
                                                   : LOG_S("aborted", NULL),
    };

    log_event(LOG_LVL_INFO, "http", "request", kv, CAIRN_ARRAY_LEN(kv));
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct req *r = *con_cls;
    double secs;

    (void)cls;
    (void)conn;
    if (r == NULL)
        return;
    secs = metrics_now() - r->start;
    metrics_http_request(r->route[0] ? r->route : "unmatched", r->method, r->status, secs);
    log_access(r, secs, toe);
    atomic_fetch_sub(&r->l->w->app->inflight, 1);
    atomic_fetch_sub(&r->l->inflight, 1);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
              enum MHD_ConnectionNotificationCode toe)
{
    struct listener *l = cls;
    int delta = toe == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1;

    (void)conn;
    (void)socket_context;
    atomic_fetch_add(&l->conns, delta);
    metrics_conn(delta);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) CAIRN_PRINTF(2, 0);

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    char buf[512];
    (void)cls;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    buf[strcspn(buf, "\n")] = '\0';
    log_debug("http", "%s", buf);
}

/* PROTOCOL.md §1: paths match literally, so "%6eew-order" is not "new-order". */
static size_t
no_unescape(void *cls, struct MHD_Connection *conn, char *uri)
{
    (void)cls;
    (void)conn;
    return strlen(uri);
}

static struct MHD_Daemon *
start_daemon(struct listener *w, int fd, MHD_AccessHandlerCallback cb,
             MHD_RequestCompletedCallback done, unsigned threads, const char *cert_pem,
             const char *key_pem)
{
    /* ITC wakes the polling threads at once on stop instead of at their next timeout */
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_TLS;
    const struct config *cfg = w->w->app->cfg;
    unsigned idle = (unsigned)cfg->idle_timeout;

    return MHD_start_daemon(
        flags, 0, NULL, NULL, cb, w, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        /* MHD warns about a pool of one: then repeat a harmless option instead */
        threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_CONNECTION_TIMEOUT,
        threads > 1 ? threads : idle, MHD_OPTION_CONNECTION_TIMEOUT, idle,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->max_per_ip,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_NOTIFY_COMPLETED, done, w,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, w,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL, MHD_OPTION_HTTPS_MEM_CERT, cert_pem,
        MHD_OPTION_HTTPS_MEM_KEY, key_pem, MHD_OPTION_HTTPS_PRIORITIES,
        "NORMAL:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1", MHD_OPTION_END);
}

static unsigned
acme_threads(const struct app *app)
{
    return (unsigned)(app->cfg->http_threads > 0 ? app->cfg->http_threads : 2);
}

/* Starts one daemon on fd; NULL on failure (fd left open). */
static struct listener *
listener_start(struct wfe *w, int fd, bool mgmt, const char *cert_pem, const char *key_pem)
{
    struct listener *l = calloc(1, sizeof(*l));

    if (l == NULL)
        return NULL;
    l->w = w;
    l->mgmt = mgmt;
    l->d = mgmt ? start_daemon(l, fd, admin_on_request, admin_on_completed, 1, cert_pem, key_pem)
                : start_daemon(l, fd, on_request, on_completed, acme_threads(w->app), cert_pem,
                               key_pem);
    if (l->d == NULL) {
        free(l);
        return NULL;
    }
    return l;
}

static void
listener_stop(struct listener *l)
{
    if (l == NULL)
        return;
    MHD_stop_daemon(l->d);
    free(l);
}

static void
free_pem(char **pem)
{
    if (*pem != NULL) {
        OPENSSL_cleanse(*pem, strlen(*pem));
        free(*pem);
        *pem = NULL;
    }
}

int
wfe_start(struct app *app, int listen_fd, int mgmt_fd, const char *cert_pem, const char *key_pem,
          struct wfe **out)
{
    struct wfe *w = calloc(1, sizeof(*w));

    if (w == NULL)
        return CAIRN_ERR_NOMEM;
    w->app = app;
    w->cert_pem = strdup(cert_pem);
    w->key_pem = strdup(key_pem);
    if (w->cert_pem == NULL || w->key_pem == NULL) {
        wfe_stop(w);
        return CAIRN_ERR_NOMEM;
    }
    w->acme = listener_start(w, listen_fd, false, cert_pem, key_pem);
    if (w->acme == NULL) {
        log_err("http", "cannot start the ACME listener");
        wfe_stop(w);
        return CAIRN_ERR_IO;
    }
    if (mgmt_fd >= 0) {
        w->mgmt = listener_start(w, mgmt_fd, true, cert_pem, key_pem);
        if (w->mgmt == NULL) {
            log_err("http", "cannot start the management listener");
            wfe_stop(w);
            return CAIRN_ERR_IO;
        }
    }
    *out = w;
    return CAIRN_OK;
}

void
wfe_stop(struct wfe *w)
{
    if (w == NULL)
        return;
    listener_stop(w->mgmt);
    listener_stop(w->acme);
    free_pem(&w->cert_pem);
    free_pem(&w->key_pem);
    free(w);
}

/* Waits (bounded) until l has no connection left, then stops it; its socket was handed on by
 * MHD_quiesce_daemon(), so stopping does not close it. Connections count rather than
 * requests: one accepted just before the quiesce may not have sent its request yet. An idle
 * keep-alive connection is closed at the bound, which clients treat as a normal close. */
static void
listener_retire(struct listener *l, int timeout_s)
{
    struct timespec ts = { 0, 20 * 1000000L };

    for (int i = 0; i < timeout_s * 50; i++) {
        if (atomic_load(&l->inflight) == 0 && atomic_load(&l->conns) == 0)
            break;
        nanosleep(&ts, NULL);
    }
    listener_stop(l);
}

/* Hands slot's socket to a new daemon with the new pair (or the old pair if that fails). */
static int
listener_swap(struct wfe *w, struct listener **slot, const char *cert_pem, const char *key_pem)
{
    struct listener *old = *slot, *nl;
    MHD_socket fd;

    if (old == NULL)
        return CAIRN_OK;
    fd = MHD_quiesce_daemon(old->d);
    if (fd == MHD_INVALID_SOCKET)
        return CAIRN_ERR_IO;
    nl = listener_start(w, (int)fd, old->mgmt, cert_pem, key_pem);
    if (nl == NULL) {
        log_err("http", "cannot start a listener with the new certificate; keeping the old one");
        nl = listener_start(w, (int)fd, old->mgmt, w->cert_pem, w->key_pem);
    }
    if (nl == NULL) {
        /* nothing accepts on this port now; stop the old daemon and close the socket */
        listener_retire(old, w->app->cfg->shutdown_timeout);
        close((int)fd);
        *slot = NULL;
        return CAIRN_ERR_IO;
    }
    *slot = nl;
    listener_retire(old, w->app->cfg->shutdown_timeout);
    return CAIRN_OK;
}

int
wfe_reload_tls(struct wfe *w, const char *cert_pem, const char *key_pem)
{
    char *nc = strdup(cert_pem), *nk = strdup(key_pem);
    int rc;

    if (nc == NULL || nk == NULL) {
        free_pem(&nc);
        free_pem(&nk);
        return CAIRN_ERR_NOMEM;
    }
    rc = listener_swap(w, &w->acme, cert_pem, key_pem);
    if (rc == CAIRN_OK)
        rc = listener_swap(w, &w->mgmt, cert_pem, key_pem);
    if (rc == CAIRN_OK) {
        free_pem(&w->cert_pem);
        free_pem(&w->key_pem);
        w->cert_pem = nc;
        w->key_pem = nk;
    } else {
        free_pem(&nc);
        free_pem(&nk);
    }
    return rc;
}

struct app *
wfe_app(void *cls)
{
    return ((struct listener *)cls)->w->app;
}
