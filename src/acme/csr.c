/* csr.c - finalize-time CSR checks (PROTOCOL.md §5 "CSR"). Every refusal is badCSR. */
#include "cairn/csr.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* Names found in a CSR: SANs plus the CN, lower-cased, de-duplicated. */
struct csr_names {
    struct ident *v;
    size_t n;
    size_t cap;
};

static bool
sig_alg_allowed(int nid, const struct key_policy *pol)
{
    switch (nid) {
    case NID_sha256WithRSAEncryption:
    case NID_sha384WithRSAEncryption:
    case NID_sha512WithRSAEncryption:
    case NID_ecdsa_with_SHA256:
    case NID_ecdsa_with_SHA384:
    case NID_ecdsa_with_SHA512:
        return true;
    case NID_ED25519:
        return pol->allow_ed25519;
    default:
        return false; /* SHA-1, MD5, DSA, RSA-PSS and anything unknown */
    }
}

/* The signature algorithm alg, on both CSR paths: accepted by the policy and belonging to
 * the key's type, not merely verifying by accident. *md_nid is its digest (NID_undef for
 * Ed25519). */
static int
sig_alg_check(const X509_ALGOR *alg, const EVP_PKEY *key, const struct key_policy *pol,
              int *md_nid, struct problem *p)
{
    const ASN1_OBJECT *obj = NULL;
    int nid, pk_nid = NID_undef;

    X509_ALGOR_get0(&obj, NULL, NULL, alg);
    nid = OBJ_obj2nid(obj);
    if (!sig_alg_allowed(nid, pol))
        return problem_set(p, PROB_BAD_CSR, "CSR signature algorithm %s is not accepted",
                           nid == NID_undef ? "(unknown)" : OBJ_nid2sn(nid));
    if (!OBJ_find_sigid_algs(nid, md_nid, &pk_nid) || pk_nid != EVP_PKEY_get_base_id(key))
        return problem_set(p, PROB_BAD_CSR, "CSR signature algorithm does not fit its key");
    return CAIRN_OK;
}

static int
sig_check(X509_REQ *req, EVP_PKEY *key, const struct key_policy *pol, struct problem *p)
{
    const ASN1_BIT_STRING *sig = NULL;
    const X509_ALGOR *alg = NULL;
    int md_nid = NID_undef, rc;

    X509_REQ_get0_signature(req, &sig, &alg);
    rc = sig_alg_check(alg, key, pol, &md_nid, p);
    if (rc != CAIRN_OK)
        return rc;
    if (X509_REQ_verify(req, key) != 1) {
        ERR_clear_error();
        return problem_set(p, PROB_BAD_CSR, "CSR signature does not verify");
    }
    return CAIRN_OK;
}

static int
names_add(struct csr_names *nm, enum ident_type t, const char *value, size_t len, struct problem *p)
{
    struct ident id;

    if (len == 0 || len > CAIRN_MAX_IDENT_VALUE || memchr(value, '\0', len) != NULL)
        return problem_set(p, PROB_BAD_CSR, "CSR holds an empty, overlong or NUL-bearing name");
    memset(&id, 0, sizeof(id));
    id.type = t;
    for (size_t i = 0; i < len; i++) {
        char c = value[i];
        id.value[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    id.wildcard = t == IDENT_DNS && len >= 2 && id.value[0] == '*' && id.value[1] == '.';
    for (size_t i = 0; i < nm->n; i++)
        if (nm->v[i].type == t && strcmp(nm->v[i].value, id.value) == 0)
            return CAIRN_OK;
    if (nm->n == nm->cap)
        return problem_set(p, PROB_BAD_CSR, "CSR has more than %d names", CAIRN_MAX_CSR_SANS);
    nm->v[nm->n++] = id;
    return CAIRN_OK;
}

static int
san_one(const GENERAL_NAME *gn, struct csr_names *nm, struct problem *p)
{
    char ip[INET6_ADDRSTRLEN];
    const ASN1_STRING *s;
    int af;

    switch (gn->type) {
    case GEN_DNS:
        s = gn->d.dNSName;
        return names_add(nm, IDENT_DNS, (const char *)ASN1_STRING_get0_data(s),
                         (size_t)ASN1_STRING_length(s), p);
    case GEN_IPADD:
        s = gn->d.iPAddress;
        if (ASN1_STRING_length(s) == 4)
            af = AF_INET;
        else if (ASN1_STRING_length(s) == 16)
            af = AF_INET6;
        else
            return problem_set(p, PROB_BAD_CSR, "CSR iPAddress SAN of bad length");
        if (inet_ntop(af, ASN1_STRING_get0_data(s), ip, sizeof(ip)) == NULL)
            return problem_set(p, PROB_BAD_CSR, "CSR iPAddress SAN does not render");
        return names_add(nm, IDENT_IP, ip, strlen(ip), p);
    case GEN_EMAIL:
        return problem_set(p, PROB_BAD_CSR,
                           "CSR has an email SAN; only dNSName and iPAddress "
                           "are allowed");
    case GEN_URI:
        return problem_set(p, PROB_BAD_CSR,
                           "CSR has a URI SAN; only dNSName and iPAddress "
                           "are allowed");
    default:
        return problem_set(p, PROB_BAD_CSR,
                           "CSR has a SAN of a type other than dNSName and "
                           "iPAddress");
    }
}

/* exts: the CSR's requested extensions, borrowed; NULL (they did not parse) counts as none. */
static int
sans_collect(const STACK_OF(X509_EXTENSION) *exts, struct csr_names *nm, struct problem *p)
{
    GENERAL_NAMES *gens = NULL;
    int rc = CAIRN_OK, idx, crit = 0;

    if (exts == NULL)
        return CAIRN_OK;
    idx = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
    if (idx >= 0 && X509v3_get_ext_by_NID(exts, NID_subject_alt_name, idx) >= 0) {
        rc = problem_set(p, PROB_BAD_CSR, "CSR requests subjectAltName twice");
        goto out;
    }
    if (idx < 0)
        goto out;
    gens = X509V3_get_d2i(exts, NID_subject_alt_name, &crit, NULL);
    if (gens == NULL) {
        rc = problem_set(p, PROB_BAD_CSR, "CSR subjectAltName does not parse");
        goto out;
    }
    if (sk_GENERAL_NAME_num(gens) > CAIRN_MAX_CSR_SANS) {
        rc = problem_set(p, PROB_BAD_CSR, "CSR has more than %d SANs", CAIRN_MAX_CSR_SANS);
        goto out;
    }
    for (int i = 0; i < sk_GENERAL_NAME_num(gens) && rc == CAIRN_OK; i++)
        rc = san_one(sk_GENERAL_NAME_value(gens, i), nm, p);
out:
    GENERAL_NAMES_free(gens);
    ERR_clear_error();
    return rc;
}

static bool
order_has(const struct ident *idents, size_t n, enum ident_type t, const char *v)
{
    for (size_t i = 0; i < n; i++)
        if (idents[i].type == t && strcmp(idents[i].value, v) == 0)
            return true;
    return false;
}

/* The CN is optional; when present it must be one of the order's DNS names (never an IP). */
static int
cn_collect(const X509_NAME *subj, const struct ident *idents, size_t n, struct csr_names *nm,
           struct problem *p)
{
    unsigned char *utf8 = NULL;
    int idx, len, rc;
    char cn[CAIRN_MAX_IDENT_VALUE + 1];

    idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
    if (idx < 0)
        return CAIRN_OK;
    if (X509_NAME_get_index_by_NID(subj, NID_commonName, idx) >= 0)
        return problem_set(p, PROB_BAD_CSR, "CSR subject has more than one CN");
    len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx)));
    if (len <= 0 || (size_t)len > CAIRN_MAX_IDENT_VALUE || memchr(utf8, '\0', (size_t)len)) {
        OPENSSL_free(utf8);
        return problem_set(p, PROB_BAD_CSR, "CSR CN is empty, overlong or not a name");
    }
    for (int i = 0; i < len; i++)
        cn[i] = (char)(utf8[i] >= 'A' && utf8[i] <= 'Z' ? utf8[i] + ('a' - 'A') : utf8[i]);
    cn[len] = '\0';
    OPENSSL_free(utf8);
    if (order_has(idents, n, IDENT_IP, cn))
        return problem_set(p, PROB_BAD_CSR, "CSR CN %s is an IP address", cn);
    if (!order_has(idents, n, IDENT_DNS, cn))
        return problem_set(p, PROB_BAD_CSR, "CSR CN %s is not one of the order's names", cn);
    rc = names_add(nm, IDENT_DNS, cn, strlen(cn), p);
    return rc;
}

/* D6: the CSR's names equal the order's exactly; one subproblem per offending name. */
static int
names_match(const struct csr_names *nm, const struct ident *idents, size_t n, struct problem *p)
{
    int rc;

    for (size_t i = 0; i < nm->n; i++) {
        if (order_has(idents, n, nm->v[i].type, nm->v[i].value))
            continue;
        rc = problem_add_sub(p, PROB_BAD_CSR, ident_type_name(nm->v[i].type), nm->v[i].value,
                             "CSR names %s, which the order does not", nm->v[i].value);
        if (rc != CAIRN_OK)
            return rc;
    }
    for (size_t i = 0; i < n; i++) {
        bool found = false;

        for (size_t j = 0; j < nm->n && !found; j++)
            found = nm->v[j].type == idents[i].type && strcmp(nm->v[j].value, idents[i].value) == 0;
        if (found)
            continue;
        rc = problem_add_sub(p, PROB_BAD_CSR, ident_type_name(idents[i].type), idents[i].value,
                             "CSR is missing %s", idents[i].value);
        if (rc != CAIRN_OK)
            return rc;
    }
    if (p->nsub == 0)
        return CAIRN_OK;
    /* The detail names the first offending name; the subproblems list all of them. */
    char detail[CAIRN_PROBLEM_DETAIL];

    if (p->nsub == 1)
        snprintf(detail, sizeof(detail), "CSR names do not match the order: %.200s",
                 p->sub[0].detail);
    else
        snprintf(detail, sizeof(detail),
                 "CSR names do not match the order: %.150s (and %zu more in subproblems)",
                 p->sub[0].detail, p->nsub - 1);
    return problem_from_subs(p, detail);
}

static int
csr_names_check(const STACK_OF(X509_EXTENSION) *exts, const X509_NAME *subj,
                const struct ident *idents, size_t n, struct problem *p)
{
    struct csr_names nm = { NULL, 0, CAIRN_MAX_CSR_SANS + 1 };
    int rc;

    nm.v = calloc(nm.cap, sizeof(*nm.v));
    if (nm.v == NULL)
        return CAIRN_ERR_NOMEM;
    rc = sans_collect(exts, &nm, p);
    if (rc == CAIRN_OK)
        rc = cn_collect(subj, idents, n, &nm, p);
    if (rc == CAIRN_OK)
        rc = names_match(&nm, idents, n, p);
    free(nm.v);
    return rc;
}

/* After the signature, on both paths: the key policy, then the names; on success the key
 * moves into out. */
static int
csr_accept(EVP_PKEY **key, const STACK_OF(X509_EXTENSION) *exts, const X509_NAME *subj,
           const struct ident *idents, size_t nidents, const struct key_policy *pol,
           struct csr *out, struct problem *p)
{
    int rc = key_policy_check(*key, pol, PROB_BAD_CSR, p);

    if (rc == CAIRN_OK)
        rc = csr_names_check(exts, subj, idents, nidents, p);
    if (rc == CAIRN_OK) {
        out->key = *key;
        *key = NULL;
    }
    return rc;
}

/* ---- EC fast path ----
 * d2i_X509_REQ turns the subject key into an EVP_PKEY through an OpenSSL 3.0 decoder context
 * that it builds on every call: 5-6 % of the server's CPU per certificate, more than the CSR's
 * other checks together (docs/performance.md, round 3). So the CSR is first read with the
 * same RFC 2986 structure but the SubjectPublicKeyInfo left as an algorithm and a bit string.
 * An EC key on a named curve is rebuilt from its point; any other key (RSA, Ed25519, explicit
 * curve parameters) returns CSR_NOT_EC and takes the X509_REQ path. The checks and their
 * problem details are the same on both paths; test_csr runs every case through both kinds of
 * key. The typedefs are what OpenSSL's ASN.1 template macros need. */
#define CSR_NOT_EC 1

typedef struct {
    X509_ALGOR *alg;
    ASN1_BIT_STRING *key;
} CSR_SPKI;

typedef struct {
    ASN1_ENCODING enc; /* the received bytes of the signed part, verified as they came */
    ASN1_INTEGER *version;
    X509_NAME *subject;
    CSR_SPKI *spki;
    STACK_OF(X509_ATTRIBUTE) *attrs;
} CSR_INFO;

typedef struct {
    CSR_INFO *info;
    X509_ALGOR *sig_alg;
    ASN1_BIT_STRING *sig;
} CSR_RAW;

ASN1_SEQUENCE(CSR_SPKI) = {
    ASN1_SIMPLE(CSR_SPKI, alg, X509_ALGOR),
    ASN1_SIMPLE(CSR_SPKI, key, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(CSR_SPKI)

ASN1_SEQUENCE_enc(CSR_INFO, enc, NULL) = {
    ASN1_SIMPLE(CSR_INFO, version, ASN1_INTEGER),
    ASN1_SIMPLE(CSR_INFO, subject, X509_NAME),
    ASN1_SIMPLE(CSR_INFO, spki, CSR_SPKI),
    /* [0] IMPLICIT SET OF Attribute; optional as X509_REQ reads it, so the paths agree */
    ASN1_IMP_SET_OF_OPT(CSR_INFO, attrs, X509_ATTRIBUTE, 0),
} static_ASN1_SEQUENCE_END_ref(CSR_INFO, CSR_INFO)

ASN1_SEQUENCE(CSR_RAW) = {
    ASN1_SIMPLE(CSR_RAW, info, CSR_INFO),
    ASN1_SIMPLE(CSR_RAW, sig_alg, X509_ALGOR),
    ASN1_SIMPLE(CSR_RAW, sig, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(CSR_RAW)

/* The OpenSSL group name of an id-ecPublicKey SPKI on a named curve, or NULL. */
static const char *
raw_ec_group(const CSR_SPKI *spki)
{
    const ASN1_OBJECT *obj = NULL;
    const void *param = NULL;
    int ptype = V_ASN1_UNDEF;

    X509_ALGOR_get0(&obj, &ptype, &param, spki->alg);
    if (OBJ_obj2nid(obj) != NID_X9_62_id_ecPublicKey || ptype != V_ASN1_OBJECT)
        return NULL;
    switch (OBJ_obj2nid(param)) {
    case NID_X9_62_prime256v1:
    case NID_secp384r1:
    case NID_secp521r1:
        return OBJ_nid2sn(OBJ_obj2nid(param));
    default:
        return NULL; /* other curves: the X509_REQ path and the key policy decide */
    }
}

/* sig_check() for the raw form: the same rules, over the signed part's received bytes. */
static int
raw_sig_check(const CSR_RAW *raw, EVP_PKEY *key, const struct key_policy *pol,
              struct problem *p)
{
    int md_nid = NID_undef, ok = 0;
    EVP_MD_CTX *mctx = NULL;
    int rc = sig_alg_check(raw->sig_alg, key, pol, &md_nid, p);

    if (rc != CAIRN_OK)
        return rc;
    mctx = EVP_MD_CTX_new();
    if (mctx != NULL && (raw->sig->flags & 0x07) == 0 && raw->info->enc.enc != NULL &&
        EVP_DigestVerifyInit_ex(mctx, NULL, OBJ_nid2sn(md_nid), NULL, NULL, key, NULL) == 1)
        ok = EVP_DigestVerify(mctx, ASN1_STRING_get0_data(raw->sig),
                              (size_t)ASN1_STRING_length(raw->sig), raw->info->enc.enc,
                              (size_t)raw->info->enc.len) == 1;
    EVP_MD_CTX_free(mctx);
    if (!ok) {
        ERR_clear_error();
        return problem_set(p, PROB_BAD_CSR, "CSR signature does not verify");
    }
    return CAIRN_OK;
}

/* The requested extensions as X509_REQ_get_extensions() finds them: the first
 * extensionRequest attribute (PKCS#9's OID, then Microsoft's), its first value. NULL when
 * that value is not a SEQUENCE of extensions; an empty stack when there is none. */
static STACK_OF(X509_EXTENSION) *
raw_extensions(const STACK_OF(X509_ATTRIBUTE) *attrs)
{
    static const int nids[] = { NID_ext_req, NID_ms_ext_req };
    const ASN1_TYPE *t = NULL;
    const unsigned char *q;

    for (size_t i = 0; i < CAIRN_ARRAY_LEN(nids); i++) {
        int idx = X509at_get_attr_by_NID(attrs, nids[i], -1);

        if (idx < 0)
            continue;
        t = X509_ATTRIBUTE_get0_type(X509at_get_attr(attrs, idx), 0);
        if (t == NULL)
            break;
        if (t->type != V_ASN1_SEQUENCE)
            return NULL;
        q = t->value.sequence->data;
        return (STACK_OF(X509_EXTENSION) *)ASN1_item_d2i(
            NULL, &q, t->value.sequence->length, ASN1_ITEM_rptr(X509_EXTENSIONS));
    }
    return sk_X509_EXTENSION_new_null();
}

static int
csr_check_ec(const uint8_t *der, size_t der_len, const struct ident *idents, size_t nidents,
             const struct key_policy *pol, struct csr *out, struct problem *p)
{
    const unsigned char *q = der;
    CSR_RAW *raw = NULL;
    EVP_PKEY *key = NULL;
    STACK_OF(X509_EXTENSION) *exts = NULL;
    const char *group;
    int rc = CSR_NOT_EC;

    raw = (CSR_RAW *)ASN1_item_d2i(NULL, &q, (long)der_len, ASN1_ITEM_rptr(CSR_RAW));
    /* Anything unusual (no parse, trailing bytes, another key type, a point with unused
     * bits): the X509_REQ path gives the verdict and its detail. */
    if (raw == NULL || q != der + der_len || (group = raw_ec_group(raw->info->spki)) == NULL ||
        (raw->info->spki->key->flags & 0x07) != 0)
        goto out;
    key = key_ec_from_point(group, ASN1_STRING_get0_data(raw->info->spki->key),
                            (size_t)ASN1_STRING_length(raw->info->spki->key));
    if (key == NULL) {
        rc = problem_set(p, PROB_BAD_CSR, "CSR public key does not parse");
        goto out;
    }
    rc = raw_sig_check(raw, key, pol, p);
    if (rc == CAIRN_OK) {
        exts = raw_extensions(raw->info->attrs);
        rc = csr_accept(&key, exts, raw->info->subject, idents, nidents, pol, out, p);
    }
out:
    ERR_clear_error();
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    EVP_PKEY_free(key);
    ASN1_item_free((ASN1_VALUE *)raw, ASN1_ITEM_rptr(CSR_RAW));
    return rc;
}

/* Any CSR through X509_REQ: every key type OpenSSL decodes. */
static int
csr_check_req(const uint8_t *der, size_t der_len, const struct ident *idents, size_t nidents,
              const struct key_policy *pol, struct csr *out, struct problem *p)
{
    const unsigned char *q = der;
    X509_REQ *req = NULL;
    EVP_PKEY *key = NULL;
    STACK_OF(X509_EXTENSION) *exts = NULL;
    int rc = CAIRN_ERR_PROTO;

    req = d2i_X509_REQ(NULL, &q, (long)der_len);
    if (req == NULL || q != der + der_len) { /* trailing bytes are refused */
        problem_set(p, PROB_BAD_CSR, "CSR is not exactly one DER PKCS#10 request");
        goto out;
    }
    key = X509_REQ_get_pubkey(req);
    if (key == NULL) {
        problem_set(p, PROB_BAD_CSR, "CSR public key does not parse");
        goto out;
    }
    rc = sig_check(req, key, pol, p);
    if (rc == CAIRN_OK) {
        exts = X509_REQ_get_extensions(req);
        rc = csr_accept(&key, exts, X509_REQ_get_subject_name(req), idents, nidents, pol, out,
                        p);
    }
out:
    ERR_clear_error();
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    EVP_PKEY_free(key);
    X509_REQ_free(req);
    return rc;
}

int
csr_check(const uint8_t *der, size_t der_len, const struct ident *idents, size_t nidents,
          const struct key_policy *pol, struct csr *out, struct problem *p)
{
    int rc;

    out->key = NULL;
    if (der == NULL || der_len == 0 || der_len > CAIRN_MAX_CSR_DER)
        return problem_set(p, PROB_BAD_CSR, "CSR size %zu out of range", der_len);
    rc = csr_check_ec(der, der_len, idents, nidents, pol, out, p);
    if (rc != CSR_NOT_EC)
        return rc;
    return csr_check_req(der, der_len, idents, nidents, pol, out, p);
}

void
csr_cleanup(struct csr *c)
{
    if (c == NULL)
        return;
    EVP_PKEY_free(c->key);
    c->key = NULL;
}
