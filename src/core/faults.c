/* faults.c - the installed faults: a small array under a mutex, consulted once per request
 * (the table is empty in normal operation, so the cost is one lock). */
#include "cairn/faults.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cairn/log.h"
#include "cairn/metrics.h"
#include "cairn/rand.h"

struct fault {
    int id;
    char endpoint[32];
    int every;     /* fire on every Nth match; 0 when percent decides */
    int percent;   /* 1-100 */
    int times;     /* fire at most this often; 0 = unlimited */
    long seen;     /* matching requests so far */
    long fired;
    int status;
    enum prob_type problem;
    int retry_after;
    int delay_ms;
};

static pthread_mutex_t faults_mu = PTHREAD_MUTEX_INITIALIZER;
static struct fault faults[FAULTS_MAX];
static size_t nfaults;
static int next_id = 1;

/* Problem types a fault may carry, by the name in the request. */
static const enum prob_type fault_problems[] = { PROB_RATE_LIMITED, PROB_SERVER_INTERNAL,
                                                 PROB_BAD_NONCE, PROB_MALFORMED,
                                                 PROB_UNAUTHORIZED, PROB_CONNECTION,
                                                 PROB_DNS };

static int
parse_problem(const char *name, enum prob_type *out)
{
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(fault_problems); i++) {
        if (strcmp(name, problem_name(fault_problems[i])) == 0) {
            *out = fault_problems[i];
            return CAIRN_OK;
        }
    }
    return CAIRN_ERR_INVAL;
}

static int
get_int(const json_t *spec, const char *key, int min, int max, int *out, char *err, size_t errsz)
{
    const json_t *v = json_object_get(spec, key);

    if (v == NULL)
        return CAIRN_OK;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        snprintf(err, errsz, "%s must be an integer from %d to %d", key, min, max);
        return CAIRN_ERR_INVAL;
    }
    *out = (int)json_integer_value(v);
    return CAIRN_OK;
}

static int
default_status(enum prob_type t)
{
    return t == PROB_RATE_LIMITED ? 429 : t == PROB_SERVER_INTERNAL ? 500 : 400;
}

/* Fills f from spec; every key is checked (an unknown key is refused: a typo must not turn
 * into a fault that silently does something else). */
static int
parse_fault(const json_t *spec, struct fault *f, char *err, size_t errsz)
{
    static const char *const keys[] = { "endpoint", "every", "percent", "times", "status",
                                        "problem", "retryAfter", "delayMs" };
    const char *ep = json_string_value(json_object_get(spec, "endpoint")), *k, *prob;
    json_t *v;

    if (!json_is_object(spec))
        return cairn_err_inval(err, errsz, "the body must be a JSON object");
    json_object_foreach((json_t *)spec, k, v) {
        size_t i = 0;
        while (i < CAIRN_ARRAY_LEN(keys) && strcmp(keys[i], k) != 0)
            i++;
        if (i == CAIRN_ARRAY_LEN(keys))
            return cairn_err_inval(err, errsz, "unknown key \"%s\"", k);
    }
    if (ep == NULL || ep[0] == '\0' || strlen(ep) >= sizeof(f->endpoint))
        return cairn_err_inval(err, errsz, "endpoint must name an endpoint or \"*\"");
    snprintf(f->endpoint, sizeof(f->endpoint), "%s", ep);
    if (get_int(spec, "every", 1, 1000000, &f->every, err, errsz) ||
        get_int(spec, "percent", 1, 100, &f->percent, err, errsz) ||
        get_int(spec, "times", 1, 1000000, &f->times, err, errsz) ||
        get_int(spec, "status", 400, 599, &f->status, err, errsz) ||
        get_int(spec, "retryAfter", 1, 86400, &f->retry_after, err, errsz) ||
        get_int(spec, "delayMs", 1, 60000, &f->delay_ms, err, errsz))
        return CAIRN_ERR_INVAL;
    if (f->every && f->percent)
        return cairn_err_inval(err, errsz, "give every or percent, not both");
    if (!f->every && !f->percent)
        f->every = 1;
    prob = json_string_value(json_object_get(spec, "problem"));
    if (json_object_get(spec, "problem") != NULL &&
        (prob == NULL || parse_problem(prob, &f->problem) != CAIRN_OK))
        return cairn_err_inval(err, errsz, "problem must be rateLimited, serverInternal, badNonce, "
                        "malformed, unauthorized, connection or dns");
    if (f->problem != PROB_NONE && f->status == 0)
        f->status = default_status(f->problem);
    if (f->status != 0 && f->problem == PROB_NONE)
        f->problem = f->status == 429 ? PROB_RATE_LIMITED
                     : f->status >= 500 ? PROB_SERVER_INTERNAL : PROB_MALFORMED;
    if (f->status == 0 && f->delay_ms == 0)
        return cairn_err_inval(err, errsz, "a fault needs a status, a problem or delayMs");
    return CAIRN_OK;
}

int
faults_add(const json_t *spec, int *id_out, char *err, size_t errsz)
{
    struct fault f = { 0 };
    int rc = parse_fault(spec, &f, err, errsz);

    if (rc != CAIRN_OK)
        return rc;
    pthread_mutex_lock(&faults_mu);
    if (nfaults >= FAULTS_MAX) {
        rc = CAIRN_ERR_CONFLICT;
        snprintf(err, errsz, "at most %d faults", FAULTS_MAX);
    } else {
        f.id = next_id++;
        faults[nfaults++] = f;
        *id_out = f.id;
    }
    pthread_mutex_unlock(&faults_mu);
    if (rc == CAIRN_OK)
        log_info("faults", "fault %d added for endpoint %s (status %d, delay %d ms)", f.id,
                 f.endpoint, f.status, f.delay_ms);
    return rc;
}

static json_t *
fault_json(const struct fault *f)
{
    json_t *o = json_pack("{s:i, s:s, s:I, s:I}", "id", f->id, "endpoint", f->endpoint, "seen",
                          (json_int_t)f->seen, "fired", (json_int_t)f->fired);

    if (o == NULL)
        return NULL;
    if (f->every)
        json_object_set_new(o, "every", json_integer(f->every));
    if (f->percent)
        json_object_set_new(o, "percent", json_integer(f->percent));
    if (f->times)
        json_object_set_new(o, "times", json_integer(f->times));
    if (f->status) {
        json_object_set_new(o, "status", json_integer(f->status));
        json_object_set_new(o, "problem", json_string(problem_name(f->problem)));
    }
    if (f->retry_after)
        json_object_set_new(o, "retryAfter", json_integer(f->retry_after));
    if (f->delay_ms)
        json_object_set_new(o, "delayMs", json_integer(f->delay_ms));
    return o;
}

json_t *
faults_list(void)
{
    json_t *arr = json_array(), *o;

    if (arr == NULL)
        return NULL;
    pthread_mutex_lock(&faults_mu);
    for (size_t i = 0; i < nfaults; i++)
        if ((o = fault_json(&faults[i])) != NULL)
            json_array_append_new(arr, o);
    pthread_mutex_unlock(&faults_mu);
    return json_pack("{s:o}", "faults", arr);
}

void
faults_clear(void)
{
    pthread_mutex_lock(&faults_mu);
    nfaults = 0;
    pthread_mutex_unlock(&faults_mu);
    log_info("faults", "all faults cleared");
}

/* Under faults_mu: counts the match and decides. */
static bool
fault_fires(struct fault *f)
{
    if (f->times && f->fired >= f->times)
        return false;
    f->seen++;
    if (f->every ? f->seen % f->every != 0 : (int)rand_below(100) >= f->percent)
        return false;
    f->fired++;
    return true;
}

bool
faults_match(const char *endpoint, struct fault_hit *hit)
{
    bool fired = false;

    pthread_mutex_lock(&faults_mu);
    for (size_t i = 0; i < nfaults && !fired; i++) {
        struct fault *f = &faults[i];
        if (strcmp(f->endpoint, "*") != 0 && strcmp(f->endpoint, endpoint) != 0)
            continue;
        if (strcmp(f->endpoint, "*") == 0 && strcmp(endpoint, "validation") == 0)
            continue; /* "*" means the ACME endpoints; the VA is named explicitly */
        if (!fault_fires(f))
            continue;
        fired = true;
        hit->id = f->id;
        hit->delay_ms = f->delay_ms;
        hit->status = f->status;
        hit->problem = f->problem;
        hit->retry_after = f->retry_after;
    }
    pthread_mutex_unlock(&faults_mu);
    if (fired) {
        log_info("faults", "fault %d fired on %s (status %d, delay %d ms)", hit->id, endpoint,
                 hit->status, hit->delay_ms);
        metrics_fault(endpoint, hit->status ? "error" : "delay");
    }
    return fired;
}

int
faults_apply(const struct fault_hit *hit, struct problem *p)
{
    if (hit->delay_ms > 0) {
        struct timespec ts = { hit->delay_ms / 1000, (long)(hit->delay_ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) != 0) {
        }
    }
    if (hit->status == 0)
        return CAIRN_OK;
    problem_set_status(p, hit->problem, hit->status, "injected fault %d", hit->id);
    p->retry_after = hit->retry_after;
    return CAIRN_ERR_PROTO;
}
