#include "cairn/contact.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cairn/ident.h"
#include "cairn/limits.h"

/* RFC 5322 atext plus '.', which is all a plain local part may hold. */
static bool
local_part_ok(const char *s, size_t n)
{
    static const char special[] = "!$&'*+-/=^_`{|}~.";

    if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              (ch != '\0' && strchr(special, ch) != NULL)))
            return false;
        if (ch == '.' && s[i + 1] == '.')
            return false;
    }
    return true;
}

static int
check_one(const char *s, bool ca_mode, struct problem *p)
{
    const struct ident_policy pol = { .ca_mode = ca_mode };
    struct problem sub;
    struct ident id;
    const char *addr, *at;
    int rc;

    if (*s == '\0')
        return problem_set(p, PROB_INVALID_CONTACT, "empty contact");
    if (strncasecmp(s, "mailto:", 7) != 0)
        return problem_set(p, PROB_UNSUPPORTED_CONTACT,
                           "contact \"%.64s\": only mailto: contacts are supported", s);
    addr = s + 7;
    if (strpbrk(addr, "?#%,") != NULL)
        return problem_set(p, PROB_INVALID_CONTACT,
                           "contact \"%.64s\": one plain address without ?, # or %% escapes", s);
    at = strrchr(addr, '@');
    if (at == NULL || !local_part_ok(addr, (size_t)(at - addr)))
        return problem_set(p, PROB_INVALID_CONTACT, "contact \"%.64s\" is not an email address",
                           s);
    problem_init(&sub);
    rc = ident_check("dns", at + 1, &pol, &id, &sub);
    problem_cleanup(&sub);
    if (rc != CAIRN_OK || id.wildcard)
        return problem_set(p, PROB_INVALID_CONTACT,
                           "contact \"%.64s\": the domain is not a valid DNS name", s);
    return CAIRN_OK;
}

int
contact_check(const json_t *contact, bool ca_mode, size_t max, char **out, struct problem *p)
{
    size_t i;
    const json_t *v;
    int rc;

    *out = NULL;
    if (max > CAIRN_MAX_CONTACTS)
        max = CAIRN_MAX_CONTACTS;
    if (!json_is_array(contact))
        return problem_set(p, PROB_MALFORMED, "payload: contact must be an array of strings");
    if (json_array_size(contact) > max)
        return problem_set(p, PROB_MALFORMED, "at most %zu contacts", max);
    json_array_foreach(contact, i, v) {
        if (!json_is_string(v))
            return problem_set(p, PROB_MALFORMED, "payload: contact[%zu] must be a string", i);
        if (json_string_length(v) > CAIRN_MAX_CONTACT_LEN)
            return problem_set(p, PROB_INVALID_CONTACT, "contact[%zu] is longer than %d", i,
                               CAIRN_MAX_CONTACT_LEN);
        rc = check_one(json_string_value(v), ca_mode, p);
        if (rc != CAIRN_OK)
            return rc;
    }
    *out = json_dumps(contact, JSON_COMPACT);
    return *out ? CAIRN_OK : CAIRN_ERR_NOMEM;
}
