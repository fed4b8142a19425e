/* problem.h - RFC 8555 §6.7 problem documents (RFC 7807).
 *
 * A struct problem lives on the caller's stack. problem_set() never allocates and returns
 * CAIRN_ERR_PROTO so a check can `return problem_set(p, ...)`. Subproblems (one per failing
 * identifier) are heap-allocated by problem_add_sub(); problem_cleanup() frees them. */
#ifndef CAIRN_PROBLEM_H
#define CAIRN_PROBLEM_H

#include <stdbool.h>
#include <stddef.h>

#include "cairn/core.h"

enum prob_type {
    PROB_NONE = 0,
    PROB_ACCOUNT_DOES_NOT_EXIST,
    PROB_ALREADY_REPLACED,
    PROB_ALREADY_REVOKED,
    PROB_BAD_CSR,
    PROB_BAD_NONCE,
    PROB_BAD_PUBLIC_KEY,
    PROB_BAD_REVOCATION_REASON,
    PROB_BAD_SIGNATURE_ALGORITHM,
    PROB_CAA,
    PROB_COMPOUND,
    PROB_CONNECTION,
    PROB_DNS,
    PROB_EXTERNAL_ACCOUNT_REQUIRED,
    PROB_INVALID_CONTACT,
    PROB_INVALID_PROFILE,
    PROB_MALFORMED,
    PROB_ORDER_NOT_READY,
    PROB_RATE_LIMITED,
    PROB_REJECTED_IDENTIFIER,
    PROB_SERVER_INTERNAL,
    PROB_TLS,
    PROB_UNAUTHORIZED,
    PROB_UNSUPPORTED_CONTACT,
    PROB_UNSUPPORTED_IDENTIFIER,
    PROB_USER_ACTION_REQUIRED,
    PROB__MAX
};

#define CAIRN_PROBLEM_DETAIL 256

struct subproblem {
    enum prob_type type;
    char ident_type[8];   /* "dns" or "ip" ("" when the identifier is unknown) */
    char ident_value[CAIRN_PROBLEM_DETAIL];
    char detail[CAIRN_PROBLEM_DETAIL];
};

struct problem {
    enum prob_type type;
    int status; /* 0: the table default for type */
    char detail[CAIRN_PROBLEM_DETAIL];
    struct subproblem *sub; /* owned; freed by problem_cleanup() */
    size_t nsub;
    char location[512]; /* optional Location header (409 keyChange); "" when none */
    int retry_after;    /* Retry-After seconds for 429/503; 0 = the front end's default */
};

/* Fills p (type, default status, formatted detail truncated to fit). Returns CAIRN_ERR_PROTO. */
int problem_set(struct problem *p, enum prob_type type, const char *fmt, ...) CAIRN_PRINTF(3, 4);
/* As problem_set() with an explicit HTTP status (e.g. 404/405/409/413/415 malformed). */
int problem_set_status(struct problem *p, enum prob_type type, int status, const char *fmt, ...)
    CAIRN_PRINTF(4, 5);
/* Appends a subproblem for one identifier. Returns CAIRN_OK or CAIRN_ERR_NOMEM. */
int problem_add_sub(struct problem *p, enum prob_type type, const char *ident_type,
                    const char *ident_value, const char *fmt, ...) CAIRN_PRINTF(5, 6);
/* When subproblems exist, sets the top-level type to their shared type, else compound,
 * with the given detail. Returns CAIRN_ERR_PROTO. */
int problem_from_subs(struct problem *p, const char *detail);
void problem_init(struct problem *p);
void problem_cleanup(struct problem *p);

/* "urn:ietf:params:acme:error:<name>" for a type; never NULL for a valid type. */
const char *problem_urn(enum prob_type type);
/* Short name such as "malformed". */
const char *problem_name(enum prob_type type);
int problem_default_status(enum prob_type type);
/* Effective status: p->status or the default. */
int problem_status(const struct problem *p);

/* The problem as an RFC 7807 JSON object (type, detail, status, subproblems with their
 * identifiers, and `algorithms` for badSignatureAlgorithm). New reference or NULL. */
struct json_t;
struct json_t *problem_render(const struct problem *p);
/* problem_render() as compact JSON text (heap, caller frees) or NULL. */
char *problem_render_text(const struct problem *p);

#endif
