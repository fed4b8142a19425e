/* cli_db.c - cairn db backup|check. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cairn/cli.h"
#include "cli/cli_store.h"

int
cli_db_backup(int argc, char **argv)
{
    struct cli_ctx x;
    int rc = cli_store_open(argc, argv, &x);

    if (rc != 0)
        return rc;
    if (x.pos[0] == NULL) {
        fprintf(stderr, "usage: cairn db backup FILE\n");
        rc = 2;
    } else if ((rc = store_admin_backup(x.st, x.pos[0])) != CAIRN_OK) {
        fprintf(stderr, "cairn: backup to %s failed%s\n", x.pos[0],
                rc == CAIRN_ERR_CONFLICT ? ": the file exists" : "");
        rc = 1;
    } else if (x.json) {
        rc = cli_print_json(json_pack("{s:s}", "backup", x.pos[0]));
    } else {
        printf("database backed up to %s\n", x.pos[0]);
    }
    cli_store_close(&x);
    return rc;
}

int
cli_db_check(int argc, char **argv)
{
    struct st_check_item items[STORE_CHECK_ITEMS];
    char integrity[256];
    struct cli_ctx x;
    size_t n = 0;
    bool ok;
    int rc = cli_store_open(argc, argv, &x);

    if (rc != 0)
        return rc;
    rc = store_admin_check(x.st, integrity, sizeof(integrity), items, &n);
    cli_store_close(&x);
    if (rc != CAIRN_OK)
        return cli_store_err("checking the database", rc);
    ok = strcmp(integrity, "ok") == 0;
    for (size_t i = 0; i < n; i++)
        ok = ok && items[i].count == 0;
    if (x.json) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
            json_array_append_new(arr, json_pack("{s:s, s:I}", "check", items[i].name,
                                                 "violations", (json_int_t)items[i].count));
        return cli_print_json(json_pack("{s:b, s:s, s:o}", "ok", ok, "integrity", integrity,
                                        "invariants", arr)) == 0 && ok ? 0 : 1;
    }
    printf("integrity_check: %s\n", integrity);
    for (size_t i = 0; i < n; i++)
        printf("%-48s %s (%lld)\n", items[i].name, items[i].count ? "FAIL" : "ok",
               (long long)items[i].count);
    printf("%s\n", ok ? "database ok" : "database has problems");
    return ok ? 0 : 1;
}
