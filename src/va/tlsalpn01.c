/* tlsalpn01.c - tls-alpn-01 (RFC 8737; RFC 8738 §6 for IP identifiers) on OpenSSL.
 *
 * The VA resolves the name itself (dns.c), checks the address policy on the address it is
 * about to dial, connects without blocking and drives the handshake with poll() until the
 * validation's deadline, so a target that accepts and then says nothing costs at most the
 * time left. The handshake offers only ALPN "acme-tls/1", TLS 1.2 or later, SNI = the
 * identifier (its in-addr.arpa / ip6.arpa name for an IP). The certificate is not verified
 * against any trust store (it is self-signed by design); instead PROTOCOL.md §5 applies:
 * self-signed, exactly one SAN equal to the identifier, exactly one critical
 * id-pe-acmeIdentifier extension holding a DER OCTET STRING of SHA-256(key authorization),
 * and never the draft OID. Outcomes: certificate or ALPN mismatch `unauthorized`; handshake
 * failure or timeout `tls`; no TCP connection `connection`. */
#include "va/va_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cairn/ident.h"
#include "cairn/limits.h"

#define ACME_TLS_ALPN "acme-tls/1"
#define OID_ACME_IDENTIFIER "1.3.6.1.5.5.7.1.31"
#define OID_ACME_IDENTIFIER_DRAFT "1.3.6.1.5.5.7.1.30.1"

/* One dial: the address and the "addr:port" text used in details. */
struct tls_dial {
    const char *addr;
    bool v6;
    int port;
    char where[INET6_ADDRSTRLEN + 16];
};

static void
tls_dial_set(struct tls_dial *d, const char *addr, bool v6, int port)
{
    d->addr = addr;
    d->v6 = v6;
    d->port = port;
    snprintf(d->where, sizeof(d->where), v6 ? "[%s]:%d" : "%s:%d", addr, port);
}

/* Waits for events on fd until deadline. 1 ready, 0 timeout, -1 error. */
static int
tls_poll(int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = events };
        int64_t left = va_ms_left(deadline);
        int rc;

        if (left == 0)
            return 0;
        rc = poll(&pfd, 1, (int)(left > 60000 ? 60000 : left));
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return -1;
        if (rc > 0)
            return 1;
    }
}

/* A non-blocking TCP connection to d within the deadline; the fd, or -1 with p set. */
static int
tls_connect(const struct tls_dial *d, int64_t deadline, struct problem *p)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd, err = 0;
    socklen_t el = sizeof(err);

    memset(&ss, 0, sizeof(ss));
    if (d->v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)d->port);
        if (inet_pton(AF_INET6, d->addr, &s6->sin6_addr) != 1)
            goto bad;
        sl = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)d->port);
        if (inet_pton(AF_INET, d->addr, &s4->sin_addr) != 1)
            goto bad;
        sl = sizeof(*s4);
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        problem_set(p, PROB_CONNECTION, "%s: cannot create a socket", d->where);
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&ss, sl) == 0)
        return fd;
    if (errno != EINPROGRESS) {
        err = errno;
    } else {
        int w = tls_poll(fd, POLLOUT, deadline);

        if (w == 0)
            err = ETIMEDOUT;
        else if (w < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
            err = errno ? errno : EIO;
    }
    if (err == 0)
        return fd;
    close(fd);
    if (err == ECONNREFUSED)
        problem_set(p, PROB_CONNECTION, "%s: Connection refused", d->where);
    else if (err == ETIMEDOUT)
        problem_set(p, PROB_CONNECTION, "%s: Timeout during connect", d->where);
    else
        problem_set(p, PROB_CONNECTION, "%s: connect failed (errno %d)", d->where, err);
    return -1;
bad:
    problem_set(p, PROB_CONNECTION, "invalid address %s", d->addr);
    return -1;
}

static SSL_CTX *
tls_ctx_new(void)
{
    static const unsigned char alpn[] = "\x0a" ACME_TLS_ALPN;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (ctx == NULL)
        return NULL;
    /* RFC 8737 §3: only acme-tls/1 is offered; the certificate is judged by hand below. */
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1) != 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    return ctx;
}

/* The SNI for an identifier: the name itself, or the reverse name of an IP (RFC 8738 §6). */
static int
tls_sni(const struct ident *id, char *out, size_t outsz)
{
    if (id->type != IDENT_IP) {
        int n = snprintf(out, outsz, "%s", id->value);

        return n < 0 || (size_t)n >= outsz ? CAIRN_ERR_INVAL : CAIRN_OK;
    }
    return ident_reverse_name(id, out, outsz);
}

/* Runs the handshake on fd until deadline. CAIRN_OK, or CAIRN_ERR_PROTO with a tls problem. */
static int
tls_handshake(SSL *ssl, const struct tls_dial *d, int64_t deadline, struct problem *p)
{
    for (;;) {
        int r = SSL_connect(ssl), e, w;
        unsigned long ee;

        if (r == 1)
            return CAIRN_OK;
        e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            w = tls_poll(SSL_get_fd(ssl), e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
                         deadline);
            if (w == 0)
                return problem_set(p, PROB_TLS, "%s: Timeout during the TLS handshake",
                                   d->where);
            if (w < 0)
                return problem_set(p, PROB_TLS, "%s: TLS handshake failed", d->where);
            continue;
        }
        ee = ERR_peek_last_error();
        ERR_clear_error();
        if (ERR_GET_REASON(ee) == SSL_R_UNSUPPORTED_PROTOCOL ||
            ERR_GET_REASON(ee) == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
            ERR_GET_REASON(ee) == SSL_R_WRONG_SSL_VERSION)
            return problem_set(p, PROB_TLS, "%s: the server does not offer TLS 1.2 or later",
                               d->where);
        if (ERR_GET_REASON(ee) == SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL)
            return problem_set(p, PROB_UNAUTHORIZED,
                               "%s: the server refused the \"acme-tls/1\" protocol", d->where);
        /* ERR_reason_error_string is OpenSSL's static text, never target output */
        return problem_set(p, PROB_TLS, "%s: TLS handshake failed (%s)", d->where,
                           ee && ERR_reason_error_string(ee) ? ERR_reason_error_string(ee)
                                                             : "connection closed");
    }
}

/* Exactly one SAN, equal to the identifier (dNSName, or iPAddress for an IP). */
static int
tls_check_san(X509 *cert, const struct ident *id, const char *where, struct problem *p)
{
    int crit = -1, ok = 0;
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
    const GENERAL_NAME *g;
    unsigned char ip[16];
    int iplen = 0;

    if (gens == NULL)
        return problem_set(p, PROB_UNAUTHORIZED, "%s: %s", where,
                           crit == -2 ? "the certificate has several SAN extensions"
                                      : "the certificate has no subjectAltName");
    if (sk_GENERAL_NAME_num(gens) != 1) {
        int n = sk_GENERAL_NAME_num(gens);

        GENERAL_NAMES_free(gens);
        return problem_set(p, PROB_UNAUTHORIZED,
                           "%s: the certificate has %d SANs, expected exactly one (%s)", where,
                           n, id->value);
    }
    g = sk_GENERAL_NAME_value(gens, 0);
    if (id->type == IDENT_IP) {
        bool v6 = strchr(id->value, ':') != NULL;

        iplen = inet_pton(v6 ? AF_INET6 : AF_INET, id->value, ip) == 1 ? (v6 ? 16 : 4) : 0;
        ok = g->type == GEN_IPADD && iplen > 0 && ASN1_STRING_length(g->d.iPAddress) == iplen &&
             memcmp(ASN1_STRING_get0_data(g->d.iPAddress), ip, (size_t)iplen) == 0;
    } else if (g->type == GEN_DNS) {
        size_t n = (size_t)ASN1_STRING_length(g->d.dNSName);

        ok = n == strlen(id->value) &&
             strncasecmp((const char *)ASN1_STRING_get0_data(g->d.dNSName), id->value, n) == 0;
    }
    GENERAL_NAMES_free(gens);
    if (!ok)
        return problem_set(p, PROB_UNAUTHORIZED,
                           "%s: the certificate's SAN does not match the identifier %s", where,
                           id->value);
    return CAIRN_OK;
}

/* The extnValue must be a DER OCTET STRING of exactly 32 bytes (RFC 8737 §3). */
static int
tls_check_digest(const X509_EXTENSION *ext, const uint8_t want[32], const char *where,
                 struct problem *p)
{
    const ASN1_OCTET_STRING *outer = X509_EXTENSION_get_data((X509_EXTENSION *)ext);
    const unsigned char *q = ASN1_STRING_get0_data(outer);
    long len = ASN1_STRING_length(outer);
    ASN1_OCTET_STRING *inner = d2i_ASN1_OCTET_STRING(NULL, &q, len);
    bool shape, match = false;

    shape = inner != NULL && q == ASN1_STRING_get0_data(outer) + len &&
            ASN1_STRING_length(inner) == 32;
    if (shape)
        match = CRYPTO_memcmp(ASN1_STRING_get0_data(inner), want, 32) == 0;
    ASN1_OCTET_STRING_free(inner);
    if (!shape)
        return problem_set(p, PROB_UNAUTHORIZED,
                           "%s: the acmeIdentifier extension is not a 32-byte OCTET STRING",
                           where);
    if (!match)
        return problem_set(p, PROB_UNAUTHORIZED,
                           "%s: the acmeIdentifier extension does not hold the SHA-256 of the "
                           "key authorization",
                           where);
    return CAIRN_OK;
}

/* Exactly one critical acmeIdentifier extension with the right digest; no draft OID. */
static int
tls_check_acme_ext(X509 *cert, const uint8_t want[32], const char *where, struct problem *p)
{
    ASN1_OBJECT *oid = OBJ_txt2obj(OID_ACME_IDENTIFIER, 1);
    ASN1_OBJECT *draft = OBJ_txt2obj(OID_ACME_IDENTIFIER_DRAFT, 1);
    const X509_EXTENSION *found = NULL;
    int count = 0, ndraft = 0, rc = CAIRN_OK;

    if (oid == NULL || draft == NULL) {
        rc = CAIRN_ERR_NOMEM;
        goto out;
    }
    for (int i = 0; i < X509_get_ext_count(cert); i++) {
        X509_EXTENSION *e = X509_get_ext(cert, i);
        const ASN1_OBJECT *o = X509_EXTENSION_get_object(e);

        if (OBJ_cmp(o, oid) == 0) {
            count++;
            found = e;
        } else if (OBJ_cmp(o, draft) == 0) {
            ndraft++;
        }
    }
    if (ndraft > 0)
        rc = problem_set(p, PROB_UNAUTHORIZED,
                         "%s: the certificate uses the obsolete acmeIdentifier OID %s", where,
                         OID_ACME_IDENTIFIER_DRAFT);
    else if (count == 0)
        rc = problem_set(p, PROB_UNAUTHORIZED,
                         "%s: the certificate has no acmeIdentifier extension (%s)", where,
                         OID_ACME_IDENTIFIER);
    else if (count > 1)
        rc = problem_set(p, PROB_UNAUTHORIZED,
                         "%s: the certificate has %d acmeIdentifier extensions", where, count);
    else if (!X509_EXTENSION_get_critical(found))
        rc = problem_set(p, PROB_UNAUTHORIZED,
                         "%s: the acmeIdentifier extension is not critical", where);
    else
        rc = tls_check_digest(found, want, where, p);
out:
    ASN1_OBJECT_free(oid);
    ASN1_OBJECT_free(draft);
    return rc;
}

/* Self-signed: issuer equals subject and the certificate's own key verifies it. */
static int
tls_check_self_signed(X509 *cert, const char *where, struct problem *p)
{
    EVP_PKEY *pk = X509_get0_pubkey(cert);

    if (pk == NULL || X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(cert)) != 0 ||
        X509_verify(cert, pk) != 1) {
        ERR_clear_error();
        return problem_set(p, PROB_UNAUTHORIZED, "%s: the certificate is not self-signed",
                           where);
    }
    return CAIRN_OK;
}

static int
tls_judge(SSL *ssl, const struct ident *id, const uint8_t want[32], const char *where,
          struct problem *p)
{
    const unsigned char *proto = NULL;
    unsigned int plen = 0;
    X509 *cert;
    int rc;

    SSL_get0_alpn_selected(ssl, &proto, &plen);
    if (plen != strlen(ACME_TLS_ALPN) || memcmp(proto, ACME_TLS_ALPN, plen) != 0)
        return problem_set(p, PROB_UNAUTHORIZED,
                           "%s: the server did not negotiate the \"acme-tls/1\" protocol",
                           where);
    cert = SSL_get1_peer_certificate(ssl);
    if (cert == NULL)
        return problem_set(p, PROB_UNAUTHORIZED, "%s: no certificate presented", where);
    rc = tls_check_acme_ext(cert, want, where, p);
    if (rc == CAIRN_OK)
        rc = tls_check_san(cert, id, where, p);
    if (rc == CAIRN_OK)
        rc = tls_check_self_signed(cert, where, p);
    X509_free(cert);
    return rc;
}

/* One attempt at d: connect, handshake, judge. */
static int
tls_try(SSL_CTX *ctx, const struct tls_dial *d, const struct ident *id, const char *sni,
        const uint8_t want[32], int64_t deadline, struct problem *p)
{
    SSL *ssl = NULL;
    int fd, rc;

    fd = tls_connect(d, deadline, p);
    if (fd < 0)
        return CAIRN_ERR_PROTO;
    ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_set_tlsext_host_name(ssl, sni) != 1) {
        rc = CAIRN_ERR_NOMEM;
        goto out;
    }
    rc = tls_handshake(ssl, d, deadline, p);
    if (rc == CAIRN_OK)
        rc = tls_judge(ssl, id, want, d->where, p);
out:
    SSL_free(ssl);
    close(fd);
    ERR_clear_error();
    return rc;
}

/* The addresses to try, IPv6 first: the IP identifier itself or the name's A/AAAA. */
static int
tls_addrs(const struct va_config *cfg, const struct ident *id, int64_t deadline,
          struct va_addrs *a, struct problem *p)
{
    memset(a, 0, sizeof(*a));
    if (id->type == IDENT_IP) {
        bool v6 = strchr(id->value, ':') != NULL;
        char *dst = v6 ? a->v6[0] : a->v4[0];
        size_t dsz = v6 ? sizeof(a->v6[0]) : sizeof(a->v4[0]);

        if (strlen(id->value) >= dsz)
            return problem_set(p, PROB_CONNECTION, "invalid IP address");
        memcpy(dst, id->value, strlen(id->value) + 1);
        a->n6 = v6;
        a->n4 = !v6;
        return CAIRN_OK;
    }
    return va_dns_resolve(cfg, id->value, deadline, a, p);
}

int
va_tlsalpn01_check(const struct va_config *cfg, const struct st_va_job *job,
                   const char *key_authz, int64_t deadline, struct problem *p)
{
    char sni[CAIRN_MAX_IDENT_VALUE + 80];
    uint8_t want[EVP_MAX_MD_SIZE];
    unsigned int wl = 0;
    struct va_addrs a;
    struct tls_dial d;
    SSL_CTX *ctx = NULL;
    int port = cfg->tls_port > 0 ? cfg->tls_port : 443, rc;

    if (job->ident.wildcard)
        return problem_set(p, PROB_UNAUTHORIZED, "tls-alpn-01 is not allowed for wildcards");
    if (tls_sni(&job->ident, sni, sizeof(sni)) != CAIRN_OK)
        return problem_set(p, PROB_SERVER_INTERNAL, "cannot form the SNI for %s",
                           job->ident.value);
    if (EVP_Digest(key_authz, strlen(key_authz), want, &wl, EVP_sha256(), NULL) != 1 ||
        wl != 32)
        return CAIRN_ERR_CRYPTO;
    rc = tls_addrs(cfg, &job->ident, deadline, &a, p);
    if (rc != CAIRN_OK)
        return rc;
    ctx = tls_ctx_new();
    if (ctx == NULL)
        return CAIRN_ERR_NOMEM;
    rc = CAIRN_ERR_PROTO;
    if (a.n6 > 0) {
        tls_dial_set(&d, a.v6[0], true, port);
        rc = va_addr_check(cfg, d.addr, p);
        if (rc == CAIRN_OK)
            rc = tls_try(ctx, &d, &job->ident, sni, want, deadline, p);
        /* only a failure to connect falls back to IPv4 */
        if (rc != CAIRN_ERR_PROTO || p->type != PROB_CONNECTION || a.n4 == 0 ||
            va_ms_left(deadline) == 0)
            goto out;
    }
    tls_dial_set(&d, a.v4[0], false, port);
    rc = va_addr_check(cfg, d.addr, p);
    if (rc == CAIRN_OK)
        rc = tls_try(ctx, &d, &job->ident, sni, want, deadline, p);
out:
    SSL_CTX_free(ctx);
    OPENSSL_cleanse(want, sizeof(want));
    return rc;
}
