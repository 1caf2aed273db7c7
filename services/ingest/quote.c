/* quote.c - quoted-history and signature detection (see quote.h). */
#include "ingest/quote.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

typedef struct line {
    const char *s; /* first non-blank byte */
    size_t n; /* length without leading/trailing blanks */
    size_t start; /* offset of the raw line */
} line;

/* ASCII blanks and the ideographic space U+3000 */
static size_t lead_blank(const char *s, size_t n)
{
    size_t i = 0;
    for (;;) {
        if (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) {
            i++;
        } else if (i + 2 < n && (unsigned char)s[i] == 0xe3 && (unsigned char)s[i + 1] == 0x80
            && (unsigned char)s[i + 2] == 0x80) {
            i += 3;
        } else {
            return i;
        }
    }
}

static int starts(const line *l, const char *p)
{
    size_t k = strlen(p);
    return l->n >= k && strncasecmp(l->s, p, k) == 0;
}

static int ends(const line *l, const char *p)
{
    size_t k = strlen(p);
    return l->n >= k && strncasecmp(l->s + l->n - k, p, k) == 0;
}

static int contains(const line *l, const char *p)
{
    size_t k = strlen(p);
    for (size_t i = 0; i + k <= l->n; i++)
        if (strncasecmp(l->s + i, p, k) == 0) return 1;
    return 0;
}

static int is_header_line(const line *l)
{
    static const char *const H[]
        = {"Sent:", "Date:", "To:", "Subject:", "Cc:", "发送时间", "日期", "收件人", "主题", "抄送", NULL};
    for (int i = 0; H[i]; i++)
        if (starts(l, H[i])) return 1;
    return 0;
}

/* "-----Original Message-----" and kin: dashes on both sides of a marker */
static int is_separator(const line *l)
{
    if (l->n < 6 || l->s[0] != '-' || l->s[l->n - 1] != '-') return 0;
    static const char *const M[]
        = {"original message", "原始邮件", "邮件原件", "forwarded message", "转发邮件", NULL};
    for (int i = 0; M[i]; i++)
        if (contains(l, M[i])) return 1;
    return 0;
}

static int is_signoff(const line *l)
{
    static const char *const S[] = {"此致", "此致敬礼", "此致 敬礼", "祝好", "顺祝商祺", "顺颂商祺",
        "顺颂时祺", "祝商祺", "祝工作顺利", "谢谢", "多谢", "best regards", "kind regards", "regards",
        "thanks", "cheers", NULL};
    size_t n = l->n;
    /* strip trailing ASCII and full-width punctuation */
    for (;;) {
        if (n && strchr(",.!;", l->s[n - 1])) {
            n--;
        } else if (n >= 3
            && ((unsigned char)l->s[n - 3] == 0xef && (unsigned char)l->s[n - 2] == 0xbc
                && ((unsigned char)l->s[n - 1] == 0x8c || (unsigned char)l->s[n - 1] == 0x81))) {
            n -= 3; /* ， ！ */
        } else if (n >= 3 && (unsigned char)l->s[n - 3] == 0xe3 && (unsigned char)l->s[n - 2] == 0x80
            && (unsigned char)l->s[n - 1] == 0x82) {
            n -= 3; /* 。 */
        } else {
            break;
        }
    }
    for (int i = 0; S[i]; i++)
        if (strlen(S[i]) == n && strncasecmp(l->s, S[i], n) == 0) return 1;
    return 0;
}

/* Reads the line starting at pos: trimmed into *l; returns the offset just
 * past its newline. *sigdash tells whether it is the "-- " delimiter. */
static size_t get_line(const char *text, size_t len, size_t pos, line *l, int *sigdash)
{
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t e = nl ? (size_t)(nl - text) : len;
    size_t b = lead_blank(text + pos, e - pos);
    l->s = text + pos + b;
    l->n = e - pos - b;
    l->start = pos;
    if (sigdash) {
        size_t n = l->n;
        if (n && l->s[n - 1] == '\r') n--;
        *sigdash
            = b == 0 && ((n == 3 && memcmp(l->s, "-- ", 3) == 0) || (n == 2 && memcmp(l->s, "--", 2) == 0));
    }
    while (l->n && (l->s[l->n - 1] == ' ' || l->s[l->n - 1] == '\r' || l->s[l->n - 1] == '\t'))
        l->n--;
    return e + 1;
}

/* An attribution ("On ... wrote:", "在 ... 写道") or a From:/发件人 header
 * block starting at cur, whose next lines start at q. */
static int starts_block(const char *text, size_t len, const line *cur, size_t q)
{
    int attribution = starts(cur, "On ") || starts(cur, "在");
    if (!attribution && !starts(cur, "From:") && !starts(cur, "发件人") && !starts(cur, "寄件者")) return 0;
    for (int k = 0; k < 3 && q < len; k++) {
        line next;
        q = get_line(text, len, q, &next, NULL);
        if (attribution) return k == 0 && (ends(&next, "wrote:") || contains(&next, "写道"));
        if (is_header_line(&next)) return 1;
    }
    return 0;
}

size_t ingest_quote_cut(const char *text, size_t len)
{
    size_t nonblank_total = 0, nonblank_seen = 0;
    line cur;
    for (size_t p = 0; p < len;) {
        p = get_line(text, len, p, &cur, NULL);
        if (cur.n) nonblank_total++;
    }
    for (size_t pos = 0; pos < len;) {
        int sigdash = 0;
        size_t next = get_line(text, len, pos, &cur, &sigdash);
        if (cur.n) nonblank_seen++;
        if (sigdash || (cur.n && cur.s[0] == '>') || is_separator(&cur)
            || (starts(&cur, "在") && (contains(&cur, "写道") || contains(&cur, "寫道")))
            || (starts(&cur, "On ") && ends(&cur, "wrote:")) || starts_block(text, len, &cur, next)
            || (cur.n && nonblank_total - nonblank_seen < 10 && is_signoff(&cur)))
            return cur.start;
        pos = next;
    }
    return len;
}
