/* test_tlsalpn.c - tls-alpn-01 (RFC 8737) against a real OpenSSL responder thread.
 *
 * The responder picks its certificate from the SNI it receives: the first label names the
 * variant (ok, noext, noncrit, legacy, ...), and the certificate is built on the fly with the
 * acmeIdentifier extension this test constructs itself. Names resolve through mockdns
 * (every name has A 127.0.0.1). Two more listeners: one that accepts TCP and never speaks
 * (the handshake must end at the deadline) and one that only speaks TLS 1.1. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cairn/va.h"
#include "va/va_internal.h"
#include "va_fixture.h"

#define THUMB "ThumbprintThumbprintThumbprintThumbprint123"
#define OID_ACME "1.3.6.1.5.5.7.1.31"
#define OID_DRAFT "1.3.6.1.5.5.7.1.30.1"

static pid_t dns_pid = -1;
static int dns_port;
static EVP_PKEY *leaf_key, *other_key;
static uint8_t good_digest[32];
static char token[CAIRN_TOKEN_LEN + 1];

struct listener {
    int fd, port;
    pthread_t thread;
    SSL_CTX *ctx; /* NULL: accept and stay silent */
};

static struct listener tls_srv = { .fd = -1 }, hang_srv = { .fd = -1 }, old_srv = { .fd = -1 };

/* ---- certificates ---- */

static EVP_PKEY *
new_key(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* Adds an extension oid holding DER OCTET STRING(val) (raw: val itself). */
static int
add_octet_ext(X509 *x, const char *oid, int crit, const uint8_t *val, int n, bool raw)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *inner = ASN1_OCTET_STRING_new(), *outer = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext = NULL;
    unsigned char *der = NULL;
    int dl = 0, rc = -1;

    if (obj == NULL || inner == NULL || outer == NULL || !ASN1_OCTET_STRING_set(inner, val, n))
        goto out;
    if (raw) {
        if (!ASN1_OCTET_STRING_set(outer, val, n))
            goto out;
    } else {
        dl = i2d_ASN1_OCTET_STRING(inner, &der);
        if (dl <= 0 || !ASN1_OCTET_STRING_set(outer, der, dl))
            goto out;
    }
    ext = X509_EXTENSION_create_by_OBJ(NULL, obj, crit, outer);
    if (ext != NULL && X509_add_ext(x, ext, -1) == 1)
        rc = 0;
out:
    X509_EXTENSION_free(ext);
    OPENSSL_free(der);
    ASN1_OCTET_STRING_free(inner);
    ASN1_OCTET_STRING_free(outer);
    ASN1_OBJECT_free(obj);
    return rc;
}

static int
add_san(X509 *x, const char *san)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
    int rc = e != NULL && X509_add_ext(x, e, -1) == 1 ? 0 : -1;

    X509_EXTENSION_free(e);
    return rc;
}

static bool
variant_is(const char *v, const char *name)
{
    return strcmp(v, name) == 0;
}

/* The acmeIdentifier extension(s) of a variant. */
static int
add_acme_exts(X509 *x, const char *v)
{
    uint8_t wrong[32];

    memset(wrong, 0x5a, sizeof(wrong));
    if (variant_is(v, "noext"))
        return 0;
    if (variant_is(v, "noncrit"))
        return add_octet_ext(x, OID_ACME, 0, good_digest, 32, false);
    if (variant_is(v, "legacy"))
        return add_octet_ext(x, OID_DRAFT, 1, good_digest, 32, false);
    if (variant_is(v, "wrongdigest"))
        return add_octet_ext(x, OID_ACME, 1, wrong, 32, false);
    if (variant_is(v, "raw"))
        return add_octet_ext(x, OID_ACME, 1, good_digest, 32, true);
    if (variant_is(v, "short"))
        return add_octet_ext(x, OID_ACME, 1, good_digest, 31, false);
    if (variant_is(v, "twice") && add_octet_ext(x, OID_ACME, 1, good_digest, 32, false) != 0)
        return -1;
    return add_octet_ext(x, OID_ACME, 1, good_digest, 32, false);
}

/* The certificate for sni: variant = first label ("ip" for the 127.0.0.1 reverse name). */
static X509 *
make_cert(const char *sni)
{
    char v[64], san[600];
    X509 *x = X509_new();
    X509_NAME *subj = X509_NAME_new(), *iss = X509_NAME_new();
    bool ip = strcmp(sni, "1.0.0.127.in-addr.arpa") == 0;
    EVP_PKEY *signer = leaf_key;

    snprintf(v, sizeof(v), "%.*s", (int)strcspn(sni, "."), sni);
    if (ip)
        snprintf(v, sizeof(v), "ip");
    if (variant_is(v, "wrongsan"))
        snprintf(san, sizeof(san), "DNS:other.test");
    else if (variant_is(v, "twosans"))
        snprintf(san, sizeof(san), "DNS:%s,DNS:extra.test", sni);
    else if (ip)
        snprintf(san, sizeof(san), "IP:127.0.0.1");
    else
        snprintf(san, sizeof(san), "DNS:%s", sni);
    X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)"acme", -1, -1,
                               0);
    X509_NAME_add_entry_by_txt(iss, "CN", MBSTRING_ASC,
                               (const unsigned char *)(variant_is(v, "notself") ? "Other" : "acme"),
                               -1, -1, 0);
    if (variant_is(v, "notself"))
        signer = other_key;
    if (X509_set_version(x, 2) != 1 || ASN1_INTEGER_set(X509_get_serialNumber(x), 7) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(x), -60) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), 3600) == NULL ||
        X509_set_subject_name(x, subj) != 1 || X509_set_issuer_name(x, iss) != 1 ||
        X509_set_pubkey(x, leaf_key) != 1 || add_san(x, san) != 0 || add_acme_exts(x, v) != 0 ||
        X509_sign(x, signer, EVP_sha256()) <= 0) {
        X509_free(x);
        x = NULL;
    }
    X509_NAME_free(subj);
    X509_NAME_free(iss);
    return x;
}

/* ---- the responder ---- */

static int
cert_cb(SSL *ssl, void *arg)
{
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    X509 *x;
    int ok;

    (void)arg;
    if (sni == NULL)
        return 0;
    x = make_cert(sni);
    ok = x != NULL && SSL_use_certificate(ssl, x) == 1 && SSL_use_PrivateKey(ssl, leaf_key) == 1;
    X509_free(x);
    return ok ? 1 : 0;
}

static int
alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
        unsigned int inlen, void *arg)
{
    static const unsigned char want[] = "\x0a" "acme-tls/1";
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    unsigned char *sel = NULL;

    (void)arg;
    if (sni != NULL && strncmp(sni, "noalpn.", 7) == 0)
        return SSL_TLSEXT_ERR_NOACK; /* continue without ALPN */
    if (SSL_select_next_proto(&sel, outlen, want, sizeof(want) - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

struct conn {
    int fd;
    SSL_CTX *ctx;
};

static void *
conn_main(void *arg)
{
    struct conn *c = arg;
    struct timeval tv = { 5, 0 };
    char buf[256];

    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (c->ctx == NULL) {
        /* "hang": accept and say nothing until the client gives up */
        while (recv(c->fd, buf, sizeof(buf), 0) > 0)
            ;
    } else {
        SSL *ssl = SSL_new(c->ctx);

        if (ssl != NULL && SSL_set_fd(ssl, c->fd) == 1 && SSL_accept(ssl) == 1)
            while (SSL_read(ssl, buf, sizeof(buf)) > 0)
                ;
        SSL_free(ssl);
    }
    ERR_clear_error();
    close(c->fd);
    free(c);
    return NULL;
}

static void *
accept_main(void *arg)
{
    struct listener *l = arg;

    for (;;) {
        pthread_t t;
        struct conn *c;
        int fd = accept(l->fd, NULL, NULL);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL;
        }
        c = malloc(sizeof(*c));
        if (c == NULL) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->ctx = l->ctx;
        if (pthread_create(&t, NULL, conn_main, c) != 0) {
            close(fd);
            free(c);
            continue;
        }
        pthread_detach(t);
    }
}

static int
listener_start(struct listener *l, SSL_CTX *ctx)
{
    l->ctx = ctx;
    l->fd = fixture_bind_loopback(SOCK_STREAM, &l->port);
    if (l->fd < 0 || listen(l->fd, 64) != 0)
        return -1;
    return pthread_create(&l->thread, NULL, accept_main, l) == 0 ? 0 : -1;
}

static void
listener_stop(struct listener *l)
{
    if (l->fd < 0)
        return;
    shutdown(l->fd, SHUT_RDWR);
    pthread_join(l->thread, NULL);
    close(l->fd);
    l->fd = -1;
    SSL_CTX_free(l->ctx);
}

static SSL_CTX *
server_ctx(bool old)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_cert_cb(ctx, cert_cb, NULL);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
    if (old) {
        SSL_CTX_set_security_level(ctx, 0);
        SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
        SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
    }
    return ctx;
}

/* ---- setup ---- */

static int
group_setup(void **state)
{
    const char *src = getenv("CAIRN_SOURCE_DIR");
    char script[1024], ka[256];
    unsigned int dl = 0;

    (void)state;
    /* the VA closes as soon as it has judged the certificate; the responder's late writes
     * must not kill the test (the daemon ignores SIGPIPE the same way) */
    signal(SIGPIPE, SIG_IGN);
    if (src == NULL || va_global_init() != CAIRN_OK)
        return -1;
    memset(token, 'A', CAIRN_TOKEN_LEN);
    token[CAIRN_TOKEN_LEN] = '\0';
    snprintf(ka, sizeof(ka), "%s.%s", token, THUMB);
    if (EVP_Digest(ka, strlen(ka), good_digest, &dl, EVP_sha256(), NULL) != 1)
        return -1;
    leaf_key = new_key();
    other_key = new_key();
    if (leaf_key == NULL || other_key == NULL)
        return -1;
    snprintf(script, sizeof(script), "%s/test/tools/mockdns.py", src);
    {
        char *const argv[] = { "/usr/bin/python3", script, "--port", "0", NULL };
        dns_pid = fixture_dns_start(argv, &dns_port);
    }
    if (dns_pid < 0 || listener_start(&tls_srv, server_ctx(false)) != 0 ||
        listener_start(&hang_srv, NULL) != 0 || listener_start(&old_srv, server_ctx(true)) != 0)
        return -1;
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    listener_stop(&tls_srv);
    listener_stop(&hang_srv);
    listener_stop(&old_srv);
    fixture_dns_stop(dns_pid);
    EVP_PKEY_free(leaf_key);
    EVP_PKEY_free(other_key);
    va_global_cleanup();
    return 0;
}

/* ---- helpers ---- */

static void
base_cfg(struct va_config *cfg, int port)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->tls_port = port;
    cfg->timeout_ms = 5000;
    snprintf(cfg->dns_server, sizeof(cfg->dns_server), "127.0.0.1:%d", dns_port);
}

static void
base_job(struct st_va_job *job, enum ident_type t, const char *name)
{
    memset(job, 0, sizeof(*job));
    snprintf(job->chall_id, sizeof(job->chall_id), "challenge-tls-0000001");
    snprintf(job->thumbprint, sizeof(job->thumbprint), "%s", THUMB);
    snprintf(job->token, sizeof(job->token), "%s", token);
    job->type = CHALL_TLSALPN01;
    job->ident.type = t;
    snprintf(job->ident.value, sizeof(job->ident.value), "%s", name);
}

static int
run_cfg(const struct va_config *cfg, enum ident_type t, const char *name, struct problem *p)
{
    struct st_va_job job;
    char ka[256];

    base_job(&job, t, name);
    snprintf(ka, sizeof(ka), "%s.%s", token, THUMB);
    problem_init(p);
    return va_validate(cfg, &job, ka, p);
}

static void
expect_valid(enum ident_type t, const char *name)
{
    struct va_config cfg;
    struct problem p;
    int rc;

    base_cfg(&cfg, tls_srv.port);
    rc = run_cfg(&cfg, t, name, &p);
    if (rc != CAIRN_OK)
        print_error("%s: rc=%d %s: %s\n", name, rc, problem_name(p.type), p.detail);
    assert_int_equal(rc, CAIRN_OK);
}

static void
expect_problem_at(int port, const char *name, enum prob_type type, const char *needle)
{
    struct va_config cfg;
    struct problem p;
    int rc;

    base_cfg(&cfg, port);
    rc = run_cfg(&cfg, IDENT_DNS, name, &p);
    if (rc != CAIRN_ERR_PROTO || p.type != type || strstr(p.detail, needle) == NULL)
        print_error("%s: rc=%d %s: %s\n", name, rc, problem_name(p.type), p.detail);
    assert_int_equal(rc, CAIRN_ERR_PROTO);
    assert_int_equal(p.type, type);
    assert_non_null(strstr(p.detail, needle));
}

static void
expect_problem(const char *name, enum prob_type type, const char *needle)
{
    expect_problem_at(tls_srv.port, name, type, needle);
}

/* ---- cases ---- */

static void
test_ok(void **state)
{
    (void)state;
    expect_valid(IDENT_DNS, "ok.tls.test");
    expect_valid(IDENT_IP, "127.0.0.1"); /* SNI 1.0.0.127.in-addr.arpa, iPAddress SAN */
}

static void
test_extension_rules(void **state)
{
    (void)state;
    expect_problem("noext.tls.test", PROB_UNAUTHORIZED, "no acmeIdentifier extension");
    expect_problem("noncrit.tls.test", PROB_UNAUTHORIZED, "not critical");
    expect_problem("legacy.tls.test", PROB_UNAUTHORIZED, "obsolete acmeIdentifier OID");
    expect_problem("wrongdigest.tls.test", PROB_UNAUTHORIZED, "does not hold the SHA-256");
    expect_problem("twice.tls.test", PROB_UNAUTHORIZED, "2 acmeIdentifier extensions");
    expect_problem("raw.tls.test", PROB_UNAUTHORIZED, "not a 32-byte OCTET STRING");
    expect_problem("short.tls.test", PROB_UNAUTHORIZED, "not a 32-byte OCTET STRING");
}

static void
test_san_rules(void **state)
{
    (void)state;
    expect_problem("wrongsan.tls.test", PROB_UNAUTHORIZED, "SAN does not match");
    expect_problem("twosans.tls.test", PROB_UNAUTHORIZED, "2 SANs");
    expect_problem("notself.tls.test", PROB_UNAUTHORIZED, "not self-signed");
}

static void
test_no_alpn(void **state)
{
    (void)state;
    expect_problem("noalpn.tls.test", PROB_UNAUTHORIZED, "did not negotiate the \"acme-tls/1\"");
}

static void
test_handshake_never_completes(void **state)
{
    struct va_config cfg;
    struct problem p;

    (void)state;
    base_cfg(&cfg, hang_srv.port);
    cfg.timeout_ms = 1500;
    assert_int_equal(run_cfg(&cfg, IDENT_DNS, "ok.tls.test", &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_TLS);
    assert_non_null(strstr(p.detail, "Timeout during the TLS handshake"));
}

static void
test_old_tls(void **state)
{
    (void)state;
    expect_problem_at(old_srv.port, "ok.tls.test", PROB_TLS, "127.0.0.1:");
}

static void
test_refused_and_policy(void **state)
{
    struct va_config cfg;
    struct problem p;
    int port = 0, fd = fixture_bind_loopback(SOCK_STREAM, &port);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    expect_problem_at(port, "ok.tls.test", PROB_CONNECTION, "Connection refused");
    /* CA mode: loopback is special-purpose, refused before any connection */
    base_cfg(&cfg, tls_srv.port);
    cfg.ca_mode = true;
    assert_int_equal(run_cfg(&cfg, IDENT_DNS, "ok.tls.test", &p), CAIRN_ERR_PROTO);
    assert_int_equal(p.type, PROB_CONNECTION);
    assert_non_null(strstr(p.detail, "refusing to connect to 127.0.0.1"));
    snprintf(cfg.allowed_ranges[0], VA_RANGE_LEN, "127.0.0.0/8");
    cfg.n_allowed = 1;
    assert_int_equal(run_cfg(&cfg, IDENT_DNS, "ok.tls.test", &p), CAIRN_OK);
}

static void
test_validate_times(void **state)
{
    struct va_config cfg;
    struct problem p;

    (void)state;
    base_cfg(&cfg, tls_srv.port);
    cfg.validate_times = 3;
    assert_int_equal(run_cfg(&cfg, IDENT_DNS, "ok.tls.test", &p), CAIRN_OK);
    assert_int_equal(run_cfg(&cfg, IDENT_DNS, "noext.tls.test", &p), CAIRN_ERR_PROTO);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok),
        cmocka_unit_test(test_extension_rules),
        cmocka_unit_test(test_san_rules),
        cmocka_unit_test(test_no_alpn),
        cmocka_unit_test(test_handshake_never_completes),
        cmocka_unit_test(test_old_tls),
        cmocka_unit_test(test_refused_and_policy),
        cmocka_unit_test(test_validate_times),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
