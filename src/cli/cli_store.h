/* cli_store.h - shared plumbing of the admin commands that read the state store
 * (accounts, certs, db): options, opening the store, printing. */
#ifndef CAIRN_CLI_STORE_H
#define CAIRN_CLI_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "cairn/cli.h"
#include "cairn/config.h"
#include "cairn/store.h"

struct cli_ctx {
    struct config cfg;
    struct store *st;
    bool json;
    char *pos[2]; /* positional arguments in order; NULL when absent */
    char *account; /* --account ID */
    char *reason;  /* --reason N */
};

/* Parses argv (argv[0] is the verb): takes --json, --account, --reason and up to two
 * positional arguments out, loads the configuration from the rest and opens the store in the
 * configured state directory. Returns 0 or the exit code to return (message printed). */
int cli_store_open(int argc, char **argv, struct cli_ctx *x);
void cli_store_close(struct cli_ctx *x);
/* Prints o as indented JSON on stdout and releases it. Returns 0, or 1 when o is NULL. */
int cli_print_json(json_t *o);
/* "2026-01-31 12:00:00Z"; "-" for 0. */
void cli_time(int64_t t, char *out, size_t outsz);
/* Message for a store error; returns the exit code (1). */
int cli_store_err(const char *what, int rc);

/* The commands (rows in cli.c). */
cli_fn cli_accounts_list, cli_accounts_show, cli_accounts_deactivate;
cli_fn cli_certs_list, cli_certs_show, cli_certs_revoke;
cli_fn cli_db_backup, cli_db_check;

#endif
