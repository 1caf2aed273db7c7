/* spctl_sim.h - the deterministic demo simulator behind `spctl sim`
 * (docs/simulator.md): a company, its CRM and a quarter of interactions with
 * planted situations, all derived from one seed (no clock, no rand()).
 *
 * sim_run is the public entry point; the rest of this header is shared by the
 * spctl_sim_*.c files and the unit test. Ownership: sim_world_new gives a
 * world the caller frees with sim_world_destroy. */
#ifndef SP_SPCTL_SIM_H
#define SP_SPCTL_SIM_H

#include <stddef.h>
#include <stdint.h>

#define SIM_MIN  60000LL
#define SIM_HOUR 3600000LL
#define SIM_DAY  86400000LL
#define SIM_TZ   (8 * SIM_HOUR) /* Asia/Shanghai, no DST */

typedef struct sim_opts {
    uint64_t seed;
    int customers; /* 2000 */
    int64_t start_ms; /* local midnight of --start */
    int weeks; /* 13 */
} sim_opts;

typedef struct sim_stats {
    size_t events; /* lines in events.ndjson */
    size_t customers, deals, people;
    size_t situations, expected_tasks;
} sim_stats;

/* Generates the world for o and writes org.json, crm.json, events.ndjson and
 * truth.json into dir (created if missing). Fails with SP_EINVAL (bad
 * options, message in err), SP_EIO (cannot write; err names the file) or
 * SP_ENOMEM. st may be NULL. */
int sim_run(const sim_opts *o, const char *dir, sim_stats *st, char *err, size_t errlen);

/* Parses "YYYY-MM-DD" into local (UTC+8) midnight in ms. SP_EINVAL. */
int sim_date_parse(const char *s, int64_t *out_ms);

/* ---- internals shared by the sim files ------------------------------- */

typedef struct sim_rng {
    uint64_t s;
} sim_rng;

uint64_t sim_rng_next(sim_rng *r);
double sim_rng_u(sim_rng *r); /* [0,1) */
int sim_rng_int(sim_rng *r, int n); /* [0,n) */
double sim_rng_range(sim_rng *r, double a, double b);
sim_rng sim_rng_sub(uint64_t seed, uint64_t a, uint64_t b);

/* time helpers (local = UTC+8) */
int64_t sim_local_day(int64_t t); /* days since 1970-01-01 local */
int sim_weekday(int64_t t); /* 1 = Monday .. 7 = Sunday, local */
int sim_is_working_day(int64_t day); /* CN 2025-2027 calendar with 调休 */
void sim_fmt_iso(int64_t t, char *buf, size_t cap); /* 2026-03-02T10:15:00+08:00 */
void sim_fmt_rfc2822(int64_t t, char *buf, size_t cap);
void sim_fmt_date(int64_t t, char *buf, size_t cap); /* 2026-03-02 */
int64_t sim_work_time(int64_t t); /* t moved into 08:30-19:00 local, same or next day */

enum { IND_K12, IND_BUREAU, IND_MFG, IND_HEALTH, IND_COUNT };
enum { RB_PROC = 1, RB_TECH = 2, RB_DM = 4, RB_FIN = 8 };
enum { ST_NONE, ST_LEAD, ST_QUAL, ST_DEMO, ST_PROP, ST_NEG, ST_WON, ST_LOST };
enum { CH_WECOM = 1, CH_EMAIL, CH_CALL, CH_MEETING, CH_NOTE, CH_TRACKING, CH_ACTIVITY, CH_CRM };
enum { DIR_IN = 1, DIR_OUT, DIR_INT };
enum { AK_VISIT = 1, AK_NEEDS, AK_PROPOSAL, AK_EXEC, AK_DEMO, AK_TOUCH };
enum { TK_OPEN = 1, TK_CLICK, TK_DOWNLOAD, TK_VISIT };
enum { PG_PRODUCT = 1, PG_COMPETITOR, PG_PRICING, PG_OTHER };
enum { PR_REP, PR_SUP, PR_DIR, PR_ADMIN, PR_AS, PR_COMP };

extern const char *const SIM_STAGE_NAMES[]; /* "", "lead", ... "lost" */
extern const char *const SIM_ROLE_NAMES[]; /* person roles */
extern const char *const SIM_IND_NAMES[]; /* k12, bureau, manufacturing, healthcare */

typedef struct sim_person {
    char id[24];
    char name[16];
    char py[32];
    int role, team, region, mentor; /* indexes, -1 = none */
    int senior;
    char wecom[40];
    char email[64];
} sim_person;

typedef struct sim_team {
    char id[12];
    char name[40];
    int region, supervisor, k12;
    int reps[12];
    int nreps;
    int ncust;
} sim_team;

typedef struct sim_region {
    char id[12];
    const char *name;
    int director;
} sim_region;

#define SIM_MAX_CONTACTS 6
typedef struct sim_contact {
    char id[32];
    char name[16];
    char addr[24]; /* how a rep addresses them: 王校长, 李工 */
    const char *title;
    int role; /* RB_* or 0 */
    char wecom[24];
    char email[112];
    char phone[20];
} sim_contact;

typedef struct sim_customer {
    char id[16];
    char name[96];
    int ind, cls, team, rep, city;
    char domain[48];
    int64_t created, seed_last;
    sim_contact ct[SIM_MAX_CONTACTS];
    int nct;
    int64_t busy_until;
    int64_t reserved_from, reserved_to; /* kept for a planted situation */
} sim_customer;

typedef struct sim_hop {
    int from, to;
    int64_t at;
} sim_hop;

enum { DF_SCRIPTED = 1, DF_DELAYED = 2 };
typedef struct sim_deal {
    char id[16];
    int cust, rep;
    char name[128];
    const char *prod[2];
    int nprod;
    int64_t amount;
    int64_t created;
    sim_hop h[8];
    int nh;
    int flags;
    int64_t delay; /* DF_DELAYED: first response after creation */
    int64_t seed_status; /* last_status_update_at seeded for deals open at start */
    char plant; /* 'c', 'd', ... for scripted deals */
} sim_deal;

/* one line of events.ndjson with what the passes need to know */
typedef struct sim_ev {
    int64_t t;
    uint32_t seq;
    int cust, deal, rep;
    uint8_t ch, dir, ak, page, roles, forced;
    int16_t ct; /* contact index, -1 none */
    char *line;
} sim_ev;

enum { BLK_CUST = 1, BLK_REPKEY, BLK_NOUPD };
typedef struct sim_block {
    int kind, id;
    int64_t t0, t1;
} sim_block;

typedef struct sim_truth {
    char situation[48];
    const char *kind, *subject_type;
    char subject_id[24];
    char assignee_id[24];
    const char *assignee_role;
    const char *level;
    int64_t first_detectable;
    char note[200];
} sim_truth;

typedef struct sim_world {
    sim_opts o;
    int64_t start, end;
    sim_region regions[3];
    sim_team teams[6];
    sim_person *people;
    int npeople;
    int as_lead, comp_lead, admin;
    int as_members[4], nas, comp_members[4], ncomp;
    sim_customer *cust;
    int ncust;
    sim_deal *deals;
    int ndeals, capdeals;
    sim_ev *ev;
    size_t nev, capev;
    uint32_t seq;
    sim_block *blocks; /* silences of the plants (growable) */
    int nblocks, capblocks;
    unsigned char *cust_blocked; /* 1 when a customer has a BLK_CUST block */
    struct {
        int person;
        int64_t t0, t1;
        const char *reason;
    } absences[8];
    int nabsences;
    sim_truth truth[32];
    int ntruth;
    char absent_note[6][200]; /* situations not planted and why */
    int nabsent;
    /* plant bookkeeping */
    int k12_team, fv_region;
    int64_t fv_week0; /* local Monday of the first planted week, -1 none */
    int64_t funnel_from; /* collapse applies to K12 stage entries after this */
    int e_cust; /* (e) */
    int64_t due_override; /* next_step_due of activities when set */
    int err_oom;
} sim_world;

int sim_world_new(const sim_opts *o, sim_world **out);
void sim_world_destroy(sim_world *w);

/* spctl_sim_world.c: org, customers, deal lifecycles (stage history) */
int sim_build_org(sim_world *w);
int sim_build_customers(sim_world *w);
int sim_build_deals(sim_world *w);
int sim_deal_stage_at(const sim_deal *d, int64_t t); /* ST_NONE before creation */
int64_t sim_deal_closed_at(const sim_deal *d); /* INT64_MAX while open */
sim_deal *sim_deal_add(sim_world *w);
int sim_deal_customer_free(const sim_world *w, int cust, int64_t t0, int64_t t1);
void sim_deal_describe(sim_world *w, sim_deal *d, sim_rng *r);

/* spctl_sim_events.c: events, invariant passes */
sim_ev *sim_ev_push(
    sim_world *w, int64_t t, int cust, int deal, int rep, int ch, int dir, char *line, int forced);
int sim_blocked(const sim_world *w, int64_t t, int cust, int deal, int rep, int ch);
int sim_block_add(sim_world *w, int kind, int id, int64_t t0, int64_t t1);
int sim_gen_events(sim_world *w);
int sim_passes(sim_world *w);
void sim_sort_events(sim_world *w);

/* event builders (spctl_sim_emit.c); return the event or NULL when blocked */
typedef struct sim_turn {
    int customer; /* 1 customer, 0 rep */
    const char *text;
} sim_turn;
sim_ev *sim_emit_wecom(
    sim_world *w, int64_t t, int c, int ct, int deal, int dir, const char *text, int forced);
sim_ev *sim_emit_note(sim_world *w, int64_t t, int c, int deal, const char *text, int forced);
sim_ev *sim_emit_activity(sim_world *w, int64_t t, int c, int deal, int rep, int kind, int roles,
    int first_visit, int revision, const char *text, int forced);
sim_ev *sim_emit_stage(sim_world *w, int64_t t, int deal, int from, int to);
sim_ev *sim_emit_tracking(sim_world *w, int64_t t, int c, int ct, int deal, int kind, int page,
    const char *product, const char *competitor, int forced);
sim_ev *sim_emit_meeting(
    sim_world *w, int64_t t, int c, int deal, int roles, const char *title, const char *text, int forced);
sim_ev *sim_emit_call(
    sim_world *w, int64_t t, int c, int ct, int deal, const sim_turn *turns, int n, int forced);
enum { EM_GBK = 1, EM_ATTACH = 2, EM_QUOTE = 4, EM_PLAIN8 = 8 };
sim_ev *sim_emit_email(sim_world *w, int64_t t, int c, int ct, int deal, int dir, const char *subject,
    const char *body, int flags, int forced);

/* spctl_sim_text.c: phrasebook */
typedef struct sim_tctx {
    const char *P; /* product alias */
    const char *A; /* contact address */
    const char *R; /* rep name */
    const char *O; /* org word: 学校 / 厂里 / 医院 */
    const char *S; /* scenario */
    const char *U; /* unit */
    const char *D; /* day phrase */
    const char *T; /* time phrase */
    const char *C; /* customer name */
    int N;
} sim_tctx;
enum {
    TX_INQUIRY,
    TX_FIRST_REPLY,
    TX_FIRST_REPLY_LATE,
    TX_VISIT,
    TX_FIRST_VISIT,
    TX_COMMIT,
    TX_COMMIT_ACK,
    TX_NEEDS,
    TX_DEMO_REQ,
    TX_DEMO_ACK,
    TX_DEMO,
    TX_PROPOSAL,
    TX_CUST_Q,
    TX_REP_A,
    TX_REP_PUSH,
    TX_CUST_ACK,
    TX_TOUCH,
    TX_NOTE,
    TX_CARE,
    TX_CARE_REPLY,
    TX_FOLLOWUP,
    TX_REPLY,
    TX_EXEC,
    TX_SIGN,
    TX_SIGN_ACK,
    TX_MEETING,
    TX_LOST_NOTE,
    TX_WAKEUP,
    TX_COUNT
};
void sim_text(sim_rng *r, int kind, const sim_tctx *c, char *out, size_t cap);
void sim_tctx_fill(const sim_world *w, sim_rng *r, int cust, int ct, int deal, int64_t when, sim_tctx *c,
    char *dbuf, size_t dcap);
const char *sim_alias(sim_rng *r, const char *product_id);
const char *sim_product_for(sim_rng *r, int ind);
void sim_tpl(const char *tpl, const sim_tctx *c, char *out, size_t cap);
extern const char *const SIM_COMPETITOR_ALIASES[];
extern const char *const SIM_RISK_WORDS[];

/* spctl_sim_plant.c */
int sim_plant_reserve(sim_world *w); /* before sim_build_deals */
int sim_plant_events(sim_world *w); /* after natural events, before passes */
int sim_plant_truth(sim_world *w); /* after passes */

/* spctl_sim_out.c */
int sim_write_all(sim_world *w, const char *dir, char *err, size_t errlen);

/* funnel metrics used for (a) and by the test: entered/converted for the
 * transition from->to of team over [t-window, t) (cohort definition). */
void sim_funnel(
    const sim_world *w, int team, int from, int to, int64_t t, int64_t window, int *entered, int *converted);

#endif
