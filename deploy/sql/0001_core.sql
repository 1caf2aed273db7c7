-- 0001 core: the consumers' inbox and the org chart.
-- Applied by `spctl migrate` (common/db.c sp_db_migrate), once, in one transaction.

-- Idempotent consumption: a handler records (consumer, event_id) in the same
-- transaction as its effects; a redelivered event finds its row and is skipped.
CREATE TABLE processed_events (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

CREATE TABLE regions (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    director_id text
);

CREATE TABLE teams (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    region_id     text NOT NULL REFERENCES regions(id),
    supervisor_id text
);

CREATE TABLE people (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    role       text NOT NULL CHECK (role IN ('rep','supervisor','director','admin','after_sales','competition')),
    team_id    text REFERENCES teams(id),
    region_id  text REFERENCES regions(id),
    mentor_id  text REFERENCES people(id),
    wecom_user text UNIQUE,
    email      text UNIQUE,
    active     boolean NOT NULL DEFAULT true
);
CREATE INDEX people_team ON people(team_id);
CREATE INDEX people_region ON people(region_id);

-- Named teams: after_sales, competition_response, ...
CREATE TABLE named_teams (
    id      text PRIMARY KEY,
    name    text NOT NULL,
    lead_id text REFERENCES people(id)
);
CREATE TABLE named_team_members (
    team_id   text NOT NULL REFERENCES named_teams(id),
    person_id text NOT NULL REFERENCES people(id),
    PRIMARY KEY (team_id, person_id)
);

-- Out-of-office periods; routing skips an absent person.
CREATE TABLE absences (
    id        bigserial PRIMARY KEY,
    person_id text        NOT NULL REFERENCES people(id),
    starts_at timestamptz NOT NULL,
    ends_at   timestamptz NOT NULL CHECK (ends_at > starts_at),
    reason    text        NOT NULL DEFAULT ''
);
CREATE INDEX absences_person ON absences(person_id, ends_at);

-- API tokens: only the SHA-256 of the token is stored.
CREATE TABLE api_tokens (
    token_sha256 text PRIMARY KEY,
    person_id    text        NOT NULL REFERENCES people(id),
    label        text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_person ON api_tokens(person_id);
