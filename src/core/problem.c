#include "cairn/problem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct prob_info {
    const char *name;
    const char *urn;
    int status;
};

#define P(t, n, s) [t] = { n, "urn:ietf:params:acme:error:" n, s }
static const struct prob_info prob_table[PROB__MAX] = {
    P(PROB_NONE, "serverInternal", 500),
    P(PROB_ACCOUNT_DOES_NOT_EXIST, "accountDoesNotExist", 400),
    P(PROB_ALREADY_REPLACED, "alreadyReplaced", 409),
    P(PROB_ALREADY_REVOKED, "alreadyRevoked", 400),
    P(PROB_BAD_CSR, "badCSR", 400),
    P(PROB_BAD_NONCE, "badNonce", 400),
    P(PROB_BAD_PUBLIC_KEY, "badPublicKey", 400),
    P(PROB_BAD_REVOCATION_REASON, "badRevocationReason", 400),
    P(PROB_BAD_SIGNATURE_ALGORITHM, "badSignatureAlgorithm", 400),
    P(PROB_CAA, "caa", 403),
    P(PROB_COMPOUND, "compound", 400),
    P(PROB_CONNECTION, "connection", 400),
    P(PROB_DNS, "dns", 400),
    P(PROB_EXTERNAL_ACCOUNT_REQUIRED, "externalAccountRequired", 403),
    P(PROB_INVALID_CONTACT, "invalidContact", 400),
    P(PROB_INVALID_PROFILE, "invalidProfile", 400),
    P(PROB_MALFORMED, "malformed", 400),
    P(PROB_ORDER_NOT_READY, "orderNotReady", 403),
    P(PROB_RATE_LIMITED, "rateLimited", 429),
    P(PROB_REJECTED_IDENTIFIER, "rejectedIdentifier", 400),
    P(PROB_SERVER_INTERNAL, "serverInternal", 500),
    P(PROB_TLS, "tls", 400),
    P(PROB_UNAUTHORIZED, "unauthorized", 403),
    P(PROB_UNSUPPORTED_CONTACT, "unsupportedContact", 400),
    P(PROB_UNSUPPORTED_IDENTIFIER, "unsupportedIdentifier", 400),
    P(PROB_USER_ACTION_REQUIRED, "userActionRequired", 403),
};
#undef P

_Static_assert(CAIRN_ARRAY_LEN(prob_table) == PROB__MAX, "prob_table covers every type");

static enum prob_type
clamp_type(enum prob_type t)
{
    return ((unsigned)t < PROB__MAX) ? t : PROB_SERVER_INTERNAL;
}

const char *
problem_urn(enum prob_type type)
{
    return prob_table[clamp_type(type)].urn;
}

const char *
problem_name(enum prob_type type)
{
    return prob_table[clamp_type(type)].name;
}

int
problem_default_status(enum prob_type type)
{
    return prob_table[clamp_type(type)].status;
}

int
problem_status(const struct problem *p)
{
    return p->status ? p->status : problem_default_status(p->type);
}

void
problem_init(struct problem *p)
{
    memset(p, 0, sizeof(*p));
}

void
problem_cleanup(struct problem *p)
{
    free(p->sub);
    p->sub = NULL;
    p->nsub = 0;
}

static int problem_vset(struct problem *p, enum prob_type type, int status, const char *fmt,
                       va_list ap) CAIRN_PRINTF(4, 0);

static int
problem_vset(struct problem *p, enum prob_type type, int status, const char *fmt, va_list ap)
{
    p->type = clamp_type(type);
    p->status = status;
    vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
    return CAIRN_ERR_PROTO;
}

int
problem_set(struct problem *p, enum prob_type type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    problem_vset(p, type, 0, fmt, ap);
    va_end(ap);
    return CAIRN_ERR_PROTO;
}

int
problem_set_status(struct problem *p, enum prob_type type, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    problem_vset(p, type, status, fmt, ap);
    va_end(ap);
    return CAIRN_ERR_PROTO;
}

int
problem_add_sub(struct problem *p, enum prob_type type, const char *ident_type,
                const char *ident_value, const char *fmt, ...)
{
    struct subproblem *n, *s;
    va_list ap;

    n = realloc(p->sub, (p->nsub + 1) * sizeof(*n));
    if (n == NULL)
        return CAIRN_ERR_NOMEM;
    p->sub = n;
    s = &n[p->nsub++];
    memset(s, 0, sizeof(*s));
    s->type = clamp_type(type);
    snprintf(s->ident_type, sizeof(s->ident_type), "%s", ident_type ? ident_type : "");
    snprintf(s->ident_value, sizeof(s->ident_value), "%s", ident_value ? ident_value : "");
    va_start(ap, fmt);
    vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
    va_end(ap);
    return CAIRN_OK;
}

int
problem_from_subs(struct problem *p, const char *detail)
{
    enum prob_type t = p->nsub ? p->sub[0].type : PROB_MALFORMED;

    for (size_t i = 1; i < p->nsub; i++)
        if (p->sub[i].type != t)
            t = PROB_COMPOUND;
    p->type = t;
    p->status = 0;
    snprintf(p->detail, sizeof(p->detail), "%s", detail);
    return CAIRN_ERR_PROTO;
}
