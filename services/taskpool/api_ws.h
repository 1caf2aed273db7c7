/* api_ws.h - optional WebSocket push of the change feed: a client connects
 * to ws://host:port/v1/tasks/ws?since=N (token in an "Authorization:
 * Bearer" header, or ?token= for browsers, which cannot set headers) and
 * receives one text message {"tasks":[...],"next_since":N} whenever tasks
 * it can see change, plus {"type":"ping","next_since":N} every 25 s of
 * quiet. The same horizon rules as the long-poll apply (nothing is lost:
 * reconnect with the last next_since). One thread per connection, at most
 * max_conns connections. */
#ifndef SP_TASKPOOL_API_WS_H
#define SP_TASKPOOL_API_WS_H

#include "taskpool/api.h"

typedef struct api_ws api_ws;

/* Listens on url ("ws://0.0.0.0:8086/v1/tasks/ws"; port 0 picks one).
 * SP_EINVAL, SP_EIO (cannot listen), SP_ENOMEM. Caller stops it with
 * api_ws_stop before destroying api. */
int api_ws_start(taskpool_api *api, const char *url, int max_conns, api_ws **out);

/* The bound TCP port. */
int api_ws_port(const api_ws *ws);

/* Stops accepting, ends every connection (within about a second) and frees
 * everything; accepts NULL. */
void api_ws_stop(api_ws *ws);

#endif
