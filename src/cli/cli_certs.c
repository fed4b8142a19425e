/* cli_certs.c - cairn certs list|show|revoke (by serial). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cairn/ca.h"
#include "cairn/cli.h"
#include "cli/cli_store.h"

static json_t *
cert_json(const struct st_cert *c)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "serial", c->serial, "status",
                          c->status == CERT_REVOKED ? "revoked" : "valid", "account",
                          c->account_id, "order", c->order_id, "notAfter",
                          (json_int_t)c->not_after, "issuedAt", (json_int_t)c->created_at);

    if (o != NULL && c->status == CERT_REVOKED) {
        json_object_set_new(o, "revokedAt", json_integer(c->revoked_at));
        if (c->reason >= 0)
            json_object_set_new(o, "reason", json_integer(c->reason));
    }
    return o;
}

int
cli_certs_list(int argc, char **argv)
{
    struct st_cert *c = NULL;
    struct cli_ctx x;
    char until[32];
    size_t n = 0;
    int rc = cli_store_open(argc, argv, &x);

    if (rc != 0)
        return rc;
    if ((rc = store_admin_certs(x.st, x.account, &c, &n)) != CAIRN_OK) {
        rc = cli_store_err("listing certificates", rc);
    } else if (x.json) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
            json_array_append_new(arr, cert_json(&c[i]));
        rc = cli_print_json(json_pack("{s:o}", "certificates", arr));
    } else {
        printf("%-34s  %-7s  %-20s  %-22s  %s\n", "SERIAL", "STATUS", "NOT AFTER", "ACCOUNT",
               "ORDER");
        for (size_t i = 0; i < n; i++) {
            cli_time(c[i].not_after, until, sizeof(until));
            printf("%-34s  %-7s  %-20s  %-22s  %s\n", c[i].serial,
                   c[i].status == CERT_REVOKED ? "revoked" : "valid", until, c[i].account_id,
                   c[i].order_id);
        }
    }
    store_admin_certs_free(c, n);
    cli_store_close(&x);
    return rc;
}

/* Serials as stored: lowercase hex without leading zeros. */
static void
normalize_serial(const char *in, char *out, size_t outsz)
{
    size_t j = 0;

    while (in[0] == '0' && in[1] != '\0')
        in++;
    for (; *in && j + 1 < outsz; in++)
        out[j++] = (char)tolower((unsigned char)*in);
    out[j] = '\0';
}

static int
show_one(struct cli_ctx *x, const char *serial)
{
    struct st_cert c = { 0 };
    struct st_order o = { 0 };
    char *pem = NULL, until[32];
    json_t *names = json_array();
    int rc = store_cert_get(x->st, serial, NULL, &c);

    if (rc == CAIRN_OK && c.der == NULL)
        rc = CAIRN_ERR_NOTFOUND; /* a reserved serial, never signed */
    if (rc == CAIRN_OK)
        rc = store_order_get(x->st, c.order_id, NULL, (int64_t)time(NULL), &o);
    if (rc != CAIRN_OK) {
        rc = cli_store_err(serial, rc);
        goto out;
    }
    for (size_t i = 0; names && i < o.nidents; i++)
        json_array_append_new(names, json_string(o.idents[i].value));
    pem = ca_der_to_pem(c.der, c.der_len);
    if (x->json) {
        json_t *j = cert_json(&c);
        if (j != NULL) {
            json_object_set(j, "names", names);
            json_object_set_new(j, "pem", json_string(pem ? pem : ""));
        }
        rc = cli_print_json(j);
        goto out;
    }
    cli_time(c.not_after, until, sizeof(until));
    printf("serial:   %s\nstatus:   %s\naccount:  %s\norder:    %s\nnot after: %s\nnames:   ",
           c.serial, c.status == CERT_REVOKED ? "revoked" : "valid", c.account_id, c.order_id,
           until);
    for (size_t i = 0; i < o.nidents; i++)
        printf(" %s", o.idents[i].value);
    printf("\n%s", pem ? pem : "");
out:
    json_decref(names);
    free(pem);
    store_order_cleanup(&o);
    store_cert_cleanup(&c);
    return rc;
}

int
cli_certs_show(int argc, char **argv)
{
    char serial[CAIRN_SERIAL_HEX_MAX + 1];
    struct cli_ctx x;
    int rc = cli_store_open(argc, argv, &x);

    if (rc != 0)
        return rc;
    if (x.pos[0] == NULL) {
        fprintf(stderr, "usage: cairn certs show SERIAL [--json]\n");
        rc = 2;
    } else {
        normalize_serial(x.pos[0], serial, sizeof(serial));
        rc = show_one(&x, serial);
    }
    cli_store_close(&x);
    return rc;
}

/* RFC 5280 reasons ACME accepts: 0-6, 8-10 (7 is unused). */
static int
parse_reason(const char *s, int *out)
{
    char *end;
    long v;

    if (s == NULL) {
        *out = 0;
        return CAIRN_OK;
    }
    v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 0 || v > 10 || v == 7)
        return CAIRN_ERR_INVAL;
    *out = (int)v;
    return CAIRN_OK;
}

int
cli_certs_revoke(int argc, char **argv)
{
    char serial[CAIRN_SERIAL_HEX_MAX + 1];
    struct cli_ctx x;
    int reason = 0, rc = cli_store_open(argc, argv, &x);

    if (rc != 0)
        return rc;
    if (x.pos[0] == NULL || parse_reason(x.reason, &reason) != CAIRN_OK) {
        fprintf(stderr, "usage: cairn certs revoke SERIAL [--reason 0-6|8-10]\n");
        rc = 2;
        goto out;
    }
    normalize_serial(x.pos[0], serial, sizeof(serial));
    rc = store_cert_revoke(x.st, serial, reason, (int64_t)time(NULL), NULL);
    if (rc != CAIRN_OK)
        rc = cli_store_err(serial, rc);
    else if (x.json)
        rc = cli_print_json(json_pack("{s:s, s:s, s:i}", "serial", serial, "status", "revoked",
                                      "reason", reason));
    else
        printf("certificate %s revoked (reason %d)\n", serial, reason);
out:
    cli_store_close(&x);
    return rc;
}
