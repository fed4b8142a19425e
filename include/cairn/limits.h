/* limits.h - every bound on untrusted input, in one place (PROTOCOL.md §6). */
#ifndef CAIRN_LIMITS_H
#define CAIRN_LIMITS_H

#define CAIRN_MAX_BODY (64 * 1024)        /* POST body, declared or streamed */
#define CAIRN_MAX_JSON_DEPTH 32           /* nesting of any JSON we parse */
#define CAIRN_MAX_NONCE_LEN 128           /* JWS nonce characters */
#define CAIRN_MAX_KID_LEN 2048            /* JWS kid characters */
#define CAIRN_MAX_URL_LEN 2048            /* JWS url characters */
#define CAIRN_MAX_IDENTS 100              /* identifiers per order */
#define CAIRN_MAX_CSR_SANS 100            /* SANs per CSR */
#define CAIRN_MAX_CSR_DER (32 * 1024)     /* CSR size */
#define CAIRN_MAX_CERT_DER (32 * 1024)    /* certificate in revokeCert */
#define CAIRN_MAX_NAME 253                /* DNS name octets */
#define CAIRN_MAX_LABEL 63                /* DNS label octets */
#define CAIRN_MAX_LABELS 10               /* DNS labels per name */
#define CAIRN_MAX_IDENT_VALUE 255         /* "*." + 253 octets */
#define CAIRN_MAX_CONTACTS 10             /* contacts per account */
#define CAIRN_MAX_CONTACT_LEN 320         /* characters per contact */
#define CAIRN_MAX_PROFILE_LEN 64          /* profile name */
#define CAIRN_MAX_HTTP01_BODY 128         /* bytes read from a challenge target */
#define CAIRN_MAX_REDIRECTS 10            /* http-01 redirects */
#define CAIRN_NONCE_MAX_AGE 300           /* seconds */
#define CAIRN_NONCE_SKEW 5                /* seconds of tolerated clock skew */
#define CAIRN_MAX_CERTID_LEN 200          /* ARI certID characters (RFC 9773) */
#define CAIRN_MAX_EAB_KID_LEN 128         /* EAB key id characters */
#define CAIRN_MAX_EAB_KEY 256             /* EAB MAC key bytes */
/* Request head (H01). These are the defaults and the upper bounds of the limits.* settings:
 * 8 KiB + 16 KiB stay well inside libmicrohttpd's 64 KiB per-connection pool. */
#define CAIRN_MAX_REQUEST_TARGET 8192     /* request target bytes (414) */
#define CAIRN_MAX_HEADER_FIELD 8192       /* one header field, name + value (431) */
#define CAIRN_MAX_HEADER_TOTAL 16384      /* all header fields (431) */
#define CAIRN_MAX_HEADER_FIELDS 100       /* header fields (431) */
/* Longest string in a JWS payload, as written in the JSON text: room for a base64url CSR or
 * certificate at their 32 KiB DER caps (43,691 characters). */
#define CAIRN_MAX_JSON_STRING (44 * 1024)

#endif
