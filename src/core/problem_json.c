#include <stdlib.h>

#include <jansson.h>

#include "cairn/problem.h"

static const char *const accepted_algs[] = { "RS256", "ES256", "ES384", "ES512", "EdDSA" };

static json_t *
render_sub(const struct subproblem *s)
{
    json_t *o = json_pack("{s:s, s:s, s:i}", "type", problem_urn(s->type), "detail", s->detail,
                          "status", problem_default_status(s->type));
    if (o != NULL && s->ident_type[0] != '\0')
        json_object_set_new(o, "identifier",
                            json_pack("{s:s, s:s}", "type", s->ident_type, "value",
                                      s->ident_value));
    return o;
}

json_t *
problem_render(const struct problem *p)
{
    json_t *o = json_pack("{s:s, s:s, s:i}", "type", problem_urn(p->type), "detail", p->detail,
                          "status", problem_status(p));

    if (o == NULL)
        return NULL;
    if (p->nsub > 0) {
        json_t *arr = json_array();
        for (size_t i = 0; i < p->nsub; i++)
            json_array_append_new(arr, render_sub(&p->sub[i]));
        json_object_set_new(o, "subproblems", arr);
    }
    if (p->type == PROB_BAD_SIGNATURE_ALGORITHM) {
        json_t *arr = json_array();
        for (size_t i = 0; i < CAIRN_ARRAY_LEN(accepted_algs); i++)
            json_array_append_new(arr, json_string(accepted_algs[i]));
        json_object_set_new(o, "algorithms", arr);
    }
    return o;
}

char *
problem_render_text(const struct problem *p)
{
    json_t *o = problem_render(p);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    return s;
}
