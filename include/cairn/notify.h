/* notify.h - the systemd readiness protocol (sd_notify(3)) without libsystemd: one datagram
 * with "KEY=value" lines to the unix socket named by $NOTIFY_SOCKET ('@' = abstract). */
#ifndef CAIRN_NOTIFY_H
#define CAIRN_NOTIFY_H

#include "cairn/core.h"

/* Sends state ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...") when $NOTIFY_SOCKET is
 * set. CAIRN_OK also when it is not set (not under systemd); CAIRN_ERR_IO/INVAL otherwise. */
int notify_send(const char *state);

#endif
