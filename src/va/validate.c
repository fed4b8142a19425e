/* validate.c - va_validate(): dispatch on the challenge type, plus helpers the checkers share.
 * No store access here (see va_internal.h). */
#include "va/va_internal.h"

#include <stdio.h>
#include <string.h>

#include "cairn/render.h"
#include "cairn/va.h"

int
va_global_init(void)
{
    int rc = va_dns_global_init();

    if (rc != CAIRN_OK)
        return rc;
    rc = va_http_global_init();
    if (rc != CAIRN_OK)
        va_dns_global_cleanup();
    return rc;
}

void
va_global_cleanup(void)
{
    va_http_global_cleanup();
    va_dns_global_cleanup();
}

int64_t
va_deadline_for(const struct va_config *cfg)
{
    int64_t t = cfg->timeout_ms > 0 ? cfg->timeout_ms : VA_DEFAULT_TIMEOUT_MS;

    return va_mono_ms() + t;
}

static bool
is_http_space(uint8_t c)
{
    return c == '\r' || c == '\n' || c == ' ' || c == '\t';
}

bool
va_http01_body_matches(const uint8_t *body, size_t n, const char *key_authz)
{
    size_t kl = strlen(key_authz);

    if (n < kl || memcmp(body, key_authz, kl) != 0)
        return false;
    for (size_t i = kl; i < n; i++)
        if (!is_http_space(body[i]))
            return false;
    return true;
}

/* The escaped form of one byte (at most 4 characters + NUL). */
static void
excerpt_byte(uint8_t c, char out[5])
{
    if (c == '"' || c == '\\')
        snprintf(out, 5, "\\%c", c);
    else if (c == '\r')
        snprintf(out, 5, "\\r");
    else if (c == '\n')
        snprintf(out, 5, "\\n");
    else if (c == '\t')
        snprintf(out, 5, "\\t");
    else if (c >= 0x20 && c < 0x7f)
        snprintf(out, 5, "%c", c);
    else
        snprintf(out, 5, "\\x%02x", c);
}

void
va_excerpt(const uint8_t *in, size_t n, char *out, size_t outsz)
{
    size_t cap = outsz - 1 < VA_EXCERPT_MAX ? outsz - 1 : VA_EXCERPT_MAX;
    size_t len = 0;

    if (outsz < 6) { /* room for at least `"..."` */
        if (outsz > 0)
            out[0] = '\0';
        return;
    }
    out[len++] = '"';
    for (size_t i = 0; i < n; i++) {
        char e[5];
        size_t el;
        /* keep room for the closing quote, and for "..." unless this is the last byte */
        size_t reserve = 1 + (i + 1 < n ? 3 : 0);

        excerpt_byte(in[i], e);
        el = strlen(e);
        if (len + el + reserve > cap) {
            memcpy(out + len, "...", 3);
            len += 3;
            break;
        }
        memcpy(out + len, e, el);
        len += el;
    }
    out[len++] = '"';
    out[len] = '\0';
}

/* One run of the challenge's own check within its own deadline. */
static int
validate_once(const struct va_config *cfg, const struct st_va_job *job, const char *key_authz,
              struct problem *p)
{
    int64_t deadline = va_deadline_for(cfg);

    switch (job->type) {
    case CHALL_HTTP01:
        return va_http01_check(cfg, job, key_authz, deadline, p);
    case CHALL_DNS01:
        return va_dns01_check(cfg, job, key_authz, deadline, p);
    case CHALL_TLSALPN01:
        return va_tlsalpn01_check(cfg, job, key_authz, deadline, p);
    default:
        return problem_set(p, PROB_MALFORMED, "unknown challenge type");
    }
}

int
va_job_acct_url(const struct va_config *cfg, const struct st_va_job *job, char *out,
                size_t outsz)
{
    int n;

    if (job->acct_url[0] != '\0')
        n = snprintf(out, outsz, "%s", job->acct_url);
    else
        n = snprintf(out, outsz, "%s" CAIRN_PATH_ACCT "%s", cfg->base_url, job->account_id);
    return n < 0 || (size_t)n >= outsz ? CAIRN_ERR_INVAL : CAIRN_OK;
}

int
va_validate(const struct va_config *cfg, const struct st_va_job *job, const char *key_authz,
            struct problem *p)
{
    int times = cfg->validate_times > 1 ? cfg->validate_times : 1;
    char acct[sizeof(job->acct_url) + CAIRN_ID_LEN + 32];
    int rc = CAIRN_OK;

    /* Pebble's "validate several times": every run must pass (a stand-in for checking from
     * several perspectives); the first failure is the answer. */
    for (int i = 0; i < times && rc == CAIRN_OK; i++)
        rc = validate_once(cfg, job, key_authz, p);
    if (rc != CAIRN_OK || !cfg->caa)
        return rc;
    if (va_job_acct_url(cfg, job, acct, sizeof(acct)) != CAIRN_OK)
        return problem_set(p, PROB_SERVER_INTERNAL, "the account URL is too long");
    return va_caa_check(cfg, &job->ident, acct, chall_type_name(job->type),
                        cfg->timeout_ms > 0 ? cfg->timeout_ms : VA_DEFAULT_TIMEOUT_MS, p);
}
