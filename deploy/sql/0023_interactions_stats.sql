-- 0023 no planner statistics for the interaction columns no query filters
-- or joins on: the extraction (jsonb), the text, the source and its
-- external id. ANALYZE sorts each sampled column to build its histogram,
-- and jsonb compares slowly: on the 2,000/s latency run (session 17)
-- autovacuum's 14 analyzes of interactions_2026 took 2.3 s of CPU, ~9% of
-- the whole stack's, 166 ms each; without these four columns 147 ms
-- instead of 370 ms for the same 40,122 rows (the rest is reading the
-- sample). Every query on interactions filters on event id, time,
-- customer, contact, deal, rep, channel, direction or activity kind, whose
-- statistics stay.
-- ALTER on the parent reaches the partitions it has; a partition created
-- later does not inherit the setting (PostgreSQL 15): repeat it there.
ALTER TABLE interactions
    ALTER COLUMN extraction SET STATISTICS 0,
    ALTER COLUMN text SET STATISTICS 0,
    ALTER COLUMN source SET STATISTICS 0,
    ALTER COLUMN external_id SET STATISTICS 0;
