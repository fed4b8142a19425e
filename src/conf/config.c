#include "cairn/config.h"

#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "cairn/limits.h"
#include "cairn/log.h"
#include "cairn/va.h"

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
    cfg->va_caa = ca_mode; /* PROTOCOL.md §0: CAA on in CA mode, off in test mode */
    cfg->va_retry_spacing = 2;
    cfg->va_validate_times = 1;
    cfg->caa_recheck_age = 7 * 3600;
    cfg->log_level = LOG_LVL_INFO;
    cfg->eab_single_use = -1;
    cfg->max_body = CAIRN_MAX_BODY;
    cfg->max_connections = 1024;
    cfg->max_per_ip = 64;
    cfg->idle_timeout = 30;
    cfg->body_timeout = 30;
    cfg->max_json_depth = CAIRN_MAX_JSON_DEPTH;
    cfg->max_json_string = CAIRN_MAX_JSON_STRING;
    cfg->max_idents = CAIRN_MAX_IDENTS;
    cfg->max_contacts = CAIRN_MAX_CONTACTS;
    cfg->max_request_target = CAIRN_MAX_REQUEST_TARGET;
    cfg->max_header_field = CAIRN_MAX_HEADER_FIELD;
    cfg->max_header_total = CAIRN_MAX_HEADER_TOTAL;
    cfg->max_header_fields = CAIRN_MAX_HEADER_FIELDS;
    cfg->shutdown_timeout = 10;
    if (ca_mode) {
        /* lab-friendly defaults; test mode has none (clients hammer Pebble in CI) */
        cfg->rl_new_orders = (struct rate_rule){ 300, 3 * 3600 };
        cfg->rl_certs_per_name = (struct rate_rule){ 50, 7 * 86400 };
        cfg->rl_failed_validations = (struct rate_rule){ 5, 3600 };
    }
}

static int
set_str(char *dst, size_t dstsz, const json_t *v, const char *name, char *err, size_t errsz)
{
    if (json_is_null(v)) {
        dst[0] = '\0';
        return CAIRN_OK;
    }
    if (!json_is_string(v) || json_string_length(v) >= dstsz)
        return cairn_err_inval(err, errsz,
                               "config: %s must be a string of reasonable length", name);
    snprintf(dst, dstsz, "%s", json_string_value(v));
    return CAIRN_OK;
}

static int
set_int(int *dst, const json_t *v, int min, int max, const char *name, char *err, size_t errsz)
{
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return cairn_err_inval(err, errsz, "config: %s must be an integer in range", name);
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
        return cairn_err_inval(err, errsz,
                               "config: %s must be \"ecdsa\" or \"rsa\"", "keyAlgorithm");
    return CAIRN_OK;
}

/* A JSON array of at most max non-empty strings, each shorter than width, into rows of a
 * char[max][width] table. */
static int
set_str_list(char *rows, size_t width, int max, int *n, const json_t *v, const char *name,
             char *err, size_t errsz)
{
    size_t i;
    const json_t *e;

    if (!json_is_array(v) || json_array_size(v) > (size_t)max)
        return cairn_err_inval(err, errsz,
                               "config: %s must be an array of at most %d strings", name,
                               max);
    json_array_foreach(v, i, e) {
        if (!json_is_string(e) || json_string_length(e) == 0 || json_string_length(e) >= width)
            return cairn_err_inval(err, errsz,
                                   "config: %s[%zu] must be a non-empty string", name, i);
        snprintf(rows + i * width, width, "%s", json_string_value(e));
    }
    *n = (int)json_array_size(v);
    return CAIRN_OK;
}

static int
set_caa_identities(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return set_str_list(&cfg->caa_identities[0][0], sizeof(cfg->caa_identities[0]),
                        CAIRN_CONF_CAA_IDS, &cfg->n_caa_identities, v, "caaIdentities", err,
                        errsz);
}

/* A member matched as Go's encoding/json matches a struct field: the exact name first, else
 * the first name equal but for case (Pebble reads "Pebble", "PEBBLE", "httpport", ...). */
static const json_t *
json_object_get_ci(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    const char *k;
    json_t *m;

    if (v != NULL || !json_is_object(obj))
        return v;
    json_object_foreach((json_t *)obj, k, m)
        if (strcasecmp(k, name) == 0)
            return m;
    return NULL;
}

/* domainBlocklist / domainAllowlist: DNS names, lower-cased, a trailing dot dropped; a
 * wildcard or an empty name is a mistake worth stopping for. */
static int
set_domain_list(char *rows, int *n, const json_t *v, const char *name, char *err, size_t errsz)
{
    int rc = set_str_list(rows, CAIRN_CONF_DOMAIN, CAIRN_CONF_DOMAINS, n, v, name, err, errsz);

    for (int i = 0; rc == CAIRN_OK && i < *n; i++) {
        char *e = rows + (size_t)i * CAIRN_CONF_DOMAIN;
        size_t len = strlen(e);

        if (len > 0 && e[len - 1] == '.')
            e[--len] = '\0';
        for (size_t j = 0; j < len; j++)
            if (e[j] >= 'A' && e[j] <= 'Z')
                e[j] = (char)(e[j] + ('a' - 'A'));
        if (len == 0 || len > CAIRN_MAX_NAME || strchr(e, '*') != NULL || e[0] == '.' ||
            strspn(e, "abcdefghijklmnopqrstuvwxyz0123456789-.") != len)
            return cairn_err_inval(err, errsz, "config: %s[%d] is not a DNS name", name, i);
    }
    return rc;
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
            return cairn_err_inval(err, errsz, "config: %s must be a boolean", k);
        cfg->eab_required = json_is_true(v);
        return CAIRN_OK;
    }
    if (strcasecmp(k, "keyAlgorithm") == 0)
        return set_key_algorithm(cfg, v, err, errsz);
    if (strcasecmp(k, "certificateValidityPeriod") == 0) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return cairn_err_inval(err, errsz, "config: %s must be a positive integer", k);
        cfg->validity = json_integer_value(v);
        return CAIRN_OK;
    }
    if (strcasecmp(k, "retryAfter") == 0 && json_is_object(v)) {
        const json_t *a = json_object_get_ci(v, "authz"), *o = json_object_get_ci(v, "order");
        if (a && set_int(&cfg->retry_after_authz, a, 0, 86400, "retryAfter.authz", err, errsz))
            return CAIRN_ERR_INVAL;
        if (o && set_int(&cfg->retry_after_order, o, 0, 86400, "retryAfter.order", err, errsz))
            return CAIRN_ERR_INVAL;
        return CAIRN_OK;
    }
    if (strcasecmp(k, "profiles") == 0)
        return config_parse_profiles(cfg, v, false, err, errsz);
    if (strcasecmp(k, "externalAccountMACKeys") == 0)
        return config_parse_eab_keys(cfg, v, err, errsz);
    if (strcasecmp(k, "caaIdentities") == 0)
        return set_caa_identities(cfg, v, err, errsz);
    if (strcasecmp(k, "domainBlocklist") == 0)
        return set_domain_list(&cfg->domain_blocklist[0][0], &cfg->n_domain_blocklist, v,
                               "domainBlocklist", err, errsz);
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
STR_KEY(ck_listen, listen, "listenAddress")
STR_KEY(ck_mgmt, mgmt_listen, "managementListenAddress")
STR_KEY(ck_crl_listen, crl_listen, "crlListenAddress")
#undef STR_KEY

/* The CA name goes into every CA subject ("<name> root CA <hex>"): at most 40 printable
 * characters keep each CN within 64. */
static int
ck_ca_name(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    const char *n = json_string_value(v);
    size_t len = n ? strlen(n) : 0;

    if (n == NULL || len == 0 || len > 40)
        return cairn_err_inval(err, errsz, "config: %s must be a string of 1 to 40 characters",
                               "caName");
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)n[i] < 0x20 || n[i] == 0x7f)
            return cairn_err_inval(err, errsz, "config: %s has a control character", "caName");
    snprintf(cfg->ca_name, sizeof(cfg->ca_name), "%s", n);
    return CAIRN_OK;
}

static int
ck_mode(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    (void)cfg; /* the mode was decided by config_peek_mode() before defaults were set */
    if (!json_is_string(v) ||
        (strcmp(json_string_value(v), "ca") != 0 && strcmp(json_string_value(v), "test") != 0))
        return cairn_err_inval(err, errsz, "config: %s must be \"ca\" or \"test\"", "mode");
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

static int
ck_profiles(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return config_parse_profiles(cfg, v, true, err, errsz);
}

static int
ck_eab_keys(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return config_parse_eab_keys(cfg, v, err, errsz);
}

static int
ck_bool(bool *dst, const json_t *v, const char *name, char *err, size_t errsz)
{
    if (!json_is_boolean(v))
        return cairn_err_inval(err, errsz, "config: %s must be a boolean", name);
    *dst = json_is_true(v);
    return CAIRN_OK;
}

static int
ck_log_format(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    enum log_format f;

    if (!json_is_string(v) || log_format_parse(json_string_value(v), &f) != CAIRN_OK)
        return cairn_err_inval(err, errsz,
                               "config: %s must be \"logfmt\" or \"json\"", "logFormat");
    cfg->log_format = (int)f;
    return CAIRN_OK;
}

static int
ck_eab_required(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return ck_bool(&cfg->eab_required, v, "externalAccountBindingRequired", err, errsz);
}

static int
ck_eab_single_use(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    bool b = false;
    int rc = ck_bool(&b, v, "eabSingleUse", err, errsz);

    cfg->eab_single_use = b ? 1 : 0;
    return rc;
}

static int
ck_test_controls(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return ck_bool(&cfg->allow_test_controls, v, "allowTestControls", err, errsz);
}

static int
ck_default_profile(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return set_str(cfg->default_profile_name, sizeof(cfg->default_profile_name), v,
                   "defaultProfile", err, errsz);
}

static int
ck_log_level(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    enum log_level l;

    if (!json_is_string(v) || log_level_parse(json_string_value(v), &l) != CAIRN_OK)
        return cairn_err_inval(err, errsz,
                               "config: %s must be error, warn, info or debug", "logLevel");
    cfg->log_level = (int)l;
    return CAIRN_OK;
}

static int
ck_shutdown_timeout(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return set_int(&cfg->shutdown_timeout, v, 0, 3600, "shutdownTimeout", err, errsz);
}

/* {"count": N, "window": seconds}; count 0 switches the limit off. */
static int
set_rate_rule(struct rate_rule *r, const json_t *v, const char *name, char *err, size_t errsz)
{
    const json_t *c = json_object_get(v, "count"), *w = json_object_get(v, "window");

    if (!json_is_object(v) || json_object_size(v) != 2 || c == NULL || w == NULL)
        return cairn_err_inval(err, errsz,
                               "config: rateLimits.%s must be {\"count\": N, \"window\": "
                               "seconds}", name);
    if (set_int(&r->count, c, 0, 1000000, name, err, errsz) != CAIRN_OK ||
        set_int(&r->window, w, 1, 366 * 86400, name, err, errsz) != CAIRN_OK)
        return CAIRN_ERR_INVAL;
    return CAIRN_OK;
}

static int
ck_rate_limits(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    const char *k;
    json_t *rule;

    if (!json_is_object(v))
        return cairn_err_inval(err, errsz, "config: %s must be an object", "rateLimits");
    json_object_foreach((json_t *)v, k, rule) {
        struct rate_rule *r = strcmp(k, "newOrdersPerAccount") == 0     ? &cfg->rl_new_orders
                              : strcmp(k, "certificatesPerName") == 0   ? &cfg->rl_certs_per_name
                              : strcmp(k, "failedValidationsPerAccountName") == 0
                                  ? &cfg->rl_failed_validations
                                  : NULL;
        if (r == NULL)
            return cairn_err_inval(err, errsz, "config: unknown key \"cairn.rateLimits.%s\"", k);
        if (set_rate_rule(r, rule, k, err, errsz) != CAIRN_OK)
            return CAIRN_ERR_INVAL;
    }
    return CAIRN_OK;
}

static int
ck_caa_identities(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return set_caa_identities(cfg, v, err, errsz);
}

static int
ck_va_caa(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    if (!json_is_boolean(v))
        return cairn_err_inval(err, errsz, "config: %s must be a boolean", "vaCAA");
    if (cfg->ca_mode && !json_is_true(v))
        return cairn_err_inval(err, errsz,
                               "CA mode refuses the weakening setting %s", "vaCAA: false");
    cfg->va_caa = json_is_true(v);
    return CAIRN_OK;
}

/* A list of CIDRs ("10.0.0.0/8", "::1/128" or a bare address). */
static int
set_ranges(char *rows, int *n, const json_t *v, const char *name, char *err, size_t errsz)
{
    int rc = set_str_list(rows, 64, CAIRN_CONF_RANGES, n, v, name, err, errsz);

    for (int i = 0; rc == CAIRN_OK && i < *n; i++)
        if (!va_range_valid(rows + (size_t)i * 64))
            return cairn_err_inval(err, errsz,
                                   "config: %s[%d] is not an address range: %s", name, i,
                                   rows + (size_t)i * 64);
    return rc;
}

static int
ck_va_allowed(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return set_ranges(&cfg->va_allowed_ranges[0][0], &cfg->n_va_allowed, v,
                      "vaAllowedTargetRanges", err, errsz);
}

static int
ck_va_denied(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return set_ranges(&cfg->va_denied_ranges[0][0], &cfg->n_va_denied, v,
                      "vaDeniedTargetRanges", err, errsz);
}

static int
ck_va_retries(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return set_int(&cfg->va_retries, v, 0, 10, "vaRetries", err, errsz);
}

static int
ck_va_retry_spacing(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return set_int(&cfg->va_retry_spacing, v, 1, 3600, "vaRetrySpacing", err, errsz);
}

static int
ck_va_validate_times(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return set_int(&cfg->va_validate_times, v, 1, 10, "vaValidateTimes", err, errsz);
}

static int
ck_caa_recheck_age(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    int age = 0;
    int rc = set_int(&age, v, 0, 30 * 86400, "caaRecheckAge", err, errsz);

    if (rc == CAIRN_OK)
        cfg->caa_recheck_age = age;
    return rc;
}

/* "limits": {"maxBody", "connections", "perIPConnections", "idleTimeout", "bodyTimeout", ...}:
 * strict like every cairn key, each an integer within a sane range. The input limits may only
 * be lowered below their cairn/limits.h bounds (fixed-size arrays and libmicrohttpd's pool
 * are sized for those); the minimums keep ordinary ACME requests possible. */
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
        /* a newOrder payload is 3 deep: {"identifiers": [{...}]} */
        { "maxJsonDepth", offsetof(struct config, max_json_depth), 3, CAIRN_MAX_JSON_DEPTH },
        { "maxJsonString", offsetof(struct config, max_json_string), 4096, 1024 * 1024 },
        { "maxIdentifiersPerOrder", offsetof(struct config, max_idents), 1, CAIRN_MAX_IDENTS },
        { "maxContacts", offsetof(struct config, max_contacts), 1, CAIRN_MAX_CONTACTS },
        { "maxRequestTarget", offsetof(struct config, max_request_target), 256,
          CAIRN_MAX_REQUEST_TARGET },
        { "maxHeaderField", offsetof(struct config, max_header_field), 256,
          CAIRN_MAX_HEADER_FIELD },
        { "maxHeaderTotal", offsetof(struct config, max_header_total), 1024,
          CAIRN_MAX_HEADER_TOTAL },
        { "maxHeaderFields", offsetof(struct config, max_header_fields), 8,
          CAIRN_MAX_HEADER_FIELDS },
    };
    const char *k;
    const json_t *val;

    if (!json_is_object(v))
        return cairn_err_inval(err, errsz, "config: %s must be an object", "cairn.limits");
    json_object_foreach((json_t *)v, k, val) {
        size_t i = 0;
        char name[64];

        while (i < CAIRN_ARRAY_LEN(keys) && strcmp(k, keys[i].name) != 0)
            i++;
        if (i == CAIRN_ARRAY_LEN(keys))
            return cairn_err_inval(err, errsz, "config: unknown key \"cairn.limits.%.64s\"", k);
        snprintf(name, sizeof(name), "limits.%s", keys[i].name);
        if (set_int((int *)((char *)cfg + keys[i].off), val, keys[i].min, keys[i].max, name,
                    err, errsz) != CAIRN_OK)
            return CAIRN_ERR_INVAL;
    }
    return CAIRN_OK;
}

static int
ck_domain_blocklist(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return set_domain_list(&cfg->domain_blocklist[0][0], &cfg->n_domain_blocklist, v,
                           "domainBlocklist", err, errsz);
}

static int
ck_domain_allowlist(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return set_domain_list(&cfg->domain_allowlist[0][0], &cfg->n_domain_allowlist, v,
                           "domainAllowlist", err, errsz);
}

static int
ck_insecure_ports(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    return ck_bool(&cfg->allow_insecure_ports, v, "allowInsecureValidationPorts", err, errsz);
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
    { "profiles", ck_profiles },
    { "defaultProfile", ck_default_profile },
    { "externalAccountMACKeys", ck_eab_keys },
    { "externalAccountBindingRequired", ck_eab_required },
    { "eabSingleUse", ck_eab_single_use },
    { "allowTestControls", ck_test_controls },
    { "logFormat", ck_log_format },
    { "logLevel", ck_log_level },
    { "shutdownTimeout", ck_shutdown_timeout },
    { "rateLimits", ck_rate_limits },
    { "crlListenAddress", ck_crl_listen },
    { "caaIdentities", ck_caa_identities },
    { "vaCAA", ck_va_caa },
    { "vaAllowedTargetRanges", ck_va_allowed },
    { "vaDeniedTargetRanges", ck_va_denied },
    { "vaRetries", ck_va_retries },
    { "vaRetrySpacing", ck_va_retry_spacing },
    { "vaValidateTimes", ck_va_validate_times },
    { "caaRecheckAge", ck_caa_recheck_age },
    { "domainBlocklist", ck_domain_blocklist },
    { "domainAllowlist", ck_domain_allowlist },
    { "allowInsecureValidationPorts", ck_insecure_ports },
};

static int
apply_cairn_key(struct config *cfg, const char *k, const json_t *v, char *err, size_t errsz)
{
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(cairn_keys); i++)
        if (strcmp(k, cairn_keys[i].name) == 0)
            return cairn_keys[i].apply(cfg, v, err, errsz);
    /* cairn's own keys are strict: a typo must not silently weaken a CA */
    return cairn_err_inval(err, errsz, "config: unknown key \"cairn.%s\"", k);
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
        return cairn_err_inval(err, errsz, "config: %s is not a JSON object", path);
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
    sect = (json_t *)json_object_get_ci(root, "pebble");
    if (rc == CAIRN_OK && sect != NULL && !json_is_null(sect) && !json_is_object(sect))
        rc = cairn_err_inval(err, errsz, "config: %s must be an object", "pebble");
    if (json_is_object(sect))
        json_object_foreach(sect, k, v)
            if (rc == CAIRN_OK)
                rc = apply_pebble_key(cfg, k, v, err, errsz);
    sect = json_object_get(root, "cairn");
    if (rc == CAIRN_OK && sect != NULL && !json_is_object(sect))
        rc = cairn_err_inval(err, errsz, "config: %s must be an object", "cairn");
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
    /* Pebble's clipping: < 0 is 0, 100 rejects every nonce, > 100 is 99 */
    env_int("PEBBLE_WFE_NONCEREJECT", &cfg->nonce_reject_percent, 0, 101);
    if (cfg->nonce_reject_percent > 100)
        cfg->nonce_reject_percent = 99;
    env_int("PEBBLE_AUTHZREUSE", &cfg->authz_reuse_percent, 0, 100);
    env_int("PEBBLE_WFE_ORDERS_PER_PAGE", &cfg->orders_per_page, 1, 1000);
    env_int("PEBBLE_ALTERNATE_ROOTS", &cfg->alternate_roots, 0, 8);
    cl = getenv("PEBBLE_CHAIN_LENGTH");
    if (cl != NULL && *cl != '\0') {
        char *end;
        long n = strtol(cl, &end, 10);
        if (*end != '\0' || n < 1 || n > 8)
            return cairn_err_inval(err, errsz,
                                   "%s must be an integer from 1 to 8 (intermediates between leaf "
                                   "and root)", "PEBBLE_CHAIN_LENGTH");
        cfg->chain_length = (int)n;
    }
    return CAIRN_OK;
}

/* A secret copied from the environment; too long is an error rather than a silent cut. */
static int
env_secret(const char *name, char *dst, size_t dstsz, char *err, size_t errsz)
{
    const char *v = getenv(name);

    dst[0] = '\0';
    if (v == NULL)
        return CAIRN_OK;
    if (strlen(v) >= dstsz)
        return cairn_err_inval(err, errsz, "%s is longer than %zu characters", name, dstsz - 1);
    memcpy(dst, v, strlen(v) + 1);
    return CAIRN_OK;
}

/* The x-ca layout (USE_X_CA, PATH_X_CA, IS_DES3_KEY, X_CA_*_PASSWORD) in both modes: it only
 * chooses where the CA comes from. */
static int
apply_xca_env(struct config *cfg, char *err, size_t errsz)
{
    const char *v;

    cfg->x_ca = env_true(getenv("USE_X_CA"));
    if (!cfg->x_ca)
        return CAIRN_OK;
    v = getenv("PATH_X_CA");
    if (v != NULL && strlen(v) >= sizeof(cfg->x_ca_path))
        return cairn_err_inval(err, errsz, "%s is too long", "PATH_X_CA");
    snprintf(cfg->x_ca_path, sizeof(cfg->x_ca_path), "%s", v && *v ? v : "/x-ca");
    cfg->x_ca_des3 = env_true(getenv("IS_DES3_KEY"));
    if (env_secret("X_CA_ROOT_CA_PASSWORD", cfg->x_ca_root_password,
                   sizeof(cfg->x_ca_root_password), err, errsz) != CAIRN_OK ||
        env_secret("X_CA_TLS_CA_PASSWORD", cfg->x_ca_tls_password,
                   sizeof(cfg->x_ca_tls_password), err, errsz) != CAIRN_OK)
        return CAIRN_ERR_INVAL;
    return CAIRN_OK;
}

void
config_wipe_secrets(struct config *cfg)
{
    OPENSSL_cleanse(cfg->x_ca_root_password, sizeof(cfg->x_ca_root_password));
    OPENSSL_cleanse(cfg->x_ca_tls_password, sizeof(cfg->x_ca_tls_password));
}

int
config_apply_env(struct config *cfg, char *err, size_t errsz)
{
    const char *v;

    if (apply_pebble_env(cfg, err, errsz) != CAIRN_OK)
        return CAIRN_ERR_INVAL;
    if (apply_xca_env(cfg, err, errsz) != CAIRN_OK)
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
            return cairn_err_inval(err, errsz, "CA mode refuses the weakening setting %s",
                                   "CAIRN_VA_ALWAYS_VALID");
        cfg->always_valid = true;
    }
    return CAIRN_OK;
}

enum { OPT_CONFIG = 1, OPT_DNS, OPT_STRICT, OPT_VERSION, OPT_STATE, OPT_TEST, OPT_ROOT_OUT,
       OPT_LOG_LEVEL, OPT_HELP, OPT_LOG_FORMAT };

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
    { "log-format", required_argument, NULL, OPT_LOG_FORMAT },
    { NULL, 0, NULL, 0 },
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: cairn [-config FILE] [-dnsserver HOST:PORT] [-strict] [--state-dir DIR]\n"
               "             [--test-mode] [--root-out FILE] [--log-level LEVEL]\n"
               "             [--log-format logfmt|json] [-version]\n"
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
    enum log_format fmt;
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
        case OPT_LOG_FORMAT:
            if (log_format_parse(optarg, &fmt) != CAIRN_OK) {
                fprintf(stderr, "cairn: unknown log format %s (logfmt or json)\n", optarg);
                return CAIRN_ERR_INVAL;
            }
            cfg->log_format = (int)fmt;
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

/* PROTOCOL.md §0: validating on another port than the standard ones proves nothing about
 * who controls a name, so CA mode needs the explicit allowInsecureValidationPorts. */
static int
check_validation_ports(const struct config *cfg, char *err, size_t errsz)
{
    if (!cfg->ca_mode || cfg->allow_insecure_ports)
        return CAIRN_OK;
    if (cfg->http_port != 80)
        return cairn_err_inval(err, errsz,
                               "CA mode refuses the weakening setting httpPort %d (not 80) "
                               "without cairn.allowInsecureValidationPorts", cfg->http_port);
    if (cfg->tls_port != 443)
        return cairn_err_inval(err, errsz,
                               "CA mode refuses the weakening setting tlsPort %d (not 443) "
                               "without cairn.allowInsecureValidationPorts", cfg->tls_port);
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
    if (check_validation_ports(out, err, sizeof(err)) != CAIRN_OK)
        goto fail;
    if (config_finish_proto(out, err, sizeof(err)) != CAIRN_OK)
        goto fail;
    return CAIRN_OK;
fail:
    fprintf(stderr, "cairn: %s\n", err);
    return CAIRN_ERR_INVAL;
}
