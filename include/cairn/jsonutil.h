/* jsonutil.h - strict JSON loading for untrusted input (PROTOCOL.md §2 rule 17, §6). */
#ifndef CAIRN_JSONUTIL_H
#define CAIRN_JSONUTIL_H

#include <stddef.h>

#include <jansson.h>

#include "cairn/core.h"
#include "cairn/problem.h"

/* Parses buf[0..len) as one JSON object: UTF-8, no BOM, no NUL, no trailing data, depth
 * ≤ CAIRN_MAX_JSON_DEPTH, duplicate names refused, integers within int64. On success *out
 * is a new reference. Fails with malformed naming what is wrong ("payload: ..." with the
 * given what prefix). */
int json_load_object(const char *buf, size_t len, const char *what, json_t **out,
                     struct problem *p) CAIRN_MUST_CHECK;

#endif
