/* main.c - start order, signal loop and shutdown (ARCHITECTURE.md §13). */
#define _XOPEN_SOURCE 700 /* nftw() */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cairn/app.h"
#include "cairn/ca.h"
#include "cairn/cli.h"
#include "cairn/config.h"
#include "cairn/eab.h"
#include "cairn/jsonutil.h"
#include "cairn/crl.h"
#include "cairn/log.h"
#include "cairn/nonce.h"
#include "cairn/notify.h"
#include "cairn/ratelimit.h"
#include "cairn/rand.h"
#include "cairn/store.h"
#include "cairn/va.h"
#include "cairn/wfe.h"

#define NONCE_WINDOW_BITS (8u * 1024 * 1024) /* 1 MiB: 28k nonces/s over 300 s */
#define REQUEUE_INTERVAL 5                   /* seconds between VA queue refills */

struct daemon_state {
    struct config cfg;
    struct app app;
    struct wfe *wfe;
    int listen_fd;
    int mgmt_fd;
    char state_dir[CAIRN_CONF_PATH];
    bool temp_state; /* throw-away test-mode state: removed at exit */
    int argc;        /* kept for SIGHUP: the config is rebuilt from the same flags */
    char **argv;
    int crl_fd;                  /* plain-HTTP CRL listener, -1 when none */
    struct wfe_crl *crl_wfe;
    char crl_url[CAIRN_CONF_STR + 64];
    char issuers_url[CAIRN_CONF_STR + 64];
    bool started;    /* recovery ran: the database was checked or known clean */
};

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int
ensure_dir(const char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return CAIRN_OK;
    fprintf(stderr, "cairn: cannot create %s: %s\n", path, strerror(errno));
    return CAIRN_ERR_IO;
}

static int
setup_state_dir(struct daemon_state *d)
{
    if (d->cfg.state_dir[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        snprintf(d->state_dir, sizeof(d->state_dir), "%s/cairn-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (mkdtemp(d->state_dir) == NULL) {
            fprintf(stderr, "cairn: cannot create a temporary state directory: %s\n",
                    strerror(errno));
            return CAIRN_ERR_IO;
        }
        d->temp_state = true;
        return CAIRN_OK;
    }
    snprintf(d->state_dir, sizeof(d->state_dir), "%s", d->cfg.state_dir);
    return ensure_dir(d->state_dir);
}

/* Writes text to path atomically (tmp + fsync + rename) with the given mode. */
static int
write_file(const char *path, const char *text, mode_t mode)
{
    char tmp[CAIRN_CONF_PATH + 8];
    size_t len = strlen(text);
    int fd, ok;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return CAIRN_ERR_IO;
    /* the process umask is 077: public files get their mode explicitly */
    ok = fchmod(fd, mode) == 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    ok = (close(fd) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return CAIRN_ERR_IO;
    }
    return CAIRN_OK;
}

static char *
read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long len;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && len < 1024 * 1024 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)len + 1)) != NULL) {
        if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
            free(buf);
            buf = NULL;
        } else {
            buf[len] = '\0';
        }
    }
    fclose(f);
    return buf;
}

/* The HTTPS certificate: the configured files, or one issued by our own root. */
static int
listener_cert(struct daemon_state *d, char **cert, char **key)
{
    char host[256] = "localhost";
    const char *names[] = { "localhost", "127.0.0.1", "::1", host };

    if (d->cfg.tls_cert_file[0] || d->cfg.tls_key_file[0]) {
        *cert = read_file(d->cfg.tls_cert_file);
        *key = read_file(d->cfg.tls_key_file);
        if (*cert == NULL || *key == NULL) {
            fprintf(stderr, "cairn: cannot read the HTTPS certificate %s or key %s\n",
                    d->cfg.tls_cert_file, d->cfg.tls_key_file);
            return CAIRN_ERR_IO;
        }
        return CAIRN_OK;
    }
    if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "localhost");
    return ca_make_listener_cert(d->app.ca, names, CAIRN_ARRAY_LEN(names), cert, key);
}

/* "0.0.0.0:14000" -> "127.0.0.1:14000" for the printed URLs. */
static void
usable_addr(const char *listen, char *out, size_t outsz)
{
    if (strncmp(listen, "0.0.0.0:", 8) == 0 || listen[0] == ':')
        snprintf(out, outsz, "127.0.0.1:%s", strrchr(listen, ':') + 1);
    else if (strncmp(listen, "[::]:", 5) == 0)
        snprintf(out, outsz, "[::1]:%s", listen + 5);
    else
        snprintf(out, outsz, "%s", listen);
}

/* The CRL and the URLs put in leaves: the plain-HTTP CRL listener when there is one (relying
 * parties fetch CRLs over http), else externalURL, else the ACME listener. */
static int
open_crl(struct daemon_state *d)
{
    char addr[CAIRN_CONF_STR + 16], base[CAIRN_CONF_STR + 24];
    int rc;

    if (d->cfg.crl_listen[0]) {
        usable_addr(d->cfg.crl_listen, addr, sizeof(addr));
        snprintf(base, sizeof(base), "http://%s", addr);
    } else if (d->cfg.external_url[0]) {
        snprintf(base, sizeof(base), "%s", d->cfg.external_url);
    } else {
        usable_addr(d->cfg.listen, addr, sizeof(addr));
        snprintf(base, sizeof(base), "https://%s", addr);
    }
    base[strcspn(base, " ")] = '\0';
    if (strlen(base) > 1 && base[strlen(base) - 1] == '/')
        base[strlen(base) - 1] = '\0';
    snprintf(d->crl_url, sizeof(d->crl_url), "%s/crl/0", base);
    snprintf(d->issuers_url, sizeof(d->issuers_url), "%s/issuer/0", base);
    d->app.crl_url = d->crl_url;
    d->app.ca_issuers_url = d->issuers_url;
    rc = crl_cache_new(d->app.st, d->app.ca, (int64_t)time(NULL), &d->app.crl);
    if (rc != CAIRN_OK)
        fprintf(stderr, "cairn: cannot make the CRL\n");
    return rc;
}

/* The VA's policy settings: address ranges, CAA, retries (docs/va.md). */
static void
va_config_policy(const struct config *cfg, struct va_config *vc)
{
    char addr[CAIRN_CONF_STR];

    vc->ca_mode = cfg->ca_mode;
    for (int i = 0; i < cfg->n_va_allowed && i < VA_MAX_RANGES; i++)
        snprintf(vc->allowed_ranges[vc->n_allowed++], VA_RANGE_LEN, "%s",
                 cfg->va_allowed_ranges[i]);
    for (int i = 0; i < cfg->n_va_denied && i < VA_MAX_RANGES; i++)
        snprintf(vc->denied_ranges[vc->n_denied++], VA_RANGE_LEN, "%s",
                 cfg->va_denied_ranges[i]);
    vc->caa = cfg->va_caa;
    for (int i = 0; i < cfg->n_caa_identities && i < VA_MAX_CAA_IDS; i++)
        snprintf(vc->caa_identities[vc->n_caa_identities++], VA_CAA_ID_LEN, "%s",
                 cfg->caa_identities[i]);
    /* Account URLs of jobs reloaded from the store (the handler passes the one it served). */
    usable_addr(cfg->listen, addr, sizeof(addr));
    if (cfg->external_url[0])
        snprintf(vc->base_url, sizeof(vc->base_url), "%s", cfg->external_url);
    else if (snprintf(vc->base_url, sizeof(vc->base_url), "https://%.240s", addr) < 0)
        vc->base_url[0] = '\0';
    vc->retries = cfg->va_retries;
    vc->retry_spacing_s = cfg->va_retry_spacing;
    vc->validate_times = cfg->va_validate_times;
    if (!cfg->ca_mode)
        log_warn("va", "test mode: the VA contacts any target address (no address policy)");
}

static int
open_modules(struct daemon_state *d)
{
    struct ca_options co = { 0 };
    struct va_config vc = { 0 };
    char path[CAIRN_CONF_PATH + 32];
    uint8_t key[32];
    int rc;

    snprintf(path, sizeof(path), "%s/cairn.db", d->state_dir);
    rc = store_open(path, d->cfg.ca_mode, &d->app.st);
    if (rc != CAIRN_OK) {
        fprintf(stderr, "cairn: cannot open the database %s\n", path);
        return rc;
    }
    snprintf(path, sizeof(path), "%s/ca", d->state_dir);
    co.dir = path;
    co.rsa = d->cfg.key_rsa;
    co.chain_length = d->cfg.chain_length;
    co.name = d->cfg.ca_name;
    co.alternate_roots = d->cfg.alternate_roots;
    if (d->cfg.x_ca) {
        co.x_ca_path = d->cfg.x_ca_path;
        co.x_ca_des3 = d->cfg.x_ca_des3;
        co.x_ca_root_password = d->cfg.x_ca_root_password;
        co.x_ca_tls_password = d->cfg.x_ca_tls_password;
    }
    rc = ca_open(&co, &d->app.ca);
    config_wipe_secrets(&d->cfg);
    if (rc != CAIRN_OK) {
        fprintf(stderr, "cairn: cannot load or create the CA in %s\n",
                d->cfg.x_ca ? d->cfg.x_ca_path : path);
        return rc;
    }
    rc = open_crl(d);
    if (rc != CAIRN_OK)
        return rc;
    if ((rc = rand_bytes(key, sizeof(key))) != CAIRN_OK ||
        (rc = nonce_state_new(key, NONCE_WINDOW_BITS, 300, &d->app.nonces)) != CAIRN_OK)
        return rc;
    OPENSSL_cleanse(key, sizeof(key));
    atomic_store(&d->app.nonce_reject_percent, d->cfg.nonce_reject_percent);
    vc.workers = d->cfg.va_workers;
    vc.http_port = d->cfg.http_port;
    vc.tls_port = d->cfg.tls_port;
    vc.always_valid = d->cfg.always_valid;
    vc.sleep_max = d->cfg.va_sleep_max;
    snprintf(vc.dns_server, sizeof(vc.dns_server), "%s", d->cfg.dns_server);
    vc.timeout_ms = d->cfg.va_timeout_ms;
    vc.authz_valid_for = 30 * 86400;
    atomic_store(&d->app.va_always_valid, d->cfg.always_valid);
    atomic_store(&d->app.default_profile, d->cfg.default_profile);
    vc.always_valid_rt = &d->app.va_always_valid;
    va_config_policy(&d->cfg, &vc);
    return va_pool_start(&vc, d->app.st, &d->app.va);
}

static int
write_trust(struct daemon_state *d)
{
    char path[CAIRN_CONF_PATH + 32];

    snprintf(path, sizeof(path), "%s/trust.pem", d->state_dir);
    if (write_file(path, ca_root_pem(d->app.ca), 0644) != CAIRN_OK) {
        fprintf(stderr, "cairn: cannot write %s\n", path);
        return CAIRN_ERR_IO;
    }
    if (d->cfg.root_out[0] && write_file(d->cfg.root_out, ca_root_pem(d->app.ca), 0644)) {
        fprintf(stderr, "cairn: cannot write %s\n", d->cfg.root_out);
        return CAIRN_ERR_IO;
    }
    return CAIRN_OK;
}

static int
recover(struct daemon_state *d)
{
    size_t fixed = 0;
    int rc = store_recover(d->app.st, (int64_t)time(NULL), &fixed);

    if (rc != CAIRN_OK)
        return rc;
    if (fixed > 0)
        log_warn("main", "recovery: %zu orders left processing were set invalid", fixed);
    return va_requeue_from_store(d->app.va, (int64_t)time(NULL));
}

/* Binds both listeners before any state is created, so a busy port stops the start with a
 * message naming it and leaves nothing behind. */
static int
bind_listeners(struct daemon_state *d)
{
    char err[512];

    d->mgmt_fd = -1;
    d->listen_fd = wfe_listen(d->cfg.listen, err, sizeof(err));
    if (d->listen_fd < 0) {
        fprintf(stderr, "cairn: %s\n", err);
        return CAIRN_ERR_IO;
    }
    if (d->cfg.mgmt_listen[0] &&
        (d->mgmt_fd = wfe_listen(d->cfg.mgmt_listen, err, sizeof(err))) < 0) {
        fprintf(stderr, "cairn: %s\n", err);
        return CAIRN_ERR_IO;
    }
    if (d->cfg.crl_listen[0] &&
        (d->crl_fd = wfe_listen(d->cfg.crl_listen, err, sizeof(err))) < 0) {
        fprintf(stderr, "cairn: %s\n", err);
        return CAIRN_ERR_IO;
    }
    return CAIRN_OK;
}

static int
start_listeners(struct daemon_state *d)
{
    char *cert = NULL, *key = NULL;
    int rc = listener_cert(d, &cert, &key);

    if (rc == CAIRN_OK)
        rc = wfe_start(&d->app, d->listen_fd, d->mgmt_fd, cert, key, &d->wfe);
    if (rc == CAIRN_OK)
        d->listen_fd = d->mgmt_fd = -1; /* owned by the daemons now */
    if (rc == CAIRN_OK && d->crl_fd >= 0 &&
        (rc = wfe_crl_start(&d->app, d->crl_fd, &d->crl_wfe)) == CAIRN_OK)
        d->crl_fd = -1;
    free(cert);
    if (key != NULL) {
        OPENSSL_cleanse(key, strlen(key));
        free(key);
    }
    return rc;
}

static void
print_banner(const struct daemon_state *d)
{
    char acme[CAIRN_CONF_STR + 16], mgmt[CAIRN_CONF_STR + 16];

    usable_addr(d->cfg.listen, acme, sizeof(acme));
    usable_addr(d->cfg.mgmt_listen, mgmt, sizeof(mgmt));
    printf("Listening on: %s\n", d->cfg.listen);
    printf("ACME directory available at: https://%s/dir\n", acme);
    if (d->cfg.mgmt_listen[0])
        printf("Root CA certificate available at: https://%s/roots/0\n", mgmt);
    if (d->cfg.tls_cert_file[0]) /* HTTPS uses the configured certificate, not the root */
        printf("Trust this PEM for issued certificates (HTTPS uses %s): %s/trust.pem\n",
               d->cfg.tls_cert_file, d->state_dir);
    else
        printf("Trust this PEM for HTTPS and issued certificates: %s/trust.pem\n",
               d->state_dir);
    printf("Root CA SHA-256 fingerprint: %s\n", ca_root_fingerprint(d->app.ca));
    fflush(stdout);
}

/* A new HTTPS pair must parse and match before the listeners are touched. */
static bool
tls_pair_ok(const char *cert_pem, const char *key_pem)
{
    BIO *cb = BIO_new_mem_buf(cert_pem, -1), *kb = BIO_new_mem_buf(key_pem, -1);
    X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    bool ok = x != NULL && k != NULL && X509_check_private_key(x, k) == 1;

    if (!ok)
        log_openssl("main", "reload: the HTTPS certificate or key");
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(cb);
    BIO_free(kb);
    return ok;
}

/* The configured HTTPS files, re-read: certificate rotation on disk keeps its paths. */
static void
reload_tls(struct daemon_state *d, const struct config *nc)
{
    char *cert, *key;

    if (nc->tls_cert_file[0] == '\0' && nc->tls_key_file[0] == '\0')
        return;
    cert = read_file(nc->tls_cert_file);
    key = read_file(nc->tls_key_file);
    if (cert == NULL || key == NULL || !tls_pair_ok(cert, key))
        log_err("main", "reload: cannot use the HTTPS certificate %s and key %s; keeping the "
                "old pair", nc->tls_cert_file, nc->tls_key_file);
    else if (wfe_reload_tls(d->wfe, cert, key) != CAIRN_OK)
        log_err("main", "reload: the listeners could not switch certificates");
    else
        log_info("main", "reload: serving the HTTPS certificate %s", nc->tls_cert_file);
    free(cert);
    if (key != NULL) {
        OPENSSL_cleanse(key, strlen(key));
        free(key);
    }
}

/* Settings read once at start: a change is logged, not applied. */
static void
log_restart_needed(const struct config *old, const struct config *nc)
{
    static const struct {
        size_t off, len;
        const char *name;
    } fields[] = {
#define F(m, n) { offsetof(struct config, m), sizeof(((struct config *)0)->m), n }
        F(ca_mode, "mode"), F(listen, "listenAddress"),
        F(mgmt_listen, "managementListenAddress"), F(state_dir, "stateDir"),
        F(http_port, "httpPort"), F(tls_port, "tlsPort"), F(dns_server, "dnsServer"),
        F(external_url, "externalURL"), F(key_rsa, "keyAlgorithm"),
        F(chain_length, "chainLength"), F(va_workers, "vaWorkers"),
        F(va_timeout_ms, "vaTimeoutMs"), F(http_threads, "httpThreads"),
        F(validity, "certificateValidityPeriod"),
        /* the front end's limits are sized into libmicrohttpd and the parsers at start */
        F(max_body, "limits.maxBody"), F(max_connections, "limits.connections"),
        F(max_per_ip, "limits.perIPConnections"), F(idle_timeout, "limits.idleTimeout"),
        F(body_timeout, "limits.bodyTimeout"), F(max_json_depth, "limits.maxJsonDepth"),
        F(max_json_string, "limits.maxJsonString"),
        F(max_idents, "limits.maxIdentifiersPerOrder"), F(max_contacts, "limits.maxContacts"),
        F(max_request_target, "limits.maxRequestTarget"),
        F(max_header_field, "limits.maxHeaderField"),
        F(max_header_total, "limits.maxHeaderTotal"),
        F(max_header_fields, "limits.maxHeaderFields"),
#undef F
    };

    for (size_t i = 0; i < CAIRN_ARRAY_LEN(fields); i++)
        if (memcmp((const char *)old + fields[i].off, (const char *)nc + fields[i].off,
                   fields[i].len) != 0)
            log_warn("main", "reload: %s changed; it takes effect at the next restart",
                     fields[i].name);
}

/* SIGHUP (ARCHITECTURE.md §13): rebuild the configuration from the file, the environment and
 * the flags; keep the old one when the new one is invalid; swap the hot subset. */
static void
reload(struct daemon_state *d)
{
    struct config *nc = malloc(sizeof(*nc));
    bool want_exit = false;

    if (notify_send("RELOADING=1") != CAIRN_OK)
        log_debug("main", "reload: no readiness notification");
    log_info("main", "SIGHUP: reloading the configuration");
    if (nc == NULL || config_load(d->argc, d->argv, nc, &want_exit) != CAIRN_OK || want_exit) {
        log_err("main", "reload: the new configuration is invalid; keeping the old one");
        goto out;
    }
    log_restart_needed(&d->cfg, nc);
    log_set_level((enum log_level)nc->log_level);
    log_set_format((enum log_format)nc->log_format);
    ratelimit_configure(nc);
    atomic_store(&d->app.nonce_reject_percent, nc->nonce_reject_percent);
    reload_tls(d, nc);
    log_info("main", "reload done");
out:
    free(nc);
    if (notify_send("READY=1") != CAIRN_OK)
        log_debug("main", "reload: no readiness notification");
}

/* SIGTERM (ARCHITECTURE.md §13): /health turns 503 and new requests get 503 while requests
 * in flight and due validations finish, bounded by shutdownTimeout. */
static void
drain(struct daemon_state *d)
{
    struct timespec tick = { 0, 20 * 1000000L };
    long ticks = (long)d->cfg.shutdown_timeout * 50;

    if (notify_send("STOPPING=1") != CAIRN_OK)
        log_debug("main", "no stop notification");
    atomic_store(&d->app.draining, true);
    log_info("main", "draining: %ld requests in flight, %zu validations queued or running",
             atomic_load(&d->app.inflight), va_queue_depth(d->app.va));
    for (long i = 0; i < ticks; i++) {
        if (atomic_load(&d->app.inflight) == 0 && va_queue_depth(d->app.va) == 0)
            break;
        nanosleep(&tick, NULL);
    }
    if (atomic_load(&d->app.inflight) > 0 || va_queue_depth(d->app.va) > 0)
        log_warn("main", "drain timeout: %ld requests, %zu validations left (validations stay "
                 "processing for the next start)", atomic_load(&d->app.inflight),
                 va_queue_depth(d->app.va));
    else
        log_info("main", "drained");
}

/* Blocks in sigtimedwait; refills the VA queue from the store between signals. */
static void
signal_loop(struct daemon_state *d, const sigset_t *set)
{
    struct timespec ts = { REQUEUE_INTERVAL, 0 };
    int sig;

    for (;;) {
        sig = sigtimedwait(set, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM) {
            drain(d);
            return;
        }
        if (sig < 0 && va_requeue_from_store(d->app.va, (int64_t)time(NULL)) != CAIRN_OK)
            log_warn("main", "VA requeue failed");
        if (sig < 0)
            crl_cache_tick(d->app.crl, (int64_t)time(NULL));
        if (sig == SIGHUP)
            reload(d);
    }
}

static void
shutdown_all(struct daemon_state *d)
{
    atomic_store(&d->app.draining, true);
    wfe_crl_stop(d->crl_wfe);
    wfe_stop(d->wfe);
    log_debug("main", "listeners stopped");
    va_pool_stop(d->app.va);
    log_debug("main", "validation authority stopped");
    ratelimit_reset();
    nonce_state_free(d->app.nonces);
    crl_cache_free(d->app.crl);
    ca_free(d->app.ca);
    /* every writer has stopped: the next start may skip the integrity check */
    if (d->app.st != NULL && d->started && store_mark_clean_shutdown(d->app.st) != CAIRN_OK)
        log_warn("main", "cannot record the clean shutdown; the next start checks the database");
    store_close(d->app.st);
    if (d->listen_fd >= 0)
        close(d->listen_fd);
    if (d->mgmt_fd >= 0)
        close(d->mgmt_fd);
    if (d->crl_fd >= 0)
        close(d->crl_fd);
    if (d->temp_state)
        nftw(d->state_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(int argc, char **argv)
{
    static struct daemon_state d;
    bool want_exit = false;
    sigset_t set;
    int rc;

    rc = cli_dispatch(argc, argv, &want_exit);
    if (want_exit)
        return rc;
    if (config_load(argc, argv, &d.cfg, &want_exit) != CAIRN_OK)
        return 2;
    if (want_exit)
        return 0;
    log_set_level((enum log_level)d.cfg.log_level);
    log_set_format((enum log_format)d.cfg.log_format);
    ratelimit_configure(&d.cfg);
    json_limits_set((size_t)d.cfg.max_json_depth, (size_t)d.cfg.max_json_string);
    d.app.cfg = &d.cfg;
    d.argc = argc;
    d.argv = argv;
    /* before any thread: signals go to sigtimedwait, SIGPIPE never kills us */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* state files (database, keys) are private; trust.pem is made public explicitly */
    umask(077);
    if (va_global_init() != CAIRN_OK)
        return 1;
    d.listen_fd = d.mgmt_fd = d.crl_fd = -1;
    rc = bind_listeners(&d);
    if (rc == CAIRN_OK)
        rc = setup_state_dir(&d);
    if (rc == CAIRN_OK)
        rc = open_modules(&d);
    if (rc == CAIRN_OK)
        eab_warn_shadowed(&d.cfg, d.app.st);
    if (rc == CAIRN_OK)
        rc = write_trust(&d);
    if (rc == CAIRN_OK)
        rc = recover(&d);
    d.started = rc == CAIRN_OK;
    if (rc == CAIRN_OK)
        rc = start_listeners(&d);
    if (rc == CAIRN_OK) {
        log_info("main", "cairn %s started in %s mode, state in %s", CAIRN_VERSION,
                 d.cfg.ca_mode ? "CA" : "test", d.state_dir);
        print_banner(&d);
        if (notify_send("READY=1") != CAIRN_OK)
            log_warn("main", "readiness notification failed");
        signal_loop(&d, &set);
        log_info("main", "shutting down");
    }
    shutdown_all(&d);
    va_global_cleanup();
    return rc == CAIRN_OK ? 0 : 1;
}
