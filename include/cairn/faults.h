/* faults.h - runtime fault injection (issue 7), driven by the management API's /cairn/faults
 * in test mode (CA mode only with allowTestControls).
 *
 * A fault names an endpoint (a directory name such as "newOrder", "finalize", "order",
 * "validation" for the VA's checks, or "*"), when it fires (every Nth matching request or a
 * percentage, optionally only `times` times) and what it does: a delay, an error answer
 * (status, problem type, Retry-After), or both. Locked singleton; thread-safe. */
#ifndef CAIRN_FAULTS_H
#define CAIRN_FAULTS_H

#include <stdbool.h>

#include <jansson.h>

#include "cairn/core.h"
#include "cairn/problem.h"

#define FAULTS_MAX 32

/* What one request gets from the first fault that fires. */
struct fault_hit {
    int id;
    int delay_ms;     /* 0 = none */
    int status;       /* 0 = no error answer (delay only) */
    enum prob_type problem;
    int retry_after;  /* seconds, 0 = none */
};

/* Parses and adds a fault from its JSON description. On a bad description writes a message
 * to err and returns CAIRN_ERR_INVAL; CAIRN_ERR_CONFLICT when FAULTS_MAX are installed. */
int faults_add(const json_t *spec, int *id_out, char *err, size_t errsz) CAIRN_MUST_CHECK;
/* {"faults": [ {id, endpoint, every|percent, times, fired, status, problem, retryAfter,
 * delayMs}, ... ]} (new reference; NULL when out of memory). */
json_t *faults_list(void);
void faults_clear(void);
/* Decides for one request on endpoint; true (and *hit filled) when a fault fires. Logs it
 * and counts it in cairn_faults_injected_total. */
bool faults_match(const char *endpoint, struct fault_hit *hit);
/* Applies a hit: sleeps delay_ms, then when it carries an error fills p (with
 * p->retry_after) and returns CAIRN_ERR_PROTO; else CAIRN_OK. */
int faults_apply(const struct fault_hit *hit, struct problem *p) CAIRN_MUST_CHECK;

#endif
