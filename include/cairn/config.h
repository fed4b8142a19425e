/* config.h - the effective configuration: mode defaults < config file < PEBBLE_* < CAIRN_*
 * < flags (ARCHITECTURE.md §8, PROTOCOL.md §7). Built once at start and read-only after. */
#ifndef CAIRN_CONFIG_H
#define CAIRN_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "cairn/core.h"

#define CAIRN_CONF_STR 256
#define CAIRN_CONF_PATH 4096
#define CAIRN_CONF_MAX_PROFILES 16
#define CAIRN_CONF_PROFILE_NAME 64   /* = CAIRN_MAX_PROFILE_LEN */
#define CAIRN_CONF_MAX_EAB_KEYS 64
#define CAIRN_CONF_EAB_KID 128
#define CAIRN_CONF_EAB_KEY 256       /* MAC key bytes */

/* A certificate profile (draft-ietf-acme-profiles; Pebble's `profiles` config). */
struct config_profile {
    char name[CAIRN_CONF_PROFILE_NAME + 1];
    char description[CAIRN_CONF_STR];
    int64_t validity;                      /* validityPeriod, seconds */
    bool promote_cn;                       /* promoteCommonName */
};

/* An EAB MAC key from externalAccountMACKeys (never logged). */
struct config_eab_key {
    char kid[CAIRN_CONF_EAB_KID + 1];
    uint8_t key[CAIRN_CONF_EAB_KEY];
    size_t key_len;
};

/* One rate limit: at most count events per window seconds; count 0 = no limit. */
struct rate_rule {
    int count;
    int window;
};
#define CAIRN_CONF_CAA_IDS 8
#define CAIRN_CONF_RANGES 32
#define CAIRN_CONF_DOMAINS 256         /* entries in domainBlocklist / domainAllowlist */
#define CAIRN_CONF_DOMAIN 256          /* one entry: a DNS name of at most 253 octets */

struct config {
    bool ca_mode;                          /* false: test mode (Pebble-style fixture) */
    char config_file[CAIRN_CONF_PATH];     /* "" when none */
    char listen[CAIRN_CONF_STR];           /* listenAddress host:port */
    char mgmt_listen[CAIRN_CONF_STR];      /* managementListenAddress; "" disables */
    char tls_cert_file[CAIRN_CONF_PATH];   /* certificate; "" = make one from the root */
    char tls_key_file[CAIRN_CONF_PATH];    /* privateKey */
    int http_port;                         /* VA http-01 target port */
    int tls_port;                          /* VA tls-alpn-01 target port */
    char ocsp_url[CAIRN_CONF_STR];         /* ocspResponderURL (embedded only) */
    bool eab_required;                     /* externalAccountBindingRequired */
    char state_dir[CAIRN_CONF_PATH];       /* "" = throw-away (test mode) */
    char dns_server[CAIRN_CONF_STR];       /* -dnsserver host:port; "" = system */
    char external_url[CAIRN_CONF_STR];     /* externalURL; "" = from Host (test mode) */
    char tos_url[CAIRN_CONF_STR];          /* termsOfService; "" = test mode data: URL */
    char website[CAIRN_CONF_STR];
    char ca_name[64];
    bool strict;                           /* -strict */
    bool always_valid;                     /* PEBBLE_VA_ALWAYS_VALID */
    int va_sleep_max;                      /* PEBBLE_VA_SLEEPTIME (0 = no wait) */
    int nonce_reject_percent;              /* PEBBLE_WFE_NONCEREJECT */
    int authz_reuse_percent;               /* PEBBLE_AUTHZREUSE */
    int orders_per_page;                   /* PEBBLE_WFE_ORDERS_PER_PAGE */
    int chain_length;                      /* PEBBLE_CHAIN_LENGTH, >= 1 */
    bool key_rsa;                          /* keyAlgorithm "rsa" */
    int64_t validity;                      /* default profile validity, seconds */
    int retry_after_authz;                 /* seconds; 0 omits the header */
    int retry_after_order;
    int va_workers;
    int va_timeout_ms;
    int http_threads;                      /* MHD thread pool size */
    int log_level;                         /* enum log_level */
    char root_out[CAIRN_CONF_PATH];        /* --root-out FILE */
    /* Protocol features (src/conf/config_proto.c). */
    struct config_profile profiles[CAIRN_CONF_MAX_PROFILES];
    int nprofiles;                         /* >= 1 after config_load() */
    int default_profile;                   /* index into profiles */
    char default_profile_name[CAIRN_CONF_PROFILE_NAME + 1]; /* cairn.defaultProfile */
    struct config_eab_key eab_keys[CAIRN_CONF_MAX_EAB_KEYS]; /* externalAccountMACKeys */
    int neab_keys;
    int eab_single_use;                    /* eabSingleUse: 1/0; -1 = CA mode yes, test no */
    bool allow_test_controls;              /* cairn.allowTestControls: test controls in CA mode */
    int log_format;                        /* enum log_format: cairn.logFormat, --log-format */
    int shutdown_timeout;                  /* cairn.shutdownTimeout: drain bound, seconds */
    struct rate_rule rl_new_orders;        /* cairn.rateLimits.newOrdersPerAccount */
    struct rate_rule rl_certs_per_name;    /* cairn.rateLimits.certificatesPerName */
    struct rate_rule rl_failed_validations; /* cairn.rateLimits.failedValidationsPerAccountName */
    int alternate_roots;                   /* PEBBLE_ALTERNATE_ROOTS (0..8) */
    bool x_ca;                             /* USE_X_CA: load the x-ca layout */
    char x_ca_path[CAIRN_CONF_PATH];       /* PATH_X_CA, default /x-ca */
    bool x_ca_des3;                        /* IS_DES3_KEY */
    char x_ca_root_password[256];          /* X_CA_ROOT_CA_PASSWORD; wiped after ca_open */
    char x_ca_tls_password[256];           /* X_CA_TLS_CA_PASSWORD; wiped after ca_open */
    char crl_listen[CAIRN_CONF_STR];       /* cairn.crlListenAddress (plain HTTP); "" = none */
    /* VA policy: CAA, target ranges, retries (docs/va.md) */
    bool va_caa;                           /* cairn.vaCAA; default on in CA mode only */
    char caa_identities[CAIRN_CONF_CAA_IDS][CAIRN_CONF_STR]; /* caaIdentities */
    int n_caa_identities;                  /* 0: the base URL's host */
    char va_allowed_ranges[CAIRN_CONF_RANGES][64]; /* cairn.vaAllowedTargetRanges */
    int n_va_allowed;
    char va_denied_ranges[CAIRN_CONF_RANGES][64];  /* cairn.vaDeniedTargetRanges */
    int n_va_denied;
    int va_retries;                        /* cairn.vaRetries (default 0) */
    int va_retry_spacing;                  /* cairn.vaRetrySpacing, seconds (default 2) */
    int va_validate_times;                 /* cairn.vaValidateTimes (default 1) */
    int64_t caa_recheck_age;               /* cairn.caaRecheckAge, seconds (default 7 h) */
    /* PROTOCOL.md §6 front-end limits, "cairn": {"limits": {...}} (docs/reliability.md) */
    int max_body;                          /* maxBody: POST body bytes */
    int max_connections;                   /* connections: in total */
    int max_per_ip;                        /* perIPConnections: 0 = no cap (behind a proxy) */
    int idle_timeout;                      /* idleTimeout: seconds without traffic */
    int body_timeout;                      /* bodyTimeout: seconds from headers to full body */
    /* PROTOCOL.md §5 identifier policy: lower-case names without a trailing dot */
    char domain_blocklist[CAIRN_CONF_DOMAINS][CAIRN_CONF_DOMAIN]; /* domainBlocklist */
    int n_domain_blocklist;
    char domain_allowlist[CAIRN_CONF_DOMAINS][CAIRN_CONF_DOMAIN]; /* cairn.domainAllowlist */
    int n_domain_allowlist;
    bool allow_insecure_ports;             /* cairn.allowInsecureValidationPorts */
    /* More PROTOCOL.md §6 limits under "cairn": {"limits": {...}}; the CAIRN_MAX_* constants
     * of cairn/limits.h are the defaults and the upper bounds. */
    int max_json_depth;                    /* maxJsonDepth: nesting of any JSON parsed */
    int max_json_string;                   /* maxJsonString: longest string in a payload */
    int max_idents;                        /* maxIdentifiersPerOrder */
    int max_contacts;                      /* maxContacts: per account */
    int max_request_target;                /* maxRequestTarget: bytes (414) */
    int max_header_field;                  /* maxHeaderField: one field's bytes (431) */
    int max_header_total;                  /* maxHeaderTotal: all fields' bytes (431) */
    int max_header_fields;                 /* maxHeaderFields: number of fields (431) */
};

/* Wipes the x-ca key passwords once the CA is loaded. */
void config_wipe_secrets(struct config *cfg);

/* Builds the configuration from argv and the environment. On a usage or config error prints a
 * message naming the setting to stderr and returns CAIRN_ERR_INVAL. *want_exit is set for
 * -version / -help (printed already). */
int config_load(int argc, char **argv, struct config *out, bool *want_exit) CAIRN_MUST_CHECK;

/* Parses a Pebble/cairn JSON config file into cfg (used by config_load; exposed for tests). */
int config_parse_file(const char *path, struct config *cfg, char *err, size_t errsz)
    CAIRN_MUST_CHECK;
/* Applies PEBBLE_* (test mode only) and CAIRN_* variables from getenv(). */
int config_apply_env(struct config *cfg, char *err, size_t errsz) CAIRN_MUST_CHECK;
/* Mode defaults. */
void config_defaults(struct config *cfg, bool ca_mode);

/* ---- protocol features (src/conf/config_proto.c) ---- */

struct json_t;

/* `profiles` (Pebble and cairn sections): name -> {description, validityPeriod,
 * promoteCommonName}. strict refuses unknown members (the cairn section); Pebble's only
 * warns. Replaces profiles parsed before. */
int config_parse_profiles(struct config *cfg, const struct json_t *v, bool strict, char *err,
                          size_t errsz) CAIRN_MUST_CHECK;
/* `externalAccountMACKeys`: kid -> base64url key. */
int config_parse_eab_keys(struct config *cfg, const struct json_t *v, char *err, size_t errsz)
    CAIRN_MUST_CHECK;
/* After file, environment and flags: with no profiles configured, one "default" of
 * cfg->validity seconds; resolves default_profile ("default", cairn.defaultProfile, or the
 * first); resolves eab_single_use. */
int config_finish_proto(struct config *cfg, char *err, size_t errsz) CAIRN_MUST_CHECK;
/* The profile of that name, or NULL. */
const struct config_profile *config_profile_find(const struct config *cfg, const char *name);
/* The EAB key of that key id from the config, or NULL. */
const struct config_eab_key *config_eab_key_find(const struct config *cfg, const char *kid);

#endif
