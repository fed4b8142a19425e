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
    /* PROTOCOL.md §6 front-end limits, "cairn": {"limits": {...}} (docs/reliability.md) */
    int max_body;                          /* maxBody: POST body bytes */
    int max_connections;                   /* connections: in total */
    int max_per_ip;                        /* perIPConnections: 0 = no cap (behind a proxy) */
    int idle_timeout;                      /* idleTimeout: seconds without traffic */
    int body_timeout;                      /* bodyTimeout: seconds from headers to full body */
};

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

#endif
