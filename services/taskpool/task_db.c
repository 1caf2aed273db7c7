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
    "escalation_level, array_to_json(chain)::text, outcome, note, last_cmd_event_id, revision, "             \
    "coalesce((extract(epoch FROM last_cmd_at)*1000)::bigint, 0)"

static void cpy(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "");
}

/* Row row of r (COLS) into *t. */
static void row_task(const PGresult *r, int row, task *t)
{
    memset(t, 0, sizeof *t);
    cpy(t->key, sizeof t->key, PQgetvalue(r, row, 0));
    cpy(t->kind, sizeof t->kind, PQgetvalue(r, row, 1));
    t->level = atoi(PQgetvalue(r, row, 2));
    task_status_parse(PQgetvalue(r, row, 3), &t->status);
    cpy(t->assignee_id, sizeof t->assignee_id, PQgetvalue(r, row, 4));
    cpy(t->assignee_role, sizeof t->assignee_role, PQgetvalue(r, row, 5));
    cpy(t->team_id, sizeof t->team_id, PQgetvalue(r, row, 6));
    cpy(t->region_id, sizeof t->region_id, PQgetvalue(r, row, 7));
    t->sla_s = strtoll(PQgetvalue(r, row, 8), NULL, 10);
    t->created_ms = strtoll(PQgetvalue(r, row, 9), NULL, 10);
    t->assigned_ms = strtoll(PQgetvalue(r, row, 10), NULL, 10);
    t->acked_ms = strtoll(PQgetvalue(r, row, 11), NULL, 10);
    t->closed_ms = strtoll(PQgetvalue(r, row, 12), NULL, 10);
    t->updated_ms = strtoll(PQgetvalue(r, row, 13), NULL, 10);
    t->escalation_level = (uint32_t)strtoul(PQgetvalue(r, row, 14), NULL, 10);
    json_t *chain = json_loads(PQgetvalue(r, row, 15), 0, NULL);
    size_t i;
    json_t *v;
    json_array_foreach(chain, i, v)
    {
        if (t->n_chain < SP_TASK_MAX_CHAIN) cpy(t->chain[t->n_chain++], SP_TASK_ID_MAX, json_string_value(v));
    }
    json_decref(chain);
    cpy(t->outcome, sizeof t->outcome, PQgetvalue(r, row, 16));
    cpy(t->note, sizeof t->note, PQgetvalue(r, row, 17));
    cpy(t->last_cmd_event_id, sizeof t->last_cmd_event_id, PQgetvalue(r, row, 18));
    t->revision = (uint32_t)strtoul(PQgetvalue(r, row, 19), NULL, 10);
    t->last_cmd_ms = strtoll(PQgetvalue(r, row, 20), NULL, 10);
}

int task_db_get(sp_db *db, const char *key, int lock, task *t, int *found)
{
    const char *p[1] = {key};
    PGresult *r = NULL;
    /* the statements of the command path are prepared once per connection:
     * parsing and planning them was most of PostgreSQL's work per command */
    int rv = lock ? sp_db_exec(db, "SELECT " COLS " FROM tasks WHERE key = $1 FOR UPDATE", 1, p, &r)
                  : sp_db_exec(db, "SELECT " COLS " FROM tasks WHERE key = $1", 1, p, &r);
    if (rv != SP_OK) return rv;
    *found = PQntuples(r) == 1;
    if (*found) row_task(r, 0, t);
    PQclear(r);
    return SP_OK;
}

/* Appends s as a quoted element of a PostgreSQL array literal. */
static int array_add(char **buf, size_t *len, size_t *cap, const char *s, int first)
{
    size_t need = *len + 2 * strlen(s) + 8;
    if (need > *cap) {
        size_t nc = need * 2;
        char *nb = realloc(*buf, nc);
        if (nb == NULL) return SP_ENOMEM;
        *buf = nb, *cap = nc;
    }
    char *o = *buf + *len;
    if (!first) *o++ = ',';
    *o++ = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') *o++ = '\\';
        *o++ = *s;
    }
    *o++ = '"';
    *o = '\0';
    *len = (size_t)(o - *buf);
    return SP_OK;
}

/* "{...}" of n strings (NULL entries as ""); caller frees. NULL: ENOMEM. */
static char *array_literal(const char *const *v, size_t n)
{
    size_t len = 1, cap = 64;
    char *b = malloc(cap);
    if (b == NULL) return NULL;
    b[0] = '{', b[1] = '\0';
    for (size_t i = 0; i < n; i++)
        if (array_add(&b, &len, &cap, v[i] ? v[i] : "", i == 0) != SP_OK) {
            free(b);
            return NULL;
        }
    if (len + 2 > cap) {
        char *nb = realloc(b, len + 2);
        if (nb == NULL) {
            free(b);
            return NULL;
        }
        b = nb;
    }
    b[len++] = '}', b[len] = '\0';
    return b;
}

int task_db_get_many(sp_db *db, const char *const *keys, size_t n, task *out, int *found)
{
    for (size_t i = 0; i < n; i++)
        found[i] = 0;
    if (n == 0) return SP_OK;
    char *arr = array_literal(keys, n);
    if (arr == NULL) return SP_ENOMEM;
    const char *p[1] = {arr};
    PGresult *r = NULL;
    int rv = sp_db_exec(
        db, "SELECT " COLS " FROM tasks WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE", 1, p, &r);
    free(arr);
    if (rv != SP_OK) return rv;
    for (int row = 0; row < PQntuples(r); row++) {
        const char *k = PQgetvalue(r, row, 0);
        for (size_t i = 0; i < n; i++)
            if (!found[i] && strcmp(keys[i], k) == 0) {
                row_task(r, row, &out[i]);
                found[i] = 1;
            }
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

/* The task upsert ($1..$33, see task_db_put). */
#define TASK_UPSERT                                                                                          \
    "INSERT INTO tasks (key, kind, level, status, assignee_id, assignee_role, team_id, region_id, sla_s, "   \
    "created_at, assigned_at, acked_at, closed_at, updated_at, escalation_level, chain, outcome, note, "     \
    "last_cmd_event_id, revision, subject_type, subject_id, customer_id, deal_id, explanation_zh, "          \
    "explanation_en, "                                                                                       \
    "evidence, playbooks, route_reason_zh, route_reason_en, owner_rep_id, due_at, watchers, seq, "           \
    "last_cmd_at) VALUES "                                                                                   \
    "($1,$2,$3,$4,$5,$6,$7,$8,$9,"                                                                           \
    "to_timestamp($10::bigint/1000.0), to_timestamp($11::bigint/1000.0), "                                   \
    "CASE WHEN $12::bigint > 0 THEN to_timestamp($12::bigint/1000.0) END, "                                  \
    "CASE WHEN $13::bigint > 0 THEN to_timestamp($13::bigint/1000.0) END, "                                  \
    "to_timestamp($14::bigint/1000.0), $15, "                                                                \
    "ARRAY(SELECT json_array_elements_text($16::json)), $17, $18, $19, $20, coalesce($21,''), "              \
    "coalesce($22,''), "                                                                                     \
    "$23, $24, coalesce($25,''), coalesce($26,''), coalesce($27::jsonb, '{}'), "                             \
    "coalesce(ARRAY(SELECT json_array_elements_text($28::json)), '{}'), coalesce($29,''), "                  \
    "coalesce($30,''), $31, "                                                                                \
    "to_timestamp($11::bigint/1000.0) + $9::bigint * interval '1 second', "                                  \
    "coalesce(ARRAY(SELECT json_array_elements_text($32::json)), '{}'), nextval('task_seq'), "               \
    "CASE WHEN $33::bigint > 0 THEN to_timestamp($33::bigint/1000.0) END) "                                  \
    "ON CONFLICT (key) DO UPDATE SET level = EXCLUDED.level, status = EXCLUDED.status, "                     \
    "assignee_id = EXCLUDED.assignee_id, assignee_role = EXCLUDED.assignee_role, sla_s = EXCLUDED.sla_s, "   \
    "team_id = coalesce(EXCLUDED.team_id, tasks.team_id), region_id = coalesce(EXCLUDED.region_id, "         \
    "tasks.region_id), "                                                                                     \
    "playbooks = CASE WHEN $28 IS NULL THEN tasks.playbooks ELSE EXCLUDED.playbooks END, "                   \
    "assigned_at = EXCLUDED.assigned_at, due_at = EXCLUDED.due_at, acked_at = EXCLUDED.acked_at, "           \
    "closed_at = EXCLUDED.closed_at, "                                                                       \
    "updated_at = EXCLUDED.updated_at, escalation_level = EXCLUDED.escalation_level, chain = "               \
    "EXCLUDED.chain, "                                                                                       \
    "outcome = EXCLUDED.outcome, note = EXCLUDED.note, last_cmd_event_id = EXCLUDED.last_cmd_event_id, "     \
    "revision = EXCLUDED.revision, seq = EXCLUDED.seq, last_cmd_at = EXCLUDED.last_cmd_at, "                 \
    "explanation_zh = CASE WHEN $25 IS NULL THEN tasks.explanation_zh ELSE EXCLUDED.explanation_zh END, "    \
    "explanation_en = CASE WHEN $26 IS NULL THEN tasks.explanation_en ELSE EXCLUDED.explanation_en END, "    \
    "evidence = CASE WHEN $27 IS NULL THEN tasks.evidence ELSE EXCLUDED.evidence END, "                      \
    "route_reason_zh = CASE WHEN $29 IS NULL THEN tasks.route_reason_zh ELSE EXCLUDED.route_reason_zh "      \
    "END, "                                                                                                  \
    "route_reason_en = CASE WHEN $30 IS NULL THEN tasks.route_reason_en ELSE EXCLUDED.route_reason_en "      \
    "END, "                                                                                                  \
    "watchers = CASE WHEN $32 IS NULL THEN tasks.watchers ELSE EXCLUDED.watchers END"

/* The upsert and the history row of its revision in one statement. */
#define PUT_HISTORY_SQL                                                                                      \
    "WITH up AS (" TASK_UPSERT " RETURNING 1) INSERT INTO task_history (task_key, revision, at, "            \
    "actor_id, action, from_status, to_status, assignee_id, note) SELECT $1, $20::int, "                     \
    "to_timestamp($14::bigint/1000.0), $34, $35, $36, $4, $5, $37 FROM up "                                  \
    "ON CONFLICT (task_key, revision) DO NOTHING"

/* One write: now, or queued on the connection's pipeline. */
static int run(sp_db *db, int queued, const char *sql, int n, const char *const *params)
{
    return queued ? sp_db_pipeline_send(db, sql, n, params) : sp_db_exec(db, sql, n, params, NULL);
}

static int put(sp_db *db, int queued, const task *t, const task_event *ev,
    const Salespulse__V1__TaskCommand *cmd, const char *note)
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
    const char *hist[4] = {NULL, NULL, NULL, NULL};
    int with_history = ev && ev->emit;
    if (with_history) {
        hist[0] = ev->actor_id ? ev->actor_id : "system";
        hist[1] = ev->action ? task_action_name(ev->action) : "open";
        hist[2] = ev->previous_status ? task_status_name(ev->previous_status) : "";
        hist[3] = note ? note : t->note;
    }
    char last_cmd[24];
    snprintf(last_cmd, sizeof last_cmd, "%lld", (long long)t->last_cmd_ms);
    const char *params[37];
    memcpy(params, p, sizeof p);
    memcpy(params + 28, p2, sizeof p2);
    params[31] = watchers;
    params[32] = last_cmd;
    memcpy(params + 33, hist, sizeof hist);
    /* the history row of the revision in the same statement: one round trip */
    int rv = with_history ? run(db, queued, PUT_HISTORY_SQL, 37, params)
                          : run(db, queued, TASK_UPSERT, 33, params);
    free(chain);
    free(evidence);
    free(playbooks);
    free(watchers);
    if (rv != SP_OK) return rv;
    if (t->status == TASK_DISMISSED) {
        rv = run(db, queued,
            "INSERT INTO task_dismissals (kind, subject_type, subject_id, dismissed_at) "
            "SELECT kind, subject_type, subject_id, to_timestamp($2::bigint/1000.0) FROM tasks WHERE key = "
            "$1 "
            "ON CONFLICT (kind, subject_type, subject_id) DO UPDATE SET dismissed_at = EXCLUDED.dismissed_at",
            2, (const char *[]) {t->key, closed});
    }
    return rv;
}

int task_db_put(
    sp_db *db, const task *t, const task_event *ev, const Salespulse__V1__TaskCommand *cmd, const char *note)
{
    return put(db, 0, t, ev, cmd, note);
}

int task_db_prepare_put(sp_db *db)
{
    int rv;
    if ((rv = sp_db_prepare(db, TASK_UPSERT, 33)) != SP_OK
        || (rv = sp_db_prepare(db, PUT_HISTORY_SQL, 37)) != SP_OK)
        return rv;
    return SP_OK;
}

int task_db_put_queued(
    sp_db *db, const task *t, const task_event *ev, const Salespulse__V1__TaskCommand *cmd, const char *note)
{
    return put(db, 1, t, ev, cmd, note);
}

int task_db_suppressed_until(
    sp_db *db, const Salespulse__V1__TaskCommand *cmd, int64_t window_ms, int64_t *until_ms)
{
    *until_ms = 0;
    const Salespulse__V1__Signal *s = cmd->signal;
    if (s == NULL || s->subject == NULL) return SP_OK;
    const char *p[3] = {s->kind, subject_type_name(s->subject->type), s->subject->id};
    PGresult *r = NULL;
    int rv = sp_db_exec(db,
        "SELECT (extract(epoch FROM dismissed_at)*1000)::bigint FROM task_dismissals "
        "WHERE kind = $1 AND subject_type = $2 AND subject_id = $3",
        3, p, &r);
    if (rv != SP_OK) return rv;
    if (PQntuples(r)) *until_ms = strtoll(PQgetvalue(r, 0, 0), NULL, 10) + window_ms;
    PQclear(r);
    return SP_OK;
}

int task_db_suppressed_many(
    sp_db *db, Salespulse__V1__TaskCommand *const *cmds, size_t n, int64_t window_ms, int64_t *until_ms)
{
    const char **cols = calloc(3 * (n ? n : 1), sizeof *cols);
    if (cols == NULL) return SP_ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        until_ms[i] = 0;
        const Salespulse__V1__Signal *s = cmds[i] ? cmds[i]->signal : NULL;
        if (s == NULL || s->subject == NULL) continue;
        cols[m] = s->kind, cols[n + m] = subject_type_name(s->subject->type),
        cols[2 * n + m] = s->subject->id;
        m++;
    }
    int rv = SP_OK;
    char *a[3] = {NULL, NULL, NULL};
    for (int k = 0; k < 3 && rv == SP_OK; k++)
        if ((a[k] = array_literal(cols + (size_t)k * n, m)) == NULL) rv = SP_ENOMEM;
    PGresult *r = NULL;
    if (rv == SP_OK && m > 0)
        rv = sp_db_exec(db,
            "SELECT d.kind, d.subject_type, d.subject_id, (extract(epoch FROM d.dismissed_at)*1000)::bigint "
            "FROM task_dismissals d JOIN unnest($1::text[], $2::text[], $3::text[]) AS q(kind, st, sid) "
            "ON d.kind = q.kind AND d.subject_type = q.st AND d.subject_id = q.sid",
            3, (const char *const *)a, &r);
    for (int row = 0; rv == SP_OK && r != NULL && row < PQntuples(r); row++) {
        int64_t until = strtoll(PQgetvalue(r, row, 3), NULL, 10) + window_ms;
        for (size_t i = 0; i < n; i++) {
            const Salespulse__V1__Signal *s = cmds[i] ? cmds[i]->signal : NULL;
            if (s != NULL && s->subject != NULL && strcmp(s->kind, PQgetvalue(r, row, 0)) == 0
                && strcmp(subject_type_name(s->subject->type) ? subject_type_name(s->subject->type) : "",
                       PQgetvalue(r, row, 1))
                    == 0
                && strcmp(s->subject->id, PQgetvalue(r, row, 2)) == 0)
                until_ms[i] = until;
        }
    }
    PQclear(r);
    for (int k = 0; k < 3; k++)
        free(a[k]);
    free(cols);
    return rv;
}
