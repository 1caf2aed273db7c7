/* spctl_sim_plant.c - the planted situations (a)-(h) of docs/simulator.md:
 * scripted deals, silences (blocks), absences, and what should be detected
 * (truth.json). */
#include "spctl/spctl_sim.h"

#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int full(const sim_world *w)
{
    return w->o.weeks >= 8;
}

static int add_block(sim_world *w, int kind, int id, int64_t t0, int64_t t1)
{
    return sim_block_add(w, kind, id, t0, t1);
}

/* a customer of team (rep when >= 0) of industry ind (-1 any), class cls
 * (-1 any), not yet reserved; reserves it for [t0, t1) */
static int reserve(sim_world *w, int team, int rep, int ind, int cls, int64_t t0, int64_t t1)
{
    for (int c = 0; c < w->ncust; c++) {
        sim_customer *cu = &w->cust[c];
        if (cu->team != team || (rep >= 0 && cu->rep != rep) || (ind >= 0 && cu->ind != ind)
            || (cls >= 0 && cu->cls != cls) || cu->reserved_to)
            continue;
        cu->reserved_from = t0, cu->reserved_to = t1;
        return c;
    }
    return -1;
}

static int scripted(sim_world *w, char tag, int cust, const char *product, const int *stages,
    const double *days, int n, int64_t anchor)
{
    sim_rng r = sim_rng_sub(w->o.seed, 20, (uint64_t)tag);
    sim_deal *d = sim_deal_add(w);
    if (d == NULL) return SP_ENOMEM;
    d->cust = cust;
    sim_deal_describe(w, d, &r);
    if (product) {
        d->prod[0] = product, d->nprod = 1;
        snprintf(d->name, sizeof d->name, "%s %s项目", w->cust[cust].name, product);
    }
    d->flags = DF_SCRIPTED;
    d->plant = tag;
    int prev = ST_NONE;
    for (int i = 0; i < n; i++) {
        int64_t at = anchor + (int64_t)(days[i] * SIM_DAY);
        d->h[d->nh++] = (sim_hop) {prev, stages[i], at};
        prev = stages[i];
    }
    d->created = d->h[0].at;
    return SP_OK;
}

static const int PATH_WON[] = {ST_LEAD, ST_QUAL, ST_DEMO, ST_PROP, ST_NEG, ST_WON};

/* the anchor of each plant: full quarter vs. the 3-week variant */
static int64_t anchor(const sim_world *w, double full_days, double small_days)
{
    int64_t t = w->start + (int64_t)((full(w) ? full_days : small_days) * SIM_DAY);
    while (!sim_is_working_day(sim_local_day(t)))
        t += SIM_DAY;
    return sim_local_day(t) * SIM_DAY - SIM_TZ + 10 * SIM_HOUR;
}

int sim_plant_reserve(sim_world *w)
{
    int rv;
    int64_t far = 400 * SIM_DAY;
    /* (a) the K12 team's demo -> negotiation collapse in the last 45 days */
    w->funnel_from = full(w) ? w->end - 45 * SIM_DAY : 0;
    /* (b) region 华南, two ISO weeks */
    w->fv_region = 2;
    int64_t m = w->start + (full(w) ? 28 : 0) * SIM_DAY;
    while (sim_weekday(m) != 1)
        m += SIM_DAY;
    m = sim_local_day(m) * SIM_DAY - SIM_TZ;
    w->fv_week0 = m + 14 * SIM_DAY + 12 * SIM_HOUR < w->end ? m : -1;

    /* (c) rep silent on an open deal while the supervisor travels: 华北一组 */
    {
        int team = 2, rep = w->teams[team].reps[2];
        int64_t A = anchor(w, 20, 5);
        int c = reserve(w, team, rep, -1, -1, A - 20 * SIM_DAY, A + 40 * SIM_DAY);
        if (c < 0) return SP_EINVAL;
        static const double D[] = {-9, -5, -1.2, 10, 15, 24};
        if ((rv = scripted(w, 'c', c, NULL, PATH_WON, D, 6, A)) != 0) return rv;
        if ((rv = add_block(w, BLK_CUST, c, A - 2 * SIM_HOUR, A + 7 * SIM_DAY)) != 0) return rv;
        int sup = w->teams[team].supervisor;
        w->absences[w->nabsences].person = sup;
        w->absences[w->nabsences].t0 = A - SIM_DAY - 2 * SIM_HOUR;
        w->absences[w->nabsences].t1 = A + 12 * SIM_DAY;
        w->absences[w->nabsences++].reason = "出差";
    }
    /* (d) two refused demos and a CTO's technical doubt: 华北二组 */
    {
        int team = 3, rep = w->teams[team].reps[3];
        int64_t B = anchor(w, 30, 4);
        int c = reserve(w, team, rep, IND_MFG, -1, B - 25 * SIM_DAY, B + 40 * SIM_DAY);
        if (c < 0) return SP_EINVAL;
        static const double D[] = {-12, -8, -3, 15.2, 20, 28};
        if ((rv = scripted(w, 'd', c, "G9", PATH_WON, D, 6, B)) != 0) return rv;
    }
    /* (e) an A-class customer silent 30+ days: 华南二组 */
    {
        int c = reserve(w, 5, -1, -1, 0, w->start - far, w->end + far);
        if (c < 0) return SP_EINVAL;
        w->e_cust = c;
        if (full(w)) {
            if ((rv = add_block(w, BLK_CUST, c, w->start + 4 * SIM_DAY, w->start + 40 * SIM_DAY)) != 0)
                return rv;
        } else {
            w->cust[c].seed_last = w->start - 12 * SIM_DAY;
            if ((rv = add_block(w, BLK_CUST, c, w->start, w->start + 21 * SIM_DAY)) != 0) return rv;
        }
    }
    /* (f) competitor surge by page visits (华东行业组) and by mentions (华南一组) */
    {
        int team = 1, hrep = w->teams[1].reps[4];
        int64_t E = anchor(w, 55, 9);
        int c = -1;
        for (int k = 0; k < w->teams[team].nreps && c < 0; k++)
            if (w->teams[team].reps[k] != hrep)
                c = reserve(w, team, w->teams[team].reps[k], IND_MFG, -1, E - 30 * SIM_DAY, E + 30 * SIM_DAY);
        if (c < 0) return SP_EINVAL;
        static const double D[] = {-25, -20, -16, -12, -6, 12};
        if ((rv = scripted(w, 'f', c, "MES3", PATH_WON, D, 6, E)) != 0) return rv;
        int64_t F = anchor(w, 60, 12);
        int c2 = reserve(w, 4, -1, IND_HEALTH, -1, F - 30 * SIM_DAY, F + 30 * SIM_DAY);
        if (c2 < 0) return SP_EINVAL;
        static const double D2[] = {-25, -20, -15, -10, -3, 14};
        if ((rv = scripted(w, 'm', c2, "M8", PATH_WON, D2, 6, F)) != 0) return rv;
    }
    /* (g) an after-sales worry on a call: 华南二组 hospital */
    {
        int64_t C = anchor(w, 45, 10);
        int c = reserve(w, 5, -1, IND_HEALTH, -1, C - 25 * SIM_DAY, C + 25 * SIM_DAY);
        if (c < 0) return SP_EINVAL;
        static const double D[] = {-20, -15, -11, -7, -2, 10};
        if ((rv = scripted(w, 'g', c, "M8", PATH_WON, D, 6, C)) != 0) return rv;
    }
    /* (h) a rep stops logging key actions for 4 working days: 华东行业组 */
    {
        int rep = w->teams[1].reps[4];
        int64_t t = anchor(w, 14, 7);
        int64_t day0 = sim_local_day(t);
        int64_t d = day0, n = 0, third = 0;
        while (n < 4) {
            if (sim_is_working_day(d)) {
                n++;
                if (n == 3) third = d;
            }
            d++;
        }
        if ((rv = add_block(w, BLK_REPKEY, rep, day0 * SIM_DAY - SIM_TZ, d * SIM_DAY - SIM_TZ)) != 0)
            return rv;
        (void)third;
    }
    return SP_OK;
}

static int find_deal(const sim_world *w, char tag)
{
    for (int i = 0; i < w->ndeals; i++)
        if (w->deals[i].plant == tag) return i;
    return -1;
}

static int contact_role(const sim_customer *cu, int rb)
{
    for (int i = 0; i < cu->nct; i++)
        if (cu->ct[i].role == rb) return i;
    return 0;
}

int sim_plant_events(sim_world *w)
{
    char buf[512];
    /* (d) */
    {
        int di = find_deal(w, 'd');
        sim_deal *d = &w->deals[di];
        int c = d->cust, cto = contact_role(&w->cust[c], RB_TECH), dm = contact_role(&w->cust[c], RB_DM);
        int64_t B = d->h[2].at + 3 * SIM_DAY;
        const char *addr = w->cust[c].ct[cto].addr;
        snprintf(buf, sizeof buf, "%s您好，下周给贵厂安排一次G9的现场演示，您看哪天方便？", addr);
        sim_emit_wecom(w, B - SIM_DAY, c, cto, di, DIR_OUT, buf, 1);
        sim_emit_wecom(w, B, c, cto, di, DIR_IN, "这次演示先取消吧，我们内部还没讨论完。", 1);
        sim_emit_wecom(w, B + 40 * SIM_MIN, c, cto, di, DIR_OUT, "好的，您这边方便了随时告诉我。", 1);
        snprintf(buf, sizeof buf, "%s，G9的演示环境已经准备好了，这周安排一次可以吗？", addr);
        sim_emit_wecom(w, B + 8 * SIM_DAY, c, cto, di, DIR_OUT, buf, 1);
        sim_emit_wecom(w, B + 9 * SIM_DAY, c, cto, di, DIR_IN,
            "演示还是改期吧。说实话我对G9和我们现有产线系统的接口兼容性有疑虑，担心数据对接不稳定。", 1);
        sim_emit_wecom(w, B + 9 * SIM_DAY + 30 * SIM_MIN, c, cto, di, DIR_OUT,
            "理解，我请导师和技术同事准备一份详细的对接说明，再约您专门交流。", 1);
        sim_emit_meeting(w, B + 12 * SIM_DAY, c, di, RB_TECH | RB_DM, "G9技术交流会",
            "导师陪同，与客户CTO召开G9技术交流会，逐项说明接口对接方式。", 1);
        snprintf(buf, sizeof buf, "技术交流很有帮助，%s", "下周二上午10点可以安排G9演示了。");
        sim_emit_wecom(w, B + 13 * SIM_DAY, c, dm, di, DIR_IN, buf, 1);
        sim_emit_wecom(
            w, B + 13 * SIM_DAY + 20 * SIM_MIN, c, dm, di, DIR_OUT, "好的，下周二上午10点准时到。", 1);
        sim_emit_activity(
            w, B + 14 * SIM_DAY, c, di, -1, AK_DEMO, RB_TECH | RB_DM, 0, 0, "G9现场演示，CTO全程参与。", 1);
    }
    /* (f) page visits: one the week before, then seven in five days */
    {
        int di = find_deal(w, 'f');
        sim_deal *d = &w->deals[di];
        int64_t E = d->h[4].at + 6 * SIM_DAY;
        static const double AT[] = {-8, 0, 0.8, 1.6, 2.5, 3.3, 4.1, 5.0};
        static const char *const WHO[]
            = {"mingde", "mingde", "apex", "mingde", "apex", "mingde", "mingde", "apex"};
        for (int i = 0; i < 8; i++)
            sim_emit_tracking(
                w, E + (int64_t)(AT[i] * SIM_DAY), d->cust, 1, di, TK_VISIT, PG_COMPETITOR, NULL, WHO[i], 1);
    }
    /* (f) mentions: two customer-side messages naming competitors */
    {
        int di = find_deal(w, 'm');
        sim_deal *d = &w->deals[di];
        int c = d->cust, proc = contact_role(&w->cust[c], RB_PROC), dm = contact_role(&w->cust[c], RB_DM);
        int64_t F = d->h[4].at + 3 * SIM_DAY;
        sim_emit_wecom(w, F, c, dm, di, DIR_IN,
            "蓝鲸智能上周也来给我们介绍了他们的彩超方案，你们和他们比有什么区别？", 1);
        sim_emit_wecom(w, F + 45 * SIM_MIN, c, dm, di, DIR_OUT, "好的，我整理一份M8的对比说明发您。", 1);
        sim_emit_wecom(
            w, F + 5 * SIM_DAY, c, proc, di, DIR_IN, "明德科技的销售也联系了我们设备科，给了一份报价单。", 1);
        sim_emit_wecom(
            w, F + 5 * SIM_DAY + 30 * SIM_MIN, c, proc, di, DIR_OUT, "收到，我们这边尽快把完整方案给您。", 1);
    }
    /* (h) the day before the gap the rep plans one key action for each of
     * the gap's working days (so planned > 0 and completed == 0) */
    for (int i = 0; i < w->nblocks; i++) {
        if (w->blocks[i].kind != BLK_REPKEY) continue;
        int rep = w->blocks[i].id;
        int64_t day = sim_local_day(w->blocks[i].t0) - 1;
        while (!sim_is_working_day(day))
            day--;
        int c = -1;
        for (int k = 0; k < w->ncust && c < 0; k++)
            if (w->cust[k].rep == rep && !w->cust[k].reserved_to) c = k;
        int64_t d = sim_local_day(w->blocks[i].t0);
        int n = 0;
        while (n < 4 && c >= 0) {
            if (sim_is_working_day(d)) {
                w->due_override = d * SIM_DAY - SIM_TZ + 16 * SIM_HOUR;
                sim_emit_activity(w, day * SIM_DAY - SIM_TZ + (11 + n) * SIM_HOUR, c, -1, rep, AK_TOUCH,
                    RB_TECH, 0, 0, "电话沟通项目进展，约定后续拜访和方案讨论的时间。", 1);
                n++;
            }
            d++;
        }
        w->due_override = 0;
    }
    /* (g) the call */
    {
        int di = find_deal(w, 'g');
        sim_deal *d = &w->deals[di];
        int c = d->cust, dm = contact_role(&w->cust[c], RB_DM);
        int64_t C = d->h[4].at + 2 * SIM_DAY;
        snprintf(buf, sizeof buf, "%s您好，M8彩超的合同条款我们整理好了，想跟您再过一下。",
            w->cust[c].ct[dm].addr);
        sim_turn turns[] = {{0, buf},
            {1,
                "合同我们在看。另外想问一下，M8装好以后如果设备出了故障，你们多久能上门维修？我们这边有没有售"
                "后网点？"},
            {0, "这个问题我回去整理一份书面说明发给您。"}, {1, "好的。"}};
        sim_emit_call(w, C, c, dm, di, turns, 4, 1);
    }
    return w->err_oom ? SP_ENOMEM : SP_OK;
}

static sim_truth *truth_add(sim_world *w, const char *sit, const char *kind, const char *st, const char *sid,
    int assignee, const char *arole, const char *level, int64_t when)
{
    sim_truth *t = &w->truth[w->ntruth++];
    memset(t, 0, sizeof *t);
    snprintf(t->situation, sizeof t->situation, "%s", sit);
    t->kind = kind, t->subject_type = st, t->level = level, t->assignee_role = arole;
    snprintf(t->subject_id, sizeof t->subject_id, "%s", sid);
    snprintf(t->assignee_id, sizeof t->assignee_id, "%s", w->people[assignee].id);
    t->first_detectable = when;
    return t;
}

static void absent(sim_world *w, const char *s)
{
    snprintf(w->absent_note[w->nabsent++], sizeof w->absent_note[0], "%s", s);
}

/* last update of deal di by its rep before t */
static int64_t last_update_before(const sim_world *w, int di, int64_t t)
{
    int64_t last = w->deals[di].created >= w->start ? w->deals[di].created : w->deals[di].seed_status;
    for (size_t i = 0; i < w->nev; i++) {
        const sim_ev *e = &w->ev[i];
        if (e->deal == di && e->t < t && e->rep == w->deals[di].rep
            && (e->ch == CH_NOTE || e->ch == CH_ACTIVITY || e->ch == CH_CRM) && e->t > last)
            last = e->t;
    }
    return last;
}

int sim_plant_truth(sim_world *w)
{
    /* (a) */
    {
        int team = w->k12_team, region = w->teams[team].region;
        int64_t first = -1;
        for (int64_t t = w->start + SIM_DAY; t <= w->end && w->funnel_from > 0; t += SIM_DAY) {
            int e = 0, c = 0, be = 0, bc = 0;
            sim_funnel(w, team, ST_DEMO, ST_NEG, t, 30 * SIM_DAY, &e, &c);
            sim_funnel(w, team, ST_DEMO, ST_NEG, t, 180 * SIM_DAY, &be, &bc);
            if (e >= 20 && be > 0 && bc > 0 && (double)c / e < 0.5 * ((double)bc / be)) {
                first = t;
                break;
            }
        }
        if (first > 0)
            truth_add(w, "a_funnel_collapse", "team.funnel_collapse", "team", w->teams[team].id,
                w->regions[region].director, "director", "L3", first);
        else
            absent(w,
                "a_funnel_collapse: too few deals entering demo in a 30-day window (needs >= 20; use the "
                "full quarter)");
    }
    /* (b) */
    if (w->fv_week0 >= 0) {
        int ok = 0;
        int64_t when = 0;
        for (when = w->fv_week0 + 14 * SIM_DAY; when < w->fv_week0 + 21 * SIM_DAY && when < w->end && !ok;
             when += SIM_HOUR) {
            ok = 1;
            for (int wk = 0; wk < 2; wk++) {
                int nl = 0, late = 0;
                for (int i = 0; i < w->ndeals; i++) {
                    const sim_deal *d = &w->deals[i];
                    if (w->teams[w->cust[d->cust].team].region != w->fv_region) continue;
                    if (d->created < w->fv_week0 + wk * 7 * SIM_DAY
                        || d->created >= w->fv_week0 + (wk + 1) * 7 * SIM_DAY)
                        continue;
                    nl++;
                    late += (d->flags & DF_DELAYED) && d->created + 48 * SIM_HOUR <= when;
                }
                if (nl == 0 || late * 10 <= nl * 4) ok = 0;
            }
            if (ok) break;
        }
        if (ok) {
            for (int t = 0; t < 6; t++)
                if (w->teams[t].region == w->fv_region)
                    truth_add(w, "b_first_visit_timeout", "region.first_visit_timeout", "region",
                        w->regions[w->fv_region].id, w->teams[t].supervisor, "supervisor", "L2", when);
        } else {
            absent(w, "b_first_visit_timeout: not enough new leads in the planted weeks");
        }
    } else {
        absent(w, "b_first_visit_timeout: the window has no two complete ISO weeks before a third");
    }
    /* (c) */
    {
        int di = find_deal(w, 'c');
        const sim_deal *d = &w->deals[di];
        int64_t A = d->h[2].at + (int64_t)(1.2 * SIM_DAY);
        int64_t last = last_update_before(w, di, A + 7 * SIM_DAY);
        int team = w->cust[d->cust].team;
        sim_truth *t = truth_add(w, "c_status_not_updated_supervisor_absent", "rep.status_not_updated", "rep",
            w->people[d->rep].id, w->regions[w->teams[team].region].director, "director", "L2",
            last + 5 * SIM_DAY);
        snprintf(t->note, sizeof t->note, "deal %s; supervisor %s absent", d->id,
            w->people[w->teams[team].supervisor].id);
    }
    /* (d) */
    {
        int di = find_deal(w, 'd');
        const sim_deal *d = &w->deals[di];
        int64_t B = d->h[2].at + 3 * SIM_DAY;
        truth_add(w, "d_demo_refused_twice", "deal.demo_refused_twice", "deal", d->id,
            w->people[d->rep].mentor, "mentor", "L2", B + 9 * SIM_DAY);
        sim_truth *t = truth_add(w, "d_technical_doubt_risk", "deal.risk_raised", "deal", d->id, d->rep,
            "rep", "L1", B + 9 * SIM_DAY);
        snprintf(
            t->note, sizeof t->note, "side effect of (d): the CTO's words carry risk tag technical_doubt");
    }
    /* (e) */
    {
        int c = w->e_cust;
        int64_t t0 = 0;
        for (int i = 0; i < w->nblocks; i++)
            if (w->blocks[i].kind == BLK_CUST && w->blocks[i].id == c) t0 = w->blocks[i].t0;
        int64_t last = w->cust[c].seed_last;
        for (size_t i = 0; i < w->nev; i++)
            if (w->ev[i].cust == c && w->ev[i].t < t0 && w->ev[i].t > last) last = w->ev[i].t;
        truth_add(w, "e_customer_stale", "customer.stale", "customer", w->cust[c].id, w->cust[c].rep, "rep",
            "L1", last + 30 * SIM_DAY);
    }
    /* (f) */
    {
        int di = find_deal(w, 'f');
        const sim_deal *d = &w->deals[di];
        int64_t E = d->h[4].at + 6 * SIM_DAY;
        truth_add(w, "f_competitor_surge_visits", "deal.competitor_surge", "deal", d->id, w->comp_lead,
            "competition", "L3", E + (int64_t)(3.3 * SIM_DAY));
        di = find_deal(w, 'm');
        d = &w->deals[di];
        int64_t F = d->h[4].at + 3 * SIM_DAY;
        truth_add(w, "f_competitor_surge_mentions", "deal.competitor_surge", "deal", d->id, w->comp_lead,
            "competition", "L3", F + 5 * SIM_DAY);
        sim_truth *t = truth_add(
            w, "f_competitor_pressure_risk", "deal.risk_raised", "deal", d->id, d->rep, "rep", "L1", F);
        snprintf(t->note, sizeof t->note, "side effect of the mentions: risk tag competitor_pressure");
    }
    /* (g) */
    {
        int di = find_deal(w, 'g');
        const sim_deal *d = &w->deals[di];
        truth_add(w, "g_after_sales_risk", "deal.risk_raised", "deal", d->id, w->as_lead, "after_sales", "L1",
            d->h[4].at + 2 * SIM_DAY);
    }
    /* (h) */
    for (int i = 0; i < w->nblocks; i++) {
        if (w->blocks[i].kind != BLK_REPKEY) continue;
        int64_t d = sim_local_day(w->blocks[i].t0);
        int n = 0;
        while (n < 3) {
            if (sim_is_working_day(d)) n++;
            d++;
        }
        truth_add(w, "h_key_action_missing", "rep.key_action_missing", "rep", w->people[w->blocks[i].id].id,
            w->blocks[i].id, "rep", "L1", d * SIM_DAY - SIM_TZ);
    }
    return SP_OK;
}
