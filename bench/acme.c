/* acme.c - the client half of ACME for the benchmark: account keys, JWS (ES256/RS256), the CSR
 * and the flows. Keys and the CSR are made before the clock starts where the mode allows. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define JOSE "application/jose+json"
#define POLL_MAX 10000

uint64_t
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static size_t
b64url(const unsigned char *in, size_t n, char *out)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i;

    for (i = 0; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = al[v >> 18];
        out[o++] = al[(v >> 12) & 63];
        out[o++] = al[(v >> 6) & 63];
        out[o++] = al[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = al[v >> 18];
        out[o++] = al[(v >> 12) & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = al[v >> 18];
        out[o++] = al[(v >> 12) & 63];
        out[o++] = al[(v >> 6) & 63];
    }
    out[o] = '\0';
    return o;
}

static char *
b64url_alloc(const unsigned char *in, size_t n)
{
    char *out = malloc(n / 3 * 4 + 8);

    if (out != NULL)
        b64url(in, n, out);
    return out;
}

EVP_PKEY *
acme_keygen(bool rsa)
{
    return rsa ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
               : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* The public JWK as JSON text, members in lexicographic order. */
static int
jwk_json(EVP_PKEY *k, char *out, size_t outsz)
{
    unsigned char buf[600];
    char a[820], b[820];
    size_t len = 0;

    if (EVP_PKEY_is_a(k, "EC")) {
        if (EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof(buf),
                                            &len) != 1 || len != 65)
            return -1;
        b64url(buf + 1, 32, a);
        b64url(buf + 33, 32, b);
        return snprintf(out, outsz, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                        a, b) < (int)outsz ? 0 : -1;
    } else {
        BIGNUM *n = NULL, *e = NULL;
        int ok = EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
                 EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) == 1 &&
                 BN_num_bytes(n) <= (int)sizeof(buf);
        if (ok) {
            len = (size_t)BN_bn2bin(n, buf);
            b64url(buf, len, a);
            len = (size_t)BN_bn2bin(e, buf);
            b64url(buf, len, b);
        }
        BN_free(n);
        BN_free(e);
        if (!ok)
            return -1;
        return snprintf(out, outsz, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", b, a) <
                       (int)outsz
                   ? 0
                   : -1;
    }
}

/* Signs data; ES256 signatures are converted from DER to r||s. */
static int
sign(EVP_PKEY *k, const char *data, size_t len, unsigned char *sig, size_t *siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[600];
    size_t dlen = sizeof(der);
    int ok = md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k) == 1 &&
             EVP_DigestSign(md, der, &dlen, (const unsigned char *)data, len) == 1;

    EVP_MD_CTX_free(md);
    if (!ok)
        return -1;
    if (EVP_PKEY_is_a(k, "EC")) {
        const unsigned char *p = der;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
        const BIGNUM *r, *s;

        if (es == NULL)
            return -1;
        ECDSA_SIG_get0(es, &r, &s);
        ok = BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(s, sig + 32, 32) == 32;
        ECDSA_SIG_free(es);
        *siglen = 64;
        return ok ? 0 : -1;
    }
    memcpy(sig, der, dlen);
    *siglen = dlen;
    return 0;
}

/* Builds the flattened JWS for url with payload (NULL: POST-as-GET); kid or jwk. */
static char *
jws(struct worker *w, EVP_PKEY *k, bool use_jwk, const char *url, const char *payload)
{
    char prot[2400], jwk[1000], *pb = NULL, *pl = NULL, *signing = NULL, *out = NULL;
    unsigned char sig[600];
    size_t siglen = 0, plen = payload ? strlen(payload) : 0, slen;
    char sigb[820];

    if (use_jwk && jwk_json(k, jwk, sizeof(jwk)) != 0)
        return NULL;
    if (snprintf(prot, sizeof(prot), "{\"alg\":\"%s\",%s%s%s,\"nonce\":\"%s\",\"url\":\"%s\"}",
                 EVP_PKEY_is_a(k, "EC") ? "ES256" : "RS256", use_jwk ? "\"jwk\":" : "\"kid\":\"",
                 use_jwk ? jwk : w->kid, use_jwk ? "" : "\"", w->nonce, url) >=
        (int)sizeof(prot))
        return NULL;
    w->nonce[0] = '\0'; /* spent */
    pb = b64url_alloc((const unsigned char *)prot, strlen(prot));
    pl = b64url_alloc((const unsigned char *)(payload ? payload : ""), plen);
    if (pb == NULL || pl == NULL)
        goto out;
    slen = strlen(pb) + strlen(pl) + 2;
    signing = malloc(slen);
    if (signing == NULL)
        goto out;
    snprintf(signing, slen, "%s.%s", pb, pl);
    if (sign(k, signing, strlen(signing), sig, &siglen) != 0)
        goto out;
    b64url(sig, siglen, sigb);
    slen = strlen(pb) + strlen(pl) + strlen(sigb) + 64;
    out = malloc(slen);
    if (out != NULL)
        snprintf(out, slen, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}", pb,
                 pl, sigb);
out:
    free(pb);
    free(pl);
    free(signing);
    return out;
}

static void
count_problem(struct worker *w, const struct hresp *r, const char *what)
{
    char kind[96];
    json_t *j = r->body_len ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
    const char *t = json_string_value(json_object_get(j, "type"));

    if (t != NULL) {
        const char *short_t = strrchr(t, ':');
        snprintf(kind, sizeof(kind), "%s %s", what, short_t ? short_t + 1 : t);
    } else {
        snprintf(kind, sizeof(kind), "%s status %d", what, r->status);
    }
    stats_error(&w->st, kind);
    json_decref(j);
}

/* One timed request; keeps the response nonce. 0 = a response with the wanted status. */
static int
timed(struct worker *w, enum step s, const char *method, const char *url, const char *ctype,
      const char *body, int want, struct hresp *r)
{
    uint64_t t0 = now_us();
    int rc = hconn_request(&w->h, method, url, ctype, body, body ? strlen(body) : 0, r);

    w->st.requests++;
    if (rc != 0) {
        stats_error(&w->st, r->timed_out ? "timeout" : "transport");
        return -1;
    }
    samples_add(&w->st.step[s], now_us() - t0);
    if (r->nonce[0])
        snprintf(w->nonce, sizeof(w->nonce), "%s", r->nonce);
    if (r->status != want) {
        count_problem(w, r, step_name(s));
        return -1;
    }
    return 0;
}

static int
get_nonce(struct worker *w)
{
    struct hresp r;

    if (w->nonce[0])
        return 0;
    if (timed(w, STEP_NONCE, "HEAD", w->dir.new_nonce, NULL, NULL, 200, &r) != 0)
        return -1;
    return w->nonce[0] ? 0 : -1;
}

/* Signed POST: a fresh nonce first when the last response carried none. */
static int
post(struct worker *w, enum step s, EVP_PKEY *k, bool use_jwk, const char *url,
     const char *payload, int want, struct hresp *r)
{
    char *body;
    int rc;

    if (get_nonce(w) != 0)
        return -1;
    body = jws(w, k, use_jwk, url, payload);
    if (body == NULL) {
        stats_error(&w->st, "client jws");
        return -1;
    }
    rc = timed(w, s, "POST", url, JOSE, body, want, r);
    free(body);
    return rc;
}

static json_t *
body_json(struct worker *w, const struct hresp *r)
{
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);

    if (j == NULL)
        stats_error(&w->st, "client bad json");
    return j;
}

static int
copy_str(json_t *o, const char *key, char *out, size_t outsz)
{
    const char *v = json_string_value(json_object_get(o, key));

    if (v == NULL || strlen(v) >= outsz)
        return -1;
    snprintf(out, outsz, "%s", v);
    return 0;
}

int
acme_get_dir(struct worker *w, const char *dir_url)
{
    struct hresp r;
    json_t *j;
    int rc;

    if (timed(w, STEP_DIR, "GET", dir_url, NULL, NULL, 200, &r) != 0)
        return -1;
    j = body_json(w, &r);
    rc = j != NULL && copy_str(j, "newNonce", w->dir.new_nonce, BENCH_URL_MAX) == 0 &&
                 copy_str(j, "newAccount", w->dir.new_account, BENCH_URL_MAX) == 0 &&
                 copy_str(j, "newOrder", w->dir.new_order, BENCH_URL_MAX) == 0
             ? 0
             : -1;
    json_decref(j);
    return rc;
}

int
acme_dir_once(struct worker *w, const char *dir_url)
{
    struct hresp r;

    if (timed(w, STEP_DIR, "GET", dir_url, NULL, NULL, 200, &r) != 0)
        return -1;
    w->st.ops++;
    return 0;
}

int
acme_nonce_once(struct worker *w)
{
    struct hresp r;

    if (timed(w, STEP_NONCE, "HEAD", w->dir.new_nonce, NULL, NULL, 200, &r) != 0)
        return -1;
    w->st.ops++;
    return 0;
}

static int
make_csr(struct worker *w)
{
    EVP_PKEY *k = acme_keygen(false);
    X509_REQ *req = X509_REQ_new();
    X509_NAME *nm = X509_NAME_new();
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION *san = NULL;
    char san_txt[80];
    unsigned char *der = NULL;
    int len = -1, rc = -1;

    snprintf(san_txt, sizeof(san_txt), "DNS:%s", w->name);
    if (k == NULL || req == NULL || nm == NULL || exts == NULL)
        goto out;
    san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san_txt);
    if (san == NULL || !sk_X509_EXTENSION_push(exts, san))
        goto out;
    san = NULL;
    if (X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)w->name, -1,
                                   -1, 0) != 1 ||
        X509_REQ_set_subject_name(req, nm) != 1 || X509_REQ_set_pubkey(req, k) != 1 ||
        X509_REQ_add_extensions(req, exts) != 1 || X509_REQ_sign(req, k, EVP_sha256()) <= 0)
        goto out;
    len = i2d_X509_REQ(req, &der);
    if (len <= 0)
        goto out;
    {
        char *b = b64url_alloc(der, (size_t)len);
        size_t n = b ? strlen(b) + 16 : 0;
        w->csr_b64 = b ? malloc(n) : NULL;
        if (w->csr_b64 != NULL) {
            snprintf(w->csr_b64, n, "{\"csr\":\"%s\"}", b);
            rc = 0;
        }
        free(b);
    }
out:
    X509_EXTENSION_free(san);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_NAME_free(nm);
    X509_REQ_free(req);
    EVP_PKEY_free(k);
    OPENSSL_free(der);
    return rc;
}

int
acme_worker_prepare(struct worker *w)
{
    snprintf(w->name, sizeof(w->name), "w%d.bench.example", w->id);
    if (make_csr(w) != 0)
        return -1;
    w->nkeys = w->cfg->reuse_account ? 1 : w->cfg->key_pool;
    if (w->nkeys == 0)
        w->nkeys = 1;
    w->keys = calloc(w->nkeys, sizeof(*w->keys));
    if (w->keys == NULL)
        return -1;
    for (size_t i = 0; i < w->nkeys; i++) {
        w->keys[i] = acme_keygen(w->cfg->rsa);
        if (w->keys[i] == NULL)
            return -1;
    }
    return 0;
}

void
acme_worker_cleanup(struct worker *w)
{
    for (size_t i = 0; w->keys != NULL && i < w->nkeys; i++)
        EVP_PKEY_free(w->keys[i]);
    free(w->keys);
    if (w->acct_key != NULL && w->nextkey > w->nkeys)
        EVP_PKEY_free(w->acct_key);
    free(w->csr_b64);
    hconn_free(&w->h);
    stats_free(&w->st);
}

/* The next account key: from the pool, then generated (client CPU, counted). */
static EVP_PKEY *
next_key(struct worker *w)
{
    if (w->acct_key != NULL && w->nextkey > w->nkeys)
        EVP_PKEY_free(w->acct_key);
    w->acct_key = NULL;
    if (w->nextkey < w->nkeys)
        w->acct_key = w->keys[w->nextkey];
    else
        w->acct_key = acme_keygen(w->cfg->rsa);
    w->nextkey++;
    return w->acct_key;
}

static int
new_account(struct worker *w)
{
    struct hresp r;
    EVP_PKEY *k;

    if (w->cfg->reuse_account && w->kid[0])
        return 0;
    k = w->cfg->reuse_account ? w->keys[0] : next_key(w);
    if (w->cfg->reuse_account)
        w->acct_key = k;
    if (k == NULL) {
        stats_error(&w->st, "client keygen");
        return -1;
    }
    if (post(w, STEP_ACCOUNT, k, true, w->dir.new_account, "{\"termsOfServiceAgreed\":true}",
             201, &r) != 0)
        return -1;
    if (r.location[0] == '\0')
        return -1;
    snprintf(w->kid, sizeof(w->kid), "%s", r.location);
    return 0;
}

struct order {
    char url[BENCH_URL_MAX];
    char authz[BENCH_URL_MAX];
    char finalize[BENCH_URL_MAX];
    char chall[BENCH_URL_MAX];
    char cert[BENCH_URL_MAX];
};

static int
new_order(struct worker *w, struct order *o)
{
    char payload[200];
    struct hresp r;
    json_t *j;
    int rc = -1;

    snprintf(payload, sizeof(payload), "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"%s\"}]}",
             w->name);
    if (post(w, STEP_ORDER, w->acct_key, false, w->dir.new_order, payload, 201, &r) != 0)
        return -1;
    snprintf(o->url, sizeof(o->url), "%s", r.location);
    j = body_json(w, &r);
    if (j != NULL && copy_str(j, "finalize", o->finalize, sizeof(o->finalize)) == 0) {
        const char *a = json_string_value(json_array_get(json_object_get(j, "authorizations"), 0));
        if (a != NULL && strlen(a) < sizeof(o->authz)) {
            snprintf(o->authz, sizeof(o->authz), "%s", a);
            rc = 0;
        }
    }
    json_decref(j);
    return rc;
}

static int
get_authz(struct worker *w, struct order *o)
{
    struct hresp r;
    json_t *j, *ch;
    size_t i;
    int rc = -1;

    if (post(w, STEP_AUTHZ, w->acct_key, false, o->authz, NULL, 200, &r) != 0)
        return -1;
    j = body_json(w, &r);
    json_array_foreach(json_object_get(j, "challenges"), i, ch) {
        const char *t = json_string_value(json_object_get(ch, "type"));
        if (t != NULL && strcmp(t, "http-01") == 0 &&
            copy_str(ch, "url", o->chall, sizeof(o->chall)) == 0) {
            rc = 0;
            break;
        }
    }
    json_decref(j);
    return rc;
}

/* POST-as-GET url until its status is valid; "invalid" or the deadline is an error. */
static int
poll_until_valid(struct worker *w, enum step s, const char *url, char *cert, size_t certsz,
                 uint64_t deadline)
{
    for (int i = 0; i < POLL_MAX; i++) {
        struct hresp r;
        json_t *j;
        const char *st;
        int done = 0;

        if (post(w, s, w->acct_key, false, url, NULL, 200, &r) != 0)
            return -1;
        j = body_json(w, &r);
        st = json_string_value(json_object_get(j, "status"));
        if (st != NULL && strcmp(st, "valid") == 0) {
            done = cert == NULL || copy_str(j, "certificate", cert, certsz) == 0 ? 1 : -1;
        } else if (st == NULL || strcmp(st, "invalid") == 0) {
            done = -1;
        }
        json_decref(j);
        if (done == 1)
            return 0;
        if (done < 0) {
            stats_error(&w->st, s == STEP_POLL ? "authz invalid" : "order invalid");
            return -1;
        }
        if (now_us() > deadline) {
            stats_error(&w->st, "poll deadline");
            return -1;
        }
        /* back off a little after the first immediate retries */
        if (i >= 2) {
            struct timespec ts = { 0, 500000 };
            nanosleep(&ts, NULL);
        }
    }
    stats_error(&w->st, "poll limit");
    return -1;
}

static int
finalize(struct worker *w, struct order *o, uint64_t deadline)
{
    struct hresp r;
    json_t *j;
    const char *st;
    int rc = -1;

    if (post(w, STEP_FINALIZE, w->acct_key, false, o->finalize, w->csr_b64, 200, &r) != 0)
        return -1;
    j = body_json(w, &r);
    st = json_string_value(json_object_get(j, "status"));
    if (st != NULL && strcmp(st, "valid") == 0)
        rc = copy_str(j, "certificate", o->cert, sizeof(o->cert));
    else if (st != NULL && strcmp(st, "processing") == 0)
        rc = poll_until_valid(w, STEP_ORDER_POLL, o->url, o->cert, sizeof(o->cert), deadline);
    else
        stats_error(&w->st, "finalize status");
    json_decref(j);
    return rc;
}

int
acme_issue(struct worker *w, uint64_t deadline)
{
    struct order o = { 0 };
    struct hresp r;
    uint64_t t0 = now_us();

    if (new_account(w) != 0 || new_order(w, &o) != 0 || get_authz(w, &o) != 0)
        return -1;
    if (post(w, STEP_CHALLENGE, w->acct_key, false, o.chall, "{}", 200, &r) != 0 ||
        poll_until_valid(w, STEP_POLL, o.authz, NULL, 0, deadline) != 0 ||
        finalize(w, &o, deadline) != 0)
        return -1;
    if (post(w, STEP_CERT, w->acct_key, false, o.cert, NULL, 200, &r) != 0)
        return -1;
    if (r.body_len < 100 || strstr(r.body, "-----BEGIN CERTIFICATE-----") == NULL) {
        stats_error(&w->st, "cert body");
        return -1;
    }
    samples_add(&w->st.step[STEP_ISSUANCE], now_us() - t0);
    w->st.ops++;
    return 0;
}
