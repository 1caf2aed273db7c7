-- 0009 goals: a goal decomposed into action units per rep and week
-- (docs/goals.md), written by `spctl goals plan`, and the monthly action
-- attribution minutes written by `spctl review month`.

CREATE TABLE goals (
    id         text PRIMARY KEY,      -- goal:<kind>:<scope>:<scope id>:<start yyyy-mm-dd>
    industry   text        NOT NULL,  -- the template (goal_templates/<industry>.json)
    kind       text        NOT NULL,  -- target kind, e.g. new_a_class_customers
    scope      text        NOT NULL CHECK (scope IN ('company', 'region', 'team')),
    scope_id   text        NOT NULL DEFAULT '',
    target     bigint      NOT NULL CHECK (target >= 0),
    starts_at  timestamptz NOT NULL,  -- start of week 0
    weeks      int         NOT NULL CHECK (weeks BETWEEN 1 AND 53),
    basis      text        NOT NULL DEFAULT 'capacity' CHECK (basis IN ('capacity', 'history')),
    revision   int         NOT NULL DEFAULT 1, -- +1 on every re-plan
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per goal, rep, week and action ('target' = target units); zero
-- cells are not stored. Re-planning replaces the rows of the weeks not yet past.
CREATE TABLE goal_plans (
    goal_id   text   NOT NULL REFERENCES goals(id) ON DELETE CASCADE,
    rep_id    text   NOT NULL,
    team_id   text   NOT NULL,
    region_id text   NOT NULL,
    week      int    NOT NULL CHECK (week >= 0),
    action    text   NOT NULL CHECK (action IN ('target', 'visit', 'needs_diagnosis', 'proposal',
                                                'executive_visit', 'demo', 'touch')),
    planned   bigint NOT NULL CHECK (planned >= 0),
    PRIMARY KEY (goal_id, rep_id, week, action)
);
CREATE INDEX goal_plans_team ON goal_plans (goal_id, team_id, week);

-- Reps that belong to a goal's plan but have no cell (they still appear in reviews).
CREATE TABLE goal_reps (
    goal_id   text NOT NULL REFERENCES goals(id) ON DELETE CASCADE,
    rep_id    text NOT NULL,
    team_id   text NOT NULL,
    region_id text NOT NULL,
    weight    double precision NOT NULL,
    PRIMARY KEY (goal_id, rep_id)
);

CREATE TABLE goal_reviews (
    goal_id      text        NOT NULL REFERENCES goals(id) ON DELETE CASCADE,
    month        text        NOT NULL CHECK (month ~ '^[0-9]{4}-[0-9]{2}$'),
    minutes_md   text        NOT NULL,
    minutes_json jsonb       NOT NULL,
    catch_ups    int         NOT NULL DEFAULT 0,
    written_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (goal_id, month)
);
