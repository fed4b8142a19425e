/* cli_ca.c - `cairn ca init|show|import`: the issuer hierarchy without a running daemon. The
 * hierarchy lives in <state dir>/ca, exactly where the daemon looks for it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/stat.h>

#include <jansson.h>

#include "cairn/ca.h"
#include "cairn/cli.h"
#include "cairn/log.h"

#define CLI_CA_MAX_CERTS (1 + 8 + 2 * CA_MAX_ALTERNATES)

int cli_ca_init(int argc, char **argv);
int cli_ca_show(int argc, char **argv);
int cli_ca_import(int argc, char **argv);

/* Removes "--name VALUE" (or "--name=VALUE") from argv; *value points into argv. */
static bool
take_value(int *argc, char **argv, const char *name, const char **value, bool *missing)
{
    size_t n = strlen(name);
    bool found = false;
    int o = 0;

    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            found = true;
            if (i + 1 >= *argc) {
                *missing = true;
                continue;
            }
            *value = argv[++i];
            continue;
        }
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') {
            found = true;
            *value = argv[i] + n + 1;
            continue;
        }
        argv[o++] = argv[i];
    }
    *argc = o;
    argv[o] = NULL;
    return found;
}

/* The configuration and <state dir>/ca; a throw-away test-mode daemon has no hierarchy to
 * manage, so a state directory is required. */
static int
ca_dir_of(int argc, char **argv, struct config *cfg, char *dir, size_t dirsz)
{
    int n;

    if (cli_load_config(argc, argv, cfg) != CAIRN_OK)
        return 2;
    log_set_level((enum log_level)cfg->log_level);
    if (cfg->x_ca)
        return 0;
    if (cfg->state_dir[0] == '\0') {
        fprintf(stderr, "cairn: no state directory: give --state-dir DIR or a config with "
                        "\"cairn\": {\"stateDir\": ...}\n");
        return 2;
    }
    if (mkdir(cfg->state_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "cairn: cannot create %s: %s\n", cfg->state_dir, strerror(errno));
        return 1;
    }
    n = snprintf(dir, dirsz, "%s/ca", cfg->state_dir);
    if (n < 0 || (size_t)n >= dirsz) {
        fprintf(stderr, "cairn: state directory path too long\n");
        return 2;
    }
    return 0;
}

static void
options_from(const struct config *cfg, const char *dir, struct ca_options *o)
{
    memset(o, 0, sizeof(*o));
    o->dir = dir;
    o->rsa = cfg->key_rsa;
    o->chain_length = cfg->chain_length;
    o->name = cfg->ca_name;
    o->alternate_roots = cfg->alternate_roots;
    if (cfg->x_ca) {
        o->x_ca_path = cfg->x_ca_path;
        o->x_ca_des3 = cfg->x_ca_des3;
        o->x_ca_root_password = cfg->x_ca_root_password;
        o->x_ca_tls_password = cfg->x_ca_tls_password;
    }
}

static void
fmt_time(int64_t t, char *out, size_t outsz)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
print_certs(const struct ca *ca, bool json)
{
    struct ca_cert_info info[CLI_CA_MAX_CERTS];
    char nb[32], na[32];
    json_t *arr = json ? json_array() : NULL;
    size_t n = 0;

    if (ca_list_certs(ca, info, CLI_CA_MAX_CERTS, &n) != CAIRN_OK)
        return 1;
    if (n > CLI_CA_MAX_CERTS)
        n = CLI_CA_MAX_CERTS;
    for (size_t i = 0; i < n; i++) {
        fmt_time(info[i].not_before, nb, sizeof(nb));
        fmt_time(info[i].not_after, na, sizeof(na));
        if (json) {
            json_array_append_new(
                arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b}", "role", info[i].role,
                               "subject", info[i].subject, "sha256", info[i].fingerprint,
                               "keyType", info[i].key_type, "notBefore", nb, "notAfter", na,
                               "keyHeld", info[i].has_key, "issuesLeaves", info[i].issuer));
            continue;
        }
        printf("%s%s\n  subject:  %s\n  sha256:   %s\n  key:      %s%s\n  valid:    %s .. %s\n",
               info[i].role, info[i].issuer ? " (issues leaves)" : "", info[i].subject,
               info[i].fingerprint, info[i].key_type, info[i].has_key ? "" : " (key not held)",
               nb, na);
    }
    if (json) {
        char *s = json_dumps(arr, JSON_INDENT(2));

        if (s != NULL)
            printf("%s\n", s);
        free(s);
        json_decref(arr);
    }
    return 0;
}

int
cli_ca_init(int argc, char **argv)
{
    static struct config cfg;
    char dir[CAIRN_CONF_PATH + 8] = "";
    struct ca_options o;
    struct ca *ca = NULL;
    int rc = ca_dir_of(argc, argv, &cfg, dir, sizeof(dir));

    if (rc != 0)
        return rc;
    options_from(&cfg, dir, &o);
    rc = ca_open(&o, &ca);
    config_wipe_secrets(&cfg);
    if (rc != CAIRN_OK) {
        fprintf(stderr, "cairn: cannot create or load the CA in %s\n",
                cfg.x_ca ? cfg.x_ca_path : dir);
        return 1;
    }
    printf("CA ready in %s\nRoot CA SHA-256 fingerprint: %s\n", cfg.x_ca ? cfg.x_ca_path : dir,
           ca_root_fingerprint(ca));
    ca_free(ca);
    return 0;
}

static int
show_dir(struct config *cfg, const char *dir, bool json)
{
    struct ca_options o;
    struct ca *ca = NULL;
    int rc;

    options_from(cfg, dir, &o);
    o.no_create = true;
    o.alternate_roots = 0; /* show what is stored, add nothing */
    rc = ca_open(&o, &ca);
    config_wipe_secrets(cfg);
    if (rc == CAIRN_ERR_NOTFOUND) {
        fprintf(stderr, "cairn: no CA hierarchy in %s (cairn ca init creates one)\n", dir);
        return 1;
    }
    if (rc != CAIRN_OK) {
        fprintf(stderr, "cairn: cannot load the CA in %s\n", cfg->x_ca ? cfg->x_ca_path : dir);
        return 1;
    }
    rc = print_certs(ca, json);
    ca_free(ca);
    return rc;
}

int
cli_ca_show(int argc, char **argv)
{
    static struct config cfg;
    char dir[CAIRN_CONF_PATH + 8] = "";
    bool json = cli_take_flag(&argc, argv, "--json");
    int rc = ca_dir_of(argc, argv, &cfg, dir, sizeof(dir));

    if (rc != 0)
        return rc;
    return show_dir(&cfg, dir, json);
}

int
cli_ca_import(int argc, char **argv)
{
    static struct config cfg;
    char dir[CAIRN_CONF_PATH + 8] = "";
    struct ca_import_req req = { 0 };
    bool force = cli_take_flag(&argc, argv, "--force"), missing = false;
    int rc;

    take_value(&argc, argv, "--cert", &req.cert_file, &missing);
    take_value(&argc, argv, "--key", &req.key_file, &missing);
    take_value(&argc, argv, "--chain", &req.chain_file, &missing);
    if (missing || req.cert_file == NULL || req.key_file == NULL) {
        fprintf(stderr, "usage: cairn ca import --cert FILE --key FILE [--chain FILE] "
                        "[--force] [--state-dir DIR | -config FILE]\n");
        return 2;
    }
    rc = ca_dir_of(argc, argv, &cfg, dir, sizeof(dir));
    if (rc != 0)
        return rc;
    if (cfg.x_ca) {
        fprintf(stderr, "cairn: USE_X_CA is set: the x-ca directory is used as is, there is "
                        "nothing to import into\n");
        return 2;
    }
    req.dir = dir;
    req.force = force;
    req.rsa = cfg.key_rsa;
    req.chain_length = cfg.chain_length;
    req.name = cfg.ca_name;
    req.now = (int64_t)time(NULL);
    rc = ca_import(&req);
    if (rc != CAIRN_OK)
        return rc == CAIRN_ERR_CONFLICT ? 3 : 1;
    printf("imported into %s\n", dir);
    return show_dir(&cfg, dir, false);
}
