-- Roll-ups sp-score writes once a local day begins (services/score/rollups.h):
-- stage conversion rates and first-visit timeout shares of every rep, team
-- and region, for the task pool and the boards. num of den, rate = num / den
-- (NULL without a denominator); win = the window ("30d", "180d") or the
-- local ISO week ("2026-W09"); as_of_ms = the sweep boundary they were
-- counted at.
CREATE TABLE score_rollups (
    subject_type text    NOT NULL CHECK (subject_type IN ('rep', 'team', 'region')),
    subject_id   text    NOT NULL,
    metric       text    NOT NULL,
    win          text    NOT NULL,
    as_of_ms     bigint  NOT NULL,
    num          integer NOT NULL,
    den          integer NOT NULL,
    rate         double precision,
    PRIMARY KEY (subject_type, subject_id, metric, win)
);
