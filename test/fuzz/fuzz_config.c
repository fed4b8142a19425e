/* fuzz_config.c - the config file parser, config_parse_file(), fed through a memfd so the
 * parser runs unchanged on exactly the fuzzer's bytes. Starts from both modes' defaults. */
#define _GNU_SOURCE /* memfd_create */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sys/mman.h>

#include "cairn/config.h"
#include "cairn/log.h"
#include "fuzz.h"

static int memfd = -1;
static char path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    memfd = memfd_create("cairn-fuzz-config", MFD_CLOEXEC);
    if (memfd < 0)
        abort();
    snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
    log_set_level(LOG_LVL_ERR); /* unknown pebble keys warn once per input otherwise */
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct config cfg;
    char err[512];

    if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
        abort();
    for (int ca = 0; ca < 2; ca++) {
        config_defaults(&cfg, ca == 1);
        (void)config_parse_file(path, &cfg, err, sizeof(err));
    }
    return 0;
}
