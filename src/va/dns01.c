/* dns01.c - dns-01 (RFC 8555 §8.4): a TXT record at _acme-challenge.<name> whose strings,
 * joined, equal base64url(SHA-256(key authorization)). CNAMEs are followed by the resolver. */
#include "va/va_internal.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "cairn/b64url.h"
#include "cairn/limits.h"

int
va_dns01_digest(const char *key_authz, char *out, size_t outsz)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_Digest(key_authz, strlen(key_authz), md, &mdlen, EVP_sha256(), NULL) != 1)
        return CAIRN_ERR_CRYPTO;
    return b64url_encode(md, mdlen, out, outsz);
}

int
va_dns01_check(const struct va_config *cfg, const struct st_va_job *job, const char *key_authz,
               int64_t deadline, struct problem *p)
{
    char name[CAIRN_MAX_IDENT_VALUE + 32], want[64], ex[VA_EXCERPT_MAX + 1];
    struct va_txt txt;
    size_t wl;
    int n, rc;

    memset(&txt, 0, sizeof(txt));
    if (job->ident.type != IDENT_DNS) /* RFC 8738 §7: never for IP identifiers */
        return problem_set(p, PROB_UNAUTHORIZED, "dns-01 is not allowed for IP identifiers");
    n = snprintf(name, sizeof(name), "_acme-challenge.%s", job->ident.value);
    if (n < 0 || (size_t)n >= sizeof(name))
        return problem_set(p, PROB_DNS, "DNS problem: name too long");
    rc = va_dns01_digest(key_authz, want, sizeof(want));
    if (rc != CAIRN_OK)
        return rc;
    wl = strlen(want);
    rc = va_dns_txt(cfg, name, deadline, &txt, p);
    if (rc != CAIRN_OK)
        goto out;
    for (size_t i = 0; i < txt.n; i++) {
        if (txt.len[i] == wl && memcmp(txt.rec[i], want, wl) == 0)
            goto out; /* rc is CAIRN_OK */
    }
    if (txt.n == 0) {
        rc = problem_set(p, PROB_UNAUTHORIZED, "No TXT record found at %s", name);
        goto out;
    }
    va_excerpt((const uint8_t *)txt.rec[0], txt.len[0], ex, sizeof(ex));
    if (txt.n == 1)
        rc = problem_set(p, PROB_UNAUTHORIZED, "Incorrect TXT record %s found at %s", ex, name);
    else
        rc = problem_set(p, PROB_UNAUTHORIZED, "Incorrect TXT record %s (and %zu more) found at %s",
                         ex, txt.n - 1, name);
out:
    va_txt_cleanup(&txt);
    return rc;
}
