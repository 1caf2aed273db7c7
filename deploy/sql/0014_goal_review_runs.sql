-- 0014 goal review runs: the monthly action-attribution reviews sp-taskpool
-- ran on its schedule (docs/goals.md): month M of every goal running in M,
-- once the service clock passes the first working moment of M+1. A row
-- means done: restarts and replays do not run it again (`spctl review
-- month` reruns by hand and does not write here).
CREATE TABLE goal_review_runs (
    goal_id   text        NOT NULL REFERENCES goals(id) ON DELETE CASCADE,
    month     text        NOT NULL CHECK (month ~ '^[0-9]{4}-[0-9]{2}$'),
    due_at    timestamptz NOT NULL, -- the first working moment (00:00 UTC, Mon-Fri) of the next month
    clock_ms  bigint      NOT NULL, -- the service clock when it ran (event time in replays)
    catch_ups int         NOT NULL DEFAULT 0,
    ran_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (goal_id, month)
);
