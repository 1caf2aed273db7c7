/* procstat.h - a process's CPU time and memory from /proc, for the
 * benchmarks' figures (tests/bench). */
#ifndef SP_PROCSTAT_H
#define SP_PROCSTAT_H

/* CPU seconds (user + system) process pid has used so far; 0 when it is
 * gone or unreadable (a sum over processes then counts it as nothing). */
double procstat_cpu_s(long pid);

/* Process pid's peak (VmHWM) and current (VmRSS) resident memory in MB;
 * either out-parameter may be NULL; both 0 when it is gone. */
void procstat_mem_mb(long pid, double *hwm, double *rss);

#endif
