/* err.c - error codes to words. */
#include "err.h"

#include <stdio.h>
#include <stdlib.h>

static const struct {
    const char *name;
    const char *text;
} errs[SP_ERR_COUNT] = {
    [SP_OK] = {"ok", "success"},
    [SP_ENOMEM] = {"enomem", "out of memory"},
    [SP_EINVAL] = {"einval", "invalid argument"},
    [SP_ENOTFOUND] = {"enotfound", "not found"},
    [SP_EEXIST] = {"eexist", "already exists"},
    [SP_ECONFIG] = {"econfig", "configuration missing or invalid"},
    [SP_EIO] = {"eio", "I/O error"},
    [SP_EDB] = {"edb", "database error"},
    [SP_EDBDOWN] = {"edbdown", "database unavailable"},
    [SP_EKAFKA] = {"ekafka", "Kafka error"},
    [SP_ETIMEOUT] = {"etimeout", "timed out"},
    [SP_EFULL] = {"efull", "queue full"},
    [SP_EDECODE] = {"edecode", "undecodable message"},
    [SP_EAUTH] = {"eauth", "authentication required"},
    [SP_EFORBIDDEN] = {"eforbidden", "forbidden"},
    [SP_ECONFLICT] = {"econflict", "conflict with current state"},
    [SP_ETOOBIG] = {"etoobig", "too large"},
    [SP_EUTF8] = {"eutf8", "invalid UTF-8"},
    [SP_ESTATE] = {"estate", "invalid state"},
    [SP_ECLOSED] = {"eclosed", "closed"},
    [SP_EAGAIN] = {"eagain", "not available yet"},
};

const char *sp_strerror(int err)
{
    if (err < 0 || err >= SP_ERR_COUNT || errs[err].text == NULL) return "unknown error";
    return errs[err].text;
}

const char *sp_errname(int err)
{
    if (err < 0 || err >= SP_ERR_COUNT || errs[err].name == NULL) return "eunknown";
    return errs[err].name;
}

void sp_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"assertion failed: %s\",\"file\":\"%s\",\"line\":%d}\n",
        expr, file, line);
    fflush(stderr);
    abort();
}
