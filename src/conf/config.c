#include "cairn/config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cairn/limits.h"
#include "cairn/log.h"

void
config_defaults(struct config *cfg, bool ca_mode)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ca_mode = ca_mode;
    snprintf(cfg->listen, sizeof(cfg->listen), "%s", ca_mode ? "0.0.0.0:443" : "127.0.0.1:14000");
    snprintf(cfg->mgmt_listen, sizeof(cfg->mgmt_listen), "127.0.0.1:15000");
    cfg->http_port = ca_mode ? 80 : 5002;
    cfg->tls_port = ca_mode ? 443 : 5001;
    snprintf(cfg->ca_name, sizeof(cfg->ca_name), "cairn");
    if (ca_mode)
        snprintf(cfg->state_dir, sizeof(cfg->state_dir), "/var/lib/cairn");
    cfg->authz_reuse_percent = 50;
    cfg->orders_per_page = ca_mode ? 100 : 3;
    cfg->chain_length = 1;
    cfg->validity = 7776000; /* 90 days */
    cfg->retry_after_authz = 3;
    cfg->retry_after_order = 5;
    cfg->va_workers = 8;
    cfg->va_timeout_ms = 20000;
    cfg->http_threads = 4;
    cfg->log_level = LOG_LVL_INFO;
    cfg->max_body = CAIRN_MAX_BODY;
    cfg->max_connections = 1024;
    cfg->max_per_ip = 64;
    cfg->idle_timeout = 30;
    cfg->body_timeout = 30;
}

static int cfg_err(char *err, size_t errsz, const char *fmt, ...) CAIRN_PRINTF(3, 4);

static int
cfg_err(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return CAIRN_ERR_INVAL;
}

static int
set_str(char *dst, size_t dstsz, const json_t *v, const char *name, char *err, size_t errsz)
{
    if (json_is_null(v)) {
        dst[0] = '\0';
        return CAIRN_OK;
    }
    if (!json_is_string(v) || json_string_length(v) >= dstsz)
        return cfg_err(err, errsz, "config: %s must be a string of reasonable length", name);
    snprintf(dst, dstsz, "%s", json_string_value(v));
    return CAIRN_OK;
}

static int
set_int(int *dst, const json_t *v, int min, int max, const char *name, char *err, size_t errsz)
{
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return cfg_err(err, errsz, "config: %s must be an integer in range", name);
    *dst = (int)json_integer_value(v);
    return CAIRN_OK;
}

static int
set_key_algorithm(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    const char *s = json_string_value(v);

    if (s != NULL && strcasecmp(s, "rsa") == 0)
        cfg->key_rsa = true;
    else if (s != NULL && (strcasecmp(s, "ecdsa") == 0 || strcasecmp(s, "ecdsa-p256") == 0))
        cfg->key_rsa = false;
    else
        return cfg_err(err, errsz, "config: %s must be \"ecdsa\" or \"rsa\"", "keyAlgorithm");
    return CAIRN_OK;
}

/* Pebble's keys, matched case-insensitively as Pebble's JSON decoder does. */
static int
apply_pebble_key(struct config *cfg, const char *k, const json_t *v, char *err, size_t errsz)
{
    if (strcasecmp(k, "listenAddress") == 0)
        return set_str(cfg->listen, sizeof(cfg->listen), v, k, err, errsz);
    if (strcasecmp(k, "managementListenAddress") == 0)
        return set_str(cfg->mgmt_listen, sizeof(cfg->mgmt_listen), v, k, err, errsz);
    if (strcasecmp(k, "certificate") == 0)
        return set_str(cfg->tls_cert_file, sizeof(cfg->tls_cert_file), v, k, err, errsz);
    if (strcasecmp(k, "privateKey") == 0)
        return set_str(cfg->tls_key_file, sizeof(cfg->tls_key_file), v, k, err, errsz);
    if (strcasecmp(k, "httpPort") == 0)
        return set_int(&cfg->http_port, v, 1, 65535, k, err, errsz);
    if (strcasecmp(k, "tlsPort") == 0)
        return set_int(&cfg->tls_port, v, 1, 65535, k, err, errsz);
    if (strcasecmp(k, "ocspResponderURL") == 0)
        return set_str(cfg->ocsp_url, sizeof(cfg->ocsp_url), v, k, err, errsz);
    if (strcasecmp(k, "externalAccountBindingRequired") == 0) {
        if (!json_is_boolean(v))
            return cfg_err(err, errsz, "config: %s must be a boolean", k);
        cfg->eab_required = json_is_true(v);
        return CAIRN_OK;
    }
    if (strcasecmp(k, "keyAlgorithm") == 0)
        return set_key_algorithm(cfg, v, err, errsz);
    if (strcasecmp(k, "certificateValidityPeriod") == 0) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return cfg_err(err, errsz, "config: %s must be a positive integer", k);
        cfg->validity = json_integer_value(v);
        return CAIRN_OK;
    }
    if (strcasecmp(k, "retryAfter") == 0 && json_is_object(v)) {
        const json_t *a = json_object_get(v, "authz"), *o = json_object_get(v, "order");
        if (a && set_int(&cfg->retry_after_authz, a, 0, 86400, "retryAfter.authz", err, errsz))
            return CAIRN_ERR_INVAL;
        if (o && set_int(&cfg->retry_after_order, o, 0, 86400, "retryAfter.order", err, errsz))
            return CAIRN_ERR_INVAL;
        return CAIRN_OK;
    }
    log_warn("conf", "ignoring unknown or not yet supported pebble key %s", k);
    return CAIRN_OK;
}

struct cairn_key {
    const char *name;
    int (*apply)(struct config *cfg, const json_t *v, char *err, size_t errsz);
};

#define STR_KEY(fn, field, label)                                                             \
    static int fn(struct config *cfg, const json_t *v, char *err, size_t errsz)               \
    {                                                                                         \
        return set_str(cfg->field, sizeof(cfg->field), v, label, err, errsz);                 \
    }
STR_KEY(ck_state_dir, state_dir, "stateDir")
STR_KEY(ck_external_url, external_url, "externalURL")
STR_KEY(ck_dns_server, dns_server, "dnsServer")
STR_KEY(ck_tos, tos_url, "termsOfService")
STR_KEY(ck_website, website, "website")
STR_KEY(ck_ca_name, ca_name, "caName")
STR_KEY(ck_listen, listen, "listenAddress")
STR_KEY(ck_mgmt, mgmt_listen, "managementListenAddress")
#undef STR_KEY

static int
ck_mode(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    (void)cfg; /* the mode was decided by config_peek_mode() before defaults were set */
    if (!json_is_string(v) ||
        (strcmp(json_string_value(v), "ca") != 0 && strcmp(json_string_value(v), "test") != 0))
        return cfg_err(err, errsz, "config: %s must be \"ca\" or \"test\"", "mode");
    return CAIRN_OK;
}

static int
ck_chain_length(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return set_int(&cfg->chain_length, v, 1, 8, "chainLength", err, errsz);
}

static int
ck_key_algorithm(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return set_key_algorithm(cfg, v, err, errsz);
}

static int
ck_va_workers(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return set_int(&cfg->va_workers, v, 1, 256, "vaWorkers", err, errsz);
}

static int
ck_http_threads(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return set_int(&cfg->http_threads, v, 1, 256, "httpThreads", err, errsz);
}

static int
ck_va_timeout(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return set_int(&cfg->va_timeout_ms, v, 100, 120000, "vaTimeoutMs", err, errsz);
}

/* "limits": {"maxBody", "connections", "perIPConnections", "idleTimeout", "bodyTimeout"}:
 * strict like every cairn key, each an integer within a sane range. */
static int
ck_limits(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    static const struct {
        const char *name;
        size_t off;
        int min, max;
    } keys[] = {
        { "maxBody", offsetof(struct config, max_body), 1024, 1024 * 1024 },
        { "connections", offsetof(struct config, max_connections), 1, 65536 },
        { "perIPConnections", offsetof(struct config, max_per_ip), 0, 65536 },
        { "idleTimeout", offsetof(struct config, idle_timeout), 1, 3600 },
        { "bodyTimeout", offsetof(struct config, body_timeout), 1, 3600 },
    };
    const char *k;
    const json_t *val;

    if (!json_is_object(v))
        return cfg_err(err, errsz, "config: %s must be an object", "cairn.limits");
    json_object_foreach((json_t *)v, k, val) {
        size_t i = 0;
        char name[64];

        while (i < CAIRN_ARRAY_LEN(keys) && strcmp(k, keys[i].name) != 0)
            i++;
        if (i == CAIRN_ARRAY_LEN(keys))
            return cfg_err(err, errsz, "config: unknown key \"cairn.limits.%.64s\"", k);
        snprintf(name, sizeof(name), "limits.%s", keys[i].name);
        if (set_int((int *)((char *)cfg + keys[i].off), val, keys[i].min, keys[i].max, name,
                    err, errsz) != CAIRN_OK)
            return CAIRN_ERR_INVAL;
    }
    return CAIRN_OK;
}

static const struct cairn_key cairn_keys[] = {
    { "mode", ck_mode },
    { "stateDir", ck_state_dir },
    { "externalURL", ck_external_url },
    { "dnsServer", ck_dns_server },
    { "termsOfService", ck_tos },
    { "website", ck_website },
    { "caName", ck_ca_name },
    { "listenAddress", ck_listen },
    { "managementListenAddress", ck_mgmt },
    { "chainLength", ck_chain_length },
    { "keyAlgorithm", ck_key_algorithm },
    { "vaWorkers", ck_va_workers },
    { "vaTimeoutMs", ck_va_timeout },
    { "httpThreads", ck_http_threads },
    { "limits", ck_limits },
};

static int
apply_cairn_key(struct config *cfg, const char *k, const json_t *v, char *err, size_t errsz)
{
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(cairn_keys); i++)
        if (strcmp(k, cairn_keys[i].name) == 0)
            return cairn_keys[i].apply(cfg, v, err, errsz);
    /* cairn's own keys are strict: a typo must not silently weaken a CA */
    return cfg_err(err, errsz, "config: unknown key \"cairn.%s\"", k);
}

static int
load_json(const char *path, json_t **out, char *err, size_t errsz)
{
    json_error_t je;

    *out = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (*out == NULL) {
        snprintf(err, errsz, "config: %s:%d: %s", path, je.line, je.text);
        return CAIRN_ERR_INVAL;
    }
    if (!json_is_object(*out)) {
        json_decref(*out);
        return cfg_err(err, errsz, "config: %s is not a JSON object", path);
    }
    return CAIRN_OK;
}

int
config_parse_file(const char *path, struct config *cfg, char *err, size_t errsz)
{
    json_t *root, *sect, *v;
    const char *k;
    int rc = CAIRN_OK;

    if (load_json(path, &root, err, errsz) != CAIRN_OK)
        return CAIRN_ERR_INVAL;
    sect = json_object_get(root, "pebble");
    if (json_is_object(sect))
        json_object_foreach(sect, k, v)
            if (rc == CAIRN_OK)
                rc = apply_pebble_key(cfg, k, v, err, errsz);
    sect = json_object_get(root, "cairn");
    if (rc == CAIRN_OK && sect != NULL && !json_is_object(sect))
        rc = cfg_err(err, errsz, "config: %s must be an object", "cairn");
    if (json_is_object(sect))
        json_object_foreach(sect, k, v)
            if (rc == CAIRN_OK)
                rc = apply_cairn_key(cfg, k, v, err, errsz);
    json_decref(root);
    return rc;
}

/* The mode must be known before defaults apply: "cairn":{"mode":"ca"} selects CA mode. */
static bool
config_peek_ca_mode(const char *path)
{
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
    const char *m = json_string_value(json_object_get(json_object_get(root, "cairn"), "mode"));
    bool ca = m != NULL && strcmp(m, "ca") == 0;

    json_decref(root);
    return ca;
}

static bool
env_true(const char *v)
{
    return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "True") == 0 ||
                 strcmp(v, "TRUE") == 0);
}

/* Parses an integer variable; unparsable values keep the default (Pebble's behaviour). */
static void
env_int(const char *name, int *dst, int min, int max)
{
    const char *v = getenv(name);
    char *end;
    long n;

    if (v == NULL || *v == '\0')
        return;
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno != 0 || *end != '\0') {
        log_warn("conf", "ignoring unparsable %s", name);
        return;
    }
    *dst = (int)(n < min ? min : n > max ? max : n);
}

static int
apply_pebble_env(struct config *cfg, char *err, size_t errsz)
{
    static const char *const names[] = { "PEBBLE_VA_ALWAYS_VALID", "PEBBLE_VA_NOSLEEP",
                                         "PEBBLE_VA_SLEEPTIME", "PEBBLE_WFE_NONCEREJECT",
                                         "PEBBLE_AUTHZREUSE", "PEBBLE_WFE_ORDERS_PER_PAGE",
                                         "PEBBLE_CHAIN_LENGTH", "PEBBLE_ALTERNATE_ROOTS" };
    const char *cl;

    if (cfg->ca_mode) {
        /* a leftover CI variable must not stop or weaken a lab CA */
        for (size_t i = 0; i < CAIRN_ARRAY_LEN(names); i++)
            if (getenv(names[i]))
                log_warn("conf", "CA mode ignores %s", names[i]);
        return CAIRN_OK;
    }
    cfg->always_valid = env_true(getenv("PEBBLE_VA_ALWAYS_VALID"));
    env_int("PEBBLE_VA_SLEEPTIME", &cfg->va_sleep_max, 0, 3600);
    if (env_true(getenv("PEBBLE_VA_NOSLEEP")))
        cfg->va_sleep_max = 0;
    env_int("PEBBLE_WFE_NONCEREJECT", &cfg->nonce_reject_percent, 0, 99);
    env_int("PEBBLE_AUTHZREUSE", &cfg->authz_reuse_percent, 0, 100);
    env_int("PEBBLE_WFE_ORDERS_PER_PAGE", &cfg->orders_per_page, 1, 1000);
    cl = getenv("PEBBLE_CHAIN_LENGTH");
    if (cl != NULL && *cl != '\0') {
        char *end;
        long n = strtol(cl, &end, 10);
        if (*end != '\0' || n < 1 || n > 8)
            return cfg_err(err, errsz,
                           "%s must be an integer from 1 to 8 (intermediates between leaf "
                           "and root)", "PEBBLE_CHAIN_LENGTH");
        cfg->chain_length = (int)n;
    }
    return CAIRN_OK;
}

int
config_apply_env(struct config *cfg, char *err, size_t errsz)
{
    const char *v;

    if (apply_pebble_env(cfg, err, errsz) != CAIRN_OK)
        return CAIRN_ERR_INVAL;
    if ((v = getenv("CAIRN_STATE_DIR")) != NULL && *v)
        snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", v);
    if ((v = getenv("CAIRN_LISTEN_ADDRESS")) != NULL && *v)
        snprintf(cfg->listen, sizeof(cfg->listen), "%s", v);
    if ((v = getenv("CAIRN_MANAGEMENT_LISTEN_ADDRESS")) != NULL)
        snprintf(cfg->mgmt_listen, sizeof(cfg->mgmt_listen), "%s", v);
    if ((v = getenv("CAIRN_DNS_SERVER")) != NULL && *v)
        snprintf(cfg->dns_server, sizeof(cfg->dns_server), "%s", v);
    if ((v = getenv("CAIRN_EXTERNAL_URL")) != NULL && *v)
        snprintf(cfg->external_url, sizeof(cfg->external_url), "%s", v);
    if (env_true(getenv("CAIRN_VA_ALWAYS_VALID"))) {
        if (cfg->ca_mode)
            return cfg_err(err, errsz, "CA mode refuses the weakening setting %s",
                           "CAIRN_VA_ALWAYS_VALID");
        cfg->always_valid = true;
    }
    return CAIRN_OK;
}

enum { OPT_CONFIG = 1, OPT_DNS, OPT_STRICT, OPT_VERSION, OPT_STATE, OPT_TEST, OPT_ROOT_OUT,
       OPT_LOG_LEVEL, OPT_HELP };

static const struct option long_opts[] = {
    { "config", required_argument, NULL, OPT_CONFIG },
    { "dnsserver", required_argument, NULL, OPT_DNS },
    { "strict", no_argument, NULL, OPT_STRICT },
    { "version", no_argument, NULL, OPT_VERSION },
    { "state-dir", required_argument, NULL, OPT_STATE },
    { "test-mode", no_argument, NULL, OPT_TEST },
    { "root-out", required_argument, NULL, OPT_ROOT_OUT },
    { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
    { "help", no_argument, NULL, OPT_HELP },
    { NULL, 0, NULL, 0 },
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: cairn [-config FILE] [-dnsserver HOST:PORT] [-strict] [--state-dir DIR]\n"
               "             [--test-mode] [--root-out FILE] [--log-level LEVEL] [-version]\n"
               "Pebble-compatible ACME CA. See README.md and API.md.\n");
}

/* First pass: only the config path and the mode flag, which decide the defaults. */
static void
scan_mode_args(int argc, char **argv, const char **config, bool *test_flag)
{
    int c;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long_only(argc, argv, "", long_opts, NULL)) != -1) {
        if (c == OPT_CONFIG)
            *config = optarg;
        else if (c == OPT_TEST)
            *test_flag = true;
    }
}

static int
apply_flags(int argc, char **argv, struct config *cfg, bool *want_exit)
{
    enum log_level lvl;
    int c;

    opterr = 1;
    optind = 1;
    while ((c = getopt_long_only(argc, argv, "", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_CONFIG:
        case OPT_TEST:
            break;
        case OPT_DNS:
            snprintf(cfg->dns_server, sizeof(cfg->dns_server), "%s", optarg);
            break;
        case OPT_STRICT:
            cfg->strict = true;
            break;
        case OPT_VERSION:
            printf("cairn %s\n", CAIRN_VERSION);
            *want_exit = true;
            return CAIRN_OK;
        case OPT_STATE:
            snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", optarg);
            break;
        case OPT_ROOT_OUT:
            snprintf(cfg->root_out, sizeof(cfg->root_out), "%s", optarg);
            break;
        case OPT_LOG_LEVEL:
            if (log_level_parse(optarg, &lvl) != CAIRN_OK) {
                fprintf(stderr, "cairn: unknown log level %s\n", optarg);
                return CAIRN_ERR_INVAL;
            }
            cfg->log_level = (int)lvl;
            break;
        case OPT_HELP:
            usage(stdout);
            *want_exit = true;
            return CAIRN_OK;
        default:
            usage(stderr);
            return CAIRN_ERR_INVAL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cairn: unexpected argument %s\n", argv[optind]);
        return CAIRN_ERR_INVAL;
    }
    return CAIRN_OK;
}

int
config_load(int argc, char **argv, struct config *out, bool *want_exit)
{
    const char *path = NULL;
    bool test_flag = false;
    char err[512] = "";

    *want_exit = false;
    scan_mode_args(argc, argv, &path, &test_flag);
    config_defaults(out, path != NULL && !test_flag && config_peek_ca_mode(path));
    if (path != NULL) {
        snprintf(out->config_file, sizeof(out->config_file), "%s", path);
        if (config_parse_file(path, out, err, sizeof(err)) != CAIRN_OK)
            goto fail;
    }
    if (config_apply_env(out, err, sizeof(err)) != CAIRN_OK)
        goto fail;
    if (apply_flags(argc, argv, out, want_exit) != CAIRN_OK)
        return CAIRN_ERR_INVAL;
    return CAIRN_OK;
fail:
    fprintf(stderr, "cairn: %s\n", err);
    return CAIRN_ERR_INVAL;
}
