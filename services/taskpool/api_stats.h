/* api_stats.h - the arithmetic of the board and the funnel (pure): stage
 * order, days-in-stage buckets, rates that are null when nothing was
 * counted. The handlers count in SQL and decide here. */
#ifndef SP_TASKPOOL_API_STATS_H
#define SP_TASKPOOL_API_STATS_H

#include <stdint.h>

/* The pipeline in order; "won" closes it, "lost" is outside the chain. */
#define API_NSTAGES  6 /* lead, qualified, demo, proposal, negotiation, won */
#define API_NBUCKETS 5 /* days in stage: 0-7, 8-14, 15-30, 31-60, >60 */

/* Index of a stage in the pipeline (0..API_NSTAGES-1), or -1 (lost, unknown). */
int api_stage_index(const char *stage);
const char *api_stage_name(int i);

/* Bucket of a days-in-stage count (negative counts as 0). */
int api_days_bucket(int64_t days);
const char *api_days_bucket_label(int b);

/* num / den: 1 and *out set when den > 0, 0 when there is nothing to rate
 * (the API answers null). */
int api_rate(long num, long den, double *out);

/* Stage entries of one month: entered[i] = deals that reached stage i. */
typedef struct api_funnel_month {
    char month[8]; /* "2026-11" */
    long entered[API_NSTAGES];
} api_funnel_month;

/* Conversion from stage i to i+1 for i in 0..API_NSTAGES-2: has[i] is 0
 * when no deal entered stage i. A deal that skipped a stage still counts as
 * having passed it: entered is made cumulative from the end first (a deal
 * that reached demo also "reached" qualified), so a rate never exceeds 1. */
void api_funnel_rates(const api_funnel_month *m, double rate[API_NSTAGES - 1], int has[API_NSTAGES - 1]);

/* One rep's week. */
typedef struct api_board_counts {
    long open_deals; /* open deals the rep owns */
    long deals_with_action; /* of those, with a substantive activity in the window */
    long assessed; /* activities with a quality verdict */
    long passed; /* of those, passed */
} api_board_counts;

typedef struct api_board_rates {
    int has_completion, has_quality;
    double completion, quality;
} api_board_rates;

void api_board_rates_of(const api_board_counts *c, api_board_rates *out);

#endif
