/* Pebble compatibility of the configuration (PROTOCOL.md §7): names matched the way Go's
 * encoding/json matches Pebble's struct fields, and Pebble's clipping of
 * PEBBLE_WFE_NONCEREJECT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/config.h"

static char cfg_path[64];

static void
write_config(const char *text)
{
    FILE *f;

    snprintf(cfg_path, sizeof(cfg_path), "/tmp/cairn-test-pconfig-%d.json", (int)getpid());
    f = fopen(cfg_path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int
teardown(void **state)
{
    (void)state;
    unlink(cfg_path);
    unsetenv("PEBBLE_WFE_NONCEREJECT");
    return 0;
}

static int
load(struct config *cfg, const char *a1, const char *a2)
{
    char *argv[] = { "cairn", (char *)a1, (char *)a2, NULL };
    bool want_exit;

    return config_load(a1 ? 3 : 1, argv, cfg, &want_exit);
}

static void
test_section_name_any_case(void **state)
{
    struct config cfg;

    (void)state;
    write_config("{\"Pebble\":{\"LISTENADDRESS\":\"127.0.0.1:24000\",\"HttpPort\":5555,"
                 "\"managementListenAddress\":null,"
                 "\"RetryAfter\":{\"Authz\":7,\"ORDER\":9}}}");
    assert_int_equal(load(&cfg, "-config", cfg_path), CAIRN_OK);
    assert_false(cfg.ca_mode);
    assert_string_equal(cfg.listen, "127.0.0.1:24000");
    assert_int_equal(cfg.http_port, 5555);
    assert_string_equal(cfg.mgmt_listen, ""); /* null disables the management listener */
    assert_int_equal(cfg.retry_after_authz, 7);
    assert_int_equal(cfg.retry_after_order, 9);
    /* the exact name wins over a case variant */
    write_config("{\"PEBBLE\":{\"httpPort\":1111},\"pebble\":{\"httpPort\":2222}}");
    assert_int_equal(load(&cfg, "-config", cfg_path), CAIRN_OK);
    assert_int_equal(cfg.http_port, 2222);
    /* a section that is not an object is an error, not silently ignored */
    write_config("{\"pebble\":\"0.0.0.0:14000\"}");
    assert_int_equal(load(&cfg, "-config", cfg_path), CAIRN_ERR_INVAL);
    write_config("{\"pebble\":null}");
    assert_int_equal(load(&cfg, "-config", cfg_path), CAIRN_OK);
}

static void
test_nonce_reject_clipping(void **state)
{
    static const struct {
        const char *value;
        int want;
    } cases[] = { { "100", 100 }, { "101", 99 }, { "250", 99 }, { "-3", 0 }, { "5", 5 },
                  { "0", 0 }, { "x", 0 } };
    struct config cfg;

    (void)state;
    write_config("{\"pebble\":{}}");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setenv("PEBBLE_WFE_NONCEREJECT", cases[i].value, 1);
        assert_int_equal(load(&cfg, "-config", cfg_path), CAIRN_OK);
        if (cfg.nonce_reject_percent != cases[i].want)
            fail_msg("PEBBLE_WFE_NONCEREJECT=%s gave %d, want %d", cases[i].value,
                     cfg.nonce_reject_percent, cases[i].want);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_section_name_any_case, teardown),
        cmocka_unit_test_teardown(test_nonce_reject_clipping, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
