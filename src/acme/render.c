#include "cairn/render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/ident.h"

int
render_url(char *out, size_t outsz, const char *base, const char *prefix, const char *id,
           const char *suffix)
{
    int n = snprintf(out, outsz, "%s%s%s%s", base, prefix, id ? id : "", suffix ? suffix : "");
    return (n < 0 || (size_t)n >= outsz) ? CAIRN_ERR_INVAL : CAIRN_OK;
}

void
render_time(int64_t t, char *out, size_t outsz)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), without timegm's locale of TZ. */
static int64_t
days_from_civil(int y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int
render_time_parse(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
    size_t len = strlen(s), i = 19;

    if (len < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
        return CAIRN_ERR_INVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return CAIRN_ERR_INVAL;
    if (s[i] == '.') {
        size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start || i - start > 9)
            return CAIRN_ERR_INVAL;
    }
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
        sign = 0;
    } else if ((s[i] == '+' || s[i] == '-') && i + 6 == len && !digits(s + i + 1, 2, &oh) &&
               s[i + 3] == ':' && !digits(s + i + 4, 2, &om) && oh < 24 && om < 60) {
        sign = s[i] == '+' ? 1 : -1;
    } else {
        return CAIRN_ERR_INVAL;
    }
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + (se == 60 ? 59 : se) -
           sign * (oh * 3600 + om * 60);
    return CAIRN_OK;
}

static void
set_time(json_t *o, const char *key, int64_t t)
{
    char buf[32];
    render_time(t, buf, sizeof(buf));
    json_object_set_new(o, key, json_string(buf));
}

static void
set_url(json_t *o, const char *key, const char *base, const char *prefix, const char *id,
        const char *suffix)
{
    char url[1024];
    if (render_url(url, sizeof(url), base, prefix, id, suffix) == CAIRN_OK)
        json_object_set_new(o, key, json_string(url));
}

/* Stored JSON text (problem documents, contact lists) back into an object. */
static void
set_stored_json(json_t *o, const char *key, const char *text)
{
    json_t *v;
    if (text == NULL)
        return;
    v = json_loads(text, 0, NULL);
    if (v != NULL)
        json_object_set_new(o, key, v);
}

json_t *
render_account(const char *base, const struct st_account *a)
{
    json_t *o = json_pack("{s:s}", "status", acct_status_name(a->status));
    json_t *contact = a->contact ? json_loads(a->contact, 0, NULL) : NULL;

    if (o == NULL)
        return NULL;
    if (json_array_size(contact) > 0)
        json_object_set(o, "contact", contact);
    json_decref(contact);
    json_object_set_new(o, "termsOfServiceAgreed", json_boolean(a->tos_agreed));
    set_url(o, "orders", base, CAIRN_PATH_ACCT, a->id, "/orders");
    return o;
}

static json_t *
render_idents(const struct ident *ids, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s}", "type", ident_type_name(ids[i].type),
                                             "value", ids[i].value));
    return arr;
}

json_t *
render_order(const char *base, const struct st_order *o)
{
    json_t *j = json_pack("{s:s}", "status", order_status_name(o->status));
    json_t *authz = json_array();
    char url[1024];

    if (j == NULL)
        return NULL;
    set_time(j, "expires", o->expires_at);
    json_object_set_new(j, "identifiers", render_idents(o->idents, o->nidents));
    if (o->not_before)
        set_time(j, "notBefore", o->not_before);
    if (o->not_after)
        set_time(j, "notAfter", o->not_after);
    json_object_set_new(j, "profile", json_string(o->profile));
    if (o->replaces[0])
        json_object_set_new(j, "replaces", json_string(o->replaces));
    for (size_t i = 0; i < o->nauthz; i++)
        if (render_url(url, sizeof(url), base, CAIRN_PATH_AUTHZ, o->authz_ids[i], NULL) == 0)
            json_array_append_new(authz, json_string(url));
    json_object_set_new(j, "authorizations", authz);
    set_url(j, "finalize", base, CAIRN_PATH_ORDER, o->id, "/finalize");
    if (o->status == ORDER_VALID && o->cert_serial[0])
        set_url(j, "certificate", base, CAIRN_PATH_CERT, o->cert_serial, NULL);
    if (o->status == ORDER_INVALID)
        set_stored_json(j, "error", o->error);
    return j;
}

json_t *
render_challenge(const char *base, const struct st_challenge *c)
{
    json_t *j = json_pack("{s:s, s:s}", "type", chall_type_name(c->type), "status",
                          chall_status_name(c->status));

    if (j == NULL)
        return NULL;
    set_url(j, "url", base, CAIRN_PATH_CHALL, c->id, NULL);
    json_object_set_new(j, "token", json_string(c->token));
    if (c->status == CHALL_VALID && c->validated_at)
        set_time(j, "validated", c->validated_at);
    set_stored_json(j, "error", c->error);
    return j;
}

json_t *
render_authz(const char *base, const struct st_authz *a)
{
    json_t *j = json_pack("{s:s}", "status", authz_status_name(a->status));
    json_t *ch = json_array();

    if (j == NULL)
        return NULL;
    json_object_set_new(j, "identifier",
                        json_pack("{s:s, s:s}", "type", ident_type_name(a->ident.type), "value",
                                  a->ident.value));
    set_time(j, "expires", a->expires_at);
    for (size_t i = 0; i < a->nchall; i++)
        json_array_append_new(ch, render_challenge(base, &a->chall[i]));
    json_object_set_new(j, "challenges", ch);
    if (a->ident.wildcard)
        json_object_set_new(j, "wildcard", json_true());
    return j;
}
