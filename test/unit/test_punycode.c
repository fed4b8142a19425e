/* test_punycode.c - the Punycode round trip behind xn-- A-label checks (RFC 3492). Expected
 * encodings come from Python's punycode codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/punycode.h"

#define OK(s) assert_true(punycode_alabel_ok((s), strlen(s)))
#define BAD(s) assert_false(punycode_alabel_ok((s), strlen(s)))

static void
test_valid_alabels(void **state)
{
    (void)state;
    OK("bcher-kva");   /* bücher */
    OK("mnchen-3ya");  /* münchen */
    OK("fiqs8s");      /* 中国 */
    OK("zca");         /* ß: PVALID in IDNA2008 */
    OK("wgv71a119e");  /* 日本語 */
    OK("x-iv3s");      /* 😀x */
    OK("a--b-1ra");    /* a-ü-b: the last '-' delimits */
}

static void
test_invalid_alabels(void **state)
{
    (void)state;
    BAD("");
    BAD("zz");          /* incomplete variable-length integer */
    BAD("a");           /* decodes to U+0080, a C1 control */
    BAD("abc-");        /* nothing but ASCII: not an A-label */
    BAD("bcher-kva0");  /* trailing incomplete digit */
    BAD("99999999999"); /* overflows */
    BAD("BCHER-KVA");   /* upper case never reaches here; refused all the same */
    BAD("bcher-kv!");   /* not a Punycode digit */
    BAD("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"); /* 65 > 63 */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_alabels),
        cmocka_unit_test(test_invalid_alabels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
