/* route.c - routing decision: rule → role → person, skipping absent or
 * inactive people up the chain rep → mentor → supervisor → director, with
 * every skip explained in Chinese and English. */
#include "route/route.h"

#include "err.h"
#include "route/cntime.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct cand {
    route_target role;
    const org_person *p; /* NULL: nobody in the org chart for this role */
    int group; /* peers (region supervisors, named-team members) share one */
} cand;

typedef struct cands {
    cand c[SP_ROUTE_MAX_CHAIN];
    size_t n;
} cands;

/* Appends a candidate unless that person is already listed. */
static void add(cands *cs, const org *o, route_target role, const char *id, int group)
{
    const org_person *p = id ? org_person_get(o, id) : NULL;
    if (cs->n >= SP_ROUTE_MAX_CHAIN) return;
    for (size_t i = 0; p != NULL && i < cs->n; i++)
        if (cs->c[i].p == p) return;
    cs->c[cs->n++] = (cand) {role, p, group};
}

static const char *role_zh(route_target t)
{
    switch (t) {
    case ROUTE_T_OWNER_REP: return "销售";
    case ROUTE_T_MENTOR: return "导师";
    case ROUTE_T_SUPERVISOR:
    case ROUTE_T_REGION_SUPERVISORS: return "主管";
    case ROUTE_T_DIRECTOR: return "总监";
    case ROUTE_T_AFTER_SALES: return "售后经理";
    case ROUTE_T_COMPETITION: return "竞争应对小组";
    default: return "负责人";
    }
}

static const char *role_en(route_target t)
{
    switch (t) {
    case ROUTE_T_OWNER_REP: return "rep";
    case ROUTE_T_MENTOR: return "mentor";
    case ROUTE_T_SUPERVISOR:
    case ROUTE_T_REGION_SUPERVISORS: return "supervisor";
    case ROUTE_T_DIRECTOR: return "director";
    case ROUTE_T_AFTER_SALES: return "after-sales manager";
    case ROUTE_T_COMPETITION: return "competition team";
    default: return "owner";
    }
}

static void absence_words(const char *code, const char **zh, const char **en)
{
    static const struct {
        const char *code, *zh, *en;
    } words[] = {{"trip", "出差", "away"}, {"leave", "休假", "on leave"}, {"sick", "病假", "on sick leave"},
        {"training", "培训", "in training"}};
    *zh = "不在岗";
    *en = "away";
    for (size_t i = 0; code != NULL && i < sizeof words / sizeof words[0]; i++)
        if (strcmp(code, words[i].code) == 0) {
            *zh = words[i].zh;
            *en = words[i].en;
        }
}

/* Cuts an incomplete UTF-8 sequence off the end of buf, so a truncated
 * reason is still valid UTF-8 (protobuf strings must be). */
static void utf8_trim(char *buf)
{
    size_t n = strlen(buf), i = n;
    while (i > 0 && ((unsigned char)buf[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0) return;
    unsigned char lead = (unsigned char)buf[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (n - (i - 1) < need) buf[i - 1] = '\0';
}

/* Bounded append; returns SP_ETOOBIG once the buffer is full. */
static int cat(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int cat(char *buf, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= cap) return SP_ETOOBIG;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap - len) {
        utf8_trim(buf);
        return SP_ETOOBIG;
    }
    return SP_OK;
}

static const char *name_en(const org_person *p)
{
    return p->name_en ? p->name_en : p->name;
}

static void render_skip(route_decision *d, const route_skip *s, const org *o)
{
    const org_person *p = s->person_id ? org_person_get(o, s->person_id) : NULL;
    char dz[32], de[32];
    const char *wz, *we;
    switch (s->why) {
    case ROUTE_SKIP_ABSENT:
        cntime_fmt_zh(s->until_ms, dz, sizeof dz);
        cntime_fmt_en(s->until_ms, de, sizeof de);
        absence_words(s->absence_reason, &wz, &we);
        cat(d->reason_zh, sizeof d->reason_zh, "%s%s %s前%s → ", role_zh(s->role), p->name, dz, wz);
        cat(d->reason_en, sizeof d->reason_en, "%s %s %s until %s → ", role_en(s->role), name_en(p), we, de);
        break;
    case ROUTE_SKIP_INACTIVE:
        cat(d->reason_zh, sizeof d->reason_zh, "%s%s已停用 → ", role_zh(s->role), p->name);
        cat(d->reason_en, sizeof d->reason_en, "%s %s inactive → ", role_en(s->role), name_en(p));
        break;
    case ROUTE_SKIP_MISSING:
        cat(d->reason_zh, sizeof d->reason_zh, "未配置%s → ", role_zh(s->role));
        cat(d->reason_en, sizeof d->reason_en, "no %s on record → ", role_en(s->role));
        break;
    }
}

static const char *subject_type_name(Salespulse__V1__SubjectType t)
{
    switch (t) {
    case SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_DEAL: return "deal";
    case SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_CUSTOMER: return "customer";
    case SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_REP: return "rep";
    case SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_TEAM: return "team";
    case SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_REGION: return "region";
    default: return NULL;
    }
}

static int nonempty(const char *s)
{
    return s != NULL && *s != '\0';
}

int route_task_key(const Salespulse__V1__Signal *s, char *buf, size_t cap)
{
    if (s == NULL || !nonempty(s->kind) || s->subject == NULL || !nonempty(s->subject->id)
        || subject_type_name(s->subject->type) == NULL)
        return SP_EINVAL;
    int n = snprintf(buf, cap, "task:%s:%s:%s:%u", s->kind, subject_type_name(s->subject->type),
        s->subject->id, s->episode);
    return n < 0 || (size_t)n >= cap ? SP_ETOOBIG : SP_OK;
}

int route_signal_check(const Salespulse__V1__Signal *s, char *key, size_t cap, char *why, size_t whycap)
{
    const char *bad = s == NULL || s->meta == NULL || !nonempty(s->meta->event_id) ? "meta.event_id missing"
        : strlen(s->meta->event_id) > ROUTE_EVENT_ID_MAX  ? "meta.event_id over 256 bytes"
        : !nonempty(s->kind)                              ? "kind missing"
        : s->subject == NULL || !nonempty(s->subject->id) ? "subject.id missing"
        : subject_type_name(s->subject->type) == NULL     ? "subject.type unknown"
                                                          : NULL;
    if (bad == NULL && route_task_key(s, key, cap) != SP_OK) bad = "task key (kind, subject.id) too long";
    if (bad == NULL) return SP_OK;
    snprintf(why, whycap, "invalid Signal: %s", bad);
    return SP_EINVAL;
}

static int invalid(route_decision *d, const char *field)
{
    snprintf(d->reason_en, sizeof d->reason_en, "invalid signal: %s missing or invalid", field);
    snprintf(d->reason_zh, sizeof d->reason_zh, "信号无效：缺少或无效的字段 %s", field);
    return SP_EINVAL;
}

/* The chain of candidates for target, from the signal's context. */
static void build_chain(cands *cs, const org *o, route_target target, const Salespulse__V1__Signal *s)
{
    const Salespulse__V1__Subject *sub = s->subject;
    const char *rep_id = nonempty(s->owner_rep_id)                    ? s->owner_rep_id
        : sub->type == SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_REP ? sub->id
                                                                      : NULL;
    const org_person *rep = org_person_get(o, rep_id);
    const char *team_id = nonempty(s->team_id)                         ? s->team_id
        : sub->type == SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_TEAM ? sub->id
        : rep                                                          ? rep->team_id
                                                                       : NULL;
    const org_team *team = org_team_get(o, team_id);
    const char *region_id = nonempty(s->region_id)                       ? s->region_id
        : sub->type == SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_REGION ? sub->id
        : team                                                           ? team->region_id
        : rep                                                            ? rep->region_id
                                                                         : NULL;
    const org_region *region = org_region_get(o, region_id);
    const char *mentor_id = rep ? rep->mentor_id : NULL;
    const char *sup_id = team ? team->supervisor_id : NULL;
    const char *dir_id = region ? region->director_id : NULL;
    int g = 0;

    switch (target) {
    case ROUTE_T_OWNER_REP: add(cs, o, ROUTE_T_OWNER_REP, rep_id, g++); /* fall through */
    case ROUTE_T_MENTOR: add(cs, o, ROUTE_T_MENTOR, mentor_id, g++); /* fall through */
    case ROUTE_T_SUPERVISOR: add(cs, o, ROUTE_T_SUPERVISOR, sup_id, g++); break;
    case ROUTE_T_AFTER_SALES:
    case ROUTE_T_COMPETITION: {
        const org_named_team *nt
            = org_named_team_get(o, target == ROUTE_T_AFTER_SALES ? SP_ORG_AFTER_SALES : SP_ORG_COMPETITION);
        add(cs, o, target, nt ? nt->lead_id : NULL, g);
        for (size_t i = 0; nt != NULL && i < nt->n_members; i++)
            add(cs, o, target, nt->member_ids[i], g);
        g++;
        break;
    }
    case ROUTE_T_REGION_SUPERVISORS: {
        const org_person *sup[SP_ROUTE_MAX_CHAIN];
        size_t n;
        org_region_supervisors(o, region_id, sup, SP_ROUTE_MAX_CHAIN - 1, &n);
        if (n == 0) add(cs, o, ROUTE_T_SUPERVISOR, NULL, g);
        for (size_t i = 0; i < n; i++)
            add(cs, o, ROUTE_T_SUPERVISOR, sup[i]->id, g);
        g++;
        break;
    }
    default: break;
    }
    add(cs, o, ROUTE_T_DIRECTOR, dir_id, g);
}

static int present(const org *o, const org_person *p, int64_t now_ms)
{
    return p != NULL && p->active && org_absence_at(o, p->id, now_ms) == NULL;
}

static void add_watcher(route_decision *d, const org *o, const org_person *p, int64_t now_ms)
{
    if (!present(o, p, now_ms) || d->n_watchers >= SP_ROUTE_MAX_CHAIN || strcmp(p->id, d->assignee_id) == 0)
        return;
    for (size_t i = 0; i < d->n_watchers; i++)
        if (strcmp(d->watchers[i], p->id) == 0) return;
    d->watchers[d->n_watchers++] = p->id;
}

int route_decide(const route_rules *rules, const org *o, const Salespulse__V1__Signal *s, int64_t now_ms,
    route_decision *d)
{
    int rv;
    memset(d, 0, sizeof *d);
    if (s == NULL || !nonempty(s->kind)) return invalid(d, "kind");
    if (s->subject == NULL || subject_type_name(s->subject->type) == NULL) return invalid(d, "subject.type");
    if (!nonempty(s->subject->id)) return invalid(d, "subject.id");
    if (s->transition < SALESPULSE__V1__TRANSITION__TRANSITION_RAISED
        || s->transition > SALESPULSE__V1__TRANSITION__TRANSITION_CLEARED)
        return invalid(d, "transition");
    if ((rv = route_task_key(s, d->task_key, sizeof d->task_key)) != SP_OK) return rv;
    d->level = s->level >= 1 && s->level <= 3 ? (int)s->level : 1;

    if (s->transition == SALESPULSE__V1__TRANSITION__TRANSITION_CLEARED) {
        /* Closing needs only the key: the org may have changed since. */
        d->op = SALESPULSE__V1__TASK_OP__TASK_OP_CLOSE;
        snprintf(d->reason_zh, sizeof d->reason_zh, "信号已解除，系统关闭任务");
        snprintf(d->reason_en, sizeof d->reason_en, "signal cleared; task resolved by the system");
        return SP_OK;
    }
    d->op = SALESPULSE__V1__TASK_OP__TASK_OP_UPSERT;
    d->rule = route_rules_match(rules, s->kind, (int)s->level, s->tags, s->n_tags);
    if (d->rule == NULL) {
        snprintf(d->reason_en, sizeof d->reason_en, "no routing rule matches kind %s", s->kind);
        snprintf(d->reason_zh, sizeof d->reason_zh, "没有匹配信号 %s 的分派规则", s->kind);
        return SP_ENOTFOUND;
    }
    d->playbooks = d->rule->playbooks;
    d->n_playbooks = d->rule->n_playbooks;
    d->sla_s = d->rule->sla_s > 0 ? d->rule->sla_s : route_rules_sla_s(rules, d->level);

    cands cs = {0};
    build_chain(&cs, o, d->rule->assignee, s);
    size_t pick = cs.n;
    for (size_t i = 0; i < cs.n && pick == cs.n; i++) {
        const cand *c = &cs.c[i];
        const org_absence *a = c->p ? org_absence_at(o, c->p->id, now_ms) : NULL;
        if (c->p != NULL && c->p->active && a == NULL) {
            pick = i;
            break;
        }
        route_skip *sk = &d->skips[d->n_skips++];
        sk->role = c->role;
        sk->person_id = c->p ? c->p->id : NULL;
        sk->why = c->p == NULL ? ROUTE_SKIP_MISSING : !c->p->active ? ROUTE_SKIP_INACTIVE : ROUTE_SKIP_ABSENT;
        sk->until_ms = a ? a->until_ms : 0;
        sk->absence_reason = a ? a->reason : NULL;
    }
    int fallback = 0;
    if (pick == cs.n) {
        /* Everyone away: an absent but active person still beats a lost task. */
        for (size_t i = 0; i < cs.n && pick == cs.n; i++)
            if (cs.c[i].p != NULL && cs.c[i].p->active) pick = i;
        fallback = 1;
        if (pick < cs.n) d->n_skips = pick; /* keep only the skips before the pick */
    }
    if (pick == cs.n) {
        snprintf(d->reason_en, sizeof d->reason_en, "nobody active to receive %s (rule %s, role %s)", s->kind,
            d->rule->id, route_target_name(d->rule->assignee));
        snprintf(d->reason_zh, sizeof d->reason_zh, "没有在职人员可接收 %s（规则 %s）", s->kind, d->rule->id);
        return SP_ENOTFOUND;
    }
    const cand *pc = &cs.c[pick];
    d->assignee_id = pc->p->id;
    d->assignee_role = pc->role == ROUTE_T_REGION_SUPERVISORS ? ROUTE_T_SUPERVISOR : pc->role;

    /* Reason: the rule's why, then the path through any skips. */
    cat(d->reason_zh, sizeof d->reason_zh, "%s：", d->rule->why_zh ? d->rule->why_zh : s->kind);
    cat(d->reason_en, sizeof d->reason_en, "%s: ", d->rule->why_en ? d->rule->why_en : s->kind);
    for (size_t i = 0; i < d->n_skips; i++)
        render_skip(d, &d->skips[i], o);
    cat(d->reason_zh, sizeof d->reason_zh, "%s%s", role_zh(pc->role), pc->p->name);
    cat(d->reason_en, sizeof d->reason_en, "%s %s", role_en(pc->role), name_en(pc->p));
    if (fallback) {
        cat(d->reason_zh, sizeof d->reason_zh, "（链上无人在岗，仍派给此人）");
        cat(d->reason_en, sizeof d->reason_en, " (nobody in the chain is available; assigned anyway)");
    }

    /* Escalation chain: later groups only (peers are stand-ins, not bosses);
     * absent people stay in, as they may be back when the SLA runs out. */
    for (size_t i = pick + 1; i < cs.n; i++)
        if (cs.c[i].group != pc->group && cs.c[i].p != NULL && cs.c[i].p->active)
            d->chain[d->n_chain++] = cs.c[i].p->id;

    /* Watchers: present peers of the assignee's group, then the rule's. */
    for (size_t i = 0; i < cs.n; i++)
        if (cs.c[i].group == pc->group) add_watcher(d, o, cs.c[i].p, now_ms);
    for (size_t w = 0; w < d->rule->n_watchers; w++) {
        cands wc = {0};
        build_chain(&wc, o, d->rule->watchers[w], s);
        for (size_t i = 0; i < wc.n && wc.c[i].group == 0; i++)
            add_watcher(d, o, wc.c[i].p, now_ms);
    }
    return SP_OK;
}

int route_suppressed(const route_rules *rules, int64_t last_dismissed_ms, int64_t now_ms, int64_t *until_ms)
{
    if (until_ms) *until_ms = 0;
    if (last_dismissed_ms < 0) return 0;
    int64_t until = last_dismissed_ms + route_rules_suppress_s(rules) * 1000;
    if (until_ms) *until_ms = until;
    return now_ms < until;
}

int route_command_fill(const route_decision *d, const Salespulse__V1__Signal *s, int64_t now_ms,
    Salespulse__V1__TaskCommand *cmd, Salespulse__V1__EventMeta *meta, char *event_id_buf, size_t cap)
{
    if (s == NULL || s->meta == NULL || !nonempty(s->meta->event_id)) return SP_EINVAL;
    int n = snprintf(event_id_buf, cap, "cmd:%s", s->meta->event_id);
    if (n < 0 || (size_t)n >= cap) return SP_ETOOBIG;
    salespulse__v1__event_meta__init(meta);
    salespulse__v1__task_command__init(cmd);
    meta->event_id = event_id_buf;
    meta->occurred_at_ms = s->meta->occurred_at_ms;
    meta->produced_at_ms = now_ms;
    meta->producer = "sp-route";
    meta->trace_id = s->meta->trace_id;
    meta->schema_version = 1;
    meta->tenant_id = s->meta->tenant_id;
    cmd->meta = meta;
    cmd->task_key = (char *)d->task_key;
    cmd->op = d->op;
    cmd->signal = (Salespulse__V1__Signal *)s;
    cmd->route_reason_zh = (char *)d->reason_zh;
    cmd->route_reason_en = (char *)d->reason_en;
    if (d->op == SALESPULSE__V1__TASK_OP__TASK_OP_UPSERT) {
        cmd->assignee_id = (char *)d->assignee_id;
        cmd->assignee_role = (char *)route_target_name(d->assignee_role);
        cmd->n_playbooks = d->n_playbooks;
        cmd->playbooks = (char **)d->playbooks;
        cmd->sla_s = d->sla_s;
        cmd->n_chain = d->n_chain;
        cmd->chain = (char **)d->chain;
        cmd->n_watchers = d->n_watchers;
        cmd->watchers = (char **)d->watchers;
    }
    return SP_OK;
}
