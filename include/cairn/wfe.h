/* wfe.h - the HTTPS listeners (ACME and management), built on libmicrohttpd. */
#ifndef CAIRN_WFE_H
#define CAIRN_WFE_H

#include "cairn/app.h"
#include "cairn/core.h"

struct wfe;

/* Binds "host:port" (IPv4, [IPv6] or a name resolving to one) with SO_REUSEADDR and listens.
 * On failure writes a message naming the address to err. Returns the fd or -1. */
int wfe_listen(const char *addr, char *err, size_t errsz);

/* Starts the ACME daemon on listen_fd and (when mgmt_fd >= 0) the management daemon, both
 * TLS with the given PEM certificate chain and key. Takes ownership of the fds. */
int wfe_start(struct app *app, int listen_fd, int mgmt_fd, const char *cert_pem,
              const char *key_pem, struct wfe **out) CAIRN_MUST_CHECK;
/* Stops accepting, waits for in-flight requests, frees. NULL is a no-op. */
void wfe_stop(struct wfe *w);
/* SIGHUP: serves a new certificate chain and key to new connections without closing the
 * listening sockets (MHD_quiesce_daemon, a new daemon on the same fd, the old one stopped
 * once it has no request in flight, bounded by shutdownTimeout). When the new daemon cannot
 * start, the old pair is restarted on the socket. Main thread only. */
int wfe_reload_tls(struct wfe *w, const char *cert_pem, const char *key_pem) CAIRN_MUST_CHECK;

/* The plain-HTTP CRL listener (src/http/crlsrv.c): GET /crl/{issuer} and /issuer/{issuer}.
 * Takes ownership of fd on success. */
struct wfe_crl;
int wfe_crl_start(struct app *app, int fd, struct wfe_crl **out) CAIRN_MUST_CHECK;
void wfe_crl_stop(struct wfe_crl *w);

#endif
