/* spctl summary: what the demo (or any run) produced — interactions,
 * signals, tasks by level and assignee role, each planted situation of a
 * simulator's truth.json detected or not and to whom it was routed — and a
 * demo API token per role. */
#include "db.h"
#include "err.h"
#include "spctl/spctl.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long long one_int(sp_db *db, const char *sql)
{
    PGresult *r = NULL;
    long long v = -1;
    if (sp_db_exec(db, sql, 0, NULL, &r) == SP_OK && PQntuples(r) == 1)
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

static void print_rows(sp_db *db, const char *title, const char *sql)
{
    PGresult *r = NULL;
    if (sp_db_exec(db, sql, 0, NULL, &r) != SP_OK) {
        printf("  %s: (unavailable: %s)\n", title, sp_db_errmsg(db));
        return;
    }
    printf("%s\n", title);
    for (int i = 0; i < PQntuples(r); i++) {
        printf("  ");
        for (int c = 0; c < PQnfields(r); c++)
            printf("%-28s", PQgetvalue(r, i, c));
        printf("\n");
    }
    if (PQntuples(r) == 0) printf("  (none)\n");
    PQclear(r);
}

/* Issues a token (label "demo") for the active person of role with the most
 * tasks still to act on (then the most tasks, then the first id): the list
 * GET /v1/me/tasks shows by default, so a demo token opens on work, not on
 * an empty list. Prints it once with those counts; prints nothing when the
 * role has nobody or the token cannot be stored. */
static void demo_token(sp_db *db, const char *role)
{
    const char *p[1] = {role};
    PGresult *r = NULL;
    if (sp_db_exec(db,
            "SELECT p.id, p.name, "
            "count(t.key) FILTER (WHERE t.status IN ('open', 'acknowledged', 'in_progress')), count(t.key) "
            "FROM people p LEFT JOIN tasks t ON t.assignee_id = p.id WHERE p.role = $1 AND p.active "
            "GROUP BY p.id, p.name ORDER BY 3 DESC, 4 DESC, p.id LIMIT 1",
            1, p, &r)
            != SP_OK
        || PQntuples(r) == 0) {
        PQclear(r);
        return;
    }
    char tok[48], hash[65], tasks[48];
    snprintf(tasks, sizeof tasks, "%s open of %s", PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3));
    if (spctl_token_issue(db, PQgetvalue(r, 0, 0), "demo", 30LL * 86400, tok, hash) == SP_OK)
        printf("  %-11s %-10s %-8s %-14s %s\n", role, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), tasks, tok);
    PQclear(r);
}

/* `summary [--truth FILE] [--api URL] [--tokens]` */
int spctl_summary(const struct spctl_cfg *cfg, int argc, char **argv)
{
    const char *truth_path = NULL, *api = "http://127.0.0.1:8085";
    int tokens = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--truth") == 0 && i + 1 < argc)
            truth_path = argv[++i];
        else if (strcmp(argv[i], "--api") == 0 && i + 1 < argc)
            api = argv[++i];
        else if (strcmp(argv[i], "--tokens") == 0)
            tokens = 1;
    }
    sp_db *db = NULL;
    if (sp_db_open(cfg->pg_url, &db) != SP_OK) {
        fprintf(stderr, "spctl summary: %s\n", sp_db_errmsg(db));
        sp_db_destroy(db);
        return 1;
    }
    printf("\n== SalesPulse run summary ==\n");
    printf("interactions processed: %lld (customers %lld, open deals %lld)\n",
        one_int(db, "SELECT count(*) FROM interactions"), one_int(db, "SELECT count(*) FROM customers"),
        one_int(db, "SELECT count(*) FROM deals WHERE is_open"));
    printf("signals routed: %lld (suppressed %lld, dead-lettered as unroutable: see sp.deadletter.v1)\n",
        one_int(db, "SELECT count(*) FROM routing_decisions WHERE op IN ('upsert','close')"),
        one_int(db, "SELECT count(*) FROM routing_decisions WHERE op = 'suppressed'"));
    print_rows(db, "signals by kind:",
        "SELECT kind, count(*) FILTER (WHERE op = 'upsert') || ' raised/updated', "
        "count(*) FILTER (WHERE op = 'close') || ' cleared' FROM routing_decisions GROUP BY kind ORDER BY "
        "kind");
    print_rows(db, "tasks by level and first assignee role:",
        "SELECT 'L' || t.level, r.assignee_role, count(DISTINCT t.key) || ' tasks' FROM tasks t "
        "JOIN LATERAL (SELECT assignee_role FROM routing_decisions d WHERE d.task_key = t.key AND d.op = "
        "'upsert' "
        "ORDER BY decided_at LIMIT 1) r ON true GROUP BY 1, 2 ORDER BY 1 DESC, 2");
    print_rows(db, "tasks by status:", "SELECT status, count(*) FROM tasks GROUP BY 1 ORDER BY 1");

    int detected = 0, total = 0;
    if (truth_path) {
        json_error_t jerr;
        json_t *truth = json_load_file(truth_path, 0, &jerr);
        json_t *sits = json_is_array(truth) ? truth : json_object_get(truth, "situations");
        printf("planted situations (%s):\n", truth_path);
        size_t i;
        json_t *s;
        json_array_foreach(sits, i, s)
        {
            const char *kind = json_string_value(json_object_get(s, "kind"));
            const char *st = json_string_value(json_object_get(s, "subject_type"));
            const char *sid = json_string_value(json_object_get(s, "subject_id"));
            const char *want = json_string_value(json_object_get(s, "assignee_id"));
            const char *name = json_string_value(json_object_get(s, "situation"));
            if (!kind || !st || !sid) continue;
            total++;
            char like[512];
            snprintf(like, sizeof like, "task:%s:%s:%s:%%", kind, st, sid);
            const char *p[2] = {like, want ? want : ""};
            PGresult *r = NULL;
            /* a row's person is the first assignee or, as routed, a watcher
             * (the other supervisors of a region, a named team's members) */
            int found
                = sp_db_exec(db,
                      "SELECT d.assignee_id, coalesce(p.name, ''), d.assignee_role, d.reason_en, "
                      "coalesce((SELECT $2 = ANY(t.watchers) FROM tasks t WHERE t.key = d.task_key), false) "
                      "FROM routing_decisions d LEFT JOIN people p ON p.id = d.assignee_id "
                      "WHERE d.task_key LIKE $1 AND d.op = 'upsert' ORDER BY d.decided_at LIMIT 1",
                      2, p, &r)
                    == SP_OK
                && PQntuples(r) == 1;
            int right
                = found && want && (strcmp(PQgetvalue(r, 0, 0), want) == 0 || PQgetvalue(r, 0, 4)[0] == 't');
            if (found && (right || want == NULL)) detected++;
            printf("  %-3s %-44s %-28s %s\n", found ? (right || !want ? "yes" : "yes*") : "NO",
                name ? name : kind, kind, found ? PQgetvalue(r, 0, 1) : "-");
            if (found && want && !right)
                printf("      * routed to %s (%s), expected %s\n", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 2),
                    want);
            PQclear(r);
        }
        printf("detected and routed as expected: %d of %d\n", detected, total);
        json_decref(truth);
    }
    printf("\nAPI: %s  (e.g. curl -H 'Authorization: Bearer <token>' %s/v1/me/tasks)\n", api, api);
    if (tokens) {
        printf("demo tokens (valid 30 days; only their SHA-256 is stored), each for the person of its\n"
               "role with the most open tasks (open, acknowledged or in progress: what /v1/me/tasks\n"
               "lists; ?status=all for every task):\n");
        demo_token(db, "rep");
        demo_token(db, "supervisor");
        demo_token(db, "director");
        demo_token(db, "admin");
    }
    sp_db_destroy(db);
    return truth_path && detected < total ? 3 : 0;
}

/* `check-tasks --truth FILE`: the routed tasks against truth.json's
 * expected_tasks. A task is (kind, subject) with its first assignee and its
 * watchers. Expected rows of one (kind, subject) name the people who must
 * hear of it: each must be the assignee or a watcher (missing otherwise); a
 * task whose (kind, subject) nobody expected, or whose first assignee is not
 * among the expected people, is unexpected. Exit 0 only with neither. */
int spctl_check_tasks(const struct spctl_cfg *cfg, int argc, char **argv)
{
    const char *truth_path = NULL, *skip = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--truth") == 0 && i + 1 < argc)
            truth_path = argv[++i];
        else if (strcmp(argv[i], "--skip-kind") == 0 && i + 1 < argc)
            skip = argv[++i];
    }
    if (truth_path == NULL) {
        fprintf(stderr, "usage: spctl check-tasks --truth FILE [--skip-kind PREFIX]\n");
        return 2;
    }
    json_error_t jerr;
    json_t *truth = json_load_file(truth_path, 0, &jerr), *want = json_object_get(truth, "expected_tasks");
    if (!json_is_array(want)) {
        fprintf(stderr, "spctl check-tasks: %s: no expected_tasks array (%s)\n", truth_path, jerr.text);
        json_decref(truth);
        return 2;
    }
    sp_db *db = NULL;
    if (sp_db_open(cfg->pg_url, &db) != SP_OK) {
        fprintf(stderr, "spctl check-tasks: %s\n", sp_db_errmsg(db));
        sp_db_destroy(db);
        json_decref(truth);
        return 1;
    }
    /* one row per task: "kind|type|id", first assignee, ",watcher,..." */
    PGresult *r = NULL;
    int rc = 0;
    if (sp_db_exec(db,
            "SELECT t.kind || '|' || t.subject_type || '|' || t.subject_id, "
            "coalesce((SELECT d.assignee_id FROM routing_decisions d WHERE d.task_key = t.key AND d.op = "
            "'upsert' "
            "ORDER BY d.decided_at LIMIT 1), t.assignee_id), ',' || array_to_string(t.watchers, ',') || ',' "
            "FROM tasks t ORDER BY 1, t.key",
            0, NULL, &r)
        != SP_OK) {
        fprintf(stderr, "spctl check-tasks: %s\n", sp_db_errmsg(db));
        rc = 1;
        goto out;
    }
    int nact = PQntuples(r), missing = 0, extra = 0;
    size_t i;
    json_t *w;
    /* missing: an expected person who is neither assignee nor watcher */
    json_array_foreach(want, i, w)
    {
        char subj[512], comma[200];
        const char *who = json_string_value(json_object_get(w, "assignee_id"));
        const char *wkind = json_string_value(json_object_get(w, "kind"));
        if (skip && wkind && strncmp(wkind, skip, strlen(skip)) == 0) continue;
        snprintf(subj, sizeof subj, "%s|%s|%s", wkind, json_string_value(json_object_get(w, "subject_type")),
            json_string_value(json_object_get(w, "subject_id")));
        snprintf(comma, sizeof comma, ",%s,", who ? who : "");
        int found = 0;
        for (int k = 0; k < nact && !found; k++)
            found = strcmp(PQgetvalue(r, k, 0), subj) == 0
                && (strcmp(PQgetvalue(r, k, 1), who ? who : "") == 0
                    || strstr(PQgetvalue(r, k, 2), comma) != NULL);
        if (!found) {
            printf("missing    %s|%s\n", subj, who ? who : "");
            missing++;
        }
    }
    /* unexpected: a task nobody expected, or assigned to someone not expected */
    for (int k = 0; k < nact; k++) {
        if (skip && strncmp(PQgetvalue(r, k, 0), skip, strlen(skip)) == 0) continue;
        int known = 0;
        json_array_foreach(want, i, w)
        {
            char subj[512];
            snprintf(subj, sizeof subj, "%s|%s|%s", json_string_value(json_object_get(w, "kind")),
                json_string_value(json_object_get(w, "subject_type")),
                json_string_value(json_object_get(w, "subject_id")));
            const char *who = json_string_value(json_object_get(w, "assignee_id"));
            if (strcmp(subj, PQgetvalue(r, k, 0)) == 0 && who && strcmp(who, PQgetvalue(r, k, 1)) == 0)
                known = 1;
        }
        if (!known) {
            printf("unexpected %s|%s\n", PQgetvalue(r, k, 0), PQgetvalue(r, k, 1));
            extra++;
        }
    }
    long long dups = one_int(db,
        "SELECT count(*) FROM (SELECT kind, subject_type, subject_id FROM tasks "
        "WHERE status IN ('open','acknowledged','in_progress') "
        "GROUP BY 1, 2, 3 HAVING count(*) > 1) d");
    printf("check-tasks: %zu expected, %d tasks, %d missing, %d unexpected, %lld duplicated open tasks\n",
        json_array_size(want), nact, missing, extra, dups);
    rc = missing || extra || dups ? 1 : 0;
out:
    PQclear(r);
    sp_db_destroy(db);
    json_decref(truth);
    return rc;
}
