-- 0011: the event time of the last TaskCommand applied to a task, so a
-- replayed older command is recognised as stale (task_apply_command's STALE)
-- after the task has been read back from the database. NULL: unknown (rows
-- from before this migration): no command counts as stale against it.
ALTER TABLE tasks ADD COLUMN last_cmd_at timestamptz;
