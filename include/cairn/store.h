/* store.h - every piece of ACME state goes through this interface.
 *
 * Implemented on SQLite (src/store/sqlite.c) in WAL mode; the same functions will dispatch to
 * PostgreSQL later, so nothing outside src/store/ sees SQL. Each function is one transaction
 * (writes use BEGIN IMMEDIATE); state changes that must happen once are conditional updates
 * whose affected-row count decides (CAIRN_ERR_CONFLICT when nothing matched).
 *
 * Thread-safety: a struct store may be shared by all threads; each thread lazily gets its own
 * SQLite connection (pthread key). Times are Unix seconds. Loads by id with a non-NULL
 * account_id also filter on it, so another account's object is CAIRN_ERR_NOTFOUND.
 *
 * Return codes: CAIRN_OK; CAIRN_ERR_NOTFOUND; CAIRN_ERR_CONFLICT (condition not met / unique
 * taken); CAIRN_ERR_BUSY (database locked past the busy timeout and retries: 503);
 * CAIRN_ERR_IO (any other database failure: 500); CAIRN_ERR_NOMEM; CAIRN_ERR_INVAL (NULL or
 * out-of-range arguments: a programming error). A conditional update on an object that does
 * not exist (or is another account's) is CAIRN_ERR_NOTFOUND rather than CONFLICT.
 *
 * An object "expires" when now >= expires_at; it is live while expires_at > now.
 *
 * store_close() may only run once every other thread that used the store has stopped doing
 * so; it closes the connections of threads still alive.
 *
 * Structs returned through out-parameters own their heap members; release them with the
 * matching *_cleanup(), which is safe on a zeroed struct. */
#ifndef CAIRN_STORE_H
#define CAIRN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/core.h"
#include "cairn/ident.h"

struct store;

enum acct_status { ACCT_VALID = 0, ACCT_DEACTIVATED, ACCT_REVOKED, ACCT__MAX };
enum order_status { ORDER_PENDING = 0, ORDER_READY, ORDER_PROCESSING, ORDER_VALID,
                    ORDER_INVALID, ORDER__MAX };
enum authz_status { AUTHZ_PENDING = 0, AUTHZ_VALID, AUTHZ_INVALID, AUTHZ_DEACTIVATED,
                    AUTHZ_EXPIRED, AUTHZ_REVOKED, AUTHZ__MAX };
enum chall_status { CHALL_PENDING = 0, CHALL_PROCESSING, CHALL_VALID, CHALL_INVALID,
                    CHALL_STATUS__MAX };
enum chall_type { CHALL_HTTP01 = 0, CHALL_DNS01, CHALL_TLSALPN01, CHALL_TYPE__MAX };
enum cert_status { CERT_PENDING = 0, CERT_GOOD, CERT_REVOKED, CERT__MAX };

/* Lower-case RFC 8555 names ("valid", "http-01", ...). */
const char *acct_status_name(enum acct_status s);
const char *order_status_name(enum order_status s);
const char *authz_status_name(enum authz_status s);
const char *chall_status_name(enum chall_status s);
const char *chall_type_name(enum chall_type t);

struct st_account {
    char id[CAIRN_ID_LEN + 1];
    char thumbprint[CAIRN_THUMBPRINT_LEN + 1]; /* RFC 7638, UNIQUE */
    char *jwk;             /* canonical public JWK as JSON text, owned */
    enum acct_status status;
    char *contact;         /* JSON array text, owned; NULL = none */
    bool tos_agreed;
    int64_t created_at;
};

struct st_challenge {
    char id[CAIRN_ID_LEN + 1];
    char authz_id[CAIRN_ID_LEN + 1];
    enum chall_type type;
    char token[CAIRN_TOKEN_LEN + 1]; /* UNIQUE */
    enum chall_status status;
    int64_t validated_at; /* 0 = never */
    char *error;          /* problem document JSON text, owned; NULL = none */
};

struct st_authz {
    char id[CAIRN_ID_LEN + 1];
    char account_id[CAIRN_ID_LEN + 1];
    struct ident ident;   /* value without "*.", wildcard flag set */
    enum authz_status status;
    int64_t expires_at;
    int64_t validated_at; /* 0 = never */
    struct st_challenge *chall; /* owned array */
    size_t nchall;
};

struct st_order {
    char id[CAIRN_ID_LEN + 1];
    char account_id[CAIRN_ID_LEN + 1];
    enum order_status status;
    int64_t expires_at;
    int64_t not_before;   /* 0 = not requested */
    int64_t not_after;    /* 0 = not requested */
    int64_t created_at;
    char profile[CAIRN_MAX_PROFILE_LEN + 1];
    struct ident *idents; /* owned; order form (wildcards keep "*.") */
    size_t nidents;
    char (*authz_ids)[CAIRN_ID_LEN + 1]; /* owned; same order as idents */
    size_t nauthz;
    char *error;          /* problem JSON text, owned; NULL = none */
    char cert_serial[CAIRN_SERIAL_HEX_MAX + 1]; /* "" until a certificate is stored */
    char replaces[CAIRN_MAX_CERTID_LEN + 1]; /* ARI certID of the replaced cert; "" = none */
};

struct st_cert {
    char serial[CAIRN_SERIAL_HEX_MAX + 1]; /* lowercase hex, UNIQUE */
    char order_id[CAIRN_ID_LEN + 1];       /* UNIQUE */
    char account_id[CAIRN_ID_LEN + 1];
    enum cert_status status;
    uint8_t *der;         /* leaf DER, owned; NULL while pending */
    size_t der_len;
    int64_t not_after;
    int64_t revoked_at;   /* 0 = not revoked */
    int reason;           /* revocation reason; -1 = none given */
    int64_t created_at;
};

/* Opens (creating if absent) the database at path and applies migrations. sync_full selects
 * synchronous=FULL (CA mode) over NORMAL (test mode). A database whose schema is newer than
 * this binary is refused (CAIRN_ERR_IO). */
int store_open(const char *path, bool sync_full, struct store **out) CAIRN_MUST_CHECK;
void store_close(struct store *st);
/* A trivial query for /health: CAIRN_OK when the database answers. */
int store_ping(struct store *st) CAIRN_MUST_CHECK;

/* A read snapshot for the calling thread, for the span of one request: until
 * store_snapshot_end() or the thread's next write operation, every read operation of this
 * thread joins one read transaction (one consistent view, one BEGIN/COMMIT instead of one per
 * read). A write operation ends the snapshot first, so the thread always reads its own
 * writes. Best effort: if the snapshot cannot start, reads run on their own as before.
 * store_snapshot_end() is a no-op when no snapshot is open. */
void store_snapshot_begin(struct store *st);
void store_snapshot_end(struct store *st);

void store_account_cleanup(struct st_account *a);
void store_challenge_cleanup(struct st_challenge *c);
void store_authz_cleanup(struct st_authz *a);
void store_order_cleanup(struct st_order *o);
void store_cert_cleanup(struct st_cert *c);

/* ---- accounts ---- */

/* Inserts a (CAIRN_ERR_CONFLICT when its thumbprint is taken). a->id and a->created_at are
 * set by the caller. */
int store_account_create(struct store *st, const struct st_account *a) CAIRN_MUST_CHECK;
int store_account_get(struct store *st, const char *id, struct st_account *out)
    CAIRN_MUST_CHECK;
int store_account_get_by_thumbprint(struct store *st, const char *thumbprint,
                                    struct st_account *out) CAIRN_MUST_CHECK;
/* Replaces the contact list (contact may be NULL: unchanged) and, when tos_agreed is true,
 * records agreement. Only a valid account (else CAIRN_ERR_CONFLICT). */
int store_account_update(struct store *st, const char *id, const char *contact,
                         bool tos_agreed) CAIRN_MUST_CHECK;
/* valid -> deactivated in one transaction with: the account's pending authorizations ->
 * deactivated; its pending/ready orders -> invalid. CAIRN_ERR_CONFLICT if not valid. */
int store_account_deactivate(struct store *st, const char *id, int64_t now) CAIRN_MUST_CHECK;
/* Key rollover: only when the stored thumbprint equals old_thumbprint and the account is
 * valid (else CAIRN_ERR_CONFLICT); the new thumbprint taken by another account:
 * CAIRN_ERR_CONFLICT too, distinguishable by store_account_get_by_thumbprint(). */
int store_account_change_key(struct store *st, const char *id, const char *old_thumbprint,
                             const char *new_thumbprint, const char *new_jwk) CAIRN_MUST_CHECK;

/* ---- orders and authorizations ---- */

/* Finds an authorization of account_id for ident (type, value, wildcard flag) that can be
 * reused at time now: pending and unexpired always; valid and unexpired when allow_valid.
 * Writes its id into out_id. CAIRN_ERR_NOTFOUND when none. */
int store_authz_find_reusable(struct store *st, const char *account_id,
                              const struct ident *ident, bool allow_valid, int64_t now,
                              char out_id[CAIRN_ID_LEN + 1]) CAIRN_MUST_CHECK;

/* Creates an order in one transaction:
 *  - o: id, account_id, expires_at, not_before, not_after, created_at, profile, idents; and
 *    authz_ids[i] for every identifier: either an existing authorization's id (reused) or the
 *    id of an entry in new_authz;
 *  - new_authz[0..nnew): complete authorizations with their challenges to insert.
 * The stored status is ready when every authorization is valid, else pending; o->status is
 * ignored. On success the created order's status is written to *status_out.
 * Every authz_ids[i] must name an authorization of o->account_id that is pending or valid and
 * unexpired at o->created_at (new ones included), else CAIRN_ERR_CONFLICT and nothing is
 * stored: a reusable authorization may die between find_reusable and create. The new
 * authorizations are owned by o->account_id whatever their account_id field says. A token
 * or id already taken is CAIRN_ERR_CONFLICT too. */
int store_order_create(struct store *st, const struct st_order *o,
                       const struct st_authz *new_authz, size_t nnew,
                       enum order_status *status_out) CAIRN_MUST_CHECK;
/* Loads an order with its identifiers, authz ids and certificate serial. An order past its
 * expiry in pending/ready/processing reads as invalid (and is updated so). account_id may be
 * NULL (no owner filter). */
int store_order_get(struct store *st, const char *id, const char *account_id, int64_t now,
                    struct st_order *out) CAIRN_MUST_CHECK;
/* Order ids of an account, oldest first, skipping invalid ones, starting after cursor (""
 * for the start). Writes up to max ids into ids and sets *n; *more says if others follow.
 * Orders past their expiry count as invalid by the wall clock (time(NULL)). A cursor that is
 * not one of the account's orders: CAIRN_ERR_NOTFOUND. */
int store_orders_list(struct store *st, const char *account_id, const char *cursor, size_t max,
                      char (*ids)[CAIRN_ID_LEN + 1], size_t *n, bool *more) CAIRN_MUST_CHECK;

/* Loads an authorization with its challenges. An authz past expires_at in pending/valid reads
 * as expired. account_id may be NULL. */
int store_authz_get(struct store *st, const char *id, const char *account_id, int64_t now,
                    struct st_authz *out) CAIRN_MUST_CHECK;
/* pending|valid -> deactivated; orders holding it that are pending/ready -> invalid. One
 * transaction; CAIRN_ERR_CONFLICT when the authz is in another state or already expired. */
int store_authz_deactivate(struct store *st, const char *id, const char *account_id,
                           int64_t now) CAIRN_MUST_CHECK;

/* Loads one challenge and its authorization (out_authz may be NULL). */
int store_challenge_get(struct store *st, const char *id, const char *account_id, int64_t now,
                        struct st_challenge *out, struct st_authz *out_authz) CAIRN_MUST_CHECK;

enum chall_start {
    CHALL_START_STARTED = 0, /* pending -> processing by this call */
    CHALL_START_NOOP,        /* already processing/valid/invalid, or the authz is valid */
    CHALL_START_SIBLING,     /* another challenge of the authz is processing or done */
    CHALL_START_AUTHZ_DEAD,  /* authz invalid, deactivated, expired or revoked */
};
/* Conditional start of validation: the challenge pending, its authz pending and unexpired, no
 * sibling processing/valid. due_at is when the VA should run it. */
int store_challenge_start(struct store *st, const char *id, const char *account_id,
                          int64_t now, int64_t due_at, enum chall_start *result)
    CAIRN_MUST_CHECK;

/* A challenge the VA must run (recovery after restart, or a queue refill). */
struct st_va_job {
    char chall_id[CAIRN_ID_LEN + 1];
    char authz_id[CAIRN_ID_LEN + 1];
    char account_id[CAIRN_ID_LEN + 1];
    char thumbprint[CAIRN_THUMBPRINT_LEN + 1]; /* the account key's, for the key authz */
    enum chall_type type;
    char token[CAIRN_TOKEN_LEN + 1];
    struct ident ident; /* the authorization's (no "*.", wildcard flag set) */
    int64_t due_at;
    int attempts;
    /* The account URL as the client saw it (set by the challenge handler, for CAA
     * accounturi); "" when loaded from the store: the VA then uses its base URL. */
    char acct_url[512];
};
/* Loads the VA job for one challenge in processing (CAIRN_ERR_CONFLICT when it is not). */
int store_va_job_get(struct store *st, const char *chall_id, struct st_va_job *out)
    CAIRN_MUST_CHECK;
/* Every challenge in processing whose authz is live, up to max; others (authz dead) are set
 * invalid in the same pass. */
int store_va_jobs_pending(struct store *st, int64_t now, struct st_va_job *out, size_t max,
                          size_t *n) CAIRN_MUST_CHECK;

/* The VA's final answer, in one transaction: challenge processing -> valid|invalid (error is
 * the problem JSON for invalid, else NULL), authz pending -> valid (expires_at set to
 * authz_valid_until) | invalid, and every order holding the authz: pending -> ready when all
 * its authzs are valid, pending|ready -> invalid when this authz failed.
 * CAIRN_ERR_CONFLICT when the challenge was no longer processing (nothing changed). */
int store_apply_validation(struct store *st, const char *chall_id, bool valid,
                           const char *error, int64_t now, int64_t authz_valid_until)
    CAIRN_MUST_CHECK;

/* ---- finalize and certificates ---- */

/* ready -> processing when the order is unexpired and every authz is valid and unexpired.
 * CAIRN_ERR_CONFLICT when not ready (check the state with store_order_get()); when ready but
 * an authz is no longer valid, the order becomes invalid and CAIRN_ERR_CONFLICT is returned
 * too. Inserts the pending certificate row (serial reserved, UNIQUE per order) in the same
 * transaction. */
int store_order_finalize_begin(struct store *st, const char *order_id, const char *account_id,
                               const char *serial, int64_t now) CAIRN_MUST_CHECK;
/* processing -> valid with the certificate DER stored (pending -> good), one transaction. */
int store_order_finalize_complete(struct store *st, const char *order_id, const char *serial,
                                  const uint8_t *der, size_t der_len, int64_t not_after,
                                  int64_t now) CAIRN_MUST_CHECK;
/* processing -> invalid with a problem JSON (issuance failed); the serial stays reserved. */
int store_order_finalize_fail(struct store *st, const char *order_id, const char *error)
    CAIRN_MUST_CHECK;

/* A pending certificate (reserved serial, not signed) has der NULL and cannot be revoked.
 * Loads a certificate by serial (lowercase hex without leading zeros normalisation: exactly
 * as stored). account_id may be NULL. */
int store_cert_get(struct store *st, const char *serial, const char *account_id,
                   struct st_cert *out) CAIRN_MUST_CHECK;
/* good -> revoked with reason and time; CAIRN_ERR_CONFLICT when already revoked. When
 * block_spki (lowercase hex SHA-256 of the key's SubjectPublicKeyInfo) is non-NULL the key is
 * blocked in the same transaction (keyCompromise proven with the key). */
int store_cert_revoke(struct store *st, const char *serial, int reason, int64_t now,
                      const char *block_spki) CAIRN_MUST_CHECK;
/* Whether a key (SPKI SHA-256 hex) was blocked by a keyCompromise revocation. */
int store_key_is_blocked(struct store *st, const char *spki_sha256, bool *blocked)
    CAIRN_MUST_CHECK;

/* Crash recovery before listening: runs PRAGMA integrity_check (failure: CAIRN_ERR_IO) unless
 * the last run ended with store_mark_clean_shutdown(), then
 * orders left processing without a good certificate -> invalid (serverInternal); returns the
 * number fixed in *fixed. Challenges left processing are requeued via
 * store_va_jobs_pending(). */
int store_recover(struct store *st, int64_t now, size_t *fixed) CAIRN_MUST_CHECK;
/* Records a clean shutdown (call after every writer stopped, before store_close): the next
 * store_recover() then skips the integrity check, which it runs after any other end. */
int store_mark_clean_shutdown(struct store *st) CAIRN_MUST_CHECK;

/* ---- protocol features: EAB, pre-authorization, ARI, revocation by authorization,
 * management API (src/store/sqlite_proto.c) ---- */

/* store_account_create() that also records the EAB key id the account was bound with
 * (eab_kid may be NULL: none). With single_use, a key id already bound to an account is
 * CAIRN_ERR_CONFLICT with *kid_taken set (a taken thumbprint: CONFLICT, *kid_taken false). */
int store_account_create_eab(struct store *st, const struct st_account *a, const char *eab_kid,
                             bool single_use, bool *kid_taken) CAIRN_MUST_CHECK;
/* The EAB key id of an account ("" when none). */
int store_account_eab_kid(struct store *st, const char *id,
                          char out[CAIRN_MAX_EAB_KID_LEN + 1]) CAIRN_MUST_CHECK;
/* Accounts bound with a key id. */
int store_eab_kid_accounts(struct store *st, const char *kid, int64_t *count) CAIRN_MUST_CHECK;

/* EAB MAC keys added by `cairn eab add`. put: CAIRN_ERR_CONFLICT when the kid exists. get:
 * copies at most cap bytes (CAIRN_ERR_NOTFOUND when absent). delete: CAIRN_ERR_NOTFOUND when
 * absent. list: up to max key ids (oldest first) with their creation times (may be NULL). */
int store_eab_key_put(struct store *st, const char *kid, const uint8_t *key, size_t len,
                      int64_t now) CAIRN_MUST_CHECK;
int store_eab_key_get(struct store *st, const char *kid, uint8_t *key, size_t cap,
                      size_t *len) CAIRN_MUST_CHECK;
int store_eab_key_delete(struct store *st, const char *kid) CAIRN_MUST_CHECK;
int store_eab_key_list(struct store *st, size_t max, char (*kids)[CAIRN_MAX_EAB_KID_LEN + 1],
                       int64_t *created, size_t *n) CAIRN_MUST_CHECK;

/* newAuthz (RFC 8555 §7.4.1): inserts a complete authorization with its challenges, owned by
 * a->account_id and flagged as a pre-authorization. */
int store_authz_create_preauth(struct store *st, const struct st_authz *a, int64_t now)
    CAIRN_MUST_CHECK;
/* Flags an existing authorization of account_id as a pre-authorization. */
int store_authz_mark_preauth(struct store *st, const char *id, const char *account_id)
    CAIRN_MUST_CHECK;
/* A valid, unexpired pre-authorization of account_id for ident (reused by newOrder whatever
 * PEBBLE_AUTHZREUSE says). CAIRN_ERR_NOTFOUND when none. */
int store_authz_find_preauth(struct store *st, const char *account_id,
                             const struct ident *ident, int64_t now,
                             char out_id[CAIRN_ID_LEN + 1]) CAIRN_MUST_CHECK;
/* RFC 8555 §7.6: whether account_id holds a valid, unexpired authorization for every
 * identifier (order form; a "*." name is covered by an authorization of its base name). */
int store_account_holds_authz(struct store *st, const char *account_id,
                              const struct ident *idents, size_t n, int64_t now, bool *holds)
    CAIRN_MUST_CHECK;

/* ARI: whether an order that is not invalid (nor expired unfinished) already replaces the
 * certificate named by certid. store_order_create() re-checks inside its transaction
 * (CAIRN_ERR_CONFLICT). */
int store_order_replaced(struct store *st, const char *certid, int64_t now, bool *replaced)
    CAIRN_MUST_CHECK;
/* Test-mode renewalInfo override for a certificate serial (POST /set-renewal-info/). get:
 * heap text the caller frees; CAIRN_ERR_NOTFOUND when none. */
int store_ari_override_set(struct store *st, const char *serial, const char *response,
                           int64_t now) CAIRN_MUST_CHECK;
int store_ari_override_get(struct store *st, const char *serial, char **response)
    CAIRN_MUST_CHECK;

/* Management listing: up to max ids, oldest first. Certificates: only signed ones. Order ids
 * of an account include invalid orders. */
int store_account_ids(struct store *st, size_t max, char (*ids)[CAIRN_ID_LEN + 1], size_t *n)
    CAIRN_MUST_CHECK;
int store_account_order_ids(struct store *st, const char *account_id, size_t max,
                            char (*ids)[CAIRN_ID_LEN + 1], size_t *n) CAIRN_MUST_CHECK;
int store_cert_serials(struct store *st, size_t max, char (*serials)[CAIRN_SERIAL_HEX_MAX + 1],
                       size_t *n) CAIRN_MUST_CHECK;
/* POST /cairn/reset: deletes every account, order, authorization, challenge, certificate,
 * blocked key and ARI override in one transaction. EAB keys and the CA stay. */
int store_reset(struct store *st) CAIRN_MUST_CHECK;

/* ---- administration (cairn accounts|certs|db ...; src/store/sqlite_admin.c) ---- */

struct st_account_summary {
    struct st_account acct;
    int64_t orders; /* orders ever created */
    int64_t certs;  /* certificates issued (good or revoked) */
};
/* Accounts oldest first, or the one with id (CAIRN_ERR_NOTFOUND when absent). *out is a
 * heap array of *n entries; free with store_admin_accounts_free(). */
int store_admin_accounts(struct store *st, const char *id, struct st_account_summary **out,
                         size_t *n) CAIRN_MUST_CHECK;
void store_admin_accounts_free(struct st_account_summary *a, size_t n);
/* Issued certificates (not pending) newest first, of one account or all (account_id NULL),
 * without their DER. Free with store_admin_certs_free(). */
int store_admin_certs(struct store *st, const char *account_id, struct st_cert **out,
                      size_t *n) CAIRN_MUST_CHECK;
void store_admin_certs_free(struct st_cert *c, size_t n);
/* Consistent copy of the database to dest_path (which must not exist) with SQLite's online
 * backup API, while other connections keep writing; the copy is integrity-checked. */
int store_admin_backup(struct store *st, const char *dest_path) CAIRN_MUST_CHECK;

struct st_check_item {
    const char *name;  /* what is checked (static text) */
    int64_t count;     /* rows violating it; 0 = fine */
};
#define STORE_CHECK_ITEMS 8
/* PRAGMA integrity_check (its first line into integrity, "ok" when sound) and the state
 * invariants into items[0..*n). */
int store_admin_check(struct store *st, char *integrity, size_t integrity_sz,
                      struct st_check_item items[STORE_CHECK_ITEMS], size_t *n)
    CAIRN_MUST_CHECK;

/* ---- CRL (src/store/sqlite_crl.c) ---- */

struct st_revoked {
    char serial[CAIRN_SERIAL_HEX_MAX + 1];
    int64_t revoked_at;
    int reason; /* -1 = none given */
};
/* Every revoked certificate still unexpired at now (not_after > now), by serial. *out is a
 * heap array (NULL when *n is 0) the caller frees. */
int store_crl_revoked(struct store *st, int64_t now, struct st_revoked **out, size_t *n)
    CAIRN_MUST_CHECK;
/* Increments and returns the CRL number of one issuer (kv "crl_number.<issuer>"), starting
 * at 1; one transaction, so numbers never repeat. */
int store_crl_next_number(struct store *st, const char *issuer, int64_t *number)
    CAIRN_MUST_CHECK;

/* A VA retry (RFC 8555 §8.2): the challenge stays processing with attempts + 1 and the new
 * due_at. CAIRN_ERR_CONFLICT when it is no longer processing (nothing changed). */
int store_challenge_retry(struct store *st, const char *chall_id, int64_t due_at)
    CAIRN_MUST_CHECK;

/* ready -> invalid with a problem JSON (finalize's CAA recheck refused). CAIRN_ERR_CONFLICT
 * when the order is not ready (nothing changed). */
int store_order_fail_ready(struct store *st, const char *order_id, const char *error)
    CAIRN_MUST_CHECK;

#endif
