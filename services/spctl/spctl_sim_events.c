/* spctl_sim_events.c - the quarter's interactions: each deal's stage
 * content, customer care, and the passes that keep the background healthy
 * (every customer touched, every open deal updated, key roles covered, a key
 * action every working day, every inbound message answered). */
#include "spctl/spctl_sim.h"

#include "err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GAP_CUSTOMER (15 * SIM_DAY)
#define MAX_GAP_STATUS   (3 * SIM_DAY)
#define MAX_GAP_ROLE     (18 * SIM_DAY)
#define REPLY_WINDOW     (20 * SIM_HOUR)

sim_ev *sim_ev_push(
    sim_world *w, int64_t t, int cust, int deal, int rep, int ch, int dir, char *line, int forced)
{
    if (t < w->start || t >= w->end) {
        free(line);
        return NULL;
    }
    if (w->nev == w->capev) {
        size_t cap = w->capev ? w->capev * 2 : 65536;
        sim_ev *e = realloc(w->ev, cap * sizeof *e);
        if (e == NULL) {
            free(line);
            w->err_oom = 1;
            return NULL;
        }
        w->ev = e, w->capev = cap;
    }
    sim_ev *e = &w->ev[w->nev++];
    memset(e, 0, sizeof *e);
    e->t = t, e->seq = w->seq++, e->cust = cust, e->deal = deal, e->rep = rep;
    e->ch = (uint8_t)ch, e->dir = (uint8_t)dir, e->forced = (uint8_t)forced, e->ct = -1;
    e->line = line;
    return e;
}

int sim_block_add(sim_world *w, int kind, int id, int64_t t0, int64_t t1)
{
    if (w->nblocks == w->capblocks) {
        int cap = w->capblocks ? w->capblocks * 2 : 64;
        sim_block *b = realloc(w->blocks, (size_t)cap * sizeof *b);
        if (b == NULL) return SP_ENOMEM;
        w->blocks = b, w->capblocks = cap;
    }
    w->blocks[w->nblocks++] = (sim_block) {kind, id, t0, t1};
    if (kind == BLK_CUST && w->cust_blocked) w->cust_blocked[id] = 1;
    return SP_OK;
}

int sim_blocked(const sim_world *w, int64_t t, int cust, int deal, int rep, int ch)
{
    int skip_cust = cust < 0 || (w->cust_blocked && !w->cust_blocked[cust]);
    for (int i = 0; i < w->nblocks; i++) {
        const sim_block *b = &w->blocks[i];
        if (t < b->t0 || t >= b->t1 || (skip_cust && b->kind == BLK_CUST)) continue;
        if (b->kind == BLK_CUST && b->id == cust) return 1;
        if (b->kind == BLK_REPKEY && b->id == rep && (ch == CH_ACTIVITY || ch == CH_CALL)) return 1;
        if (b->kind == BLK_NOUPD && b->id == deal && (ch == CH_NOTE || ch == CH_ACTIVITY || ch == CH_CRM))
            return 1;
    }
    return 0;
}

static int ev_cmp(const void *a, const void *b)
{
    const sim_ev *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void sim_sort_events(sim_world *w)
{
    qsort(w->ev, w->nev, sizeof *w->ev, ev_cmp);
}

/* a working-hours time on the day of t plus h hours, jittered */
static int64_t at_work(sim_rng *r, int64_t day_start, double h0, double h1)
{
    return day_start + (int64_t)(sim_rng_range(r, h0, h1) * SIM_HOUR);
}

static int64_t day_start_of(int64_t t)
{
    return sim_local_day(t) * SIM_DAY - SIM_TZ;
}

static int pick_contact(sim_rng *r, const sim_customer *c, int prefer)
{
    if (prefer) {
        for (int i = 0; i < c->nct; i++)
            if (c->ct[i].role == prefer) return i;
    }
    return sim_rng_int(r, c->nct);
}

/* a visit, then the customer's dated commitment and the rep's confirmation */
static void visit_commit(sim_world *w, sim_rng *r, int64_t t, int c, int deal, int first)
{
    sim_tctx x;
    char db[32], buf[512];
    sim_tctx_fill(w, r, c, pick_contact(r, &w->cust[c], RB_DM), deal, t, &x, db, sizeof db);
    sim_text(r, first ? TX_FIRST_VISIT : TX_VISIT, &x, buf, sizeof buf);
    if (sim_emit_activity(w, t, c, deal, -1, AK_VISIT, RB_DM | RB_TECH, first, 0, buf, 0) == NULL) return;
    int ct = pick_contact(r, &w->cust[c], RB_DM);
    int64_t tc = sim_work_time(t + (int64_t)(sim_rng_range(r, 3, 30) * SIM_HOUR));
    sim_tctx_fill(w, r, c, ct, deal, tc, &x, db, sizeof db);
    sim_text(r, TX_COMMIT, &x, buf, sizeof buf);
    sim_emit_wecom(w, tc, c, ct, deal, DIR_IN, buf, 1);
    sim_text(r, TX_COMMIT_ACK, &x, buf, sizeof buf);
    sim_emit_wecom(w, tc + (int64_t)(sim_rng_range(r, 5, 60) * SIM_MIN), c, ct, deal, DIR_OUT, buf, 1);
}

static void exchange(sim_world *w, sim_rng *r, int64_t t, int c, int deal, int customer_first)
{
    sim_tctx x;
    char db[32], buf[512];
    int ct = pick_contact(r, &w->cust[c], 0);
    sim_tctx_fill(w, r, c, ct, deal, t, &x, db, sizeof db);
    int64_t t2 = t + (int64_t)(sim_rng_range(r, 8, 100) * SIM_MIN);
    if (customer_first) {
        sim_text(r, TX_CUST_Q, &x, buf, sizeof buf);
        if (sim_emit_wecom(w, t, c, ct, deal, DIR_IN, buf, 0) == NULL) return;
        sim_text(r, TX_REP_A, &x, buf, sizeof buf);
        sim_emit_wecom(w, t2, c, ct, deal, DIR_OUT, buf, 0);
    } else {
        sim_text(r, TX_REP_PUSH, &x, buf, sizeof buf);
        if (sim_emit_wecom(w, t, c, ct, deal, DIR_OUT, buf, 0) == NULL) return;
        sim_text(r, TX_CUST_ACK, &x, buf, sizeof buf);
        sim_emit_wecom(w, t2, c, ct, deal, DIR_IN, buf, 0);
    }
}

static void touch_call(sim_world *w, sim_rng *r, int64_t t, int c, int deal)
{
    sim_tctx x;
    char db[32], a[256], b[256], d2[256];
    int ct = pick_contact(r, &w->cust[c], 0);
    sim_tctx_fill(w, r, c, ct, deal, t, &x, db, sizeof db);
    if (sim_rng_u(r) < 0.4) {
        sim_tpl("{A}您好，我是恒远科技{R}，想跟您确认一下{P}项目的进展。", &x, a, sizeof a);
        sim_text(r, TX_CUST_Q, &x, b, sizeof b);
        sim_text(r, TX_REP_A, &x, d2, sizeof d2);
        sim_turn turns[] = {{0, a}, {1, b}, {0, d2}, {1, "好的，谢谢。"}};
        sim_emit_call(w, t, c, ct, deal, turns, 4, 0);
    } else {
        sim_text(r, TX_TOUCH, &x, a, sizeof a);
        sim_emit_activity(w, t, c, deal, -1, AK_TOUCH, w->cust[c].ct[ct].role, 0, 0, a, 0);
    }
}

static void proposal_mail(sim_world *w, sim_rng *r, int64_t t, int c, int deal, int rev)
{
    sim_tctx x;
    char db[32], subj[256], body[1024], act[256];
    int ct = pick_contact(r, &w->cust[c], RB_TECH);
    sim_tctx_fill(w, r, c, ct, deal, t, &x, db, sizeof db);
    x.N = rev;
    sim_text(r, TX_PROPOSAL, &x, act, sizeof act);
    sim_emit_activity(w, t, c, deal, -1, AK_PROPOSAL, RB_TECH, 0, rev, act, 0);
    sim_tpl("{P}项目方案（第{N}版）", &x, subj, sizeof subj);
    sim_tpl("{A}您好：\n\n附件是根据{O}实际情况整理的{P}项目方案（第{N}"
            "版），包含配置清单和实施计划，请查阅。\n\n恒远科技 {R}\n",
        &x, body, sizeof body);
    int64_t tm = t + SIM_HOUR;
    if (sim_emit_email(
            w, tm, c, ct, deal, DIR_OUT, subj, body, EM_ATTACH | (sim_rng_u(r) < 0.3 ? EM_GBK : 0), 0)
        == NULL)
        return;
    int64_t to = tm + (int64_t)(sim_rng_range(r, 1, 18) * SIM_HOUR);
    sim_emit_tracking(w, to, c, ct, deal, TK_OPEN, 0, NULL, NULL, 0);
    sim_emit_tracking(w, to + 4 * SIM_MIN, c, ct, deal, TK_DOWNLOAD, PG_OTHER, NULL, NULL, 0);
    int64_t tr = sim_work_time(to + (int64_t)(sim_rng_range(r, 2, 20) * SIM_HOUR));
    char rs[300], rb[1024];
    snprintf(rs, sizeof rs, "Re: %s", subj);
    sim_tctx_fill(w, r, c, ct, deal, tr, &x, db, sizeof db);
    sim_tpl("{R}你好，方案收到了，整体思路很清楚。{D}{T}我们内部开会讨论。\n\n", &x, rb, sizeof rb);
    sim_emit_email(
        w, tr, c, ct, deal, DIR_IN, rs, rb, EM_QUOTE | (sim_rng_u(r) < 0.5 ? EM_GBK : EM_PLAIN8), 0);
}

static void stage_content(sim_world *w, sim_rng *r, int di, const sim_hop *h)
{
    sim_deal *d = &w->deals[di];
    int c = d->cust;
    sim_tctx x;
    char db[32], buf[512];
    int64_t t = h->at;
    switch (h->to) {
    case ST_LEAD: {
        if (d->flags & DF_DELAYED) {
            int64_t tr = t + d->delay;
            int ct = pick_contact(r, &w->cust[c], RB_TECH);
            sim_tctx_fill(w, r, c, ct, di, tr, &x, db, sizeof db);
            sim_text(r, TX_FIRST_REPLY_LATE, &x, buf, sizeof buf);
            sim_emit_wecom(w, tr, c, ct, di, DIR_OUT, buf, 1);
            visit_commit(w, r, sim_work_time(tr + 2 * SIM_HOUR), c, di, 1);
            break;
        }
        int ct = pick_contact(r, &w->cust[c], RB_TECH);
        sim_tctx_fill(w, r, c, ct, di, t, &x, db, sizeof db);
        if (sim_rng_u(r) < 0.6) {
            sim_text(r, TX_INQUIRY, &x, buf, sizeof buf);
            sim_emit_wecom(w, t - 10 * SIM_MIN, c, ct, di, DIR_IN, buf, 0);
        }
        sim_text(r, TX_FIRST_REPLY, &x, buf, sizeof buf);
        sim_emit_wecom(w, t + (int64_t)(sim_rng_range(r, 0.3, 4) * SIM_HOUR), c, ct, di, DIR_OUT, buf, 0);
        visit_commit(w, r, sim_work_time(t + (int64_t)(sim_rng_range(r, 5, 40) * SIM_HOUR)), c, di, 1);
        break;
    }
    case ST_QUAL: {
        int ct = pick_contact(r, &w->cust[c], RB_TECH);
        sim_tctx_fill(w, r, c, ct, di, t, &x, db, sizeof db);
        sim_text(r, TX_NEEDS, &x, buf, sizeof buf);
        sim_emit_activity(w, t - 2 * SIM_HOUR, c, di, -1, AK_NEEDS, RB_TECH | RB_PROC | RB_DM, 0, 0, buf, 0);
        visit_commit(w, r, sim_work_time(t + (int64_t)(sim_rng_range(r, 20, 40) * SIM_HOUR)), c, di, 0);
        break;
    }
    case ST_DEMO: {
        int ct = pick_contact(r, &w->cust[c], RB_TECH);
        int64_t tq = sim_work_time(t - SIM_DAY);
        if (tq >= t) tq = t - 3 * SIM_HOUR;
        sim_tctx_fill(w, r, c, ct, di, tq, &x, db, sizeof db);
        sim_text(r, TX_DEMO_REQ, &x, buf, sizeof buf);
        if (sim_emit_wecom(w, tq, c, ct, di, DIR_IN, buf, 0)) {
            sim_text(r, TX_DEMO_ACK, &x, buf, sizeof buf);
            sim_emit_wecom(w, tq + 25 * SIM_MIN, c, ct, di, DIR_OUT, buf, 0);
        }
        int64_t td = sim_work_time(t + (int64_t)(sim_rng_range(r, 20, 44) * SIM_HOUR));
        sim_tctx_fill(w, r, c, ct, di, td, &x, db, sizeof db);
        sim_text(r, TX_DEMO, &x, buf, sizeof buf);
        sim_emit_activity(w, td, c, di, -1, AK_DEMO, RB_TECH | RB_DM | RB_PROC, 0, 0, buf, 0);
        break;
    }
    case ST_PROP: {
        proposal_mail(w, r, t + 30 * SIM_MIN, c, di, 1);
        int64_t tm = sim_work_time(t + (int64_t)(sim_rng_range(r, 20, 44) * SIM_HOUR));
        sim_tctx_fill(w, r, c, 0, di, tm, &x, db, sizeof db);
        char title[200];
        sim_tpl("{P}方案沟通会", &x, title, sizeof title);
        sim_text(r, TX_MEETING, &x, buf, sizeof buf);
        sim_emit_meeting(w, tm, c, di, RB_PROC | RB_TECH | RB_DM, title, buf, 0);
        break;
    }
    case ST_NEG: {
        int dm = pick_contact(r, &w->cust[c], RB_DM);
        sim_tctx_fill(w, r, c, dm, di, t, &x, db, sizeof db);
        sim_text(r, TX_EXEC, &x, buf, sizeof buf);
        sim_emit_activity(w, t - 3 * SIM_HOUR, c, di, -1, AK_EXEC, RB_DM | RB_PROC, 0, 0, buf, 0);
        int64_t tc = sim_work_time(t + (int64_t)(sim_rng_range(r, 20, 60) * SIM_HOUR));
        char a[256], b2[256];
        sim_tpl("{A}您好，合同条款我们这边已经整理好了，今天发给您。", &x, a, sizeof a);
        sim_tpl("好的，{D}再跟您确认一下细节。", &x, b2, sizeof b2);
        sim_turn turns[] = {{0, a}, {1, "好的，合同发我看一下，条款没有异议的话就安排签字。"}, {0, b2}};
        sim_emit_call(w, tc, c, dm, di, turns, 3, 0);
        proposal_mail(w, r, sim_work_time(t + 2 * SIM_DAY), c, di, 2);
        break;
    }
    case ST_WON: {
        int dm = pick_contact(r, &w->cust[c], RB_DM);
        int64_t ts = t - 5 * SIM_HOUR;
        sim_tctx_fill(w, r, c, dm, di, ts, &x, db, sizeof db);
        sim_text(r, TX_SIGN, &x, buf, sizeof buf);
        if (sim_emit_wecom(w, ts, c, dm, di, DIR_IN, buf, 0)) {
            sim_text(r, TX_SIGN_ACK, &x, buf, sizeof buf);
            sim_emit_wecom(w, ts + 20 * SIM_MIN, c, dm, di, DIR_OUT, buf, 0);
        }
        break;
    }
    case ST_LOST:
        sim_tctx_fill(w, r, c, 0, di, t, &x, db, sizeof db);
        sim_text(r, TX_LOST_NOTE, &x, buf, sizeof buf);
        sim_emit_note(w, t + 10 * SIM_MIN, c, di, buf, 0);
        break;
    default: break;
    }
}

static void gen_deal(sim_world *w, int di)
{
    sim_deal *d = &w->deals[di];
    sim_rng r = sim_rng_sub(w->o.seed, 5, (uint64_t)di);
    int64_t closed = sim_deal_closed_at(d);
    if (closed < w->start || d->created >= w->end) return;
    int c = d->cust;
    if (d->flags & DF_DELAYED) {
        if (sim_block_add(w, BLK_CUST, c, d->created + SIM_MIN, d->created + d->delay) != 0) w->err_oom = 1;
    }
    for (int i = 0; i < d->nh; i++) {
        if (d->h[i].at < w->start || d->h[i].at >= w->end) continue;
        sim_emit_stage(w, d->h[i].at, di, d->h[i].from, d->h[i].to);
        /* scripted deals get only the first response; their plant writes the rest */
        if (!(d->flags & DF_SCRIPTED) || d->h[i].to == ST_LEAD) stage_content(w, &r, di, &d->h[i]);
    }
    if (d->flags & DF_SCRIPTED) return;
    int64_t from = d->created > w->start ? d->created : w->start;
    int64_t to = closed < w->end ? closed : w->end;
    for (int64_t ds = day_start_of(from) + SIM_DAY; ds < to; ds += SIM_DAY) {
        int wd = sim_is_working_day(sim_local_day(ds));
        if (wd) {
            if (sim_rng_u(&r) < 0.85) exchange(w, &r, at_work(&r, ds, 9, 17.5), c, di, 1);
            if (sim_rng_u(&r) < 0.5) exchange(w, &r, at_work(&r, ds, 9, 17.5), c, di, 0);
            if (sim_rng_u(&r) < 0.5) touch_call(w, &r, at_work(&r, ds, 9.5, 17), c, di);
            if (sim_rng_u(&r) < 0.12) {
                const sim_customer *cu = &w->cust[c];
                sim_emit_tracking(w, at_work(&r, ds, 8, 22), c, pick_contact(&r, cu, 0), di, TK_VISIT,
                    sim_rng_u(&r) < 0.7 ? PG_PRODUCT : PG_PRICING, d->prod[0], NULL, 0);
            }
        } else if (sim_rng_u(&r) < 0.12) {
            exchange(w, &r, at_work(&r, ds, 10, 16), c, di, 1);
        }
    }
}

/* 1 if customer c has a deal open at t */
static int has_open_deal(const sim_world *w, const int *first, const int *next, int c, int64_t t)
{
    for (int i = first[c]; i >= 0; i = next[i]) {
        const sim_deal *d = &w->deals[i];
        if (d->created - 2 * SIM_DAY <= t && t < sim_deal_closed_at(d) + SIM_DAY) return 1;
    }
    return 0;
}

static void gen_care(sim_world *w, int c, const int *first, const int *next)
{
    sim_rng r = sim_rng_sub(w->o.seed, 6, (uint64_t)c);
    const sim_customer *cu = &w->cust[c];
    sim_tctx x;
    char db[32], buf[1024], subj[256];
    int64_t t = w->start + (int64_t)(sim_rng_range(&r, 0.2, 9) * SIM_DAY);
    while (t < w->end) {
        int64_t ds = day_start_of(t);
        while (!sim_is_working_day(sim_local_day(ds)))
            ds += SIM_DAY;
        int64_t at = at_work(&r, ds, 9, 17.5);
        if (!has_open_deal(w, first, next, c, at)) {
            double u = sim_rng_u(&r);
            int ct = pick_contact(&r, cu, 0);
            sim_tctx_fill(w, &r, c, ct, -1, at, &x, db, sizeof db);
            if (u < 0.62) {
                sim_text(&r, TX_CARE, &x, buf, sizeof buf);
                if (sim_emit_wecom(w, at, c, ct, -1, DIR_OUT, buf, 0) && sim_rng_u(&r) < 0.7) {
                    sim_text(&r, TX_CARE_REPLY, &x, buf, sizeof buf);
                    sim_emit_wecom(
                        w, at + (int64_t)(sim_rng_range(&r, 0.3, 4) * SIM_HOUR), c, ct, -1, DIR_IN, buf, 0);
                }
            } else if (u < 0.85) {
                touch_call(w, &r, at, c, -1);
            } else {
                sim_tpl("恒远科技{P}应用案例分享", &x, subj, sizeof subj);
                sim_tpl("{A}您好：\n\n本月我们整理了{P}在{S}"
                        "方面的应用案例，欢迎查阅，有需要随时联系我。\n\n恒远科技 {R}\n",
                    &x, buf, sizeof buf);
                if (sim_emit_email(w, at, c, ct, -1, DIR_OUT, subj, buf, sim_rng_u(&r) < 0.4 ? EM_GBK : 0, 0)
                    && sim_rng_u(&r) < 0.5)
                    sim_emit_tracking(w, at + (int64_t)(sim_rng_range(&r, 1, 30) * SIM_HOUR), c, ct, -1,
                        TK_OPEN, 0, NULL, NULL, 0);
            }
        }
        t = at + (int64_t)(sim_rng_range(&r, 4, 9) * SIM_DAY);
    }
    /* occasional web visits */
    for (int64_t v = w->start + (int64_t)(sim_rng_range(&r, 1, 20) * SIM_DAY); v < w->end;
         v += (int64_t)(sim_rng_range(&r, 9, 26) * SIM_DAY)) {
        if (has_open_deal(w, first, next, c, v)) continue;
        double u = sim_rng_u(&r);
        int pg = u < 0.4 ? PG_PRODUCT : u < 0.6 ? PG_PRICING : PG_OTHER;
        sim_emit_tracking(
            w, v, c, pick_contact(&r, cu, 0), -1, TK_VISIT, pg, sim_product_for(&r, cu->ind), NULL, 0);
    }
}

int sim_gen_events(sim_world *w)
{
    for (int i = 0; i < w->ndeals; i++)
        gen_deal(w, i);
    int *first = malloc((size_t)w->ncust * sizeof *first),
        *next = malloc((size_t)(w->ndeals + 1) * sizeof *next);
    if (first == NULL || next == NULL) {
        free(first);
        free(next);
        return SP_ENOMEM;
    }
    for (int c = 0; c < w->ncust; c++)
        first[c] = -1;
    for (int i = w->ndeals - 1; i >= 0; i--) {
        next[i] = first[w->deals[i].cust];
        first[w->deals[i].cust] = i;
    }
    for (int c = 0; c < w->ncust; c++)
        gen_care(w, c, first, next);
    free(first);
    free(next);
    return w->err_oom ? SP_ENOMEM : SP_OK;
}

/* ---- passes ------------------------------------------------------------ */

static const sim_world *g_w; /* qsort comparator context (single-threaded) */
static int by_cust(const void *a, const void *b)
{
    const sim_ev *x = &g_w->ev[*(const size_t *)a], *y = &g_w->ev[*(const size_t *)b];
    if (x->cust != y->cust) return x->cust - y->cust;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}
static int by_deal(const void *a, const void *b)
{
    const sim_ev *x = &g_w->ev[*(const size_t *)a], *y = &g_w->ev[*(const size_t *)b];
    if (x->deal != y->deal) return x->deal - y->deal;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static size_t *index_by(sim_world *w, int (*cmp)(const void *, const void *))
{
    size_t *ix = malloc((w->nev + 1) * sizeof *ix);
    if (ix == NULL) return NULL;
    for (size_t i = 0; i < w->nev; i++)
        ix[i] = i;
    g_w = w;
    qsort(ix, w->nev, sizeof *ix, cmp);
    return ix;
}

static void drop_deleted(sim_world *w)
{
    size_t o = 0;
    for (size_t i = 0; i < w->nev; i++)
        if (w->ev[i].line) w->ev[o++] = w->ev[i];
    w->nev = o;
}

/* at most 3 product-page visits in any 7 days per customer (not warming) */
static int pass_product_cap(sim_world *w)
{
    size_t *ix = index_by(w, by_cust);
    if (ix == NULL) return SP_ENOMEM;
    int64_t last[3] = {0};
    int cur = -1;
    for (size_t k = 0; k < w->nev; k++) {
        sim_ev *e = &w->ev[ix[k]];
        if (e->cust != cur) cur = e->cust, last[0] = last[1] = last[2] = INT64_MIN / 2;
        if (e->ch != CH_TRACKING || e->page != PG_PRODUCT) continue;
        if (e->t - last[0] < 7 * SIM_DAY + SIM_HOUR && !e->forced) {
            free(e->line);
            e->line = NULL;
            continue;
        }
        last[0] = last[1], last[1] = last[2], last[2] = e->t;
    }
    free(ix);
    drop_deleted(w);
    return SP_OK;
}

static void care_touch(sim_world *w, int c, int64_t t)
{
    sim_rng r = sim_rng_sub(w->o.seed, 7, (uint64_t)t ^ (uint64_t)c);
    sim_tctx x;
    char db[32], buf[512];
    int ct = sim_rng_int(&r, w->cust[c].nct);
    sim_tctx_fill(w, &r, c, ct, -1, t, &x, db, sizeof db);
    sim_text(&r, TX_CARE, &x, buf, sizeof buf);
    sim_emit_wecom(w, t, c, ct, -1, DIR_OUT, buf, 0);
}

/* no customer without an interaction for more than 15 days */
static int pass_stale(sim_world *w)
{
    size_t *ix = index_by(w, by_cust);
    if (ix == NULL) return SP_ENOMEM;
    size_t n = w->nev, k = 0;
    for (int c = 0; c < w->ncust; c++) {
        int64_t prev = w->cust[c].seed_last;
        for (;;) {
            int64_t nt = w->end;
            if (k < n && w->ev[ix[k]].cust == c) nt = w->ev[ix[k]].t;
            while (nt - prev > MAX_GAP_CUSTOMER) {
                int64_t t = sim_work_time(prev + 11 * SIM_DAY);
                if (t >= w->end) break;
                if (!sim_blocked(w, t, c, -1, -1, CH_WECOM)) care_touch(w, c, t);
                prev = t;
            }
            if (k < n && w->ev[ix[k]].cust == c) {
                prev = w->ev[ix[k]].t;
                k++;
            } else {
                break;
            }
        }
    }
    free(ix);
    return w->err_oom ? SP_ENOMEM : SP_OK;
}

static int is_update(const sim_world *w, const sim_ev *e)
{
    return (e->ch == CH_NOTE || e->ch == CH_ACTIVITY || e->ch == CH_CRM) && e->deal >= 0
        && e->rep == w->deals[e->deal].rep;
}

static void status_note(sim_world *w, int di, int64_t t)
{
    sim_rng r = sim_rng_sub(w->o.seed, 8, (uint64_t)t ^ ((uint64_t)di << 20));
    sim_tctx x;
    char db[32], buf[512];
    int c = w->deals[di].cust;
    sim_tctx_fill(w, &r, c, sim_rng_int(&r, w->cust[c].nct), di, t, &x, db, sizeof db);
    sim_text(&r, TX_NOTE, &x, buf, sizeof buf);
    sim_emit_note(w, t, c, di, buf, 0);
}

/* every open deal updated by its rep at least every 3 days */
static int pass_status(sim_world *w)
{
    size_t *ix = index_by(w, by_deal);
    if (ix == NULL) return SP_ENOMEM;
    size_t n = w->nev, k = 0;
    while (k < n && w->ev[ix[k]].deal < 0)
        k++;
    for (int di = 0; di < w->ndeals; di++) {
        sim_deal *d = &w->deals[di];
        int64_t closed = sim_deal_closed_at(d);
        int64_t lo = d->created >= w->start ? d->created : d->seed_status;
        int64_t hi = closed < w->end ? closed : w->end;
        int64_t prev = lo;
        for (;;) {
            int64_t nt = hi;
            int have = 0;
            while (k < n && w->ev[ix[k]].deal == di && !is_update(w, &w->ev[ix[k]]))
                k++;
            if (k < n && w->ev[ix[k]].deal == di) nt = w->ev[ix[k]].t, have = 1;
            if (nt > hi) nt = hi;
            while (closed >= w->start && d->created < w->end && nt - prev > MAX_GAP_STATUS) {
                int64_t t = sim_work_time(prev + (int64_t)(2.4 * SIM_DAY));
                if (t >= hi) break;
                if (t - prev > (int64_t)(3.3 * SIM_DAY)) t = prev + (int64_t)(2.6 * SIM_DAY);
                if (t >= w->start && !sim_blocked(w, t, d->cust, di, d->rep, CH_NOTE)) status_note(w, di, t);
                prev = t;
            }
            if (!have) break;
            prev = prev > w->ev[ix[k]].t ? prev : w->ev[ix[k]].t;
            k++;
        }
        while (k < n && w->ev[ix[k]].deal == di)
            k++;
    }
    free(ix);
    return w->err_oom ? SP_ENOMEM : SP_OK;
}

static int64_t entered(const sim_deal *d, int stage)
{
    for (int i = 0; i < d->nh; i++)
        if (d->h[i].to == stage) return d->h[i].at;
    return -1;
}

/* deals in proposal or later: procurement, technical and decision maker in
 * an interaction at least every 18 days */
static int pass_roles(sim_world *w)
{
    size_t *ix = index_by(w, by_deal);
    if (ix == NULL) return SP_ENOMEM;
    size_t n = w->nev, k = 0;
    while (k < n && w->ev[ix[k]].deal < 0)
        k++;
    for (int di = 0; di < w->ndeals; di++) {
        sim_deal *d = &w->deals[di];
        int64_t from = entered(d, ST_PROP), closed = sim_deal_closed_at(d);
        size_t k0 = k;
        while (k < n && w->ev[ix[k]].deal == di)
            k++;
        if (from < 0 || closed < w->start || from >= w->end) continue;
        int64_t hi = closed < w->end ? closed : w->end;
        int64_t last[3];
        /* a role never seen counts from the deal's creation (or the CRM's last contact) */
        int64_t base = d->created < w->start ? w->cust[d->cust].seed_last : d->created;
        for (int r = 0; r < 3; r++)
            last[r] = base;
        size_t j = k0;
        for (;;) {
            int64_t nt = j < k ? w->ev[ix[j]].t : hi;
            if (nt > hi) nt = hi;
            int64_t lmin = last[0] < last[1] ? last[0] : last[1];
            if (last[2] < lmin) lmin = last[2];
            while (nt - lmin > MAX_GAP_ROLE) {
                int64_t t = sim_work_time(lmin + 14 * SIM_DAY);
                if (t < w->start) t = sim_work_time(w->start + SIM_HOUR);
                if (t >= hi) break;
                sim_tctx x;
                char db[32], buf[512], title[200];
                sim_rng r = sim_rng_sub(w->o.seed, 9, (uint64_t)t ^ (uint64_t)di);
                sim_tctx_fill(w, &r, d->cust, 0, di, t, &x, db, sizeof db);
                sim_tpl("{P}方案沟通会", &x, title, sizeof title);
                sim_text(&r, TX_MEETING, &x, buf, sizeof buf);
                sim_emit_meeting(w, t, d->cust, di, RB_PROC | RB_TECH | RB_DM, title, buf, 0);
                for (int q = 0; q < 3; q++)
                    last[q] = t;
                lmin = t;
            }
            if (j >= k) break;
            const sim_ev *e = &w->ev[ix[j]];
            if (e->roles & RB_PROC) last[0] = e->t > last[0] ? e->t : last[0];
            if (e->roles & RB_TECH) last[1] = e->t > last[1] ? e->t : last[1];
            if (e->roles & RB_DM) last[2] = e->t > last[2] ? e->t : last[2];
            j++;
        }
    }
    free(ix);
    return w->err_oom ? SP_ENOMEM : SP_OK;
}

/* a key action by every rep on every working day */
static int pass_key_actions(sim_world *w)
{
    int ndays = (int)((w->end - w->start) / SIM_DAY) + 1;
    char *done = calloc((size_t)w->npeople * (size_t)ndays, 1);
    if (done == NULL) return SP_ENOMEM;
    for (size_t i = 0; i < w->nev; i++) {
        const sim_ev *e = &w->ev[i];
        if (e->ch != CH_ACTIVITY || e->rep < 0) continue;
        int64_t dd = sim_local_day(e->t) - sim_local_day(w->start);
        if (dd >= 0 && dd < ndays) done[(size_t)e->rep * (size_t)ndays + (size_t)dd] = 1;
    }
    for (int p = 0; p < w->npeople; p++) {
        if (w->people[p].role != PR_REP) continue;
        int mine[400], nm = 0;
        for (int c = 0; c < w->ncust && nm < 400; c++)
            if (w->cust[c].rep == p) mine[nm++] = c;
        if (nm == 0) continue;
        for (int dd = 0; dd < ndays; dd++) {
            int64_t ds = day_start_of(w->start) + (int64_t)dd * SIM_DAY;
            if (ds >= w->end || !sim_is_working_day(sim_local_day(ds))
                || done[(size_t)p * (size_t)ndays + (size_t)dd])
                continue;
            sim_rng r = sim_rng_sub(w->o.seed, 10, (uint64_t)p * 1000 + (uint64_t)dd);
            int64_t t = at_work(&r, ds, 10, 16);
            int off = sim_rng_int(&r, nm);
            for (int j = 0; j < nm; j++) {
                int c = mine[(off + j) % nm];
                if (sim_blocked(w, t, c, -1, p, CH_ACTIVITY)) continue;
                sim_tctx x;
                char db[32], buf[512];
                int ct = sim_rng_int(&r, w->cust[c].nct);
                sim_tctx_fill(w, &r, c, ct, -1, t, &x, db, sizeof db);
                sim_text(&r, TX_TOUCH, &x, buf, sizeof buf);
                if (sim_emit_activity(w, t, c, -1, p, AK_TOUCH, w->cust[c].ct[ct].role, 0, 0, buf, 0)) break;
            }
        }
    }
    free(done);
    return w->err_oom ? SP_ENOMEM : SP_OK;
}

/* every inbound event answered by the rep within 20 hours */
static int pass_replies(sim_world *w)
{
    size_t *ix = index_by(w, by_cust);
    if (ix == NULL) return SP_ENOMEM;
    size_t n = w->nev;
    for (size_t k = 0; k < n; k++) {
        const sim_ev e = w->ev[ix[k]];
        if (e.dir != DIR_IN) continue;
        int ok = 0;
        for (size_t j = k + 1; j < n && w->ev[ix[j]].cust == e.cust && w->ev[ix[j]].t <= e.t + REPLY_WINDOW;
             j++) {
            const sim_ev *o = &w->ev[ix[j]];
            if (o->dir == DIR_OUT && (o->ch == CH_WECOM || o->ch == CH_EMAIL || o->ch == CH_CALL)) {
                ok = 1;
                break;
            }
        }
        if (ok) continue;
        sim_rng r = sim_rng_sub(w->o.seed, 11, e.seq);
        int64_t t = sim_work_time(e.t + (int64_t)(sim_rng_range(&r, 15, 120) * SIM_MIN));
        if (t > e.t + REPLY_WINDOW) t = e.t + 2 * SIM_HOUR;
        sim_tctx x;
        char db[32], buf[512];
        int ct = e.ct >= 0 ? e.ct : 0;
        sim_tctx_fill(w, &r, e.cust, ct, e.deal, t, &x, db, sizeof db);
        sim_text(&r, e.ch == CH_TRACKING ? TX_FOLLOWUP : TX_REPLY, &x, buf, sizeof buf);
        sim_emit_wecom(w, t, e.cust, ct, e.deal, DIR_OUT, buf, 0);
    }
    free(ix);
    return w->err_oom ? SP_ENOMEM : SP_OK;
}

int sim_passes(sim_world *w)
{
    int rv;
    if ((rv = pass_product_cap(w)) != 0 || (rv = pass_stale(w)) != 0 || (rv = pass_status(w)) != 0
        || (rv = pass_roles(w)) != 0 || (rv = pass_key_actions(w)) != 0 || (rv = pass_status(w)) != 0
        || (rv = pass_replies(w)) != 0)
        return rv;
    sim_sort_events(w);
    return SP_OK;
}
