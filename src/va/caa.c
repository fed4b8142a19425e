/* caa.c - CAA (RFC 8659) with the account and method bindings of RFC 8657.
 *
 * The relevant RRset is the first non-empty CAA set found climbing from the identifier
 * towards the root, stopping after the top-level label (NXDOMAIN and NODATA climb). A failed
 * lookup (SERVFAIL, REFUSED, timeout) refuses with `dns`: a CA must not read "could not ask"
 * as "no CAA" (fail closed). Within the set, `issuewild` governs wildcards when any is present,
 * else `issue`; a set without either allows every CA. Issuance is allowed only by a record
 * naming one of the CA's identities whose `accounturi` (if any) equals the account URL and
 * whose `validationmethods` (if any) lists the method used. An unknown tag with the critical
 * flag, an unparsable relevant value or a repeated parameter refuses outright (PROTOCOL.md
 * §5). IP identifiers have no CAA (RFC 8738 §7 leaves it undefined): always allowed.
 *
 * The DNS answer is parsed here from the raw message, so the only c-ares code stays in dns.c.
 */
#include "va/va_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cairn/ident.h"
#include "cairn/limits.h"

#define DNS_HDR 12
#define CAA_FLAG_CRITICAL 0x80

/* ---- raw answer parsing ---- */

/* Skips one (possibly compressed) domain name at *off; -1 when malformed. */
static int
dns_skip_name(const uint8_t *msg, size_t len, size_t *off)
{
    for (int labels = 0; labels < 128; labels++) {
        uint8_t b;

        if (*off >= len)
            return -1;
        b = msg[*off];
        if ((b & 0xc0) == 0xc0) { /* a pointer ends the name */
            if (*off + 2 > len)
                return -1;
            *off += 2;
            return 0;
        }
        if (b & 0xc0)
            return -1;
        *off += 1;
        if (b == 0)
            return 0;
        *off += b;
    }
    return -1;
}

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

/* One CAA rdata: flags, tag length, tag, value. A tag outside 1..15 alphanumerics or an
 * oversized value marks the record malformed (it then refuses if it could matter). */
static void
caa_rdata(const uint8_t *rd, size_t n, struct va_caa_rr *rr)
{
    size_t tl;

    memset(rr, 0, sizeof(*rr));
    if (n < 2) {
        rr->malformed = true;
        return;
    }
    rr->flags = rd[0];
    tl = rd[1];
    if (tl == 0 || tl >= sizeof(rr->tag) || 2 + tl > n) {
        rr->malformed = true;
        return;
    }
    for (size_t i = 0; i < tl; i++) {
        if (!isalnum(rd[2 + i])) {
            rr->malformed = true;
            rr->tag[0] = '\0';
            return;
        }
        rr->tag[i] = (char)rd[2 + i];
    }
    rr->tag[tl] = '\0';
    rr->value_len = n - 2 - tl;
    if (rr->value_len > sizeof(rr->value)) {
        rr->malformed = true;
        rr->value_len = 0;
        return;
    }
    memcpy(rr->value, rd + 2 + tl, rr->value_len);
}

int
va_caa_parse(const uint8_t *msg, size_t len, struct va_caa_set *out)
{
    size_t off = DNS_HDR, qd, an;

    memset(out, 0, sizeof(*out));
    if (len < DNS_HDR)
        return CAIRN_ERR_INVAL;
    qd = get16(msg + 4);
    an = get16(msg + 6);
    for (size_t i = 0; i < qd; i++) {
        if (dns_skip_name(msg, len, &off) != 0 || off + 4 > len)
            return CAIRN_ERR_INVAL;
        off += 4;
    }
    for (size_t i = 0; i < an; i++) {
        uint16_t type, klass, rdlen;

        if (dns_skip_name(msg, len, &off) != 0 || off + 10 > len)
            return CAIRN_ERR_INVAL;
        type = get16(msg + off);
        klass = get16(msg + off + 2);
        rdlen = get16(msg + off + 8);
        off += 10;
        if (off + rdlen > len)
            return CAIRN_ERR_INVAL;
        if (type == VA_QTYPE_CAA && klass == 1) {
            if (out->n == VA_MAX_CAA_RRS)
                return CAIRN_ERR_INVAL; /* more than we judge: never pretend to have read all */
            caa_rdata(msg + off, rdlen, &out->rr[out->n++]);
        }
        off += rdlen;
    }
    return CAIRN_OK;
}

/* ---- issue / issuewild values (RFC 8659 §4.2) ---- */

struct caa_param {
    const char *s; /* borrowed from the value copy */
    size_t n;
    bool present;
};

struct caa_value {
    char buf[VA_MAX_CAA_VALUE + 1]; /* NUL-terminated copy of the value */
    const char *issuer;             /* "" when the record names no CA (";": nobody) */
    size_t issuer_len;
    struct caa_param accounturi, methods;
};

static bool
is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

static const char *
skip_wsp(const char *s)
{
    while (is_wsp(*s))
        s++;
    return s;
}

/* label *("." label) with labels of letters, digits and inner hyphens. */
static bool
issuer_valid(const char *s, size_t n)
{
    size_t lab = 0;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (c == '.') {
            if (lab == 0 || s[i - 1] == '-')
                return false;
            lab = 0;
        } else if (isalnum((unsigned char)c) || (c == '-' && lab > 0)) {
            lab++;
        } else {
            return false;
        }
    }
    return lab > 0 && s[n - 1] != '-';
}

/* tag "=" value, with optional spaces around "=". Advances *ps past the value. */
static int
caa_param_next(const char **ps, struct caa_value *v)
{
    const char *s = *ps, *tag = s, *val;
    size_t tl, vl;
    struct caa_param *slot = NULL;

    while (isalnum((unsigned char)*s) || *s == '-')
        s++;
    tl = (size_t)(s - tag);
    if (tl == 0)
        return -1;
    s = skip_wsp(s);
    if (*s != '=')
        return -1;
    s = skip_wsp(s + 1);
    val = s;
    while ((unsigned char)*s >= 0x21 && (unsigned char)*s <= 0x7e && *s != ';')
        s++;
    vl = (size_t)(s - val);
    if (tl == strlen("accounturi") && strncasecmp(tag, "accounturi", tl) == 0)
        slot = &v->accounturi;
    else if (tl == strlen("validationmethods") && strncasecmp(tag, "validationmethods", tl) == 0)
        slot = &v->methods;
    if (slot != NULL) {
        if (slot->present)
            return -1; /* RFC 8657 §3: a repeated parameter makes the record unusable */
        slot->present = true;
        slot->s = val;
        slot->n = vl;
    }
    /* other parameters are CA-specific and ignored; a repeat of those is not our concern */
    *ps = s;
    return 0;
}

/* Parses one issue/issuewild value. 0, or -1 when unparsable. */
static int
caa_value_parse(const struct va_caa_rr *rr, struct caa_value *v)
{
    const char *s;

    memset(v, 0, sizeof(*v));
    if (rr->malformed || memchr(rr->value, '\0', rr->value_len) != NULL)
        return -1;
    memcpy(v->buf, rr->value, rr->value_len);
    v->buf[rr->value_len] = '\0';
    s = skip_wsp(v->buf);
    v->issuer = s;
    while (*s && !is_wsp(*s) && *s != ';')
        s++;
    v->issuer_len = (size_t)(s - v->issuer);
    if (v->issuer_len > 0 && !issuer_valid(v->issuer, v->issuer_len))
        return -1;
    s = skip_wsp(s);
    if (*s == '\0')
        return 0;
    if (*s != ';')
        return -1;
    s = skip_wsp(s + 1);
    while (*s != '\0') {
        if (caa_param_next(&s, v) != 0)
            return -1;
        s = skip_wsp(s);
        if (*s == '\0')
            break;
        if (*s != ';')
            return -1;
        s = skip_wsp(s + 1);
        if (*s == '\0')
            return -1; /* a ";" must be followed by a parameter */
    }
    return 0;
}

/* ---- the decision ---- */

static bool
tag_is(const struct va_caa_rr *rr, const char *tag)
{
    return !rr->malformed && strcasecmp(rr->tag, tag) == 0;
}

static bool
tag_known(const struct va_caa_rr *rr)
{
    static const char *const known[] = { "issue",        "issuewild",    "iodef",
                                         "contactemail", "contactphone", "issuemail",
                                         "issuevmc" };

    for (size_t i = 0; i < CAIRN_ARRAY_LEN(known); i++)
        if (tag_is(rr, known[i]))
            return true;
    return false;
}

/* A comma-separated list holds method exactly. */
static bool
list_has(const char *s, size_t n, const char *method)
{
    size_t ml = strlen(method), i = 0;

    while (i <= n) {
        size_t j = i;

        while (j < n && s[j] != ',')
            j++;
        if (j - i == ml && strncmp(s + i, method, ml) == 0)
            return true;
        i = j + 1;
    }
    return false;
}

static bool
issuer_is_ours(const struct caa_value *v, const char (*ids)[VA_CAA_ID_LEN], size_t nids)
{
    for (size_t i = 0; i < nids && i < VA_MAX_CAA_IDS; i++) {
        size_t il = strlen(ids[i]);

        if (il > 0 && ids[i][il - 1] == '.')
            il--;
        if (il == v->issuer_len && strncasecmp(ids[i], v->issuer, il) == 0)
            return true;
    }
    return false;
}

/* Why a record naming us does not authorize, or NULL when it does. */
static const char *
caa_binding_refusal(const struct caa_value *v, const char *acct_url, const char *method)
{
    if (v->accounturi.present &&
        (v->accounturi.n != strlen(acct_url) ||
         strncmp(v->accounturi.s, acct_url, v->accounturi.n) != 0))
        return "its accounturi does not match the account";
    if (v->methods.present && !list_has(v->methods.s, v->methods.n, method))
        return "its validationmethods do not include the method used";
    return NULL;
}

static int
caa_refuse(struct problem *p, const char *owner, const struct ident *id, const char *why,
           const struct va_caa_rr *rr)
{
    char ex[VA_EXCERPT_MAX + 1] = "";

    if (rr != NULL)
        va_excerpt(rr->value, rr->value_len, ex, sizeof(ex));
    return problem_set(p, PROB_CAA, "CAA record for %s (at %s) prevents issuance: %s%s%s",
                       id->value, owner, why, rr ? ", record " : "", ex);
}

int
va_caa_decide(const struct va_caa_set *set, const char *owner, const struct ident *id,
              const char (*identities)[VA_CAA_ID_LEN], size_t nids, const char *acct_url,
              const char *method, struct problem *p)
{
    struct caa_value *v = NULL;
    const char *tag = "issue", *why = "no record names this CA";
    const struct va_caa_rr *why_rr = NULL;
    size_t relevant = 0;
    int rc = CAIRN_ERR_PROTO;

    for (size_t i = 0; i < set->n; i++) {
        if ((set->rr[i].flags & CAA_FLAG_CRITICAL) && !tag_known(&set->rr[i]))
            return caa_refuse(p, owner, id, "unknown critical property", &set->rr[i]);
        if (id->wildcard && tag_is(&set->rr[i], "issuewild"))
            tag = "issuewild";
    }
    v = malloc(sizeof(*v));
    if (v == NULL)
        return CAIRN_ERR_NOMEM;
    for (size_t i = 0; i < set->n; i++) {
        const struct va_caa_rr *rr = &set->rr[i];
        const char *r;

        if (!tag_is(rr, tag))
            continue;
        relevant++;
        if (caa_value_parse(rr, v) != 0) {
            rc = caa_refuse(p, owner, id, "unparsable value", rr);
            goto out;
        }
        if (!issuer_is_ours(v, identities, nids))
            continue;
        r = caa_binding_refusal(v, acct_url, method);
        if (r == NULL) {
            rc = CAIRN_OK; /* keep reading: a later unparsable record still refuses */
        } else if (rc != CAIRN_OK) {
            why = r;
            why_rr = rr;
        }
    }
    if (relevant == 0)
        rc = CAIRN_OK; /* e.g. only iodef: no issuance restriction */
    else if (rc != CAIRN_OK)
        rc = caa_refuse(p, owner, id, why, why_rr);
out:
    free(v);
    return rc;
}

/* The host of a URL ("https://h:port/..." -> "h"), the default identity. */
static void
url_host(const char *url, char out[VA_CAA_ID_LEN])
{
    const char *h = strstr(url, "://");
    size_t n;

    h = h ? h + 3 : url;
    if (h[0] == '[') {
        h++;
        n = strcspn(h, "]");
    } else {
        n = strcspn(h, ":/");
    }
    if (n >= VA_CAA_ID_LEN)
        n = 0;
    memcpy(out, h, n);
    out[n] = '\0';
}

/* The first non-empty CAA set climbing from name; set->n == 0 when there is none. */
static int
caa_find(const struct va_config *cfg, const char *name, int64_t deadline,
         struct va_caa_set *set, const char **owner, struct problem *p)
{
    for (const char *cur = name; cur != NULL && *cur != '\0';) {
        const char *dot = strchr(cur, '.');
        uint8_t *abuf = NULL;
        size_t alen = 0;
        int rc = va_dns_query_raw(cfg, cur, VA_QTYPE_CAA, deadline, &abuf, &alen, p);

        if (rc == CAIRN_OK) {
            rc = va_caa_parse(abuf, alen, set);
            free(abuf);
            if (rc != CAIRN_OK)
                return problem_set(p, PROB_DNS, "DNS problem: malformed CAA answer for %s",
                                   cur);
            if (set->n > 0) {
                *owner = cur;
                return CAIRN_OK;
            }
        } else if (rc != CAIRN_ERR_NOTFOUND) {
            return rc; /* fail closed */
        }
        cur = dot ? dot + 1 : NULL; /* the top-level label is the last one asked */
    }
    set->n = 0;
    return CAIRN_OK;
}

int
va_caa_check(const struct va_config *cfg, const struct ident *id, const char *acct_url,
             const char *method, int64_t timeout_ms, struct problem *p)
{
    int64_t deadline = va_mono_ms() + (timeout_ms > 0 ? timeout_ms : VA_DEFAULT_TIMEOUT_MS);
    char host[1][VA_CAA_ID_LEN];
    struct va_caa_set *set;
    const char *owner = NULL;
    int rc;

    if (id->type != IDENT_DNS)
        return CAIRN_OK;
    set = calloc(1, sizeof(*set));
    if (set == NULL)
        return CAIRN_ERR_NOMEM;
    rc = caa_find(cfg, id->value, deadline, set, &owner, p);
    if (rc == CAIRN_OK && set->n > 0) {
        if (cfg->n_caa_identities > 0) {
            rc = va_caa_decide(set, owner, id, cfg->caa_identities, cfg->n_caa_identities,
                               acct_url, method, p);
        } else {
            url_host(acct_url, host[0]); /* as the directory's default caaIdentities */
            rc = va_caa_decide(set, owner, id, (const char(*)[VA_CAA_ID_LEN])host, 1,
                               acct_url, method, p);
        }
    }
    free(set);
    return rc;
}
