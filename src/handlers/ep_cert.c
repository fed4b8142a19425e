#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/ca.h"
#include "cairn/crl.h"
#include "handlers/common.h"

/* Link rel="alternate" to every other chain of the certificate (Pebble's form). */
static void
alternate_links(struct acme_ctx *c, struct reply *r, const char *serial, int self)
{
    char url[CAIRN_URL_MAX];
    int n = ca_alternate_count(c->app->ca);

    for (int i = 0; i <= n; i++) {
        if (i == self)
            continue;
        if (snprintf(url, sizeof(url), "%s/acme/cert/%s/%d", c->base, serial, i) <
            (int)sizeof(url))
            reply_add_link(r, url, "alternate");
    }
}

/* RFC 8555 §7.4.2: the leaf then its issuers towards root n, no root, CERTIFICATE blocks
 * only. */
static int
cert_download(struct acme_ctx *c, struct reply *r, struct problem *p, const char *serial,
              int n)
{
    struct st_cert cert = { 0 };
    const char *chain = ca_chain_pem_n(c->app->ca, n);
    char *leaf = NULL;
    size_t len;
    int rc = chain ? store_cert_get(c->app->st, serial, c->acct.id, &cert) : CAIRN_ERR_NOTFOUND;

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
        alternate_links(c, r, cert.serial, n);
    }
    free(leaf);
    store_cert_cleanup(&cert);
    return ep_store_rc(rc, p);
}

int
ep_cert(struct acme_ctx *c, struct reply *r, struct problem *p)
{
    return cert_download(c, r, p, c->arg, 0);
}

/* c->arg is "<serial>/<n>" (ROUTE_INDEX_SUFFIX). */
int
ep_cert_alt(struct acme_ctx *c, struct reply *r, struct problem *p)
{
    char serial[CAIRN_SERIAL_HEX_MAX + 1];
    const char *slash = strchr(c->arg, '/');
    size_t n = slash ? (size_t)(slash - c->arg) : 0;

    if (n == 0 || n >= sizeof(serial))
        return ep_not_found(p);
    memcpy(serial, c->arg, n);
    serial[n] = '\0';
    return cert_download(c, r, p, serial, atoi(slash + 1));
}

static int
der_reply(struct reply *r, const uint8_t *der, size_t len, const char *ctype)
{
    r->body = malloc(len ? len : 1);
    if (r->body == NULL)
        return CAIRN_ERR_NOMEM;
    memcpy(r->body, der, len);
    r->body_len = len;
    r->content_type = ctype;
    r->status = 200;
    return CAIRN_OK;
}

int
ep_crl(struct acme_ctx *c, struct reply *r, struct problem *p)
{
    uint8_t *der = NULL;
    size_t len = 0;
    int rc = crl_cache_get(c->app->crl, c->arg, &der, &len);

    if (rc == CAIRN_OK) {
        r->body = (char *)der; /* owned by the reply now */
        r->body_len = len;
        r->content_type = "application/pkix-crl";
        r->status = 200;
        return CAIRN_OK;
    }
    return ep_store_rc(rc, p);
}

int
ep_issuer_cert(struct acme_ctx *c, struct reply *r, struct problem *p)
{
    size_t len = 0;
    const uint8_t *der = ca_issuer_der(c->app->ca, &len);

    if (strcmp(c->arg, "0") != 0 || der == NULL)
        return ep_not_found(p);
    return der_reply(r, der, len, "application/pkix-cert");
}
