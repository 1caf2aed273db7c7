/* spctl_sim_text.c - the phrasebook: natural Chinese (some English) for the
 * background, worded so the extractor sees products, roles and commitment
 * intents but no risk, no competitor and no refused demo (docs/simulator.md).
 * Placeholders: {P} product alias, {A} contact address, {R} rep name, {O}
 * org word, {S} scenario, {U} unit, {D} day, {T} time, {N} number. */
#include "spctl/spctl_sim.h"

#include <stdio.h>
#include <string.h>

const char *const SIM_COMPETITOR_ALIASES[] = {"明德科技", "明德", "Mingde", "蓝鲸智能", "蓝鲸", "BlueWhale",
    "Blue Whale", "Apex Systems", "Apex", "艾派克斯", "华讯", "华讯科技", "Huaxun", NULL};

/* words of the risk lexicon that background text must never contain */
const char *const SIM_RISK_WORDS[] = {"售后", "维修", "网点", "响应时间", "折扣", "便宜", "降价", "再等等",
    "放一放", "推迟", "延后", "暂缓", "暂停", "考虑考虑", "以后再说", "再说吧", "招标", "审批", "备案",
    "审核", "报批", "合规", "政策", "规定", "资质", "等保", "兼容", "稳定性", "疑虑", "不放心", "担心",
    "冻结", "换人", "上任", "离职", "延期", "来不及", "太长", "别家", "友商", "不着急", "等通知", "取消",
    "改期", "太贵", "预算有限", NULL};

static const char *const *const TEXTS[TX_COUNT] = {
    [TX_INQUIRY] = (const char *const[]) {"您好，我们{O}想了解一下{P}，能发一份产品资料给我吗？",
        "你好，看到你们{P}的介绍，想了解一下详细参数。", "您好，{S}这块我们想了解下{P}，麻烦发一份资料给我。",
        "Hi, we are interested in {P}, could you send me the datasheet?", NULL},
    [TX_FIRST_REPLY] = (const char *const
            []) {"{A}您好，我是恒远科技的{R}，{P}的资料已经发到您邮箱，方便的话这两天约个时间当面沟通。",
        "{A}您好，我是恒远科技{R}，很高兴为您服务，{P}的产品介绍稍后发您。", NULL},
    [TX_FIRST_REPLY_LATE]
    = (const char *const[]) {"{A}您好，我是恒远科技的{R}，前两天在外地刚回来，{P}的资料已经发到您邮箱。",
        NULL},
    [TX_VISIT] = (const char *const[]) {"拜访{A}，介绍{P}整体方案，了解{S}的具体需求。",
        "上门拜访{A}，现场查看{S}的情况，交流{P}的应用方式。", NULL},
    [TX_FIRST_VISIT] = (const char *const[]) {"首次拜访{A}，介绍恒远科技和{P}，初步了解{S}需求。", NULL},
    [TX_COMMIT] = (const char *const[]) {"{D}{T}你再过来一趟，我们详细聊聊{P}的配置。",
        "可以，那就{D}{T}到{O}来谈。", "{D}{T}来我们这边见面，把{P}的方案再过一遍。",
        "OK, let's meet {D} {T} at our office to go through the {P} plan.", NULL},
    [TX_COMMIT_ACK] = (const char *const[]) {"好的，{D}{T}准时到，谢谢{A}！", "收到，{D}{T}见。", NULL},
    [TX_NEEDS] = (const char *const[]) {"需求诊断：与{A}沟通{S}现状，明确{P}需覆盖{N}{U}。",
        "需求诊断：梳理{S}流程，确认{P}的使用场景和数量（约{N}{U}）。", NULL},
    [TX_DEMO_REQ] = (const char *const[]) {"{D}{T}能来{O}做个{P}的演示吗？我们几位同事都会参加。",
        "想看看{P}的实际效果，{D}{T}安排一次演示可以吗？", NULL},
    [TX_DEMO_ACK] = (const char *const[]) {"没问题，{D}{T}我们带样机过去演示。",
        "好的{A}，{D}{T}演示，我提前一天再跟您确认。", NULL},
    [TX_DEMO] = (const char *const[]) {"为{A}团队现场演示{P}，重点展示{S}场景。",
        "{P}现场演示，{A}和同事一起体验了{S}的操作流程。", NULL},
    [TX_PROPOSAL] = (const char *const[]) {"提交{P}方案第{N}版，方案中使用了客户自己的{S}数据。",
        "根据{A}的意见修改{P}方案，形成第{N}版。", NULL},
    [TX_CUST_Q]
    = (const char *const[]) {"{P}的配置清单能再发我一份吗？", "上次说的{S}案例，方便发几个给我们参考吗？",
        "{P}的培训一般安排几次？", "我们这边{N}{U}的数量基本确定了。", "收到资料了，我们同事在看。",
        "Could you send me the updated {P} configuration list?", NULL},
    [TX_REP_A] = (const char *const[]) {"好的，马上发您。", "{A}，资料已经发到您邮箱，请查收。",
        "培训一般安排两次，现场一次、线上一次。", "好的，有需要随时联系我。", "明白，我这边同步更新方案。",
        NULL},
    [TX_REP_PUSH] = (const char *const[]) {"{A}您好，{P}项目这边我整理了一份说明，已发您邮箱。",
        "{A}，{S}的参考案例我整理好了，稍后发您。", NULL},
    [TX_CUST_ACK]
    = (const char *const[]) {"好的，收到，谢谢。", "收到，谢谢{R}。", "Thanks, received.", NULL},
    [TX_TOUCH] = (const char *const[]) {"电话沟通{P}项目，和{A}确认了配置数量。",
        "电话沟通{P}项目，和{A}确认了培训安排。", "和{A}电话沟通{S}的使用情况，记录了新的需求。",
        "电话回访{A}，了解{S}的近况。", NULL},
    [TX_NOTE] = (const char *const[]) {"{P}项目按计划推进，已与{A}确认下一步安排。",
        "跟进{P}项目：客户反馈积极，本周继续推进。", "整理{P}项目资料，更新客户需求记录。", NULL},
    [TX_CARE] = (const char *const[]) {"{A}您好，最近{O}这边工作都还顺利吧？有任何需要随时找我。",
        "{A}您好，我们整理了一批{S}的应用案例，已发您邮箱，供参考。",
        "{A}您好，{P}最近有新的应用案例，整理好了发您参考。", NULL},
    [TX_CARE_REPLY]
    = (const char *const[]) {"挺好的，谢谢{R}关心！", "收到，谢谢，我看看。", "好的，有需要再联系你。", NULL},
    [TX_FOLLOWUP] = (const char *const[]) {"{A}您好，看到您在关注我们的资料，有任何想了解的随时找我。", NULL},
    [TX_REPLY]
    = (const char *const[]) {"好的{A}，收到，我这边马上安排。", "收到，谢谢{A}，我整理好发您。", NULL},
    [TX_EXEC] = (const char *const[]) {"高层拜访：陪同公司领导拜访{A}，就{P}项目合作达成共识。", NULL},
    [TX_SIGN]
    = (const char *const[]) {"合同已经盖章了，原件这两天寄给你们。", "合同我们这边确认了，这周就签。", NULL},
    [TX_SIGN_ACK] = (const char *const[]) {"收到，非常感谢{A}的信任！", NULL},
    [TX_MEETING] = (const char *const[]) {"与{A}等召开{P}方案沟通会，确认配置和实施计划。", NULL},
    [TX_LOST_NOTE] = (const char *const[]) {"商机关闭，已归档，后续保持常规回访。", NULL},
    [TX_WAKEUP] = (const char *const[]) {"{A}您好，好久没联系了，{P}最近有新的应用案例，想约您聊聊。", NULL},
};

void sim_tpl(const char *tpl, const sim_tctx *c, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    for (const char *p = tpl; *p && n + 1 < cap; p++) {
        const char *v = NULL;
        char num[16];
        if (p[0] == '{' && p[1] && p[2] == '}') {
            switch (p[1]) {
            case 'P': v = c->P; break;
            case 'A': v = c->A; break;
            case 'R': v = c->R; break;
            case 'O': v = c->O; break;
            case 'S': v = c->S; break;
            case 'U': v = c->U; break;
            case 'D': v = c->D; break;
            case 'T': v = c->T; break;
            case 'C': v = c->C; break;
            case 'N': snprintf(num, sizeof num, "%d", c->N), v = num; break;
            default: break;
            }
        }
        if (v) {
            size_t l = strlen(v);
            if (n + l >= cap) break;
            memcpy(out + n, v, l);
            n += l;
            p += 2;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = 0;
}

void sim_text(sim_rng *r, int kind, const sim_tctx *c, char *out, size_t cap)
{
    const char *const *list = TEXTS[kind];
    int n = 0;
    while (list[n])
        n++;
    sim_tpl(list[sim_rng_int(r, n)], c, out, cap);
}

const char *sim_alias(sim_rng *r, const char *p)
{
    static const struct {
        const char *id;
        const char *a[3];
    } AL[] = {{"X200", {"X200", "X-200", "X200"}}, {"X300PRO", {"X300 Pro", "X300Pro", "X300 Pro"}},
        {"EC5", {"EC-5", "教学云平台", "EduCloud"}}, {"G7", {"G7", "G7网关", "G7"}},
        {"G9", {"G9", "G9网关", "G9"}}, {"MES3", {"MES3", "恒远MES", "MES 3.0"}},
        {"M5", {"M5", "M5超声", "M5"}}, {"M8", {"M8", "M8彩超", "M8"}}};
    for (size_t i = 0; i < sizeof AL / sizeof *AL; i++)
        if (strcmp(AL[i].id, p) == 0) return AL[i].a[sim_rng_int(r, 3)];
    return p;
}

const char *sim_product_for(sim_rng *r, int ind)
{
    static const char *const P[IND_COUNT][3]
        = {{"X200", "X300PRO", "EC5"}, {"EC5", "X300PRO", "EC5"}, {"G7", "G9", "MES3"}, {"M5", "M8", "M5"}};
    return P[ind][sim_rng_int(r, 3)];
}

static const char *const SCEN[IND_COUNT][3]
    = {{"智慧教室", "集体备课", "公开课录播"}, {"区域教学资源", "智慧教室", "教师培训"},
        {"设备联网", "产线数据采集", "车间看板"}, {"超声科室", "床旁检查", "影像归档"}};
static const char *const UNITS[IND_COUNT] = {"间教室", "所学校", "条产线", "个科室"};
static const char *const ORGW[IND_COUNT] = {"学校", "局里", "厂里", "医院"};

void sim_tctx_fill(const sim_world *w, sim_rng *r, int cust, int ct, int deal, int64_t when, sim_tctx *c,
    char *dbuf, size_t dcap)
{
    static const char *const WD[] = {"", "一", "二", "三", "四", "五", "六", "日"};
    static const char *const TOD[] = {"上午10点", "下午2点", "下午3点", "上午9点半", "下午4点"};
    static const char *const TOD_EN[] = {"10am", "2pm", "3pm", "9:30am", "4pm"};
    const sim_customer *cu = &w->cust[cust];
    memset(c, 0, sizeof *c);
    const char *pid = deal >= 0 ? w->deals[deal].prod[0] : sim_product_for(r, cu->ind);
    c->P = sim_alias(r, pid);
    c->A = cu->ct[ct < 0 ? 0 : ct].addr;
    c->R = w->people[cu->rep].name;
    c->O = ORGW[cu->ind];
    c->S = SCEN[cu->ind][sim_rng_int(r, 3)];
    c->U = UNITS[cu->ind];
    c->C = cu->name;
    c->N = 5 + sim_rng_int(r, 40);
    /* a meeting 2-6 days after `when`, named by its weekday */
    int64_t m = when + (int64_t)(2 + sim_rng_int(r, 4)) * SIM_DAY;
    while (sim_weekday(m) > 5)
        m += SIM_DAY;
    int same_week = sim_local_day(m) - sim_local_day(when) + sim_weekday(when) <= 7;
    snprintf(dbuf, dcap, "%s周%s", same_week ? "这" : "下", WD[sim_weekday(m)]);
    c->D = dbuf;
    int ti = sim_rng_int(r, 5);
    c->T = TOD[ti];
    (void)TOD_EN;
}
