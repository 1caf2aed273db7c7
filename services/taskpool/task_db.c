/* task_db.c - task rows <-> struct task. */
#include "taskpool/task_db.h"

#include "err.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLS                                                                                                 \
    "key, kind, level, status, assignee_id, assignee_role, coalesce(team_id,''), coalesce(region_id,''), "   \
    "sla_s, "                                                                                                \
    "(extract(epoch FROM created_at)*1000)::bigint, (extract(epoch FROM assigned_at)*1000)::bigint, "        \
    "coalesce((extract(epoch FROM acked_at)*1000)::bigint, 0), "                                             \
    "coalesce((extract(epoch FROM closed_at)*1000)::bigint, 0), (extract(epoch FROM "                        \
    "updated_at)*1000)::bigint, "                                                                            \
    "escalation_level, array_to_json(chain)::text, outcome, note, last_cmd_event_id, revision"

static void cpy(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "");
}

int task_db_get(sp_db *db, const char *key, int lock, task *t, int *found)
{
    const char *p[1] = {key};
    PGresult *r = NULL;
    /* the statements of the command path are prepared once per connection:
     * parsing and planning them was most of PostgreSQL's work per command */
    int rv = lock ? sp_db_exec_prepared(db, "task_get_lock", "SELECT " COLS " FROM tasks WHERE key = $1 FOR UPDATE", 1, p, &r)
                  : sp_db_exec_prepared(db, "task_get", "SELECT " COLS " FROM tasks WHERE key = $1", 1, p, &r);
    if (rv != SP_OK) return rv;
    *found = PQntuples(r) == 1;
    if (*found) {
        memset(t, 0, sizeof *t);
        cpy(t->key, sizeof t->key, PQgetvalue(r, 0, 0));
        cpy(t->kind, sizeof t->kind, PQgetvalue(r, 0, 1));
        t->level = atoi(PQgetvalue(r, 0, 2));
        task_status_parse(PQgetvalue(r, 0, 3), &t->status);
        cpy(t->assignee_id, sizeof t->assignee_id, PQgetvalue(r, 0, 4));
        cpy(t->assignee_role, sizeof t->assignee_role, PQgetvalue(r, 0, 5));
        cpy(t->team_id, sizeof t->team_id, PQgetvalue(r, 0, 6));
        cpy(t->region_id, sizeof t->region_id, PQgetvalue(r, 0, 7));
        t->sla_s = strtoll(PQgetvalue(r, 0, 8), NULL, 10);
        t->created_ms = strtoll(PQgetvalue(r, 0, 9), NULL, 10);
        t->assigned_ms = strtoll(PQgetvalue(r, 0, 10), NULL, 10);
        t->acked_ms = strtoll(PQgetvalue(r, 0, 11), NULL, 10);
        t->closed_ms = strtoll(PQgetvalue(r, 0, 12), NULL, 10);
        t->updated_ms = strtoll(PQgetvalue(r, 0, 13), NULL, 10);
        t->escalation_level = (uint32_t)strtoul(PQgetvalue(r, 0, 14), NULL, 10);
        json_t *chain = json_loads(PQgetvalue(r, 0, 15), 0, NULL);
        size_t i;
        json_t *v;
        json_array_foreach(chain, i, v)
        {
            if (t->n_chain < SP_TASK_MAX_CHAIN)
                cpy(t->chain[t->n_chain++], SP_TASK_ID_MAX, json_string_value(v));
        }
        json_decref(chain);
        cpy(t->outcome, sizeof t->outcome, PQgetvalue(r, 0, 16));
        cpy(t->note, sizeof t->note, PQgetvalue(r, 0, 17));
        cpy(t->last_cmd_event_id, sizeof t->last_cmd_event_id, PQgetvalue(r, 0, 18));
        t->revision = (uint32_t)strtoul(PQgetvalue(r, 0, 19), NULL, 10);
    }
    PQclear(r);
    return SP_OK;
}

static const char *subject_type_name(int t)
{
    static const char *n[] = {"", "deal", "customer", "rep", "team", "region"};
    return t >= 0 && t <= 5 ? n[t] : "";
}

/* The evidence of a signal as JSON text (interaction ids, numbers, quotes). */
static char *evidence_json(const Salespulse__V1__Signal *s)
{
    json_t *o = json_object(), *ids = json_array(), *nums = json_object(), *quotes = json_array();
    if (s && s->evidence) {
        for (size_t i = 0; i < s->evidence->n_interaction_ids; i++)
            json_array_append_new(ids, json_string(s->evidence->interaction_ids[i]));
        for (size_t i = 0; i < s->evidence->n_numbers; i++)
            json_object_set_new(
                nums, s->evidence->numbers[i]->name, json_real(s->evidence->numbers[i]->value));
        for (size_t i = 0; i < s->evidence->n_quotes; i++)
            json_array_append_new(quotes, json_string(s->evidence->quotes[i]));
    }
    json_object_set_new(o, "interaction_ids", ids);
    json_object_set_new(o, "numbers", nums);
    json_object_set_new(o, "quotes", quotes);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

static char *chain_json(const task *t)
{
    json_t *a = json_array();
    for (size_t i = 0; i < t->n_chain; i++)
        json_array_append_new(a, json_string(t->chain[i]));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

static char *strings_json(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

int task_db_put(
    sp_db *db, const task *t, const task_event *ev, const Salespulse__V1__TaskCommand *cmd, const char *note)
{
    char lvl[8], sla[24], created[24], assigned[24], acked[24], closed[24], updated[24], esc[16], rev[16];
    snprintf(lvl, sizeof lvl, "%d", t->level);
    snprintf(sla, sizeof sla, "%lld", (long long)t->sla_s);
    snprintf(created, sizeof created, "%lld", (long long)t->created_ms);
    snprintf(assigned, sizeof assigned, "%lld", (long long)t->assigned_ms);
    snprintf(acked, sizeof acked, "%lld", (long long)t->acked_ms);
    snprintf(closed, sizeof closed, "%lld", (long long)t->closed_ms);
    snprintf(updated, sizeof updated, "%lld", (long long)t->updated_ms);
    snprintf(esc, sizeof esc, "%u", t->escalation_level);
    snprintf(rev, sizeof rev, "%u", t->revision);
    const Salespulse__V1__Signal *s = cmd ? cmd->signal : NULL;
    char *chain = chain_json(t), *evidence = s ? evidence_json(s) : NULL,
         *playbooks = cmd ? strings_json(cmd->playbooks, cmd->n_playbooks) : NULL,
         /* only a routing (UPSERT) says who watches; a CLOSE keeps them */
             *watchers = cmd && cmd->op == SALESPULSE__V1__TASK_OP__TASK_OP_UPSERT
        ? strings_json(cmd->watchers, cmd->n_watchers)
        : NULL;
    const char *p[28] = {t->key, t->kind, lvl, task_status_name(t->status), t->assignee_id, t->assignee_role,
        *t->team_id ? t->team_id : (s && *s->team_id ? s->team_id : NULL),
        *t->region_id ? t->region_id : (s && *s->region_id ? s->region_id : NULL), sla, created, assigned,
        acked, closed, updated, esc, chain, t->outcome, t->note, t->last_cmd_event_id, rev,
        s && s->subject ? subject_type_name(s->subject->type) : NULL, s && s->subject ? s->subject->id : NULL,
        s && *s->customer_id ? s->customer_id : NULL, s && *s->deal_id ? s->deal_id : NULL,
        s ? s->explanation_zh : NULL, s ? s->explanation_en : NULL, evidence, playbooks};
    const char *p2[3] = {cmd ? cmd->route_reason_zh : NULL, cmd ? cmd->route_reason_en : NULL,
        s && *s->owner_rep_id ? s->owner_rep_id : NULL};
    const char *params[32];
    memcpy(params, p, sizeof p);
    memcpy(params + 28, p2, sizeof p2);
    params[31] = watchers;
    int rv = sp_db_exec_prepared(db, "task_put",
        "INSERT INTO tasks (key, kind, level, status, assignee_id, assignee_role, team_id, region_id, sla_s, "
        "created_at, assigned_at, acked_at, closed_at, updated_at, escalation_level, chain, outcome, note, "
        "last_cmd_event_id, revision, subject_type, subject_id, customer_id, deal_id, explanation_zh, "
        "explanation_en, "
        "evidence, playbooks, route_reason_zh, route_reason_en, owner_rep_id, due_at, watchers, seq) VALUES "
        "($1,$2,$3,$4,$5,$6,$7,$8,$9,"
        "to_timestamp($10::bigint/1000.0), to_timestamp($11::bigint/1000.0), "
        "CASE WHEN $12::bigint > 0 THEN to_timestamp($12::bigint/1000.0) END, "
        "CASE WHEN $13::bigint > 0 THEN to_timestamp($13::bigint/1000.0) END, "
        "to_timestamp($14::bigint/1000.0), $15, "
        "ARRAY(SELECT json_array_elements_text($16::json)), $17, $18, $19, $20, coalesce($21,''), "
        "coalesce($22,''), "
        "$23, $24, coalesce($25,''), coalesce($26,''), coalesce($27::jsonb, '{}'), "
        "coalesce(ARRAY(SELECT json_array_elements_text($28::json)), '{}'), coalesce($29,''), "
        "coalesce($30,''), $31, "
        "to_timestamp($11::bigint/1000.0) + $9::bigint * interval '1 second', "
        "coalesce(ARRAY(SELECT json_array_elements_text($32::json)), '{}'), nextval('task_seq')) "
        "ON CONFLICT (key) DO UPDATE SET level = EXCLUDED.level, status = EXCLUDED.status, "
        "assignee_id = EXCLUDED.assignee_id, assignee_role = EXCLUDED.assignee_role, sla_s = EXCLUDED.sla_s, "
        "team_id = coalesce(EXCLUDED.team_id, tasks.team_id), region_id = coalesce(EXCLUDED.region_id, "
        "tasks.region_id), "
        "playbooks = CASE WHEN $28 IS NULL THEN tasks.playbooks ELSE EXCLUDED.playbooks END, "
        "assigned_at = EXCLUDED.assigned_at, due_at = EXCLUDED.due_at, acked_at = EXCLUDED.acked_at, "
        "closed_at = EXCLUDED.closed_at, "
        "updated_at = EXCLUDED.updated_at, escalation_level = EXCLUDED.escalation_level, chain = "
        "EXCLUDED.chain, "
        "outcome = EXCLUDED.outcome, note = EXCLUDED.note, last_cmd_event_id = EXCLUDED.last_cmd_event_id, "
        "revision = EXCLUDED.revision, seq = EXCLUDED.seq, "
        "explanation_zh = CASE WHEN $25 IS NULL THEN tasks.explanation_zh ELSE EXCLUDED.explanation_zh END, "
        "explanation_en = CASE WHEN $26 IS NULL THEN tasks.explanation_en ELSE EXCLUDED.explanation_en END, "
        "evidence = CASE WHEN $27 IS NULL THEN tasks.evidence ELSE EXCLUDED.evidence END, "
        "route_reason_zh = CASE WHEN $29 IS NULL THEN tasks.route_reason_zh ELSE EXCLUDED.route_reason_zh "
        "END, "
        "route_reason_en = CASE WHEN $30 IS NULL THEN tasks.route_reason_en ELSE EXCLUDED.route_reason_en "
        "END, "
        "watchers = CASE WHEN $32 IS NULL THEN tasks.watchers ELSE EXCLUDED.watchers END",
        32, params, NULL);
    free(chain);
    free(evidence);
    free(playbooks);
    free(watchers);
    if (rv != SP_OK) return rv;
    if (ev && ev->emit) {
        const char *h[8] = {t->key, rev, updated, ev->actor_id ? ev->actor_id : "system",
            ev->action ? task_action_name(ev->action) : "open",
            ev->previous_status ? task_status_name(ev->previous_status) : "", task_status_name(t->status),
            t->assignee_id};
        const char *hp[9];
        memcpy(hp, h, sizeof h);
        hp[8] = note ? note : t->note;
        rv = sp_db_exec_prepared(db, "task_history_put",
            "INSERT INTO task_history (task_key, revision, at, actor_id, action, from_status, to_status, "
            "assignee_id, "
            "note) VALUES ($1, $2, to_timestamp($3::bigint/1000.0), $4, $5, $6, $7, $8, $9) "
            "ON CONFLICT (task_key, revision) DO NOTHING",
            9, hp, NULL);
        if (rv != SP_OK) return rv;
    }
    if (t->status == TASK_DISMISSED) {
        rv = sp_db_exec(db,
            "INSERT INTO task_dismissals (kind, subject_type, subject_id, dismissed_at) "
            "SELECT kind, subject_type, subject_id, to_timestamp($2::bigint/1000.0) FROM tasks WHERE key = "
            "$1 "
            "ON CONFLICT (kind, subject_type, subject_id) DO UPDATE SET dismissed_at = EXCLUDED.dismissed_at",
            2, (const char *[]) {t->key, closed}, NULL);
    }
    return rv;
}

int task_db_suppressed_until(
    sp_db *db, const Salespulse__V1__TaskCommand *cmd, int64_t window_ms, int64_t *until_ms)
{
    *until_ms = 0;
    const Salespulse__V1__Signal *s = cmd->signal;
    if (s == NULL || s->subject == NULL) return SP_OK;
    const char *p[3] = {s->kind, subject_type_name(s->subject->type), s->subject->id};
    PGresult *r = NULL;
    int rv = sp_db_exec_prepared(db, "task_suppressed",
        "SELECT (extract(epoch FROM dismissed_at)*1000)::bigint FROM task_dismissals "
        "WHERE kind = $1 AND subject_type = $2 AND subject_id = $3",
        3, p, &r);
    if (rv != SP_OK) return rv;
    if (PQntuples(r)) *until_ms = strtoll(PQgetvalue(r, 0, 0), NULL, 10) + window_ms;
    PQclear(r);
    return SP_OK;
}
