/* main.c - cairn-bench driver: options, worker threads, timing window, the server's CPU time
 * (from /proc/PID/stat) and the client's own, and the report.
 *
 *   cairn-bench -m full|nonce|directory|floor -u https://127.0.0.1:14000/dir -c 4 -d 10
 *               [-n COUNT] [-k es256|rs256] [-t trust.pem] [-p SERVER_PID] [--label NAME]
 *
 * The last line is machine-readable ("RESULT k=v ...") for scripts/bench.sh. */
#include "bench.h"

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include <openssl/err.h>

#define MAX_WORKERS 1024
#define CONNS_PER_SRC 32 /* below cairn's per-IP connection cap (64) */

enum mode { MODE_FULL, MODE_NONCE, MODE_DIR, MODE_FLOOR };

struct opts {
    enum mode mode;
    const char *url;
    const char *trust;
    const char *label;
    int conc;
    double duration;
    unsigned long count;
    int pid;
    int timeout_s;
    bool spread;
    struct worker_cfg wcfg;
};

struct run {
    const struct opts *o;
    SSL_CTX *ctx;
    pthread_barrier_t start;
    atomic_ulong claimed;
    atomic_int prep_failed;
    uint64_t deadline;
};

struct thread_arg {
    struct run *run;
    struct worker w;
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: cairn-bench [-m full|nonce|directory|floor] [-u DIR_URL] [-c N] [-d SECONDS]\n"
               "                   [-n COUNT] [-k es256|rs256] [-t TRUST_PEM] [-p SERVER_PID]\n"
               "                   [--reuse-account] [--key-pool N] [--no-spread]\n"
               "                   [--timeout SECONDS] [--label NAME]\n");
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        { "mode", required_argument, NULL, 'm' },     { "url", required_argument, NULL, 'u' },
        { "concurrency", required_argument, NULL, 'c' },
        { "duration", required_argument, NULL, 'd' }, { "count", required_argument, NULL, 'n' },
        { "key", required_argument, NULL, 'k' },      { "trust", required_argument, NULL, 't' },
        { "pid", required_argument, NULL, 'p' },      { "reuse-account", no_argument, NULL, 'R' },
        { "key-pool", required_argument, NULL, 'K' }, { "no-spread", no_argument, NULL, 'S' },
        { "timeout", required_argument, NULL, 'T' },  { "label", required_argument, NULL, 'L' },
        { "help", no_argument, NULL, 'h' },           { NULL, 0, NULL, 0 },
    };
    int ch;

    *o = (struct opts){ .mode = MODE_FULL, .url = "https://127.0.0.1:14000/dir", .label = "",
                        .conc = 1, .duration = 10, .timeout_s = 10, .spread = true };
    while ((ch = getopt_long(argc, argv, "m:u:c:d:n:k:t:p:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'm':
            if (strcmp(optarg, "full") == 0)
                o->mode = MODE_FULL;
            else if (strcmp(optarg, "nonce") == 0)
                o->mode = MODE_NONCE;
            else if (strcmp(optarg, "directory") == 0)
                o->mode = MODE_DIR;
            else if (strcmp(optarg, "floor") == 0)
                o->mode = MODE_FLOOR;
            else
                return -1;
            break;
        case 'u': o->url = optarg; break;
        case 'c': o->conc = atoi(optarg); break;
        case 'd': o->duration = atof(optarg); break;
        case 'n': o->count = strtoul(optarg, NULL, 10); break;
        case 'k':
            if (strcmp(optarg, "es256") != 0 && strcmp(optarg, "rs256") != 0)
                return -1;
            o->wcfg.rsa = strcmp(optarg, "rs256") == 0;
            break;
        case 't': o->trust = optarg; break;
        case 'p': o->pid = atoi(optarg); break;
        case 'R': o->wcfg.reuse_account = true; break;
        case 'K': o->wcfg.key_pool = strtoul(optarg, NULL, 10); break;
        case 'S': o->spread = false; break;
        case 'T': o->timeout_s = atoi(optarg); break;
        case 'L': o->label = optarg; break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (o->conc < 1 || o->conc > MAX_WORKERS || o->duration <= 0 || o->timeout_s < 1)
        return -1;
    if (o->wcfg.key_pool == 0) {
        /* enough keys that a run rarely makes one on the clock, without hogging memory;
         * RSA keys are slow to make, so few (and --reuse-account is the usual choice) */
        size_t total = o->count ? o->count + (size_t)o->conc : (o->wcfg.rsa ? 64 : 16384);
        o->wcfg.key_pool = total / (size_t)o->conc + 1;
    }
    return 0;
}

/* utime + stime of a process in seconds; -1 when unreadable. */
static double
proc_cpu_s(int pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;
    FILE *f;
    size_t n;

    if (pid <= 0)
        return -1;
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    /* after ") " come fields 3..: state ppid pgrp session tty tpgid flags minflt cminflt
     * majflt cmajflt utime stime */
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
                            &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long
proc_rss_kib(int pid)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    if (pid <= 0)
        return -1;
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = atol(line + 6);
    }
    fclose(f);
    return kib;
}

static double
self_cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static bool
more(struct run *r)
{
    if (now_us() >= r->deadline)
        return false;
    if (r->o->count == 0)
        return true;
    return atomic_fetch_add(&r->claimed, 1) < r->o->count;
}

static void *
worker_main(void *arg)
{
    struct thread_arg *ta = arg;
    struct run *r = ta->run;
    struct worker *w = &ta->w;
    int ok = acme_worker_prepare(w) == 0 && acme_get_dir(w, r->o->url) == 0;

    if (!ok)
        atomic_store(&r->prep_failed, 1);
    /* the warm-up's samples and errors are not part of the measurement */
    stats_free(&w->st);
    pthread_barrier_wait(&r->start);
    pthread_barrier_wait(&r->start); /* main has set the deadline */
    if (!ok || atomic_load(&r->prep_failed))
        return NULL;
    while (more(r)) {
        switch (r->o->mode) {
        case MODE_FULL: (void)acme_issue(w, r->deadline + 5000000u); break;
        case MODE_NONCE: (void)acme_nonce_once(w); break;
        case MODE_DIR: (void)acme_dir_once(w, r->o->url); break;
        case MODE_FLOOR: return NULL;
        }
    }
    return NULL;
}

static const char *
mode_name(enum mode m)
{
    static const char *const n[] = { "full", "nonce", "directory", "floor" };
    return n[m];
}

/* The summary: per-request percentiles over every step but the whole issuance. */
static void
print_result(const struct opts *o, struct tstats *all, double secs, double srv_cpu,
             double cli_cpu, long rss)
{
    struct samples req = { 0 };
    double p50, p90, p99, max;
    unsigned long nerr = 0;

    for (int s = 0; s < STEP_ISSUANCE; s++) {
        for (size_t i = 0; i < all->step[s].n; i++)
            samples_add(&req, all->step[s].us[i]);
    }
    samples_pct(&req, &p50, &p90, &p99, &max);
    free(req.us);
    for (int i = 0; i < BENCH_MAX_ERRKINDS && all->err[i].kind[0]; i++)
        nerr += all->err[i].n;
    stats_print(all, secs);
    if (srv_cpu >= 0)
        printf("server CPU %.3f s = %.4f ms per op; RSS %ld KiB\n", srv_cpu,
               all->ops ? srv_cpu * 1e3 / all->ops : 0.0, rss);
    printf("client CPU %.3f s = %.4f ms per op\n", cli_cpu,
           all->ops ? cli_cpu * 1e3 / all->ops : 0.0);
    printf("RESULT label=%s mode=%s key=%s c=%d secs=%.2f ops=%lu ops_s=%.1f errors=%lu "
           "srv_cpu_ms_op=%.4f cli_cpu_ms_op=%.4f req_p50_ms=%.3f req_p90_ms=%.3f "
           "req_p99_ms=%.3f req_max_ms=%.3f srv_rss_kib=%ld\n",
           o->label[0] ? o->label : "-", mode_name(o->mode), o->wcfg.rsa ? "rs256" : "es256",
           o->conc, secs, all->ops, secs > 0 ? all->ops / secs : 0.0, nerr,
           (srv_cpu >= 0 && all->ops) ? srv_cpu * 1e3 / all->ops : -1.0,
           all->ops ? cli_cpu * 1e3 / all->ops : -1.0, p50, p90, p99, max, rss);
}

static int
start_workers(struct run *r, struct thread_arg *ta, pthread_t *th)
{
    const struct opts *o = r->o;
    int host127 = strncmp(o->url, "https://127.", 12) == 0;

    for (int i = 0; i < o->conc; i++) {
        char src[32] = "";

        if (o->spread && host127 && o->conc > CONNS_PER_SRC)
            snprintf(src, sizeof(src), "127.0.%d.%d", (i / CONNS_PER_SRC) / 250,
                     (i / CONNS_PER_SRC) % 250 + 2);
        ta[i].run = r;
        ta[i].w.id = i;
        ta[i].w.cfg = &o->wcfg;
        if (hconn_init(&ta[i].w.h, r->ctx, o->url, src, o->timeout_s) != 0) {
            fprintf(stderr, "cairn-bench: bad URL %s (want https://host:port/path)\n", o->url);
            return -1;
        }
        if (pthread_create(&th[i], NULL, worker_main, &ta[i]) != 0)
            return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct opts o;
    struct run r = { 0 };
    struct thread_arg *ta;
    pthread_t *th;
    struct tstats all = { 0 };
    double srv0, srv1, cli0, cli1, secs;
    uint64_t t0, t1;
    unsigned long ops;
    long rss;

    if (parse_opts(argc, argv, &o) != 0) {
        usage(stderr);
        return 2;
    }
    if (o.mode == MODE_FLOOR)
        return floor_run(o.count ? (unsigned)o.count : 2000) == 0 ? 0 : 1;
    r.o = &o;
    r.ctx = hclient_ctx(o.trust);
    ta = calloc((size_t)o.conc, sizeof(*ta));
    th = calloc((size_t)o.conc, sizeof(*th));
    if (r.ctx == NULL || ta == NULL || th == NULL)
        return 1;
    pthread_barrier_init(&r.start, NULL, (unsigned)o.conc + 1);
    if (start_workers(&r, ta, th) != 0)
        return 1;
    pthread_barrier_wait(&r.start); /* every worker has its keys, CSR and connection */
    srv0 = proc_cpu_s(o.pid);
    cli0 = self_cpu_s();
    t0 = now_us();
    r.deadline = t0 + (uint64_t)(o.duration * 1e6);
    pthread_barrier_wait(&r.start); /* go */
    for (int i = 0; i < o.conc; i++)
        pthread_join(th[i], NULL);
    t1 = now_us();
    srv1 = proc_cpu_s(o.pid);
    cli1 = self_cpu_s();
    rss = proc_rss_kib(o.pid);
    if (atomic_load(&r.prep_failed)) {
        fprintf(stderr, "cairn-bench: a worker could not prepare (keys, CSR or directory at %s)\n",
                o.url);
        return 1;
    }
    for (int i = 0; i < o.conc; i++) {
        stats_merge(&all, &ta[i].w.st);
        acme_worker_cleanup(&ta[i].w);
    }
    secs = (double)(t1 - t0) / 1e6;
    print_result(&o, &all, secs, srv0 >= 0 && srv1 >= 0 ? srv1 - srv0 : -1, cli1 - cli0, rss);
    ops = all.ops;
    stats_free(&all);
    free(ta);
    free(th);
    SSL_CTX_free(r.ctx);
    return ops > 0 ? 0 : 1;
}
