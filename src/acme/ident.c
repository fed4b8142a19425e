/* ident.c - ACME identifier syntax and policy (PROTOCOL.md §5, RFC 8555 §7.1.4, RFC 8738). */
#include "cairn/ident.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>

#include "acme/ident_policy.h"
#include "cairn/punycode.h"

/* RFC 2606 / RFC 6761 names that no CA-mode certificate may carry (the name or below it). */
static const char *const reserved_names[] = {
    "example", "example.com", "example.net", "example.org", "test", "invalid", "localhost",
};

struct v4_range {
    uint32_t net;
    unsigned prefix;
};

/* PROTOCOL.md §5: special-purpose IPv4 ranges refused in CA mode. */
static const struct v4_range v4_special[] = {
    { 0x00000000u, 8 },  /* 0/8 "this network" */
    { 0x7f000000u, 8 },  /* 127/8 loopback */
    { 0xa9fe0000u, 16 }, /* 169.254/16 link local */
    { 0xc0000200u, 24 }, /* 192.0.2/24 TEST-NET-1 */
    { 0xc6120000u, 15 }, /* 198.18/15 benchmarking */
    { 0xc6336400u, 24 }, /* 198.51.100/24 TEST-NET-2 */
    { 0xcb007100u, 24 }, /* 203.0.113/24 TEST-NET-3 */
    { 0xe0000000u, 4 },  /* 224/4 multicast */
    { 0xf0000000u, 4 },  /* 240/4 reserved and broadcast */
};

struct v6_range {
    uint8_t net[16];
    unsigned prefix;
};

/* PROTOCOL.md §5: special-purpose IPv6 ranges refused in CA mode. ::ffff:0:0/96 is refused
 * too, so an IPv4-mapped form cannot smuggle in a refused IPv4 address. */
static const struct v6_range v6_special[] = {
    { { 0 }, 128 },                                              /* :: */
    { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128 }, /* ::1 */
    { { 0xfe, 0x80 }, 10 },                                      /* fe80::/10 link local */
    { { 0xff }, 8 },                                             /* ff00::/8 multicast */
    { { 0x20, 0x01, 0x0d, 0xb8 }, 32 },                          /* 2001:db8::/32 documentation */
    { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96 },        /* ::ffff:0:0/96 IPv4-mapped */
};

const char *
ident_type_name(enum ident_type t)
{
    switch (t) {
    case IDENT_DNS:
        return "dns";
    case IDENT_IP:
        return "ip";
    default:
        return "";
    }
}

int
ident_type_parse(const char *s, enum ident_type *out)
{
    if (s == NULL)
        return CAIRN_ERR_INVAL;
    if (strcmp(s, "dns") == 0)
        *out = IDENT_DNS;
    else if (strcmp(s, "ip") == 0)
        *out = IDENT_IP;
    else
        return CAIRN_ERR_INVAL;
    return CAIRN_OK;
}

static bool
label_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* One label of an already lower-cased name: 1-63 octets of [a-z0-9-], no '-' at either end,
 * and "??--" only as "xn--" followed by Punycode that round-trips (punycode.h). IDNA2008's
 * code point tables would need libidn2. */
static int
label_check(const char *l, size_t len, const char *name, struct problem *p)
{
    if (len == 0)
        return problem_set(p, PROB_REJECTED_IDENTIFIER, "%s: empty label", name);
    if (len > CAIRN_MAX_LABEL)
        return problem_set(p, PROB_REJECTED_IDENTIFIER, "%s: label longer than %d octets", name,
                           CAIRN_MAX_LABEL);
    for (size_t i = 0; i < len; i++)
        if (!label_char_ok(l[i]))
            return problem_set(p, PROB_REJECTED_IDENTIFIER,
                               "%s: label has a character outside a-z 0-9 -", name);
    if (l[0] == '-' || l[len - 1] == '-')
        return problem_set(p, PROB_REJECTED_IDENTIFIER, "%s: label starts or ends with '-'", name);
    if (len >= 4 && l[2] == '-' && l[3] == '-') {
        if (l[0] != 'x' || l[1] != 'n')
            return problem_set(p, PROB_REJECTED_IDENTIFIER,
                               "%s: label with '--' at positions 3-4 is not an xn-- A-label", name);
        if (len == 4)
            return problem_set(p, PROB_REJECTED_IDENTIFIER, "%s: empty xn-- A-label", name);
        if (!punycode_alabel_ok(l + 4, len - 4))
            return problem_set(p, PROB_REJECTED_IDENTIFIER,
                               "%s: xn-- label is not a valid Punycode A-label", name);
    }
    return CAIRN_OK;
}

static bool
all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return len > 0;
}

static bool
is_reserved_name(const char *name)
{
    size_t nlen = strlen(name);

    for (size_t i = 0; i < CAIRN_ARRAY_LEN(reserved_names); i++) {
        const char *r = reserved_names[i];
        size_t rlen = strlen(r);

        if (nlen == rlen && memcmp(name, r, rlen) == 0)
            return true;
        if (nlen > rlen && name[nlen - rlen - 1] == '.' && memcmp(name + nlen - rlen, r, rlen) == 0)
            return true;
    }
    return false;
}

/* Checks the labels of name (no wildcard) and returns their count in *nlabels. */
static int
dns_labels_check(const char *name, const char *shown, size_t *nlabels, struct problem *p)
{
    const char *l = name, *dot, *last = name;
    size_t count = 0;
    int rc;

    for (;;) {
        dot = strchr(l, '.');
        size_t len = dot ? (size_t)(dot - l) : strlen(l);

        if (++count > CAIRN_MAX_LABELS)
            return problem_set(p, PROB_REJECTED_IDENTIFIER, "%s: more than %d labels", shown,
                               CAIRN_MAX_LABELS);
        rc = label_check(l, len, shown, p);
        if (rc != CAIRN_OK)
            return rc;
        last = l;
        if (dot == NULL)
            break;
        l = dot + 1;
    }
    /* No TLD is numeric: this refuses IPv4 literals (also the short inet_aton forms). */
    if (all_digits(last, strlen(last)))
        return problem_set(p, PROB_REJECTED_IDENTIFIER, "%s: an IP address is not a DNS name",
                           shown);
    *nlabels = count;
    return CAIRN_OK;
}

static int
dns_check(const char *value, const struct ident_policy *pol, struct ident *out, struct problem *p)
{
    size_t len = strlen(value), nlabels = 0;
    const char *base;
    bool wild;
    int rc;

    if (len == 0)
        return problem_set(p, PROB_REJECTED_IDENTIFIER, "empty DNS name");
    if (len > CAIRN_MAX_IDENT_VALUE)
        return problem_set(p, PROB_REJECTED_IDENTIFIER, "DNS name longer than %d octets",
                           CAIRN_MAX_NAME);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];

        if (c >= 0x80)
            return problem_set(p, PROB_REJECTED_IDENTIFIER,
                               "DNS name is not ASCII (use the xn-- A-label form)");
        out->value[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    out->value[len] = '\0';
    wild = len >= 2 && out->value[0] == '*' && out->value[1] == '.';
    base = wild ? out->value + 2 : out->value;
    if (strlen(base) > CAIRN_MAX_NAME)
        return problem_set(p, PROB_REJECTED_IDENTIFIER, "%s: longer than %d octets", out->value,
                           CAIRN_MAX_NAME);
    if (strchr(base, '*') != NULL)
        return problem_set(p, PROB_REJECTED_IDENTIFIER,
                           "%s: '*' is allowed only as the whole leftmost label", out->value);
    if (base[0] != '\0' && base[strlen(base) - 1] == '.')
        return problem_set(p, PROB_REJECTED_IDENTIFIER, "%s: trailing dot", out->value);
    rc = dns_labels_check(base, out->value, &nlabels, p);
    if (rc != CAIRN_OK)
        return rc;
    if (nlabels < 2)
        return problem_set(p, PROB_REJECTED_IDENTIFIER, "%s: %s", out->value,
                           wild ? "wildcard over a top-level domain" : "fewer than 2 labels");
    if (wild && nlabels + 1 > CAIRN_MAX_LABELS)
        return problem_set(p, PROB_REJECTED_IDENTIFIER, "%s: more than %d labels", out->value,
                           CAIRN_MAX_LABELS);
    if (pol->ca_mode && is_reserved_name(base))
        return problem_set(p, PROB_REJECTED_IDENTIFIER, "%s: reserved name (RFC 2606)", out->value);
    rc = ident_policy_dns(pol, out->value, base, wild, p);
    if (rc != CAIRN_OK)
        return rc;
    out->type = IDENT_DNS;
    out->wildcard = wild;
    return CAIRN_OK;
}

/* Strict dotted quad: four decimal parts 0-255, no leading zeros, nothing else. */
static bool
ipv4_strict(const char *s, uint8_t addr[4])
{
    for (int part = 0; part < 4; part++) {
        unsigned v = 0;
        size_t n = 0;

        while (s[n] >= '0' && s[n] <= '9') {
            if (n == 3)
                return false;
            v = v * 10 + (unsigned)(s[n] - '0');
            n++;
        }
        if (n == 0 || v > 255 || (n > 1 && s[0] == '0'))
            return false;
        addr[part] = (uint8_t)v;
        s += n;
        if (part < 3) {
            if (*s != '.')
                return false;
            s++;
        }
    }
    return *s == '\0';
}

static bool
v4_is_special(const uint8_t a[4])
{
    uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];

    for (size_t i = 0; i < CAIRN_ARRAY_LEN(v4_special); i++) {
        uint32_t mask = 0xffffffffu << (32 - v4_special[i].prefix);

        if ((v & mask) == v4_special[i].net)
            return true;
    }
    return false;
}

static bool
v6_prefix_match(const uint8_t a[16], const struct v6_range *r)
{
    unsigned full = r->prefix / 8, rest = r->prefix % 8;

    if (memcmp(a, r->net, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (a[full] & mask) == (r->net[full] & mask);
}

static bool
v6_is_special(const uint8_t a[16])
{
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(v6_special); i++)
        if (v6_prefix_match(a, &v6_special[i]))
            return true;
    return false;
}

static int
ip_check(const char *value, const struct ident_policy *pol, struct ident *out, struct problem *p)
{
    uint8_t a[16];
    char canon[INET6_ADDRSTRLEN];
    bool special;

    if (strchr(value, ':') != NULL) {
        /* RFC 5952 canonical form: whatever inet_ntop renders, byte for byte. */
        if (strlen(value) >= sizeof(canon) || inet_pton(AF_INET6, value, a) != 1)
            return problem_set(p, PROB_REJECTED_IDENTIFIER, "not an IPv6 address");
        if (inet_ntop(AF_INET6, a, canon, sizeof(canon)) == NULL || strcmp(canon, value) != 0)
            return problem_set(p, PROB_REJECTED_IDENTIFIER,
                               "IPv6 address not in RFC 5952 canonical form (expected %s)", canon);
        special = v6_is_special(a);
    } else {
        if (!ipv4_strict(value, a))
            return problem_set(p, PROB_REJECTED_IDENTIFIER,
                               "not a dotted-quad IPv4 address without leading zeros");
        special = v4_is_special(a);
    }
    if (pol->ca_mode && special)
        return problem_set(p, PROB_REJECTED_IDENTIFIER, "%s: special-purpose address", value);
    out->type = IDENT_IP;
    out->wildcard = false;
    snprintf(out->value, sizeof(out->value), "%s", value);
    return CAIRN_OK;
}

int
ident_check(const char *type, const char *value, const struct ident_policy *pol, struct ident *out,
            struct problem *p)
{
    enum ident_type t;

    if (ident_type_parse(type, &t) != CAIRN_OK)
        return problem_set(p, PROB_UNSUPPORTED_IDENTIFIER,
                           "identifier type \"%.32s\" is not "
                           "supported (dns, ip)",
                           type ? type : "");
    if (value == NULL)
        return problem_set(p, PROB_REJECTED_IDENTIFIER, "identifier without a value");
    memset(out, 0, sizeof(*out));
    if (t == IDENT_DNS)
        return dns_check(value, pol, out, p);
    if (strlen(value) > CAIRN_MAX_IDENT_VALUE)
        return problem_set(p, PROB_REJECTED_IDENTIFIER, "IP address too long");
    return ip_check(value, pol, out, p);
}

static bool
ident_equal(const struct ident *a, const struct ident *b)
{
    return a->type == b->type && strcmp(a->value, b->value) == 0;
}

/* True when plain is exactly one label below the base of wildcard "*.base". */
static bool
wildcard_covers(const struct ident *wild, const struct ident *plain)
{
    const char *base = wild->value + 2, *dot;

    if (plain->type != IDENT_DNS || plain->wildcard)
        return false;
    dot = strchr(plain->value, '.');
    return dot != NULL && strcmp(dot + 1, base) == 0;
}

static int
list_collect(const char *const *types, const char *const *values, size_t n,
             const struct ident_policy *pol, struct ident *out, struct problem *p)
{
    for (size_t i = 0; i < n; i++) {
        struct problem one;
        enum ident_type t;
        int rc;

        problem_init(&one);
        rc = ident_check(types[i], values[i], pol, &out[i], &one);
        if (rc == CAIRN_OK)
            continue;
        if (rc != CAIRN_ERR_PROTO)
            return rc;
        rc = problem_add_sub(p, one.type,
                             ident_type_parse(types[i], &t) == CAIRN_OK ? ident_type_name(t) : "",
                             values[i] ? values[i] : "", "%s", one.detail);
        problem_cleanup(&one);
        if (rc != CAIRN_OK)
            return rc;
    }
    if (p->nsub == 1) {
        char detail[CAIRN_PROBLEM_DETAIL];

        snprintf(detail, sizeof(detail), "refused identifier: %.200s", p->sub[0].detail);
        return problem_from_subs(p, detail);
    }
    if (p->nsub > 1)
        return problem_from_subs(p, "several identifiers were refused; see subproblems");
    return CAIRN_OK;
}

int
ident_list_check(const char *const *types, const char *const *values, size_t n,
                 const struct ident_policy *pol, struct ident *out, size_t *nout, struct problem *p)
{
    size_t k = 0;
    int rc;

    if (n == 0 || n > CAIRN_MAX_IDENTS)
        return problem_set(p, PROB_MALFORMED, "an order needs 1 to %d identifiers",
                           CAIRN_MAX_IDENTS);
    rc = list_collect(types, values, n, pol, out, p);
    if (rc != CAIRN_OK)
        return rc;
    /* Keep first occurrences; out[k] never overtakes out[i], so copying in place is safe. */
    for (size_t i = 0; i < n; i++) {
        bool dup = false;

        for (size_t j = 0; j < k && !dup; j++)
            dup = ident_equal(&out[j], &out[i]);
        if (dup)
            continue;
        if (k != i)
            out[k] = out[i];
        k++;
    }
    for (size_t i = 0; i < k; i++) {
        if (!out[i].wildcard)
            continue;
        for (size_t j = 0; j < k; j++)
            if (wildcard_covers(&out[i], &out[j]))
                return problem_set(p, PROB_MALFORMED, "%s is covered by %s in the same order",
                                   out[j].value, out[i].value);
    }
    *nout = k;
    return CAIRN_OK;
}

int
ident_reverse_name(const struct ident *id, char *out, size_t outsz)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t a[16];
    size_t pos = 0;
    int n;

    if (id->type != IDENT_IP)
        return CAIRN_ERR_INVAL;
    if (inet_pton(AF_INET, id->value, a) == 1) {
        n = snprintf(out, outsz, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
        return n < 0 || (size_t)n >= outsz ? CAIRN_ERR_INVAL : CAIRN_OK;
    }
    if (inet_pton(AF_INET6, id->value, a) != 1)
        return CAIRN_ERR_INVAL;
    /* 32 nibbles, least significant first, each followed by '.', then "ip6.arpa". */
    if (outsz < 64 + sizeof("ip6.arpa"))
        return CAIRN_ERR_INVAL;
    for (int i = 15; i >= 0; i--) {
        out[pos++] = hex[a[i] & 0x0f];
        out[pos++] = '.';
        out[pos++] = hex[a[i] >> 4];
        out[pos++] = '.';
    }
    memcpy(out + pos, "ip6.arpa", sizeof("ip6.arpa"));
    return CAIRN_OK;
}
