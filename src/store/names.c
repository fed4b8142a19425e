/* names.c - the lower-case RFC 8555 names of the store's enums, and their parsers.
 * The stored text equals the protocol name, so one table serves both directions. */
#include "cairn/store.h"

#include <string.h>

#include "store/sqlite_int.h"

static const char *const acct_names[ACCT__MAX] = { "valid", "deactivated", "revoked" };
static const char *const order_names[ORDER__MAX] = { "pending", "ready", "processing", "valid",
                                                     "invalid" };
static const char *const authz_names[AUTHZ__MAX] = { "pending", "valid", "invalid",
                                                     "deactivated", "expired", "revoked" };
static const char *const chall_names[CHALL_STATUS__MAX] = { "pending", "processing", "valid",
                                                     "invalid" };
static const char *const chall_type_names[CHALL_TYPE__MAX] = { "http-01", "dns-01",
                                                          "tls-alpn-01" };
static const char *const cert_names[CERT__MAX] = { "pending", "good", "revoked" };
static const char *const ident_names[IDENT__MAX] = { "dns", "ip" };

static const char *
name_of(const char *const *table, size_t n, int v)
{
    if (v < 0 || (size_t)v >= n)
        return "unknown";
    return table[v];
}

static int
name_parse(const char *const *table, size_t n, const char *s, int *out)
{
    if (s == NULL)
        return CAIRN_ERR_IO;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(table[i], s) == 0) {
            *out = (int)i;
            return CAIRN_OK;
        }
    }
    return CAIRN_ERR_IO;
}

const char *
acct_status_name(enum acct_status s)
{
    return name_of(acct_names, ACCT__MAX, (int)s);
}

const char *
order_status_name(enum order_status s)
{
    return name_of(order_names, ORDER__MAX, (int)s);
}

const char *
authz_status_name(enum authz_status s)
{
    return name_of(authz_names, AUTHZ__MAX, (int)s);
}

const char *
chall_status_name(enum chall_status s)
{
    return name_of(chall_names, CHALL_STATUS__MAX, (int)s);
}

const char *
chall_type_name(enum chall_type t)
{
    return name_of(chall_type_names, CHALL_TYPE__MAX, (int)t);
}

const char *
store_cert_status_name(enum cert_status s)
{
    return name_of(cert_names, CERT__MAX, (int)s);
}

const char *
store_ident_type_name(enum ident_type t)
{
    return name_of(ident_names, IDENT__MAX, (int)t);
}

/* The parsers go through an int so one lookup serves every enum. */
#define STORE_PARSER(fn, type, table, max)                                                    \
    int fn(const char *s, type *out)                                                          \
    {                                                                                         \
        int v = 0;                                                                            \
        int rc = name_parse(table, max, s, &v);                                               \
        if (rc == CAIRN_OK)                                                                   \
            *out = (type)v;                                                                   \
        return rc;                                                                            \
    }

STORE_PARSER(store_acct_status_parse, enum acct_status, acct_names, ACCT__MAX)
STORE_PARSER(store_order_status_parse, enum order_status, order_names, ORDER__MAX)
STORE_PARSER(store_authz_status_parse, enum authz_status, authz_names, AUTHZ__MAX)
STORE_PARSER(store_chall_status_parse, enum chall_status, chall_names, CHALL_STATUS__MAX)
STORE_PARSER(store_chall_type_parse, enum chall_type, chall_type_names, CHALL_TYPE__MAX)
STORE_PARSER(store_cert_status_parse, enum cert_status, cert_names, CERT__MAX)
STORE_PARSER(store_ident_type_parse, enum ident_type, ident_names, IDENT__MAX)
