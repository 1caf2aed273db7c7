/* extract_rx.c - PCRE2 helpers: UTF patterns, JIT, bounded matching. */
#include "enrich/extract_internal.h"

#include "err.h"

#include <stdio.h>

/* Compiles pattern in UTF mode (optionally caseless) and JIT-compiles it.
 * Fails with SP_ECONFIG and a message naming the offset. */
int ex_rx_compile(const char *pattern, int caseless, pcre2_code **out, char *err, size_t errlen)
{
    int ec;
    PCRE2_SIZE eo;
    uint32_t opts = PCRE2_UTF | PCRE2_NO_UTF_CHECK | PCRE2_MULTILINE;
    if (caseless) opts |= PCRE2_CASELESS;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
    if (re == NULL) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        snprintf(err, errlen, "regex error at offset %zu: %s", (size_t)eo, (char *)msg);
        return SP_ECONFIG;
    }
    /* JIT is an accelerator: if unavailable the interpreter still works. */
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    *out = re;
    return SP_OK;
}

/* Finds the first match of rx in s[from..len). The subject was validated as
 * UTF-8 once, so matches skip the check. A match-limit hit is "no match". */
int ex_rx_find(
    const ex_ctx *c, const pcre2_code *rx, const char *s, size_t len, size_t from, size_t *ms, size_t *me)
{
    if (rx == NULL || from > len) return 0;
    int rc = pcre2_match(rx, (PCRE2_SPTR)s, len, from, PCRE2_NO_UTF_CHECK, c->md, c->e->mctx);
    if (rc < 0) return rc == PCRE2_ERROR_NOMATCH ? 0 : 0;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->md);
    if (ms) *ms = ov[0];
    if (me) *me = ov[1];
    return 1;
}

/* True when rx matches anywhere in s[0..len). */
int ex_rx_has(const ex_ctx *c, const pcre2_code *rx, const char *s, size_t len)
{
    return ex_rx_find(c, rx, s, len, 0, NULL, NULL);
}

/* Span of capture group n of the last match; 0 when unset. */
int ex_rx_group(const ex_ctx *c, int n, size_t *gs, size_t *ge)
{
    if (n < 0 || (uint32_t)n >= pcre2_get_ovector_count(c->md)) return 0;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->md);
    if (ov[2 * n] == PCRE2_UNSET) return 0;
    *gs = ov[2 * n];
    *ge = ov[2 * n + 1];
    return 1;
}

/* Earliest match of either script's patterns of rule r. */
int ex_rule_find(
    const ex_ctx *c, const ex_rule *r, const char *s, size_t len, size_t from, size_t *ms, size_t *me)
{
    size_t a1 = 0, b1 = 0, a2 = 0, b2 = 0;
    int h1 = ex_rx_find(c, r->match_latin, s, len, from, &a1, &b1) == 1;
    int h2 = ex_rx_find(c, r->match_han, s, len, from, &a2, &b2) == 1;
    if (!h1 && !h2) return 0;
    if (h1 && (!h2 || a1 <= a2)) {
        *ms = a1;
        *me = b1;
    } else {
        *ms = a2;
        *me = b2;
    }
    return 1;
}
