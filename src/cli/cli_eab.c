/* cli_eab.c - `cairn eab add|list|remove`: External Account Binding MAC keys kept in the
 * database, for a lab that hands out key ids without editing the config file. Keys from the
 * config (externalAccountMACKeys) stay valid too; the same key id in both: the config wins.
 * A key is printed once, when it is generated; never by list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "cairn/b64url.h"
#include "cairn/cli.h"
#include "cairn/rand.h"
#include "cairn/store.h"

#define EAB_GENERATED_KEY 32 /* bytes: HS256's natural key size */
#define EAB_LIST_MAX 10000

cli_fn cli_eab_add, cli_eab_list, cli_eab_remove;

/* Removes "--name VALUE" (or "--name=VALUE") from argv; *value borrows from argv. */
static bool
take_opt(int *argc, char **argv, const char *name, const char **value)
{
    size_t n = strlen(name);
    bool found = false;
    int o = 0;

    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], name) == 0 && i + 1 < *argc) {
            *value = argv[++i];
            found = true;
            continue;
        }
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') {
            *value = argv[i] + n + 1;
            found = true;
            continue;
        }
        argv[o++] = argv[i];
    }
    *argc = o;
    argv[o] = NULL;
    return found;
}

/* The first positional argument after the verb (a key id), removed from argv. */
static const char *
take_positional(int *argc, char **argv)
{
    const char *v;

    if (*argc < 2 || argv[1][0] == '-')
        return NULL;
    v = argv[1];
    for (int i = 1; i < *argc; i++)
        argv[i] = argv[i + 1];
    (*argc)--;
    return v;
}

static int
open_store(int argc, char **argv, struct config *cfg, struct store **st)
{
    char path[CAIRN_CONF_PATH + 32];

    if (cli_load_config(argc, argv, cfg) != CAIRN_OK)
        return CAIRN_ERR_INVAL;
    if (cfg->state_dir[0] == '\0') {
        fprintf(stderr, "cairn eab: EAB keys live in the state directory; give --state-dir DIR "
                        "or a config with stateDir (test mode without one keeps nothing)\n");
        return CAIRN_ERR_INVAL;
    }
    snprintf(path, sizeof(path), "%s/cairn.db", cfg->state_dir);
    if (store_open(path, cfg->ca_mode, st) != CAIRN_OK) {
        fprintf(stderr, "cairn eab: cannot open the database %s\n", path);
        return CAIRN_ERR_IO;
    }
    return CAIRN_OK;
}

static bool
kid_ok(const char *kid)
{
    size_t n = strlen(kid);

    return n > 0 && n <= CAIRN_MAX_EAB_KID_LEN && strcspn(kid, "\"\\\r\n\t ") == n;
}

/* The key given with --key (base64url, padding tolerated) or a new random one. */
static int
get_key(const char *text, uint8_t *key, size_t *len, bool *generated)
{
    uint8_t *dec = NULL;
    size_t n, dlen = 0;

    *generated = text == NULL;
    if (text == NULL) {
        *len = EAB_GENERATED_KEY;
        return rand_bytes(key, EAB_GENERATED_KEY);
    }
    n = strlen(text);
    while (n > 0 && text[n - 1] == '=')
        n--;
    if (b64url_decode(text, n, &dec, &dlen) != CAIRN_OK || dlen == 0 ||
        dlen > CAIRN_MAX_EAB_KEY) {
        if (dec != NULL) {
            OPENSSL_cleanse(dec, dlen);
            free(dec);
        }
        return CAIRN_ERR_INVAL;
    }
    memcpy(key, dec, dlen);
    *len = dlen;
    OPENSSL_cleanse(dec, dlen);
    free(dec);
    return CAIRN_OK;
}

static int
print_added(const char *kid, const uint8_t *key, size_t len, bool generated, bool json)
{
    char *b64 = generated ? b64url_encode_alloc(key, len) : NULL;

    if (generated && b64 == NULL)
        return 1;
    if (json) {
        json_t *o = json_pack("{s:s}", "kid", kid);
        char *text;

        if (b64 != NULL)
            json_object_set_new(o, "key", json_string(b64));
        text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        printf("%s\n", text ? text : "{}");
        free(text);
        json_decref(o);
    } else {
        printf("added EAB key id %s\n", kid);
        if (b64 != NULL)
            printf("key (base64url, shown only now): %s\n", b64);
    }
    if (b64 != NULL) {
        OPENSSL_cleanse(b64, strlen(b64));
        free(b64);
    }
    return 0;
}

int
cli_eab_add(int argc, char **argv)
{
    struct config cfg;
    struct store *st = NULL;
    uint8_t key[CAIRN_MAX_EAB_KEY];
    const char *kid = NULL, *keytext = NULL;
    size_t len = 0;
    bool json = cli_take_flag(&argc, argv, "--json"), generated = false;
    int rc, code = 1;

    take_opt(&argc, argv, "--kid", &kid);
    take_opt(&argc, argv, "--key", &keytext);
    if (kid == NULL)
        kid = take_positional(&argc, argv);
    if (kid == NULL || !kid_ok(kid)) {
        fprintf(stderr, "usage: cairn eab add KID [--key BASE64URL] [--json] "
                        "[-config FILE] [--state-dir DIR]\n"
                        "KID: 1 to %d printable characters without spaces or quotes\n",
                CAIRN_MAX_EAB_KID_LEN);
        return 2;
    }
    if (get_key(keytext, key, &len, &generated) != CAIRN_OK) {
        fprintf(stderr, "cairn eab add: --key must be base64url of 1 to %d bytes\n",
                CAIRN_MAX_EAB_KEY);
        return 2;
    }
    if (open_store(argc, argv, &cfg, &st) != CAIRN_OK)
        goto out;
    if (config_eab_key_find(&cfg, kid) != NULL)
        fprintf(stderr, "warning: key id %s is also in the config file "
                        "(externalAccountMACKeys); the config's key wins\n", kid);
    rc = store_eab_key_put(st, kid, key, len, (int64_t)time(NULL));
    if (rc == CAIRN_ERR_CONFLICT)
        fprintf(stderr, "cairn eab add: key id %s exists; remove it first\n", kid);
    else if (rc != CAIRN_OK)
        fprintf(stderr, "cairn eab add: cannot store the key (error %d)\n", rc);
    else
        code = print_added(kid, key, len, generated, json);
out:
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(&cfg, sizeof(cfg));
    store_close(st);
    return code;
}

static json_t *
list_entry(struct store *st, const char *kid, const char *source, int64_t created)
{
    int64_t bound = 0;
    json_t *o;

    if (store_eab_kid_accounts(st, kid, &bound) != CAIRN_OK)
        bound = -1;
    o = json_pack("{s:s, s:s, s:I}", "kid", kid, "source", source, "accounts", (json_int_t)bound);
    if (o != NULL && created > 0)
        json_object_set_new(o, "createdAt", json_integer(created));
    return o;
}

static void
print_list(json_t *arr, bool json)
{
    size_t i;
    json_t *e;
    char *text;

    if (json) {
        text = json_dumps(arr, JSON_COMPACT);
        printf("%s\n", text ? text : "[]");
        free(text);
        return;
    }
    printf("%-40s %-8s %s\n", "KID", "SOURCE", "ACCOUNTS");
    json_array_foreach(arr, i, e)
        printf("%-40s %-8s %lld\n", json_string_value(json_object_get(e, "kid")),
               json_string_value(json_object_get(e, "source")),
               (long long)json_integer_value(json_object_get(e, "accounts")));
}

int
cli_eab_list(int argc, char **argv)
{
    char (*kids)[CAIRN_MAX_EAB_KID_LEN + 1] = calloc(EAB_LIST_MAX, sizeof(*kids));
    int64_t *created = calloc(EAB_LIST_MAX, sizeof(*created));
    struct config cfg;
    struct store *st = NULL;
    json_t *arr = json_array();
    bool json = cli_take_flag(&argc, argv, "--json");
    size_t n = 0;
    int code = 1;

    if (kids == NULL || created == NULL || arr == NULL ||
        open_store(argc, argv, &cfg, &st) != CAIRN_OK)
        goto out;
    for (int i = 0; i < cfg.neab_keys; i++)
        json_array_append_new(arr, list_entry(st, cfg.eab_keys[i].kid, "config", 0));
    if (store_eab_key_list(st, EAB_LIST_MAX, kids, created, &n) != CAIRN_OK) {
        fprintf(stderr, "cairn eab list: cannot read the keys\n");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, list_entry(st, kids[i],
                                              config_eab_key_find(&cfg, kids[i]) ? "shadowed"
                                                                                 : "db",
                                              created[i]));
    print_list(arr, json);
    code = 0;
    OPENSSL_cleanse(&cfg, sizeof(cfg));
out:
    json_decref(arr);
    free(kids);
    free(created);
    store_close(st);
    return code;
}

int
cli_eab_remove(int argc, char **argv)
{
    struct config cfg;
    struct store *st = NULL;
    const char *kid = NULL;
    int rc, code = 1;

    take_opt(&argc, argv, "--kid", &kid);
    if (kid == NULL)
        kid = take_positional(&argc, argv);
    if (kid == NULL) {
        fprintf(stderr, "usage: cairn eab remove KID [-config FILE] [--state-dir DIR]\n");
        return 2;
    }
    if (open_store(argc, argv, &cfg, &st) != CAIRN_OK)
        goto out;
    rc = store_eab_key_delete(st, kid);
    if (rc == CAIRN_ERR_NOTFOUND) {
        fprintf(stderr, "cairn eab remove: no key id %s in the database%s\n", kid,
                config_eab_key_find(&cfg, kid) ? " (it is in the config file)" : "");
    } else if (rc != CAIRN_OK) {
        fprintf(stderr, "cairn eab remove: cannot delete the key (error %d)\n", rc);
    } else {
        printf("removed EAB key id %s; accounts already bound with it stay valid\n", kid);
        code = 0;
    }
    OPENSSL_cleanse(&cfg, sizeof(cfg));
out:
    store_close(st);
    return code;
}
