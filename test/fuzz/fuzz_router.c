/* fuzz_router.c - the request path without libmicrohttpd: routes_match() on the request
 * target, then post_verify() (JWS rules 1-17) on the body, with a real store in a temporary
 * directory holding one account, so kid lookups, signature checks and nonce redemption all
 * run. Input: "<path>\n<content-type>\n<body>" (an empty content-type line means none). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/config.h"
#include "cairn/log.h"
#include "cairn/nonce.h"
#include "cairn/store.h"
#include "fuzz.h"
#include "fuzz_acct.h"
#include "http/http.h"

#define BASE "https://127.0.0.1:14000"
#define NOW 1700000000

/* The account of test/fuzz/make_corpus.py's fixed P-256 key (private scalar 0x1234...). */
#define ACCT_ID "AAAAAAAAAAAAAAAAAAAAAA"

static struct config cfg;
static struct app app;
static char dir[] = "/tmp/cairn-fuzz-XXXXXX";

static void
cleanup_dir(void)
{
    char path[128];

    store_close(app.st);
    nonce_state_free(app.nonces);
    for (size_t i = 0; i < 3; i++) {
        static const char *const files[] = { "cairn.db", "cairn.db-wal", "cairn.db-shm" };
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const uint8_t key[32];
    struct st_account a = { .id = ACCT_ID, .status = ACCT_VALID, .tos_agreed = true };
    char path[128];

    (void)argc;
    (void)argv;
    log_set_level(LOG_LVL_ERR);
    config_defaults(&cfg, false);
    app.cfg = &cfg;
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(path, sizeof(path), "%s/cairn.db", dir);
    if (store_open(path, false, &app.st) != CAIRN_OK ||
        nonce_state_new(key, 1024, 300, &app.nonces) != CAIRN_OK)
        abort();
    atexit(cleanup_dir);
    /* the seeds' nonces use counters 1..64: issue them so they are inside the window */
    for (int i = 0; i < 64; i++) {
        char n[CAIRN_NONCE_STR_LEN + 1];
        if (nonce_issue(app.nonces, NOW, n) != CAIRN_OK)
            abort();
    }
    snprintf(a.thumbprint, sizeof(a.thumbprint), "%s", FUZZ_ACCT_THUMBPRINT);
    a.jwk = (char *)FUZZ_ACCT_JWK;
    if (store_account_create(app.st, &a) != CAIRN_OK)
        abort();
    return 0;
}

static void
run(const char *path, const char *ctype, const char *body, size_t body_len)
{
    struct acme_ctx c = { 0 };
    struct post_state ps;
    struct problem p;
    const struct route *rt;
    char *arg = NULL;

    rt = routes_match(path, &arg);
    if (rt == NULL)
        return;
    c.app = &app;
    c.now = NOW;
    c.base = BASE;
    c.path = path;
    c.method = "POST";
    c.arg = arg;
    c.req_id = "fuzz";
    problem_init(&p);
    (void)post_verify(&c, rt, ctype, false, body, body_len, &ps, &p);
    post_cleanup(&c, &ps);
    problem_cleanup(&p);
    free(arg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = fuzz_strndup(data, size), *nl1, *nl2;
    const char *ctype;

    nl1 = memchr(buf, '\n', size);
    if (nl1 == NULL) {
        char *arg = NULL;
        (void)routes_match(buf, &arg);
        free(arg);
        goto out;
    }
    *nl1 = '\0';
    nl2 = memchr(nl1 + 1, '\n', size - (size_t)(nl1 + 1 - buf));
    if (nl2 == NULL)
        goto out;
    *nl2 = '\0';
    ctype = nl1[1] ? nl1 + 1 : NULL;
    run(buf, ctype, nl2 + 1, size - (size_t)(nl2 + 1 - buf));
out:
    free(buf);
    return 0;
}
