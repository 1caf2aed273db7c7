/* sp-route and sp-taskpool as processes against the real broker and
 * database: signals injected on sp.signals.v1 for a seeded org land as tasks
 * with the expected assignee and reason; a supervisor on leave sends the
 * task to the director; an unacknowledged L3 escalates after 2 h of event
 * time; replaying the same signals creates no duplicate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "bus.h"
#include "clock.h"
#include "err.h"
#include "itest.h"
#include "salespulse/v1/signal.pb-c.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Event time starts at the wall clock of the run, so messages left on the
 * shared topics by an earlier run are all older and cannot move this run's
 * watermark. */
static int64_t T0;
#define HOUR 3600000LL

/* Every id of this run carries a run prefix ("it-" -> "i<pid>-"), so old
 * messages on the shared topics from an earlier run never match. */
static char run_prefix[32];
static char *px(const char *in)
{
    size_t n = strlen(in), cap = n * 2 + 64;
    char *out = malloc(cap), *o = out;
    for (const char *p = in; *p;) {
        if (strncmp(p, "it-", 3) == 0) {
            o += sprintf(o, "%s", run_prefix);
            p += 3;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

static int sqlp(const char *sql)
{
    char *s = px(sql);
    int rv = itest_sql(s);
    free(s);
    return rv;
}

static long long intp(const char *sql)
{
    char *s = px(sql);
    long long v = itest_sql_int(s);
    free(s);
    return v;
}

static pid_t children[4];
static int nchildren;

/* A failing assertion leaves the test early: never leave services behind. */
static void kill_children(void)
{
    for (int i = 0; i < nchildren; i++)
        if (children[i] > 0) kill(children[i], SIGKILL);
}

static pid_t spawn(const char *bin, const char *group)
{
    if (nchildren == 0) atexit(kill_children);
    pid_t pid = fork();
    if (pid > 0) children[nchildren++] = pid;
    if (pid == 0) {
        char path[1024];
        snprintf(path, sizeof path, "%s/build/bin/%s", itest_env("SP_ROOT"), bin);
        setenv("SP_GROUP_ID", group, 1);
        setenv("SP_CLOCK", "event", 1);
        setenv("SP_IDLE_GRACE", "300ms", 1);
        setenv("SP_SLA_SWEEP", "10m", 1);
        setenv("SP_HTTP_ADDR", "http://127.0.0.1:0", 1);
        setenv("SP_LOG_LEVEL", "warn", 1);
        setenv("SP_ORG_RELOAD", "1s", 1);
        execl(path, path, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void stop(pid_t pid)
{
    int status;
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    for (int i = 0; i < nchildren; i++)
        if (children[i] == pid) children[i] = 0;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* The revision of the next signals sent (1: raised, > 1: updated). */
static int revision = 1;

/* Publishes one signal and waits for the broker. */
static void send_signal(bus_producer *p, const char *kind, int subject_type, const char *subject, int level,
    int64_t at_ms, const char *rep, const char *deal)
{
    char *subject_p = px(subject), *rep_p = px(rep), *deal_p = px(deal ? deal : "");
    subject = subject_p;
    rep = rep_p;
    deal = deal_p;
    Salespulse__V1__Signal s = SALESPULSE__V1__SIGNAL__INIT;
    Salespulse__V1__EventMeta m = SALESPULSE__V1__EVENT_META__INIT;
    Salespulse__V1__Subject sub = SALESPULSE__V1__SUBJECT__INIT;
    char sid[256], eid[300];
    const char *types[] = {"", "deal", "customer", "rep", "team", "region"};
    snprintf(sid, sizeof sid, "sig:%s:%s:%s:1", kind, types[subject_type], subject);
    snprintf(eid, sizeof eid, "%s:%s:%d", sid, revision > 1 ? "updated" : "raised", revision);
    m.event_id = eid;
    m.occurred_at_ms = at_ms;
    m.produced_at_ms = at_ms;
    m.producer = "itest";
    m.schema_version = 1;
    sub.type = (Salespulse__V1__SubjectType)subject_type;
    sub.id = (char *)subject;
    s.meta = &m;
    s.signal_id = sid;
    s.kind = (char *)kind;
    s.transition = revision > 1 ? SALESPULSE__V1__TRANSITION__TRANSITION_UPDATED
                                : SALESPULSE__V1__TRANSITION__TRANSITION_RAISED;
    s.level = (Salespulse__V1__Level)level;
    s.subject = &sub;
    s.owner_rep_id = (char *)rep;
    char *team = px("it-t1"), *region = px("it-r1");
    s.team_id = team;
    s.region_id = region;
    s.deal_id = (char *)(deal ? deal : "");
    s.episode = 1;
    s.explanation_zh = "测试信号";
    s.explanation_en = "test signal";
    size_t n = salespulse__v1__signal__get_packed_size(&s);
    uint8_t *buf = malloc(n);
    salespulse__v1__signal__pack(&s, buf);
    bus_group *g = NULL;
    char err[256];
    assert_int_equal(bus_group_new(&g), SP_OK);
    assert_int_equal(bus_group_send(g, p, SP_TOPIC_SIGNALS, subject, strlen(subject), buf, n), SP_OK);
    assert_int_equal(bus_group_wait(g, 10000, err, sizeof err), SP_OK);
    bus_group_release(g);
    free(buf);
    free(subject_p);
    free(rep_p);
    free(deal_p);
    free(team);
    free(region);
}

__attribute__((format(printf, 1, 2))) static long long q(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char sql[1024];
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return intp(sql);
}

/* Waits until the query yields want (or 30 s). */
static long long wait_for(const char *sql, long long want)
{
    long long v = -1;
    for (int i = 0; i < 300; i++) {
        v = intp(sql);
        if (v == want) break;
        usleep(100000);
    }
    return v;
}

static void test_route_and_escalate(void **state)
{
    (void)state;
    snprintf(run_prefix, sizeof run_prefix, "i%d-", (int)getpid());
    T0 = sp_wall_ms() / 1000 * 1000;
    assert_int_equal(
        sqlp(/* a rerun on the same database starts clean */
            "DELETE FROM task_history WHERE task_key LIKE 'task:%:it-%';"
            "DELETE FROM tasks WHERE key LIKE 'task:%:it-%';"
            "DELETE FROM routing_decisions WHERE task_key LIKE 'task:%:it-%';"
            "DELETE FROM named_team_members WHERE team_id IN ('after_sales', 'competition_response');"
            "DELETE FROM named_teams WHERE id IN ('after_sales', 'competition_response');"
            "DELETE FROM absences WHERE person_id LIKE 'it-%';"
            "UPDATE teams SET supervisor_id = NULL WHERE id LIKE 'it-%';"
            "UPDATE regions SET director_id = NULL WHERE id LIKE 'it-%';"
            "DELETE FROM people WHERE id LIKE 'it-%';"
            "DELETE FROM teams WHERE id LIKE 'it-%';"
            "DELETE FROM regions WHERE id LIKE 'it-%';"),
        0);
    assert_int_equal(sqlp("INSERT INTO regions VALUES ('it-r1', '华东', NULL);"
                          "INSERT INTO teams VALUES ('it-t1', 'K12 一组', 'it-r1', NULL);"
                          "INSERT INTO people (id, name, role, team_id, region_id, mentor_id) VALUES "
                          " ('it-d1', '王芳', 'director', NULL, 'it-r1', NULL),"
                          " ('it-s1', '李明', 'supervisor', 'it-t1', 'it-r1', NULL),"
                          " ('it-m1', '赵老师', 'rep', 'it-t1', 'it-r1', NULL),"
                          " ('it-rep1', '陈晨', 'rep', 'it-t1', 'it-r1', 'it-m1'),"
                          " ('it-as1', '孙工', 'after_sales', NULL, 'it-r1', NULL),"
                          " ('it-c1', '周强', 'competition', NULL, 'it-r1', NULL);"
                          "UPDATE regions SET director_id = 'it-d1' WHERE id = 'it-r1';"
                          "UPDATE teams SET supervisor_id = 'it-s1' WHERE id = 'it-t1';"
                          "INSERT INTO named_teams VALUES ('after_sales', '售后', 'it-as1'), "
                          "('competition_response', '竞争应对', 'it-c1');"
                          "INSERT INTO named_team_members VALUES ('after_sales', 'it-as1'), "
                          "('competition_response', 'it-c1');"
                          "INSERT INTO absences (person_id, starts_at, ends_at, reason) VALUES "
                          " ('it-s1', now() - interval '1 day', now() + interval '7 days', 'trip');"),
        0);
    char *g1 = itest_unique("it-route"), *g2 = itest_unique("it-taskpool");
    pid_t route = spawn("sp-route", g1), pool = spawn("sp-taskpool", g2);
    bus_producer *p = NULL;
    char err[256];
    assert_int_equal(bus_producer_new(itest_env("SP_KAFKA_BOOTSTRAP"), "itest", &p, err, sizeof err), SP_OK);

    send_signal(p, "rep.status_not_updated", 3, "it-rep1", 2, T0, "it-rep1", NULL);
    send_signal(p, "customer.stale", 2, "it-C1", 1, T0 + 1000, "it-rep1", NULL);
    send_signal(p, "deal.competitor_surge", 1, "it-D1", 3, T0 + 2000, "it-rep1", "it-D1");

    assert_int_equal(wait_for("SELECT count(*) FROM tasks WHERE key LIKE 'task:%:it-%'", 3), 3);
    /* the supervisor is away: the director gets it, and the reason says why */
    assert_int_equal(q("SELECT count(*) FROM tasks WHERE key = 'task:rep.status_not_updated:rep:%s:1' AND "
                       "assignee_id = 'it-d1' AND route_reason_zh LIKE '%%李明%%出差 → 总监王芳%%' AND "
                       "route_reason_en LIKE '%%away%%director%%'",
                         "it-rep1"),
        1);
    assert_int_equal(q("SELECT count(*) FROM tasks WHERE key = 'task:customer.stale:customer:%s:1' AND "
                       "assignee_id = 'it-rep1' AND level = 1 AND status = 'open'",
                         "it-C1"),
        1);
    assert_int_equal(q("SELECT count(*) FROM tasks WHERE key = 'task:deal.competitor_surge:deal:%s:1' AND "
                       "assignee_id = 'it-c1' AND level = 3 AND escalation_level = 0",
                         "it-D1"),
        1);

    /* 3 h of event time pass on every partition in use (the event clock
     * waits for a silent partition): the unacknowledged L3 escalates once */
    revision = 2;
    send_signal(p, "rep.status_not_updated", 3, "it-rep1", 2, T0 + 3 * HOUR, "it-rep1", NULL);
    send_signal(p, "customer.stale", 2, "it-C1", 1, T0 + 3 * HOUR, "it-rep1", NULL);
    send_signal(p, "deal.competitor_surge", 1, "it-D1", 3, T0 + 3 * HOUR, "it-rep1", "it-D1");
    revision = 1;
    send_signal(p, "customer.stale", 2, "it-C2", 1, T0 + 3 * HOUR, "it-rep1", NULL);
    assert_int_equal(
        wait_for("SELECT count(*) FROM tasks WHERE key = 'task:deal.competitor_surge:deal:it-D1:1' AND "
                 "escalation_level = 1",
            1),
        1);
    assert_int_equal(intp("SELECT count(*) FROM task_history WHERE task_key = "
                          "'task:deal.competitor_surge:deal:it-D1:1' AND action = 'escalate'"),
        1);
    assert_int_equal(intp("SELECT count(*) FROM tasks WHERE key = 'task:customer.stale:customer:it-C1:1' "
                          "AND escalation_level = 0"),
        1); /* L1: 24 h not yet over */

    /* replaying the same signals changes nothing */
    long long decisions = intp("SELECT count(*) FROM routing_decisions WHERE task_key LIKE 'task:%:it-%'");
    send_signal(p, "rep.status_not_updated", 3, "it-rep1", 2, T0, "it-rep1", NULL);
    send_signal(p, "customer.stale", 2, "it-C1", 1, T0 + 1000, "it-rep1", NULL);
    send_signal(p, "deal.competitor_surge", 1, "it-D1", 3, T0 + 2000, "it-rep1", "it-D1");
    sleep(2);
    assert_int_equal(intp("SELECT count(*) FROM tasks WHERE key LIKE 'task:%:it-%'"), 4);
    assert_int_equal(
        intp("SELECT count(*) FROM routing_decisions WHERE task_key LIKE 'task:%:it-%'"), decisions);

    /* a Signal with a heartbeat's shape (no kind, no subject, a promise)
     * but not its "wm:" id is a dead letter with its reason, not a
     * watermark (sp-score's heartbeats carry "wm:<producer>:<ms>") */
    {
        Salespulse__V1__Signal hb = SALESPULSE__V1__SIGNAL__INIT;
        Salespulse__V1__EventMeta m = SALESPULSE__V1__EVENT_META__INIT;
        char eid[64];
        snprintf(eid, sizeof eid, "%snot-a-heartbeat", run_prefix);
        m.event_id = eid;
        m.occurred_at_ms = T0 + 3 * HOUR;
        hb.meta = &m;
        hb.upstream_watermark_ms = T0 + 240 * HOUR;
        size_t n = salespulse__v1__signal__get_packed_size(&hb);
        uint8_t *buf = malloc(n ? n : 1);
        salespulse__v1__signal__pack(&hb, buf);
        bus_group *g = NULL;
        assert_int_equal(bus_group_new(&g), SP_OK);
        assert_int_equal(bus_group_send(g, p, SP_TOPIC_SIGNALS, eid, strlen(eid), buf, n), SP_OK);
        assert_int_equal(bus_group_wait(g, 10000, err, sizeof err), SP_OK);
        bus_group_release(g);
        free(buf);
        /* the dead-letter topic holds the message and the reason (binary:
         * newlines and NULs dropped before matching) */
        assert_int_equal(
            itest_sh("for i in $(seq 1 150); do d=$(kcat -b '%s' -C -t %s -e -q -o beginning "
                     "2>/dev/null | tr -d '\\n\\000'); case \"$d\" in *'%s'*) case \"$d\" in "
                     "*'invalid Signal: kind missing'*) exit 0;; esac;; esac; sleep 0.2; done; exit 1",
                itest_env("SP_KAFKA_BOOTSTRAP"), SP_TOPIC_DEADLETTER, eid),
            0);
    }
    bus_producer_destroy(p);
    stop(route);
    stop(pool);
    free(g1);
    free(g2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_and_escalate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
