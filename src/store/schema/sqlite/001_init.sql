-- cairn schema v1. Times are integer Unix seconds; ids are 22-character base64url strings.
CREATE TABLE accounts (
  id             TEXT PRIMARY KEY,
  key_thumbprint TEXT NOT NULL UNIQUE,
  jwk            TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('valid','deactivated','revoked')),
  contact        TEXT,
  tos_agreed     INTEGER NOT NULL DEFAULT 0,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);

CREATE TABLE orders (
  id          TEXT PRIMARY KEY,
  account_id  TEXT NOT NULL REFERENCES accounts(id),
  status      TEXT NOT NULL CHECK (status IN ('pending','ready','processing','valid','invalid')),
  expires_at  INTEGER NOT NULL,
  not_before  INTEGER NOT NULL DEFAULT 0,
  not_after   INTEGER NOT NULL DEFAULT 0,
  profile     TEXT NOT NULL,
  identifiers TEXT NOT NULL,          -- JSON array of {type,value}, order form
  error       TEXT,                   -- problem document JSON
  created_at  INTEGER NOT NULL,
  seq         INTEGER NOT NULL        -- creation sequence for stable paging
);
CREATE INDEX orders_by_account ON orders(account_id, seq);
CREATE UNIQUE INDEX orders_seq ON orders(seq);

CREATE TABLE authzs (
  id           TEXT PRIMARY KEY,
  account_id   TEXT NOT NULL REFERENCES accounts(id),
  ident_type   TEXT NOT NULL CHECK (ident_type IN ('dns','ip')),
  ident_value  TEXT NOT NULL,
  wildcard     INTEGER NOT NULL DEFAULT 0,
  status       TEXT NOT NULL CHECK (status IN ('pending','valid','invalid','deactivated','expired','revoked')),
  expires_at   INTEGER NOT NULL,
  validated_at INTEGER NOT NULL DEFAULT 0,
  created_at   INTEGER NOT NULL
);
CREATE INDEX authzs_reuse ON authzs(account_id, ident_type, ident_value, wildcard, status);

CREATE TABLE order_authzs (
  order_id TEXT NOT NULL REFERENCES orders(id),
  authz_id TEXT NOT NULL REFERENCES authzs(id),
  pos      INTEGER NOT NULL,
  PRIMARY KEY (order_id, authz_id)
);
CREATE INDEX order_authzs_by_authz ON order_authzs(authz_id);

CREATE TABLE challenges (
  id           TEXT PRIMARY KEY,
  authz_id     TEXT NOT NULL REFERENCES authzs(id),
  type         TEXT NOT NULL CHECK (type IN ('http-01','dns-01','tls-alpn-01')),
  token        TEXT NOT NULL UNIQUE,
  status       TEXT NOT NULL CHECK (status IN ('pending','processing','valid','invalid')),
  validated_at INTEGER NOT NULL DEFAULT 0,
  error        TEXT,
  attempts     INTEGER NOT NULL DEFAULT 0,
  due_at       INTEGER NOT NULL DEFAULT 0,
  pos          INTEGER NOT NULL
);
CREATE INDEX challenges_by_authz ON challenges(authz_id);
CREATE INDEX challenges_processing ON challenges(status, due_at);

CREATE TABLE certs (
  serial     TEXT PRIMARY KEY,        -- lowercase hex
  order_id   TEXT NOT NULL UNIQUE REFERENCES orders(id),
  account_id TEXT NOT NULL REFERENCES accounts(id),
  status     TEXT NOT NULL CHECK (status IN ('pending','good','revoked')),
  der        BLOB,
  not_after  INTEGER NOT NULL DEFAULT 0,
  revoked_at INTEGER NOT NULL DEFAULT 0,
  reason     INTEGER NOT NULL DEFAULT -1,
  created_at INTEGER NOT NULL
);

CREATE TABLE kv (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
