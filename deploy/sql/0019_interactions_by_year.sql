-- 0019 interactions by year: 2024-2028 in five yearly partitions (plus the
-- default) instead of sixty monthly ones.
-- sp-score runs its fact queries with generic plans (planning over the
-- partitions cost more than running the queries), and PostgreSQL 15 locks
-- every partition of a generic plan at each execution before pruning them:
-- with 61 partitions that lock pass cost ~28 us of each of the ~150,000
-- interaction lookups of a 40,776-event scoring run (measured: 1,000
-- deal lookups 138 ms over monthly partitions, 110 ms over yearly ones).
-- Queries are bounded in time, so yearly partitions still prune to one or
-- two; retention drops a year at a time.
-- Each year's monthly partitions are detached, their rows moved into the
-- new yearly partition, and dropped: the parent table, its indexes and
-- everything referring to it stay as they are. On a large table this
-- rewrites every row once (run it in a maintenance window).
DO $$
DECLARE
    y int;
    m int;
    part text;
    cols text;
BEGIN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
      FROM pg_attribute WHERE attrelid = 'interactions'::regclass AND attnum > 0 AND NOT attisdropped;
    FOR y IN 2024..2028 LOOP
        FOR m IN 1..12 LOOP
            part := format('interactions_%s_%s', y, lpad(m::text, 2, '0'));
            IF to_regclass(part) IS NOT NULL THEN
                EXECUTE format('ALTER TABLE interactions DETACH PARTITION %I', part);
            END IF;
        END LOOP;
        EXECUTE format('CREATE TABLE %I PARTITION OF interactions FOR VALUES FROM (%L) TO (%L)',
                       'interactions_' || y, make_date(y, 1, 1), make_date(y + 1, 1, 1));
        FOR m IN 1..12 LOOP
            part := format('interactions_%s_%s', y, lpad(m::text, 2, '0'));
            IF to_regclass(part) IS NOT NULL THEN
                EXECUTE format('INSERT INTO interactions (%s) SELECT %s FROM %I', cols, cols, part);
                EXECUTE format('DROP TABLE %I', part);
            END IF;
        END LOOP;
    END LOOP;
END $$;
ANALYZE interactions;
