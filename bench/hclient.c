/* hclient.c - a minimal HTTP/1.1 client over OpenSSL: one kept-alive connection, requests in
 * sequence, Content-Length and chunked bodies. Just enough for ACME servers (cairn, Pebble);
 * a library client would cost more CPU per request than the server under test. */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <openssl/err.h>

SSL_CTX *
hclient_ctx(const char *trust_pem)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (trust_pem != NULL && *trust_pem) {
        if (SSL_CTX_load_verify_locations(ctx, trust_pem, NULL) != 1) {
            fprintf(stderr, "cairn-bench: cannot load trust anchors from %s\n", trust_pem);
            SSL_CTX_free(ctx);
            return NULL;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    return ctx;
}

int
hconn_init(struct hconn *h, SSL_CTX *ctx, const char *url, const char *src, int timeout_s)
{
    const char *p, *end;

    memset(h, 0, sizeof(*h));
    h->fd = -1;
    h->ctx = ctx;
    h->timeout_s = timeout_s;
    snprintf(h->src, sizeof(h->src), "%s", src ? src : "");
    if (strncmp(url, "https://", 8) != 0)
        return -1;
    p = url + 8;
    end = p + strcspn(p, "/");
    if ((size_t)(end - p) >= sizeof(h->hosthdr))
        return -1;
    snprintf(h->hosthdr, sizeof(h->hosthdr), "%.*s", (int)(end - p), p);
    if (h->hosthdr[0] == '[') {
        const char *rb = strchr(h->hosthdr, ']');
        if (rb == NULL || rb[1] != ':')
            return -1;
        snprintf(h->host, sizeof(h->host), "%.*s", (int)(rb - h->hosthdr - 1), h->hosthdr + 1);
        snprintf(h->port, sizeof(h->port), "%s", rb + 2);
    } else {
        const char *colon = strrchr(h->hosthdr, ':');
        if (colon == NULL)
            return -1;
        snprintf(h->host, sizeof(h->host), "%.*s", (int)(colon - h->hosthdr), h->hosthdr);
        snprintf(h->port, sizeof(h->port), "%s", colon + 1);
    }
    return 0;
}

void
hconn_close(struct hconn *h)
{
    if (h->ssl != NULL) {
        SSL_shutdown(h->ssl);
        SSL_free(h->ssl);
        h->ssl = NULL;
    }
    if (h->fd >= 0)
        close(h->fd);
    h->fd = -1;
    h->rlen = 0;
}

void
hconn_free(struct hconn *h)
{
    hconn_close(h);
    free(h->rbuf);
    free(h->body);
    h->rbuf = h->body = NULL;
}

static int
bind_src(int fd, int family, const char *src)
{
    struct sockaddr_in a4 = { 0 };

    if (src[0] == '\0' || family != AF_INET)
        return 0;
    a4.sin_family = AF_INET;
    if (inet_pton(AF_INET, src, &a4.sin_addr) != 1)
        return -1;
    return bind(fd, (struct sockaddr *)&a4, sizeof(a4));
}

static int
hconn_connect(struct hconn *h)
{
    struct addrinfo hints = { 0 }, *ai = NULL;
    struct timeval tv = { h->timeout_s, 0 };
    int one = 1;

    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (getaddrinfo(h->host, h->port, &hints, &ai) != 0)
        return -1;
    h->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (h->fd < 0 || bind_src(h->fd, ai->ai_family, h->src) != 0 ||
        setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        setsockopt(h->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
        setsockopt(h->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
        connect(h->fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        freeaddrinfo(ai);
        hconn_close(h);
        return -1;
    }
    freeaddrinfo(ai);
    h->ssl = SSL_new(h->ctx);
    if (h->ssl == NULL || SSL_set_fd(h->ssl, h->fd) != 1 ||
        SSL_set_tlsext_host_name(h->ssl, "localhost") != 1 || SSL_connect(h->ssl) != 1) {
        ERR_clear_error();
        hconn_close(h);
        return -1;
    }
    h->reconnects++;
    return 0;
}

static int
buf_reserve(char **buf, size_t *cap, size_t need)
{
    size_t n = *cap ? *cap : 16384;
    char *nb;

    if (need <= *cap)
        return 0;
    while (n < need)
        n *= 2;
    nb = realloc(*buf, n);
    if (nb == NULL)
        return -1;
    *buf = nb;
    *cap = n;
    return 0;
}

/* Reads more bytes into rbuf: 1 = got some, 0 = EOF, -1 = error, -2 = timeout. */
static int
fill(struct hconn *h)
{
    int n;

    if (buf_reserve(&h->rbuf, &h->rcap, h->rlen + 16385) != 0)
        return -1;
    n = SSL_read(h->ssl, h->rbuf + h->rlen, 16384);
    if (n > 0) {
        h->rlen += (size_t)n;
        h->rbuf[h->rlen] = '\0';
        return 1;
    }
    if (SSL_get_error(h->ssl, n) == SSL_ERROR_ZERO_RETURN)
        return 0;
    ERR_clear_error();
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return -2;
    return n == 0 ? 0 : -1;
}

static void
consume(struct hconn *h, size_t n)
{
    memmove(h->rbuf, h->rbuf + n, h->rlen - n);
    h->rlen -= n;
    if (h->rbuf)
        h->rbuf[h->rlen] = '\0';
}

static int
body_append(struct hconn *h, const char *p, size_t n)
{
    if (buf_reserve(&h->body, &h->bcap, h->blen + n + 1) != 0)
        return -1;
    memcpy(h->body + h->blen, p, n);
    h->blen += n;
    h->body[h->blen] = '\0';
    return 0;
}

/* Reads exactly n body bytes. */
static int
read_fixed(struct hconn *h, size_t n)
{
    while (h->rlen < n) {
        int r = fill(h);
        if (r <= 0)
            return r == -2 ? -2 : -1;
    }
    if (body_append(h, h->rbuf, n) != 0)
        return -1;
    consume(h, n);
    return 0;
}

static int
read_chunked(struct hconn *h)
{
    for (int guard = 0; guard < 100000; guard++) {
        char *eol;
        unsigned long sz;

        while ((eol = strstr(h->rbuf ? h->rbuf : "", "\r\n")) == NULL) {
            int r = fill(h);
            if (r <= 0)
                return r == -2 ? -2 : -1;
        }
        sz = strtoul(h->rbuf, NULL, 16);
        consume(h, (size_t)(eol - h->rbuf) + 2);
        if (sz == 0) {
            /* trailers end with an empty line */
            while ((eol = strstr(h->rbuf ? h->rbuf : "", "\r\n")) == NULL) {
                int r = fill(h);
                if (r <= 0)
                    return r == -2 ? -2 : -1;
            }
            consume(h, (size_t)(eol - h->rbuf) + 2);
            return 0;
        }
        if (read_fixed(h, sz) != 0)
            return -1;
        while (h->rlen < 2) {
            int r = fill(h);
            if (r <= 0)
                return r == -2 ? -2 : -1;
        }
        consume(h, 2);
    }
    return -1;
}

/* Case-insensitive: does line[0..len) contain word? */
static bool
has_token(const char *line, size_t len, const char *word)
{
    size_t wl = strlen(word);

    for (size_t i = 0; i + wl <= len; i++) {
        if (strncasecmp(line + i, word, wl) == 0)
            return true;
    }
    return false;
}

static void
header_value(const char *line, size_t len, char *out, size_t outsz)
{
    const char *v = memchr(line, ':', len);
    size_t n;

    if (v == NULL)
        return;
    v++;
    while (v < line + len && (*v == ' ' || *v == '\t'))
        v++;
    n = (size_t)(line + len - v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    snprintf(out, outsz, "%.*s", (int)n, v);
}

/* Parses the status line and headers; returns the header block length (incl. CRLFCRLF). */
static int
read_head(struct hconn *h, struct hresp *r, long *clen, bool *chunked, bool *close_after)
{
    char *end, *line, tmp[32];

    while ((end = strstr(h->rbuf ? h->rbuf : "", "\r\n\r\n")) == NULL) {
        int rc = fill(h);
        if (rc <= 0)
            return rc == -2 ? -2 : -1;
    }
    if (strncmp(h->rbuf, "HTTP/1.", 7) != 0)
        return -1;
    r->status = atoi(h->rbuf + 9);
    *clen = -1;
    *chunked = *close_after = false;
    line = strstr(h->rbuf, "\r\n") + 2;
    while (line < end) {
        char *eol = strstr(line, "\r\n");
        size_t len = (size_t)(eol - line);

        if (strncasecmp(line, "Content-Length:", 15) == 0) {
            tmp[0] = '\0';
            header_value(line, len, tmp, sizeof(tmp));
            *clen = atol(tmp);
        } else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0) {
            *chunked = has_token(line, len, "chunked");
        } else if (strncasecmp(line, "Connection:", 11) == 0) {
            *close_after = has_token(line, len, "close");
        } else if (strncasecmp(line, "Replay-Nonce:", 13) == 0) {
            header_value(line, len, r->nonce, sizeof(r->nonce));
        } else if (strncasecmp(line, "Location:", 9) == 0) {
            header_value(line, len, r->location, sizeof(r->location));
        }
        line = eol + 2;
    }
    return (int)(end - h->rbuf) + 4;
}

static int
read_response(struct hconn *h, bool head, struct hresp *r)
{
    long clen;
    bool chunked, close_after;
    int hl = read_head(h, r, &clen, &chunked, &close_after), rc = 0;

    if (hl < 0)
        return hl;
    consume(h, (size_t)hl);
    h->blen = 0;
    if (body_append(h, "", 0) != 0)
        return -1;
    if (head || r->status == 204 || r->status == 304 || (r->status >= 100 && r->status < 200))
        rc = 0;
    else if (chunked)
        rc = read_chunked(h);
    else if (clen >= 0)
        rc = read_fixed(h, (size_t)clen);
    else
        close_after = true; /* body until EOF: not used by the servers we test */
    r->body = h->body;
    r->body_len = h->blen;
    if (rc == 0 && close_after)
        hconn_close(h);
    return rc;
}

static int
send_all(struct hconn *h, const char *p, size_t n)
{
    while (n > 0) {
        int w = SSL_write(h->ssl, p, (int)n);
        if (w <= 0) {
            ERR_clear_error();
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int
hconn_request(struct hconn *h, const char *method, const char *path_or_url, const char *ctype,
              const char *body, size_t body_len, struct hresp *resp)
{
    char head[2048];
    const char *path = path_or_url;
    int n;

    memset(resp, 0, sizeof(*resp));
    if (strncmp(path, "https://", 8) == 0) {
        path = strchr(path + 8, '/');
        if (path == NULL)
            path = "/";
    }
    n = snprintf(head, sizeof(head),
                 "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: cairn-bench\r\n%s%s%s"
                 "Content-Length: %zu\r\n\r\n",
                 method, path, h->hosthdr, ctype ? "Content-Type: " : "", ctype ? ctype : "",
                 ctype ? "\r\n" : "", body_len);
    if (n < 0 || (size_t)n >= sizeof(head))
        return -1;
    /* A kept-alive connection the server closed shows up as a failed write or an EOF before
     * any response byte: reconnect once and resend (the request never reached a handler). */
    for (int attempt = 0; attempt < 2; attempt++) {
        bool fresh = h->ssl == NULL;
        int rc;

        if (h->ssl == NULL && hconn_connect(h) != 0)
            return -1;
        h->rlen = 0;
        if (send_all(h, head, (size_t)n) != 0 || (body_len && send_all(h, body, body_len) != 0)) {
            hconn_close(h);
            if (fresh)
                return -1;
            continue;
        }
        rc = read_response(h, strcmp(method, "HEAD") == 0, resp);
        if (rc == 0)
            return 0;
        hconn_close(h);
        if (rc == -2) {
            resp->timed_out = true;
            return -1;
        }
        if (fresh)
            return -1;
    }
    return -1;
}
