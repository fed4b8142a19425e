/* config_proto.c - configuration of the protocol features: certificate profiles
 * (draft-ietf-acme-profiles, Pebble's `profiles`) and EAB MAC keys (`externalAccountMACKeys`).
 * PROTOCOL.md §7 "Config keys". */
#include "cairn/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "cairn/b64url.h"
#include "cairn/log.h"

#define DEFAULT_PROFILE "default"

/* Profile names travel in orders and URLs: keep them to a safe alphabet. */
static bool
profile_name_ok(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && n <= CAIRN_CONF_PROFILE_NAME &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

static int
profile_member(struct config_profile *pr, const char *k, const json_t *v, bool strict,
               char *err, size_t errsz)
{
    if (strcasecmp(k, "description") == 0) {
        if (!json_is_string(v) || json_string_length(v) >= sizeof(pr->description))
            return cairn_err_inval(err, errsz,
                                   "config: profiles.%s.description must be a string", pr->name);
        snprintf(pr->description, sizeof(pr->description), "%s", json_string_value(v));
    } else if (strcasecmp(k, "validityPeriod") == 0) {
        /* at most 100 years: keeps notAfter arithmetic far from overflow */
        if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
            json_integer_value(v) > 100LL * 366 * 86400)
            return cairn_err_inval(err, errsz,
                                   "config: profiles.%s.validityPeriod must be a positive "
                                   "number of seconds", pr->name);
        pr->validity = json_integer_value(v);
    } else if (strcasecmp(k, "promoteCommonName") == 0) {
        if (!json_is_boolean(v))
            return cairn_err_inval(err, errsz, "config: profiles.%s.promoteCommonName must be a "
                                         "boolean", pr->name);
        pr->promote_cn = json_is_true(v);
    } else if (strict) {
        return cairn_err_inval(err, errsz, "config: unknown key \"profiles.%s.%s\"", pr->name, k);
    } else {
        log_warn("conf", "profile %s: ignoring unsupported member %s", pr->name, k);
    }
    return CAIRN_OK;
}

int
config_parse_profiles(struct config *cfg, const json_t *v, bool strict, char *err, size_t errsz)
{
    const char *name, *k;
    const json_t *body, *mv;
    int n = 0, rc = CAIRN_OK;

    if (!json_is_object(v) || json_object_size(v) == 0)
        return cairn_err_inval(err, errsz, "config: profiles must be a non-empty object");
    if (json_object_size(v) > CAIRN_CONF_MAX_PROFILES)
        return cairn_err_inval(err, errsz, "config: at most %d profiles", CAIRN_CONF_MAX_PROFILES);
    memset(cfg->profiles, 0, sizeof(cfg->profiles));
    json_object_foreach((json_t *)v, name, body) {
        struct config_profile *pr = &cfg->profiles[n];

        if (!profile_name_ok(name))
            return cairn_err_inval(err, errsz, "config: profile name \"%.64s\" must be 1 to %d of "
                                         "[A-Za-z0-9._-]", name, CAIRN_CONF_PROFILE_NAME);
        if (!json_is_object(body))
            return cairn_err_inval(err, errsz, "config: profiles.%s must be an object", name);
        snprintf(pr->name, sizeof(pr->name), "%s", name);
        pr->validity = cfg->validity;
        json_object_foreach((json_t *)body, k, mv)
            if (rc == CAIRN_OK)
                rc = profile_member(pr, k, mv, strict, err, errsz);
        if (rc != CAIRN_OK)
            return rc;
        if (pr->description[0] == '\0')
            snprintf(pr->description, sizeof(pr->description), "The %s profile", name);
        n++;
    }
    cfg->nprofiles = n;
    return CAIRN_OK;
}

/* Pebble's keys are base64url; a padded form is accepted too. */
static int
decode_mac_key(const char *kid, const char *text, struct config_eab_key *out, char *err,
               size_t errsz)
{
    size_t n = strlen(text);
    uint8_t *key = NULL;
    size_t len = 0;

    while (n > 0 && text[n - 1] == '=')
        n--;
    if (b64url_decode(text, n, &key, &len) != CAIRN_OK || len == 0 ||
        len > sizeof(out->key)) {
        if (key != NULL) {
            OPENSSL_cleanse(key, len);
            free(key);
        }
        /* the key itself is never printed */
        return cairn_err_inval(err, errsz, "config: externalAccountMACKeys.%s must be a base64url "
                                     "key of 1 to %d bytes", kid, CAIRN_CONF_EAB_KEY);
    }
    memcpy(out->key, key, len);
    out->key_len = len;
    OPENSSL_cleanse(key, len);
    free(key);
    return CAIRN_OK;
}

int
config_parse_eab_keys(struct config *cfg, const json_t *v, char *err, size_t errsz)
{
    const char *kid;
    const json_t *kv;
    int n = 0;

    if (json_is_null(v)) {
        cfg->neab_keys = 0;
        return CAIRN_OK;
    }
    if (!json_is_object(v))
        return cairn_err_inval(err, errsz, "config: externalAccountMACKeys must be an object");
    if (json_object_size(v) > CAIRN_CONF_MAX_EAB_KEYS)
        return cairn_err_inval(err, errsz, "config: at most %d externalAccountMACKeys",
                               CAIRN_CONF_MAX_EAB_KEYS);
    OPENSSL_cleanse(cfg->eab_keys, sizeof(cfg->eab_keys));
    json_object_foreach((json_t *)v, kid, kv) {
        struct config_eab_key *k = &cfg->eab_keys[n];
        size_t kl = strlen(kid);

        if (kl == 0 || kl > CAIRN_CONF_EAB_KID || strcspn(kid, "\"\\\r\n\t") != kl)
            return cairn_err_inval(err, errsz, "config: an externalAccountMACKeys key id must be 1 "
                                         "to %d printable characters", CAIRN_CONF_EAB_KID);
        if (!json_is_string(kv))
            return cairn_err_inval(err, errsz, "config: externalAccountMACKeys.%s must be a string",
                                   kid);
        snprintf(k->kid, sizeof(k->kid), "%s", kid);
        if (decode_mac_key(kid, json_string_value(kv), k, err, errsz) != CAIRN_OK)
            return CAIRN_ERR_INVAL;
        n++;
    }
    cfg->neab_keys = n;
    return CAIRN_OK;
}

const struct config_profile *
config_profile_find(const struct config *cfg, const char *name)
{
    for (int i = 0; name != NULL && i < cfg->nprofiles; i++)
        if (strcmp(cfg->profiles[i].name, name) == 0)
            return &cfg->profiles[i];
    return NULL;
}

const struct config_eab_key *
config_eab_key_find(const struct config *cfg, const char *kid)
{
    for (int i = 0; kid != NULL && i < cfg->neab_keys; i++)
        if (strcmp(cfg->eab_keys[i].kid, kid) == 0)
            return &cfg->eab_keys[i];
    return NULL;
}

int
config_finish_proto(struct config *cfg, char *err, size_t errsz)
{
    const char *want = cfg->default_profile_name[0] ? cfg->default_profile_name
                                                    : DEFAULT_PROFILE;

    if (cfg->nprofiles == 0) {
        struct config_profile *pr = &cfg->profiles[0];

        memset(pr, 0, sizeof(*pr));
        snprintf(pr->name, sizeof(pr->name), "%s", DEFAULT_PROFILE);
        snprintf(pr->description, sizeof(pr->description),
                 "The default profile: %lld-second certificates", (long long)cfg->validity);
        pr->validity = cfg->validity;
        cfg->nprofiles = 1;
    }
    cfg->default_profile = 0;
    for (int i = 0; i < cfg->nprofiles; i++)
        if (strcmp(cfg->profiles[i].name, want) == 0)
            cfg->default_profile = i;
    if (cfg->default_profile_name[0] &&
        strcmp(cfg->profiles[cfg->default_profile].name, want) != 0)
        return cairn_err_inval(err, errsz, "config: defaultProfile \"%s\" is not a configured "
                                     "profile", want);
    if (cfg->eab_single_use < 0)
        cfg->eab_single_use = cfg->ca_mode ? 1 : 0;
    if (cfg->ca_mode && cfg->allow_test_controls)
        log_warn("conf", "allowTestControls: the management API can list accounts, orders "
                         "and certificates and reset the ACME state");
    return CAIRN_OK;
}
