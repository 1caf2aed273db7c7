/* errlist.h - the list of validation errors an ingest parser returns.
 *
 * Each error is {index, field, message}: index is the 0-based item of the
 * request (-1 for the request as a whole: size, encoding), field the JSON path
 * inside that item ("text", "activity.roles_covered[1]", "turns[3].speaker";
 * "" when the item itself is at fault). The HTTP layer renders the list as
 * {"errors":[{"index":i,"field":"...","message":"..."}]}. */
#ifndef SP_INGEST_ERRLIST_H
#define SP_INGEST_ERRLIST_H

#include <stddef.h>

#define SP_ERRLIST_MAX 100 /* further errors are counted, not stored */

typedef struct ingest_error {
    int index;
    char field[96];
    char message[160];
} ingest_error;

typedef struct ingest_errlist {
    ingest_error *items;
    size_t n; /* stored */
    size_t dropped; /* over SP_ERRLIST_MAX or out of memory */
} ingest_errlist;

/* Appends one error (printf-style message). Never fails: on overflow or
 * out of memory the error is only counted in dropped. */
void ingest_errlist_add(ingest_errlist *l, int index, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Frees the items and zeroes l. Accepts NULL. */
void ingest_errlist_clear(ingest_errlist *l);

/* Total errors (stored + dropped). */
size_t ingest_errlist_count(const ingest_errlist *l);

/* Renders {"errors":[...]} into a malloc'd string (caller frees with free).
 * Returns SP_ENOMEM. */
int ingest_errlist_to_json(const ingest_errlist *l, char **out);

/* Finds the first error on (index, field); NULL when none. For tests. */
const ingest_error *ingest_errlist_find(const ingest_errlist *l, int index, const char *field);

#endif
