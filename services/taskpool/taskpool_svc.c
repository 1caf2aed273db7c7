/* taskpool_svc.c - task commands -> tasks; SLA escalation sweep. */
#include "taskpool/taskpool_svc.h"

#include "err.h"
#include "log.h"
#include "watermark.h"
#include "service.h"
#include "taskpool/goals_db.h"
#include "taskpool/task.h"
#include "taskpool/task_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct taskpool_outbox_msg {
    char *key;
    uint8_t *buf;
    size_t len;
};

/* Starts holding back TaskEvents (publish stages them). */
static void outbox_begin(taskpool_svc *s)
{
    s->outbox.on = 1;
}

/* Forgets the staged TaskEvents (their writes did not go in) and stops
 * holding back. */
static void outbox_drop(taskpool_svc *s)
{
    for (size_t i = 0; i < s->outbox.n; i++) {
        free(s->outbox.msgs[i].key);
        free(s->outbox.msgs[i].buf);
    }
    s->outbox.n = 0;
    s->outbox.on = 0;
}

/* Sends the staged TaskEvents in g, in order, once their writes are in;
 * stops holding back. SP_OK or the first send's error (the caller retries
 * the work; the rest are dropped). */
static int outbox_send(taskpool_svc *s, bus_group *g)
{
    int rv = SP_OK;
    for (size_t i = 0; i < s->outbox.n && rv == SP_OK; i++) {
        struct taskpool_outbox_msg *m = &s->outbox.msgs[i];
        rv = bus_group_send(g, s->producer, s->events_topic, m->key, strlen(m->key), m->buf, m->len);
    }
    outbox_drop(s);
    return rv;
}

void taskpool_svc_clear(taskpool_svc *s)
{
    if (!s) return;
    outbox_drop(s);
    free(s->outbox.msgs);
    s->outbox = (taskpool_outbox) {0};
}

/* Publishes the TaskEvent of a change to t - or, while the outbox holds
 * back, stages it: an event sent before its write was confirmed reported,
 * when the write then failed, a change that never happened, under an id
 * (tev:<key>:<revision>) the redone batch gives to another change. */
static int publish(taskpool_svc *s, bus_group *g, const task *t, const task_event *ev)
{
    Salespulse__V1__TaskEvent pb;
    Salespulse__V1__EventMeta meta;
    char id[512];
    int rv = task_event_fill(t, ev, &pb, &meta, id, sizeof id);
    if (rv != SP_OK) return rv;
    size_t len = salespulse__v1__task_event__get_packed_size(&pb);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL) return SP_ENOMEM;
    salespulse__v1__task_event__pack(&pb, buf);
    if (s->outbox.on) {
        taskpool_outbox *o = &s->outbox;
        if (o->n == o->cap) {
            size_t cap = o->cap ? o->cap * 2 : 64;
            struct taskpool_outbox_msg *m = realloc(o->msgs, cap * sizeof *m);
            if (!m) {
                free(buf);
                return SP_ENOMEM;
            }
            o->msgs = m;
            o->cap = cap;
        }
        char *key = strdup(t->key);
        if (!key) {
            free(buf);
            return SP_ENOMEM;
        }
        o->msgs[o->n++] = (struct taskpool_outbox_msg) {key, buf, len};
        return SP_OK;
    }
    rv = bus_group_send(g, s->producer, s->events_topic, t->key, strlen(t->key), buf, len);
    free(buf);
    return rv;
}

static int escalate_due(taskpool_svc *s, sp_db *db, bus_group *g, task *t, int64_t at, int *queued, int *n);

/* sp-route's watermark heartbeat: its id, no task key, a promise (common/watermark.h). */
static int command_heartbeat(const Salespulse__V1__TaskCommand *c)
{
    return c->meta && sp_watermark_is_heartbeat(c->meta->event_id) && !*c->task_key
        && c->upstream_watermark_ms > 0;
}

/* How far a command's partition has delivered: sp-route's promise (its
 * commands are not in event-time order), else the command's own time
 * (commands published by others: catch-ups, a CRM). */
static int64_t command_time(const Salespulse__V1__TaskCommand *c)
{
    return c->upstream_watermark_ms > 0 ? c->upstream_watermark_ms : c->meta->occurred_at_ms;
}

static bus_result apply_one(void *arg, sp_db *db, bus_group *g, const bus_msg *m, char *reason, size_t cap)
{
    taskpool_svc *s = arg;
    bus_result out = BUS_OK;
    int escalated = 0;
    int rv;
    Salespulse__V1__TaskCommand *cmd = salespulse__v1__task_command__unpack(NULL, m->len, m->payload);
    if (cmd == NULL) {
        snprintf(reason, cap, "undecodable salespulse.v1.TaskCommand (%zu bytes)", m->len);
        return BUS_DEAD;
    }
    if (command_heartbeat(cmd)) {
        sp_clock_observe(s->clock, m->partition, cmd->upstream_watermark_ms);
        goto done;
    }
    if (cmd->meta == NULL || !*cmd->task_key) {
        snprintf(reason, cap, "invalid TaskCommand: %s missing", cmd->meta == NULL ? "meta" : "task_key");
        out = BUS_DEAD;
        goto done;
    }
    sp_clock_observe(s->clock, m->partition, command_time(cmd));
    int64_t now = cmd->meta->occurred_at_ms;
    task *existing = calloc(2, sizeof *existing), *next = existing ? existing + 1 : NULL;
    if (existing == NULL) {
        out = BUS_RETRY;
        goto done;
    }
    outbox_begin(s); /* its events go once all its writes are in (dropped at free_tasks) */
    int found = 0;
    int64_t suppressed_until = 0;
    if ((rv = task_db_get(db, cmd->task_key, 1, existing, &found)) != SP_OK
        || (rv = task_db_suppressed_until(db, cmd, s->suppress_ms, &suppressed_until)) != SP_OK) {
        snprintf(reason, cap, "database: %s", sp_db_errmsg(db));
        out = rv == SP_EDBDOWN ? BUS_RETRY : BUS_DEAD;
        goto free_tasks;
    }
    if (found && (rv = escalate_due(s, db, g, existing, now, NULL, &escalated)) != SP_OK) {
        snprintf(reason, cap, "escalation before the command: %s",
            rv == SP_EKAFKA ? "not published" : sp_db_errmsg(db));
        out = rv == SP_EDB ? BUS_DEAD : BUS_RETRY;
        goto free_tasks;
    }
    task_effect effect = TASK_EFFECT_NONE;
    task_noop_why why = TASK_NOOP_NONE;
    task_event ev;
    rv = task_apply_command(found ? existing : NULL, cmd, now, suppressed_until, next, &effect, &why, &ev);
    if (rv != SP_OK) {
        snprintf(
            reason, cap, "invalid TaskCommand %s: %s", cmd->task_key, ev.field ? ev.field : sp_strerror(rv));
        out = BUS_DEAD;
        goto free_tasks;
    }
    if (effect == TASK_EFFECT_NONE) goto free_tasks; /* duplicate, stale, suppressed, closed */
    if ((rv = task_db_put(db, next, &ev, cmd, NULL)) != SP_OK) {
        snprintf(reason, cap, "database: %s", sp_db_errmsg(db));
        out = rv == SP_EDBDOWN ? BUS_RETRY : BUS_DEAD;
        goto free_tasks;
    }
    if (ev.emit && publish(s, g, next, &ev) != SP_OK) out = BUS_RETRY;
free_tasks:
    if (out == BUS_OK && outbox_send(s, g) != SP_OK) {
        snprintf(reason, cap, "task event not published");
        out = BUS_RETRY;
    }
    outbox_drop(s); /* an item answered DEAD or RETRY: its events never were */
    if (out == BUS_OK)
        s->escalations
            += (unsigned long)escalated; /* counted with the item (its batch may still be redone) */
    free(existing);
done:
    salespulse__v1__task_command__free_unpacked(cmd, NULL);
    return out;
}

#define SP_PIPELINE_MAX 64 /* writes in flight at most */

/* The batch's state: decoded commands, and per distinct task key the
 * task as the batch has left it so far. */
typedef struct fast {
    Salespulse__V1__TaskCommand **cmd; /* NULL: refused before the database */
    const char **key; /* distinct keys */
    size_t *slot; /* cmd i -> its key's index */
    task *cur; /* per key */
    int *have;
    int64_t *suppressed;
    task *next;
    size_t n, nkeys;
} fast;

static void fast_free(fast *f)
{
    for (size_t i = 0; f->cmd && i < f->n; i++)
        salespulse__v1__task_command__free_unpacked(f->cmd[i], NULL);
    free(f->cmd), free(f->key), free(f->slot), free(f->cur), free(f->have), free(f->suppressed),
        free(f->next);
}

/* t as task_db_get would read it back after task_db_put(t, cmd), so a
 * later command of the batch is decided exactly as message by message: an
 * empty team/region takes the signal's. */
static void stored_as(task *t, const Salespulse__V1__TaskCommand *cmd)
{
    const Salespulse__V1__Signal *s = cmd->signal;
    if (!t->team_id[0] && s && s->team_id && *s->team_id)
        snprintf(t->team_id, sizeof t->team_id, "%s", s->team_id);
    if (!t->region_id[0] && s && s->region_id && *s->region_id)
        snprintf(t->region_id, sizeof t->region_id, "%s", s->region_id);
}

/* The whole batch in one transaction without a savepoint per message: the
 * tasks and dismissals of every command read with two statements, then
 * one statement per change. SP_OK when res is final (done, or every
 * message BUS_RETRY); SP_EDB when a statement failed and the caller must
 * redo the batch message by message (sp_tx_batch), which isolates a bad
 * message. Same decisions as apply_one. */
static int batch_fast(taskpool_svc *s, sp_db *db, const bus_msg *msgs, size_t n, bus_result *res,
    char (*reasons)[BUS_REASON_LEN])
{
    fast f = {.n = n};
    bus_group *g = NULL;
    int rv = SP_OK, queued = 0, escalated = 0;
    if ((f.cmd = calloc(n, sizeof *f.cmd)) == NULL || (f.key = calloc(n, sizeof *f.key)) == NULL
        || (f.slot = calloc(n, sizeof *f.slot)) == NULL
        || (f.suppressed = calloc(n, sizeof *f.suppressed)) == NULL
        || (f.next = calloc(1, sizeof *f.next)) == NULL || bus_group_new(&g) != SP_OK)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        res[i] = BUS_OK;
        Salespulse__V1__TaskCommand *c
            = salespulse__v1__task_command__unpack(NULL, msgs[i].len, msgs[i].payload);
        if (c == NULL) {
            snprintf(
                reasons[i], BUS_REASON_LEN, "undecodable salespulse.v1.TaskCommand (%zu bytes)", msgs[i].len);
            res[i] = BUS_DEAD;
            continue;
        }
        if (command_heartbeat(c)) {
            sp_clock_observe(s->clock, msgs[i].partition, c->upstream_watermark_ms);
            salespulse__v1__task_command__free_unpacked(c, NULL);
            continue;
        }
        if (c->meta == NULL || !*c->task_key) {
            snprintf(reasons[i], BUS_REASON_LEN, "invalid TaskCommand: %s missing",
                c->meta == NULL ? "meta" : "task_key");
            res[i] = BUS_DEAD;
            salespulse__v1__task_command__free_unpacked(c, NULL);
            continue;
        }
        f.cmd[i] = c;
        size_t k = 0;
        while (k < f.nkeys && strcmp(f.key[k], c->task_key) != 0)
            k++;
        if (k == f.nkeys) f.key[f.nkeys++] = c->task_key;
        f.slot[i] = k;
    }
    /* a task is some kB: one per distinct key, not per message */
    if ((f.cur = calloc(f.nkeys ? f.nkeys : 1, sizeof *f.cur)) == NULL
        || (f.have = calloc(f.nkeys ? f.nkeys : 1, sizeof *f.have)) == NULL)
        goto oom;
    outbox_begin(s); /* the batch's events go once all its writes are in */
    if ((rv = task_db_prepare_put(db)) != SP_OK || (rv = sp_db_begin(db)) != SP_OK
        || (rv = task_db_get_many(db, f.key, f.nkeys, f.cur, f.have)) != SP_OK
        || (rv = task_db_suppressed_many(db, f.cmd, n, s->suppress_ms, f.suppressed)) != SP_OK)
        goto db_fail;
    for (size_t i = 0; i < n; i++) {
        Salespulse__V1__TaskCommand *c = f.cmd[i];
        if (c == NULL) continue;
        sp_clock_observe(s->clock, msgs[i].partition, command_time(c));
        size_t k = f.slot[i];
        if (f.have[k]
            && (rv = escalate_due(s, db, g, &f.cur[k], c->meta->occurred_at_ms, &queued, &escalated))
                != SP_OK) {
            if (rv == SP_EKAFKA) goto retry;
            goto db_fail;
        }
        task_effect effect = TASK_EFFECT_NONE;
        task_noop_why why = TASK_NOOP_NONE;
        task_event ev;
        int arv = task_apply_command(f.have[k] ? &f.cur[k] : NULL, c, c->meta->occurred_at_ms,
            f.suppressed[i], f.next, &effect, &why, &ev);
        if (arv != SP_OK) {
            snprintf(reasons[i], BUS_REASON_LEN, "invalid TaskCommand %s: %s", c->task_key,
                ev.field ? ev.field : sp_strerror(arv));
            res[i] = BUS_DEAD;
            continue;
        }
        if (effect == TASK_EFFECT_NONE) continue;
        /* writes are pipelined: no round trip per command */
        if (queued == 0 && (rv = sp_db_pipeline_begin(db)) != SP_OK) goto db_fail;
        rv = task_db_put_queued(db, f.next, &ev, c, NULL);
        if (rv != SP_OK || ++queued == SP_PIPELINE_MAX) {
            int erv = sp_db_pipeline_end(db);
            queued = 0;
            if (rv == SP_OK) rv = erv;
            if (rv != SP_OK) goto db_fail;
        }
        f.cur[k] = *f.next;
        stored_as(&f.cur[k], c);
        f.have[k] = 1;
        if (ev.emit && publish(s, g, f.next, &ev) != SP_OK) goto retry;
    }
    if (queued > 0) {
        queued = 0;
        if ((rv = sp_db_pipeline_end(db)) != SP_OK) goto db_fail;
    }
    if (outbox_send(s, g) != SP_OK) goto retry;
    char err[256];
    if (bus_group_wait(g, s->deliver_wait_ms > 0 ? s->deliver_wait_ms : 15000, err, sizeof err) != SP_OK) {
        sp_warn("batch: outputs not delivered (%s); retrying", err);
        goto retry;
    }
    if ((rv = sp_db_commit(db)) != SP_OK) goto db_fail;
    s->escalations += (unsigned long)escalated;
    bus_group_release(g);
    fast_free(&f);
    return SP_OK;
db_fail:
    outbox_drop(s);
    if (queued > 0) sp_db_pipeline_end(db);
    sp_db_rollback(db);
    bus_group_release(g);
    fast_free(&f);
    if (rv == SP_EDBDOWN) {
        sp_warn("batch: database: %s; retrying", sp_db_errmsg(db));
        for (size_t i = 0; i < n; i++)
            res[i] = BUS_RETRY;
        return SP_OK;
    }
    return SP_EDB; /* a statement failed: isolate the message that did it */
oom:
    outbox_drop(s);
    bus_group_release(g);
    fast_free(&f);
    for (size_t i = 0; i < n; i++)
        res[i] = BUS_RETRY;
    return SP_OK;
retry:
    outbox_drop(s);
    if (queued > 0) sp_db_pipeline_end(db);
    sp_db_rollback(db);
    bus_group_release(g);
    fast_free(&f);
    for (size_t i = 0; i < n; i++)
        res[i] = BUS_RETRY;
    return SP_OK;
}

void taskpool_svc_batch(
    void *arg, sp_db *db, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN])
{
    taskpool_svc *s = arg;
    if (batch_fast(s, db, msgs, n, res, reasons) != SP_OK) {
        sp_info("batch: a statement failed (%s); redoing it message by message", sp_db_errmsg(db));
        sp_tx_batch(db, msgs, n, res, reasons, apply_one, s);
    }
    /* after every batch: a task that arrived late (its deadline already
     * behind the watermark) is escalated now rather than never */
    s->last_sweep_ms = 0;
    taskpool_sla_sweep(s, db);
    taskpool_goal_schedule(s, db);
}

/* sla_people over the org chart in PostgreSQL: availability from absences,
 * names for the reasons. Names live in a small per-call cache. */
struct people_ctx {
    sp_db *db;
    char names[4][128];
    int next;
};

static int person_available(void *arg, const char *id, int64_t at_ms)
{
    struct people_ctx *pc = arg;
    char at[24];
    snprintf(at, sizeof at, "%lld", (long long)at_ms);
    const char *p[2] = {id, at};
    PGresult *r = NULL;
    if (sp_db_exec(pc->db,
            "SELECT p.active AND NOT EXISTS (SELECT 1 FROM absences a WHERE a.person_id = p.id AND "
            "to_timestamp($2::bigint / 1000.0) >= a.starts_at AND to_timestamp($2::bigint / 1000.0) < "
            "a.ends_at) "
            "FROM people p WHERE p.id = $1",
            2, p, &r)
        != SP_OK)
        return 1; /* cannot tell: do not skip */
    int ok = PQntuples(r) == 0 || strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return ok;
}

static const char *person_name(void *arg, const char *id, int english)
{
    (void)english;
    struct people_ctx *pc = arg;
    const char *p[1] = {id};
    PGresult *r = NULL;
    if (sp_db_exec(pc->db, "SELECT name FROM people WHERE id = $1", 1, p, &r) != SP_OK || PQntuples(r) == 0) {
        PQclear(r);
        return NULL;
    }
    char *slot = pc->names[pc->next++ % 4];
    snprintf(slot, sizeof pc->names[0], "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return slot;
}

/* The org role of a person ("director", ...), into buf; "escalation" if unknown. */
static void person_role(sp_db *db, const char *id, char *buf, size_t cap)
{
    const char *p[1] = {id};
    PGresult *r = NULL;
    snprintf(buf, cap, "escalation");
    if (sp_db_exec(db, "SELECT role FROM people WHERE id = $1", 1, p, &r) == SP_OK && PQntuples(r) == 1)
        snprintf(buf, cap, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
}

/* Escalates t one level if its deadline is before now (sla_check, with the
 * people's availability and names), in the caller's transaction: history
 * row, task row, TaskEvent queued in g. *done = 1 if it did. SP_OK (also
 * when nothing is due); SP_EDB / SP_EDBDOWN; SP_EKAFKA when the event
 * could not be queued. */
static int escalate_apply(taskpool_svc *s, sp_db *db, bus_group *g, task *t, int64_t now, int *done)
{
    *done = 0;
    sla_decision d;
    struct people_ctx pc = {.db = db};
    sla_people people = {.available = person_available, .name = person_name, .ctx = &pc};
    if (sla_check(t, &s->sla, now, &people, &d) != SP_OK || !d.escalate) return SP_OK;
    char role[32];
    person_role(db, d.to_id, role, sizeof role);
    task_args args = {.to_id = d.to_id, .to_role = role, .escalation_level = d.new_level};
    task_actor system = {.person_id = "system"};
    task_event ev;
    if (task_transition(t, TASK_ACT_ESCALATE, &system, &args, d.due_ms, &ev) != SP_OK) return SP_OK;
    char note[1100];
    snprintf(note, sizeof note, "%s / %s", d.reason_zh, d.reason_en);
    int rv = task_db_put(db, t, &ev, NULL, note);
    if (rv != SP_OK) return rv;
    if (ev.emit && publish(s, g, t, &ev) != SP_OK) return SP_EKAFKA;
    sp_info("escalated %s to %s (level %u)", t->key, d.to_id, d.new_level);
    *done = 1;
    return SP_OK;
}

/* Before a command dated at is applied to t: every escalation whose
 * deadline is before at, as the sweep would have made them had the clock
 * stopped there (a batch may hold a task's opening and its close two days
 * later: the escalation between them must not depend on how the commands
 * were batched). *queued: pipelined writes, ended before the first
 * statement; NULL when none. *n counts the escalations made (the caller's
 * transaction decides whether they stand). Errors as escalate_apply. */
static int escalate_due(taskpool_svc *s, sp_db *db, bus_group *g, task *t, int64_t at, int *queued, int *n)
{
    for (int level = 0; level < SP_TASK_MAX_CHAIN; level++) {
        sla_decision d;
        if (sla_check(t, &s->sla, at, NULL, &d) != SP_OK || !d.escalate) return SP_OK;
        int rv, done = 0;
        if (queued && *queued > 0) {
            *queued = 0;
            if ((rv = sp_db_pipeline_end(db)) != SP_OK) return rv;
        }
        if ((rv = escalate_apply(s, db, g, t, at, &done)) != SP_OK || !done) return rv;
        (*n)++;
    }
    return SP_OK;
}

/* Escalates one due task in its own transaction: 1 if it did, 0 if there
 * was nothing to do, -1 if it failed (rolled back: the database, or its
 * TaskEvent not delivered). */
static int escalate_one(taskpool_svc *s, sp_db *db, const char *key, int64_t now)
{
    task *t = calloc(1, sizeof *t);
    bus_group *g = NULL;
    int done = -1, found = 0;
    int wait_ms = s->deliver_wait_ms > 0 ? s->deliver_wait_ms : 15000;
    if (t == NULL || bus_group_new(&g) != SP_OK || sp_db_begin(db) != SP_OK) goto out;
    if (task_db_get(db, key, 1, t, &found) != SP_OK) goto rollback;
    if (!found) {
        done = 0;
        goto rollback;
    }
    if (escalate_apply(s, db, g, t, now, &done) != SP_OK) {
        done = -1;
        goto rollback;
    }
    if (!done) goto rollback;
    if (bus_group_wait(g, wait_ms, NULL, 0) != SP_OK || sp_db_commit(db) != SP_OK) {
        done = -1;
        goto rollback;
    }
    goto out;
rollback:
    sp_db_rollback(db);
out:
    bus_group_release(g);
    free(t);
    return done;
}

int taskpool_sla_sweep(taskpool_svc *s, sp_db *db)
{
    SP_ASSERT(!s->outbox.on); /* else its escalations would be staged and never sent */
    int64_t now = sp_clock_now_ms(s->clock);
    if (now <= 0 || (s->last_sweep_ms && now - s->last_sweep_ms < s->sweep_every_ms)) return 0;
    char now_s[24];
    snprintf(now_s, sizeof now_s, "%lld", (long long)now);
    PGresult *r = NULL;
    const char *p[1] = {now_s};
    if (sp_db_exec(db,
            "SELECT key FROM tasks WHERE status = 'open' AND escalation_level < cardinality(chain) AND "
            "due_at < to_timestamp($1::bigint / 1000.0) ORDER BY due_at LIMIT 500",
            1, p, &r)
        != SP_OK)
        return -1;
    int n = 0, failed = 0;
    /* every level that is due by now, not one per sweep: how often the
     * sweep runs must not change where a task ends up. The first failure
     * ends the sweep (Kafka or PostgreSQL down: each further task would
     * wait out its own delivery timeout, up to 500 of them); the rest wait
     * for the next sweep. */
    for (int i = 0; i < PQntuples(r) && !failed; i++)
        for (int level = 0; level < SP_TASK_MAX_CHAIN; level++) {
            int done = escalate_one(s, db, PQgetvalue(r, i, 0), now);
            if (done < 0) failed = 1, s->escalation_failures++;
            if (done <= 0) break;
            n++;
        }
    PQclear(r);
    if (!failed) s->last_sweep_ms = now;
    s->escalations += (unsigned long)n;
    return failed ? -1 : n;
}

int taskpool_goal_schedule(taskpool_svc *s, sp_db *db)
{
    int64_t now = sp_clock_now_ms(s->clock);
    if (!s->goal_templates || now <= 0 || (s->last_review_ms && now - s->last_review_ms < s->sweep_every_ms))
        return 0;
    char now_s[24];
    snprintf(now_s, sizeof now_s, "%lld", (long long)now);
    const char *p[1] = {now_s};
    PGresult *r = NULL;
    /* every month holding a week start of a goal, begun before now, not run yet */
    if (sp_db_exec(db,
            "SELECT g.id, to_char(m, 'YYYY-MM') FROM goals g CROSS JOIN LATERAL generate_series("
            "date_trunc('month', g.starts_at AT TIME ZONE 'UTC'), date_trunc('month', (g.starts_at + "
            "(g.weeks - 1) * interval '7 days') AT TIME ZONE 'UTC'), interval '1 month') m "
            "WHERE m < to_timestamp($1::bigint / 1000.0) AT TIME ZONE 'UTC' AND NOT EXISTS (SELECT 1 FROM "
            "goal_review_runs x WHERE x.goal_id = g.id AND x.month = to_char(m, 'YYYY-MM')) ORDER BY 2, 1",
            1, p, &r)
        != SP_OK) {
        sp_warn("goal reviews: %s", sp_db_errmsg(db));
        return -1;
    }
    s->last_review_ms = now;
    char kerr[512];
    long added = 0;
    if (goals_db_key_actions(db, now, &added, kerr, sizeof kerr) != SP_OK)
        sp_warn("goal key actions: %s", kerr);
    s->key_actions += added;
    goals_db_bus bus = {s->producer, s->commands_topic ? s->commands_topic : SP_TOPIC_TASK_COMMANDS, NULL,
        s->review_wait_ms > 0 ? s->review_wait_ms : 30000};
    int n = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *goal = PQgetvalue(r, i, 0), *month = PQgetvalue(r, i, 1);
        int64_t due = 0;
        if (goals_review_due_ms(month, &due) != SP_OK || due > now) continue;
        char err[1024] = "", due_s[24];
        goals_db_minutes m = {0};
        int rv = goals_db_review(db, &bus, s->goal_templates, goal, month, &m, err, sizeof err);
        if (rv == SP_OK) {
            char nb[16];
            snprintf(due_s, sizeof due_s, "%lld", (long long)due);
            snprintf(nb, sizeof nb, "%d", m.catch_ups);
            const char *pr[5] = {goal, month, due_s, now_s, nb};
            rv = sp_db_exec(db,
                "INSERT INTO goal_review_runs (goal_id, month, due_at, clock_ms, catch_ups) VALUES ($1, $2, "
                "to_timestamp($3::bigint / 1000.0), $4::bigint, $5::int) ON CONFLICT DO NOTHING",
                5, pr, NULL);
            if (rv != SP_OK) snprintf(err, sizeof err, "%s", sp_db_errmsg(db));
        }
        if (rv == SP_OK) {
            sp_info(
                "goal review %s %s: minutes stored, %d catch-up task command(s)", goal, month, m.catch_ups);
            n++;
        } else {
            /* retried at the next check; a goal whose template is gone stays logged */
            sp_warn("goal review %s %s: %s", goal, month, err);
        }
        goals_db_minutes_clear(&m);
        if (rv == SP_EDBDOWN || rv == SP_EKAFKA) break;
    }
    PQclear(r);
    s->reviews += (unsigned long)n;
    return n;
}

void taskpool_svc_idle(void *arg, sp_db *db)
{
    taskpool_sla_sweep(arg, db);
    taskpool_goal_schedule(arg, db);
}
