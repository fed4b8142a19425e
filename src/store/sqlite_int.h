/* sqlite_int.h - internals shared by the SQLite store files (src/store/sqlite*.c only).
 *
 * A struct store_conn is one thread's SQLite connection with its prepared-statement cache.
 * Operations are functions of type store_tx_fn run by store_tx() (write transaction, BEGIN
 * IMMEDIATE, retried on busy) or store_rx() (read transaction). Inside them, statements are
 * run with store_q_*(), whose parameters are a STORE_ARGS(...) list of typed values, so a
 * wrong parameter type is a compile error rather than a silent misbinding. */
#ifndef CAIRN_STORE_SQLITE_INT_H
#define CAIRN_STORE_SQLITE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "cairn/store.h"

struct store_conn;

/* Runs inside a transaction; CAIRN_OK commits, anything else rolls back. A result that must
 * be reported while still committing (e.g. CONFLICT after marking an order invalid) travels
 * in arg. CAIRN_ERR_BUSY from fn makes store_tx() re-run the whole function. */
typedef int store_tx_fn(struct store_conn *c, void *arg);

int store_tx(struct store *st, store_tx_fn *fn, void *arg) CAIRN_MUST_CHECK;
int store_rx(struct store *st, store_tx_fn *fn, void *arg) CAIRN_MUST_CHECK;

enum store_arg_kind { STORE_ARG_END = 0, STORE_ARG_TEXT, STORE_ARG_INT, STORE_ARG_BLOB };

struct store_arg {
    enum store_arg_kind kind;
    const char *text;  /* NULL binds SQL NULL */
    int64_t i;
    const void *blob;  /* NULL binds SQL NULL */
    size_t blob_len;
};

#define STORE_T(x) ((struct store_arg){ .kind = STORE_ARG_TEXT, .text = (x) })
#define STORE_I(x) ((struct store_arg){ .kind = STORE_ARG_INT, .i = (int64_t)(x) })
#define STORE_B(p, n) ((struct store_arg){ .kind = STORE_ARG_BLOB, .blob = (p), .blob_len = (n) })
#define STORE_ARGS(...) ((const struct store_arg[]){ __VA_ARGS__, { .kind = STORE_ARG_END } })
#define STORE_NOARGS ((const struct store_arg[]){ { .kind = STORE_ARG_END } })

/* Prepares (cached per connection, keyed by the sql pointer: pass string literals) and binds
 * args to ?1, ?2, ... in order. The statement must be released with store_q_end(). */
int store_q_start(struct store_conn *c, const char *sql, const struct store_arg *args,
                  sqlite3_stmt **out) CAIRN_MUST_CHECK;
/* Steps once: *row says whether a row is available. Errors are mapped (see store_db_rc). */
int store_q_step(struct store_conn *c, sqlite3_stmt *s, bool *row) CAIRN_MUST_CHECK;
void store_q_end(sqlite3_stmt *s);
/* Runs a statement that returns no rows; *changes (may be NULL) gets the affected rows. */
int store_q_exec(struct store_conn *c, const char *sql, const struct store_arg *args,
                 int *changes) CAIRN_MUST_CHECK;
/* Runs a query expected to give at most one integer: CAIRN_ERR_NOTFOUND when no row. */
int store_q_int(struct store_conn *c, const char *sql, const struct store_arg *args,
                int64_t *out) CAIRN_MUST_CHECK;

/* SQLite result code -> cairn code: BUSY/LOCKED -> BUSY; UNIQUE/PRIMARY KEY -> CONFLICT;
 * FOREIGN KEY -> NOTFOUND; NOMEM -> NOMEM; anything else is logged (what + sqlite's message,
 * never parameters) and becomes IO. */
int store_db_rc(struct store_conn *c, int src, const char *what);

/* Column readers. store_col_text copies into a fixed buffer (NULL or too long: CAIRN_ERR_IO,
 * a corrupt row); store_col_dup returns a heap copy or NULL for SQL NULL. */
int store_col_text(sqlite3_stmt *s, int col, char *buf, size_t size) CAIRN_MUST_CHECK;
int store_col_dup(sqlite3_stmt *s, int col, char **out) CAIRN_MUST_CHECK;

/* Enum <-> text as stored. The parsers return CAIRN_ERR_IO for an unknown name (corrupt). */
const char *store_ident_type_name(enum ident_type t);
int store_acct_status_parse(const char *s, enum acct_status *out) CAIRN_MUST_CHECK;
int store_order_status_parse(const char *s, enum order_status *out) CAIRN_MUST_CHECK;
int store_authz_status_parse(const char *s, enum authz_status *out) CAIRN_MUST_CHECK;
int store_chall_status_parse(const char *s, enum chall_status *out) CAIRN_MUST_CHECK;
int store_chall_type_parse(const char *s, enum chall_type *out) CAIRN_MUST_CHECK;
int store_ident_type_parse(const char *s, enum ident_type *out) CAIRN_MUST_CHECK;
const char *store_cert_status_name(enum cert_status s);
int store_cert_status_parse(const char *s, enum cert_status *out) CAIRN_MUST_CHECK;

/* Loads an authorization with its challenges inside a transaction (no expiry handling). */
int store_authz_load(struct store_conn *c, const char *id, const char *account_id,
                     struct st_authz *out) CAIRN_MUST_CHECK;
/* Applies the read-time expiry rule to a loaded authz: pending/valid past expires_at is
 * stored and returned as expired. Runs its own write transaction when a change is due. */
int store_authz_expire(struct store *st, struct st_authz *a, int64_t now) CAIRN_MUST_CHECK;

/* Inserts a complete authorization with its challenges, owned by account_id (inside a
 * write transaction). */
int store_authz_insert(struct store_conn *c, const char *account_id, const struct st_authz *a,
                       int64_t now) CAIRN_MUST_CHECK;
/* One row when an order that is not invalid (nor expired while unfinished at ?2) replaces
 * the certID ?1. */
#define STORE_SQL_ORDER_REPLACED                                                              \
    "SELECT 1 FROM orders WHERE replaces = ?1 AND status <> 'invalid' AND NOT (status IN "   \
    "('pending', 'ready', 'processing') AND expires_at <= ?2) LIMIT 1"
/* The calling thread's connection outside any transaction, and its SQLite handle (the online
 * backup API needs it; sqlite_admin.c only). */
int store_conn_for_thread(struct store *st, struct store_conn **out) CAIRN_MUST_CHECK;
sqlite3 *store_conn_db(struct store_conn *c);

/* Problem documents the store writes itself. */
#define STORE_PROB_AUTHZ_GONE                                                                 \
    "{\"type\":\"urn:ietf:params:acme:error:unauthorized\",\"detail\":\"an authorization of " \
    "this order is no longer valid\",\"status\":403}"
#define STORE_PROB_RECOVERED                                                                  \
    "{\"type\":\"urn:ietf:params:acme:error:serverInternal\",\"detail\":\"issuance was "    \
    "interrupted; create a new order\",\"status\":500}"
#define STORE_PROB_VA_ABANDONED                                                               \
    "{\"type\":\"urn:ietf:params:acme:error:serverInternal\",\"detail\":\"validation "      \
    "abandoned: the authorization is no longer pending\",\"status\":500}"

#endif
