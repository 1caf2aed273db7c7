/* goals_catchup.c - catch-up items as TaskCommands. */
#include "taskpool/goals_catchup.h"

#include "utf8.h"

#include <stdio.h>
#include <string.h>

/* FNV-1a over a string, continued from h. */
static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h ^ 0xff; /* a separator: ("ab","c") != ("a","bc") */
}

/* Appends s at *len, cut on a code-point boundary when it does not fit
 * (protobuf strings must be valid UTF-8). */
static void add(char *buf, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s), room = cap - *len - 1, k = n <= room ? n : sp_utf8_cut(s, n, room);
    memcpy(buf + *len, s, k);
    *len += k;
    buf[*len] = '\0';
}

sp_err goals_catchup_command(
    const goals_catchup *cu, const char *goal_id, const char *month, int64_t at_ms, goals_catchup_cmd *c)
{
    memset(c, 0, sizeof *c);
    if (!cu || !*cu->rep_id || !*cu->key || !goal_id || !*goal_id || !month || !*month || cu->n == 0
        || cu->n > 3)
        return SP_EINVAL;
    uint64_t h = fnv(fnv(1469598103934665603ULL, goal_id), month);
    for (size_t k = 0; k < cu->n; k++) {
        char n[32];
        snprintf(n, sizeof n, "%lld", (long long)cu->count[k]);
        h = fnv(fnv(h, goals_action_name(cu->action[k])), n);
    }
    snprintf(c->event_id, sizeof c->event_id, "cmd:%s:%016llx", cu->key, (unsigned long long)h);
    snprintf(c->signal_id, sizeof c->signal_id, "%s", cu->key + (strncmp(cu->key, "task:", 5) ? 0 : 5));

    /* "2026-03 动作归因复盘:下月前置补足 3 次需求诊断、2 次演示(目标 goal:...)" */
    size_t lz = 0, le = 0;
    char part[256];
    add(c->zh, sizeof c->zh, &lz, month);
    add(c->zh, sizeof c->zh, &lz, " 动作归因复盘:下月前置补足");
    add(c->en, sizeof c->en, &le, month);
    add(c->en, sizeof c->en, &le, " action-attribution review: front-load next month");
    for (size_t k = 0; k < cu->n; k++) {
        snprintf(part, sizeof part, "%s%lld 次%s", k ? "、" : " ", (long long)cu->count[k],
            goals_action_name_zh(cu->action[k]));
        add(c->zh, sizeof c->zh, &lz, part);
        snprintf(part, sizeof part, "%s%lld %s", k ? ", " : " ", (long long)cu->count[k],
            goals_action_name(cu->action[k]));
        add(c->en, sizeof c->en, &le, part);
        salespulse__v1__metric__init(&c->metric[k]);
        c->metric[k].name = (char *)goals_action_name(cu->action[k]);
        c->metric[k].value = (double)cu->count[k];
        c->metrics[k] = &c->metric[k];
    }
    add(c->zh, sizeof c->zh, &lz, "(目标 ");
    add(c->zh, sizeof c->zh, &lz, goal_id);
    add(c->zh, sizeof c->zh, &lz, ")");
    add(c->en, sizeof c->en, &le, " (goal ");
    add(c->en, sizeof c->en, &le, goal_id);
    add(c->en, sizeof c->en, &le, ")");

    salespulse__v1__event_meta__init(&c->meta);
    c->meta.event_id = c->event_id;
    c->meta.occurred_at_ms = at_ms;
    c->meta.produced_at_ms = at_ms;
    c->meta.producer = "spctl-review";
    c->meta.schema_version = 1;
    salespulse__v1__subject__init(&c->subject);
    c->subject.type = SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_REP;
    c->subject.id = (char *)cu->rep_id;
    salespulse__v1__evidence__init(&c->evidence);
    c->evidence.n_numbers = cu->n;
    c->evidence.numbers = c->metrics;
    salespulse__v1__signal__init(&c->signal);
    c->signal.meta = &c->meta;
    c->signal.signal_id = c->signal_id;
    c->signal.kind = "goal.catch_up";
    c->signal.transition = SALESPULSE__V1__TRANSITION__TRANSITION_RAISED;
    c->signal.level = SALESPULSE__V1__LEVEL__LEVEL_L1;
    c->signal.subject = &c->subject;
    c->signal.owner_rep_id = (char *)cu->rep_id;
    c->signal.team_id = (char *)cu->team_id;
    c->signal.region_id = (char *)cu->region_id;
    c->signal.episode = 1;
    c->signal.explanation_zh = c->zh;
    c->signal.explanation_en = c->en;
    c->signal.evidence = &c->evidence;
    salespulse__v1__task_command__init(&c->cmd);
    c->cmd.meta = &c->meta;
    c->cmd.task_key = (char *)cu->key;
    c->cmd.op = SALESPULSE__V1__TASK_OP__TASK_OP_UPSERT;
    c->cmd.signal = &c->signal;
    c->cmd.assignee_id = (char *)cu->rep_id;
    c->cmd.assignee_role = "owner_rep";
    c->cmd.route_reason_zh = "月度动作归因复盘:补足动作落到本人任务池";
    c->cmd.route_reason_en = "monthly action-attribution review: catch-up actions for the rep";
    c->cmd.sla_s = GOALS_CATCHUP_SLA_S;
    return SP_OK;
}
