/* api_stats.c - board and funnel arithmetic. */
#include "taskpool/api_stats.h"

#include <string.h>

static const char *const stages[API_NSTAGES]
    = {"lead", "qualified", "demo", "proposal", "negotiation", "won"};

int api_stage_index(const char *stage)
{
    for (int i = 0; stage && i < API_NSTAGES; i++)
        if (strcmp(stage, stages[i]) == 0) return i;
    return -1;
}

const char *api_stage_name(int i)
{
    return i >= 0 && i < API_NSTAGES ? stages[i] : "";
}

int api_days_bucket(int64_t days)
{
    if (days <= 7) return 0;
    if (days <= 14) return 1;
    if (days <= 30) return 2;
    if (days <= 60) return 3;
    return 4;
}

const char *api_days_bucket_label(int b)
{
    static const char *const l[API_NBUCKETS] = {"0-7", "8-14", "15-30", "31-60", ">60"};
    return b >= 0 && b < API_NBUCKETS ? l[b] : "";
}

int api_rate(long num, long den, double *out)
{
    if (den <= 0) return 0;
    *out = (double)num / (double)den;
    return 1;
}

void api_funnel_rates(const api_funnel_month *m, double rate[API_NSTAGES - 1], int has[API_NSTAGES - 1])
{
    long cum[API_NSTAGES];
    long run = 0;
    for (int i = API_NSTAGES - 1; i >= 0; i--) {
        run = m->entered[i] > run ? m->entered[i] : run;
        cum[i] = run;
    }
    for (int i = 0; i < API_NSTAGES - 1; i++) {
        rate[i] = 0;
        has[i] = api_rate(cum[i + 1], cum[i], &rate[i]);
    }
}

void api_board_rates_of(const api_board_counts *c, api_board_rates *out)
{
    memset(out, 0, sizeof *out);
    out->has_completion = api_rate(c->deals_with_action, c->open_deals, &out->completion);
    out->has_quality = api_rate(c->passed, c->assessed, &out->quality);
}
