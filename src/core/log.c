#include "cairn/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

/* Locked singleton (ARCHITECTURE.md §4): the level is an atomic; the sink is stderr with one
 * write() per line. */
static atomic_int log_level = LOG_LVL_INFO;

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

void
log_msg(enum log_level lvl, const char *mod, const char *fmt, ...)
{
    char msg[1024], line[2200];
    struct timespec ts;
    struct tm tm;
    size_t o;
    va_list ap;

    if ((int)lvl > atomic_load(&log_level))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    o = strftime(line, sizeof(line), "ts=%Y-%m-%dT%H:%M:%S", &tm);
    o += (size_t)snprintf(line + o, sizeof(line) - o, ".%03ldZ lvl=%s mod=%s msg=\"",
                          ts.tv_nsec / 1000000, level_names[lvl], mod);
    escape_into(line, sizeof(line), &o, msg);
    line[o++] = '"';
    line[o++] = '\n';
    if (write(STDERR_FILENO, line, o) < 0) {
        /* a full log disk must never stop the process (PROTOCOL.md §9.5) */
    }
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
