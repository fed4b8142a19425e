/* addrpolicy.c - which addresses the VA may dial (PROTOCOL.md §5 and §9.7).
 *
 * CA mode refuses the special-purpose ranges (loopback, link-local, multicast, documentation,
 * benchmarking, "this network", reserved) unless va.allowedTargetRanges lists the address, and
 * refuses anything va.deniedTargetRanges lists (deny wins). The private ranges a lab lives in
 * (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) are allowed by default. Test mode dials
 * anything. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged as its IPv4 address, so
 * the mapping cannot smuggle a loopback target past the check. Pure functions, no I/O. */
#include "va/va_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/problem.h"

/* An address as 16 bytes: IPv4 is stored IPv4-mapped (::ffff:a.b.c.d), so one comparison
 * routine covers both families; prefixes of IPv4 ranges get 96 added. */
struct va_net {
    uint8_t a[16];
    int prefix; /* 0..128 over the 16 bytes */
};

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Parses "ADDR" or "ADDR/PREFIX" (IPv4 or IPv6) into n. 0 on success. */
static int
net_parse(const char *text, struct va_net *n)
{
    char buf[VA_RANGE_LEN];
    const char *slash = strchr(text, '/');
    size_t hl = slash ? (size_t)(slash - text) : strlen(text);
    struct in_addr a4;
    bool v4;
    long pfx;

    if (hl == 0 || hl >= sizeof(buf))
        return -1;
    memcpy(buf, text, hl);
    buf[hl] = '\0';
    memset(n, 0, sizeof(*n));
    if (inet_pton(AF_INET, buf, &a4) == 1) {
        v4 = true;
        memcpy(n->a, v4_mapped_prefix, 12);
        memcpy(n->a + 12, &a4, 4);
    } else if (inet_pton(AF_INET6, buf, n->a) == 1) {
        v4 = false;
    } else {
        return -1;
    }
    if (slash == NULL) {
        n->prefix = 128;
        return 0;
    }
    if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
        return -1;
    pfx = strtol(slash + 1, NULL, 10);
    if (pfx > (v4 ? 32 : 128))
        return -1;
    n->prefix = (int)pfx + (v4 ? 96 : 0);
    return 0;
}

bool
va_range_valid(const char *text)
{
    struct va_net n;

    return text != NULL && net_parse(text, &n) == 0;
}

static bool
net_contains(const struct va_net *net, const uint8_t a[16])
{
    int full = net->prefix / 8, rest = net->prefix % 8;

    if (memcmp(net->a, a, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    return ((net->a[full] ^ a[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static bool
list_contains(const char (*list)[VA_RANGE_LEN], size_t n, const uint8_t a[16])
{
    for (size_t i = 0; i < n && i < VA_MAX_RANGES; i++) {
        struct va_net net;

        if (net_parse(list[i], &net) == 0 && net_contains(&net, a))
            return true;
    }
    return false;
}

/* PROTOCOL.md §5's special-purpose ranges, IPv4 ones in mapped form. */
static const char *const special_ranges[] = {
    "0.0.0.0/8",     "127.0.0.0/8",  "169.254.0.0/16", "192.0.2.0/24",   "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",  "::/128",
    "::1/128",       "fe80::/10",    "ff00::/8",       "2001:db8::/32",
};

static bool
is_special(const uint8_t a[16])
{
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(special_ranges); i++) {
        struct va_net net;

        if (net_parse(special_ranges[i], &net) == 0 && net_contains(&net, a))
            return true;
    }
    return false;
}

int
va_addr_check(const struct va_config *cfg, const char *addr, struct problem *p)
{
    struct va_net n;

    if (!cfg->ca_mode)
        return CAIRN_OK; /* test mode: any target (the daemon logs this at start) */
    if (net_parse(addr, &n) != 0 || strchr(addr, '/') != NULL)
        return problem_set(p, PROB_CONNECTION, "refusing to connect to %s: not an address",
                           addr);
    if (list_contains(cfg->denied_ranges, cfg->n_denied, n.a))
        return problem_set(p, PROB_CONNECTION,
                           "refusing to connect to %s: listed in va.deniedTargetRanges", addr);
    if (is_special(n.a) && !list_contains(cfg->allowed_ranges, cfg->n_allowed, n.a))
        return problem_set(p, PROB_CONNECTION,
                           "refusing to connect to %s: a special-purpose address (not in "
                           "va.allowedTargetRanges)",
                           addr);
    return CAIRN_OK;
}
