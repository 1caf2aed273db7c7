/* spctl_sim_util.c - the simulator's PRNG (splitmix64), local time and the
 * working-day calendar. */
#include "spctl/spctl_sim.h"

#include "err.h"

#include "civil.h"

#include <stdio.h>
#include <string.h>

uint64_t sim_rng_next(sim_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double sim_rng_u(sim_rng *r)
{
    return (double)(sim_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

int sim_rng_int(sim_rng *r, int n)
{
    return n <= 1 ? 0 : (int)(sim_rng_next(r) % (uint64_t)n);
}

double sim_rng_range(sim_rng *r, double a, double b)
{
    return a + (b - a) * sim_rng_u(r);
}

/* An independent stream per (seed, a, b): entities get their own streams so
 * a change in one place does not shift every other draw. */
sim_rng sim_rng_sub(uint64_t seed, uint64_t a, uint64_t b)
{
    sim_rng r = {seed ^ (a * 0xd1b54a32d192ed03ULL) ^ (b * 0x8cb92ba72f3d8dd7ULL)};
    sim_rng_next(&r);
    r.s ^= sim_rng_next(&r);
    return r;
}

/* days <-> civil date (Howard Hinnant's algorithms) */
static int64_t days_from_civil(int y, int m, int d)
{
    return sp_days_from_civil(y, m, d);
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    sp_civil_from_days(z, y, m, d);
}

int sim_date_parse(const char *s, int64_t *out_ms)
{
    int y, m, d;
    char tail;
    if (s == NULL || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 2000 || y > 2100 || m < 1
        || m > 12 || d < 1 || d > 31)
        return SP_EINVAL;
    *out_ms = days_from_civil(y, m, d) * SIM_DAY - SIM_TZ;
    return SP_OK;
}

int64_t sim_local_day(int64_t t)
{
    int64_t x = t + SIM_TZ;
    return x >= 0 ? x / SIM_DAY : (x - SIM_DAY + 1) / SIM_DAY;
}

int sim_weekday(int64_t t)
{
    int64_t d = sim_local_day(t);
    return (int)(((d + 3) % 7 + 7) % 7) + 1; /* 1970-01-01 was a Thursday */
}

/* State Council notices 2025-2026 (2027 provisional), as in the tenant
 * calendar: holidays and the weekend days that are working days. */
static const char *const HOLIDAYS[][2] = {
    {"2025-01-01", "2025-01-01"},
    {"2025-01-28", "2025-02-04"},
    {"2025-04-04", "2025-04-06"},
    {"2025-05-01", "2025-05-05"},
    {"2025-05-31", "2025-06-02"},
    {"2025-10-01", "2025-10-08"},
    {"2026-01-01", "2026-01-03"},
    {"2026-02-15", "2026-02-23"},
    {"2026-04-04", "2026-04-06"},
    {"2026-05-01", "2026-05-05"},
    {"2026-06-19", "2026-06-21"},
    {"2026-09-25", "2026-09-27"},
    {"2026-10-01", "2026-10-07"},
    {"2027-01-01", "2027-01-03"},
    {"2027-02-05", "2027-02-12"},
    {"2027-04-03", "2027-04-05"},
    {"2027-05-01", "2027-05-05"},
    {"2027-06-09", "2027-06-09"},
    {"2027-09-15", "2027-09-15"},
    {"2027-10-01", "2027-10-07"},
};
static const char *const WORKDAYS[] = {"2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11",
    "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10", "2027-01-31",
    "2027-02-20", "2027-05-08", "2027-09-26", "2027-10-09"};

static int64_t day_of(const char *s)
{
    int64_t ms = 0;
    sim_date_parse(s, &ms);
    return sim_local_day(ms);
}

int sim_is_working_day(int64_t day)
{
    for (size_t i = 0; i < sizeof WORKDAYS / sizeof *WORKDAYS; i++)
        if (day_of(WORKDAYS[i]) == day) return 1;
    for (size_t i = 0; i < sizeof HOLIDAYS / sizeof *HOLIDAYS; i++)
        if (day >= day_of(HOLIDAYS[i][0]) && day <= day_of(HOLIDAYS[i][1])) return 0;
    int wd = (int)(((day + 3) % 7 + 7) % 7) + 1;
    return wd <= 5;
}

void sim_fmt_iso(int64_t t, char *buf, size_t cap)
{
    int64_t x = t + SIM_TZ;
    int64_t day = sim_local_day(t);
    int64_t ms = x - day * SIM_DAY;
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", y, m, d, (int)(ms / SIM_HOUR),
        (int)(ms / SIM_MIN % 60), (int)(ms / 1000 % 60));
}

void sim_fmt_date(int64_t t, char *buf, size_t cap)
{
    int y, m, d;
    civil_from_days(sim_local_day(t), &y, &m, &d);
    snprintf(buf, cap, "%04d-%02d-%02d", y, m, d);
}

void sim_fmt_rfc2822(int64_t t, char *buf, size_t cap)
{
    static const char *const WD[] = {"", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char *const MON[]
        = {"", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t day = sim_local_day(t);
    int64_t ms = t + SIM_TZ - day * SIM_DAY;
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(buf, cap, "%s, %02d %s %04d %02d:%02d:%02d +0800", WD[sim_weekday(t)], d, MON[m], y,
        (int)(ms / SIM_HOUR), (int)(ms / SIM_MIN % 60), (int)(ms / 1000 % 60));
}

int64_t sim_work_time(int64_t t)
{
    int64_t day = sim_local_day(t);
    int64_t tod = t + SIM_TZ - day * SIM_DAY;
    if (tod < 8 * SIM_HOUR + 30 * SIM_MIN) return t + (8 * SIM_HOUR + 30 * SIM_MIN - tod);
    if (tod > 19 * SIM_HOUR)
        return (day + 1) * SIM_DAY - SIM_TZ + 8 * SIM_HOUR + 30 * SIM_MIN + (tod - 19 * SIM_HOUR) / 8;
    return t;
}
