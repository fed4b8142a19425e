/* fuzz_b64url.c - strict base64url: b64url_decode() and b64url_is_valid() must agree, and
 * whatever decodes must encode back to exactly the input (strictness means one spelling per
 * byte string). */
#include <stdlib.h>
#include <string.h>

#include "cairn/b64url.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *out = NULL;
    size_t outlen = 0;
    int rc = b64url_decode((const char *)data, size, &out, &outlen);
    bool valid = b64url_is_valid((const char *)data, size);

    if (rc == CAIRN_OK) {
        char *back = b64url_encode_alloc(out, outlen);
        if (back == NULL)
            abort();
        if (strlen(back) != size || memcmp(back, data, size) != 0)
            abort(); /* decode accepted a non-canonical spelling */
        if (size > 0 && !valid)
            abort();
        free(back);
        free(out);
    } else if (rc == CAIRN_ERR_INVAL && valid) {
        abort();
    }
    return 0;
}
