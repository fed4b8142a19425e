/* va.c - the VA pool: worker threads fed by a bounded in-memory queue of job copies ordered
 * by due_at. The only VA file that calls store_* (the checkers stay testable without it).
 *
 * Locked singleton (ARCHITECTURE.md §4): the queue, the per-worker "running" slots and the
 * stopping flag are guarded by va->mu; workers sleep on va->cv (CLOCK_MONOTONIC) until the
 * earliest job is due or something is queued. The store remains the queue of record: a job
 * lost here (full queue, stop) is still `processing` there and va_requeue_from_store() finds
 * it again. */
#include "cairn/va.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cairn/faults.h"
#include "cairn/log.h"
#include "cairn/metrics.h"
#include "cairn/ratelimit.h"
#include "cairn/rand.h"
#include "va/va_internal.h"

#define VA_MAX_WORKERS 256
#define VA_DEFAULT_AUTHZ_VALID_FOR (30 * 24 * 3600)
#define VA_DEFAULT_RETRY_SPACING 2   /* seconds before the first retry */
#define VA_MAX_RETRY_DELAY 3600      /* back-off cap, seconds */

struct va_worker {
    struct va *va;
    pthread_t thread;
    bool started;
    char running[CAIRN_ID_LEN + 1]; /* challenge being checked, "" when idle; under va->mu */
};

struct va {
    struct va_config cfg;
    struct store *st;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct va_queue q;
    bool stopping;
    size_t nrunning;
    struct va_worker *workers;
    size_t nworkers;
};

static int64_t
va_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits on va->cv for at most ms (monotonic, so a wall-clock step cannot stretch it). */
static void
va_cond_wait_ms(struct va *va, int64_t ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&va->cv, &va->mu, &ts);
}

/* Blocks until a job is due (copied into *out and marked running) or the VA stops
 * (CAIRN_ERR_CONFLICT). */
static int
va_next_job(struct va_worker *w, struct st_va_job *out)
{
    struct va *va = w->va;
    int rc = CAIRN_ERR_CONFLICT;

    pthread_mutex_lock(&va->mu);
    while (!va->stopping) {
        const struct st_va_job *head = va_queue_peek(&va->q);
        int64_t wait;

        if (head == NULL) {
            pthread_cond_wait(&va->cv, &va->mu);
            continue;
        }
        wait = head->due_at * 1000 - va_wall_ms();
        if (wait > 0) {
            va_cond_wait_ms(va, wait);
            continue;
        }
        rc = va_queue_pop(&va->q, out);
        if (rc == CAIRN_OK) {
            snprintf(w->running, sizeof(w->running), "%s", out->chall_id);
            va->nrunning++;
        }
        break;
    }
    pthread_mutex_unlock(&va->mu);
    return rc;
}

/* RFC 7807 problem object as JSON text (caller frees), NULL on allocation failure. */
static char *
va_problem_json(const struct problem *p)
{
    json_t *o = json_object(), *detail = json_string(p->detail);
    char *s = NULL;

    if (detail == NULL) /* not valid UTF-8: never store it */
        detail = json_string("validation failed");
    if (o == NULL || detail == NULL)
        goto out;
    if (json_object_set_new(o, "type", json_string(problem_urn(p->type))) != 0 ||
        json_object_set(o, "detail", detail) != 0 ||
        json_object_set_new(o, "status", json_integer(problem_status(p))) != 0)
        goto out;
    s = json_dumps(o, JSON_COMPACT);
out:
    json_decref(detail);
    json_decref(o);
    return s;
}

static void
va_record(struct va *va, const struct st_va_job *job, bool valid, const struct problem *p)
{
    char *err = NULL;
    int64_t now;
    int rc;

    if (!valid) {
        err = va_problem_json(p);
        if (err == NULL) { /* stays processing; the next requeue retries it */
            log_err("va", "chall=%s out of memory recording the outcome", job->chall_id);
            return;
        }
    }
    now = va_wall_ms() / 1000;
    rc = store_apply_validation(va->st, job->chall_id, valid, err, now,
                                now + va->cfg.authz_valid_for);
    if (rc == CAIRN_OK)
        log_info("va", "chall=%s ident=%s result=%s%s%s", job->chall_id, job->ident.value,
                 valid ? "valid" : "invalid", valid ? "" : " problem=", valid ? "" : err);
    else if (rc == CAIRN_ERR_CONFLICT)
        log_debug("va", "chall=%s no longer processing; outcome dropped", job->chall_id);
    else
        log_warn("va", "chall=%s recording the outcome failed (rc=%d); will retry",
                 job->chall_id, rc);
    free(err);
}

/* RFC 8555 §8.2: failures that may pass on a second try. unauthorized and caa are answers
 * from the target or its DNS owner and are final. */
static bool
va_transient(const struct problem *p)
{
    return p->type == PROB_CONNECTION || p->type == PROB_DNS || p->type == PROB_TLS;
}

/* Schedules another attempt with exponential back-off: the row keeps the challenge
 * processing (attempts + 1, new due_at), the in-memory queue gets the hint. Returns false
 * when the retry could not be recorded (the caller then records the failure). */
static bool
va_schedule_retry(struct va *va, const struct st_va_job *job, const struct problem *p)
{
    struct st_va_job next = *job;
    int shift = job->attempts < 10 ? job->attempts : 10;
    int64_t delay = (int64_t)va->cfg.retry_spacing_s << shift;
    int rc;

    if (delay > VA_MAX_RETRY_DELAY)
        delay = VA_MAX_RETRY_DELAY;
    next.attempts = job->attempts + 1;
    next.due_at = va_wall_ms() / 1000 + delay;
    rc = store_challenge_retry(va->st, job->chall_id, next.due_at);
    if (rc == CAIRN_ERR_CONFLICT)
        return true; /* no longer processing: nothing left to do */
    if (rc != CAIRN_OK) {
        log_warn("va", "chall=%s recording a retry failed (rc=%d)", job->chall_id, rc);
        return false;
    }
    log_info("va", "chall=%s attempt %d failed (%s); retry %d of %d in %llds", job->chall_id,
             next.attempts, problem_name(p->type), next.attempts, va->cfg.retries,
             (long long)delay);
    pthread_mutex_lock(&va->mu);
    /* Pushed directly: this worker still holds the challenge as running. A full queue or a
     * stop loses nothing, the row is processing and the requeue finds it. */
    if (!va->stopping && va_queue_push(&va->q, &next) == CAIRN_OK)
        pthread_cond_signal(&va->cv);
    pthread_mutex_unlock(&va->mu);
    return true;
}

static void
va_run_job(struct va *va, const struct st_va_job *job)
{
    char key_authz[CAIRN_TOKEN_LEN + 1 + CAIRN_THUMBPRINT_LEN + 1], rl_key[128];
    struct fault_hit hit;
    struct problem p;
    double start = metrics_now();
    int rc = CAIRN_OK;

    problem_init(&p);
    snprintf(key_authz, sizeof(key_authz), "%s.%s", job->token, job->thumbprint);
    /* an injected "validation" fault: slow checks, or a forced failure */
    if (faults_match("validation", &hit))
        rc = faults_apply(&hit, &p);
    /* PEBBLE_VA_ALWAYS_VALID: no network, but still asynchronous. */
    if (rc == CAIRN_OK &&
        !(va->cfg.always_valid_rt ? atomic_load(va->cfg.always_valid_rt) : va->cfg.always_valid))
        rc = va_validate(&va->cfg, job, key_authz, &p);
    if (rc != CAIRN_OK && rc != CAIRN_ERR_PROTO)
        problem_set(&p, PROB_SERVER_INTERNAL, "the validation could not run (error %d)", rc);
    if (rc == CAIRN_ERR_PROTO && va_transient(&p) && job->attempts < va->cfg.retries &&
        va_schedule_retry(va, job, &p)) {
        problem_cleanup(&p);
        return;
    }
    va_record(va, job, rc == CAIRN_OK, &p);
    metrics_validation(chall_type_name(job->type), rc == CAIRN_OK, metrics_now() - start);
    if (rc != CAIRN_OK) {
        ratelimit_fail_key(job->account_id, job->ident.value, rl_key, sizeof(rl_key));
        ratelimit_record(RL_FAILED_VALIDATIONS, rl_key, va_wall_ms() / 1000);
    }
    problem_cleanup(&p);
}

static void *
va_worker_main(void *arg)
{
    struct va_worker *w = arg;
    struct st_va_job job;

    while (va_next_job(w, &job) == CAIRN_OK) {
        va_run_job(w->va, &job);
        pthread_mutex_lock(&w->va->mu);
        w->running[0] = '\0';
        w->va->nrunning--;
        pthread_mutex_unlock(&w->va->mu);
    }
    return NULL;
}

static void
va_config_defaults(struct va_config *c)
{
    if (c->workers <= 0)
        c->workers = VA_DEFAULT_WORKERS;
    if (c->workers > VA_MAX_WORKERS)
        c->workers = VA_MAX_WORKERS;
    if (c->timeout_ms <= 0)
        c->timeout_ms = VA_DEFAULT_TIMEOUT_MS;
    if (c->authz_valid_for <= 0)
        c->authz_valid_for = VA_DEFAULT_AUTHZ_VALID_FOR;
    if (c->http_port <= 0)
        c->http_port = 80;
    if (c->tls_port <= 0)
        c->tls_port = 443;
    if (c->sleep_max < 0)
        c->sleep_max = 0;
    if (c->retries < 0)
        c->retries = 0;
    if (c->retry_spacing_s <= 0)
        c->retry_spacing_s = VA_DEFAULT_RETRY_SPACING;
    if (c->validate_times < 1)
        c->validate_times = 1;
}

static int
va_sync_init(struct va *va)
{
    pthread_condattr_t ca;
    int rc;

    if (pthread_mutex_init(&va->mu, NULL) != 0)
        return CAIRN_ERR_IO;
    if (pthread_condattr_init(&ca) != 0) {
        pthread_mutex_destroy(&va->mu);
        return CAIRN_ERR_IO;
    }
    rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
                 pthread_cond_init(&va->cv, &ca) == 0
             ? CAIRN_OK
             : CAIRN_ERR_IO;
    pthread_condattr_destroy(&ca);
    if (rc != CAIRN_OK)
        pthread_mutex_destroy(&va->mu);
    return rc;
}

int
va_pool_start(const struct va_config *cfg, struct store *st, struct va **out)
{
    struct va *va;
    int rc;

    *out = NULL;
    if (cfg == NULL || st == NULL)
        return CAIRN_ERR_INVAL;
    va = calloc(1, sizeof(*va));
    if (va == NULL)
        return CAIRN_ERR_NOMEM;
    va->cfg = *cfg;
    va_config_defaults(&va->cfg);
    va->st = st;
    va->nworkers = (size_t)va->cfg.workers;
    va->workers = calloc(va->nworkers, sizeof(*va->workers));
    rc = va->workers ? va_queue_init(&va->q, VA_QUEUE_MAX) : CAIRN_ERR_NOMEM;
    if (rc == CAIRN_OK)
        rc = va_sync_init(va);
    if (rc != CAIRN_OK) {
        va_queue_cleanup(&va->q);
        free(va->workers);
        free(va);
        return rc;
    }
    for (size_t i = 0; i < va->nworkers; i++) {
        va->workers[i].va = va;
        if (pthread_create(&va->workers[i].thread, NULL, va_worker_main, &va->workers[i]) != 0) {
            va_pool_stop(va);
            return CAIRN_ERR_IO;
        }
        va->workers[i].started = true;
    }
    *out = va;
    return CAIRN_OK;
}

void
va_pool_stop(struct va *va)
{
    if (va == NULL)
        return;
    pthread_mutex_lock(&va->mu);
    va->stopping = true;
    pthread_cond_broadcast(&va->cv);
    pthread_mutex_unlock(&va->mu);
    /* Running checks finish (each bounded by timeout_ms); queued ones stay processing. */
    for (size_t i = 0; i < va->nworkers; i++)
        if (va->workers[i].started)
            pthread_join(va->workers[i].thread, NULL);
    pthread_cond_destroy(&va->cv);
    pthread_mutex_destroy(&va->mu);
    va_queue_cleanup(&va->q);
    free(va->workers);
    free(va);
}

/* Queues a copy unless the challenge is already queued or running (then CAIRN_OK). */
static int
va_enqueue(struct va *va, const struct st_va_job *job)
{
    int rc = CAIRN_OK;

    pthread_mutex_lock(&va->mu);
    if (va->stopping) {
        rc = CAIRN_ERR_BUSY;
        goto out;
    }
    for (size_t i = 0; i < va->nworkers; i++)
        if (strcmp(va->workers[i].running, job->chall_id) == 0)
            goto out;
    rc = va_queue_push(&va->q, job);
    if (rc == CAIRN_ERR_CONFLICT)
        rc = CAIRN_OK;
    else if (rc == CAIRN_OK)
        pthread_cond_signal(&va->cv);
out:
    pthread_mutex_unlock(&va->mu);
    return rc;
}

int
va_submit(struct va *va, const struct st_va_job *job)
{
    struct st_va_job copy;

    if (va == NULL || job == NULL || job->chall_id[0] == '\0')
        return CAIRN_ERR_INVAL;
    copy = *job;
    /* PEBBLE_VA_SLEEPTIME: a random delay only moves due_at; no worker sleeps for it. The
     * wait is 1 to N whole seconds, rounded up to the next second, so a client that reads
     * right after its POST always sees the challenge still processing (PROTOCOL.md §7). */
    if (va->cfg.sleep_max > 0) {
        int64_t wait_ms = 1000 * (1 + (int64_t)rand_below((uint32_t)va->cfg.sleep_max));
        int64_t earliest = (va_wall_ms() + wait_ms + 999) / 1000;

        if (copy.due_at < earliest)
            copy.due_at = earliest;
    }
    return va_enqueue(va, &copy);
}

int
va_requeue_from_store(struct va *va, int64_t now)
{
    struct st_va_job *jobs;
    size_t n = 0;
    int rc;

    if (va == NULL)
        return CAIRN_ERR_INVAL;
    jobs = calloc(VA_QUEUE_MAX, sizeof(*jobs));
    if (jobs == NULL)
        return CAIRN_ERR_NOMEM;
    rc = store_va_jobs_pending(va->st, now, jobs, VA_QUEUE_MAX, &n);
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++) {
        rc = va_enqueue(va, &jobs[i]);
        if (rc == CAIRN_ERR_BUSY) { /* full: the next scan picks the rest up */
            rc = CAIRN_OK;
            break;
        }
    }
    free(jobs);
    return rc;
}

size_t
va_queue_depth(struct va *va)
{
    size_t n;

    if (va == NULL)
        return 0;
    pthread_mutex_lock(&va->mu);
    n = va->q.n + va->nrunning;
    pthread_mutex_unlock(&va->mu);
    return n;
}

int
va_caa_recheck(struct va *va, const struct ident *id, const char *acct_url, const char *method,
               bool *enabled, struct problem *p)
{
    *enabled = va != NULL && va->cfg.caa;
    if (!*enabled)
        return CAIRN_OK;
    /* cfg is read-only after start: no lock needed */
    return va_caa_check(&va->cfg, id, acct_url, method, va->cfg.timeout_ms, p);
}
