/* cli_store.c - option handling and store access shared by cli_accounts.c, cli_certs.c and
 * cli_db.c. */
#include "cli/cli_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/cli.h"

/* The daemon's options that take a value: their value is not a positional argument. */
static bool
takes_value(const char *opt)
{
    static const char *const with_value[] = { "config", "dnsserver", "state-dir", "root-out",
                                              "log-level", "log-format" };

    while (*opt == '-')
        opt++;
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(with_value); i++)
        if (strcmp(opt, with_value[i]) == 0)
            return true;
    return false;
}

/* Removes "--name VALUE" from argv and returns VALUE (NULL when absent). */
static char *
take_value(int *argc, char **argv, const char *name, bool *missing)
{
    char *v = NULL;
    int o = 0;

    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            if (i + 1 >= *argc) {
                *missing = true;
                continue;
            }
            v = argv[++i];
            continue;
        }
        argv[o++] = argv[i];
    }
    *argc = o;
    argv[o] = NULL;
    return v;
}

static int
take_positional(int *argc, char **argv, struct cli_ctx *x)
{
    size_t npos = 0;
    int o = 1;

    for (int i = 1; i < *argc; i++) {
        if (argv[i][0] == '-') {
            argv[o++] = argv[i];
            if (takes_value(argv[i]) && i + 1 < *argc)
                argv[o++] = argv[++i];
            continue;
        }
        if (npos >= CAIRN_ARRAY_LEN(x->pos)) {
            fprintf(stderr, "cairn: unexpected argument %s\n", argv[i]);
            return 2;
        }
        x->pos[npos++] = argv[i];
    }
    *argc = o;
    argv[o] = NULL;
    return 0;
}

int
cli_store_open(int argc, char **argv, struct cli_ctx *x)
{
    char path[CAIRN_CONF_PATH + 16];
    bool missing = false;
    int rc;

    memset(x, 0, sizeof(*x));
    x->json = cli_take_flag(&argc, argv, "--json");
    x->account = take_value(&argc, argv, "--account", &missing);
    x->reason = take_value(&argc, argv, "--reason", &missing);
    if (missing) {
        fprintf(stderr, "cairn: --account and --reason need a value\n");
        return 2;
    }
    if ((rc = take_positional(&argc, argv, x)) != 0)
        return rc;
    if (cli_load_config(argc, argv, &x->cfg) != CAIRN_OK)
        return 2;
    if (x->cfg.state_dir[0] == '\0') {
        fprintf(stderr, "cairn: give the daemon's state directory (--state-dir DIR or -config)\n");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/cairn.db", x->cfg.state_dir);
    if (store_open(path, x->cfg.ca_mode, &x->st) != CAIRN_OK) {
        fprintf(stderr, "cairn: cannot open the database %s\n", path);
        return 1;
    }
    return 0;
}

void
cli_store_close(struct cli_ctx *x)
{
    store_close(x->st);
    x->st = NULL;
}

int
cli_print_json(json_t *o)
{
    char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;

    json_decref(o);
    if (text == NULL) {
        fprintf(stderr, "cairn: out of memory\n");
        return 1;
    }
    printf("%s\n", text);
    free(text);
    return 0;
}

void
cli_time(int64_t t, char *out, size_t outsz)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (t == 0 || gmtime_r(&tt, &tm) == NULL) {
        snprintf(out, outsz, "-");
        return;
    }
    strftime(out, outsz, "%Y-%m-%d %H:%M:%SZ", &tm);
}

int
cli_store_err(const char *what, int rc)
{
    fprintf(stderr, "cairn: %s: %s\n", what,
            rc == CAIRN_ERR_NOTFOUND   ? "not found"
            : rc == CAIRN_ERR_CONFLICT ? "not in a state that allows it"
            : rc == CAIRN_ERR_BUSY     ? "database busy, try again"
                                       : "database error");
    return 1;
}
