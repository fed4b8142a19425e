/* va_bench.c - http-01 validations per second through va_validate() (a benchmark, not a test).
 *
 * An in-process HTTP responder on 127.0.0.1 answers every
 * GET /.well-known/acme-challenge/TOKEN with "TOKEN.THUMBPRINT" (the key authorization) and
 * closes, as a challenge target does; C client threads each run validations back to back until
 * N are done, so C validations are in flight at any time. Every validation is the VA's whole
 * http-01 check: resolve (through -d HOST:PORT; none for the default IP identifier), connect,
 * GET, read, compare. Prints validations per second and latency percentiles.
 *
 *   cairn-va-bench [-n N] [-c C] [-t RESPONDER_THREADS] [-d DNS_HOST:PORT -h NAME]
 *
 * Without -d the identifier is the IP address 127.0.0.1 (no DNS); with -d the identifier is
 * NAME (default bench.example.com), resolved by the VA through that server for every
 * validation (A and AAAA), e.g. test/tools/mockdns.py. Exit status 1 if any validation failed.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "cairn/problem.h"
#include "cairn/store.h"
#include "cairn/va.h"

#define THUMB "ThumbprintThumbprintThumbprintThumbprint123"
#define MAX_RESPONDERS 16
#define MAX_CLIENTS 1024

struct bench {
    struct va_config cfg;
    const char *name;         /* the identifier */
    bool ip;
    int total;                /* validations to run */
    atomic_int next;          /* next validation index to claim */
    atomic_int failures;
    int64_t *lat_us;          /* latency of each validation, microseconds */
    int lfd;                  /* the responder's listening socket */
    atomic_bool stopping;
    char first_error[512];
    pthread_mutex_t lock;
};

static int64_t
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- the responder: blocking accept loops sharing one listening socket ---- */

/* Reads the request head (bounded) and answers with the key authorization for its token. */
static void
serve_one(int fd)
{
    static const char prefix[] = "GET /.well-known/acme-challenge/";
    char req[2048], resp[512];
    size_t len = 0;
    int n;

    while (len < sizeof(req) - 1) {
        ssize_t r = recv(fd, req + len, sizeof(req) - 1 - len, 0);

        if (r <= 0)
            return;
        len += (size_t)r;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n") != NULL)
            break;
    }
    if (strncmp(req, prefix, sizeof(prefix) - 1) == 0) {
        const char *tok = req + sizeof(prefix) - 1;
        size_t tl = strcspn(tok, " ?");

        n = snprintf(resp, sizeof(resp),
                     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%.*s.%s",
                     tl + 1 + strlen(THUMB), (int)tl, tok, THUMB);
    } else {
        n = snprintf(resp, sizeof(resp),
                     "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
    if (n > 0 && (size_t)n < sizeof(resp))
        (void)!send(fd, resp, (size_t)n, MSG_NOSIGNAL);
}

static void *
responder_main(void *arg)
{
    struct bench *b = arg;

    while (!atomic_load(&b->stopping)) {
        int fd = accept(b->lfd, NULL, NULL);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            break; /* the socket was shut down: we are done */
        }
        serve_one(fd);
        close(fd);
    }
    return NULL;
}

static int
responder_listen(struct bench *b)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int one = 1;

    b->lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (b->lfd < 0)
        return -1;
    setsockopt(b->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(b->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(b->lfd, 1024) != 0 ||
        getsockname(b->lfd, (struct sockaddr *)&sa, &sl) != 0)
        return -1;
    b->cfg.http_port = ntohs(sa.sin_port);
    return 0;
}

/* ---- the clients ---- */

/* A distinct valid token per validation: 43 base64url characters whose last one carries no
 * stray bits (a canonical encoding of 32 bytes, as b64url_is_valid() demands). */
static void
make_token(int i, char out[CAIRN_TOKEN_LEN + 1])
{
    snprintf(out, CAIRN_TOKEN_LEN + 1, "bench%037dA", i);
}

static void
note_failure(struct bench *b, const struct problem *p, int rc)
{
    atomic_fetch_add(&b->failures, 1);
    pthread_mutex_lock(&b->lock);
    if (b->first_error[0] == '\0')
        snprintf(b->first_error, sizeof(b->first_error), "rc %d: %s: %s", rc,
                 problem_urn(p->type), p->detail);
    pthread_mutex_unlock(&b->lock);
}

static void *
client_main(void *arg)
{
    struct bench *b = arg;
    struct st_va_job job;
    char key_authz[CAIRN_TOKEN_LEN + CAIRN_THUMBPRINT_LEN + 2];

    memset(&job, 0, sizeof(job));
    job.type = CHALL_HTTP01;
    job.ident.type = b->ip ? IDENT_IP : IDENT_DNS;
    snprintf(job.ident.value, sizeof(job.ident.value), "%s", b->name);
    snprintf(job.thumbprint, sizeof(job.thumbprint), "%s", THUMB);
    for (;;) {
        int i = atomic_fetch_add(&b->next, 1);
        struct problem p;
        int64_t t0;
        int rc;

        if (i >= b->total)
            break;
        make_token(i, job.token);
        snprintf(key_authz, sizeof(key_authz), "%s.%s", job.token, THUMB);
        problem_init(&p);
        t0 = now_us();
        rc = va_validate(&b->cfg, &job, key_authz, &p);
        b->lat_us[i] = now_us() - t0;
        if (rc != CAIRN_OK)
            note_failure(b, &p, rc);
        problem_cleanup(&p);
    }
    return NULL;
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static double
pct_ms(const int64_t *sorted, int n, double q)
{
    int i = (int)(q * (n - 1) + 0.5);

    return (double)sorted[i] / 1000.0;
}

static void
usage(void)
{
    fprintf(stderr, "usage: cairn-va-bench [-n N] [-c C] [-t RESPONDER_THREADS] "
                    "[-d DNS_HOST:PORT [-h NAME]]\n");
    exit(2);
}

static int
parse_int(const char *s, int lo, int hi)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < lo || v > hi)
        usage();
    return (int)v;
}

static void
parse_args(struct bench *b, int argc, char **argv, int *clients, int *responders)
{
    int opt;

    while ((opt = getopt(argc, argv, "n:c:t:d:h:")) != -1) {
        switch (opt) {
        case 'n':
            b->total = parse_int(optarg, 1, 10000000);
            break;
        case 'c':
            *clients = parse_int(optarg, 1, MAX_CLIENTS);
            break;
        case 't':
            *responders = parse_int(optarg, 1, MAX_RESPONDERS);
            break;
        case 'd':
            if (snprintf(b->cfg.dns_server, sizeof(b->cfg.dns_server), "%s", optarg) >=
                (int)sizeof(b->cfg.dns_server))
                usage();
            b->ip = false;
            if (strcmp(b->name, "127.0.0.1") == 0)
                b->name = "bench.example.com";
            break;
        case 'h':
            b->name = optarg;
            break;
        default:
            usage();
        }
    }
    if (b->ip != (strcmp(b->name, "127.0.0.1") == 0))
        usage(); /* -h needs -d: names are resolved through the given server */
}

static void
report(const struct bench *b, int clients, int responders, int64_t wall_us)
{
    int n = b->total;
    int64_t *lat = b->lat_us;

    qsort(lat, (size_t)n, sizeof(*lat), cmp_i64);
    printf("cairn-va-bench: %d http-01 validations of %s, %d concurrent, %d responder "
           "threads, %s\n", n, b->name, clients, responders,
           b->ip ? "IP identifier (no DNS)" : b->cfg.dns_server);
    printf("  wall %.2f s, %.0f validations/s, failures %d\n", (double)wall_us / 1e6,
           (double)n * 1e6 / (double)wall_us, atomic_load(&b->failures));
    printf("  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", pct_ms(lat, n, 0.50),
           pct_ms(lat, n, 0.90), pct_ms(lat, n, 0.99), (double)lat[n - 1] / 1000.0);
    if (b->first_error[0])
        printf("  first failure: %s\n", b->first_error);
}

int
main(int argc, char **argv)
{
    static struct bench b;
    static pthread_t rt[MAX_RESPONDERS], ct[MAX_CLIENTS];
    int clients = 64, responders = 2, started_r = 0, started_c = 0;
    int64_t t0, wall;

    memset(&b, 0, sizeof(b));
    b.total = 20000;
    b.name = "127.0.0.1";
    b.ip = true;
    b.cfg.workers = 1;
    b.cfg.timeout_ms = 10000;
    b.cfg.tls_port = 5001;
    pthread_mutex_init(&b.lock, NULL);
    parse_args(&b, argc, argv, &clients, &responders);
    signal(SIGPIPE, SIG_IGN);
    b.lat_us = calloc((size_t)b.total, sizeof(*b.lat_us));
    if (b.lat_us == NULL || va_global_init() != CAIRN_OK || responder_listen(&b) != 0) {
        fprintf(stderr, "cairn-va-bench: setup failed: %s\n", strerror(errno));
        return 1;
    }
    for (; started_r < responders; started_r++)
        if (pthread_create(&rt[started_r], NULL, responder_main, &b) != 0)
            break;
    t0 = now_us();
    for (; started_c < clients; started_c++)
        if (pthread_create(&ct[started_c], NULL, client_main, &b) != 0)
            break;
    for (int i = 0; i < started_c; i++)
        pthread_join(ct[i], NULL);
    wall = now_us() - t0;
    atomic_store(&b.stopping, true);
    shutdown(b.lfd, SHUT_RDWR);
    for (int i = 0; i < started_r; i++)
        pthread_join(rt[i], NULL);
    close(b.lfd);
    if (started_c == 0 || started_r == 0) {
        fprintf(stderr, "cairn-va-bench: no threads\n");
        return 1;
    }
    report(&b, started_c, started_r, wall > 0 ? wall : 1);
    va_global_cleanup();
    free(b.lat_us);
    return atomic_load(&b.failures) == 0 ? 0 : 1;
}
