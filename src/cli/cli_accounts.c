/* cli_accounts.c - cairn accounts list|show|deactivate. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <jansson.h>

#include "cairn/cli.h"
#include "cli/cli_store.h"

static json_t *
account_json(const struct st_account_summary *a)
{
    json_t *contact = a->acct.contact ? json_loads(a->acct.contact, 0, NULL) : json_array();

    return json_pack("{s:s, s:s, s:s, s:o, s:b, s:I, s:I, s:I}", "id", a->acct.id, "status",
                     acct_status_name(a->acct.status), "thumbprint", a->acct.thumbprint,
                     "contact", contact ? contact : json_array(), "termsOfServiceAgreed",
                     a->acct.tos_agreed, "createdAt", (json_int_t)a->acct.created_at, "orders",
                     (json_int_t)a->orders, "certificates", (json_int_t)a->certs);
}

int
cli_accounts_list(int argc, char **argv)
{
    struct st_account_summary *a = NULL;
    struct cli_ctx x;
    char when[32];
    size_t n = 0;
    int rc = cli_store_open(argc, argv, &x);

    if (rc != 0)
        return rc;
    if ((rc = store_admin_accounts(x.st, NULL, &a, &n)) != CAIRN_OK) {
        rc = cli_store_err("listing accounts", rc);
    } else if (x.json) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
            json_array_append_new(arr, account_json(&a[i]));
        rc = cli_print_json(json_pack("{s:o}", "accounts", arr));
    } else {
        printf("%-22s  %-11s  %-20s  %6s  %5s  %s\n", "ID", "STATUS", "CREATED", "ORDERS",
               "CERTS", "CONTACT");
        for (size_t i = 0; i < n; i++) {
            cli_time(a[i].acct.created_at, when, sizeof(when));
            printf("%-22s  %-11s  %-20s  %6lld  %5lld  %s\n", a[i].acct.id,
                   acct_status_name(a[i].acct.status), when, (long long)a[i].orders,
                   (long long)a[i].certs, a[i].acct.contact ? a[i].acct.contact : "[]");
        }
    }
    store_admin_accounts_free(a, n);
    cli_store_close(&x);
    return rc;
}

int
cli_accounts_show(int argc, char **argv)
{
    struct st_account_summary *a = NULL;
    struct cli_ctx x;
    char when[32];
    size_t n = 0;
    int rc = cli_store_open(argc, argv, &x);

    if (rc != 0)
        return rc;
    if (x.pos[0] == NULL) {
        fprintf(stderr, "usage: cairn accounts show ID [--json]\n");
        rc = 2;
    } else if ((rc = store_admin_accounts(x.st, x.pos[0], &a, &n)) != CAIRN_OK) {
        rc = cli_store_err(x.pos[0], rc);
    } else if (x.json) {
        json_t *o = account_json(&a[0]);
        if (o != NULL)
            json_object_set_new(o, "jwk", json_loads(a[0].acct.jwk, 0, NULL));
        rc = cli_print_json(o);
    } else {
        cli_time(a[0].acct.created_at, when, sizeof(when));
        printf("id:           %s\nstatus:       %s\ncreated:      %s\nthumbprint:   %s\n"
               "contact:      %s\ntos agreed:   %s\norders:       %lld\ncertificates: %lld\n"
               "key:          %s\n",
               a[0].acct.id, acct_status_name(a[0].acct.status), when, a[0].acct.thumbprint,
               a[0].acct.contact ? a[0].acct.contact : "[]", a[0].acct.tos_agreed ? "yes" : "no",
               (long long)a[0].orders, (long long)a[0].certs, a[0].acct.jwk);
    }
    store_admin_accounts_free(a, n);
    cli_store_close(&x);
    return rc;
}

int
cli_accounts_deactivate(int argc, char **argv)
{
    struct cli_ctx x;
    int rc = cli_store_open(argc, argv, &x);

    if (rc != 0)
        return rc;
    if (x.pos[0] == NULL) {
        fprintf(stderr, "usage: cairn accounts deactivate ID\n");
        rc = 2;
    } else if ((rc = store_account_deactivate(x.st, x.pos[0], (int64_t)time(NULL))) !=
               CAIRN_OK) {
        rc = cli_store_err(x.pos[0], rc);
    } else if (x.json) {
        rc = cli_print_json(json_pack("{s:s, s:s}", "id", x.pos[0], "status", "deactivated"));
    } else {
        printf("account %s deactivated (its pending authorizations and orders too)\n",
               x.pos[0]);
    }
    cli_store_close(&x);
    return rc;
}
