-- 0003 routing and tasks: the routing audit (sp-route) and the task pool
-- with its full history (sp-taskpool).

CREATE TABLE routing_decisions (
    signal_event_id text PRIMARY KEY,     -- one decision per signal event: idempotent
    task_key        text        NOT NULL,
    kind            text        NOT NULL,
    op              text        NOT NULL, -- upsert, close, suppressed, unroutable
    assignee_id     text,
    assignee_role   text,
    reason_zh       text        NOT NULL DEFAULT '',
    reason_en       text        NOT NULL DEFAULT '',
    playbooks       text[]      NOT NULL DEFAULT '{}',
    decided_at      timestamptz NOT NULL  -- event time of the signal
);
CREATE INDEX routing_decisions_task ON routing_decisions (task_key);

CREATE TABLE tasks (
    key               text PRIMARY KEY,   -- task:<kind>:<subject type>:<subject id>:<episode>
    kind              text        NOT NULL,
    level             smallint    NOT NULL,
    status            text        NOT NULL,
    subject_type      text        NOT NULL DEFAULT '',
    subject_id        text        NOT NULL DEFAULT '',
    customer_id       text,
    deal_id           text,
    owner_rep_id      text,
    assignee_id       text        NOT NULL,
    assignee_role     text        NOT NULL,
    team_id           text,
    region_id         text,
    sla_s             bigint      NOT NULL,
    created_at        timestamptz NOT NULL,
    assigned_at       timestamptz NOT NULL,
    due_at            timestamptz NOT NULL, -- assigned_at + sla_s: the SLA deadline
    acked_at          timestamptz,
    closed_at         timestamptz,
    updated_at        timestamptz NOT NULL,
    escalation_level  int         NOT NULL DEFAULT 0,
    chain             text[]      NOT NULL DEFAULT '{}',
    outcome           text        NOT NULL DEFAULT '',
    note              text        NOT NULL DEFAULT '',
    last_cmd_event_id text        NOT NULL DEFAULT '',
    revision          int         NOT NULL DEFAULT 1,
    explanation_zh    text        NOT NULL DEFAULT '',
    explanation_en    text        NOT NULL DEFAULT '',
    route_reason_zh   text        NOT NULL DEFAULT '',
    route_reason_en   text        NOT NULL DEFAULT '',
    playbooks         text[]      NOT NULL DEFAULT '{}',
    evidence          jsonb       NOT NULL DEFAULT '{}',
    seq               bigint      NOT NULL  -- change sequence for long-poll cursors
);
CREATE SEQUENCE task_seq;
CREATE INDEX tasks_assignee ON tasks (assignee_id, status, level DESC);
CREATE INDEX tasks_team ON tasks (team_id, status);
CREATE INDEX tasks_region ON tasks (region_id, status);
CREATE INDEX tasks_seq ON tasks (seq);
-- The SLA sweep reads only open, unacknowledged tasks, by due time.
CREATE INDEX tasks_sla_due ON tasks (due_at) WHERE status = 'open';

CREATE TABLE task_history (
    task_key    text        NOT NULL REFERENCES tasks(key),
    revision    int         NOT NULL,
    at          timestamptz NOT NULL,
    actor_id    text        NOT NULL,
    action      text        NOT NULL,
    from_status text        NOT NULL DEFAULT '',
    to_status   text        NOT NULL,
    assignee_id text        NOT NULL,
    note        text        NOT NULL DEFAULT '',
    PRIMARY KEY (task_key, revision)
);

-- A dismissed task suppresses the same signal on the same subject for a while.
CREATE TABLE task_dismissals (
    kind         text        NOT NULL,
    subject_type text        NOT NULL,
    subject_id   text        NOT NULL,
    dismissed_at timestamptz NOT NULL,
    PRIMARY KEY (kind, subject_type, subject_id)
);
