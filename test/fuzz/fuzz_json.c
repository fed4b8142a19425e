/* fuzz_json.c - json_load_object(), the strict reader of every untrusted JSON document
 * (payloads, protected headers): it must refuse or accept, never crash or leak. An accepted
 * document must also serialise (jansson's dump walks the whole tree). */
#include <stdlib.h>

#include "cairn/jsonutil.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct problem p;
    json_t *obj = NULL;

    problem_init(&p);
    if (json_load_object((const char *)data, size, "payload", &obj, &p) == CAIRN_OK) {
        char *text;
        if (!json_is_object(obj))
            abort();
        text = json_dumps(obj, JSON_COMPACT);
        free(text);
        json_decref(obj);
    }
    problem_cleanup(&p);
    return 0;
}
