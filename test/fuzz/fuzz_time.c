/* fuzz_time.c - render_time_parse() (RFC 3339) on arbitrary strings; what it accepts must
 * render and parse back to the same instant. */
#include <stdlib.h>
#include <string.h>

#include "cairn/render.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size), text[64];
    int64_t t, back;

    if (strlen(s) == size && render_time_parse(s, &t) == CAIRN_OK) {
        /* strftime pads %Y to four digits only from the year 1000 */
        if (t >= -30610224000LL && t <= 253402300799LL) {
            render_time(t, text, sizeof(text));
            if (render_time_parse(text, &back) != CAIRN_OK || back != t)
                abort();
        }
    }
    free(s);
    return 0;
}
