#include "cairn/jsonutil.h"

#include <stdatomic.h>
#include <string.h>

#include "cairn/limits.h"

/* Set once at start from the configuration (json_limits_set), read by every request thread. */
static atomic_size_t max_depth = CAIRN_MAX_JSON_DEPTH;
static atomic_size_t max_string = CAIRN_MAX_JSON_STRING;

void
json_limits_set(size_t depth, size_t string)
{
    if (depth == 0 || depth > CAIRN_MAX_JSON_DEPTH)
        depth = CAIRN_MAX_JSON_DEPTH;
    if (string == 0)
        string = CAIRN_MAX_JSON_STRING;
    atomic_store(&max_depth, depth);
    atomic_store(&max_string, string);
}

struct json_shape {
    size_t depth;  /* deepest nesting seen */
    size_t string; /* longest string, in bytes of JSON text between its quotes */
};

/* Measures buf outside and inside strings, stopping early once the depth exceeds limit.
 * jansson's own depth limit (2048) is far above ours, so we measure before handing the text
 * over. Brackets inside strings do not count; an unterminated string is left for jansson to
 * refuse. */
static void
json_scan(const char *buf, size_t len, size_t limit, struct json_shape *sh)
{
    size_t depth = 0, start = 0;
    int in_string = 0, escaped = 0;

    sh->depth = sh->string = 0;
    for (size_t i = 0; i < len && sh->depth <= limit; i++) {
        char c = buf[i];

        if (in_string) {
            if (escaped) {
                escaped = 0;
            } else if (c == '\\') {
                escaped = 1;
            } else if (c == '"') {
                in_string = 0;
                if (i - start > sh->string)
                    sh->string = i - start;
            }
            continue;
        }
        if (c == '"') {
            in_string = 1;
            start = i + 1;
        } else if (c == '{' || c == '[') {
            depth++;
            if (depth > sh->depth)
                sh->depth = depth;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
}

static int
json_load_checked(const char *buf, size_t len, const char *what, bool cap_strings,
                  json_t **out, struct problem *p)
{
    size_t depth_max = atomic_load(&max_depth), string_max = atomic_load(&max_string);
    struct json_shape sh;
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
    json_scan(buf, len, depth_max, &sh);
    if (sh.depth > depth_max)
        return problem_set(p, PROB_MALFORMED, "%s: nested deeper than %zu levels", what,
                           depth_max);
    if (cap_strings && sh.string > string_max)
        return problem_set(p, PROB_MALFORMED, "%s: a string is longer than %zu characters",
                           what, string_max);
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

int
json_load_object(const char *buf, size_t len, const char *what, json_t **out,
                 struct problem *p)
{
    return json_load_checked(buf, len, what, false, out, p);
}

int
json_load_payload(const char *buf, size_t len, const char *what, json_t **out,
                  struct problem *p)
{
    return json_load_checked(buf, len, what, true, out, p);
}
