-- 0007: people informed of a task without being its assignee (e.g. the other
-- supervisors of a region for region.first_visit_timeout).
ALTER TABLE tasks ADD COLUMN watchers text[] NOT NULL DEFAULT '{}';
