-- The VA's queue is the challenges in 'processing' (src/store/sqlite_va.c). The index on
-- (status, due_at) held every challenge ever made, three per authorization, so each new
-- order wrote index pages for challenges that will never be queued, and the index grew with
-- the store. Partial: only the challenges in flight are in it (docs/performance.md, round 3).
DROP INDEX challenges_processing;
CREATE INDEX challenges_processing ON challenges(due_at, id) WHERE status = 'processing';
