-- Keys revoked for keyCompromise (PROTOCOL.md §2 key policy): never again an account key or a
-- CSR key. spki_sha256 is the lowercase hex SHA-256 of the DER SubjectPublicKeyInfo.
CREATE TABLE blocked_keys (
  spki_sha256 TEXT PRIMARY KEY,
  reason      INTEGER NOT NULL,
  created_at  INTEGER NOT NULL
);
