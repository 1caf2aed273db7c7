/* email.h - raw RFC 5322 messages (POST /v1/email, message/rfc822) into
 * Interactions, with GMime 3.
 *
 * - headers: Message-ID (external_id; a message without one gets
 *   "sha256:<32 hex of the raw bytes>"), From, To, Cc, Date (occurred_at;
 *   missing or more than 24 h ahead -> now_ms), Subject, In-Reply-To;
 *   encoded words (=?GBK?B?...?=) decoded, raw 8-bit headers read as UTF-8
 *   else GB18030;
 * - body: the first text/plain part that is not an attachment, else the
 *   first text/html reduced to text (html.h); transfer encodings undone,
 *   charsets converted to UTF-8 (GB2312/GBK read as GB18030, Big5 as
 *   BIG5-HKSCS; unlabelled bytes as UTF-8 else GB18030);
 * - quoted history and signature cut off (quote.h) into quoted_text; text
 *   and quoted_text each cut at 64 KiB on a character boundary;
 * - attachments: name, content type, decoded size;
 * - direction: From in one of our domains -> outbound (rep = From, customer
 *   = first To/Cc outside our domains), else inbound (customer = From, rep =
 *   first To/Cc inside our domains); both sides ours -> internal. The rep
 *   address goes to rep_id, the customer's to customer_identity (email,
 *   lower-cased). Every address is also a Party. */
#ifndef SP_INGEST_EMAIL_H
#define SP_INGEST_EMAIL_H

#include <stddef.h>

#include "ingest/interaction.h"

#define SP_EMAIL_MAX_BYTES (32 * 1024 * 1024)

typedef struct ingest_email_opts {
    long long now_ms;
    const char *const *our_domains; /* "hengyuan.cn"; subdomains match too */
    size_t n_domains;
    const char *tenant_id; /* NULL = "" */
} ingest_email_opts;

/* Parses raw[0..len). On success *out is set (caller frees with
 * interaction_destroy). Returns SP_ETOOBIG (over 32 MiB), SP_EDECODE (not
 * a message, or no usable From address; errbuf says why), SP_ENOMEM.
 * Thread-safe; initialises GMime once. */
int ingest_email_parse(const char *raw, size_t len, const ingest_email_opts *opts, sp_interaction **out,
    char *errbuf, size_t errlen);

/* Converts bytes in charset (NULL/"" = unknown) to a malloc'd UTF-8 string
 * with the fallbacks above; invalid sequences become U+FFFD. Returns
 * SP_ENOMEM. Exposed for tests. */
int ingest_email_to_utf8(const char *bytes, size_t n, const char *charset, char **out, size_t *outlen);

#endif
