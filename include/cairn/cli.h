/* cli.h - the admin commands of the one cairn binary: `cairn <noun> <verb> [options]`.
 *
 * Each command is a row in the table in src/cli/cli.c pointing at a cli_fn in its own file
 * (src/cli/cli_<noun>.c). Commands print for humans by default and JSON with --json. They use
 * the same configuration as the daemon (-config FILE, --state-dir DIR, CAIRN_* variables). */
#ifndef CAIRN_CLI_H
#define CAIRN_CLI_H

#include <stdbool.h>

#include "cairn/config.h"

/* argv[0] is the verb; options follow. Returns the process exit code. */
typedef int cli_fn(int argc, char **argv);

struct cli_command {
    const char *noun;
    const char *verb;
    const char *summary; /* one line for `cairn help` */
    cli_fn *run;
};

/* When argv[1] names a command noun: runs it, sets *handled and returns its exit code. */
int cli_dispatch(int argc, char **argv, bool *handled);

/* Loads the configuration for a command from its options (the daemon's flags: -config,
 * --state-dir, ...); options the command understands itself must be removed first. Returns
 * CAIRN_OK or CAIRN_ERR_INVAL (message printed). */
int cli_load_config(int argc, char **argv, struct config *cfg) CAIRN_MUST_CHECK;

/* True when "--json" is among argv; removes it (argv is compacted, *argc updated). */
bool cli_take_flag(int *argc, char **argv, const char *flag);

#endif
