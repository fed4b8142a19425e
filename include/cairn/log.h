/* log.h - one line per event on stderr, logfmt, control characters escaped.
 * Thread-safe: each line is written with a single write(2). Never log secrets. */
#ifndef CAIRN_LOG_H
#define CAIRN_LOG_H

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

#define log_err(mod, ...) log_msg(LOG_LVL_ERR, mod, __VA_ARGS__)
#define log_warn(mod, ...) log_msg(LOG_LVL_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...) log_msg(LOG_LVL_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...) log_msg(LOG_LVL_DEBUG, mod, __VA_ARGS__)

#endif
