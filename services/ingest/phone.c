/* phone.c - E.164 normalisation (see phone.h). */
#include "ingest/phone.h"

#include "err.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int cn_mobile(const char *d, size_t n)
{
    return n == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9';
}

int phone_e164_normalize(const char *in, char *out, size_t cap)
{
    if (in == NULL) return SP_EINVAL;
    char d[40];
    size_t n = 0;
    int plus = 0;
    const char *p = in;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncasecmp(p, "tel:", 4) == 0) p += 4;
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= '0' && c <= '9') {
            if (n >= sizeof d - 1) return SP_EINVAL;
            d[n++] = (char)c;
        } else if (c == '+') {
            if (n != 0 || plus) return SP_EINVAL;
            plus = 1;
        } else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/' || c == '\t') {
            continue;
        } else {
            return SP_EINVAL;
        }
    }
    d[n] = '\0';
    const char *digits = d;
    char buf[48];
    if (!plus && n > 2 && d[0] == '0' && d[1] == '0') {
        plus = 1, digits = d + 2, n -= 2;
    }
    if (plus) {
        if (n > 3 && digits[0] == '8' && digits[1] == '6' && digits[2] == '0') {
            /* "+86 (0)10 ..." : drop the national trunk prefix */
            snprintf(buf, sizeof buf, "86%s", digits + 3);
            digits = buf, n--;
        }
    } else if (cn_mobile(d, n)) {
        snprintf(buf, sizeof buf, "86%s", d);
        digits = buf, n += 2;
    } else if (n == 13 && d[0] == '8' && d[1] == '6' && cn_mobile(d + 2, 11)) {
        /* already 86 + mobile */
    } else if (n >= 10 && n <= 12 && d[0] == '0' && d[1] != '0') {
        snprintf(buf, sizeof buf, "86%s", d + 1);
        digits = buf, n += 1;
    } else {
        return SP_EINVAL;
    }
    if (n < 8 || n > 15 || digits[0] == '0') return SP_EINVAL;
    /* a Chinese national number never starts with 0 after the country code:
     * "+86 0 0..." is garbage, and refusing it keeps the rule idempotent */
    if (digits[0] == '8' && digits[1] == '6' && digits[2] == '0') return SP_EINVAL;
    if (n + 2 > cap) return SP_ETOOBIG;
    out[0] = '+';
    memcpy(out + 1, digits, n + 1);
    return SP_OK;
}
