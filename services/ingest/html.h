/* html.h - HTML reduced to plain text for e-mail bodies. */
#ifndef SP_INGEST_HTML_H
#define SP_INGEST_HTML_H

#include <stddef.h>

/* Parses UTF-8 HTML with libxml2's HTML parser (no network) and writes its
 * text to a malloc'd UTF-8 string (caller frees with free): script, style,
 * head and comments dropped, entities decoded, block elements and <br> as
 * line breaks, runs of blanks collapsed, text inside <blockquote> prefixed
 * with "> " so the quote cutter sees it as quoted. Returns SP_ENOMEM or
 * SP_EDECODE (nothing parseable); an empty document gives "". */
int ingest_html_to_text(const char *html, size_t len, char **out, size_t *outlen);

#endif
