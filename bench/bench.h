/* bench.h - cairn-bench, the project's ACME load generator: a small HTTP/1.1 client over
 * OpenSSL with keep-alive (hclient.c), JWS signing and the ACME flows (acme.c), statistics
 * (stats.c) and the driver (main.c). One connection per worker thread, reused. */
#ifndef CAIRN_BENCH_H
#define CAIRN_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

#define BENCH_URL_MAX 1024
#define BENCH_NONCE_MAX 128

/* ---- hclient.c: one kept-alive HTTPS connection ---- */

struct hconn {
    SSL_CTX *ctx;           /* shared, not owned */
    SSL *ssl;
    int fd;
    char host[256];         /* connect address */
    char port[16];
    char hosthdr[300];      /* Host header: host:port */
    char src[64];           /* source address to bind, "" = any */
    int timeout_s;
    char *rbuf;             /* bytes read and not yet consumed */
    size_t rlen, rcap;
    char *body;             /* last response body, NUL-terminated */
    size_t blen, bcap;
    unsigned reconnects;
};

struct hresp {
    int status;
    char nonce[BENCH_NONCE_MAX];
    char location[BENCH_URL_MAX];
    const char *body;       /* points into the connection; valid until the next request */
    size_t body_len;
    bool timed_out;
};

SSL_CTX *hclient_ctx(const char *trust_pem);
/* url: https://host:port/...; fills host/port/hosthdr. */
int hconn_init(struct hconn *h, SSL_CTX *ctx, const char *url, const char *src, int timeout_s);
void hconn_close(struct hconn *h);
void hconn_free(struct hconn *h);
/* path_or_url: "/x" or an absolute URL of the same origin. body may be NULL. Returns 0 when a
 * response was read (any status), -1 on a transport error or timeout (resp->timed_out). */
int hconn_request(struct hconn *h, const char *method, const char *path_or_url,
                  const char *ctype, const char *body, size_t body_len, struct hresp *resp);

/* ---- stats.c: latency samples per step ---- */

enum step {
    STEP_DIR, STEP_NONCE, STEP_ACCOUNT, STEP_ORDER, STEP_AUTHZ, STEP_CHALLENGE, STEP_POLL,
    STEP_FINALIZE, STEP_ORDER_POLL, STEP_CERT, STEP_ISSUANCE, STEP_COUNT
};

struct samples {
    uint32_t *us;           /* microseconds */
    size_t n, cap;
};

#define BENCH_MAX_ERRKINDS 16

struct errcount {
    char kind[96];
    unsigned long n;
};

struct tstats {
    struct samples step[STEP_COUNT];
    struct errcount err[BENCH_MAX_ERRKINDS];
    unsigned long ops;       /* completed operations (issuances, nonces, directories) */
    unsigned long requests;  /* HTTP requests sent */
};

const char *step_name(enum step s);
void samples_add(struct samples *s, uint64_t us);
void stats_error(struct tstats *t, const char *kind);
/* Merges src into dst (dst owns everything afterwards; src is emptied). */
void stats_merge(struct tstats *dst, struct tstats *src);
void stats_free(struct tstats *t);
/* Sorts and reports percentiles of each non-empty step. */
void stats_print(struct tstats *t, double seconds);
void samples_pct(struct samples *s, double *p50, double *p90, double *p99, double *max);

/* ---- acme.c: keys, JWS and the flows ---- */

struct acme_dir {
    char new_nonce[BENCH_URL_MAX];
    char new_account[BENCH_URL_MAX];
    char new_order[BENCH_URL_MAX];
};

struct worker;

struct worker_cfg {
    bool rsa;                /* RS256 account keys (else ES256) */
    bool reuse_account;      /* one account per worker instead of one per issuance */
    size_t key_pool;         /* account keys generated before the clock starts */
};

struct worker {
    int id;
    struct hconn h;
    struct tstats st;
    const struct worker_cfg *cfg;
    struct acme_dir dir;
    char nonce[BENCH_NONCE_MAX];
    EVP_PKEY **keys;         /* pre-generated account keys */
    size_t nkeys, nextkey;
    EVP_PKEY *acct_key;      /* current account key */
    char kid[BENCH_URL_MAX];
    char *csr_b64;           /* finalize payload, built once per worker */
    char name[64];
};

EVP_PKEY *acme_keygen(bool rsa);
int acme_worker_prepare(struct worker *w);
void acme_worker_cleanup(struct worker *w);
int acme_get_dir(struct worker *w, const char *dir_url);
/* One complete issuance; errors are counted in w->st. 0 = a certificate was downloaded. */
int acme_issue(struct worker *w, uint64_t deadline_us);
int acme_nonce_once(struct worker *w);
int acme_dir_once(struct worker *w, const char *dir_url);

/* ---- floor.c ---- */
int floor_run(unsigned iterations);

uint64_t now_us(void);

#endif
