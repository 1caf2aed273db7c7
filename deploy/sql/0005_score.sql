-- 0005 score: sp-score's signal state, deal health, the few facts sp-score
-- records itself (tracking page classes, planned / completed key actions),
-- sweep progress, helper functions and the indexes its sweeps read.
-- Times of score_state are Unix ms (bigint) exactly as the C struct holds them.

-- One row per (kind, subject, variant): services/score/signal_state.h.
CREATE TABLE signal_state (
    kind                   text        NOT NULL,
    subject_type           text        NOT NULL,
    subject_id             text        NOT NULL,
    variant                text        NOT NULL DEFAULT '',
    active                 boolean     NOT NULL DEFAULT false,
    episode                bigint      NOT NULL DEFAULT 0,
    revision               bigint      NOT NULL DEFAULT 0,
    level                  smallint    NOT NULL DEFAULT 0,
    last_value             double precision NOT NULL DEFAULT 0,
    raised_at_ms           bigint      NOT NULL DEFAULT 0,
    changed_at_ms          bigint      NOT NULL DEFAULT 0,
    clear_pending_since_ms bigint      NOT NULL DEFAULT 0,
    evidence_hash          bigint      NOT NULL DEFAULT 0, -- uint64 stored as its two's complement
    updated_at             timestamptz NOT NULL,           -- event time of the last evaluation
    PRIMARY KEY (kind, subject_type, subject_id, variant)
);
-- Sweeps re-check active states (window signals, pending clears).
CREATE INDEX signal_state_active ON signal_state (kind, subject_id) WHERE active;

CREATE TABLE deal_health (
    deal_id    text PRIMARY KEY,
    score      smallint    NOT NULL,
    colour     text        NOT NULL,
    dims       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Web visits by page class: the interactions table keeps no tracking detail,
-- so sp-score records what competitor_surge / interest_warming count.
CREATE TABLE score_tracking (
    event_id      text        PRIMARY KEY,
    occurred_at   timestamptz NOT NULL,
    customer_id   text        NOT NULL,
    deal_id       text,
    page_class    text        NOT NULL, -- product, competitor, pricing, other
    product_id    text        NOT NULL DEFAULT '',
    competitor_id text        NOT NULL DEFAULT ''
);
CREATE INDEX score_tracking_customer ON score_tracking (customer_id, page_class, occurred_at);

-- Key actions of reps (rep.key_action_missing): a rep activity's agreed next
-- step with a due date is a planned action on its local due day; a rep
-- activity that passed its quality standard is a completed one on its day.
CREATE TABLE score_rep_actions (
    event_id    text        NOT NULL,
    what        text        NOT NULL CHECK (what IN ('planned', 'completed')),
    rep_id      text        NOT NULL,
    day         int         NOT NULL, -- local day number (calendar_local_day)
    occurred_at timestamptz NOT NULL, -- event time of the record
    PRIMARY KEY (event_id, what)
);
CREATE INDEX score_rep_actions_rep ON score_rep_actions (rep_id, day);
CREATE INDEX score_rep_actions_day ON score_rep_actions (day) WHERE what = 'planned';

-- The last sweep boundary done (Unix ms); one row 'all'.
CREATE TABLE score_sweeps (
    name    text PRIMARY KEY,
    last_ms bigint NOT NULL
);

-- Indexes the sweeps need on sp-enrich's tables: each sweep reads one
-- boundary's slice of time, never the whole book.
CREATE INDEX interactions_touch_at ON interactions (occurred_at)
    WHERE customer_id IS NOT NULL AND channel <> 'tracking';
CREATE INDEX interactions_deal_at ON interactions (occurred_at) WHERE deal_id IS NOT NULL;
CREATE INDEX interactions_visit_at ON interactions (occurred_at)
    WHERE activity_kind IN ('visit', 'executive_visit') AND deal_id IS NOT NULL;
CREATE INDEX customers_created ON customers (created_at) WHERE merged_into IS NULL;
CREATE INDEX deals_created ON deals (created_at);
CREATE INDEX deals_owner ON deals (owner_rep_id);

CREATE FUNCTION score_ts(ms bigint) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS
$$ SELECT to_timestamp(ms / 1000.0) $$;
CREATE FUNCTION score_ms(t timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE AS
$$ SELECT round(extract(epoch FROM t) * 1000)::bigint $$;
-- A jsonb array, or [] for anything else (null, missing).
CREATE FUNCTION score_arr(j jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN jsonb_typeof(j) = 'array' THEN j ELSE '[]'::jsonb END $$;
-- Salespulse__V1__Stage of a stage name (0 = unknown).
CREATE FUNCTION score_stage_rank(s text) RETURNS int LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE s WHEN 'lead' THEN 1 WHEN 'qualified' THEN 2 WHEN 'demo' THEN 3 WHEN 'proposal' THEN 4
                 WHEN 'negotiation' THEN 5 WHEN 'won' THEN 6 WHEN 'lost' THEN 7 ELSE 0 END $$;

-- A deal as it stood at p_at (replays read the past, not today's row): stage
-- and since when from the stage history up to p_at, open unless won / lost
-- or not yet created.
CREATE FUNCTION score_deal_at(p_deal text, p_at timestamptz,
    OUT stage text, OUT stage_since timestamptz, OUT is_open boolean, OUT created_at timestamptz,
    OUT customer_id text, OUT owner_rep_id text, OUT name text)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(h.to_stage, d.stage), coalesce(h.at, d.stage_since),
           d.created_at <= p_at AND coalesce(h.to_stage, d.stage) NOT IN ('won', 'lost'),
           d.created_at, d.customer_id, d.owner_rep_id, d.name
      FROM deals d
      LEFT JOIN LATERAL (SELECT to_stage, at FROM deal_stage_history
                          WHERE deal_id = d.id AND at <= p_at ORDER BY at DESC, event_id DESC LIMIT 1) h ON true
     WHERE d.id = p_deal
$$;

-- Health roll-ups for the boards: open deals' scores weighted by deal value
-- (a deal without an amount weighs as 1 CNY), with the colour counts.
CREATE VIEW rep_health AS
SELECT d.owner_rep_id AS rep_id, count(*) AS deals,
       round(sum(h.score * greatest(d.amount, 1))::numeric / sum(greatest(d.amount, 1)), 1) AS score,
       count(*) FILTER (WHERE h.colour = 'red') AS red, count(*) FILTER (WHERE h.colour = 'yellow') AS yellow,
       count(*) FILTER (WHERE h.colour = 'green') AS green
  FROM deal_health h JOIN deals d ON d.id = h.deal_id
 WHERE d.is_open AND d.owner_rep_id IS NOT NULL
 GROUP BY d.owner_rep_id;
CREATE VIEW team_health AS
SELECT p.team_id, count(*) AS deals,
       round(sum(h.score * greatest(d.amount, 1))::numeric / sum(greatest(d.amount, 1)), 1) AS score,
       count(*) FILTER (WHERE h.colour = 'red') AS red, count(*) FILTER (WHERE h.colour = 'yellow') AS yellow,
       count(*) FILTER (WHERE h.colour = 'green') AS green
  FROM deal_health h JOIN deals d ON d.id = h.deal_id JOIN people p ON p.id = d.owner_rep_id
 WHERE d.is_open AND p.team_id IS NOT NULL
 GROUP BY p.team_id;
CREATE VIEW region_health AS
SELECT coalesce(p.region_id, t.region_id) AS region_id, count(*) AS deals,
       round(sum(h.score * greatest(d.amount, 1))::numeric / sum(greatest(d.amount, 1)), 1) AS score,
       count(*) FILTER (WHERE h.colour = 'red') AS red, count(*) FILTER (WHERE h.colour = 'yellow') AS yellow,
       count(*) FILTER (WHERE h.colour = 'green') AS green
  FROM deal_health h JOIN deals d ON d.id = h.deal_id JOIN people p ON p.id = d.owner_rep_id
  LEFT JOIN teams t ON t.id = p.team_id
 WHERE d.is_open AND coalesce(p.region_id, t.region_id) IS NOT NULL
 GROUP BY coalesce(p.region_id, t.region_id);
