/* sqlbuf.c - array literals for bulk statements. */
#include "score/sqlbuf.h"

#include <stdlib.h>
#include <string.h>

void score_sqlbuf_put(score_sqlbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void score_sqlbuf_puts(score_sqlbuf *b, const char *s)
{
    score_sqlbuf_put(b, s, strlen(s));
}

void score_sqlbuf_elem(score_sqlbuf *b, const char *v, int raw)
{
    if (b->n && b->p && b->p[b->n - 1] != '{') score_sqlbuf_put(b, ",", 1);
    if (raw) {
        score_sqlbuf_puts(b, v);
        return;
    }
    score_sqlbuf_put(b, "\"", 1);
    for (const char *c = v; *c; c++) {
        if (*c == '"' || *c == '\\') score_sqlbuf_put(b, "\\", 1);
        score_sqlbuf_put(b, c, 1);
    }
    score_sqlbuf_put(b, "\"", 1);
}

void score_sqlbuf_free(score_sqlbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}
