-- Start-up recovery looks for orders left 'processing' (store_recover); without an index that
-- is a scan of every order, ~200 ms with 1 M orders (docs/performance.md). Partial: only the
-- few orders in flight are in it.
CREATE INDEX orders_processing ON orders(status) WHERE status = 'processing';
