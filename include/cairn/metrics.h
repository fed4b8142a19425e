/* metrics.h - process-wide counters and histograms, rendered as Prometheus text (exposition
 * format 0.0.4) for GET /metrics on the management listener (ARCHITECTURE.md §12).
 *
 * Locked singleton (ARCHITECTURE.md §4): unlabelled counters and histogram buckets are C11
 * atomics; labelled families (route/method/code, problem type, ...) live in a small fixed
 * table under one mutex. Every function is thread-safe and never fails: a full label table
 * counts into an "other" row instead. Hooks are one-line calls where an outcome is decided. */
#ifndef CAIRN_METRICS_H
#define CAIRN_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "cairn/core.h"

/* Monotonic clock in seconds, for durations. */
double metrics_now(void);

/* One answered ACME request: route is the route pattern ("/acme/order/{id}/finalize") or
 * "unmatched"; status the HTTP status sent; seconds from the first byte to the answer. */
void metrics_http_request(const char *route, const char *method, int status, double seconds);
/* A problem document sent, by short type name ("badNonce"); counts bad nonces too. */
void metrics_problem(const char *type_name);
/* A validation outcome recorded by the VA ("http-01", valid or not) and how long it ran. */
void metrics_validation(const char *chall_type, bool valid, double seconds);
void metrics_cert_issued(void);
void metrics_nonce_issued(void);
/* One store transaction (write or read) including busy retries. */
void metrics_store_tx(bool write, double seconds);
/* TCP connections opened (+1) and closed (-1) on any listener. */
void metrics_conn(int delta);
/* A fault injected by /cairn/faults on endpoint (kind "error" or "delay"). */
void metrics_fault(const char *endpoint, const char *kind);
/* A request refused by a rate limit (limit name). */
void metrics_rate_limited(const char *limit);

/* Values sampled at render time. */
struct metrics_gauges {
    size_t va_queue_depth;
    bool draining;
    long inflight_requests;
};

/* The whole exposition as heap text (caller frees); NULL when out of memory. */
char *metrics_render(const struct metrics_gauges *g);
/* Current value of a counter line as rendered ("cairn_certificates_issued_total"), for
 * tests; labels as rendered inside the braces ("" for none). -1 when absent. */
double metrics_value(const char *name, const char *labels);

#endif
