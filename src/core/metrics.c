/* metrics.c - Prometheus text exposition written by hand (no client library): a few atomics,
 * fixed histograms and one mutex-guarded table for labelled counters. */
#include "cairn/metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define METRICS_LABELS_MAX 160 /* rendered label text of one row */
#define METRICS_ROWS 512       /* labelled rows across all families */

/* Histogram bucket bounds in seconds (the +Inf bucket is the count). */
static const double hist_bounds[] = { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                      0.25,  0.5,   1.0,  2.5,   5.0,  10.0 };
#define NBOUNDS (sizeof(hist_bounds) / sizeof(hist_bounds[0]))

struct hist {
    atomic_uint_fast64_t bucket[NBOUNDS];
    atomic_uint_fast64_t count;
    atomic_uint_fast64_t sum_us; /* microseconds: integer atomics, no float CAS loops */
};

enum family {
    FAM_HTTP_REQUESTS,
    FAM_PROBLEMS,
    FAM_VALIDATIONS,
    FAM_FAULTS,
    FAM_RATE_LIMITED,
    FAM__MAX
};

static const struct {
    const char *name;
    const char *help;
} families[FAM__MAX] = {
    [FAM_HTTP_REQUESTS] = { "cairn_http_requests_total", "ACME requests answered" },
    [FAM_PROBLEMS] = { "cairn_problems_total", "Problem documents sent, by type" },
    [FAM_VALIDATIONS] = { "cairn_validations_total", "Challenge validations, by outcome" },
    [FAM_FAULTS] = { "cairn_faults_injected_total", "Faults injected via /cairn/faults" },
    [FAM_RATE_LIMITED] = { "cairn_rate_limited_total", "Requests refused by a rate limit" },
};

struct row {
    enum family fam;
    char labels[METRICS_LABELS_MAX];
    uint64_t value;
};

static pthread_mutex_t rows_mu = PTHREAD_MUTEX_INITIALIZER;
static struct row rows[METRICS_ROWS];
static size_t nrows;

static struct hist http_hist, va_hist, store_write_hist, store_read_hist;
static atomic_uint_fast64_t certs_issued, nonces_issued, bad_nonces;
static atomic_long conns_open;

double
metrics_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
hist_observe(struct hist *h, double seconds)
{
    if (seconds < 0)
        seconds = 0;
    for (size_t i = 0; i < NBOUNDS; i++)
        if (seconds <= hist_bounds[i])
            atomic_fetch_add(&h->bucket[i], 1);
    atomic_fetch_add(&h->count, 1);
    atomic_fetch_add(&h->sum_us, (uint_fast64_t)(seconds * 1e6));
}

/* Label values come from our own tables, but escape anyway: a quote would break the line. */
static void
label_escape(char *out, size_t outsz, const char *v)
{
    size_t o = 0;

    for (; *v && o + 3 < outsz; v++) {
        if (*v == '"' || *v == '\\') {
            out[o++] = '\\';
            out[o++] = *v;
        } else if (*v == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *v;
        }
    }
    out[o] = '\0';
}

static void
row_add(enum family fam, const char *labels)
{
    size_t i;

    pthread_mutex_lock(&rows_mu);
    for (i = 0; i < nrows; i++)
        if (rows[i].fam == fam && strcmp(rows[i].labels, labels) == 0)
            break;
    if (i == nrows && nrows < METRICS_ROWS) {
        rows[i].fam = fam;
        snprintf(rows[i].labels, sizeof(rows[i].labels), "%s", labels);
        nrows++;
    }
    if (i < nrows)
        rows[i].value++;
    pthread_mutex_unlock(&rows_mu);
}

void
metrics_http_request(const char *route, const char *method, int status, double seconds)
{
    char r[96], m[16], labels[METRICS_LABELS_MAX];

    label_escape(r, sizeof(r), route ? route : "unmatched");
    label_escape(m, sizeof(m), method ? method : "other");
    snprintf(labels, sizeof(labels), "route=\"%s\",method=\"%s\",code=\"%d\"", r, m, status);
    row_add(FAM_HTTP_REQUESTS, labels);
    hist_observe(&http_hist, seconds);
}

void
metrics_problem(const char *type_name)
{
    char t[64], labels[METRICS_LABELS_MAX];

    label_escape(t, sizeof(t), type_name);
    snprintf(labels, sizeof(labels), "type=\"%s\"", t);
    row_add(FAM_PROBLEMS, labels);
    if (strcmp(type_name, "badNonce") == 0)
        atomic_fetch_add(&bad_nonces, 1);
}

void
metrics_validation(const char *chall_type, bool valid, double seconds)
{
    char t[32], labels[METRICS_LABELS_MAX];

    label_escape(t, sizeof(t), chall_type);
    snprintf(labels, sizeof(labels), "type=\"%s\",result=\"%s\"", t, valid ? "valid" : "invalid");
    row_add(FAM_VALIDATIONS, labels);
    hist_observe(&va_hist, seconds);
}

void
metrics_cert_issued(void)
{
    atomic_fetch_add(&certs_issued, 1);
}

void
metrics_nonce_issued(void)
{
    atomic_fetch_add(&nonces_issued, 1);
}

void
metrics_store_tx(bool write, double seconds)
{
    hist_observe(write ? &store_write_hist : &store_read_hist, seconds);
}

void
metrics_conn(int delta)
{
    atomic_fetch_add(&conns_open, delta);
}

void
metrics_fault(const char *endpoint, const char *kind)
{
    char e[48], k[16], labels[METRICS_LABELS_MAX];

    label_escape(e, sizeof(e), endpoint);
    label_escape(k, sizeof(k), kind);
    snprintf(labels, sizeof(labels), "endpoint=\"%s\",kind=\"%s\"", e, k);
    row_add(FAM_FAULTS, labels);
}

void
metrics_rate_limited(const char *limit)
{
    char l[48], labels[METRICS_LABELS_MAX];

    label_escape(l, sizeof(l), limit);
    snprintf(labels, sizeof(labels), "limit=\"%s\"", l);
    row_add(FAM_RATE_LIMITED, labels);
}

/* ---- rendering ---- */

struct sbuf {
    char *s;
    size_t len, cap;
    bool failed;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) CAIRN_PRINTF(2, 3);

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (int attempt = 0; attempt < 2 && !b->failed; attempt++) {
        va_start(ap, fmt);
        n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)n + 1;
        char *ns = realloc(b->s, cap);
        if (ns == NULL) {
            b->failed = true;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
}

static void
sb_header(struct sbuf *b, const char *name, const char *type, const char *help)
{
    sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
render_counter(struct sbuf *b, const char *name, const char *help, uint64_t v)
{
    sb_header(b, name, "counter", help);
    sb_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static void
render_gauge(struct sbuf *b, const char *name, const char *help, long v)
{
    sb_header(b, name, "gauge", help);
    sb_printf(b, "%s %ld\n", name, v);
}

static void
render_hist(struct sbuf *b, const char *name, const char *help, const char *labels,
            struct hist *h, bool header)
{
    const char *sep = labels[0] ? "," : "";

    if (header)
        sb_header(b, name, "histogram", help);
    for (size_t i = 0; i < NBOUNDS; i++)
        sb_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, hist_bounds[i],
                  (unsigned long long)atomic_load(&h->bucket[i]));
    sb_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
              (unsigned long long)atomic_load(&h->count));
    sb_printf(b, "%s_sum%s%s%s %.6f\n", name, labels[0] ? "{" : "", labels,
              labels[0] ? "}" : "", (double)atomic_load(&h->sum_us) / 1e6);
    sb_printf(b, "%s_count%s%s%s %llu\n", name, labels[0] ? "{" : "", labels,
              labels[0] ? "}" : "", (unsigned long long)atomic_load(&h->count));
}

static void
render_families(struct sbuf *b)
{
    pthread_mutex_lock(&rows_mu);
    for (int f = 0; f < FAM__MAX; f++) {
        sb_header(b, families[f].name, "counter", families[f].help);
        for (size_t i = 0; i < nrows; i++)
            if (rows[i].fam == (enum family)f)
                sb_printf(b, "%s{%s} %llu\n", families[f].name, rows[i].labels,
                          (unsigned long long)rows[i].value);
    }
    pthread_mutex_unlock(&rows_mu);
}

char *
metrics_render(const struct metrics_gauges *g)
{
    struct sbuf b = { .cap = 8192 };

    b.s = malloc(b.cap);
    if (b.s == NULL)
        return NULL;
    b.s[0] = '\0';
    render_families(&b);
    render_hist(&b, "cairn_http_request_duration_seconds", "ACME request latency", "",
                &http_hist, true);
    render_hist(&b, "cairn_validation_duration_seconds", "Challenge validation time", "",
                &va_hist, true);
    render_hist(&b, "cairn_store_transaction_seconds", "Store transaction time incl. retries",
                "kind=\"write\"", &store_write_hist, true);
    render_hist(&b, "cairn_store_transaction_seconds", "", "kind=\"read\"", &store_read_hist,
                false);
    render_counter(&b, "cairn_certificates_issued_total", "Certificates issued",
                   atomic_load(&certs_issued));
    render_counter(&b, "cairn_nonces_issued_total", "Replay nonces handed out",
                   atomic_load(&nonces_issued));
    render_counter(&b, "cairn_bad_nonces_total", "Requests refused with badNonce",
                   atomic_load(&bad_nonces));
    render_gauge(&b, "cairn_connections_open", "TCP connections open on the listeners",
                 atomic_load(&conns_open));
    if (g != NULL) {
        render_gauge(&b, "cairn_va_queue_depth", "Validations queued or running",
                     (long)g->va_queue_depth);
        render_gauge(&b, "cairn_http_requests_in_flight", "ACME requests being handled",
                     g->inflight_requests);
        render_gauge(&b, "cairn_draining", "1 while shutting down", g->draining ? 1 : 0);
    }
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

double
metrics_value(const char *name, const char *labels)
{
    char want[256], *text = metrics_render(NULL), *line;
    double v = -1;
    size_t n;

    if (text == NULL)
        return -1;
    if (labels[0])
        snprintf(want, sizeof(want), "%s{%s} ", name, labels);
    else
        snprintf(want, sizeof(want), "%s ", name);
    n = strlen(want);
    for (line = text; line != NULL && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1
                                                                        : NULL) {
        if (strncmp(line, want, n) == 0) {
            v = strtod(line + n, NULL);
            break;
        }
    }
    free(text);
    return v;
}
