#include "cairn/log.h"
#include "cairn/render.h"
#include "cairn/va.h"
#include "handlers/common.h"

static int
reply_challenge(struct acme_ctx *c, struct reply *r, struct problem *p)
{
    struct st_challenge ch = { 0 };
    char up[CAIRN_URL_MAX];
    int rc = store_challenge_get(c->app->st, c->arg, c->acct.id, c->now, &ch, NULL);

    if (rc == CAIRN_OK) {
        if (ch.status == CHALL_PROCESSING)
            r->retry_after = c->app->cfg->retry_after_authz;
        if (render_url(up, sizeof(up), c->base, CAIRN_PATH_AUTHZ, ch.authz_id, NULL) == 0)
            reply_add_link(r, up, "up");
        rc = ep_reply_json(r, 200, render_challenge(c->base, &ch));
    }
    store_challenge_cleanup(&ch);
    return ep_store_rc(rc, p);
}

/* Hands the started challenge to the VA. A full queue loses nothing: the row is the record
 * and the periodic requeue picks it up. */
static void
submit(struct acme_ctx *c)
{
    struct st_va_job job;

    if (store_va_job_get(c->app->st, c->arg, &job) != CAIRN_OK)
        return;
    /* CAA accounturi compares with the account URL as this client sees it (test mode builds
     * URLs from Host); "" (too long) falls back to the VA's base URL. */
    if (render_url(job.acct_url, sizeof(job.acct_url), c->base, CAIRN_PATH_ACCT, c->acct.id,
                   NULL) != 0)
        job.acct_url[0] = '\0';
    if (va_submit(c->app->va, &job) != CAIRN_OK)
        log_warn("acme", "req=%s VA queue full; challenge %s waits for the requeue", c->req_id,
                 c->arg);
}

/* PROTOCOL.md §1 "challenge": the authz decides first, then one conditional start. */
static int
start(struct acme_ctx *c, struct problem *p)
{
    struct st_challenge ch = { 0 };
    struct st_authz az = { 0 };
    enum chall_start res = CHALL_START_NOOP;
    int64_t due = c->now;
    int rc = store_challenge_get(c->app->st, c->arg, c->acct.id, c->now, &ch, &az);

    if (rc != CAIRN_OK)
        goto out;
    if (az.status == AUTHZ_EXPIRED) {
        rc = ep_not_found(p);
        goto out;
    }
    if (az.status != AUTHZ_PENDING && az.status != AUTHZ_VALID) {
        rc = problem_set(p, PROB_MALFORMED, "the authorization is %s",
                         authz_status_name(az.status));
        goto out;
    }
    if (az.status == AUTHZ_VALID)
        goto out; /* D10/Z06: answer with the current state, no validation */
    /* PEBBLE_VA_SLEEPTIME's wait is added once, by va_submit() */
    rc = store_challenge_start(c->app->st, c->arg, c->acct.id, c->now, due, &res);
    if (rc == CAIRN_OK && res == CHALL_START_STARTED) {
        log_info("acme", "req=%s challenge %s (%s) processing", c->req_id, c->arg,
                 chall_type_name(ch.type));
        submit(c);
    } else if (rc == CAIRN_OK && res == CHALL_START_SIBLING) {
        rc = problem_set(p, PROB_MALFORMED,
                         "another challenge of this authorization is already being validated");
    } else if (rc == CAIRN_OK && res == CHALL_START_AUTHZ_DEAD) {
        rc = problem_set(p, PROB_MALFORMED, "the authorization is no longer pending");
    }
out:
    store_challenge_cleanup(&ch);
    store_authz_cleanup(&az);
    return ep_store_rc(rc, p);
}

int
ep_challenge(struct acme_ctx *c, struct reply *r, struct problem *p)
{
    int rc;

    if (!c->post_as_get) {
        /* PROTOCOL.md §1 "challenge": exactly {} under -strict */
        if (c->app->cfg->strict && json_object_size(c->payload) != 0)
            return problem_set(p, PROB_MALFORMED, "-strict: the challenge payload must be {}");
        rc = start(c, p);
        if (rc != CAIRN_OK)
            return rc;
    }
    return reply_challenge(c, r, p);
}
