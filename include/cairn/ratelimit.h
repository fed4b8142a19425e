/* ratelimit.h - in-memory sliding-window rate limits (issue 7): new orders per account,
 * certificates per name, failed validations per account and name.
 *
 * Locked singleton (ARCHITECTURE.md §4): one mutex around a hash table of per-key event logs.
 * Limits live in memory only: a restart forgets them, which suits a lab CA (documented).
 * A rule with count 0 is off; test mode configures none unless the config file asks. */
#ifndef CAIRN_RATELIMIT_H
#define CAIRN_RATELIMIT_H

#include <stdint.h>

#include "cairn/config.h"
#include "cairn/core.h"
#include "cairn/ident.h"
#include "cairn/problem.h"

enum rl_kind { RL_NEW_ORDERS = 0, RL_CERTS_PER_NAME, RL_FAILED_VALIDATIONS, RL__MAX };

/* Installs the rules from cfg (at start and on SIGHUP). Changing a rule keeps the history. */
void ratelimit_configure(const struct config *cfg);
/* Sets one rule directly (unit tests). */
void ratelimit_set_rule(enum rl_kind k, int count, int window);
/* Forgets every recorded event (unit tests). */
void ratelimit_reset(void);
/* Config-style name of a limit ("newOrdersPerAccount"). */
const char *ratelimit_name(enum rl_kind k);

/* Whether one more event for key fits at now: CAIRN_OK, or CAIRN_ERR_CONFLICT with
 * *retry_after set to the seconds until it would (>= 1). */
int ratelimit_check(enum rl_kind k, const char *key, int64_t now, int *retry_after)
    CAIRN_MUST_CHECK;
/* Records one event for key at now (no check). */
void ratelimit_record(enum rl_kind k, const char *key, int64_t now);

/* newOrder's gate: every identifier under its certificate and failed-validation limits, then
 * the account under its order limit (recorded when admitted). CAIRN_OK, or CAIRN_ERR_PROTO
 * with p set to rateLimited (429) and p->retry_after. */
int ratelimit_new_order(const char *account_id, const struct ident *ids, size_t n, int64_t now,
                        struct problem *p) CAIRN_MUST_CHECK;
/* Key for failed validations: "<account>:<ident value>" into out. */
void ratelimit_fail_key(const char *account_id, const char *ident_value, char *out,
                        size_t outsz);

#endif
