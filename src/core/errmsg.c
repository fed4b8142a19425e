/* errmsg.c - the one formatter behind "config: ..." style error messages. */
#include <stdarg.h>
#include <stdio.h>

#include "cairn/core.h"

int
cairn_err_inval(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return CAIRN_ERR_INVAL;
}
