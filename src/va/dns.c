/* dns.c - the VA's resolver on c-ares 1.18.1 (the only file that includes <ares.h>).
 *
 * A channel is created per lookup: 1.18.1 channels are not thread-safe, and a fresh one also
 * means no state (cache, server rotation) leaks between validations. NOCHECKRESP makes a
 * SERVFAIL or REFUSED answer come back as such instead of being retried into a timeout. */
#include "va/va_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/nameser.h>
#include <ares.h>

#include "cairn/problem.h"

struct dns_answer {
    bool done;
    int status;          /* ARES_* */
    unsigned char *abuf; /* owned copy of the answer when status is ARES_SUCCESS */
    int alen;
};

int
va_dns_global_init(void)
{
    return ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS ? CAIRN_OK : CAIRN_ERR_IO;
}

void
va_dns_global_cleanup(void)
{
    ares_library_cleanup();
}

int64_t
va_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
va_ms_left(int64_t deadline)
{
    int64_t left = deadline - va_mono_ms();

    return left > 0 ? left : 0;
}

static void
dns_answer_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct dns_answer *a = arg;

    (void)timeouts;
    a->done = true;
    a->status = status;
    if (status != ARES_SUCCESS || abuf == NULL || alen <= 0)
        return;
    a->abuf = malloc((size_t)alen);
    if (a->abuf == NULL) {
        a->status = ARES_ENOMEM;
        return;
    }
    memcpy(a->abuf, abuf, (size_t)alen);
    a->alen = alen;
}

static void
dns_answer_cleanup(struct dns_answer *a)
{
    free(a->abuf);
    memset(a, 0, sizeof(*a));
}

static int
dns_channel_new(const struct va_config *cfg, int64_t deadline, ares_channel *out)
{
    struct ares_options opts;
    int64_t left = va_ms_left(deadline);
    ares_channel ch;

    memset(&opts, 0, sizeof(opts));
    opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_EDNS | ARES_FLAG_NOCHECKRESP;
    opts.timeout = (int)(left < VA_DNS_TRY_MS ? (left > 0 ? left : 1) : VA_DNS_TRY_MS);
    opts.tries = VA_DNS_TRIES;
    if (ares_init_options(&ch, &opts, ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) !=
        ARES_SUCCESS)
        return CAIRN_ERR_IO;
    if (cfg->dns_server[0] != '\0' &&
        ares_set_servers_ports_csv(ch, cfg->dns_server) != ARES_SUCCESS) {
        ares_destroy(ch);
        return CAIRN_ERR_INVAL;
    }
    *out = ch;
    return CAIRN_OK;
}

/* Drives the channel until every answer is done or the deadline passes (then cancels, which
 * completes the outstanding queries with ARES_ECANCELLED). */
static void
dns_wait(ares_channel ch, struct dns_answer *ans, size_t n, int64_t deadline)
{
    for (;;) {
        ares_socket_t socks[ARES_GETSOCK_MAXNUM];
        struct pollfd pfd[ARES_GETSOCK_MAXNUM];
        struct timeval maxtv, tv, *tvp;
        nfds_t nfds = 0;
        int64_t left = va_ms_left(deadline);
        bool pending = false;
        unsigned int bits;
        int ms, rc;

        for (size_t i = 0; i < n; i++)
            pending = pending || !ans[i].done;
        if (!pending)
            return;
        if (left == 0) {
            ares_cancel(ch);
            return;
        }
        bits = (unsigned int)ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
        for (unsigned int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
            short ev = 0;

            /* ARES_GETSOCK_WRITABLE() shifts a signed 1 into the sign bit for the last
             * socket (undefined behaviour); test the same bits unsigned. */
            if (bits & (1u << i))
                ev |= POLLIN;
            if (bits & (1u << (i + ARES_GETSOCK_MAXNUM)))
                ev |= POLLOUT;
            if (ev == 0)
                continue;
            pfd[nfds].fd = socks[i];
            pfd[nfds].events = ev;
            pfd[nfds].revents = 0;
            nfds++;
        }
        maxtv.tv_sec = (time_t)(left / 1000);
        maxtv.tv_usec = (suseconds_t)((left % 1000) * 1000);
        tvp = ares_timeout(ch, &maxtv, &tv);
        ms = (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);
        rc = poll(pfd, nfds, ms);
        if (rc < 0 && errno != EINTR) {
            ares_cancel(ch);
            return;
        }
        if (rc <= 0) {
            ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts and retries */
            continue;
        }
        for (nfds_t i = 0; i < nfds; i++) {
            ares_socket_t r = (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) ? pfd[i].fd
                                                                              : ARES_SOCKET_BAD;
            ares_socket_t w = (pfd[i].revents & POLLOUT) ? pfd[i].fd : ARES_SOCKET_BAD;

            if (r != ARES_SOCKET_BAD || w != ARES_SOCKET_BAD)
                ares_process_fd(ch, r, w);
        }
    }
}

/* Runs n queries of name (one per qtype) on a fresh channel until deadline. */
static int
dns_run(const struct va_config *cfg, const char *name, const int *qtypes, size_t n,
        int64_t deadline, struct dns_answer *ans, struct problem *p)
{
    ares_channel ch;
    int rc = dns_channel_new(cfg, deadline, &ch);

    if (rc == CAIRN_ERR_INVAL)
        return problem_set(p, PROB_SERVER_INTERNAL, "DNS problem: bad resolver address \"%s\"",
                           cfg->dns_server);
    if (rc != CAIRN_OK)
        return problem_set(p, PROB_SERVER_INTERNAL, "DNS problem: resolver setup failed");
    for (size_t i = 0; i < n; i++)
        ares_query(ch, name, ns_c_in, qtypes[i], dns_answer_cb, &ans[i]);
    dns_wait(ch, ans, n, deadline);
    ares_destroy(ch); /* completes anything left with ARES_EDESTRUCTION */
    return CAIRN_OK;
}

static const char *
dns_qtype_name(int qtype)
{
    switch (qtype) {
    case ns_t_a:
        return "A";
    case ns_t_aaaa:
        return "AAAA";
    case ns_t_txt:
        return "TXT";
    case VA_QTYPE_CAA:
        return "CAA";
    default:
        return "record";
    }
}

/* The dns problem for a failed query (status is not ARES_SUCCESS / ARES_ENODATA). */
static int
dns_fail(struct problem *p, int status, int qtype, const char *name)
{
    const char *what;

    switch (status) {
    case ARES_ENOTFOUND:
        what = "NXDOMAIN";
        break;
    case ARES_ESERVFAIL:
        what = "SERVFAIL";
        break;
    case ARES_EREFUSED:
        what = "REFUSED";
        break;
    case ARES_ETIMEOUT:
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION:
        what = "query timed out";
        break;
    case ARES_ENOMEM:
        return CAIRN_ERR_NOMEM;
    default:
        what = ares_strerror(status);
        break;
    }
    return problem_set(p, PROB_DNS, "DNS problem: %s looking up %s for %s", what,
                       dns_qtype_name(qtype), name);
}

static void
dns_take_a(const struct dns_answer *a, struct va_addrs *out)
{
    struct ares_addrttl ttls[VA_MAX_ADDRS];
    int n = VA_MAX_ADDRS;

    if (ares_parse_a_reply(a->abuf, a->alen, NULL, ttls, &n) != ARES_SUCCESS)
        return;
    for (int i = 0; i < n && out->n4 < VA_MAX_ADDRS; i++)
        if (inet_ntop(AF_INET, &ttls[i].ipaddr, out->v4[out->n4], INET_ADDRSTRLEN) != NULL)
            out->n4++;
}

static void
dns_take_aaaa(const struct dns_answer *a, struct va_addrs *out)
{
    struct ares_addr6ttl ttls[VA_MAX_ADDRS];
    int n = VA_MAX_ADDRS;

    if (ares_parse_aaaa_reply(a->abuf, a->alen, NULL, ttls, &n) != ARES_SUCCESS)
        return;
    for (int i = 0; i < n && out->n6 < VA_MAX_ADDRS; i++)
        if (inet_ntop(AF_INET6, &ttls[i].ip6addr, out->v6[out->n6], INET6_ADDRSTRLEN) != NULL)
            out->n6++;
}

int
va_dns_resolve(const struct va_config *cfg, const char *name, int64_t deadline,
               struct va_addrs *out, struct problem *p)
{
    static const int qtypes[2] = { ns_t_a, ns_t_aaaa };
    struct dns_answer ans[2];
    int rc;

    memset(out, 0, sizeof(*out));
    memset(ans, 0, sizeof(ans));
    rc = dns_run(cfg, name, qtypes, 2, deadline, ans, p);
    if (rc != CAIRN_OK)
        goto out;
    if (ans[0].status == ARES_SUCCESS)
        dns_take_a(&ans[0], out);
    if (ans[1].status == ARES_SUCCESS)
        dns_take_aaaa(&ans[1], out);
    if (out->n4 + out->n6 > 0)
        goto out; /* one family answering is enough */
    /* Report the A lookup's failure first: it is what most operators look at. */
    for (size_t i = 0; i < 2; i++) {
        if (ans[i].status != ARES_SUCCESS && ans[i].status != ARES_ENODATA) {
            rc = dns_fail(p, ans[i].status, qtypes[i], name);
            goto out;
        }
    }
    rc = problem_set(p, PROB_DNS, "DNS problem: no valid A or AAAA records found for %s", name);
out:
    dns_answer_cleanup(&ans[0]);
    dns_answer_cleanup(&ans[1]);
    return rc;
}

void
va_txt_cleanup(struct va_txt *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->rec[i]);
    memset(t, 0, sizeof(*t));
}

/* Appends one string of a TXT record to the current record (joined, capped). */
static void
txt_append(struct va_txt *t, const unsigned char *s, size_t n)
{
    size_t i = t->n - 1, len = t->len[i];

    if (len + n > VA_MAX_TXT_LEN)
        n = VA_MAX_TXT_LEN - len; /* an oversized record cannot match; keep it bounded */
    memcpy(t->rec[i] + len, s, n);
    t->len[i] = len + n;
    t->rec[i][t->len[i]] = '\0';
}

static int
txt_collect(const struct dns_answer *a, struct va_txt *out)
{
    struct ares_txt_ext *head = NULL;
    int rc = CAIRN_OK;

    if (ares_parse_txt_reply_ext(a->abuf, a->alen, &head) != ARES_SUCCESS)
        return CAIRN_OK; /* no parsable TXT: treated as none */
    for (struct ares_txt_ext *t = head; t != NULL; t = t->next) {
        if (t->record_start) {
            if (out->n == VA_MAX_TXT_RECORDS)
                break;
            out->rec[out->n] = malloc(VA_MAX_TXT_LEN + 1);
            if (out->rec[out->n] == NULL) {
                rc = CAIRN_ERR_NOMEM;
                break;
            }
            out->rec[out->n][0] = '\0';
            out->len[out->n++] = 0;
        }
        if (out->n > 0)
            txt_append(out, t->txt, t->length);
    }
    ares_free_data(head);
    return rc;
}

int
va_dns_txt(const struct va_config *cfg, const char *name, int64_t deadline, struct va_txt *out,
           struct problem *p)
{
    static const int qtypes[1] = { ns_t_txt };
    struct dns_answer ans;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&ans, 0, sizeof(ans));
    rc = dns_run(cfg, name, qtypes, 1, deadline, &ans, p);
    if (rc != CAIRN_OK)
        goto out;
    if (ans.status == ARES_SUCCESS)
        rc = txt_collect(&ans, out);
    else if (ans.status != ARES_ENODATA)
        rc = dns_fail(p, ans.status, ns_t_txt, name);
out:
    dns_answer_cleanup(&ans);
    return rc;
}

int
va_dns_query_raw(const struct va_config *cfg, const char *name, int qtype, int64_t deadline,
                 uint8_t **abuf, size_t *alen, struct problem *p)
{
    const int qtypes[1] = { qtype };
    struct dns_answer ans;
    int rc;

    *abuf = NULL;
    *alen = 0;
    memset(&ans, 0, sizeof(ans));
    rc = dns_run(cfg, name, qtypes, 1, deadline, &ans, p);
    if (rc != CAIRN_OK)
        goto out;
    if (ans.status == ARES_SUCCESS && ans.abuf != NULL) {
        *abuf = ans.abuf; /* ownership moves to the caller */
        *alen = (size_t)ans.alen;
        ans.abuf = NULL;
    } else if (ans.status == ARES_ENODATA || ans.status == ARES_ENOTFOUND) {
        rc = CAIRN_ERR_NOTFOUND;
    } else {
        rc = dns_fail(p, ans.status, qtype, name);
    }
out:
    dns_answer_cleanup(&ans);
    return rc;
}
