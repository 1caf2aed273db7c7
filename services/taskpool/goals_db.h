/* goals_db.h - goals against PostgreSQL (deploy/sql/0009, 0014), shared by
 * `spctl goals` / `spctl review month` and sp-taskpool (POST /v1/goals, the
 * scheduled monthly review): plan or re-plan a goal from a spec and store
 * it, load a stored goal back (template + plan), count its actuals, and run
 * the monthly review of one goal (catch-up TaskCommands published, then the
 * minutes stored). docs/goals.md. */
#ifndef GOALS_DB_H
#define GOALS_DB_H

#include "bus.h"
#include "db.h"
#include "taskpool/goals_review.h"

/* A goal as `spctl goals plan` and POST /v1/goals take it. */
typedef struct goals_spec {
    const char *industry; /* template: <templates>/<industry>.json */
    const char *kind; /* target kind in the template */
    int64_t target; /* >= 0 */
    const char *from; /* YYYY-MM-DD: start of week 0 */
    int weeks; /* 1..GOALS_MAX_WEEKS */
    const char *scope; /* "company", "region:ID", "team:ID" */
    const char *basis; /* "capacity" or "history" */
    const char *as_of; /* YYYY-MM-DD: re-plan the weeks starting on or after it; NULL = from */
} goals_spec;

typedef enum goals_db_status {
    GOALS_DB_CREATED = 0,
    GOALS_DB_UNCHANGED, /* same target */
    GOALS_DB_REPLANNED /* another target: the weeks not yet started re-planned */
} goals_db_status;

/* A stored goal with its template and plan (owned: goals_db_goal_clear). */
typedef struct goals_db_goal {
    char id[256];
    char industry[GOALS_NAME_MAX], kind[GOALS_NAME_MAX], scope[16], scope_id[GOALS_NAME_MAX];
    int64_t target, start_ms;
    int weeks, revision;
    int from_week; /* goals_db_plan re-planned: the first week re-planned (0-based) */
    int64_t old_target; /* goals_db_plan re-planned: the target before */
    goals_template *tm;
    const goals_target *t; /* in tm */
    goals_plan *plan;
} goals_db_goal;

void goals_db_goal_clear(goals_db_goal *g);

/* "YYYY-MM-DD" -> ms at 00:00 UTC; SP_EINVAL when malformed. */
sp_err goals_db_date(const char *s, int64_t *ms);

/* Plans the goal of spec s (id goal:<kind>:<scope>:<scope id|all>:<from>)
 * and stores it in one transaction: a new goal takes the active reps of the
 * org chart; an existing one with the same target changes nothing; with
 * another target the weeks starting on or after as_of are re-planned
 * (revision + 1). *status says which; out holds the goal as stored. Fails
 * SP_EINVAL with a message naming the item and *field the spec field at
 * fault ("template", "kind", "target", "from", "weeks", "scope", "basis",
 * "as_of"); SP_EDB when the database fails. out must be zeroed; clear it
 * with goals_db_goal_clear in every case. */
sp_err goals_db_plan(sp_db *db, const char *templates, const goals_spec *s, goals_db_goal *out,
    goals_db_status *status, const char **field, char *err, size_t errlen);

/* Loads stored goal `id`: row, template, plan rebuilt from goal_plans.
 * SP_ENOTFOUND when there is no such goal, SP_EINVAL when its template does
 * not load or a cell does not fit, SP_EDB. out must be zeroed; clear it. */
sp_err goals_db_load(
    sp_db *db, const char *templates, const char *id, goals_db_goal *out, char *err, size_t errlen);

/* Counts g's reps' activities (activity_kind, quality_passed as judged by
 * sp-enrich) and results from the goal's start up to end_ms (exclusive), of
 * the reps of team_id only when it is not NULL. Caller frees *out with
 * goals_actuals_destroy. */
sp_err goals_db_actuals(sp_db *db, const goals_db_goal *g, int64_t end_ms, const char *team_id,
    goals_actuals **out, char *err, size_t errlen);

/* Where a review publishes its catch-up commands. */
typedef struct goals_db_bus {
    bus_producer *producer; /* borrowed */
    const char *topic; /* SP_TOPIC_TASK_COMMANDS */
    const char *bootstrap; /* for messages only, may be NULL */
    int wait_ms; /* for the delivery reports */
} goals_db_bus;

/* The minutes of one review (owned: goals_db_minutes_clear). */
typedef struct goals_db_minutes {
    char *md, *json;
    int catch_ups;
} goals_db_minutes;

void goals_db_minutes_clear(goals_db_minutes *m);

/* Reviews month `month` (YYYY-MM) of stored goal `id`: the plan, the
 * actuals up to the month's end, the review; publishes one catch-up
 * TaskCommand per rep with a cause and waits for every delivery report
 * (SP_EKAFKA when one fails: nothing stored); then stores the minutes in
 * goal_reviews. SP_EINVAL when no plan week starts in the month. out must be
 * zeroed; clear it. */
sp_err goals_db_review(sp_db *db, const goals_db_bus *bus, const char *templates, const char *id,
    const char *month, goals_db_minutes *out, char *err, size_t errlen);

/* Writes the goal plans' planned key actions for sp-score's
 * rep.key_action_missing (docs/goals.md): for every plan week that started
 * at or before now_ms (and not more than 35 days before), every rep with
 * actions planned that week and every Monday-Friday date of the week, one
 * 'planned' row in score_rep_actions (event id
 * goal-plan:<goal>:<rep>:<day>, day = the UTC date's day number, which
 * sp-score reads as that local date, occurred_at = the week's start).
 * Idempotent (ON CONFLICT DO NOTHING): a week's rows are written once, as
 * planned when it started. *n gets the rows added. SP_EDB. */
sp_err goals_db_key_actions(sp_db *db, int64_t now_ms, long *n, char *err, size_t errlen);

#endif
