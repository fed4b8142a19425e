#include "cairn/jsonutil.h"

#include <string.h>

#include "cairn/limits.h"

/* Nesting depth of buf outside strings, stopping early once it exceeds the limit. jansson's
 * own limit (2048) is far above ours, so we measure before handing the text over. Brackets
 * inside strings do not count; an unterminated string is left for jansson to refuse. */
static size_t
json_scan_depth(const char *buf, size_t len)
{
    size_t depth = 0, max = 0;
    int in_string = 0, escaped = 0;

    for (size_t i = 0; i < len && max <= CAIRN_MAX_JSON_DEPTH; i++) {
        char c = buf[i];

        if (in_string) {
            if (escaped)
                escaped = 0;
            else if (c == '\\')
                escaped = 1;
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '"') {
            in_string = 1;
        } else if (c == '{' || c == '[') {
            depth++;
            if (depth > max)
                max = depth;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return max;
}

int
json_load_object(const char *buf, size_t len, const char *what, json_t **out,
                 struct problem *p)
{
    json_error_t err;
    json_t *obj;

    *out = NULL;
    if (what == NULL)
        what = "JSON";
    if (buf == NULL || len == 0)
        return problem_set(p, PROB_MALFORMED, "%s: empty", what);
    if (memchr(buf, '\0', len) != NULL)
        return problem_set(p, PROB_MALFORMED, "%s: contains a NUL byte", what);
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        return problem_set(p, PROB_MALFORMED, "%s: byte order mark not allowed", what);
    if (json_scan_depth(buf, len) > CAIRN_MAX_JSON_DEPTH)
        return problem_set(p, PROB_MALFORMED, "%s: nested deeper than %d levels", what,
                           CAIRN_MAX_JSON_DEPTH);
    /* No JSON_DECODE_ANY (top level must be a container), no JSON_ALLOW_NUL ("\u0000"
     * refused), no JSON_DISABLE_EOF_CHECK (trailing data refused). jansson also refuses
     * invalid UTF-8 and integers outside int64. */
    obj = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
    if (obj == NULL)
        return problem_set(p, PROB_MALFORMED, "%s: %s", what, err.text);
    if (!json_is_object(obj)) {
        json_decref(obj);
        return problem_set(p, PROB_MALFORMED, "%s: not a JSON object", what);
    }
    *out = obj;
    return CAIRN_OK;
}
