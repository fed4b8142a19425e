/* jsonutil.h - strict JSON loading for untrusted input (PROTOCOL.md §2 rule 17, §6). */
#ifndef CAIRN_JSONUTIL_H
#define CAIRN_JSONUTIL_H

#include <stddef.h>

#include <jansson.h>

#include "cairn/core.h"
#include "cairn/problem.h"

/* Parses buf[0..len) as one JSON object: UTF-8, no BOM, no NUL, no trailing data, depth
 * ≤ the configured limit (CAIRN_MAX_JSON_DEPTH by default), duplicate names refused,
 * integers within int64. On success *out is a new reference. Fails with malformed naming
 * what is wrong ("payload: ..." with the given what prefix). */
int json_load_object(const char *buf, size_t len, const char *what, json_t **out,
                     struct problem *p) CAIRN_MUST_CHECK;

/* json_load_object() that also refuses any string (member names included) longer than the
 * configured limit (CAIRN_MAX_JSON_STRING by default), counted in bytes of the JSON text
 * between its quotes, escapes as written. For JWS payloads: the JWS itself carries the whole
 * base64url payload in one string, bounded by the body limit instead. */
int json_load_payload(const char *buf, size_t len, const char *what, json_t **out,
                      struct problem *p) CAIRN_MUST_CHECK;

/* Sets the limits above (limits.maxJsonDepth, limits.maxJsonString) once at start, before
 * any request thread runs. depth is capped at CAIRN_MAX_JSON_DEPTH; 0 keeps a default. */
void json_limits_set(size_t depth, size_t string);

#endif
