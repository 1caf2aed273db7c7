/* sqlbuf.h - a growing string for PostgreSQL array literals, so a sweep or
 * a batch can send thousands of values as one parameter ({"a","b"}). */
#ifndef SCORE_SQLBUF_H
#define SCORE_SQLBUF_H

#include <stddef.h>

/* Zero-initialise; oom is set (and further appends ignored) when memory
 * runs out. Free p with free() or score_sqlbuf_free. */
typedef struct score_sqlbuf {
    char *p;
    size_t n, cap;
    int oom;
} score_sqlbuf;

void score_sqlbuf_put(score_sqlbuf *b, const char *s, size_t n);
void score_sqlbuf_puts(score_sqlbuf *b, const char *s);

/* Appends one element after "{" or a previous element: quoted text with "
 * and \ escaped, or the value as is when raw (numbers, t/f). */
void score_sqlbuf_elem(score_sqlbuf *b, const char *v, int raw);

void score_sqlbuf_free(score_sqlbuf *b);

#endif
