/* spctl migrate: applies deploy/sql migrations. */
#include "db.h"
#include "err.h"
#include "spctl/spctl.h"

#include <stdio.h>

/* Applies pending migrations; exit 0 on success, 1 naming the failed file. */
int spctl_migrate(const struct spctl_cfg *cfg, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    sp_db *db = NULL;
    char err[1024] = "";
    int applied = 0;
    int rv = sp_db_open(cfg->pg_url, &db);
    if (rv == SP_OK)
        rv = sp_db_migrate(db, cfg->sql_dir, &applied, err, sizeof err);
    else
        snprintf(err, sizeof err, "%s", sp_db_errmsg(db));
    sp_db_destroy(db);
    if (rv != SP_OK) {
        fprintf(stderr, "spctl migrate: %s\n", err);
        return 1;
    }
    printf("migrate: %d migration(s) applied from %s\n", applied, cfg->sql_dir);
    return 0;
}
