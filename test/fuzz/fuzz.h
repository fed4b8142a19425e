/* fuzz.h - shared declarations of the libFuzzer targets (test/fuzz/fuzz_*.c). */
#ifndef CAIRN_FUZZ_H
#define CAIRN_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated heap copy of the input (the C APIs take strings); aborts on no memory. */
char *fuzz_strndup(const uint8_t *data, size_t size);

#endif
