/* event_lock.h - one sp-score applies events in event time.
 *
 * With the event clock an instance orders the events of its own partitions
 * only: two instances of one group could each sweep a boundary the other
 * has not applied every event before (docs/ARCHITECTURE.md, sp-score,
 * "Several instances in event time"). So an event-clock instance first
 * takes a PostgreSQL session advisory lock; the others stand by - outside
 * the consumer group, /healthz answering, /readyz 503 - and the first to
 * get the lock takes over when its holder stops or dies (its session
 * ends). With the wall clock no lock is taken: instances share the
 * partitions (sweeps take their own transaction lock). */
#ifndef SCORE_EVENT_LOCK_H
#define SCORE_EVENT_LOCK_H

#include "err.h"

#include <signal.h>

typedef struct score_event_lock score_event_lock;

/* Waits until the lock is held, trying every second, or until *stop is
 * set (then SP_ECLOSED, *out NULL). While waiting, http_addr (may be NULL)
 * serves /healthz, /readyz (503) and /metrics with sp_score_standby 1.
 * Caller frees with score_event_lock_destroy, which releases the lock.
 * SP_ENOMEM; SP_ECONFIG when http_addr cannot be listened on. */
sp_err score_event_lock_take(
    const char *pg_url, const char *http_addr, volatile sig_atomic_t *stop, score_event_lock **out);

/* Whether this instance may still apply events: 1 while its session holds
 * the lock, or while PostgreSQL cannot be reached (nobody can write then);
 * after a lost session (PostgreSQL restarted) it reconnects and takes the
 * lock again if it is free; 0 when another instance took it meanwhile
 * (this one must stop). */
int score_event_lock_held(score_event_lock *l);

/* Releases the lock (closes the session); accepts NULL. */
void score_event_lock_destroy(score_event_lock *l);

#endif
