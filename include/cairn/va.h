/* va.h - the validation authority: a pool of worker threads fed by an in-memory queue of
 * hints; the store is the queue of record (challenges in `processing`).
 *
 * va_submit() copies the job; a worker runs the check when due and records the outcome with
 * store_apply_validation(). A full queue loses nothing: va_requeue_from_store() (called at
 * start and periodically) re-reads processing challenges. Thread-safe. */
#ifndef CAIRN_VA_H
#define CAIRN_VA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cairn/core.h"
#include "cairn/problem.h"
#include "cairn/store.h"

struct va;

/* Process-wide library setup (c-ares, libcurl): call once in main() (and in tests) before any
 * thread starts; va_global_cleanup() after the last va_pool_stop(). Not thread-safe. */
int va_global_init(void) CAIRN_MUST_CHECK;
void va_global_cleanup(void);

#define VA_MAX_RANGES 32        /* CIDRs per target-range list */
#define VA_RANGE_LEN 64         /* one CIDR, e.g. "2001:db8::/32" */
#define VA_MAX_CAA_IDS 8        /* CA identities matched by CAA issue/issuewild */
#define VA_CAA_ID_LEN 256

struct va_config {
    int workers;            /* worker threads (default 8) */
    int http_port;          /* http-01 target port (test 5002, CA 80) */
    int tls_port;           /* tls-alpn-01 target port (test 5001, CA 443) */
    bool always_valid;      /* PEBBLE_VA_ALWAYS_VALID: no network, still asynchronous */
    int sleep_max;          /* random delay before validating, seconds (0 = none) */
    char dns_server[256];   /* "host:port" or "" for the system resolver */
    int timeout_ms;         /* whole validation bound (default 20000) */
    int64_t authz_valid_for; /* seconds a valid authz stays valid (default 30 days) */
    /* When non-NULL it replaces always_valid and is read before every job, so the
     * management API can flip it at run time (POST /cairn/va-always-valid). Must outlive
     * the VA. */
    const atomic_bool *always_valid_rt;
    /* Address policy (PROTOCOL.md §9.7): CA mode refuses special-purpose targets unless
     * allowed, and any target in denied; test mode contacts anything. */
    bool ca_mode;
    char allowed_ranges[VA_MAX_RANGES][VA_RANGE_LEN]; /* va.allowedTargetRanges */
    size_t n_allowed;
    char denied_ranges[VA_MAX_RANGES][VA_RANGE_LEN];  /* va.deniedTargetRanges */
    size_t n_denied;
    /* CAA (RFC 8659/8657): checked after a successful challenge when on. */
    bool caa;
    char caa_identities[VA_MAX_CAA_IDS][VA_CAA_ID_LEN]; /* none: the account URL's host */
    size_t n_caa_identities;
    char base_url[256];     /* account URLs when the job has none: base + /acme/acct/ID */
    /* Retries (RFC 8555 §8.2): transient failures (connection, dns, tls) are retried while
     * the challenge stays processing; attempt n waits retry_spacing_s * 2^(n-1). */
    int retries;            /* default 0 */
    int retry_spacing_s;    /* default 2 */
    int validate_times;     /* run the whole check this many times, all must pass (>= 1) */
};

/* Starts cfg->workers threads. The store must outlive the VA. */
int va_pool_start(const struct va_config *cfg, struct store *st, struct va **out)
    CAIRN_MUST_CHECK;
/* Stops accepting jobs, lets running checks finish, joins the threads, frees va. Jobs still
 * queued stay `processing` in the store for the next start. NULL is a no-op. */
void va_pool_stop(struct va *va);
/* Queues a copy of job. CAIRN_ERR_BUSY when the in-memory queue is full (the periodic requeue
 * will pick the job up). */
int va_submit(struct va *va, const struct st_va_job *job) CAIRN_MUST_CHECK;
/* Re-reads processing challenges from the store and queues those not already queued. */
int va_requeue_from_store(struct va *va, int64_t now) CAIRN_MUST_CHECK;
/* Jobs queued or running. */
size_t va_queue_depth(struct va *va);

/* One validation, synchronously (used by the workers and by tests). key_authz is
 * "<token>.<thumbprint>". Returns CAIRN_OK when the challenge is satisfied; otherwise
 * CAIRN_ERR_PROTO with p describing why (type connection, dns, tls or unauthorized; the detail
 * names the address, port and what was seen). */
int va_validate(const struct va_config *cfg, const struct st_va_job *job, const char *key_authz,
                struct problem *p) CAIRN_MUST_CHECK;

/* CAA (caa.c): may an identifier be issued for, given the account URL and the challenge
 * method used? CAIRN_OK when allowed (or no CAA applies: IP identifiers, no records);
 * CAIRN_ERR_PROTO with a caa problem (refused) or a dns problem (lookup failed: fail
 * closed). Used by the VA after a successful challenge and by finalize's recheck. */
int va_caa_check(const struct va_config *cfg, const struct ident *id, const char *acct_url,
                 const char *method, int64_t timeout_ms, struct problem *p) CAIRN_MUST_CHECK;

/* Address policy (addrpolicy.c): CAIRN_OK when cfg allows dialling addr (an IPv4 or IPv6
 * literal); CAIRN_ERR_PROTO with a connection problem naming the address otherwise. */
int va_addr_check(const struct va_config *cfg, const char *addr, struct problem *p)
    CAIRN_MUST_CHECK;
/* true when text is a valid "ADDR/PREFIX" (or a bare address) for the range lists. */
bool va_range_valid(const char *text);

/* Finalize's CAA recheck with the running VA's settings. *enabled is set false (and CAIRN_OK
 * returned) when CAA is off; recheck_age is then meaningless. Otherwise as va_caa_check(). */
int va_caa_recheck(struct va *va, const struct ident *id, const char *acct_url,
                   const char *method, bool *enabled, struct problem *p) CAIRN_MUST_CHECK;

#endif
