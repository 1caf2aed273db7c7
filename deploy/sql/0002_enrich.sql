-- 0002 enrich: customers, contacts, identities, deals, interactions (monthly
-- partitions), facts with provenance and credibility, customer cards.

CREATE TABLE customers (
    id                  text PRIMARY KEY,
    name                text        NOT NULL DEFAULT '',
    industry            text        NOT NULL DEFAULT '',  -- k12, bureau, manufacturing, healthcare
    class               text        NOT NULL DEFAULT 'C', -- A / B / C
    owner_rep_id        text,                              -- NULL: the unassigned queue
    email_domain        text,
    is_lead             boolean     NOT NULL DEFAULT true,
    merged_into         text REFERENCES customers(id),
    created_at          timestamptz NOT NULL,
    last_interaction_at timestamptz,
    last_interaction_id text,
    last_inbound_at     timestamptz,
    last_outbound_at    timestamptz
);
-- The stale sweep reads only customers whose last interaction crossed the line.
CREATE INDEX customers_last_interaction ON customers (last_interaction_at) WHERE merged_into IS NULL;
CREATE INDEX customers_domain ON customers (email_domain) WHERE email_domain IS NOT NULL;
CREATE INDEX customers_owner ON customers (owner_rep_id);

CREATE TABLE contacts (
    id              text PRIMARY KEY,
    customer_id     text        NOT NULL REFERENCES customers(id),
    name            text        NOT NULL DEFAULT '',
    title           text        NOT NULL DEFAULT '',
    role            text CHECK (role IN ('procurement','technical','decision_maker','finance')),
    created_at      timestamptz NOT NULL,
    last_contact_at timestamptz
);
CREATE INDEX contacts_customer ON contacts (customer_id);

-- WeCom external user id, e-mail, phone (E.164) or CRM id -> contact.
CREATE TABLE identities (
    kind       text NOT NULL CHECK (kind IN ('wecom','email','phone','crm')),
    value      text NOT NULL,
    contact_id text NOT NULL REFERENCES contacts(id),
    PRIMARY KEY (kind, value)
);
CREATE INDEX identities_contact ON identities (contact_id);

CREATE TABLE deals (
    id                    text PRIMARY KEY,
    customer_id           text        NOT NULL REFERENCES customers(id),
    name                  text        NOT NULL DEFAULT '',
    stage                 text        NOT NULL DEFAULT 'lead',
    stage_since           timestamptz NOT NULL,
    amount                bigint      NOT NULL DEFAULT 0,
    owner_rep_id          text,
    product_ids           text[]      NOT NULL DEFAULT '{}',
    is_open               boolean     NOT NULL DEFAULT true,
    created_at            timestamptz NOT NULL,
    last_status_update_at timestamptz NOT NULL,
    last_activity_at      timestamptz,
    next_step             text        NOT NULL DEFAULT '',
    next_step_due         timestamptz
);
CREATE INDEX deals_customer ON deals (customer_id);
CREATE INDEX deals_open_status ON deals (last_status_update_at) WHERE is_open;
CREATE INDEX deals_open_stage ON deals (stage, stage_since) WHERE is_open;

CREATE TABLE deal_stage_history (
    deal_id    text        NOT NULL REFERENCES deals(id),
    event_id   text        NOT NULL,
    from_stage text        NOT NULL,
    to_stage   text        NOT NULL,
    at         timestamptz NOT NULL,
    PRIMARY KEY (deal_id, event_id)
);
CREATE INDEX deal_stage_history_at ON deal_stage_history (to_stage, at);

-- Every interaction with its extraction; partitioned by month of event time.
CREATE TABLE interactions (
    event_id       text        NOT NULL,
    occurred_at    timestamptz NOT NULL,
    source         text        NOT NULL,
    external_id    text        NOT NULL DEFAULT '',
    channel        text        NOT NULL,
    direction      text        NOT NULL,
    customer_id    text,
    contact_id     text,
    deal_id        text,
    rep_id         text,
    customer_side  boolean     NOT NULL DEFAULT false,
    activity_kind  text,
    quality_passed boolean,
    credibility    smallint    NOT NULL DEFAULT 1,
    text           text        NOT NULL DEFAULT '',
    extraction     jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (event_id, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE INDEX interactions_customer ON interactions (customer_id, occurred_at);
CREATE INDEX interactions_deal ON interactions (deal_id, occurred_at);
CREATE INDEX interactions_rep ON interactions (rep_id, occurred_at);
CREATE TABLE interactions_default PARTITION OF interactions DEFAULT;
DO $$
DECLARE m date := date '2024-01-01';
BEGIN
    WHILE m < date '2029-01-01' LOOP
        EXECUTE format('CREATE TABLE interactions_%s PARTITION OF interactions FOR VALUES FROM (%L) TO (%L)',
                       to_char(m, 'YYYY_MM'), m, m + interval '1 month');
        m := m + interval '1 month';
    END LOOP;
END $$;

-- Facts with provenance: one row per (interaction, field, value). level 1..3
-- (L1 extracted, L2 confirmed by a rep's note/visit, L3 signed). status:
-- current, superseded (a newer fact of the same or higher level replaced
-- it), or conflict (a lower-level fact that disagrees with a current
-- higher-level one: kept and visible, never overwriting it).
CREATE TABLE facts (
    id              bigserial PRIMARY KEY,
    customer_id     text        NOT NULL REFERENCES customers(id),
    deal_id         text,
    field           text        NOT NULL,
    value           jsonb       NOT NULL,
    level           smallint    NOT NULL CHECK (level BETWEEN 1 AND 3),
    status          text        NOT NULL DEFAULT 'current' CHECK (status IN ('current','superseded','conflict')),
    source_event_id text        NOT NULL,
    source_channel  text        NOT NULL,
    quote           text        NOT NULL DEFAULT '',
    occurred_at     timestamptz NOT NULL,
    UNIQUE (source_event_id, field, value)
);
CREATE INDEX facts_customer ON facts (customer_id, field, status);

-- The golden triangle (stage from the deal; core need; biggest concern),
-- each with its source interaction and level.
CREATE TABLE customer_cards (
    customer_id      text PRIMARY KEY REFERENCES customers(id),
    core_need        text        NOT NULL DEFAULT '',
    core_need_source text,
    core_need_level  smallint    NOT NULL DEFAULT 0,
    concern          text        NOT NULL DEFAULT '',
    concern_tag      text        NOT NULL DEFAULT '',
    concern_severity smallint    NOT NULL DEFAULT 0,
    concern_source   text,
    concern_at       timestamptz,
    updated_at       timestamptz NOT NULL
);

-- Customers merged later keep every interaction and fact (see spctl merge).
CREATE TABLE customer_merges (
    from_id   text PRIMARY KEY,
    into_id   text        NOT NULL REFERENCES customers(id),
    merged_at timestamptz NOT NULL DEFAULT now()
);
