/* html.c - HTML to text (see html.h). */
#include "ingest/html.h"

#include "err.h"

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct buf {
    char *s;
    size_t n, cap;
    int oom;
    int at_line_start;
    int pending_space;
    int quote_depth;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (p == NULL) {
            b->oom = 1;
            return;
        }
        b->s = p, b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

/* Ends the current line. A block boundary only ends a non-empty line; a
 * <br> (hard) always does, up to one blank line in a row. */
static void newline(buf *b, int hard)
{
    b->at_line_start = 1;
    b->pending_space = 0;
    if (b->n == 0) return;
    if (b->s[b->n - 1] == '\n' && (!hard || (b->n >= 2 && b->s[b->n - 2] == '\n'))) return;
    put(b, "\n", 1);
}

static void text(buf *b, const char *s)
{
    for (const char *p = s; *p;) {
        unsigned char c = (unsigned char)*p;
        int blank = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
        int nbsp = c == 0xc2 && (unsigned char)p[1] == 0xa0;
        if (blank || nbsp) {
            b->pending_space = 1;
            p += nbsp ? 2 : 1;
            continue;
        }
        if (b->at_line_start) {
            for (int i = 0; i < b->quote_depth; i++)
                put(b, "> ", 2);
            b->at_line_start = 0;
            b->pending_space = 0;
        } else if (b->pending_space) {
            put(b, " ", 1);
            b->pending_space = 0;
        }
        const char *q = p;
        while (*q
            && !(*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r' || *q == '\f'
                || ((unsigned char)*q == 0xc2 && (unsigned char)q[1] == 0xa0)))
            q++;
        put(b, p, (size_t)(q - p));
        p = q;
    }
}

static int is_block(const char *name)
{
    static const char *const B[] = {"p", "div", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5",
        "h6", "blockquote", "pre", "hr", "section", "article", "header", "footer", "dl", "dt", "dd", NULL};
    for (int i = 0; B[i]; i++)
        if (strcasecmp(name, B[i]) == 0) return 1;
    return 0;
}

static void walk(buf *b, xmlNodePtr n, int depth)
{
    if (depth > 200) return; /* deeply nested junk: stop descending */
    for (; n; n = n->next) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content) text(b, (const char *)n->content);
            continue;
        }
        if (n->type != XML_ELEMENT_NODE) continue;
        const char *name = (const char *)n->name;
        if (strcasecmp(name, "script") == 0 || strcasecmp(name, "style") == 0 || strcasecmp(name, "head") == 0
            || strcasecmp(name, "title") == 0 || strcasecmp(name, "noscript") == 0)
            continue;
        int block = is_block(name), quote = strcasecmp(name, "blockquote") == 0;
        if (strcasecmp(name, "br") == 0) {
            newline(b, 1);
            continue;
        }
        if (block) newline(b, 0);
        if (quote) b->quote_depth++;
        if (strcasecmp(name, "td") == 0 || strcasecmp(name, "th") == 0) b->pending_space = 1;
        walk(b, n->children, depth + 1);
        if (quote) b->quote_depth--;
        if (block) newline(b, 0);
    }
}

int ingest_html_to_text(const char *html, size_t len, char **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    buf b = {.at_line_start = 1};
    if (len > 0 && len <= (size_t)1 << 30) {
        htmlDocPtr doc = htmlReadMemory(
            html, (int)len, NULL, "UTF-8", HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
        if (doc == NULL) return SP_EDECODE;
        walk(&b, doc->children, 0);
        xmlFreeDoc(doc);
    }
    if (!b.oom && b.s == NULL) put(&b, "", 0);
    if (b.oom) {
        free(b.s);
        return SP_ENOMEM;
    }
    while (b.n && (b.s[b.n - 1] == '\n' || b.s[b.n - 1] == ' '))
        b.s[--b.n] = '\0';
    *out = b.s;
    *outlen = b.n;
    return SP_OK;
}
