#include <string.h>

#include "handlers/common.h"

/* RFC 8555 §7.2: HEAD 200, GET 204 (POST-as-GET answers like GET); the nonce itself is added
 * to every response by the front end. */
int
ep_new_nonce(struct acme_ctx *c, struct reply *r, struct problem *p)
{
    (void)p;
    r->status = strcmp(c->method, "HEAD") == 0 ? 200 : 204;
    return CAIRN_OK;
}
