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

    snprintf(cfg_path, sizeof(cfg_path), "/tmp/cairn-test-config-%d.json", (int)getpid());
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
    unsetenv("PEBBLE_VA_ALWAYS_VALID");
    unsetenv("PEBBLE_CHAIN_LENGTH");
    unsetenv("PEBBLE_WFE_NONCEREJECT");
    unsetenv("CAIRN_STATE_DIR");
    return 0;
}

static int
load(struct config *cfg, const char *a1, const char *a2, const char *a3, const char *a4)
{
    char *argv[] = { "cairn", (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL };
    int argc = 1;
    bool want_exit;

    while (argc < 5 && argv[argc] != NULL)
        argc++;
    return config_load(argc, argv, cfg, &want_exit);
}

static void
test_pebble_file(void **state)
{
    struct config cfg;

    (void)state;
    write_config("{\"pebble\":{\"ListenAddress\":\"0.0.0.0:14001\",\"httpPort\":5555,"
                 "\"tlsPort\":5556,\"unknownKey\":1,\"externalAccountBindingRequired\":true}}");
    assert_int_equal(load(&cfg, "-config", cfg_path, "-dnsserver", "127.0.0.1:8053"), CAIRN_OK);
    assert_false(cfg.ca_mode);
    assert_string_equal(cfg.listen, "0.0.0.0:14001"); /* keys match case-insensitively */
    assert_int_equal(cfg.http_port, 5555);
    assert_int_equal(cfg.tls_port, 5556);
    assert_true(cfg.eab_required);
    assert_string_equal(cfg.dns_server, "127.0.0.1:8053");
    assert_string_equal(cfg.mgmt_listen, "127.0.0.1:15000");
}

static void
test_cairn_keys_strict(void **state)
{
    struct config cfg;

    (void)state;
    write_config("{\"cairn\":{\"stateDirr\":\"/tmp/x\"}}");
    assert_int_equal(load(&cfg, "-config", cfg_path, NULL, NULL), CAIRN_ERR_INVAL);
    write_config("{\"cairn\":{\"mode\":\"ca\",\"stateDir\":\"/tmp/x\"}}");
    assert_int_equal(load(&cfg, "--config", cfg_path, NULL, NULL), CAIRN_OK);
    assert_true(cfg.ca_mode);
    assert_int_equal(cfg.http_port, 80);
    assert_string_equal(cfg.state_dir, "/tmp/x");
    write_config("{\"pebble\":{\"httpPort\":\"x\"}}");
    assert_int_equal(load(&cfg, "-config", cfg_path, NULL, NULL), CAIRN_ERR_INVAL);
    write_config("{\"pebble\":{\"httpPort\":1,\"httpPort\":2}}");
    assert_int_equal(load(&cfg, "-config", cfg_path, NULL, NULL), CAIRN_ERR_INVAL);
}

static void
test_env_precedence(void **state)
{
    struct config cfg;

    (void)state;
    write_config("{\"pebble\":{}}");
    setenv("PEBBLE_VA_ALWAYS_VALID", "1", 1);
    setenv("PEBBLE_WFE_NONCEREJECT", "250", 1);
    setenv("CAIRN_STATE_DIR", "/tmp/from-env", 1);
    assert_int_equal(load(&cfg, "-config", cfg_path, NULL, NULL), CAIRN_OK);
    assert_true(cfg.always_valid);
    assert_int_equal(cfg.nonce_reject_percent, 99);
    assert_string_equal(cfg.state_dir, "/tmp/from-env");
    /* a flag beats the variable */
    assert_int_equal(load(&cfg, "-config", cfg_path, "-state-dir", "/tmp/from-flag"), CAIRN_OK);
    assert_string_equal(cfg.state_dir, "/tmp/from-flag");
    /* CA mode ignores PEBBLE_* */
    write_config("{\"cairn\":{\"mode\":\"ca\"}}");
    assert_int_equal(load(&cfg, "-config", cfg_path, NULL, NULL), CAIRN_OK);
    assert_false(cfg.always_valid);
}

static void
test_chain_length(void **state)
{
    struct config cfg;

    (void)state;
    setenv("PEBBLE_CHAIN_LENGTH", "3", 1);
    assert_int_equal(load(&cfg, NULL, NULL, NULL, NULL), CAIRN_OK);
    assert_int_equal(cfg.chain_length, 3);
    setenv("PEBBLE_CHAIN_LENGTH", "0", 1);
    assert_int_equal(load(&cfg, NULL, NULL, NULL, NULL), CAIRN_ERR_INVAL);
}

/* "cairn": {"limits": {...}} (PROTOCOL.md §6): defaults, overrides, strict keys and ranges. */
static void
test_limits(void **state)
{
    struct config cfg;

    (void)state;
    write_config("{\"pebble\":{}}");
    assert_int_equal(load(&cfg, "-config", cfg_path, NULL, NULL), CAIRN_OK);
    assert_int_equal(cfg.max_body, 65536);
    assert_int_equal(cfg.max_connections, 1024);
    assert_int_equal(cfg.max_per_ip, 64);
    assert_int_equal(cfg.idle_timeout, 30);
    assert_int_equal(cfg.body_timeout, 30);
    write_config("{\"cairn\":{\"limits\":{\"maxBody\":4096,\"connections\":10,"
                 "\"perIPConnections\":0,\"idleTimeout\":5,\"bodyTimeout\":7}}}");
    assert_int_equal(load(&cfg, "-config", cfg_path, NULL, NULL), CAIRN_OK);
    assert_int_equal(cfg.max_body, 4096);
    assert_int_equal(cfg.max_connections, 10);
    assert_int_equal(cfg.max_per_ip, 0);
    assert_int_equal(cfg.idle_timeout, 5);
    assert_int_equal(cfg.body_timeout, 7);
    write_config("{\"cairn\":{\"limits\":{\"maxbody\":4096}}}");
    assert_int_equal(load(&cfg, "-config", cfg_path, NULL, NULL), CAIRN_ERR_INVAL);
    write_config("{\"cairn\":{\"limits\":{\"maxBody\":100}}}");
    assert_int_equal(load(&cfg, "-config", cfg_path, NULL, NULL), CAIRN_ERR_INVAL);
    write_config("{\"cairn\":{\"limits\":{\"idleTimeout\":0}}}");
    assert_int_equal(load(&cfg, "-config", cfg_path, NULL, NULL), CAIRN_ERR_INVAL);
    write_config("{\"cairn\":{\"limits\":[]}}");
    assert_int_equal(load(&cfg, "-config", cfg_path, NULL, NULL), CAIRN_ERR_INVAL);
}

/* The input limits of limits.*: defaults, overrides, and ranges (the limits.h constants are
 * the upper bounds). */
static void
test_input_limits(void **state)
{
    static const struct {
        const char *key;
        int min, max;
    } ranges[] = {
        { "maxJsonDepth", 3, 32 },         { "maxJsonString", 4096, 1048576 },
        { "maxIdentifiersPerOrder", 1, 100 }, { "maxContacts", 1, 10 },
        { "maxRequestTarget", 256, 8192 }, { "maxHeaderField", 256, 8192 },
        { "maxHeaderTotal", 1024, 16384 }, { "maxHeaderFields", 8, 100 },
    };
    struct config cfg;
    char text[160];

    (void)state;
    write_config("{\"pebble\":{}}");
    assert_int_equal(load(&cfg, "-config", cfg_path, NULL, NULL), CAIRN_OK);
    assert_int_equal(cfg.max_json_depth, 32);
    assert_int_equal(cfg.max_json_string, 45056);
    assert_int_equal(cfg.max_idents, 100);
    assert_int_equal(cfg.max_contacts, 10);
    assert_int_equal(cfg.max_request_target, 8192);
    assert_int_equal(cfg.max_header_field, 8192);
    assert_int_equal(cfg.max_header_total, 16384);
    assert_int_equal(cfg.max_header_fields, 100);
    write_config("{\"cairn\":{\"limits\":{\"maxJsonDepth\":4,\"maxJsonString\":5000,"
                 "\"maxIdentifiersPerOrder\":2,\"maxContacts\":1,\"maxRequestTarget\":512,"
                 "\"maxHeaderField\":300,\"maxHeaderTotal\":2000,\"maxHeaderFields\":20}}}");
    assert_int_equal(load(&cfg, "-config", cfg_path, NULL, NULL), CAIRN_OK);
    assert_int_equal(cfg.max_json_depth, 4);
    assert_int_equal(cfg.max_json_string, 5000);
    assert_int_equal(cfg.max_idents, 2);
    assert_int_equal(cfg.max_contacts, 1);
    assert_int_equal(cfg.max_request_target, 512);
    assert_int_equal(cfg.max_header_field, 300);
    assert_int_equal(cfg.max_header_total, 2000);
    assert_int_equal(cfg.max_header_fields, 20);
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        const int ok[] = { ranges[i].min, ranges[i].max };
        const int bad[] = { ranges[i].min - 1, ranges[i].max + 1 };

        for (int j = 0; j < 2; j++) {
            snprintf(text, sizeof(text), "{\"cairn\":{\"limits\":{\"%s\":%d}}}",
                     ranges[i].key, ok[j]);
            write_config(text);
            assert_int_equal(load(&cfg, "-config", cfg_path, NULL, NULL), CAIRN_OK);
            snprintf(text, sizeof(text), "{\"cairn\":{\"limits\":{\"%s\":%d}}}",
                     ranges[i].key, bad[j]);
            write_config(text);
            assert_int_equal(load(&cfg, "-config", cfg_path, NULL, NULL), CAIRN_ERR_INVAL);
        }
    }
    write_config("{\"cairn\":{\"limits\":{\"maxContacts\":\"5\"}}}");
    assert_int_equal(load(&cfg, "-config", cfg_path, NULL, NULL), CAIRN_ERR_INVAL);
}

static void
test_bad_flags(void **state)
{
    struct config cfg;

    (void)state;
    assert_int_equal(load(&cfg, "-nosuchflag", NULL, NULL, NULL), CAIRN_ERR_INVAL);
    assert_int_equal(load(&cfg, "stray", NULL, NULL, NULL), CAIRN_ERR_INVAL);
    assert_int_equal(load(&cfg, "--log-level", "loud", NULL, NULL), CAIRN_ERR_INVAL);
    assert_int_equal(load(&cfg, "-config", "/nonexistent/cairn.json", NULL, NULL),
                     CAIRN_ERR_INVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_pebble_file, teardown),
        cmocka_unit_test_teardown(test_cairn_keys_strict, teardown),
        cmocka_unit_test_teardown(test_env_precedence, teardown),
        cmocka_unit_test_teardown(test_chain_length, teardown),
        cmocka_unit_test_teardown(test_bad_flags, teardown),
        cmocka_unit_test_teardown(test_limits, teardown),
        cmocka_unit_test_teardown(test_input_limits, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
