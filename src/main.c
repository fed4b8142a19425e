/* main.c - start order, signal loop and shutdown (ARCHITECTURE.md §13). */
#define _XOPEN_SOURCE 700 /* nftw() */
#include <errno.h>
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

#include "cairn/app.h"
#include "cairn/ca.h"
#include "cairn/cli.h"
#include "cairn/config.h"
#include "cairn/log.h"
#include "cairn/nonce.h"
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
    rc = ca_open(&co, &d->app.ca);
    if (rc != CAIRN_OK) {
        fprintf(stderr, "cairn: cannot load or create the CA in %s\n", path);
        return rc;
    }
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
    printf("Trust this PEM for HTTPS and issued certificates: %s/trust.pem\n", d->state_dir);
    printf("Root CA SHA-256 fingerprint: %s\n", ca_root_fingerprint(d->app.ca));
    fflush(stdout);
}

/* Blocks in sigtimedwait; refills the VA queue from the store between signals. */
static void
signal_loop(struct daemon_state *d, const sigset_t *set)
{
    struct timespec ts = { REQUEUE_INTERVAL, 0 };
    int sig;

    for (;;) {
        sig = sigtimedwait(set, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM)
            return;
        if (sig < 0 && va_requeue_from_store(d->app.va, (int64_t)time(NULL)) != CAIRN_OK)
            log_warn("main", "VA requeue failed");
        if (sig == SIGHUP)
            log_info("main", "SIGHUP: configuration reload is not implemented yet");
    }
}

static void
shutdown_all(struct daemon_state *d)
{
    atomic_store(&d->app.draining, true);
    wfe_stop(d->wfe);
    log_debug("main", "listeners stopped");
    va_pool_stop(d->app.va);
    log_debug("main", "validation authority stopped");
    nonce_state_free(d->app.nonces);
    ca_free(d->app.ca);
    /* every writer has stopped: the next start may skip the integrity check */
    if (d->app.st != NULL && d->started && store_mark_clean_shutdown(d->app.st) != CAIRN_OK)
        log_warn("main", "cannot record the clean shutdown; the next start checks the database");
    store_close(d->app.st);
    if (d->listen_fd >= 0)
        close(d->listen_fd);
    if (d->mgmt_fd >= 0)
        close(d->mgmt_fd);
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
    d.app.cfg = &d.cfg;
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
    d.listen_fd = d.mgmt_fd = -1;
    rc = bind_listeners(&d);
    if (rc == CAIRN_OK)
        rc = setup_state_dir(&d);
    if (rc == CAIRN_OK)
        rc = open_modules(&d);
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
        signal_loop(&d, &set);
        log_info("main", "shutting down");
    }
    shutdown_all(&d);
    va_global_cleanup();
    return rc == CAIRN_OK ? 0 : 1;
}
