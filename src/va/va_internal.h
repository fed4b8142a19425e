/* va_internal.h - pieces shared by the VA's files (src/va/ only).
 *
 * Layering: only va.c (the pool) calls store_*; the checkers (validate.c, dns.c, http01.c,
 * dns01.c) and the queue (queue.c) never do, so they can be linked and tested without the
 * store. <ares.h> stays in dns.c and <curl/curl.h> in http01.c.
 *
 * Deadlines are CLOCK_MONOTONIC milliseconds (va_mono_ms()); every step gets only the time left
 * until the validation's deadline. */
#ifndef CAIRN_VA_INTERNAL_H
#define CAIRN_VA_INTERNAL_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/va.h"

#define VA_DEFAULT_WORKERS 8
#define VA_DEFAULT_TIMEOUT_MS 20000
#define VA_QUEUE_MAX 4096
/* One DNS try; c-ares makes VA_DNS_TRIES of them (PROTOCOL.md §6: 5 s x 2). */
#define VA_DNS_TRY_MS 5000
#define VA_DNS_TRIES 2
#define VA_MAX_ADDRS 8          /* addresses kept per family */
#define VA_MAX_TXT_RECORDS 32   /* TXT records considered at one name */
#define VA_MAX_TXT_LEN 4096     /* joined strings of one TXT record */
#define VA_MAX_LOCATION 2000    /* bytes of a redirect's Location (PROTOCOL.md §6) */
#define VA_EXCERPT_MAX 64       /* bytes of quoted target output in a problem detail */

/* ---- time ---- */

int64_t va_mono_ms(void);
/* Milliseconds left until deadline, never negative. */
int64_t va_ms_left(int64_t deadline);
/* The deadline of a validation that starts now (cfg->timeout_ms, default 20 s). */
int64_t va_deadline_for(const struct va_config *cfg);

/* ---- text helpers (validate.c) ---- */

/* Writes a double-quoted, escaped excerpt of in[0..n) into out: printable ASCII kept, '"' and
 * '\\' backslash-escaped, CR/LF/TAB as \r \n \t, other bytes as \xNN, "..." when cut. The
 * result (quotes included) is at most VA_EXCERPT_MAX bytes and outsz - 1; always ASCII, so
 * valid UTF-8. */
void va_excerpt(const uint8_t *in, size_t n, char *out, size_t outsz);
/* RFC 8555 §8.3: body equals key_authz followed only by optional CR, LF, SP, TAB. */
bool va_http01_body_matches(const uint8_t *body, size_t n, const char *key_authz);
/* base64url(SHA-256(key_authz)) into out (>= 44 bytes). CAIRN_OK or CAIRN_ERR_CRYPTO. */
int va_dns01_digest(const char *key_authz, char *out, size_t outsz) CAIRN_MUST_CHECK;

/* ---- DNS (dns.c, the only file that includes <ares.h>) ---- */

struct va_addrs {
    size_t n4, n6;
    char v4[VA_MAX_ADDRS][INET_ADDRSTRLEN];
    char v6[VA_MAX_ADDRS][INET6_ADDRSTRLEN];
};

struct va_txt {
    size_t n;
    char *rec[VA_MAX_TXT_RECORDS]; /* owned; each record's strings joined, NUL-terminated */
    size_t len[VA_MAX_TXT_RECORDS];
};

int va_dns_global_init(void) CAIRN_MUST_CHECK;
void va_dns_global_cleanup(void);
/* A and AAAA of name via cfg->dns_server (or the system resolver) until deadline. CAIRN_OK
 * with at least one address; otherwise CAIRN_ERR_PROTO with a dns problem (NXDOMAIN,
 * SERVFAIL, timeout, no address) or CAIRN_ERR_NOMEM. One c-ares channel per call. */
int va_dns_resolve(const struct va_config *cfg, const char *name, int64_t deadline,
                   struct va_addrs *out, struct problem *p) CAIRN_MUST_CHECK;
/* TXT records of name. CAIRN_OK with out->n >= 0 records (0: the name exists without TXT);
 * CAIRN_ERR_PROTO with a dns problem on NXDOMAIN, SERVFAIL, timeout. Release with
 * va_txt_cleanup() (also after a failure). */
int va_dns_txt(const struct va_config *cfg, const char *name, int64_t deadline,
               struct va_txt *out, struct problem *p) CAIRN_MUST_CHECK;
void va_txt_cleanup(struct va_txt *t);

#define VA_QTYPE_CAA 257
/* One query of qtype at name, the raw DNS answer (malloc'd, caller frees) in *abuf. CAIRN_OK
 * when the answer has records; CAIRN_ERR_NOTFOUND on NXDOMAIN or NODATA; CAIRN_ERR_PROTO with
 * a dns problem on SERVFAIL, REFUSED, timeout (a truncated UDP answer is retried over TCP by
 * c-ares, so truncation never reads as "no records"). */
int va_dns_query_raw(const struct va_config *cfg, const char *name, int qtype,
                     int64_t deadline, uint8_t **abuf, size_t *alen, struct problem *p)
    CAIRN_MUST_CHECK;

/* ---- CAA (caa.c) ---- */

#define VA_MAX_CAA_RRS 32
#define VA_MAX_CAA_VALUE 1024

struct va_caa_rr {
    uint8_t flags;
    char tag[16];                     /* NUL-terminated; "" when malformed */
    uint8_t value[VA_MAX_CAA_VALUE];
    size_t value_len;
    bool malformed;                   /* bad tag or value over VA_MAX_CAA_VALUE */
};

struct va_caa_set {
    size_t n;
    struct va_caa_rr rr[VA_MAX_CAA_RRS];
};

/* Parses the CAA RRs (class IN) of a raw DNS answer into out. CAIRN_OK (out->n may be 0, e.g.
 * an answer of CNAMEs only) or CAIRN_ERR_INVAL when the message is malformed. */
int va_caa_parse(const uint8_t *msg, size_t len, struct va_caa_set *out) CAIRN_MUST_CHECK;
/* Decides one relevant RRset (found at owner) for id. CAIRN_OK when it authorizes issuance by
 * one of the identities, else CAIRN_ERR_PROTO with a caa problem. identities/nids as in
 * struct va_config (none given: the caller passes the account URL's host). */
int va_caa_decide(const struct va_caa_set *set, const char *owner, const struct ident *id,
                  const char (*identities)[VA_CAA_ID_LEN], size_t nids, const char *acct_url,
                  const char *method, struct problem *p) CAIRN_MUST_CHECK;

/* ---- checkers ---- */

int va_http_global_init(void) CAIRN_MUST_CHECK;
void va_http_global_cleanup(void);
int va_http01_check(const struct va_config *cfg, const struct st_va_job *job,
                    const char *key_authz, int64_t deadline, struct problem *p) CAIRN_MUST_CHECK;
int va_dns01_check(const struct va_config *cfg, const struct st_va_job *job,
                   const char *key_authz, int64_t deadline, struct problem *p) CAIRN_MUST_CHECK;
int va_tlsalpn01_check(const struct va_config *cfg, const struct st_va_job *job,
                       const char *key_authz, int64_t deadline, struct problem *p)
    CAIRN_MUST_CHECK;

/* The account URL for CAA accounturi: the job's, else cfg->base_url + /acme/acct/ID. */
int va_job_acct_url(const struct va_config *cfg, const struct st_va_job *job, char *out,
                    size_t outsz) CAIRN_MUST_CHECK;

/* ---- queue (queue.c): a bounded min-heap of job copies ordered by (due_at, arrival) ---- */

struct va_queue_item {
    struct st_va_job job;
    uint64_t seq; /* arrival order: equal due_at stays FIFO */
};

struct va_queue {
    struct va_queue_item *heap; /* owned */
    size_t n, cap;
    uint64_t next_seq;
};

int va_queue_init(struct va_queue *q, size_t cap) CAIRN_MUST_CHECK;
void va_queue_cleanup(struct va_queue *q);
/* Copies job in. CAIRN_ERR_CONFLICT when a job for the same challenge is queued,
 * CAIRN_ERR_BUSY when full. */
int va_queue_push(struct va_queue *q, const struct st_va_job *job) CAIRN_MUST_CHECK;
/* The earliest job (borrowed, valid until the next push/pop), NULL when empty. */
const struct st_va_job *va_queue_peek(const struct va_queue *q);
/* Removes the earliest job into *out. CAIRN_ERR_NOTFOUND when empty. */
int va_queue_pop(struct va_queue *q, struct st_va_job *out) CAIRN_MUST_CHECK;
bool va_queue_has(const struct va_queue *q, const char *chall_id);

#endif
