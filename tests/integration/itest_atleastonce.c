/* At-least-once across a crash: a consumer process is killed with SIGKILL in
 * the middle of a batch; a restarted one handles every event the first had
 * not finished, and none it had committed is applied twice (the handler
 * writes to PostgreSQL with an idempotency key; the test counts rows). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "bus.h"
#include "db.h"
#include "err.h"
#include "itest.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define N 4000

static const char *self_path;

/* ---- the child: a consumer applying events into PostgreSQL ---- */

static volatile sig_atomic_t child_stop;

/* One transaction per batch: each event inserts its key (idempotency key);
 * only a first insert bumps the counter, so a redelivery changes nothing. A
 * sequence counts attempts outside the transaction to prove redelivery. */
static void child_handler(
    void *arg, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN])
{
    sp_db *db = arg;
    int rv = sp_db_begin(db);
    for (size_t i = 0; i < n && rv == SP_OK; i++) {
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)msgs[i].len, (const char *)msgs[i].payload);
        const char *p[1] = {key};
        PGresult *r = NULL;
        sp_db_exec(db, "SELECT nextval('itest_alo_attempts')", 0, NULL, NULL);
        rv = sp_db_exec(
            db, "INSERT INTO itest_alo_applied(k) VALUES ($1) ON CONFLICT DO NOTHING RETURNING 1", 1, p, &r);
        if (rv == SP_OK) {
            int fresh = PQntuples(r) == 1;
            PQclear(r);
            if (fresh) rv = sp_db_exec(db, "UPDATE itest_alo_counter SET n = n + 1", 0, NULL, NULL);
        }
        usleep(1000); /* make a batch take long enough to be cut by the kill */
    }
    if (rv == SP_OK) rv = sp_db_commit(db);
    if (rv != SP_OK) sp_db_rollback(db);
    for (size_t i = 0; i < n; i++)
        res[i] = rv == SP_OK ? BUS_OK : BUS_RETRY;
}

static int child_main(const char *topic, const char *group)
{
    sp_db *db = NULL;
    if (sp_db_open(itest_env("SP_PG_URL"), &db) != SP_OK) return 3;
    const char *topics[] = {topic, NULL};
    bus_consumer_opts o = {
        .bootstrap = itest_env("SP_KAFKA_BOOTSTRAP"),
        .group_id = group,
        .client_id = "itest-alo",
        .topics = topics,
        .service = "itest-alo",
        .max_batch = 200,
        .handler = child_handler,
        .arg = db,
    };
    char err[256];
    bus_consumer *c = NULL;
    if (bus_consumer_new(&o, &c, err, sizeof err) != SP_OK) {
        fprintf(stderr, "child: %s\n", err);
        return 4;
    }
    bus_install_stop_signals(&child_stop);
    int rv = bus_consumer_run(c, &child_stop);
    bus_consumer_destroy(c);
    sp_db_destroy(db);
    return rv == SP_OK ? 0 : 5;
}

/* ---- the test ---- */

static pid_t spawn(const char *topic, const char *group)
{
    pid_t pid = fork();
    if (pid == 0) {
        /* Static membership: the restarted member takes over the partitions
         * at once instead of waiting for the dead one's session to expire. */
        setenv("SP_RDKAFKA_GROUP_INSTANCE_ID", "itest-alo-member", 1);
        setenv("SP_LOG_LEVEL", "warn", 1);
        execl(self_path, self_path, "child", topic, group, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static long long applied(void)
{
    return itest_sql_int("SELECT count(*) FROM itest_alo_applied");
}

static void test_sigkill_mid_batch(void **state)
{
    (void)state;
    char *topic = itest_unique("itest-alo");
    char *group = itest_unique("itest-alo-group");
    const char *topics[] = {topic, NULL};
    assert_int_equal(itest_topics(topics, 2), 0);
    assert_int_equal(itest_sql("DROP TABLE IF EXISTS itest_alo_applied, itest_alo_counter;"
                               "DROP SEQUENCE IF EXISTS itest_alo_attempts;"
                               "CREATE TABLE itest_alo_applied(k text PRIMARY KEY);"
                               "CREATE TABLE itest_alo_counter(n bigint NOT NULL);"
                               "INSERT INTO itest_alo_counter VALUES (0);"
                               "CREATE SEQUENCE itest_alo_attempts;"),
        0);
    bus_producer *p = NULL;
    bus_group *g = NULL;
    char err[256];
    assert_int_equal(bus_producer_new(itest_env("SP_KAFKA_BOOTSTRAP"), "itest", &p, err, sizeof err), SP_OK);
    assert_int_equal(bus_group_new(&g), SP_OK);
    for (int i = 0; i < N; i++) {
        char key[16], val[32];
        snprintf(key, sizeof key, "c%d", i % 97);
        snprintf(val, sizeof val, "ev-%d", i);
        assert_int_equal(bus_group_send(g, p, topic, key, strlen(key), val, strlen(val)), SP_OK);
    }
    assert_int_equal(bus_group_wait(g, 30000, err, sizeof err), SP_OK);
    bus_group_release(g);
    bus_producer_destroy(p);

    pid_t first = spawn(topic, group);
    long long at_kill = 0;
    for (int i = 0; i < 600; i++) {
        at_kill = applied();
        if (at_kill >= N / 4) break;
        usleep(50000);
    }
    assert_true(at_kill >= N / 4);
    kill(first, SIGKILL);
    int status;
    waitpid(first, &status, 0);
    assert_true(WIFSIGNALED(status));
    at_kill = applied();
    printf("# killed the consumer with SIGKILL after %lld of %d events were committed\n", at_kill, N);
    assert_true(at_kill < N);

    pid_t second = spawn(topic, group);
    long long done = 0;
    for (int i = 0; i < 1200 && done < N; i++) {
        usleep(50000);
        done = applied();
    }
    kill(second, SIGTERM);
    waitpid(second, &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    long long attempts = itest_sql_int("SELECT last_value FROM itest_alo_attempts");
    long long counter = itest_sql_int("SELECT n FROM itest_alo_counter");
    printf("# after restart: %lld applied, counter %lld, %lld handler attempts (%lld redelivered)\n", done,
        counter, attempts, attempts - N);
    assert_int_equal(done, N); /* nothing lost */
    assert_int_equal(counter, N); /* nothing applied twice */
    assert_true(attempts > N); /* the killed batch really was redelivered */
    free(topic);
    free(group);
}

int main(int argc, char **argv)
{
    self_path = argv[0];
    if (argc == 4 && strcmp(argv[1], "child") == 0) return child_main(argv[2], argv[3]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_mid_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
