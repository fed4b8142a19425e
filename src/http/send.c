#include "http/send.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/log.h"
#include "cairn/metrics.h"
#include "cairn/nonce.h"
#include "http/http.h"

void
reply_add_link(struct reply *r, const char *url, const char *rel)
{
    if (r->nlinks >= CAIRN_REPLY_LINKS)
        return;
    snprintf(r->links[r->nlinks++], sizeof(r->links[0]), "<%s>;rel=\"%s\"", url, rel);
}

void
reply_cleanup(struct reply *r)
{
    json_decref(r->json);
    free(r->body);
    r->json = NULL;
    r->body = NULL;
}

static void
add_common_headers(struct app *app, struct MHD_Response *resp, const char *base, bool index,
                   const char *cache_control)
{
    char nonce[CAIRN_NONCE_STR_LEN + 1], link[1100];

    if (nonce_issue(app->nonces, (int64_t)time(NULL), nonce) == CAIRN_OK) {
        MHD_add_response_header(resp, "Replay-Nonce", nonce);
        metrics_nonce_issued();
    }
    if (index && base != NULL) {
        snprintf(link, sizeof(link), "<%s/dir>;rel=\"index\"", base);
        MHD_add_response_header(resp, "Link", link);
    }
    MHD_add_response_header(resp, "Cache-Control", cache_control ? cache_control : "no-store");
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(resp, "Access-Control-Expose-Headers",
                            "Link, Location, Replay-Nonce, Retry-After");
}

/* Turns the result into status + body + content type. Fills *owned with heap text to free. */
static int
result_body(int rc, struct reply *rep, struct problem *p, const char *req_id, char **owned,
            const char **ctype, size_t *len)
{
    if (rc == CAIRN_OK && rep != NULL) {
        if (rep->json != NULL) {
            *owned = json_dumps(rep->json, JSON_INDENT(2));
            *ctype = "application/json";
        } else if (rep->body != NULL) {
            *owned = rep->body;
            rep->body = NULL;
            *len = rep->body_len;
            *ctype = rep->content_type;
            return rep->status ? rep->status : 200;
        }
        *len = *owned ? strlen(*owned) : 0;
        return rep->status ? rep->status : 200;
    }
    if (rc == CAIRN_ERR_BUSY) {
        problem_cleanup(p);
        problem_set_status(p, PROB_SERVER_INTERNAL, 503, "database busy, retry later");
    } else if (rc != CAIRN_ERR_PROTO) {
        problem_cleanup(p);
        problem_set(p, PROB_SERVER_INTERNAL, "internal error, ref %s", req_id);
    }
    *owned = problem_render_text(p);
    *ctype = "application/problem+json";
    *len = *owned ? strlen(*owned) : 0;
    return problem_status(p);
}

int
send_result(struct app *app, struct MHD_Connection *conn, const char *req_id, int rc,
            struct reply *rep, struct problem *p, const char *allow, bool head)
{
    struct MHD_Response *resp;
    const char *ctype = NULL, *host;
    char *body = NULL, base[600] = "", ra[16];
    size_t len = 0;
    int status = result_body(rc, rep, p, req_id, &body, &ctype, &len);
    enum MHD_Result ok;

    (void)head; /* MHD omits the body of HEAD answers itself */
    if (rc != CAIRN_OK && rc != CAIRN_ERR_PROTO)
        log_warn("http", "req=%s rc=%d status=%d", req_id, rc, status);
    resp = MHD_create_response_from_buffer(len, body ? body : "", MHD_RESPMEM_MUST_COPY);
    free(body);
    if (resp == NULL)
        return CAIRN_ERR_NOMEM;
    if (ctype != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (app->cfg->external_url[0]) {
        snprintf(base, sizeof(base), "%s", app->cfg->external_url);
    } else if ((host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host")) != NULL &&
               strlen(host) < 255) {
        snprintf(base, sizeof(base), "https://%s", host);
    }
    add_common_headers(app, resp, base[0] ? base : NULL, !(rep && rep->no_index_link),
                       rc == CAIRN_OK && rep ? rep->cache_control : NULL);
    if (rep != NULL) {
        if (rc == CAIRN_OK && rep->location[0])
            MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, rep->location);
        for (int i = 0; rc == CAIRN_OK && i < rep->nlinks; i++)
            MHD_add_response_header(resp, "Link", rep->links[i]);
        if (rc == CAIRN_OK && rep->retry_after > 0) {
            snprintf(ra, sizeof(ra), "%d", rep->retry_after);
            MHD_add_response_header(resp, "Retry-After", ra);
        }
    }
    if (rc != CAIRN_OK)
        metrics_problem(problem_name(p->type));
    if (rc != CAIRN_OK && (status == 429 || status >= 500)) {
        /* a rate limit or an injected fault knows the real wait */
        snprintf(ra, sizeof(ra), "%d", p->retry_after > 0 ? p->retry_after : 5);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    if (rc != CAIRN_OK && p->location[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, p->location);
    if (allow != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    /* PROTOCOL.md §6 H01: after an oversized request head the connection is closed, so the
     * client cannot keep a pool full of its headers for further requests. libmicrohttpd
     * already closes a connection answered at its headers (where these are sent); the header
     * tells the client and keeps the promise wherever the answer is queued. */
    if (rc != CAIRN_OK && (status == 414 || status == 431))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    ok = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ok == MHD_YES ? CAIRN_OK : CAIRN_ERR_IO;
}
