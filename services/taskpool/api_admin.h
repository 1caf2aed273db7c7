/* api_admin.h - HTTP adapter of org administration (admin only):
 * GET|POST /v1/admin/{people,teams,regions,absences,named_teams} and
 * GET|PATCH|DELETE /v1/admin/{entity}/{id}. The rules are orgadmin.h's. */
#ifndef SP_TASKPOOL_API_ADMIN_H
#define SP_TASKPOOL_API_ADMIN_H

/* HTTP status of an orgadmin error code: SP_EINVAL 422, SP_ENOTFOUND 404,
 * SP_EEXIST/SP_ECONFLICT 409, SP_EDBDOWN 503, others 500. */
int api_admin_status(int code);

#endif
