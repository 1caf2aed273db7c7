-- The nearest won case of a filled playbook (sp-taskpool,
-- GET /v1/tasks/{key}/playbooks/{id}) reads the newest won deals; won deals
-- are not open, so no existing index served that order (a full scan of
-- deals per request).
CREATE INDEX deals_won ON deals (stage_since DESC, id) WHERE stage = 'won';
