/* notify.c - sd_notify written out: a unix datagram to $NOTIFY_SOCKET. Debian 12's systemd 252
 * has no Type=notify-reload, so RELOADING=1 is informational and ExecReload sends SIGHUP. */
#include "cairn/notify.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include "cairn/log.h"

int
notify_send(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t n;
    ssize_t sent;
    int fd;

    if (path == NULL || path[0] == '\0')
        return CAIRN_OK;
    n = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path)) {
        log_warn("notify", "NOTIFY_SOCKET is not a usable socket path");
        return CAIRN_ERR_INVAL;
    }
    memcpy(sa.sun_path, path, n);
    if (path[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract namespace */
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return CAIRN_ERR_IO;
    sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (const struct sockaddr *)&sa,
                  (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
    close(fd);
    if (sent < 0) {
        log_warn("notify", "cannot notify the service manager");
        return CAIRN_ERR_IO;
    }
    return CAIRN_OK;
}
