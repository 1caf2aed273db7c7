/* spctl_sim_world.c - the demo company: org chart, customers with contacts,
 * and every deal's stage path from 180 days before --start to the end. */
#include "spctl/spctl_sim.h"

#include "err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const SIM_STAGE_NAMES[]
    = {"", "lead", "qualified", "demo", "proposal", "negotiation", "won", "lost"};
const char *const SIM_ROLE_NAMES[] = {"rep", "supervisor", "director", "admin", "after_sales", "competition"};
const char *const SIM_IND_NAMES[] = {"k12", "bureau", "manufacturing", "healthcare"};

static const struct {
    const char *zh, *py;
} SURNAMES[] = {{"王", "wang"}, {"李", "li"}, {"张", "zhang"}, {"刘", "liu"}, {"陈", "chen"}, {"杨", "yang"},
    {"赵", "zhao"}, {"黄", "huang"}, {"周", "zhou"}, {"吴", "wu"}, {"徐", "xu"}, {"孙", "sun"}, {"胡", "hu"},
    {"朱", "zhu"}, {"高", "gao"}, {"林", "lin"}, {"何", "he"}, {"郭", "guo"}, {"马", "ma"}, {"罗", "luo"},
    {"梁", "liang"}, {"宋", "song"}, {"郑", "zheng"}, {"谢", "xie"}, {"韩", "han"}, {"唐", "tang"},
    {"冯", "feng"}, {"邓", "deng"}, {"曹", "cao"}, {"彭", "peng"}},
  GIVEN[] = {{"伟", "wei"}, {"芳", "fang"}, {"娜", "na"}, {"敏", "min"}, {"静", "jing"}, {"丽", "li"},
      {"强", "qiang"}, {"磊", "lei"}, {"军", "jun"}, {"洋", "yang"}, {"勇", "yong"}, {"艳", "yan"},
      {"杰", "jie"}, {"涛", "tao"}, {"明", "ming"}, {"超", "chao"}, {"秀英", "xiuying"}, {"霞", "xia"},
      {"平", "ping"}, {"刚", "gang"}, {"建华", "jianhua"}, {"志强", "zhiqiang"}, {"晓东", "xiaodong"},
      {"海燕", "haiyan"}, {"文博", "wenbo"}, {"子涵", "zihan"}, {"思远", "siyuan"}, {"雨婷", "yuting"},
      {"浩然", "haoran"}, {"嘉怡", "jiayi"}, {"俊杰", "junjie"}, {"佳琪", "jiaqi"}, {"立新", "lixin"},
      {"国庆", "guoqing"}};

static const struct {
    const char *zh, *py;
    int region;
} CITIES[] = {{"上海", "sh", 0}, {"杭州", "hz", 0}, {"南京", "nj", 0}, {"苏州", "suz", 0}, {"宁波", "nb", 0},
    {"合肥", "hf", 0}, {"北京", "bj", 1}, {"天津", "tj", 1}, {"石家庄", "sjz", 1}, {"济南", "jn", 1},
    {"太原", "ty", 1}, {"广州", "gz", 2}, {"深圳", "szx", 2}, {"东莞", "dg", 2}, {"佛山", "fs", 2},
    {"厦门", "xm", 2}, {"南宁", "nn", 2}};
#define NCITIES ((int)(sizeof CITIES / sizeof *CITIES))

static const char *const BRANDS[] = {"恒泰", "华盛", "鑫达", "宏远", "精工", "永兴", "中联", "东方", "天成",
    "金源", "瑞丰", "凯达", "博远", "同创", "昌盛"};
static const char *const MFG_KINDS[]
    = {"精密制造", "汽车零部件", "电子科技", "机械", "新材料", "智能装备", "塑胶制品", "五金制品"};
static const char *const DISTRICTS[]
    = {"鼓楼", "新城", "高新", "经开", "滨江", "城南", "城北", "江东", "江北", "湖滨"};

typedef struct ct_tpl {
    const char *title, *suffix;
    int role;
} ct_tpl;
static const ct_tpl CT_K12[]
    = {{"校长", "校长", RB_DM}, {"信息中心主任", "主任", RB_TECH}, {"采购科长", "科长", RB_PROC},
        {"财务科长", "科长", RB_FIN}, {"教务处主任", "主任", 0}, {"副校长", "校长", RB_DM}};
static const ct_tpl CT_BUREAU[] = {{"局长", "局长", RB_DM}, {"电教馆馆长", "馆长", RB_TECH},
    {"采购科长", "科长", RB_PROC}, {"财务科长", "科长", RB_FIN}, {"分管副局长", "局长", RB_DM}};
static const ct_tpl CT_MFG[] = {{"总经理", "总", RB_DM}, {"CTO", "工", RB_TECH},
    {"采购经理", "经理", RB_PROC}, {"CFO", "总", RB_FIN}, {"生产总监", "总", 0}};
static const ct_tpl CT_HEALTH[] = {{"院长", "院长", RB_DM}, {"信息科主任", "主任", RB_TECH},
    {"设备科长", "科长", RB_PROC}, {"财务科长", "科长", RB_FIN}, {"超声科主任", "主任", 0}};

static void make_name(sim_rng *r, char *zh, size_t zc, char *py, size_t pc, int *surname)
{
    int s = sim_rng_int(r, (int)(sizeof SURNAMES / sizeof *SURNAMES));
    int g = sim_rng_int(r, (int)(sizeof GIVEN / sizeof *GIVEN));
    snprintf(zh, zc, "%s%s", SURNAMES[s].zh, GIVEN[g].zh);
    snprintf(py, pc, "%s%s", SURNAMES[s].py, GIVEN[g].py);
    if (surname) *surname = s;
}

static sim_person *person_add(sim_world *w, int role, int team, int region, sim_rng *r)
{
    sim_person *p = &w->people[w->npeople];
    memset(p, 0, sizeof *p);
    p->role = role, p->team = team, p->region = region, p->mentor = -1;
    static const char *const PFX[] = {"P-R", "P-S", "P-D", "P-ADM", "P-AS", "P-CR"};
    int n = 0;
    for (int i = 0; i < w->npeople; i++)
        n += w->people[i].role == role;
    snprintf(p->id, sizeof p->id, role == PR_ADMIN ? "%s" : "%s%02d", PFX[role], n + 1);
    for (;;) {
        make_name(r, p->name, sizeof p->name, p->py, sizeof p->py, NULL);
        int dup = 0;
        for (int i = 0; i < w->npeople; i++)
            dup |= strcmp(w->people[i].name, p->name) == 0;
        if (!dup) break;
    }
    snprintf(p->wecom, sizeof p->wecom, "%s", p->py);
    snprintf(p->email, sizeof p->email, "%s@hengyuan.cn", p->py);
    w->npeople++;
    return p;
}

int sim_build_org(sim_world *w)
{
    static const char *const RID[] = {"R-EAST", "R-NORTH", "R-SOUTH"};
    static const char *const RNAME[] = {"华东", "华北", "华南"};
    static const struct {
        const char *id, *name;
        int region, k12, reps;
    } TEAMS[]
        = {{"T-E1", "华东K12教育组", 0, 1, 7}, {"T-E2", "华东行业组", 0, 0, 7}, {"T-N1", "华北一组", 1, 0, 6},
            {"T-N2", "华北二组", 1, 0, 7}, {"T-S1", "华南一组", 2, 0, 6}, {"T-S2", "华南二组", 2, 0, 7}};
    sim_rng r = sim_rng_sub(w->o.seed, 1, 0);
    w->people = calloc(80, sizeof *w->people);
    if (w->people == NULL) return SP_ENOMEM;
    for (int i = 0; i < 3; i++) {
        snprintf(w->regions[i].id, sizeof w->regions[i].id, "%s", RID[i]);
        w->regions[i].name = RNAME[i];
        w->regions[i].director = w->npeople;
        person_add(w, PR_DIR, -1, i, &r);
    }
    for (int t = 0; t < 6; t++) {
        sim_team *tm = &w->teams[t];
        snprintf(tm->id, sizeof tm->id, "%s", TEAMS[t].id);
        snprintf(tm->name, sizeof tm->name, "%s", TEAMS[t].name);
        tm->region = TEAMS[t].region, tm->k12 = TEAMS[t].k12;
        tm->supervisor = w->npeople;
        person_add(w, PR_SUP, t, tm->region, &r);
    }
    for (int t = 0; t < 6; t++) {
        sim_team *tm = &w->teams[t];
        for (int k = 0; k < TEAMS[t].reps; k++) {
            tm->reps[tm->nreps++] = w->npeople;
            sim_person *p = person_add(w, PR_REP, t, tm->region, &r);
            p->senior = k < 2;
            if (k >= 2) p->mentor = tm->reps[k % 2];
        }
    }
    w->as_lead = w->npeople;
    person_add(w, PR_AS, -1, -1, &r);
    w->as_members[w->nas++] = w->as_lead;
    for (int i = 0; i < 2; i++) {
        w->as_members[w->nas++] = w->npeople;
        person_add(w, PR_AS, -1, -1, &r);
    }
    w->comp_lead = w->npeople;
    person_add(w, PR_COMP, -1, -1, &r);
    w->comp_members[w->ncomp++] = w->comp_lead;
    for (int i = 0; i < 2; i++) {
        w->comp_members[w->ncomp++] = w->npeople;
        person_add(w, PR_COMP, -1, -1, &r);
    }
    w->admin = w->npeople;
    person_add(w, PR_ADMIN, -1, -1, &r);
    snprintf(w->people[w->admin].name, sizeof w->people[w->admin].name, "系统管理员");
    snprintf(w->people[w->admin].wecom, sizeof w->people[w->admin].wecom, "admin");
    snprintf(w->people[w->admin].email, sizeof w->people[w->admin].email, "admin@hengyuan.cn");
    /* background absences of people no planted routing depends on */
    w->absences[w->nabsences].person = w->as_members[2];
    w->absences[w->nabsences].t0 = w->start + 16 * SIM_DAY + 9 * SIM_HOUR;
    w->absences[w->nabsences].t1 = w->start + 20 * SIM_DAY + 18 * SIM_HOUR;
    w->absences[w->nabsences++].reason = "年假";
    w->absences[w->nabsences].person = w->comp_members[1];
    w->absences[w->nabsences].t0 = w->start + 3 * SIM_DAY + 9 * SIM_HOUR;
    w->absences[w->nabsences].t1 = w->start + 5 * SIM_DAY + 18 * SIM_HOUR;
    w->absences[w->nabsences++].reason = "培训";
    w->k12_team = 0;
    return SP_OK;
}

static void contact_make(sim_world *w, sim_customer *c, int ci, const ct_tpl *tp, sim_rng *r)
{
    sim_contact *k = &c->ct[ci];
    char py[32];
    int s;
    make_name(r, k->name, sizeof k->name, py, sizeof py, &s);
    snprintf(k->id, sizeof k->id, "C%05d-K%d", (int)(c - w->cust) + 1, ci + 1);
    snprintf(k->addr, sizeof k->addr, "%s%s", SURNAMES[s].zh, tp->suffix);
    k->title = tp->title;
    k->role = tp->role;
    static const char B62[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    char wid[20];
    wid[0] = 'w', wid[1] = 'm';
    sim_rng h = sim_rng_sub(w->o.seed, 0x77, (uint64_t)(c - w->cust) * 16 + (uint64_t)ci);
    for (int i = 2; i < 18; i++)
        wid[i] = B62[sim_rng_int(&h, 62)];
    wid[18] = 0;
    snprintf(k->wecom, sizeof k->wecom, "%s", wid);
    snprintf(k->email, sizeof k->email, "%s%d@%s", py, ci + 1, c->domain);
    static const char *const PFX[] = {"3", "5", "8", "7", "9"};
    long long n = (long long)((c - w->cust) * 10 + ci) * 9973 % 1000000000LL;
    snprintf(k->phone, sizeof k->phone, "+861%s%09lld", PFX[sim_rng_int(r, 5)], n);
}

int sim_build_customers(sim_world *w)
{
    int n = w->o.customers;
    w->cust = calloc((size_t)n, sizeof *w->cust);
    if (w->cust == NULL) return SP_ENOMEM;
    w->ncust = n;
    int city_count[NCITIES][IND_COUNT];
    memset(city_count, 0, sizeof city_count);
    int team_rr[6] = {0};
    for (int i = 0; i < n; i++) {
        sim_customer *c = &w->cust[i];
        sim_rng r = sim_rng_sub(w->o.seed, 2, (uint64_t)i);
        snprintf(c->id, sizeof c->id, "C%05d", (i + 1) % 1000000);
        /* region 40/30/30, then a city of it */
        double u = sim_rng_u(&r);
        int region = u < 0.4 ? 0 : u < 0.7 ? 1 : 2;
        int cands[NCITIES], nc = 0;
        for (int k = 0; k < NCITIES; k++)
            if (CITIES[k].region == region) cands[nc++] = k;
        c->city = cands[sim_rng_int(&r, nc)];
        double v = sim_rng_u(&r);
        if (region == 0)
            c->ind = v < 0.40 ? IND_K12 : v < 0.46 ? IND_BUREAU : v < 0.76 ? IND_MFG : IND_HEALTH;
        else
            c->ind = v < 0.27 ? IND_K12 : v < 0.31 ? IND_BUREAU : v < 0.70 ? IND_MFG : IND_HEALTH;
        int team;
        if (region == 0)
            team = (c->ind == IND_K12 || c->ind == IND_BUREAU) ? 0 : 1;
        else
            team = region * 2 + (sim_rng_u(&r) < 0.5 ? 0 : 1);
        c->team = team;
        w->teams[team].ncust++;
        c->rep = w->teams[team].reps[team_rr[team]++ % w->teams[team].nreps];
        double cl = sim_rng_u(&r);
        c->cls = cl < 0.15 ? 0 : cl < 0.5 ? 1 : 2;
        int k = city_count[c->city][c->ind]++;
        const char *cz = CITIES[c->city].zh, *cp = CITIES[c->city].py;
        switch (c->ind) {
        case IND_K12:
            if (k % 3 == 2)
                snprintf(c->name, sizeof c->name, "%s%s实验学校%s", cz, BRANDS[(k / 3) % 15],
                    k >= 45 ? "分校" : "");
            else
                snprintf(c->name, sizeof c->name, "%s市第%d%s", cz, k + 1, k % 3 == 0 ? "中学" : "小学");
            snprintf(c->domain, sizeof c->domain, "%sxx%d.edu.cn", cp, k + 1);
            break;
        case IND_BUREAU:
            snprintf(c->name, sizeof c->name, "%s市%s区教育局%s", cz, DISTRICTS[k % 10],
                k >= 10 ? "装备中心" : "");
            snprintf(c->domain, sizeof c->domain, "%sjyj%d.gov.cn", cp, k + 1);
            break;
        case IND_MFG:
            snprintf(
                c->name, sizeof c->name, "%s%s%s有限公司", cz, BRANDS[k % 15], MFG_KINDS[(k / 15 + k) % 8]);
            snprintf(c->domain, sizeof c->domain, "%smfg%d.com.cn", cp, k + 1);
            break;
        default:
            if (k < 12)
                snprintf(c->name, sizeof c->name, "%s市第%d人民医院", cz, k + 1);
            else
                snprintf(c->name, sizeof c->name, "%s%s%s医院", cz, BRANDS[k % 15], k % 2 ? "综合" : "骨科");
            snprintf(c->domain, sizeof c->domain, "%shosp%d.org.cn", cp, k + 1);
        }
        c->created = w->start
            - (int64_t)(sim_rng_u(&r) < 0.1 ? sim_rng_range(&r, 20, 60) : sim_rng_range(&r, 200, 1500))
                * SIM_DAY
            + 10 * SIM_HOUR;
        c->seed_last = w->start - (int64_t)(sim_rng_range(&r, 0.5, 8.0) * SIM_DAY);
        const ct_tpl *tp = c->ind == IND_K12 ? CT_K12
            : c->ind == IND_BUREAU           ? CT_BUREAU
            : c->ind == IND_MFG              ? CT_MFG
                                             : CT_HEALTH;
        int ntp = c->ind == IND_K12 ? 6 : 5;
        c->nct = 4 + (sim_rng_u(&r) < 0.5 ? 1 : 0);
        if (c->nct > ntp) c->nct = ntp;
        for (int j = 0; j < c->nct; j++)
            contact_make(w, c, j, &tp[j], &r);
        c->reserved_from = c->reserved_to = 0;
    }
    return SP_OK;
}

sim_deal *sim_deal_add(sim_world *w)
{
    if (w->ndeals == w->capdeals) {
        int cap = w->capdeals ? w->capdeals * 2 : 1024;
        sim_deal *d = realloc(w->deals, (size_t)cap * sizeof *d);
        if (d == NULL) return NULL;
        w->deals = d, w->capdeals = cap;
    }
    sim_deal *d = &w->deals[w->ndeals++];
    memset(d, 0, sizeof *d);
    return d;
}

int sim_deal_stage_at(const sim_deal *d, int64_t t)
{
    int st = ST_NONE;
    for (int i = 0; i < d->nh; i++)
        if (d->h[i].at <= t) st = d->h[i].to;
    return st;
}

int64_t sim_deal_closed_at(const sim_deal *d)
{
    for (int i = 0; i < d->nh; i++)
        if (d->h[i].to == ST_WON || d->h[i].to == ST_LOST) return d->h[i].at;
    return INT64_MAX;
}

int sim_deal_customer_free(const sim_world *w, int cust, int64_t t0, int64_t t1)
{
    const sim_customer *c = &w->cust[cust];
    if (c->busy_until > t0) return 0;
    if (c->reserved_to > 0 && t0 < c->reserved_to && t1 > c->reserved_from) return 0;
    return 1;
}

static const char *product_pick(sim_rng *r, int ind, int64_t *amount)
{
    double u = sim_rng_u(r);
    const char *p;
    switch (ind) {
    case IND_K12: p = u < 0.45 ? "X200" : u < 0.8 ? "X300PRO" : "EC5"; break;
    case IND_BUREAU: p = u < 0.5 ? "EC5" : "X300PRO"; break;
    case IND_MFG: p = u < 0.35 ? "G7" : u < 0.7 ? "G9" : "MES3"; break;
    default: p = u < 0.55 ? "M5" : "M8";
    }
    double a;
    if (strcmp(p, "X200") == 0)
        a = 12000 * sim_rng_range(r, 20, 60);
    else if (strcmp(p, "X300PRO") == 0)
        a = 18000 * sim_rng_range(r, 15, 50);
    else if (strcmp(p, "EC5") == 0)
        a = sim_rng_range(r, 150000, 400000);
    else if (strcmp(p, "G7") == 0)
        a = 8000 * sim_rng_range(r, 20, 100);
    else if (strcmp(p, "G9") == 0)
        a = 20000 * sim_rng_range(r, 10, 40);
    else if (strcmp(p, "MES3") == 0)
        a = sim_rng_range(r, 500000, 1500000);
    else if (strcmp(p, "M5") == 0)
        a = 250000 * (1 + sim_rng_int(r, 4));
    else
        a = 800000 * (1 + sim_rng_int(r, 2));
    *amount = (int64_t)(a / 1000) * 1000;
    return p;
}

/* conversion probability of the step leaving `stage` */
static double step_p(const sim_world *w, int team, int stage, int64_t entered)
{
    static const double P[] = {0, 0.70, 0.80, 0.70, 0.55, 0.70};
    if (team == w->k12_team && w->funnel_from > 0 && entered >= w->funnel_from) {
        if (stage == ST_DEMO) return 0.55;
        if (stage == ST_PROP) return 0.22;
    }
    return P[stage];
}

static const double DWELL[][2] = {{0, 0}, {2, 7}, {2, 7}, {2, 6}, {3, 7}, {3, 8}};

static int deal_cmp(const void *a, const void *b)
{
    const sim_deal *x = a, *y = b;
    if (x->created != y->created) return x->created < y->created ? -1 : 1;
    return x->cust - y->cust;
}

/* Fills a new deal's name, products and amount. */
void sim_deal_describe(sim_world *w, sim_deal *d, sim_rng *r)
{
    const sim_customer *c = &w->cust[d->cust];
    d->prod[0] = product_pick(r, c->ind, &d->amount);
    d->nprod = 1;
    if (strcmp(d->prod[0], "X300PRO") == 0 && sim_rng_u(r) < 0.25) {
        d->prod[d->nprod++] = "EC5";
        d->amount += 200000;
    }
    snprintf(d->name, sizeof d->name, "%s %s项目", c->name, d->prod[0]);
    d->rep = c->rep;
}

int sim_build_deals(sim_world *w)
{
    int64_t t0 = w->start - 180 * SIM_DAY;
    for (int t = 0; t < 6; t++) {
        sim_team *tm = &w->teams[t];
        sim_rng r = sim_rng_sub(w->o.seed, 3, (uint64_t)t);
        int *mine = malloc((size_t)(tm->ncust + 1) * sizeof *mine);
        if (mine == NULL) return SP_ENOMEM;
        int nm = 0;
        for (int i = 0; i < w->ncust; i++)
            if (w->cust[i].team == t) mine[nm++] = i;
        double lambda = 0.0075 * nm; /* new leads per day */
        double phase[6];
        long cnt[6] = {0};
        for (int s = 0; s < 6; s++)
            phase[s] = sim_rng_u(&r);
        for (long k = 0; nm > 0 && lambda > 0; k++) {
            int64_t at = t0 + (int64_t)(((double)k + sim_rng_range(&r, 0.1, 0.9)) / lambda * SIM_DAY);
            if (at >= w->end) break;
            int64_t day = sim_local_day(at);
            at = day * SIM_DAY - SIM_TZ + 9 * SIM_HOUR + (int64_t)(sim_rng_u(&r) * 8 * SIM_HOUR);
            int pick = -1, off = sim_rng_int(&r, nm);
            for (int j = 0; j < nm && pick < 0; j++) {
                int ci = mine[(off + j) % nm];
                if (sim_deal_customer_free(w, ci, at - SIM_DAY, at + 60 * SIM_DAY)) pick = ci;
            }
            if (pick < 0) continue;
            sim_deal *d = sim_deal_add(w);
            if (d == NULL) {
                free(mine);
                return SP_ENOMEM;
            }
            d->cust = pick;
            d->created = at;
            sim_deal_describe(w, d, &r);
            /* planted (b): leads of the region in the two planted weeks wait */
            int delayed = 0;
            if (w->fv_week0 >= 0 && tm->region == w->fv_region && at >= w->fv_week0
                && at < w->fv_week0 + 14 * SIM_DAY) {
                delayed = (k % 5) != 4;
            }
            d->h[d->nh++] = (sim_hop) {ST_NONE, ST_LEAD, at};
            int64_t cur = at;
            int stage = ST_LEAD;
            while (stage < ST_WON) {
                double p = step_p(w, t, stage, cur);
                long c = cnt[stage]++;
                int conv = (long)((double)(c + 1) * p + phase[stage]) > (long)((double)c * p + phase[stage]);
                double dw = sim_rng_range(&r, DWELL[stage][0], DWELL[stage][1]);
                if (stage == ST_LEAD && delayed) dw += 3.5;
                int64_t next = cur + (int64_t)(dw * SIM_DAY);
                next = sim_work_time(next);
                int to = conv ? (stage == ST_NEG ? ST_WON : stage + 1) : ST_LOST;
                d->h[d->nh++] = (sim_hop) {stage, to, next};
                cur = next;
                stage = to;
            }
            if (delayed) {
                d->flags |= DF_DELAYED;
                d->delay = (int64_t)(sim_rng_range(&r, 50, 68) * SIM_HOUR);
            }
            w->cust[pick].busy_until = cur + (int64_t)(sim_rng_range(&r, 5, 15) * SIM_DAY);
        }
        free(mine);
    }
    qsort(w->deals, (size_t)w->ndeals, sizeof *w->deals, deal_cmp);
    for (int i = 0; i < w->ndeals; i++)
        snprintf(w->deals[i].id, sizeof w->deals[i].id, "D%05d", (i + 1) % 10000000);
    return SP_OK;
}

void sim_funnel(
    const sim_world *w, int team, int from, int to, int64_t t, int64_t window, int *entered, int *converted)
{
    *entered = *converted = 0;
    for (int i = 0; i < w->ndeals; i++) {
        const sim_deal *d = &w->deals[i];
        if (w->cust[d->cust].team != team) continue;
        int64_t in = -1;
        for (int k = 0; k < d->nh; k++)
            if (d->h[k].to == from) in = d->h[k].at;
        if (in < t - window || in >= t || in < 0) continue;
        (*entered)++;
        for (int k = 0; k < d->nh; k++)
            if (d->h[k].to >= to && d->h[k].to != ST_LOST && d->h[k].at < t) {
                (*converted)++;
                break;
            }
    }
}
