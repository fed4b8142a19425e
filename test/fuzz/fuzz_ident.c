/* fuzz_ident.c - identifier validation. The input is lines of "type value" (the first
 * byte's low bit picks test or CA policy); each pair goes through ident_check(), then all
 * together through ident_list_check(). What ident_check() accepts must be stable: its
 * normalised value is accepted again unchanged. */
#include <stdlib.h>
#include <string.h>

#include "cairn/ident.h"
#include "fuzz.h"

#define MAX_PAIRS 128

static void
check_one(const char *type, const char *value, const struct ident_policy *pol)
{
    struct ident a, b;
    struct problem p;

    problem_init(&p);
    if (ident_check(type, value, pol, &a, &p) == CAIRN_OK) {
        char rev[128];
        problem_cleanup(&p);
        problem_init(&p);
        if (ident_check(type, a.value, pol, &b, &p) != CAIRN_OK || strcmp(a.value, b.value))
            abort(); /* normalisation is not idempotent */
        if (a.type == IDENT_IP)
            (void)ident_reverse_name(&a, rev, sizeof(rev));
    }
    problem_cleanup(&p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *types[MAX_PAIRS], *values[MAX_PAIRS];
    struct ident *out;
    struct ident_policy pol = { .ca_mode = size > 0 && (data[0] & 1) };
    struct problem p;
    char *buf = fuzz_strndup(data, size), *save = NULL, *line;
    size_t n = 0, nout = 0;

    for (line = strtok_r(buf, "\n", &save); line != NULL && n < MAX_PAIRS;
         line = strtok_r(NULL, "\n", &save)) {
        char *sp = strchr(line, ' ');
        if (sp == NULL)
            continue;
        *sp = '\0';
        types[n] = line;
        values[n] = sp + 1;
        check_one(types[n], values[n], &pol);
        n++;
    }
    out = calloc(n ? n : 1, sizeof(*out));
    if (out == NULL)
        abort();
    problem_init(&p);
    (void)ident_list_check(types, values, n, &pol, out, &nout, &p);
    if (nout > n)
        abort();
    problem_cleanup(&p);
    free(out);
    free(buf);
    return 0;
}
