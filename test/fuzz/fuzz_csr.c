/* fuzz_csr.c - csr_check() on arbitrary DER against a fixed two-name order, under both the
 * account-like policy (P-521, Ed25519) and the default CSR policy. */
#include "cairn/csr.h"
#include "fuzz.h"

static struct ident order_idents[3] = {
    { IDENT_DNS, false, "example.com" },
    { IDENT_DNS, true, "*.example.net" },
    { IDENT_IP, false, "192.0.2.7" },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct key_policy pols[2] = { { false, false }, { true, true } };

    for (size_t i = 0; i < 2; i++) {
        struct csr c = { 0 };
        struct problem p;

        problem_init(&p);
        (void)csr_check(data, size, order_idents, 1 + (size % 3), &pols[i], &c, &p);
        csr_cleanup(&c);
        problem_cleanup(&p);
    }
    return 0;
}
