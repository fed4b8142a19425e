#include "cairn/cli.h"
#include "cli/cli_store.h"

#include <stdio.h>
#include <string.h>

static int cli_help(int argc, char **argv);
/* src/cli/cli_eab.c */
cli_fn cli_eab_add, cli_eab_list, cli_eab_remove;
int cli_ca_init(int argc, char **argv);   /* cli_ca.c */
int cli_ca_show(int argc, char **argv);   /* cli_ca.c */
int cli_ca_import(int argc, char **argv); /* cli_ca.c */

/* One row per command; each noun's verbs live in src/cli/cli_<noun>.c. */
static const struct cli_command cli_commands[] = {
    { "help", "", "list the admin commands", cli_help },
    { "eab", "add", "add an EAB key id (KID [--key B64URL]; generated if absent)", cli_eab_add },
    { "eab", "list", "list EAB key ids (config and database) and their accounts", cli_eab_list },
    { "eab", "remove", "remove an EAB key id from the database (KID)", cli_eab_remove },
    { "accounts", "list", "accounts with their order and certificate counts",
      cli_accounts_list },
    { "accounts", "show", "ID: one account, its contact and key", cli_accounts_show },
    { "accounts", "deactivate", "ID: deactivate an account", cli_accounts_deactivate },
    { "certs", "list", "issued certificates [--account ID]", cli_certs_list },
    { "certs", "show", "SERIAL: one certificate with its names and PEM", cli_certs_show },
    { "certs", "revoke", "SERIAL [--reason N]: revoke a certificate", cli_certs_revoke },
    { "db", "backup", "FILE: consistent online copy of the database", cli_db_backup },
    { "db", "check", "integrity check and state invariants", cli_db_check },
    { "ca", "init", "create the CA hierarchy in the state directory (no daemon)", cli_ca_init },
    { "ca", "show", "print every CA certificate: subject, SHA-256, key, expiry [--json]",
      cli_ca_show },
    { "ca", "import", "adopt a root or intermediate: --cert F --key F [--chain F] [--force]",
      cli_ca_import },
};

static int
cli_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("usage: cairn [daemon flags]        run the ACME server (see cairn -help)\n"
           "       cairn <noun> <verb> [-config FILE] [--state-dir DIR] [--json] ...\n\n");
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(cli_commands); i++)
        printf("  %-8s %-10s %s\n", cli_commands[i].noun, cli_commands[i].verb,
               cli_commands[i].summary);
    return 0;
}

int
cli_dispatch(int argc, char **argv, bool *handled)
{
    const char *noun = argc > 1 ? argv[1] : "";
    const char *verb = argc > 2 ? argv[2] : "";
    bool noun_known = false;

    *handled = false;
    if (noun[0] == '\0' || noun[0] == '-')
        return 0;
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(cli_commands); i++) {
        const struct cli_command *c = &cli_commands[i];
        if (strcmp(c->noun, noun) != 0)
            continue;
        noun_known = true;
        if (c->verb[0] == '\0' || strcmp(c->verb, verb) == 0) {
            *handled = true;
            return c->verb[0] ? c->run(argc - 2, argv + 2) : c->run(argc - 1, argv + 1);
        }
    }
    *handled = true;
    if (noun_known)
        fprintf(stderr, "cairn: unknown command \"%s %s\"; see cairn help\n", noun, verb);
    else
        fprintf(stderr, "cairn: unknown command \"%s\"; see cairn help\n", noun);
    return 2;
}

bool
cli_take_flag(int *argc, char **argv, const char *flag)
{
    bool found = false;
    int o = 0;

    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], flag) == 0) {
            found = true;
            continue;
        }
        argv[o++] = argv[i];
    }
    *argc = o;
    argv[o] = NULL;
    return found;
}

int
cli_load_config(int argc, char **argv, struct config *cfg)
{
    bool want_exit = false;

    /* argv[0] is the verb, which getopt skips like a program name */
    if (config_load(argc, argv, cfg, &want_exit) != CAIRN_OK || want_exit)
        return CAIRN_ERR_INVAL;
    return CAIRN_OK;
}
