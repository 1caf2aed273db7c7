/* task.c - task lifecycle transitions and the effect of task commands. */
#include "taskpool/task.h"

#include "err.h"

#include <stdio.h>
#include <string.h>

_Static_assert(
    (int)TASK_RESOLVED == (int)SALESPULSE__V1__TASK_STATUS__TASK_STATUS_RESOLVED, "status numbers");
_Static_assert((int)TASK_OPEN == (int)SALESPULSE__V1__TASK_STATUS__TASK_STATUS_OPEN, "status numbers");

static const char *const status_names[]
    = {"unspecified", "open", "acknowledged", "in_progress", "done", "dismissed", "resolved"};

const char *task_status_name(task_status s)
{
    return (int)s >= 0 && s <= TASK_RESOLVED ? status_names[s] : "unspecified";
}

int task_status_parse(const char *s, task_status *out)
{
    for (int i = TASK_OPEN; s != NULL && i <= TASK_RESOLVED; i++)
        if (strcmp(s, status_names[i]) == 0) {
            *out = (task_status)i;
            return SP_OK;
        }
    return SP_EINVAL;
}

const char *task_action_name(task_action a)
{
    static const char *const names[]
        = {"?", "ack", "start", "complete", "dismiss", "reassign", "system_close", "escalate"};
    return (int)a >= 1 && a <= TASK_ACT_ESCALATE ? names[a] : "?";
}

static int is_active(task_status s)
{
    return s == TASK_OPEN || s == TASK_ACKNOWLEDGED || s == TASK_IN_PROGRESS;
}

/* Bit set of the states each action may start from. */
static unsigned allowed_from(task_action a)
{
#define B(s) (1u << (s))
    switch (a) {
    case TASK_ACT_ACK: return B(TASK_OPEN);
    case TASK_ACT_START: return B(TASK_OPEN) | B(TASK_ACKNOWLEDGED);
    case TASK_ACT_COMPLETE: return B(TASK_ACKNOWLEDGED) | B(TASK_IN_PROGRESS);
    case TASK_ACT_DISMISS:
    case TASK_ACT_REASSIGN:
    case TASK_ACT_SYSTEM_CLOSE: return B(TASK_OPEN) | B(TASK_ACKNOWLEDGED) | B(TASK_IN_PROGRESS);
    case TASK_ACT_ESCALATE: return B(TASK_OPEN);
    }
    return 0;
#undef B
}

/* Static texts for 409s, one per (action, state) family. */
static const char *conflict_text(task_action a, task_status s)
{
    if (!is_active(s)) return "the task is already closed";
    switch (a) {
    case TASK_ACT_ACK: return "the task is already acknowledged";
    case TASK_ACT_START: return "the task is already in progress";
    case TASK_ACT_COMPLETE: return "acknowledge or start the task before completing it";
    case TASK_ACT_ESCALATE: return "only an unacknowledged task escalates";
    default: return "illegal transition";
    }
}

static int put(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) return SP_ETOOBIG;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
    return SP_OK;
}

static int nonempty(const char *s)
{
    return s != NULL && *s != '\0';
}

static int outcome_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= SP_TASK_OUTCOME_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_')) return 0;
    return 1;
}

static int bad_arg(task_event *ev, const char *field, const char *text)
{
    ev->field = field;
    ev->error = text;
    return SP_EINVAL;
}

static int too_big(task_event *ev, const char *field, const char *text)
{
    bad_arg(ev, field, text);
    return SP_ETOOBIG;
}

int task_transition(task *t, task_action action, const task_actor *actor, const task_args *args,
    int64_t now_ms, task_event *ev)
{
    static const task_args none = {0};
    memset(ev, 0, sizeof *ev);
    if (t == NULL || actor == NULL || !nonempty(actor->person_id))
        return bad_arg(ev, "actor", "actor required");
    if (args == NULL) args = &none;
    ev->action = action;
    ev->status = t->status;
    ev->previous_status = t->status;
    ev->actor_id = actor->person_id;
    ev->at_ms = now_ms;
    if (allowed_from(action) == 0) return bad_arg(ev, "action", "unknown action");
    if (!(allowed_from(action) & (1u << t->status))) {
        ev->error = conflict_text(action, t->status);
        return SP_ECONFLICT;
    }
    task n = *t; /* work on a copy: t stays unchanged on error */
    int rv = SP_OK;
    switch (action) {
    case TASK_ACT_ACK:
        n.status = TASK_ACKNOWLEDGED;
        n.acked_ms = now_ms;
        break;
    case TASK_ACT_START:
        n.status = TASK_IN_PROGRESS;
        if (n.acked_ms == 0) n.acked_ms = now_ms;
        break;
    case TASK_ACT_COMPLETE:
        if (!outcome_ok(args->outcome)) return bad_arg(ev, "outcome", "outcome required: a word in [a-z_]");
        if (!nonempty(args->note)) return bad_arg(ev, "note", "note required");
        if ((rv = put(n.outcome, sizeof n.outcome, args->outcome)) != 0
            || (rv = put(n.note, sizeof n.note, args->note)) != 0)
            return too_big(ev, "note", "note too long");
        n.status = TASK_DONE;
        n.closed_ms = now_ms;
        break;
    case TASK_ACT_DISMISS:
        if (!nonempty(args->reason)) return bad_arg(ev, "reason", "reason required");
        if (put(n.note, sizeof n.note, args->reason) != 0) return too_big(ev, "reason", "reason too long");
        n.status = TASK_DISMISSED;
        n.closed_ms = now_ms;
        break;
    case TASK_ACT_REASSIGN:
        if (actor->role != ACL_ROLE_SUPERVISOR && actor->role != ACL_ROLE_DIRECTOR
            && actor->role != ACL_ROLE_ADMIN && actor->role != ACL_ROLE_SYSTEM) {
            ev->error = "only a supervisor, director or admin may reassign";
            return SP_EFORBIDDEN;
        }
        if (!nonempty(args->to_id)) return bad_arg(ev, "to_id", "new assignee required");
        if (args->n_chain > SP_TASK_MAX_CHAIN) return too_big(ev, "chain", "chain too long");
        if (put(n.assignee_id, sizeof n.assignee_id, args->to_id) != 0
            || put(n.assignee_role, sizeof n.assignee_role, args->to_role) != 0)
            return too_big(ev, "to_id", "id too long");
        n.n_chain = 0;
        for (size_t i = 0; i < args->n_chain; i++)
            if (put(n.chain[n.n_chain++], sizeof n.chain[0], args->chain[i]) != 0)
                return too_big(ev, "chain", "id too long");
        /* a fresh SLA clock for the new assignee */
        n.status = TASK_OPEN;
        n.acked_ms = 0;
        n.assigned_ms = now_ms;
        n.escalation_level = 0;
        break;
    case TASK_ACT_SYSTEM_CLOSE:
        n.status = TASK_RESOLVED;
        n.closed_ms = now_ms;
        break;
    case TASK_ACT_ESCALATE:
        if (!nonempty(args->to_id)) return bad_arg(ev, "to_id", "escalation target required");
        if (args->escalation_level <= t->escalation_level)
            return bad_arg(ev, "escalation_level", "escalation level must rise");
        if (put(n.assignee_id, sizeof n.assignee_id, args->to_id) != 0
            || put(n.assignee_role, sizeof n.assignee_role, args->to_role) != 0)
            return too_big(ev, "to_id", "id too long");
        n.escalation_level = args->escalation_level;
        n.assigned_ms = now_ms;
        break;
    }
    n.updated_ms = now_ms;
    n.revision++;
    *t = n;
    ev->status = t->status;
    ev->emit = 1;
    return SP_OK;
}

int task_conflict_body(const task_event *ev, char *buf, size_t cap)
{
    /* both strings are static texts without quotes or backslashes */
    int n = snprintf(buf, cap, "{\"error\":\"%s\",\"current_status\":\"%s\"}",
        ev->error ? ev->error : "conflict", task_status_name(ev->status));
    return n < 0 || (size_t)n >= cap ? SP_ETOOBIG : SP_OK;
}

/* Fills the routing fields of row r from an UPSERT command. */
static int row_from_command(task *r, const Salespulse__V1__TaskCommand *cmd)
{
    const Salespulse__V1__Signal *s = cmd->signal;
    int rv;
    if ((rv = put(r->assignee_id, sizeof r->assignee_id, cmd->assignee_id)) != 0
        || (rv = put(r->assignee_role, sizeof r->assignee_role, cmd->assignee_role)) != 0
        || (rv = put(r->kind, sizeof r->kind, s->kind)) != 0
        || (rv = put(r->team_id, sizeof r->team_id, s->team_id)) != 0
        || (rv = put(r->region_id, sizeof r->region_id, s->region_id)) != 0)
        return rv;
    if (cmd->n_chain > SP_TASK_MAX_CHAIN) return SP_ETOOBIG;
    r->n_chain = 0;
    for (size_t i = 0; i < cmd->n_chain; i++)
        if ((rv = put(r->chain[r->n_chain++], sizeof r->chain[0], cmd->chain[i])) != 0) return rv;
    r->level = s->level >= 1 && s->level <= 3 ? (int)s->level : 1;
    r->sla_s = cmd->sla_s;
    return SP_OK;
}

static void noop(task_effect *effect, task_noop_why *why, task_noop_why w)
{
    *effect = TASK_EFFECT_NONE;
    *why = w;
}

int task_apply_command(const task *ex, const Salespulse__V1__TaskCommand *cmd, int64_t now_ms,
    int64_t suppressed_until_ms, task *out, task_effect *effect, task_noop_why *why, task_event *ev)
{
    int rv;
    memset(ev, 0, sizeof *ev);
    *effect = TASK_EFFECT_NONE;
    *why = TASK_NOOP_NONE;
    if (cmd == NULL || cmd->meta == NULL || !nonempty(cmd->meta->event_id)) return SP_EINVAL;
    if (!nonempty(cmd->task_key)) return SP_EINVAL;
    int upsert = cmd->op == SALESPULSE__V1__TASK_OP__TASK_OP_UPSERT;
    if (!upsert && cmd->op != SALESPULSE__V1__TASK_OP__TASK_OP_CLOSE) return SP_EINVAL;
    if (upsert && (cmd->signal == NULL || !nonempty(cmd->signal->kind) || !nonempty(cmd->assignee_id)))
        return SP_EINVAL;
    if (ex != NULL && strcmp(ex->key, cmd->task_key) != 0) return SP_EINVAL;
    int64_t at = cmd->meta->occurred_at_ms > 0 ? cmd->meta->occurred_at_ms : now_ms;
    ev->actor_id = "system";
    ev->at_ms = at;

    if (ex != NULL && strcmp(ex->last_cmd_event_id, cmd->meta->event_id) == 0) {
        noop(effect, why, TASK_NOOP_DUPLICATE);
        return SP_OK;
    }
    if (ex != NULL && at < ex->last_cmd_ms) {
        noop(effect, why, TASK_NOOP_STALE);
        return SP_OK;
    }
    if (ex == NULL) {
        if (!upsert) {
            noop(effect, why, TASK_NOOP_UNKNOWN);
            return SP_OK;
        }
        if (suppressed_until_ms > at) {
            noop(effect, why, TASK_NOOP_SUPPRESSED);
            return SP_OK;
        }
        memset(out, 0, sizeof *out);
        if ((rv = put(out->key, sizeof out->key, cmd->task_key)) != 0
            || (rv = row_from_command(out, cmd)) != 0)
            return rv;
        out->status = TASK_OPEN;
        out->created_ms = out->assigned_ms = out->updated_ms = at;
        *effect = TASK_EFFECT_INSERT;
        ev->previous_status = TASK_STATUS_NONE;
        ev->emit = 1;
    } else if (!upsert) {
        if (!is_active(ex->status)) {
            noop(effect, why, TASK_NOOP_CLOSED);
            return SP_OK;
        }
        *out = *ex;
        out->status = TASK_RESOLVED;
        out->closed_ms = out->updated_ms = at;
        *effect = TASK_EFFECT_RESOLVE;
        ev->action = TASK_ACT_SYSTEM_CLOSE;
        ev->previous_status = ex->status;
        ev->emit = 1;
    } else if (is_active(ex->status)) {
        /* A repeat updates the open task; a higher level re-routes it
         * (e.g. unanswered_inbound L1 → rep, then L2 → supervisor). */
        *out = *ex;
        int rose = cmd->signal->level > (Salespulse__V1__Level)ex->level && cmd->signal->level <= 3
            && strcmp(cmd->assignee_id, ex->assignee_id) != 0;
        if (rose) {
            if ((rv = row_from_command(out, cmd)) != 0) return rv;
            out->status = TASK_OPEN;
            out->acked_ms = 0;
            out->assigned_ms = at;
            out->escalation_level = 0;
            ev->previous_status = ex->status;
            ev->emit = 1;
        } else if (cmd->signal->level > (Salespulse__V1__Level)ex->level && cmd->signal->level <= 3) {
            out->level = (int)cmd->signal->level;
            out->sla_s = cmd->sla_s;
        }
        out->updated_ms = at;
        *effect = TASK_EFFECT_UPDATE;
    } else if (ex->status == TASK_DISMISSED && suppressed_until_ms <= at) {
        *out = *ex;
        if ((rv = row_from_command(out, cmd)) != 0) return rv;
        out->status = TASK_OPEN;
        out->acked_ms = out->closed_ms = 0;
        out->assigned_ms = out->updated_ms = at;
        out->escalation_level = 0;
        out->outcome[0] = out->note[0] = '\0';
        *effect = TASK_EFFECT_REOPEN;
        ev->previous_status = ex->status;
        ev->emit = 1;
    } else {
        noop(effect, why, ex->status == TASK_DISMISSED ? TASK_NOOP_SUPPRESSED : TASK_NOOP_CLOSED);
        return SP_OK;
    }
    if ((rv = put(out->last_cmd_event_id, sizeof out->last_cmd_event_id, cmd->meta->event_id)) != 0)
        return rv;
    out->last_cmd_ms = at;
    out->revision++;
    ev->status = out->status;
    return SP_OK;
}

int task_event_fill(const task *t, const task_event *ev, Salespulse__V1__TaskEvent *pb,
    Salespulse__V1__EventMeta *meta, char *id_buf, size_t cap)
{
    int n = snprintf(id_buf, cap, "tev:%s:%u", t->key, t->revision);
    if (n < 0 || (size_t)n >= cap) return SP_ETOOBIG;
    salespulse__v1__event_meta__init(meta);
    salespulse__v1__task_event__init(pb);
    meta->event_id = id_buf;
    meta->occurred_at_ms = ev->at_ms;
    meta->produced_at_ms = ev->at_ms;
    meta->producer = "sp-taskpool";
    meta->schema_version = 1;
    pb->meta = meta;
    pb->task_key = (char *)t->key;
    pb->status = (Salespulse__V1__TaskStatus)ev->status;
    pb->previous_status = (Salespulse__V1__TaskStatus)ev->previous_status;
    pb->assignee_id = (char *)t->assignee_id;
    pb->actor_id = (char *)(ev->actor_id ? ev->actor_id : "system");
    pb->kind = (char *)t->kind;
    pb->level = (Salespulse__V1__Level)t->level;
    pb->note = (char *)t->note;
    pb->outcome = (char *)t->outcome;
    pb->escalation_level = t->escalation_level;
    return SP_OK;
}
