/* test_va_pool.c - the VA worker pool (va.c) against a stand-in store.
 *
 * This file defines the three store functions va.c calls (store_apply_validation,
 * store_va_jobs_pending, store_challenge_retry). The linker takes them from here, so no
 * object of the real store is pulled out of libcairn_core: va.c must keep calling no other
 * store_* function. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <jansson.h>

#include "cairn/va.h"

struct store {
    int unused;
};

#define MAX_CALLS 64

struct applied {
    char chall_id[CAIRN_ID_LEN + 1];
    bool valid;
    char error[512];
    bool has_error;
    int64_t now, until;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct applied calls[MAX_CALLS];
    size_t n;
    struct st_va_job pending[4];
    size_t npending;
    int retries;          /* store_challenge_retry calls */
    int64_t last_retry_due;
} fake = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static struct store the_store;

int
store_apply_validation(struct store *st, const char *chall_id, bool valid, const char *error,
                       int64_t now, int64_t authz_valid_until)
{
    struct applied *a;

    assert_ptr_equal(st, &the_store);
    pthread_mutex_lock(&fake.mu);
    if (fake.n < MAX_CALLS) {
        a = &fake.calls[fake.n++];
        snprintf(a->chall_id, sizeof(a->chall_id), "%s", chall_id);
        a->valid = valid;
        a->has_error = error != NULL;
        snprintf(a->error, sizeof(a->error), "%s", error ? error : "");
        a->now = now;
        a->until = authz_valid_until;
    }
    pthread_cond_broadcast(&fake.cv);
    pthread_mutex_unlock(&fake.mu);
    return CAIRN_OK;
}

int
store_va_jobs_pending(struct store *st, int64_t now, struct st_va_job *out, size_t max,
                      size_t *n)
{
    (void)now;
    assert_ptr_equal(st, &the_store);
    *n = fake.npending < max ? fake.npending : max;
    memcpy(out, fake.pending, *n * sizeof(*out));
    return CAIRN_OK;
}

int
store_challenge_retry(struct store *st, const char *chall_id, int64_t due_at)
{
    assert_ptr_equal(st, &the_store);
    (void)chall_id;
    pthread_mutex_lock(&fake.mu);
    fake.retries++;
    fake.last_retry_due = due_at;
    pthread_mutex_unlock(&fake.mu);
    return CAIRN_OK;
}

static void
fake_reset(void)
{
    pthread_mutex_lock(&fake.mu);
    fake.n = 0;
    fake.npending = 0;
    fake.retries = 0;
    pthread_mutex_unlock(&fake.mu);
}

/* Waits until want outcomes are recorded (or 10 s); returns how many there are. */
static size_t
fake_wait(size_t want)
{
    struct timespec ts;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    pthread_mutex_lock(&fake.mu);
    while (fake.n < want)
        if (pthread_cond_timedwait(&fake.cv, &fake.mu, &ts) != 0)
            break;
    n = fake.n;
    pthread_mutex_unlock(&fake.mu);
    return n;
}

static void
make_job(struct st_va_job *j, const char *id, int64_t due)
{
    memset(j, 0, sizeof(*j));
    snprintf(j->chall_id, sizeof(j->chall_id), "%s", id);
    snprintf(j->thumbprint, sizeof(j->thumbprint), "ThumbprintThumbprintThumbprintThumbprint123");
    memset(j->token, 'A', CAIRN_TOKEN_LEN);
    j->type = CHALL_HTTP01;
    j->ident.type = IDENT_DNS;
    snprintf(j->ident.value, sizeof(j->ident.value), "example.test");
    j->due_at = due;
}

static void
base_cfg(struct va_config *c, int workers, bool always_valid)
{
    memset(c, 0, sizeof(*c));
    c->workers = workers;
    c->always_valid = always_valid;
    c->timeout_ms = 3000;
    c->authz_valid_for = 1000;
}

static int
setup(void **state)
{
    (void)state;
    fake_reset();
    return 0;
}

static void
test_always_valid(void **state)
{
    struct va_config cfg;
    struct va *va = NULL;
    struct st_va_job j;
    int64_t now = time(NULL);

    (void)state;
    base_cfg(&cfg, 2, true);
    assert_int_equal(va_pool_start(&cfg, &the_store, &va), CAIRN_OK);
    for (int i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof(id), "job%d", i);
        make_job(&j, id, now - 5);
        assert_int_equal(va_submit(va, &j), CAIRN_OK);
    }
    assert_int_equal(fake_wait(3), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_true(fake.calls[i].valid);
        assert_false(fake.calls[i].has_error);
        assert_int_equal(fake.calls[i].until, fake.calls[i].now + 1000);
    }
    va_pool_stop(va);
    assert_int_equal(fake.n, 3);
}

static void
test_due_order_and_dedupe(void **state)
{
    struct va_config cfg;
    struct va *va = NULL;
    struct st_va_job j;
    int64_t now = time(NULL);

    (void)state;
    base_cfg(&cfg, 1, true);
    assert_int_equal(va_pool_start(&cfg, &the_store, &va), CAIRN_OK);
    make_job(&j, "late", now + 2);
    assert_int_equal(va_submit(va, &j), CAIRN_OK);
    make_job(&j, "first", now + 1);
    assert_int_equal(va_submit(va, &j), CAIRN_OK);
    make_job(&j, "second", now + 1);
    assert_int_equal(va_submit(va, &j), CAIRN_OK);
    make_job(&j, "first", now + 1); /* a duplicate hint: one validation only */
    assert_int_equal(va_submit(va, &j), CAIRN_OK);
    assert_int_equal(va_queue_depth(va), 3);
    assert_int_equal(fake_wait(3), 3);
    assert_string_equal(fake.calls[0].chall_id, "first");
    assert_string_equal(fake.calls[1].chall_id, "second");
    assert_string_equal(fake.calls[2].chall_id, "late");
    assert_true(fake.calls[2].now >= now + 2); /* not run before it was due */
    va_pool_stop(va);
    assert_int_equal(fake.n, 3);
}

static void
test_full_queue_and_stop(void **state)
{
    struct va_config cfg;
    struct va *va = NULL;
    struct st_va_job j;
    int64_t now = time(NULL);
    size_t n = 0;
    int rc = CAIRN_OK;

    (void)state;
    base_cfg(&cfg, 2, true);
    assert_int_equal(va_pool_start(&cfg, &the_store, &va), CAIRN_OK);
    while (rc == CAIRN_OK && n < 100000) {
        char id[CAIRN_ID_LEN + 1];
        snprintf(id, sizeof(id), "q%zu", n++);
        make_job(&j, id, now + 3600);
        rc = va_submit(va, &j);
    }
    assert_int_equal(rc, CAIRN_ERR_BUSY);
    assert_int_equal(n - 1, va_queue_depth(va));
    assert_true(va_queue_depth(va) >= 1024);
    va_pool_stop(va); /* queued jobs are not run: they stay processing in the store */
    assert_int_equal(fake.n, 0);
}

static void
test_failure_records_problem(void **state)
{
    struct va_config cfg;
    struct va *va = NULL;
    struct st_va_job j;
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    json_t *doc;
    json_error_t err;

    (void)state;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd); /* a port nothing listens on */
    base_cfg(&cfg, 1, false);
    cfg.http_port = ntohs(a.sin_port);
    assert_int_equal(va_pool_start(&cfg, &the_store, &va), CAIRN_OK);
    make_job(&j, "refused", 0);
    j.ident.type = IDENT_IP;
    snprintf(j.ident.value, sizeof(j.ident.value), "127.0.0.1");
    assert_int_equal(va_submit(va, &j), CAIRN_OK);
    assert_int_equal(fake_wait(1), 1);
    va_pool_stop(va);
    assert_false(fake.calls[0].valid);
    assert_true(fake.calls[0].has_error);
    doc = json_loads(fake.calls[0].error, 0, &err);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "type")),
                        "urn:ietf:params:acme:error:connection");
    assert_int_equal(json_integer_value(json_object_get(doc, "status")), 400);
    assert_non_null(strstr(json_string_value(json_object_get(doc, "detail")),
                           "Connection refused"));
    json_decref(doc);
}

static void
test_requeue_from_store(void **state)
{
    struct va_config cfg;
    struct va *va = NULL;

    (void)state;
    base_cfg(&cfg, 2, true);
    make_job(&fake.pending[0], "stored1", 0);
    make_job(&fake.pending[1], "stored2", 0);
    fake.npending = 2;
    assert_int_equal(va_pool_start(&cfg, &the_store, &va), CAIRN_OK);
    assert_int_equal(va_requeue_from_store(va, time(NULL)), CAIRN_OK);
    assert_int_equal(fake_wait(2), 2);
    va_pool_stop(va);
    assert_true(fake.calls[0].valid && fake.calls[1].valid);
    va_pool_stop(NULL);
}

/* A responder that drops the first `fail` connections without answering, then serves the
 * key authorization of the all-'A' token. */
struct flaky {
    int fd, port, fail, seen;
    pthread_t thread;
};

static void *
flaky_main(void *arg)
{
    struct flaky *f = arg;
    char ka[160], resp[512], req[2048];

    snprintf(ka, sizeof(ka), "%.*s.ThumbprintThumbprintThumbprintThumbprint123", CAIRN_TOKEN_LEN,
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    snprintf(resp, sizeof(resp),
             "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
             strlen(ka), ka);
    for (;;) {
        int c = accept(f->fd, NULL, NULL);

        if (c < 0)
            return NULL;
        if (f->seen++ >= f->fail) {
            struct timeval tv = { 3, 0 };

            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
            if (recv(c, req, sizeof(req), 0) > 0)
                (void)send(c, resp, strlen(resp), MSG_NOSIGNAL);
        }
        close(c); /* a failing attempt: closed without a response */
    }
}

static void
flaky_start(struct flaky *f, int fail)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t al = sizeof(a);

    memset(f, 0, sizeof(*f));
    f->fail = fail;
    f->fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(f->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(f->fd, (struct sockaddr *)&a, &al), 0);
    assert_int_equal(listen(f->fd, 16), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&f->thread, NULL, flaky_main, f), 0);
}

static void
flaky_stop(struct flaky *f)
{
    shutdown(f->fd, SHUT_RDWR);
    pthread_join(f->thread, NULL);
    close(f->fd);
}

/* Runs one http-01 job against a responder failing `fail` times, with `retries` allowed. */
static void
run_flaky(int fail, int retries, struct flaky *f)
{
    struct va_config cfg;
    struct va *va = NULL;
    struct st_va_job j;

    flaky_start(f, fail);
    base_cfg(&cfg, 1, false);
    cfg.http_port = f->port;
    cfg.retries = retries;
    cfg.retry_spacing_s = 1;
    assert_int_equal(va_pool_start(&cfg, &the_store, &va), CAIRN_OK);
    make_job(&j, "flaky", 0);
    j.ident.type = IDENT_IP;
    snprintf(j.ident.value, sizeof(j.ident.value), "127.0.0.1");
    assert_int_equal(va_submit(va, &j), CAIRN_OK);
    assert_int_equal(fake_wait(1), 1);
    va_pool_stop(va);
    flaky_stop(f);
}

static void
test_retry_then_valid(void **state)
{
    struct flaky f;

    (void)state;
    run_flaky(2, 3, &f);
    assert_int_equal(f.seen, 3);     /* two failures, then the success */
    assert_int_equal(fake.retries, 2); /* each retry recorded in the store */
    assert_int_equal(fake.n, 1);     /* one final outcome only */
    assert_true(fake.calls[0].valid);
}

static void
test_no_retry_by_default(void **state)
{
    struct flaky f;

    (void)state;
    run_flaky(2, 0, &f);
    assert_int_equal(f.seen, 1);
    assert_int_equal(fake.retries, 0);
    assert_false(fake.calls[0].valid);
    assert_non_null(strstr(fake.calls[0].error, "connection"));
}

static void
test_retries_exhausted(void **state)
{
    struct flaky f;

    (void)state;
    run_flaky(5, 1, &f);
    assert_int_equal(f.seen, 2); /* the attempt and one retry */
    assert_int_equal(fake.retries, 1);
    assert_false(fake.calls[0].valid);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_always_valid, setup),
        cmocka_unit_test_setup(test_due_order_and_dedupe, setup),
        cmocka_unit_test_setup(test_full_queue_and_stop, setup),
        cmocka_unit_test_setup(test_failure_records_problem, setup),
        cmocka_unit_test_setup(test_requeue_from_store, setup),
        cmocka_unit_test_setup(test_retry_then_valid, setup),
        cmocka_unit_test_setup(test_no_retry_by_default, setup),
        cmocka_unit_test_setup(test_retries_exhausted, setup),
    };
    int rc;

    if (va_global_init() != CAIRN_OK)
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    va_global_cleanup();
    return rc;
}
