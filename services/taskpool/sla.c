/* sla.c - SLA escalation decisions. */
#include "taskpool/sla.h"

#include "err.h"

#include <stdio.h>
#include <string.h>

void sla_table_default(sla_table *t)
{
    t->sla_s[0] = 24 * 3600;
    t->sla_s[1] = 24 * 3600;
    t->sla_s[2] = 8 * 3600;
    t->sla_s[3] = 2 * 3600;
}

/* Cuts an incomplete UTF-8 sequence left at the end by truncation. */
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

static const char *label(const sla_people *pp, const char *id, int english)
{
    const char *n = pp && pp->name ? pp->name(pp->ctx, id, english) : NULL;
    return n ? n : id;
}

/* "2小时" / "2 h", or minutes when not whole hours. */
static void fmt_span(int64_t s, char *zh, char *en, size_t cap)
{
    if (s % 3600 == 0) {
        snprintf(zh, cap, "%lld小时", (long long)(s / 3600));
        snprintf(en, cap, "%lld h", (long long)(s / 3600));
    } else {
        snprintf(zh, cap, "%lld分钟", (long long)((s + 59) / 60));
        snprintf(en, cap, "%lld min", (long long)((s + 59) / 60));
    }
}

int sla_check(const task *t, const sla_table *tbl, int64_t now_ms, const sla_people *pp, sla_decision *out)
{
    if (out == NULL) return SP_EINVAL;
    memset(out, 0, sizeof *out);
    if (t == NULL || tbl == NULL || t->assignee_id[0] == '\0') return SP_EINVAL;
    if (t->status != TASK_OPEN) return SP_OK; /* acknowledged or closed: the SLA is met */
    int level = t->level >= 1 && t->level <= 3 ? t->level : 1;
    int64_t sla_s = t->sla_s > 0 ? t->sla_s : tbl->sla_s[level];
    if (sla_s <= 0) return SP_OK;
    if (t->escalation_level >= t->n_chain) return SP_OK; /* top of the chain */
    out->due_ms = t->assigned_ms + sla_s * 1000;
    if (now_ms <= out->due_ms) return SP_OK; /* an acknowledgement dated at the deadline is in time */

    size_t pick = t->escalation_level;
    while (pick < t->n_chain && pp && pp->available && !pp->available(pp->ctx, t->chain[pick], out->due_ms))
        pick++;
    if (pick == t->n_chain) pick = t->escalation_level; /* everyone away: the next one still gets it */
    out->n_skipped = pick - t->escalation_level;
    out->escalate = 1;
    out->from_id = t->assignee_id;
    out->to_id = t->chain[pick];
    out->new_level = (uint32_t)pick + 1;

    char zs[32], es[32];
    fmt_span(sla_s, zs, es, sizeof zs);
    snprintf(out->reason_zh, sizeof out->reason_zh, "L%d任务%s内未确认，第%u级升级：%s → %s%s", level, zs,
        out->new_level, label(pp, out->from_id, 0), label(pp, out->to_id, 0),
        out->n_skipped ? "（跳过不在岗人员）" : "");
    snprintf(out->reason_en, sizeof out->reason_en,
        "L%d task not acknowledged within %s; escalation %u: %s → %s%s", level, es, out->new_level,
        label(pp, out->from_id, 1), label(pp, out->to_id, 1),
        out->n_skipped ? " (skipping people away)" : "");
    utf8_trim(out->reason_zh);
    utf8_trim(out->reason_en);
    return SP_OK;
}
