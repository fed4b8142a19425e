/* ident_policy.c - the name-list and public-suffix rules of PROTOCOL.md §5 (domainBlocklist,
 * domainAllowlist, "ends in an ICANN public suffix") on top of ident.c's syntax checks. */
#include "acme/ident_policy.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <libpsl.h>

/* ICANN section only (private suffixes such as github.io are registrable names for a CA) and
 * no implicit "*" rule, so an unlisted TLD ("lan", "internal") is not a suffix at all. */
#define PSL_FLAGS (PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE)

static pthread_once_t psl_once = PTHREAD_ONCE_INIT;
static const psl_ctx_t *psl_ctx;

/* Debian builds libpsl with the list compiled in; psl_latest() reads the packaged file
 * otherwise. Loaded once, kept for the life of the process (queries are thread-safe). */
static void
psl_load(void)
{
    psl_ctx = psl_builtin();
    if (psl_ctx == NULL)
        psl_ctx = psl_latest(NULL);
}

static const psl_ctx_t *
psl_get(void)
{
    pthread_once(&psl_once, psl_load);
    return psl_ctx;
}

bool
ident_is_public_suffix(const char *name)
{
    const psl_ctx_t *ctx = psl_get();

    return ctx != NULL && psl_is_public_suffix2(ctx, name, PSL_FLAGS) != 0;
}

/* name equals base or lies below it ("a.b.example" under "example"). */
static bool
name_under(const char *name, const char *base)
{
    size_t nlen = strlen(name), blen = strlen(base);

    if (blen == 0 || nlen < blen || memcmp(name + nlen - blen, base, blen) != 0)
        return false;
    return nlen == blen || name[nlen - blen - 1] == '.';
}

/* The blocked entry a name hits: the name (the base of a wildcard) is the entry or below
 * it, or the wildcard "*.base" covers the entry (the entry is one label below base). */
static const char *
blocked_by(const struct ident_policy *pol, const char *base, bool wild)
{
    for (size_t i = 0; i < pol->nblocklist; i++) {
        const char *e = pol->blocklist + i * pol->list_width;
        const char *dot = strchr(e, '.');

        if (name_under(base, e))
            return e;
        if (wild && dot != NULL && strcmp(dot + 1, base) == 0)
            return e;
    }
    return NULL;
}

static bool
allowed(const struct ident_policy *pol, const char *base)
{
    for (size_t i = 0; i < pol->nallowlist; i++)
        if (name_under(base, pol->allowlist + i * pol->list_width))
            return true;
    return false;
}

/* Some proper suffix of name (at a label boundary) is an ICANN public suffix. */
static bool
ends_in_public_suffix(const char *name)
{
    for (const char *d = strchr(name, '.'); d != NULL; d = strchr(d + 1, '.'))
        if (ident_is_public_suffix(d + 1))
            return true;
    return false;
}

int
ident_policy_dns(const struct ident_policy *pol, const char *shown, const char *base, bool wild,
                 struct problem *p)
{
    const char *e;

    if (wild && ident_is_public_suffix(base))
        return problem_set(p, PROB_REJECTED_IDENTIFIER, "%s: wildcard over a public suffix",
                           shown);
    if ((e = blocked_by(pol, base, wild)) != NULL)
        return problem_set(p, PROB_REJECTED_IDENTIFIER, "%s: refused by the domain blocklist (%s)",
                           shown, e);
    if (pol->nallowlist > 0) {
        if (!allowed(pol, base))
            return problem_set(p, PROB_REJECTED_IDENTIFIER, "%s: not in the domain allowlist",
                               shown);
        return CAIRN_OK; /* the lab's own names: exempt from the public-suffix rule */
    }
    if (!pol->public_suffix_rule)
        return CAIRN_OK;
    if (psl_get() == NULL)
        return problem_set(p, PROB_SERVER_INTERNAL, "the public suffix list is unavailable");
    if (ident_is_public_suffix(base))
        return problem_set(p, PROB_REJECTED_IDENTIFIER, "%s: a public suffix cannot be certified",
                           shown);
    if (!ends_in_public_suffix(base))
        return problem_set(p, PROB_REJECTED_IDENTIFIER,
                           "%s: does not end in an ICANN public suffix", shown);
    return CAIRN_OK;
}
