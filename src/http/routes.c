/* routes.c - the static route table: every central rule of an endpoint (methods, how it is
 * signed, what its payload may be) is data here, never code in a handler. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/limits.h"
#include "http/http.h"

#define POST_ONLY M_POST
#define READ_ONLY (M_GET | M_HEAD)

static const struct route route_table[] = {
    { "/directory", false, "", READ_ONLY | M_POST, AUTH_OPTIONAL, PAYLOAD_EMPTY, false,
      ep_directory },
    { "/dir", false, "", READ_ONLY | M_POST, AUTH_OPTIONAL, PAYLOAD_EMPTY, false, ep_directory },
    { "/acme/new-nonce", false, "", READ_ONLY | M_POST, AUTH_OPTIONAL, PAYLOAD_EMPTY, true,
      ep_new_nonce },
    { "/acme/new-account", false, "", POST_ONLY, AUTH_JWK, PAYLOAD_OBJECT, true, ep_new_account },
    { "/acme/key-change", false, "", POST_ONLY, AUTH_KID, PAYLOAD_OBJECT, true, ep_key_change },
    { "/acme/new-order", false, "", POST_ONLY, AUTH_KID, PAYLOAD_OBJECT, true, ep_new_order },
    { "/acme/revoke-cert", false, "", POST_ONLY, AUTH_ANY, PAYLOAD_OBJECT, true, ep_revoke },
    { "/acme/acct/", true, "/orders", POST_ONLY, AUTH_KID, PAYLOAD_EMPTY, true, ep_orders_list },
    { "/acme/acct/", true, "", POST_ONLY, AUTH_KID, PAYLOAD_EITHER, true, ep_account },
    { "/acme/order/", true, "/finalize", POST_ONLY, AUTH_KID, PAYLOAD_OBJECT, true, ep_finalize },
    { "/acme/order/", true, "", POST_ONLY, AUTH_KID, PAYLOAD_EMPTY, true, ep_order },
    { "/acme/authz/", true, "", POST_ONLY, AUTH_KID, PAYLOAD_EITHER, true, ep_authz },
    { "/acme/chall/", true, "", POST_ONLY, AUTH_KID, PAYLOAD_EITHER, true, ep_challenge },
    { "/acme/cert/", true, "", POST_ONLY, AUTH_KID, PAYLOAD_EMPTY, true, ep_cert },
    { "/acme/new-authz", false, "", POST_ONLY, AUTH_KID, PAYLOAD_OBJECT, true, ep_new_authz },
    /* RFC 9773: the certID has a "."; the handler answers an unparsable one 400 */
    { "/acme/renewal-info/", true, "", READ_ONLY, AUTH_NONE, PAYLOAD_EMPTY, true,
      ep_renewal_info },
    { "/acme/cert/", true, ROUTE_INDEX_SUFFIX, POST_ONLY, AUTH_KID, PAYLOAD_EMPTY, true,
      ep_cert_alt },
    { "/crl/", true, "", READ_ONLY, AUTH_NONE, PAYLOAD_EMPTY, false, ep_crl },
    { "/issuer/", true, "", READ_ONLY, AUTH_NONE, PAYLOAD_EMPTY, false, ep_issuer_cert },
};

/* Ids are base64url (22 chars) and serials hex; anything else cannot name an object. */
static bool
param_char_ok(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_';
}

/* The renewalInfo certID holds a "." and may name other issuers' longer AKIs: any printable
 * ASCII but '/', up to 256 characters, so the handler can answer an unparsable one 400. */
static bool
param_any(const struct route *rt)
{
    return rt->fn == ep_renewal_info;
}

/* ROUTE_INDEX_SUFFIX: "/<1 or 2 digits>" after the parameter, kept in the argument
 * ("serial/1"). */
static bool
index_tail_ok(const char *t)
{
    size_t d;

    if (t[0] != '/')
        return false;
    d = strspn(t + 1, "0123456789");
    return d >= 1 && d <= 2 && t[1 + d] == '\0';
}

static bool
match_param(const struct route *rt, const char *path, char **arg)
{
    size_t plen = strlen(rt->prefix), n = 0, max = param_any(rt) ? 256 : 64;
    bool indexed = strcmp(rt->suffix, ROUTE_INDEX_SUFFIX) == 0;
    const char *s;

    if (strncmp(path, rt->prefix, plen) != 0)
        return false;
    s = path + plen;
    while (s[n] != '\0' && s[n] != '/' && n <= max)
        n++;
    if (n == 0 || n > max)
        return false;
    if (indexed ? !index_tail_ok(s + n) : strcmp(s + n, rt->suffix) != 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!param_char_ok(s[i]) && !(param_any(rt) && s[i] > ' ' && s[i] < 0x7f))
            return false;
    *arg = indexed ? strdup(s) : strndup(s, n);
    return *arg != NULL;
}

const struct route *
routes_match(const char *path, char **arg)
{
    *arg = NULL;
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(route_table); i++) {
        const struct route *rt = &route_table[i];
        if (!rt->has_param && strcmp(path, rt->prefix) == 0)
            return rt;
        if (rt->has_param && match_param(rt, path, arg))
            return rt;
    }
    return NULL;
}

void
routes_allow(const struct route *rt, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s%s%s", (rt->methods & M_GET) ? "GET, " : "",
             (rt->methods & M_HEAD) ? "HEAD, " : "", (rt->methods & M_POST) ? "POST" : "");
    if (!(rt->methods & M_POST) && strlen(out) >= 2)
        out[strlen(out) - 2] = '\0';
}
