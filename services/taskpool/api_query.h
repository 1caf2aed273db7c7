/* api_query.h - the pure part of the task pool API's requests: query
 * parameters of the task lists and the change feed, the opaque list cursor,
 * and the body of a task action. No sockets, no database: every function
 * takes plain values and names the offending field on error. */
#ifndef SP_TASKPOOL_API_QUERY_H
#define SP_TASKPOOL_API_QUERY_H

#include "http.h"
#include "taskpool/task.h"

#include <jansson.h>
#include <stdint.h>

#define API_LIMIT_DEFAULT 50
#define API_LIMIT_MAX     200
#define API_WAIT_MAX_S    60
#define API_CURSOR_MAX    512

/* Position after the last task of a page. Lists are ordered by
 * (level DESC, created_at DESC, key DESC) - L3 first, newest first - and a
 * page starts strictly after the cursor, so tasks inserted meanwhile never
 * shift or repeat rows already paged through. */
typedef struct api_cursor {
    int level;
    char created[40]; /* PostgreSQL timestamptz text, microsecond exact */
    char key[SP_TASK_KEY_MAX];
} api_cursor;

typedef struct api_list_query {
    unsigned statuses; /* bit (1 << task_status); default: the three active ones */
    int level; /* 0 = any */
    char kind[SP_TASK_ID_MAX]; /* "" = any */
    int has_cursor;
    api_cursor cursor;
    int limit;
} api_list_query;

typedef struct api_changes_query {
    int64_t since; /* tasks with seq > since */
    int wait_s; /* 0..API_WAIT_MAX_S, default 30 */
    int limit;
} api_changes_query;

/* The status bits of open, acknowledged and in_progress. */
unsigned api_active_statuses(void);

/* Parses status= (comma list of status names or "all"), level= (1..3),
 * kind=, cursor=, limit= (1..API_LIMIT_MAX). SP_EINVAL with *field naming
 * the bad parameter. */
int api_list_query_parse(const sp_http_req *req, api_list_query *q, const char **field);

/* Parses since= (>= 0, default 0), wait= (0..API_WAIT_MAX_S, default 30),
 * limit=. SP_EINVAL with *field. */
int api_changes_query_parse(const sp_http_req *req, api_changes_query *q, const char **field);

/* Encodes c as base64url text into buf (API_CURSOR_MAX). SP_ETOOBIG. */
int api_cursor_encode(const api_cursor *c, char *buf, size_t cap);

/* Decodes a cursor made by api_cursor_encode. SP_EINVAL for anything else
 * (bad alphabet, missing parts, level outside 1..3). */
int api_cursor_decode(const char *text, api_cursor *c);

/* "ack", "start", "complete", "dismiss", "reassign" -> the action;
 * SP_ENOTFOUND for any other name. */
int api_action_parse(const char *name, task_action *out);

/* Checks the JSON body of an action and points args at its strings
 * (borrowed from body). complete: outcome and note; dismiss: reason;
 * reassign: to_id. body may be NULL (no body) for ack/start. SP_EINVAL
 * with *field naming the missing or ill-typed member. */
int api_action_args(task_action a, const json_t *body, task_args *args, const char **field);

#endif
