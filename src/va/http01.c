/* http01.c - http-01 (RFC 8555 §8.3) on libcurl (the only file that includes <curl/curl.h>).
 *
 * The VA resolves every host itself (dns.c) and pins the address it checked with
 * CURLOPT_RESOLVE, so curl never resolves and the dialled address is the checked one (no DNS
 * rebinding between check and connect). Redirects are followed by hand: each hop's scheme,
 * port and host are checked and the host re-resolved. The whole check shares one deadline. */
#include "va/va_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "cairn/b64url.h"
#include "cairn/limits.h"

struct http_target {
    char *url; /* borrowed from struct http_run's seen[] */
    char host[CAIRN_MAX_IDENT_VALUE + 1]; /* without IPv6 brackets */
    bool host_is_ip;
    long port;
};

struct http_resp {
    long status;
    uint8_t body[CAIRN_MAX_HTTP01_BODY];
    size_t len;
    bool overflow;  /* the target offered more than CAIRN_MAX_HTTP01_BODY bytes */
    char *location; /* owned; the absolute redirect target, NULL when none */
};

/* Where one attempt went, for details: "127.0.0.1:5002" or "[::1]:5002". */
struct http_dial {
    const char *addr;
    bool v6;
    char where[INET6_ADDRSTRLEN + 16];
};

/* One http-01 check: its hops so far and the last response. */
struct http_run {
    const struct va_config *cfg;
    int64_t deadline;
    struct va_addrs addrs;
    struct http_dial dial;
    struct http_resp resp;
    char *seen[CAIRN_MAX_REDIRECTS + 1]; /* owned URLs of every hop, for loop detection */
    size_t nseen;
};

int
va_http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? CAIRN_OK : CAIRN_ERR_IO;
}

void
va_http_global_cleanup(void)
{
    curl_global_cleanup();
}

static void
http_resp_cleanup(struct http_resp *r)
{
    free(r->location);
    memset(r, 0, sizeof(*r));
}

static bool
http_port_allowed(const struct va_config *cfg, long port)
{
    return port == 80 || port == 443 || port == cfg->http_port || port == cfg->tls_port;
}

/* Copies the host of a URL (IPv6 brackets removed) and notes whether it is an IP literal. */
static int
http_target_host(struct http_target *t, const char *host)
{
    size_t hl = strlen(host);
    struct in6_addr a;

    if (host[0] == '[') {
        if (hl < 3 || host[hl - 1] != ']')
            return -1;
        host++;
        hl -= 2;
    }
    if (hl == 0 || hl >= sizeof(t->host))
        return -1;
    memcpy(t->host, host, hl);
    t->host[hl] = '\0';
    t->host_is_ip = inet_pton(AF_INET, t->host, &a) == 1 || inet_pton(AF_INET6, t->host, &a) == 1;
    return 0;
}

/* PROTOCOL.md §8 V03: a host ending ".well-known" (an optional root dot aside) comes from a
 * redirect rule missing its '/': "Redirect / http://example.com" turns a challenge URL into
 * http://example.com.well-known/acme-challenge/TOKEN. Refused with a hint rather than fetched
 * from whoever owns that name. */
static bool
http_host_is_well_known(const char *host)
{
    static const char suffix[] = ".well-known";
    size_t hl = strlen(host), sl = sizeof(suffix) - 1;

    if (hl > 0 && host[hl - 1] == '.')
        hl--;
    return hl >= sl && strncasecmp(host + hl - sl, suffix, sl) == 0;
}

/* Splits and checks one hop's URL (the first one or a Location). url is borrowed by t. */
static int
http_target_parse(const struct va_config *cfg, char *url, struct http_target *t,
                  struct problem *p)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = CAIRN_ERR_PROTO;

    memset(t, 0, sizeof(*t));
    if (u == NULL)
        return CAIRN_ERR_NOMEM;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        problem_set(p, PROB_CONNECTION, "Redirect to an invalid URL");
        goto out;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        problem_set(p, PROB_CONNECTION, "Redirect to an unsupported scheme (only http, https)");
        goto out;
    }
    t->port = strtol(port, NULL, 10);
    if (!http_port_allowed(cfg, t->port)) {
        problem_set(p, PROB_CONNECTION, "Redirect to port %ld is not allowed", t->port);
        goto out;
    }
    if (http_target_host(t, host) != 0) {
        problem_set(p, PROB_CONNECTION, "Redirect to an invalid host");
        goto out;
    }
    if (!t->host_is_ip && http_host_is_well_known(t->host)) {
        problem_set(p, PROB_CONNECTION, "Redirect to host \"%.200s\" ending in \".well-known\": "
                    "check the web server's redirect for a missing '/'", t->host);
        goto out;
    }
    t->url = url;
    rc = CAIRN_OK;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

static size_t
http_body_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct http_resp *r = ud;
    size_t n = size * nmemb, room = sizeof(r->body) - r->len, take = n < room ? n : room;

    memcpy(r->body + r->len, ptr, take);
    r->len += take;
    if (take < n) { /* PROTOCOL.md §6: read 128 bytes, then close */
        r->overflow = true;
        return 0;
    }
    return n;
}

/* One curl transfer and the lists it borrows. */
struct http_call {
    CURL *c;
    struct curl_slist *resolve;
    struct curl_slist *hdrs;
};

static void
http_call_cleanup(struct http_call *k)
{
    curl_easy_cleanup(k->c);
    curl_slist_free_all(k->resolve);
    curl_slist_free_all(k->hdrs);
    memset(k, 0, sizeof(*k));
}

static int
http_slist_add(struct curl_slist **l, const char *line, int len, size_t size)
{
    struct curl_slist *n;

    if (len < 0 || (size_t)len >= size)
        return CAIRN_ERR_INVAL;
    n = curl_slist_append(*l, line);
    if (n == NULL)
        return CAIRN_ERR_NOMEM;
    *l = n;
    return CAIRN_OK;
}

/* Host header and address pin for t dialled at d. */
static int
http_call_lists(struct http_call *k, const struct http_target *t, const struct http_dial *d)
{
    char line[CAIRN_MAX_IDENT_VALUE + INET6_ADDRSTRLEN + 32];
    bool v6host = strchr(t->host, ':') != NULL;
    int len, rc;

    /* RFC 8555 §8.3: Host is the domain name, or the IP literal (IPv6 in brackets). */
    len = snprintf(line, sizeof(line), v6host ? "Host: [%s]" : "Host: %s", t->host);
    rc = http_slist_add(&k->hdrs, line, len, sizeof(line));
    if (rc != CAIRN_OK || t->host_is_ip)
        return rc;
    len = snprintf(line, sizeof(line), d->v6 ? "%s:%ld:[%s]" : "%s:%ld:%s", t->host, t->port,
                   d->addr);
    return http_slist_add(&k->resolve, line, len, sizeof(line));
}

#define HTTP_SETOPT(c, opt, val)                                                               \
    do {                                                                                       \
        if (curl_easy_setopt((c), (opt), (val)) != CURLE_OK)                                   \
            return CAIRN_ERR_IO;                                                               \
    } while (0)

static int
http_call_setup(struct http_call *k, const struct http_target *t, const struct http_dial *d,
                int64_t left, struct http_resp *r)
{
    int rc = http_call_lists(k, t, d);

    if (rc != CAIRN_OK)
        return rc;
    HTTP_SETOPT(k->c, CURLOPT_URL, t->url);
    HTTP_SETOPT(k->c, CURLOPT_HTTPHEADER, k->hdrs);
    HTTP_SETOPT(k->c, CURLOPT_RESOLVE, k->resolve);
    HTTP_SETOPT(k->c, CURLOPT_PROTOCOLS_STR, "http,https");
    HTTP_SETOPT(k->c, CURLOPT_FOLLOWLOCATION, 0L); /* by hand, each hop checked */
    HTTP_SETOPT(k->c, CURLOPT_NOSIGNAL, 1L);
    HTTP_SETOPT(k->c, CURLOPT_PROXY, ""); /* never through an environment proxy */
    HTTP_SETOPT(k->c, CURLOPT_NOPROXY, "*");
    HTTP_SETOPT(k->c, CURLOPT_FORBID_REUSE, 1L);
    HTTP_SETOPT(k->c, CURLOPT_FRESH_CONNECT, 1L);
    HTTP_SETOPT(k->c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    HTTP_SETOPT(k->c, CURLOPT_TIMEOUT_MS, (long)left);
    HTTP_SETOPT(k->c, CURLOPT_CONNECTTIMEOUT_MS, (long)left);
    HTTP_SETOPT(k->c, CURLOPT_IPRESOLVE, d->v6 ? CURL_IPRESOLVE_V6 : CURL_IPRESOLVE_V4);
    /* PROTOCOL.md §7: https redirect targets are not certificate-checked; TLS >= 1.2. */
    HTTP_SETOPT(k->c, CURLOPT_SSL_VERIFYPEER, 0L);
    HTTP_SETOPT(k->c, CURLOPT_SSL_VERIFYHOST, 0L);
    HTTP_SETOPT(k->c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    HTTP_SETOPT(k->c, CURLOPT_USERAGENT, "cairn-va/" CAIRN_VERSION);
    HTTP_SETOPT(k->c, CURLOPT_WRITEFUNCTION, http_body_cb);
    HTTP_SETOPT(k->c, CURLOPT_WRITEDATA, r);
    return CAIRN_OK;
}

static const char *
http_errno_text(long e)
{
    switch (e) {
    case ECONNREFUSED:
        return "Connection refused";
    case ECONNRESET:
        return "Connection reset by peer";
    case ENETUNREACH:
        return "Network unreachable";
    case EHOSTUNREACH:
        return "No route to host";
    case ETIMEDOUT:
        return "Timeout during connect";
    default:
        return NULL;
    }
}

/* The connection problem for a failed transfer; the detail names address and port. */
static int
http_curl_problem(CURL *c, CURLcode cc, const struct http_dial *d, struct problem *p)
{
    long oserr = 0;
    curl_off_t connected = 0;
    const char *why = NULL;

    curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
    curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connected);
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        why = connected == 0 ? "Timeout during connect (likely firewall problem)"
                             : "Timeout after connect (your server may be slow or overloaded)";
        break;
    case CURLE_GOT_NOTHING:
        why = "Connection closed without a response";
        break;
    case CURLE_SSL_CONNECT_ERROR:
        why = "TLS handshake failed";
        break;
    case CURLE_WEIRD_SERVER_REPLY:
        why = "Malformed HTTP response";
        break;
    default:
        why = http_errno_text(oserr);
        break;
    }
    if (why == NULL)
        why = curl_easy_strerror(cc); /* static text, never target output */
    return problem_set(p, PROB_CONNECTION, "%s: %s", d->where, why);
}

/* One GET of t at d->addr. CAIRN_OK when an HTTP response arrived (any status). */
static int
http_fetch(const struct http_target *t, const struct http_dial *d, int64_t deadline,
           struct http_resp *r, struct problem *p)
{
    struct http_call k;
    int64_t left = va_ms_left(deadline);
    char *loc = NULL;
    CURLcode cc;
    int rc;

    memset(&k, 0, sizeof(k));
    if (left == 0)
        return problem_set(p, PROB_CONNECTION, "%s: Timeout before connect", d->where);
    k.c = curl_easy_init();
    if (k.c == NULL)
        return CAIRN_ERR_NOMEM;
    rc = http_call_setup(&k, t, d, left, r);
    if (rc != CAIRN_OK)
        goto out;
    cc = curl_easy_perform(k.c);
    if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && r->overflow)) {
        rc = http_curl_problem(k.c, cc, d, p);
        goto out;
    }
    curl_easy_getinfo(k.c, CURLINFO_RESPONSE_CODE, &r->status);
    if (curl_easy_getinfo(k.c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc != NULL) {
        r->location = strdup(loc);
        if (r->location == NULL)
            rc = CAIRN_ERR_NOMEM;
    }
out:
    http_call_cleanup(&k);
    return rc;
}

static void
http_dial_set(struct http_dial *d, const char *addr, bool v6, long port)
{
    d->addr = addr;
    d->v6 = v6;
    snprintf(d->where, sizeof(d->where), v6 ? "[%s]:%ld" : "%s:%ld", addr, port);
}

/* Resolves t and fetches it: IPv6 first, IPv4 when IPv6 cannot connect. */
static int
http_hop(struct http_run *h, const struct http_target *t, struct problem *p)
{
    struct va_addrs *a = &h->addrs;
    struct http_dial *d = &h->dial;
    struct http_resp *r = &h->resp;
    int64_t deadline = h->deadline;
    int rc;

    memset(a, 0, sizeof(*a));
    if (t->host_is_ip) {
        bool v6 = strchr(t->host, ':') != NULL;
        char *dst = v6 ? a->v6[0] : a->v4[0];
        size_t dsz = v6 ? sizeof(a->v6[0]) : sizeof(a->v4[0]);

        if (strlen(t->host) >= dsz) /* inet_pton accepted it, so it fits; stay defensive */
            return problem_set(p, PROB_CONNECTION, "invalid IP address");
        memcpy(dst, t->host, strlen(t->host) + 1);
        a->n6 = v6;
        a->n4 = !v6;
    } else {
        rc = va_dns_resolve(h->cfg, t->host, deadline, a, p);
        if (rc != CAIRN_OK)
            return rc;
    }
    /* The address policy is checked on the very address dialled, at every hop. */
    if (a->n6 > 0) {
        http_dial_set(d, a->v6[0], true, t->port);
        rc = va_addr_check(h->cfg, a->v6[0], p);
        if (rc == CAIRN_OK)
            rc = http_fetch(t, d, deadline, r, p);
        if (rc != CAIRN_ERR_PROTO || a->n4 == 0 || va_ms_left(deadline) == 0)
            return rc;
        http_resp_cleanup(r);
    }
    http_dial_set(d, a->v4[0], false, t->port);
    rc = va_addr_check(h->cfg, a->v4[0], p);
    if (rc != CAIRN_OK)
        return rc;
    return http_fetch(t, d, deadline, r, p);
}

static bool
http_is_redirect(long status)
{
    return status == 301 || status == 302 || status == 307 || status == 308;
}

/* The first hop: http://NAME:PORT/.well-known/acme-challenge/TOKEN (owned by the caller). */
static char *
http01_first_url(const struct va_config *cfg, const struct st_va_job *job)
{
    bool v6 = job->ident.type == IDENT_IP && strchr(job->ident.value, ':') != NULL;
    int port = cfg->http_port > 0 ? cfg->http_port : 80;
    char buf[CAIRN_MAX_IDENT_VALUE + CAIRN_TOKEN_LEN + 64];
    int n = snprintf(buf, sizeof(buf), "http://%s%s%s:%d/.well-known/acme-challenge/%s",
                     v6 ? "[" : "", job->ident.value, v6 ? "]" : "", port, job->token);

    if (n < 0 || (size_t)n >= sizeof(buf))
        return NULL;
    return strdup(buf);
}

/* Decides a final (non-redirect) response. */
static int
http01_judge(const struct http_run *h, const struct http_target *t, const char *key_authz,
             struct problem *p)
{
    const struct http_resp *r = &h->resp;
    char ex[VA_EXCERPT_MAX + 1];

    va_excerpt(r->body, r->len, ex, sizeof(ex));
    if (r->status >= 300 && r->status < 400) /* 300, 303, 304, 305...: not a hop we follow */
        return problem_set(p, PROB_CONNECTION, "%s: redirect status %ld is not allowed",
                           h->dial.where, r->status);
    if (r->status != 200)
        return problem_set(p, PROB_UNAUTHORIZED, "%s: invalid response from %s: HTTP %ld, body %s",
                           h->dial.where, t->host, r->status, ex);
    if (r->overflow)
        return problem_set(p, PROB_UNAUTHORIZED,
                           "%s: response from %s is larger than %d bytes, starting %s",
                           h->dial.where, t->host, CAIRN_MAX_HTTP01_BODY, ex);
    if (!va_http01_body_matches(r->body, r->len, key_authz))
        return problem_set(p, PROB_UNAUTHORIZED,
                           "%s: the key authorization from %s does not match, got %s",
                           h->dial.where, t->host, ex);
    return CAIRN_OK;
}

/* Checks a Location and makes it the next URL (ownership moves into h->seen). */
static int
http_next_hop(struct http_run *h, struct problem *p)
{
    char *loc = h->resp.location;

    if (loc == NULL)
        return problem_set(p, PROB_CONNECTION, "%s: redirect without a Location",
                           h->dial.where);
    if (strlen(loc) > VA_MAX_LOCATION)
        return problem_set(p, PROB_CONNECTION, "%s: redirect Location longer than %d bytes",
                           h->dial.where, VA_MAX_LOCATION);
    if (h->nseen > CAIRN_MAX_REDIRECTS)
        return problem_set(p, PROB_CONNECTION, "%s: too many redirects (more than %d)",
                           h->dial.where, CAIRN_MAX_REDIRECTS);
    for (size_t i = 0; i < h->nseen; i++)
        if (strcmp(h->seen[i], loc) == 0)
            return problem_set(p, PROB_CONNECTION, "%s: redirect loop", h->dial.where);
    h->seen[h->nseen++] = loc;
    h->resp.location = NULL;
    return CAIRN_OK;
}

int
va_http01_check(const struct va_config *cfg, const struct st_va_job *job, const char *key_authz,
                int64_t deadline, struct problem *p)
{
    struct http_run h;
    struct http_target t;
    int rc;

    if (!b64url_is_valid(job->token, strlen(job->token))) /* it goes into a URL path */
        return problem_set(p, PROB_SERVER_INTERNAL, "malformed challenge token");
    memset(&h, 0, sizeof(h));
    h.cfg = cfg;
    h.deadline = deadline;
    h.seen[0] = http01_first_url(cfg, job);
    if (h.seen[0] == NULL)
        return CAIRN_ERR_NOMEM;
    h.nseen = 1;
    for (;;) {
        rc = http_target_parse(cfg, h.seen[h.nseen - 1], &t, p);
        if (rc != CAIRN_OK)
            goto out;
        http_resp_cleanup(&h.resp);
        rc = http_hop(&h, &t, p);
        if (rc != CAIRN_OK)
            goto out;
        if (!http_is_redirect(h.resp.status))
            break;
        rc = http_next_hop(&h, p);
        if (rc != CAIRN_OK)
            goto out;
    }
    rc = http01_judge(&h, &t, key_authz, p);
out:
    http_resp_cleanup(&h.resp);
    for (size_t i = 0; i < h.nseen; i++)
        free(h.seen[i]);
    return rc;
}
