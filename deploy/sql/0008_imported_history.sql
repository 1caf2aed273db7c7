-- The CRM import's last-touch dates, kept apart from the columns sp-enrich
-- raises with greatest(): a floor for the score's "last seen" facts that a
-- replay cannot move (score reads them only when <= its now). Filled by
-- `spctl seed`; NULL for rows created by the pipeline.
ALTER TABLE customers ADD COLUMN imported_last_interaction_at timestamptz;
ALTER TABLE contacts ADD COLUMN imported_last_contact_at timestamptz;
ALTER TABLE deals ADD COLUMN imported_last_status_update_at timestamptz;
-- sweep candidates: whose imported last touch crossed a threshold line
CREATE INDEX customers_imported_last_interaction ON customers (imported_last_interaction_at)
    WHERE imported_last_interaction_at IS NOT NULL;
CREATE INDEX contacts_imported_last_contact ON contacts (imported_last_contact_at)
    WHERE imported_last_contact_at IS NOT NULL;
CREATE INDEX deals_imported_last_status_update ON deals (imported_last_status_update_at)
    WHERE imported_last_status_update_at IS NOT NULL;

-- sp-score's own record of the key roles an interaction on a deal reached:
-- an activity's roles_covered and the customer-side parties resolved to
-- contacts (a meeting reaches several roles; interactions.contact_id holds one).
CREATE TABLE score_role_touches (
    event_id text NOT NULL,
    occurred_at timestamptz NOT NULL,
    deal_id text NOT NULL,
    role text NOT NULL,
    PRIMARY KEY (event_id, role)
);
CREATE INDEX score_role_touches_deal ON score_role_touches (deal_id, occurred_at);
CREATE INDEX score_role_touches_at ON score_role_touches (occurred_at);
