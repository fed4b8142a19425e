-- Protocol features (PROTOCOL.md §1): ARI `replaces`, external account binding,
-- newAuthz pre-authorization and the test-mode ARI override.

-- The ARI certID (RFC 9773) an order replaces, in canonical form; at most one non-invalid
-- order may name a certificate (alreadyReplaced).
ALTER TABLE orders ADD COLUMN replaces TEXT;
CREATE INDEX orders_by_replaces ON orders(replaces) WHERE replaces IS NOT NULL;

-- The EAB key id an account was bound with (NULL: none).
ALTER TABLE accounts ADD COLUMN eab_kid TEXT;
CREATE INDEX accounts_by_eab_kid ON accounts(eab_kid) WHERE eab_kid IS NOT NULL;

-- 1 for authorizations created by newAuthz: reused by later orders whatever
-- PEBBLE_AUTHZREUSE says.
ALTER TABLE authzs ADD COLUMN preauth INTEGER NOT NULL DEFAULT 0;

-- EAB MAC keys added with `cairn eab add` (keys from the config file are never stored).
CREATE TABLE eab_keys (
  kid        TEXT PRIMARY KEY,
  mac_key    BLOB NOT NULL,
  created_at INTEGER NOT NULL
);

-- POST /set-renewal-info/ (test mode): renewalInfo answers this text verbatim.
CREATE TABLE ari_overrides (
  serial     TEXT PRIMARY KEY,
  response   TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
