/* log.h - one line per event on stderr, logfmt, control characters escaped.
 * Thread-safe: each line is written with a single write(2). Never log secrets. */
#ifndef CAIRN_LOG_H
#define CAIRN_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "cairn/core.h"

enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Parses "error|warn|info|debug"; CAIRN_ERR_INVAL when unknown. */
int log_level_parse(const char *s, enum log_level *out) CAIRN_MUST_CHECK;
/* Writes `ts=... lvl=... mod=... msg="..."` ; the message is escaped. */
void log_msg(enum log_level lvl, const char *mod, const char *fmt, ...) CAIRN_PRINTF(3, 4);
/* Logs and clears the OpenSSL error queue at the failure site. */
void log_openssl(const char *mod, const char *what);

/* Output format: logfmt (default) or one JSON object per line (--log-format json). */
enum log_format { LOG_FMT_LOGFMT = 0, LOG_FMT_JSON };
void log_set_format(enum log_format f);
/* "logfmt" (or "text") | "json"; CAIRN_ERR_INVAL when unknown. */
int log_format_parse(const char *s, enum log_format *out) CAIRN_MUST_CHECK;

/* A structured field: str when non-NULL, else num when is_num, else omitted. */
struct log_kv {
    const char *key;
    const char *str;
    long long num;
    bool is_num;
};
#define LOG_S(k, v) ((struct log_kv){ .key = (k), .str = (v) })
#define LOG_N(k, v) ((struct log_kv){ .key = (k), .num = (long long)(v), .is_num = true })

/* One line with the fields in order and an optional msg last; values escaped for the format
 * (logfmt quotes when needed, JSON escapes control and non-ASCII bytes). */
void log_event(enum log_level lvl, const char *mod, const char *msg, const struct log_kv *kv,
               size_t n);

#define log_err(mod, ...) log_msg(LOG_LVL_ERR, mod, __VA_ARGS__)
#define log_warn(mod, ...) log_msg(LOG_LVL_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...) log_msg(LOG_LVL_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...) log_msg(LOG_LVL_DEBUG, mod, __VA_ARGS__)

#endif
