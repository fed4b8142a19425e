-- Every CRL (at start-up, and each time one is made) lists the revoked, unexpired
-- certificates; without an index that is a scan of the whole certs table, ~200 ms with 1 M
-- certificates, which was most of the start-up time (docs/performance.md, round 3). Partial
-- and covering: only revoked certificates are in it, with every column the CRL query reads.
CREATE INDEX certs_revoked ON certs(serial, not_after, revoked_at, reason)
  WHERE status = 'revoked';
