/* spctl merge-customers: one customer record into another, keeping every
 * interaction and fact (deploy/sql/0010 customer_merge). */
#include "db.h"
#include "err.h"
#include "spctl/spctl.h"

#include <stdio.h>
#include <string.h>

/* `merge-customers --from ID --into ID` */
int spctl_merge(const struct spctl_cfg *cfg, int argc, char **argv)
{
    const char *from = NULL, *into = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
            from = argv[++i];
        else if (strcmp(argv[i], "--into") == 0 && i + 1 < argc)
            into = argv[++i];
    }
    if (from == NULL || into == NULL) {
        fprintf(stderr, "usage: spctl merge-customers --from ID --into ID\n");
        return 2;
    }
    sp_db *db = NULL;
    PGresult *r = NULL;
    int rc = 1;
    const char *p[2] = {from, into};
    if (sp_db_open(cfg->pg_url, &db) == SP_OK
        && sp_db_exec(db, "SELECT customer_merge($1, $2)::text", 2, p, &r) == SP_OK) {
        printf("merged %s: %s\n", from, PQgetvalue(r, 0, 0));
        rc = 0;
    } else {
        fprintf(stderr, "spctl merge-customers: %s\n", db ? sp_db_errmsg(db) : "out of memory");
    }
    PQclear(r);
    sp_db_destroy(db);
    return rc;
}
