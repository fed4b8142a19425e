/* store.c - backend-independent parts of the store interface: releasing loaded structs. */
#include "cairn/store.h"

#include <stdlib.h>
#include <string.h>

void
store_account_cleanup(struct st_account *a)
{
    if (a == NULL)
        return;
    free(a->jwk);
    free(a->contact);
    memset(a, 0, sizeof(*a));
}

void
store_challenge_cleanup(struct st_challenge *c)
{
    if (c == NULL)
        return;
    free(c->error);
    memset(c, 0, sizeof(*c));
}

void
store_authz_cleanup(struct st_authz *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; a->chall != NULL && i < a->nchall; i++)
        store_challenge_cleanup(&a->chall[i]);
    free(a->chall);
    memset(a, 0, sizeof(*a));
}

void
store_order_cleanup(struct st_order *o)
{
    if (o == NULL)
        return;
    free(o->idents);
    free(o->authz_ids);
    free(o->error);
    memset(o, 0, sizeof(*o));
}

void
store_cert_cleanup(struct st_cert *c)
{
    if (c == NULL)
        return;
    free(c->der);
    memset(c, 0, sizeof(*c));
}
