/* test_va.c - the VA's checkers against real fixtures: test/tools/mockdns.py (a child
 * process) and a small HTTP responder thread on 127.0.0.1. Only the parts that do not need
 * the store: va_validate(), the resolver, the text helpers and the queue. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "va_fixture.h"

#include "cairn/va.h"
#include "va/va_internal.h"

#define THUMB "ThumbprintThumbprintThumbprintThumbprint123"

/* ---- fixtures ---- */

static pid_t dns_pid = -1;
static int dns_port;

struct responder {
    int lfd, lfd6; /* 127.0.0.1 and [::1] (-1 when IPv6 is unavailable), same port */
    int port;
    pthread_t thread, thread6;
    int last_family;
    atomic_int many_hits;
    pthread_mutex_t mu;
    char last_host[300];
};

static struct responder web = { .lfd = -1, .lfd6 = -1, .mu = PTHREAD_MUTEX_INITIALIZER };

/* A realistic 43-character token starting with prefix. */
static void
make_token(const char *prefix, char out[CAIRN_TOKEN_LEN + 1])
{
    size_t n = strlen(prefix);

    memset(out, 'A', CAIRN_TOKEN_LEN);
    memcpy(out, prefix, n);
    out[CAIRN_TOKEN_LEN] = '\0';
}

static void
make_key_authz(const char *token, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s.%s", token, THUMB);
}

static int
send_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;

    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void
send_text(int fd, const char *status, const char *extra, const char *body)
{
    char buf[4096];
    int n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     status, extra, strlen(body), body);

    if (n > 0 && (size_t)n < sizeof(buf))
        (void)send_all(fd, buf, (size_t)n);
}

static void
send_big(int fd)
{
    static char chunk[65536];
    const char *hdr = "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n";

    memset(chunk, 'a', sizeof(chunk));
    if (send_all(fd, hdr, strlen(hdr)) != 0)
        return;
    for (int i = 0; i < 16; i++)
        if (send_all(fd, chunk, sizeof(chunk)) != 0)
            return;
}

/* Reads the request head; returns its length or -1. */
static ssize_t
read_request(int fd, char *req, size_t cap)
{
    size_t n = 0;
    struct timeval tv = { 3, 0 };

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (n + 1 < cap) {
        ssize_t r = recv(fd, req + n, cap - 1 - n, 0);

        if (r <= 0)
            return -1;
        n += (size_t)r;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n") != NULL)
            return (ssize_t)n;
    }
    return -1;
}

static void
note_host(int fd, const char *req)
{
    struct sockaddr_storage peer;
    socklen_t pl = sizeof(peer);
    const char *h = strstr(req, "\r\nHost: ");
    size_t n;

    if (h == NULL)
        return;
    h += 8;
    n = strcspn(h, "\r");
    memset(&peer, 0, sizeof(peer));
    getpeername(fd, (struct sockaddr *)&peer, &pl);
    pthread_mutex_lock(&web.mu);
    web.last_family = peer.ss_family;
    snprintf(web.last_host, sizeof(web.last_host), "%.*s", (int)n, h);
    pthread_mutex_unlock(&web.mu);
}

/* Behaviour is chosen by the token's prefix. */
static void
respond(int fd, const char *path)
{
    static const char *const chall = "/.well-known/acme-challenge/";
    char token[128], ka[256], loc[2300], body[512];
    const char *tok;

    if (strncmp(path, chall, strlen(chall)) == 0)
        tok = path + strlen(chall);
    else if (strncmp(path, "/final/", 7) == 0)
        tok = path + 7;
    else
        return send_text(fd, "404 Not Found", "", "no");
    snprintf(token, sizeof(token), "%.*s", (int)strcspn(tok, "?"), tok);
    make_key_authz(token, ka, sizeof(ka));
    if (strncmp(path, "/final/", 7) == 0 || strncmp(token, "ok", 2) == 0) {
        send_text(fd, "200 OK", "", ka);
    } else if (strncmp(token, "ws", 2) == 0) {
        snprintf(body, sizeof(body), "%s\r\n \t", ka);
        send_text(fd, "200 OK", "", body);
    } else if (strncmp(token, "lead", 4) == 0) {
        snprintf(body, sizeof(body), " %s", ka);
        send_text(fd, "200 OK", "", body);
    } else if (strncmp(token, "bad", 3) == 0) {
        send_text(fd, "200 OK", "", "wrong\x01\"answer\"");
    } else if (strncmp(token, "nf", 2) == 0) {
        send_text(fd, "404 Not Found", "", "nothing here");
    } else if (strncmp(token, "big", 3) == 0) {
        send_big(fd);
    } else if (strncmp(token, "hang", 4) == 0) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        (void)poll(&p, 1, 5000); /* until the client gives up */
    } else if (strncmp(token, "loop", 4) == 0) {
        snprintf(loc, sizeof(loc), "Location: http://loop.test:%d%s\r\n", web.port, path);
        send_text(fd, "302 Found", loc, "");
    } else if (strncmp(token, "many", 4) == 0) {
        int hit = atomic_fetch_add(&web.many_hits, 1);
        snprintf(loc, sizeof(loc), "Location: %s%s?n=%d\r\n", chall, token, hit + 1);
        send_text(fd, "301 Moved Permanently", loc, "");
    } else if (strncmp(token, "rd", 2) == 0) {
        snprintf(loc, sizeof(loc), "Location: http://other.test:%d/final/%s\r\n", web.port,
                 token);
        send_text(fd, "307 Temporary Redirect", loc, "");
    } else if (strncmp(token, "port", 4) == 0) {
        send_text(fd, "302 Found", "Location: http://example.test:22/x\r\n", "");
    } else if (strncmp(token, "ftp", 3) == 0) {
        send_text(fd, "302 Found", "Location: ftp://example.test/x\r\n", "");
    } else if (strncmp(token, "s303", 4) == 0) {
        send_text(fd, "303 See Other", "Location: /final/x\r\n", "");
    } else {
        send_text(fd, "500 Internal Server Error", "", "?");
    }
}

static void *
conn_main(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char req[8192], path[2100];

    if (read_request(fd, req, sizeof(req)) > 0 && sscanf(req, "GET %2047s ", path) == 1) {
        note_host(fd, req);
        respond(fd, path);
    }
    close(fd);
    return NULL;
}

static void *
accept_main(void *arg)
{
    int lfd = *(int *)arg;

    for (;;) {
        pthread_t t;
        int fd = accept(lfd, NULL, NULL);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL; /* the listener was shut down */
        }
        if (pthread_create(&t, NULL, conn_main, (void *)(intptr_t)fd) != 0) {
            close(fd);
            continue;
        }
        pthread_detach(t);
    }
}


/* [::1] on the IPv4 listener's port, best effort. */
static void
web_start6(void)
{
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    int one = 1, fd = socket(AF_INET6, SOCK_STREAM, 0);

    if (fd < 0)
        return;
    a.sin6_port = htons((uint16_t)web.port);
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 64) != 0 ||
        pthread_create(&web.thread6, NULL, accept_main, &web.lfd6) != 0) {
        close(fd);
        return;
    }
    web.lfd6 = fd;
}

static int
web_start(void)
{
    web.lfd = fixture_bind_loopback(SOCK_STREAM, &web.port);
    if (web.lfd < 0 || listen(web.lfd, 64) != 0)
        return -1;
    if (pthread_create(&web.thread, NULL, accept_main, &web.lfd) != 0)
        return -1;
    web_start6();
    return 0;
}

static void
web_stop(void)
{
    if (web.lfd < 0)
        return;
    shutdown(web.lfd, SHUT_RDWR);
    pthread_join(web.thread, NULL);
    close(web.lfd);
    web.lfd = -1;
    if (web.lfd6 >= 0) {
        shutdown(web.lfd6, SHUT_RDWR);
        pthread_join(web.thread6, NULL);
        close(web.lfd6);
        web.lfd6 = -1;
    }
}


static char digest_ok[64], digest_split_a[32], digest_split_b[64];

static int
group_setup(void **state)
{
    const char *src = getenv("CAIRN_SOURCE_DIR");
    char script[1024], tok[CAIRN_TOKEN_LEN + 1], ka[256];
    char a_txt_ok[200], a_txt_wrong[200], a_multi1[200], a_multi2[200], a_split[200];
    char a_big[12][300];

    (void)state;
    if (src == NULL || va_global_init() != CAIRN_OK)
        return -1;
    make_token("ok", tok);
    make_key_authz(tok, ka, sizeof(ka));
    if (va_dns01_digest(ka, digest_ok, sizeof(digest_ok)) != CAIRN_OK)
        return -1;
    snprintf(digest_split_a, sizeof(digest_split_a), "%.20s", digest_ok);
    snprintf(digest_split_b, sizeof(digest_split_b), "%s", digest_ok + 20);
    snprintf(script, sizeof(script), "%s/test/tools/mockdns.py", src);
    snprintf(a_txt_ok, sizeof(a_txt_ok), "_acme-challenge.dns-ok.test=%s", digest_ok);
    snprintf(a_txt_wrong, sizeof(a_txt_wrong), "_acme-challenge.dns-wrong.test=%s", "bogus");
    snprintf(a_multi1, sizeof(a_multi1), "_acme-challenge.dns-multi.test=%s", "stale");
    snprintf(a_multi2, sizeof(a_multi2), "_acme-challenge.dns-multi.test=%s", digest_ok);
    snprintf(a_split, sizeof(a_split), "_acme-challenge.dns-split.test=%s,%s", digest_split_a,
             digest_split_b);
    /* 11 filler records of 250 bytes + the right one: > 1232 bytes, so UDP is truncated and
     * c-ares must retry over TCP */
    for (int i = 0; i < 11; i++)
        snprintf(a_big[i], sizeof(a_big[i]), "_acme-challenge.dns-big.test=%0250d", i);
    snprintf(a_big[11], sizeof(a_big[11]), "_acme-challenge.dns-big.test=%s", digest_ok);
    {
        char *const argv[] = { "/usr/bin/python3", script, "--port", "0",
                               "--txt", a_big[0], "--txt", a_big[1], "--txt", a_big[2],
                               "--txt", a_big[3], "--txt", a_big[4], "--txt", a_big[5],
                               "--txt", a_big[6], "--txt", a_big[7], "--txt", a_big[8],
                               "--txt", a_big[9], "--txt", a_big[10], "--txt", a_big[11],
                               "--nxdomain", "nx.test", "--servfail", "sf.test",
                               "--a", "v6.test=::1", "--a", "v4.test=127.0.0.2",
                               "--txt", a_txt_ok, "--txt", a_txt_wrong,
                               "--txt", a_multi1, "--txt", a_multi2,
                               "--txtparts", a_split, NULL };
        if ((dns_pid = fixture_dns_start(argv, &dns_port)) < 0)
            return -1;
    }
    return web_start();
}

static int
group_teardown(void **state)
{
    (void)state;
    web_stop();
    if (dns_pid > 0) {
        fixture_dns_stop(dns_pid);
        dns_pid = -1;
    }
    va_global_cleanup();
    return 0;
}

/* ---- helpers ---- */

static void
base_cfg(struct va_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->workers = 1;
    cfg->http_port = web.port;
    cfg->tls_port = 5001;
    cfg->timeout_ms = 15000; /* a bound, not a measurement: generous for a loaded CI machine */
    snprintf(cfg->dns_server, sizeof(cfg->dns_server), "127.0.0.1:%d", dns_port);
}

static void
base_job(struct st_va_job *job, enum chall_type type, enum ident_type itype, const char *name,
         const char *prefix)
{
    memset(job, 0, sizeof(*job));
    snprintf(job->chall_id, sizeof(job->chall_id), "challenge-id-000000001");
    snprintf(job->thumbprint, sizeof(job->thumbprint), "%s", THUMB);
    job->type = type;
    job->ident.type = itype;
    snprintf(job->ident.value, sizeof(job->ident.value), "%s", name);
    make_token(prefix, job->token);
}

/* Runs va_validate() for one job; returns rc and fills p (and the elapsed ms). */
static int
run(const struct va_config *cfg, const struct st_va_job *job, struct problem *p, int64_t *ms)
{
    char ka[256];
    int64_t t0 = va_mono_ms();
    int rc;

    make_key_authz(job->token, ka, sizeof(ka));
    problem_init(p);
    rc = va_validate(cfg, job, ka, p);
    if (ms != NULL)
        *ms = va_mono_ms() - t0;
    return rc;
}

static void
expect_problem(const struct va_config *cfg, const struct st_va_job *job, enum prob_type type,
               const char *needle)
{
    struct problem p;
    int rc = run(cfg, job, &p, NULL);

    if (rc != CAIRN_ERR_PROTO || p.type != type || strstr(p.detail, needle) == NULL)
        print_error("got rc=%d type=%s detail=%s\n", rc, problem_name(p.type), p.detail);
    assert_int_equal(rc, CAIRN_ERR_PROTO);
    assert_int_equal(p.type, type);
    assert_non_null(strstr(p.detail, needle));
}

static void
expect_valid(const struct va_config *cfg, const struct st_va_job *job)
{
    struct problem p;
    int rc = run(cfg, job, &p, NULL);

    if (rc != CAIRN_OK)
        print_error("got rc=%d type=%s detail=%s\n", rc, problem_name(p.type), p.detail);
    assert_int_equal(rc, CAIRN_OK);
}

/* ---- http-01 ---- */

static void
test_http01_ok(void **state)
{
    struct va_config cfg;
    struct st_va_job job;

    (void)state;
    base_cfg(&cfg);
    base_job(&job, CHALL_HTTP01, IDENT_DNS, "www.example.test", "ok");
    expect_valid(&cfg, &job);
    pthread_mutex_lock(&web.mu);
    assert_string_equal(web.last_host, "www.example.test"); /* RFC 8555 §8.3 */
    pthread_mutex_unlock(&web.mu);
}

static void
test_http01_trailing_whitespace(void **state)
{
    struct va_config cfg;
    struct st_va_job job;

    (void)state;
    base_cfg(&cfg);
    base_job(&job, CHALL_HTTP01, IDENT_DNS, "example.test", "ws");
    expect_valid(&cfg, &job);
}

static void
test_http01_leading_space(void **state)
{
    struct va_config cfg;
    struct st_va_job job;

    (void)state;
    base_cfg(&cfg);
    base_job(&job, CHALL_HTTP01, IDENT_DNS, "example.test", "lead");
    expect_problem(&cfg, &job, PROB_UNAUTHORIZED, "does not match");
}

static void
test_http01_wrong_body_excerpt(void **state)
{
    struct va_config cfg;
    struct st_va_job job;

    (void)state;
    base_cfg(&cfg);
    base_job(&job, CHALL_HTTP01, IDENT_DNS, "example.test", "bad");
    expect_problem(&cfg, &job, PROB_UNAUTHORIZED, "\"wrong\\x01\\\"answer\\\"\"");
}

static void
test_http01_404(void **state)
{
    struct va_config cfg;
    struct st_va_job job;

    (void)state;
    base_cfg(&cfg);
    base_job(&job, CHALL_HTTP01, IDENT_DNS, "example.test", "nf");
    expect_problem(&cfg, &job, PROB_UNAUTHORIZED, "HTTP 404");
}

static void
test_http01_refused(void **state)
{
    struct va_config cfg;
    struct st_va_job job;
    char want[64];
    int port = 0, fd = fixture_bind_loopback(SOCK_STREAM, &port);

    (void)state;
    assert_true(fd >= 0);
    close(fd); /* nothing listens there now */
    base_cfg(&cfg);
    cfg.http_port = port;
    base_job(&job, CHALL_HTTP01, IDENT_DNS, "example.test", "ok");
    snprintf(want, sizeof(want), "127.0.0.1:%d: Connection refused", port);
    expect_problem(&cfg, &job, PROB_CONNECTION, want);
}

static void
test_http01_ip_identifier(void **state)
{
    struct va_config cfg;
    struct st_va_job job;

    (void)state;
    base_cfg(&cfg);
    cfg.dns_server[0] = '\0'; /* no DNS needed for an IP literal */
    base_job(&job, CHALL_HTTP01, IDENT_IP, "127.0.0.1", "ok");
    expect_valid(&cfg, &job);
    pthread_mutex_lock(&web.mu);
    assert_string_equal(web.last_host, "127.0.0.1");
    pthread_mutex_unlock(&web.mu);
}

static void
test_http01_nxdomain(void **state)
{
    struct va_config cfg;
    struct st_va_job job;

    (void)state;
    base_cfg(&cfg);
    base_job(&job, CHALL_HTTP01, IDENT_DNS, "nx.test", "ok");
    expect_problem(&cfg, &job, PROB_DNS, "DNS problem: NXDOMAIN looking up A for nx.test");
}

static void
test_http01_servfail(void **state)
{
    struct va_config cfg;
    struct st_va_job job;

    (void)state;
    base_cfg(&cfg);
    base_job(&job, CHALL_HTTP01, IDENT_DNS, "www.sf.test", "ok");
    expect_problem(&cfg, &job, PROB_DNS, "SERVFAIL looking up A for www.sf.test");
}

static void
test_dns_timeout(void **state)
{
    struct va_config cfg;
    struct st_va_job job;
    struct problem p;
    int64_t ms;
    int port = 0, fd = fixture_bind_loopback(SOCK_DGRAM, &port); /* never answers */

    (void)state;
    assert_true(fd >= 0);
    base_cfg(&cfg);
    cfg.timeout_ms = 1200;
    snprintf(cfg.dns_server, sizeof(cfg.dns_server), "127.0.0.1:%d", port);
    base_job(&job, CHALL_HTTP01, IDENT_DNS, "example.test", "ok");
    assert_int_equal(run(&cfg, &job, &p, &ms), CAIRN_ERR_PROTO);
    close(fd);
    assert_int_equal(p.type, PROB_DNS);
    assert_non_null(strstr(p.detail, "timed out"));
    assert_true(ms >= 1100 && ms < 2500);
}

static void
test_http01_big_body(void **state)
{
    struct va_config cfg;
    struct st_va_job job;
    struct problem p;
    int64_t ms;

    (void)state;
    base_cfg(&cfg);
    base_job(&job, CHALL_HTTP01, IDENT_DNS, "example.test", "big");
    assert_int_equal(run(&cfg, &job, &p, &ms), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_UNAUTHORIZED);
    assert_non_null(strstr(p.detail, "larger than 128 bytes"));
    assert_non_null(strstr(p.detail, "\"aaaa"));
    assert_true(ms < 1000);
}

static void
test_http01_hang(void **state)
{
    struct va_config cfg;
    struct st_va_job job;
    struct problem p;
    int64_t ms;

    (void)state;
    base_cfg(&cfg);
    cfg.timeout_ms = 1500;
    base_job(&job, CHALL_HTTP01, IDENT_DNS, "example.test", "hang");
    assert_int_equal(run(&cfg, &job, &p, &ms), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_CONNECTION);
    assert_non_null(strstr(p.detail, "Timeout after connect"));
    assert_true(ms >= 1400 && ms < 2500);
}

static void
test_http01_redirect_ok(void **state)
{
    struct va_config cfg;
    struct st_va_job job;

    (void)state;
    base_cfg(&cfg);
    base_job(&job, CHALL_HTTP01, IDENT_DNS, "example.test", "rd");
    expect_valid(&cfg, &job);
    pthread_mutex_lock(&web.mu);
    assert_string_equal(web.last_host, "other.test"); /* re-resolved, new Host */
    pthread_mutex_unlock(&web.mu);
}

static void
test_http01_redirect_loop(void **state)
{
    struct va_config cfg;
    struct st_va_job job;

    (void)state;
    base_cfg(&cfg);
    base_job(&job, CHALL_HTTP01, IDENT_DNS, "loop.test", "loop");
    expect_problem(&cfg, &job, PROB_CONNECTION, "redirect loop");
}

static void
test_http01_too_many_redirects(void **state)
{
    struct va_config cfg;
    struct st_va_job job;

    (void)state;
    base_cfg(&cfg);
    atomic_store(&web.many_hits, 0);
    base_job(&job, CHALL_HTTP01, IDENT_DNS, "example.test", "many");
    expect_problem(&cfg, &job, PROB_CONNECTION, "too many redirects");
    assert_int_equal(atomic_load(&web.many_hits), CAIRN_MAX_REDIRECTS + 1);
}

static void
test_http01_redirect_refused(void **state)
{
    struct va_config cfg;
    struct st_va_job job;

    (void)state;
    base_cfg(&cfg);
    base_job(&job, CHALL_HTTP01, IDENT_DNS, "example.test", "port");
    expect_problem(&cfg, &job, PROB_CONNECTION, "port 22 is not allowed");
    base_job(&job, CHALL_HTTP01, IDENT_DNS, "example.test", "ftp");
    expect_problem(&cfg, &job, PROB_CONNECTION, "unsupported scheme");
    base_job(&job, CHALL_HTTP01, IDENT_DNS, "example.test", "s303");
    expect_problem(&cfg, &job, PROB_CONNECTION, "redirect status 303");
}

static void
test_http01_ipv6_first(void **state)
{
    struct va_config cfg;
    struct st_va_job job;

    (void)state;
    if (web.lfd6 < 0)
        skip();
    base_cfg(&cfg);
    base_job(&job, CHALL_HTTP01, IDENT_DNS, "v6.test", "ok"); /* AAAA ::1 and A 127.0.0.1 */
    expect_valid(&cfg, &job);
    pthread_mutex_lock(&web.mu);
    assert_int_equal(web.last_family, AF_INET6); /* the pinned AAAA was dialled */
    assert_string_equal(web.last_host, "v6.test");
    pthread_mutex_unlock(&web.mu);
    base_job(&job, CHALL_HTTP01, IDENT_IP, "::1", "ok");
    expect_valid(&cfg, &job);
    pthread_mutex_lock(&web.mu);
    assert_int_equal(web.last_family, AF_INET6);
    assert_string_equal(web.last_host, "[::1]");
    pthread_mutex_unlock(&web.mu);
}

static void
test_http01_ipv4_fallback(void **state)
{
    struct va_config cfg;
    struct st_va_job job;
    char want[64];
    int port = 0, fd = fixture_bind_loopback(SOCK_STREAM, &port);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    base_cfg(&cfg);
    cfg.http_port = port;
    /* [::1] refuses first, then 127.0.0.1 is tried and named in the detail */
    base_job(&job, CHALL_HTTP01, IDENT_DNS, "v6.test", "ok");
    snprintf(want, sizeof(want), "127.0.0.1:%d: Connection refused", port);
    expect_problem(&cfg, &job, PROB_CONNECTION, want);
}

/* ---- dns-01 ---- */

static void
test_dns01(void **state)
{
    struct va_config cfg;
    struct st_va_job job;

    (void)state;
    base_cfg(&cfg);
    /* every case uses the "ok" token, whose digest mockdns serves where it should */
    base_job(&job, CHALL_DNS01, IDENT_DNS, "dns-ok.test", "ok");
    expect_valid(&cfg, &job);
    base_job(&job, CHALL_DNS01, IDENT_DNS, "dns-multi.test", "ok");
    expect_valid(&cfg, &job);
    base_job(&job, CHALL_DNS01, IDENT_DNS, "dns-split.test", "ok");
    expect_valid(&cfg, &job);
    base_job(&job, CHALL_DNS01, IDENT_DNS, "dns-big.test", "ok"); /* truncated UDP -> TCP */
    expect_valid(&cfg, &job);
    base_job(&job, CHALL_DNS01, IDENT_DNS, "dns-wrong.test", "ok");
    expect_problem(&cfg, &job, PROB_UNAUTHORIZED, "Incorrect TXT record \"bogus\"");
    base_job(&job, CHALL_DNS01, IDENT_DNS, "dns-none.test", "ok");
    expect_problem(&cfg, &job, PROB_UNAUTHORIZED, "No TXT record found");
    base_job(&job, CHALL_DNS01, IDENT_DNS, "nx.test", "ok");
    expect_problem(&cfg, &job, PROB_DNS, "NXDOMAIN looking up TXT for _acme-challenge.nx.test");
    base_job(&job, CHALL_DNS01, IDENT_DNS, "sf.test", "ok");
    expect_problem(&cfg, &job, PROB_DNS, "SERVFAIL");
    /* another token: the served digest is not its digest */
    base_job(&job, CHALL_DNS01, IDENT_DNS, "dns-ok.test", "other");
    expect_problem(&cfg, &job, PROB_UNAUTHORIZED, "Incorrect TXT record");
}

static void
test_resolver(void **state)
{
    struct va_config cfg;
    struct va_addrs a;
    struct problem p;

    (void)state;
    base_cfg(&cfg);
    problem_init(&p);
    assert_int_equal(va_dns_resolve(&cfg, "host.test", va_deadline_for(&cfg), &a, &p), CAIRN_OK);
    assert_int_equal(a.n4, 1);
    assert_int_equal(a.n6, 0);
    assert_string_equal(a.v4[0], "127.0.0.1");
    assert_int_equal(va_dns_resolve(&cfg, "v6.test", va_deadline_for(&cfg), &a, &p), CAIRN_OK);
    assert_int_equal(a.n6, 1);
    assert_string_equal(a.v6[0], "::1");
    assert_int_equal(a.n4, 1);
    assert_int_equal(va_dns_resolve(&cfg, "v4.test", va_deadline_for(&cfg), &a, &p), CAIRN_OK);
    assert_string_equal(a.v4[0], "127.0.0.2");
    assert_int_equal(va_dns_resolve(&cfg, "a.nx.test", va_deadline_for(&cfg), &a, &p),
                     CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_DNS);
}

/* ---- helpers without fixtures ---- */

static void
test_body_match(void **state)
{
    const char *ka = "tok.thumb";

    (void)state;
    assert_true(va_http01_body_matches((const uint8_t *)"tok.thumb", 9, ka));
    assert_true(va_http01_body_matches((const uint8_t *)"tok.thumb\r\n \t", 13, ka));
    assert_false(va_http01_body_matches((const uint8_t *)" tok.thumb", 10, ka));
    assert_false(va_http01_body_matches((const uint8_t *)"tok.thum", 8, ka));
    assert_false(va_http01_body_matches((const uint8_t *)"tok.thumbx", 10, ka));
    assert_false(va_http01_body_matches((const uint8_t *)"tok.thumb\n\0", 11, ka));
    assert_false(va_http01_body_matches((const uint8_t *)"tok.thumb\v", 10, ka));
}

static void
test_excerpt(void **state)
{
    uint8_t big[300];
    char out[VA_EXCERPT_MAX + 1], small[8];

    (void)state;
    va_excerpt((const uint8_t *)"a\"b\\c\r\n\xff", 8, out, sizeof(out));
    assert_string_equal(out, "\"a\\\"b\\\\c\\r\\n\\xff\"");
    memset(big, 0xC3, sizeof(big)); /* would be UTF-8 lead bytes: escaped, never copied raw */
    va_excerpt(big, sizeof(big), out, sizeof(out));
    assert_true(strlen(out) <= VA_EXCERPT_MAX);
    assert_non_null(strstr(out, "\\xc3..."));
    assert_int_equal(out[strlen(out) - 1], '"');
    for (size_t i = 0; out[i]; i++)
        assert_true(out[i] >= 0x20 && out[i] < 0x7f);
    va_excerpt((const uint8_t *)"abcdefgh", 8, small, sizeof(small));
    assert_string_equal(small, "\"ab...\""); /* 7 characters: the whole room */
    va_excerpt((const uint8_t *)"", 0, out, sizeof(out));
    assert_string_equal(out, "\"\"");
}

static void
push_due(struct va_queue *q, const char *id, int64_t due)
{
    struct st_va_job j;

    memset(&j, 0, sizeof(j));
    snprintf(j.chall_id, sizeof(j.chall_id), "%s", id);
    j.due_at = due;
    assert_int_equal(va_queue_push(q, &j), CAIRN_OK);
}

static void
test_queue_order(void **state)
{
    static const char *const want[] = { "a", "b1", "b2", "b3", "c", "d" };
    struct va_queue q;
    struct st_va_job j;

    (void)state;
    assert_int_equal(va_queue_init(&q, 6), CAIRN_OK);
    push_due(&q, "c", 30);
    push_due(&q, "b1", 20);
    push_due(&q, "d", 40);
    push_due(&q, "b2", 20);
    push_due(&q, "a", 10);
    push_due(&q, "b3", 20); /* equal due_at: first in, first out */
    memset(&j, 0, sizeof(j));
    snprintf(j.chall_id, sizeof(j.chall_id), "zz");
    assert_int_equal(va_queue_push(&q, &j), CAIRN_ERR_BUSY);
    snprintf(j.chall_id, sizeof(j.chall_id), "b2");
    assert_int_equal(va_queue_push(&q, &j), CAIRN_ERR_CONFLICT); /* dedupe by challenge id */
    assert_true(va_queue_has(&q, "d"));
    assert_string_equal(va_queue_peek(&q)->chall_id, "a");
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(want); i++) {
        assert_int_equal(va_queue_pop(&q, &j), CAIRN_OK);
        assert_string_equal(j.chall_id, want[i]);
    }
    assert_null(va_queue_peek(&q));
    assert_int_equal(va_queue_pop(&q, &j), CAIRN_ERR_NOTFOUND);
    assert_false(va_queue_has(&q, "d"));
    va_queue_cleanup(&q);
}

static void
test_unimplemented_types(void **state)
{
    struct va_config cfg;
    struct st_va_job job;
    char want[64];
    int port = 0, fd = fixture_bind_loopback(SOCK_STREAM, &port);

    (void)state;
    assert_true(fd >= 0);
    close(fd); /* nothing listens there now: tls-alpn-01 reports the refused connection */
    base_cfg(&cfg);
    cfg.tls_port = port;
    base_job(&job, CHALL_TLSALPN01, IDENT_DNS, "example.test", "ok");
    snprintf(want, sizeof(want), "127.0.0.1:%d: Connection refused", port);
    expect_problem(&cfg, &job, PROB_CONNECTION, want);
    base_job(&job, CHALL_DNS01, IDENT_IP, "127.0.0.1", "ok");
    expect_problem(&cfg, &job, PROB_UNAUTHORIZED, "not allowed for IP");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_match),
        cmocka_unit_test(test_excerpt),
        cmocka_unit_test(test_queue_order),
        cmocka_unit_test(test_resolver),
        cmocka_unit_test(test_http01_ok),
        cmocka_unit_test(test_http01_trailing_whitespace),
        cmocka_unit_test(test_http01_leading_space),
        cmocka_unit_test(test_http01_wrong_body_excerpt),
        cmocka_unit_test(test_http01_404),
        cmocka_unit_test(test_http01_refused),
        cmocka_unit_test(test_http01_ip_identifier),
        cmocka_unit_test(test_http01_nxdomain),
        cmocka_unit_test(test_http01_servfail),
        cmocka_unit_test(test_dns_timeout),
        cmocka_unit_test(test_http01_big_body),
        cmocka_unit_test(test_http01_hang),
        cmocka_unit_test(test_http01_ipv6_first),
        cmocka_unit_test(test_http01_ipv4_fallback),
        cmocka_unit_test(test_http01_redirect_ok),
        cmocka_unit_test(test_http01_redirect_loop),
        cmocka_unit_test(test_http01_too_many_redirects),
        cmocka_unit_test(test_http01_redirect_refused),
        cmocka_unit_test(test_dns01),
        cmocka_unit_test(test_unimplemented_types),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
