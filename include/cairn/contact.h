/* contact.h - account contact checks (RFC 8555 §7.3, PROTOCOL.md §1 "newAccount"). */
#ifndef CAIRN_CONTACT_H
#define CAIRN_CONTACT_H

#include <stdbool.h>

#include <jansson.h>

#include "cairn/core.h"
#include "cairn/problem.h"

/* contact must be a JSON array of at most max strings (limits.maxContacts; capped at
 * CAIRN_MAX_CONTACTS; else malformed); each a mailto: URL (other or no scheme:
 * unsupportedContact) holding one plain ASCII address local@domain without ?, # or
 * %-escapes whose domain is a valid DNS name (else invalidContact; CA mode also refuses
 * RFC 2606 example domains). On success *out is the array as compact JSON text (heap,
 * caller frees). */
int contact_check(const json_t *contact, bool ca_mode, size_t max, char **out,
                  struct problem *p) CAIRN_MUST_CHECK;

#endif
