#include "cairn/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

/* Locked singleton (ARCHITECTURE.md §4): the level is an atomic; the sink is stderr with one
 * write() per line. */
static atomic_int log_level = LOG_LVL_INFO;
static atomic_int log_format = LOG_FMT_LOGFMT;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void
log_set_level(enum log_level lvl)
{
    atomic_store(&log_level, (int)lvl);
}

enum log_level
log_get_level(void)
{
    return (enum log_level)atomic_load(&log_level);
}

int
log_level_parse(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < CAIRN_ARRAY_LEN(level_names); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return CAIRN_OK;
        }
    }
    return CAIRN_ERR_INVAL;
}

/* Appends src to dst[*o..cap) escaping quotes, backslashes and control bytes. */
static void
escape_into(char *dst, size_t cap, size_t *o, const char *src)
{
    for (; *src && *o + 5 < cap; src++) {
        unsigned char c = (unsigned char)*src;
        if (c == '"' || c == '\\') {
            dst[(*o)++] = '\\';
            dst[(*o)++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            *o += (size_t)snprintf(dst + *o, cap - *o, "\\x%02x", c);
        } else {
            dst[(*o)++] = (char)c;
        }
    }
}

/* JSON string body: quotes, backslashes and every byte outside printable ASCII as \u00XX,
 * so the line stays valid JSON whatever the input (a non-UTF-8 path included). */
static void
json_escape_into(char *dst, size_t cap, size_t *o, const char *src)
{
    for (; *src && *o + 7 < cap; src++) {
        unsigned char c = (unsigned char)*src;
        if (c == '"' || c == '\\') {
            dst[(*o)++] = '\\';
            dst[(*o)++] = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            *o += (size_t)snprintf(dst + *o, cap - *o, "\\u%04x", c);
        } else {
            dst[(*o)++] = (char)c;
        }
    }
}

void
log_set_format(enum log_format f)
{
    atomic_store(&log_format, (int)f);
}

int
log_format_parse(const char *s, enum log_format *out)
{
    if (strcmp(s, "logfmt") == 0 || strcmp(s, "text") == 0)
        *out = LOG_FMT_LOGFMT;
    else if (strcmp(s, "json") == 0)
        *out = LOG_FMT_JSON;
    else
        return CAIRN_ERR_INVAL;
    return CAIRN_OK;
}

/* A bare logfmt value needs no quotes when it has no space, quote, '=' or control byte. */
static bool
logfmt_bare(const char *v)
{
    if (*v == '\0')
        return false;
    for (; *v; v++)
        if ((unsigned char)*v <= 0x20 || *v == '"' || *v == '=' || *v == '\\' ||
            (unsigned char)*v >= 0x7f)
            return false;
    return true;
}

static void
put_str(char *line, size_t cap, size_t *o, bool json, const char *key, const char *v,
        bool quote)
{
    if (*o + strlen(key) + 8 >= cap)
        return;
    if (json) {
        *o += (size_t)snprintf(line + *o, cap - *o, ",\"%s\":\"", key);
        json_escape_into(line, cap, o, v);
        line[(*o)++] = '"';
    } else if (!quote && logfmt_bare(v)) {
        *o += (size_t)snprintf(line + *o, cap - *o, " %s=", key);
        escape_into(line, cap, o, v);
    } else {
        *o += (size_t)snprintf(line + *o, cap - *o, " %s=\"", key);
        escape_into(line, cap, o, v);
        line[(*o)++] = '"';
    }
}

static void
put_num(char *line, size_t cap, size_t *o, bool json, const char *key, long long v)
{
    int n = snprintf(line + *o, cap - *o, json ? ",\"%s\":%lld" : " %s=%lld", key, v);

    if (n > 0 && (size_t)n < cap - *o)
        *o += (size_t)n;
}

void
log_event(enum log_level lvl, const char *mod, const char *msg, const struct log_kv *kv,
          size_t n)
{
    char line[4096], ts_text[40];
    bool json = atomic_load(&log_format) == LOG_FMT_JSON;
    struct timespec ts;
    struct tm tm;
    size_t o;

    if ((int)lvl > atomic_load(&log_level))
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    o = strftime(ts_text, sizeof(ts_text), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts_text + o, sizeof(ts_text) - o, ".%03ldZ", ts.tv_nsec / 1000000);
    if (json)
        o = (size_t)snprintf(line, sizeof(line), "{\"ts\":\"%s\",\"lvl\":\"%s\",\"mod\":\"%s\"",
                             ts_text, level_names[lvl], mod);
    else
        o = (size_t)snprintf(line, sizeof(line), "ts=%s lvl=%s mod=%s", ts_text,
                             level_names[lvl], mod);
    for (size_t i = 0; i < n; i++) {
        if (kv[i].str != NULL)
            put_str(line, sizeof(line) - 4, &o, json, kv[i].key, kv[i].str, false);
        else if (kv[i].is_num)
            put_num(line, sizeof(line) - 4, &o, json, kv[i].key, kv[i].num);
    }
    if (msg != NULL)
        put_str(line, sizeof(line) - 4, &o, json, "msg", msg, true);
    if (json)
        line[o++] = '}';
    line[o++] = '\n';
    if (write(STDERR_FILENO, line, o) < 0) {
        /* a full log disk must never stop the process (PROTOCOL.md §9.5) */
    }
}

void
log_msg(enum log_level lvl, const char *mod, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if ((int)lvl > atomic_load(&log_level))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_event(lvl, mod, msg, NULL, 0);
}

void
log_openssl(const char *mod, const char *what)
{
    unsigned long e;
    char buf[256];

    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        log_msg(LOG_LVL_WARN, mod, "%s: %s", what, buf);
    }
}
