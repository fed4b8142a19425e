/* stats.c - latency samples per step, percentiles and error counts. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const step_names[STEP_COUNT] = {
    "directory", "newNonce", "newAccount", "newOrder", "authz", "challenge", "authz-poll",
    "finalize", "order-poll", "cert", "issuance",
};

const char *
step_name(enum step s)
{
    return s < STEP_COUNT ? step_names[s] : "?";
}

void
samples_add(struct samples *s, uint64_t us)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        uint32_t *n = realloc(s->us, cap * sizeof(*n));
        if (n == NULL)
            return;
        s->us = n;
        s->cap = cap;
    }
    s->us[s->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

void
stats_error(struct tstats *t, const char *kind)
{
    int i;

    for (i = 0; i < BENCH_MAX_ERRKINDS && t->err[i].kind[0]; i++) {
        if (strcmp(t->err[i].kind, kind) == 0) {
            t->err[i].n++;
            return;
        }
    }
    if (i == BENCH_MAX_ERRKINDS)
        i = BENCH_MAX_ERRKINDS - 1; /* lump the rest into the last slot */
    else
        snprintf(t->err[i].kind, sizeof(t->err[i].kind), "%s", kind);
    t->err[i].n++;
}

void
stats_merge(struct tstats *dst, struct tstats *src)
{
    for (int s = 0; s < STEP_COUNT; s++) {
        struct samples *d = &dst->step[s], *o = &src->step[s];
        for (size_t i = 0; i < o->n; i++)
            samples_add(d, o->us[i]);
        free(o->us);
        memset(o, 0, sizeof(*o));
    }
    for (int i = 0; i < BENCH_MAX_ERRKINDS && src->err[i].kind[0]; i++) {
        for (unsigned long k = 0; k < src->err[i].n; k++)
            stats_error(dst, src->err[i].kind);
    }
    dst->ops += src->ops;
    dst->requests += src->requests;
}

void
stats_free(struct tstats *t)
{
    for (int s = 0; s < STEP_COUNT; s++)
        free(t->step[s].us);
    memset(t, 0, sizeof(*t));
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void
samples_pct(struct samples *s, double *p50, double *p90, double *p99, double *max)
{
    *p50 = *p90 = *p99 = *max = 0;
    if (s->n == 0)
        return;
    qsort(s->us, s->n, sizeof(*s->us), cmp_u32);
    *p50 = s->us[(s->n - 1) * 50 / 100] / 1000.0;
    *p90 = s->us[(s->n - 1) * 90 / 100] / 1000.0;
    *p99 = s->us[(s->n - 1) * 99 / 100] / 1000.0;
    *max = s->us[s->n - 1] / 1000.0;
}

void
stats_print(struct tstats *t, double seconds)
{
    unsigned long nerr = 0;

    printf("%-12s %9s %9s %9s %9s %9s\n", "step (ms)", "count", "p50", "p90", "p99", "max");
    for (int s = 0; s < STEP_COUNT; s++) {
        double p50, p90, p99, max;

        if (t->step[s].n == 0)
            continue;
        samples_pct(&t->step[s], &p50, &p90, &p99, &max);
        printf("%-12s %9zu %9.3f %9.3f %9.3f %9.3f\n", step_name((enum step)s), t->step[s].n,
               p50, p90, p99, max);
    }
    for (int i = 0; i < BENCH_MAX_ERRKINDS && t->err[i].kind[0]; i++) {
        printf("error %-60s %lu\n", t->err[i].kind, t->err[i].n);
        nerr += t->err[i].n;
    }
    printf("ops %lu in %.2f s = %.1f/s; requests %lu = %.1f/s; errors %lu\n", t->ops, seconds,
           seconds > 0 ? t->ops / seconds : 0.0, t->requests,
           seconds > 0 ? t->requests / seconds : 0.0, nerr);
}
