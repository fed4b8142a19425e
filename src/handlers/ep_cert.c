#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/ca.h"
#include "handlers/common.h"

/* RFC 8555 §7.4.2: the leaf then its issuers, no root, CERTIFICATE blocks only. */
int
ep_cert(struct acme_ctx *c, struct reply *r, struct problem *p)
{
    struct st_cert cert = { 0 };
    const char *chain = ca_chain_pem(c->app->ca);
    char *leaf = NULL;
    size_t len;
    int rc = store_cert_get(c->app->st, c->arg, c->acct.id, &cert);

    if (rc == CAIRN_OK && (cert.status == CERT_PENDING || cert.der == NULL))
        rc = CAIRN_ERR_NOTFOUND;
    if (rc == CAIRN_OK) {
        leaf = ca_der_to_pem(cert.der, cert.der_len);
        rc = leaf ? CAIRN_OK : CAIRN_ERR_CRYPTO;
    }
    if (rc == CAIRN_OK) {
        len = strlen(leaf) + strlen(chain);
        r->body = malloc(len + 1);
        rc = r->body ? CAIRN_OK : CAIRN_ERR_NOMEM;
    }
    if (rc == CAIRN_OK) {
        snprintf(r->body, len + 1, "%s%s", leaf, chain);
        r->body_len = len;
        r->content_type = "application/pem-certificate-chain";
        r->status = 200;
    }
    free(leaf);
    store_cert_cleanup(&cert);
    return ep_store_rc(rc, p);
}
