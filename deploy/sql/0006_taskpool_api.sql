-- 0006 taskpool API: a change feed that loses nothing, and list indexes.
--
-- tasks.seq orders changes for GET /v1/tasks/changes?since=. A sequence
-- value is taken before its transaction commits, so a reader could see
-- seq 12 committed while seq 11 is still in flight and then skip it. Every
-- writer therefore assigns seq while holding an advisory lock in shared
-- mode until it commits; task_seq_horizon() takes it exclusively and
-- returns the last value handed out: every seq up to it is then committed
-- or aborted, and readers only return rows up to that horizon.
-- task_seq_horizon(false) only tries (never delays a writer) and answers
-- NULL when a writer is in flight; task_seq_horizon(true) queues for the
-- lock for at most 200 ms (writers arriving meanwhile wait behind it), for
-- when trying keeps failing under a steady stream of writers.
CREATE FUNCTION tasks_seq_assign() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(730500601);
    NEW.seq := nextval('task_seq');
    RETURN NEW;
END $$;

CREATE TRIGGER tasks_seq_assign BEFORE INSERT OR UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION tasks_seq_assign();

CREATE FUNCTION task_seq_horizon(block boolean) RETURNS bigint LANGUAGE plpgsql
    SET lock_timeout = '200ms' AS $$
DECLARE v bigint;
BEGIN
    IF block THEN
        PERFORM pg_advisory_xact_lock(730500601);
    ELSIF NOT pg_try_advisory_xact_lock(730500601) THEN
        RETURN NULL;
    END IF;
    SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO v FROM task_seq;
    RETURN v;
END $$;

-- My tasks and a team's tasks: L3 first, newest first, keyset pages.
CREATE INDEX tasks_assignee_page ON tasks (assignee_id, level DESC, created_at DESC, key DESC);
CREATE INDEX tasks_team_page ON tasks (team_id, level DESC, created_at DESC, key DESC);
