/* task_db.h - tasks in PostgreSQL: read a row into a task, write a task
 * with its history row, dismissals. All inside the caller's transaction. */
#ifndef SP_TASK_DB_H
#define SP_TASK_DB_H

#include "db.h"
#include "salespulse/v1/task.pb-c.h"
#include "taskpool/task.h"

/* Reads the task key into *t (FOR UPDATE when lock). *found = 0 when there
 * is none. SP_EDBDOWN / SP_EDB. */
int task_db_get(sp_db *db, const char *key, int lock, task *t, int *found);

/* Reads the tasks of n keys at once (FOR UPDATE, in key order): out[i]
 * and found[i] for keys[i] (duplicates fine). SP_EDBDOWN / SP_EDB,
 * SP_ENOMEM. */
int task_db_get_many(sp_db *db, const char *const *keys, size_t n, task *out, int *found);

/* Writes t (insert or update by key) and the history row of its revision
 * for ev; cmd (may be NULL) supplies the descriptive columns (subject,
 * explanation, evidence, playbooks, route reason) on insert and update.
 * A dismissal also records (kind, subject) in task_dismissals. */
int task_db_put(
    sp_db *db, const task *t, const task_event *ev, const Salespulse__V1__TaskCommand *cmd, const char *note);

/* Prepares task_db_put's statements on db (before a pipeline). */
int task_db_prepare_put(sp_db *db);

/* task_db_put queued on the connection's pipeline (sp_db_pipeline_begin
 * before, sp_db_pipeline_end after, which reports the errors). */
int task_db_put_queued(
    sp_db *db, const task *t, const task_event *ev, const Salespulse__V1__TaskCommand *cmd, const char *note);

/* End of the suppression window of the last dismissal of the same (kind,
 * subject) as cmd, or 0. */
int task_db_suppressed_until(
    sp_db *db, const Salespulse__V1__TaskCommand *cmd, int64_t window_ms, int64_t *until_ms);

/* task_db_suppressed_until for n commands at once (NULL entries and
 * commands without a subject get 0) into until_ms[n]. */
int task_db_suppressed_many(
    sp_db *db, Salespulse__V1__TaskCommand *const *cmds, size_t n, int64_t window_ms, int64_t *until_ms);

#endif
