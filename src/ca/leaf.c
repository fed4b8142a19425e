/* leaf.c - end-entity certificates: ACME leaves and cairn's own listener certificates
 * (ARCHITECTURE.md §11 "Leaf contents"), plus small certificate utilities. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca_int.h"
#include "cairn/keypolicy.h"
#include "cairn/log.h"

struct leaf_spec {
    const uint8_t *serial;
    size_t serial_len;
    EVP_PKEY *pubkey;
    const struct ident *idents;
    size_t nidents;
    int64_t not_before;
    int64_t not_after;
    const char *cn; /* NULL: empty subject */
    const char *crl_url;
    const char *ca_issuers_url;
};

static GENERAL_NAME *
san_entry(const struct ident *id)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_STRING *s = NULL;
    uint8_t addr[16];
    int type, len;

    if (gn == NULL)
        return NULL;
    if (id->type == IDENT_DNS) {
        type = GEN_DNS;
        s = ASN1_IA5STRING_new();
        if (s == NULL || ASN1_STRING_set(s, id->value, (int)strlen(id->value)) != 1)
            goto fail;
    } else {
        type = GEN_IPADD;
        if (inet_pton(AF_INET, id->value, addr) == 1)
            len = 4;
        else if (inet_pton(AF_INET6, id->value, addr) == 1)
            len = 16;
        else
            goto fail;
        s = ASN1_OCTET_STRING_new();
        if (s == NULL || ASN1_OCTET_STRING_set(s, addr, len) != 1)
            goto fail;
    }
    GENERAL_NAME_set0_value(gn, type, s);
    return gn;
fail:
    ASN1_STRING_free(s);
    GENERAL_NAME_free(gn);
    return NULL;
}

/* SANs built as GENERAL_NAMEs, never parsed from a config-style string. RFC 5280 §4.2.1.6:
 * critical when the subject is empty. */
static int
add_sans(X509 *x, const struct ident *idents, size_t n, bool critical)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    int rc = CAIRN_ERR_CRYPTO;

    if (gens == NULL)
        return CAIRN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        GENERAL_NAME *gn = san_entry(&idents[i]);

        if (gn == NULL || sk_GENERAL_NAME_push(gens, gn) <= 0) {
            GENERAL_NAME_free(gn);
            goto out;
        }
    }
    if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, critical ? 1 : 0, X509V3_ADD_DEFAULT) == 1)
        rc = CAIRN_OK;
out:
    GENERAL_NAMES_free(gens);
    return rc;
}

/* The subject public key: EC keys written directly into the certificate's SPKI, since
 * X509_set_pubkey() runs OpenSSL 3's encoder for every certificate (6 % of the server's CPU
 * per issuance, docs/performance.md); other key types the usual way. Same DER either way. */
static int
leaf_set_pubkey(X509 *x, const EVP_PKEY *key)
{
    int rc = key_x509_pubkey_set(X509_get_X509_PUBKEY(x), key);

    if (rc == CAIRN_ERR_INVAL)
        return X509_set_pubkey(x, (EVP_PKEY *)key) == 1 ? CAIRN_OK : CAIRN_ERR_CRYPTO;
    return rc;
}

static int
leaf_fields(X509 *x, X509 *issuer, const struct leaf_spec *s)
{
    X509_NAME *subj = X509_get_subject_name(x);

    if (X509_set_version(x, X509_VERSION_3) != 1 ||
        ca_set_serial(x, s->serial, s->serial_len) != CAIRN_OK ||
        X509_set_issuer_name(x, X509_get_subject_name(issuer)) != 1 ||
        leaf_set_pubkey(x, s->pubkey) != CAIRN_OK ||
        ca_set_validity(x, s->not_before, s->not_after) != CAIRN_OK)
        return CAIRN_ERR_CRYPTO;
    if (s->cn != NULL && X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8,
                                                    (const unsigned char *)s->cn, -1, -1, 0) != 1)
        return CAIRN_ERR_CRYPTO;
    return CAIRN_OK;
}

static GENERAL_NAME *
uri_name(const char *url)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *s = ASN1_IA5STRING_new();

    if (gn == NULL || s == NULL || ASN1_STRING_set(s, url, (int)strlen(url)) != 1) {
        GENERAL_NAME_free(gn);
        ASN1_IA5STRING_free(s);
        return NULL;
    }
    GENERAL_NAME_set0_value(gn, GEN_URI, s);
    return gn;
}

/* CRL distribution point with one fullName URI, built as structures (a URL is never parsed
 * as a config string, so a comma in it cannot inject another value). */
static int
add_crl_dp(X509 *x, const char *url)
{
    CRL_DIST_POINTS *dps = sk_DIST_POINT_new_null();
    DIST_POINT *dp = DIST_POINT_new();
    DIST_POINT_NAME *dpn = DIST_POINT_NAME_new();
    GENERAL_NAME *gn = uri_name(url);
    int rc = CAIRN_ERR_CRYPTO;

    if (dps == NULL || dp == NULL || dpn == NULL || gn == NULL)
        goto out;
    dpn->type = 0; /* fullName */
    dpn->name.fullname = sk_GENERAL_NAME_new_null();
    if (dpn->name.fullname == NULL || sk_GENERAL_NAME_push(dpn->name.fullname, gn) <= 0)
        goto out;
    gn = NULL;
    dp->distpoint = dpn;
    dpn = NULL;
    if (sk_DIST_POINT_push(dps, dp) <= 0)
        goto out;
    dp = NULL;
    if (X509_add1_ext_i2d(x, NID_crl_distribution_points, dps, 0, X509V3_ADD_DEFAULT) == 1)
        rc = CAIRN_OK;
out:
    GENERAL_NAME_free(gn);
    DIST_POINT_NAME_free(dpn);
    DIST_POINT_free(dp);
    CRL_DIST_POINTS_free(dps);
    return rc;
}

static int
add_aia(X509 *x, const char *url)
{
    AUTHORITY_INFO_ACCESS *aia = sk_ACCESS_DESCRIPTION_new_null();
    ACCESS_DESCRIPTION *ad = ACCESS_DESCRIPTION_new();
    GENERAL_NAME *gn = uri_name(url);
    int rc = CAIRN_ERR_CRYPTO;

    if (aia == NULL || ad == NULL || gn == NULL)
        goto out;
    ASN1_OBJECT_free(ad->method);
    ad->method = OBJ_nid2obj(NID_ad_ca_issuers);
    GENERAL_NAME_free(ad->location);
    ad->location = gn;
    gn = NULL;
    if (sk_ACCESS_DESCRIPTION_push(aia, ad) <= 0)
        goto out;
    ad = NULL;
    if (X509_add1_ext_i2d(x, NID_info_access, aia, 0, X509V3_ADD_DEFAULT) == 1)
        rc = CAIRN_OK;
out:
    GENERAL_NAME_free(gn);
    ACCESS_DESCRIPTION_free(ad);
    AUTHORITY_INFO_ACCESS_free(aia);
    return rc;
}

static int
leaf_exts(X509 *x, X509 *issuer, const struct leaf_spec *s)
{
    bool rsa = EVP_PKEY_get_base_id(s->pubkey) == EVP_PKEY_RSA;

    if (ca_add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") ||
        ca_add_ext(x, issuer, NID_key_usage,
                   rsa ? "critical,digitalSignature,keyEncipherment"
                       : "critical,digitalSignature") ||
        ca_add_ext(x, issuer, NID_ext_key_usage, "serverAuth") ||
        ca_add_ext(x, issuer, NID_subject_key_identifier, "hash") ||
        ca_add_ext(x, issuer, NID_authority_key_identifier, "keyid:always"))
        return CAIRN_ERR_CRYPTO;
    if (s->crl_url != NULL && add_crl_dp(x, s->crl_url) != CAIRN_OK)
        return CAIRN_ERR_CRYPTO;
    if (s->ca_issuers_url != NULL && add_aia(x, s->ca_issuers_url) != CAIRN_OK)
        return CAIRN_ERR_CRYPTO;
    return add_sans(x, s->idents, s->nidents, s->cn == NULL);
}

/* Builds and signs a leaf under the issuing intermediate. */
static int
leaf_make(struct ca *ca, const struct leaf_spec *s, X509 **out)
{
    X509 *issuer = ca->ints[ca->chain_length - 1];
    X509 *x = X509_new();
    int rc = CAIRN_ERR_NOMEM;

    if (x == NULL)
        goto out;
    rc = leaf_fields(x, issuer, s);
    if (rc == CAIRN_OK)
        rc = leaf_exts(x, issuer, s);
    if (rc == CAIRN_OK)
        rc = ca_sign(ca, x, ca->int_keys[ca->chain_length - 1]);
out:
    if (rc != CAIRN_OK) {
        log_openssl("ca", "building a leaf");
        X509_free(x);
        return rc;
    }
    *out = x;
    return CAIRN_OK;
}

/* A URL for an IA5String extension: printable ASCII without spaces, bounded. */
static bool
url_ok(const char *u)
{
    size_t n = u ? strlen(u) : 0;

    if (u == NULL)
        return true;
    if (n < 8 || n > 1000)
        return false;
    for (size_t i = 0; i < n; i++)
        if (u[i] <= ' ' || u[i] > '~')
            return false;
    return true;
}

static int
leaf_req_check(const struct ca_leaf_req *req)
{
    bool nonzero = false;

    if (req == NULL || req->serial == NULL || req->serial_len < 16 || req->serial_len > 20 ||
        (req->serial[0] & 0x80) != 0 || req->pubkey == NULL || req->idents == NULL ||
        req->nidents == 0 || req->nidents > CAIRN_MAX_IDENTS || req->not_after <= req->not_before)
        return CAIRN_ERR_INVAL;
    if (!url_ok(req->crl_url) || !url_ok(req->ca_issuers_url))
        return CAIRN_ERR_INVAL;
    for (size_t i = 0; i < req->serial_len; i++)
        nonzero = nonzero || req->serial[i] != 0;
    if (!nonzero)
        return CAIRN_ERR_INVAL;
    for (size_t i = 0; i < req->nidents; i++) {
        const struct ident *id = &req->idents[i];
        uint8_t a[16];

        if (id->value[0] == '\0' || memchr(id->value, '\0', sizeof(id->value)) == NULL)
            return CAIRN_ERR_INVAL;
        if (id->type == IDENT_IP && inet_pton(AF_INET, id->value, a) != 1 &&
            inet_pton(AF_INET6, id->value, a) != 1)
            return CAIRN_ERR_INVAL;
        if (id->type != IDENT_IP && id->type != IDENT_DNS)
            return CAIRN_ERR_INVAL;
    }
    return CAIRN_OK;
}

/* The first DNS name of at most 64 characters (RFC 5280 ub-common-name), or NULL. */
static const char *
promoted_cn(const struct ident *idents, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (idents[i].type == IDENT_DNS && strlen(idents[i].value) <= 64)
            return idents[i].value;
    return NULL;
}

int
ca_issue_leaf(struct ca *ca, const struct ca_leaf_req *req, uint8_t **der, size_t *der_len)
{
    struct leaf_spec s;
    X509 *x = NULL;
    unsigned char *buf = NULL, *q;
    int len, rc;

    *der = NULL;
    *der_len = 0;
    rc = leaf_req_check(req);
    if (rc != CAIRN_OK)
        return rc;
    s = (struct leaf_spec){
        req->serial,    req->serial_len,
        req->pubkey,    req->idents,
        req->nidents,   req->not_before,
        req->not_after, req->promote_cn ? promoted_cn(req->idents, req->nidents) : NULL,
        req->crl_url,   req->ca_issuers_url
    };
    rc = leaf_make(ca, &s, &x);
    if (rc != CAIRN_OK)
        return rc;
    rc = CAIRN_ERR_CRYPTO;
    len = i2d_X509(x, NULL);
    if (len <= 0)
        goto out;
    buf = malloc((size_t)len);
    if (buf == NULL) {
        rc = CAIRN_ERR_NOMEM;
        goto out;
    }
    q = buf;
    if (i2d_X509(x, &q) != len)
        goto out;
    *der = buf;
    *der_len = (size_t)len;
    buf = NULL;
    rc = CAIRN_OK;
out:
    free(buf);
    X509_free(x);
    return rc;
}

/* A listener name: an IP literal (stored canonically) or a host name. */
static int
listener_ident(const char *name, struct ident *id)
{
    uint8_t a[16];
    size_t len = name ? strlen(name) : 0;

    memset(id, 0, sizeof(*id));
    if (len == 0 || len > CAIRN_MAX_NAME)
        return CAIRN_ERR_INVAL;
    if (inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1) {
        int af = strchr(name, ':') ? AF_INET6 : AF_INET;

        id->type = IDENT_IP;
        if (inet_ntop(af, a, id->value, sizeof(id->value)) == NULL)
            return CAIRN_ERR_INVAL;
        return CAIRN_OK;
    }
    id->type = IDENT_DNS;
    memcpy(id->value, name, len + 1);
    return CAIRN_OK;
}

static char *
pem_concat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), total;
    char *s;

    if (size_add(la, lb, &total) != 0 || size_add(total, 1, &total) != 0)
        return NULL;
    s = malloc(total);
    if (s == NULL)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

static int
listener_build(struct ca *ca, EVP_PKEY *key, const struct ident *ids, size_t n, char **cert_pem)
{
    uint8_t serial[CA_SERIAL_LEN];
    int64_t now = (int64_t)time(NULL);
    struct leaf_spec s;
    X509 *x = NULL;
    char *pem = NULL;
    int rc = ca_random_serial(serial);

    if (rc != CAIRN_OK)
        return rc;
    s = (struct leaf_spec){ serial,
                            sizeof(serial),
                            key,
                            ids,
                            n,
                            now - CA_BACKDATE,
                            now + (int64_t)CA_LISTENER_DAYS * 86400,
                            promoted_cn(ids, n),
                            NULL,
                            NULL };
    rc = leaf_make(ca, &s, &x);
    if (rc != CAIRN_OK)
        return rc;
    pem = ca_x509_pem(x);
    *cert_pem = pem ? pem_concat(pem, ca->chain_pem) : NULL;
    rc = *cert_pem ? CAIRN_OK : CAIRN_ERR_NOMEM;
    free(pem);
    X509_free(x);
    return rc;
}

int
ca_make_listener_cert(struct ca *ca, const char *const *names, size_t n, char **cert_pem,
                      char **key_pem)
{
    struct ident *ids = NULL;
    EVP_PKEY *key = NULL;
    size_t klen = 0;
    int rc;

    *cert_pem = NULL;
    *key_pem = NULL;
    if (names == NULL || n == 0 || n > CAIRN_MAX_IDENTS)
        return CAIRN_ERR_INVAL;
    ids = calloc(n, sizeof(*ids));
    if (ids == NULL)
        return CAIRN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        rc = listener_ident(names[i], &ids[i]);
        if (rc != CAIRN_OK)
            goto out;
    }
    rc = CAIRN_ERR_CRYPTO;
    key = ca_keygen(false); /* listener keys are always P-256 */
    if (key == NULL)
        goto out;
    rc = listener_build(ca, key, ids, n, cert_pem);
    if (rc != CAIRN_OK)
        goto out;
    *key_pem = ca_key_pem(key, &klen);
    if (*key_pem == NULL) {
        free(*cert_pem);
        *cert_pem = NULL;
        rc = CAIRN_ERR_NOMEM;
    }
out:
    EVP_PKEY_free(key);
    free(ids);
    return rc;
}

int
ca_cert_serial_if_ours(const struct ca *ca, const uint8_t *der, size_t der_len,
                       char serial_hex[CAIRN_SERIAL_HEX_MAX + 1])
{
    X509 *issuer = ca->ints[ca->chain_length - 1];
    X509 *x = ca_x509_from_der(der, der_len);
    BIGNUM *bn = NULL;
    char *hex = NULL;
    const char *digits;
    size_t n;
    int rc = CAIRN_ERR_NOTFOUND;

    if (x == NULL)
        return CAIRN_ERR_INVAL;
    if (X509_check_issued(issuer, x) != X509_V_OK || X509_verify(x, X509_get0_pubkey(issuer)) != 1)
        goto out;
    bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    hex = bn ? BN_bn2hex(bn) : NULL;
    if (hex == NULL) {
        rc = CAIRN_ERR_NOMEM;
        goto out;
    }
    /* Our serials are positive and at most 20 octets; anything else is not one of ours. */
    digits = hex + strspn(hex, "0"); /* BN_bn2hex pads to whole octets */
    if (BN_is_negative(bn) || BN_is_zero(bn) || strlen(digits) > CAIRN_SERIAL_HEX_MAX)
        goto out;
    for (n = 0; digits[n] != '\0'; n++)
        serial_hex[n] =
            (char)(digits[n] >= 'A' && digits[n] <= 'F' ? digits[n] + ('a' - 'A') : digits[n]);
    serial_hex[n] = '\0';
    rc = CAIRN_OK;
out:
    ERR_clear_error();
    OPENSSL_free(hex);
    BN_free(bn);
    X509_free(x);
    return rc;
}

char *
ca_der_to_pem(const uint8_t *der, size_t der_len)
{
    const unsigned char *q = der;
    BIO *b = NULL;
    char *s = NULL, *data = NULL;
    long n, inner = 0;
    int tag = 0, cls = 0;

    /* Certificate download calls this on every request with DER this CA signed and stored:
     * check the framing (one DER SEQUENCE spanning der exactly) rather than decoding it, which
     * in OpenSSL 3 builds a key decoder for the public key and cost more than the signature
     * checks of the whole request (docs/performance.md). */
    if (der == NULL || der_len == 0 || der_len > CAIRN_MAX_CERT_DER)
        return NULL;
    if ((ASN1_get_object(&q, &inner, &tag, &cls, (long)der_len) & 0x80) != 0 ||
        tag != V_ASN1_SEQUENCE || cls != V_ASN1_UNIVERSAL ||
        (size_t)(q - der) + (size_t)inner != der_len) {
        ERR_clear_error();
        return NULL;
    }
    /* PEM of the exact bytes given, not of a re-encoding. */
    b = BIO_new(BIO_s_mem());
    if (b == NULL || PEM_write_bio(b, PEM_STRING_X509, "", der, (long)der_len) <= 0)
        goto out;
    n = BIO_get_mem_data(b, &data);
    if (n <= 0)
        goto out;
    s = malloc((size_t)n + 1);
    if (s == NULL)
        goto out;
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
out:
    BIO_free(b);
    return s;
}

EVP_PKEY *
ca_cert_pubkey(const uint8_t *der, size_t der_len)
{
    X509 *x = ca_x509_from_der(der, der_len);
    EVP_PKEY *k = NULL;

    if (x == NULL)
        return NULL;
    k = X509_get_pubkey(x);
    X509_free(x);
    ERR_clear_error();
    return k;
}
