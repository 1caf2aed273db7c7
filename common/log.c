/* log.c - JSON lines on stderr. */
#include "log.h"

#include "err.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char log_service[64] = "salespulse";
static sp_log_level log_min = SP_LOG_INFO;
static int log_fd = 2;

static const char *level_names[] = {"debug", "info", "warn", "error", "fatal"};

void sp_log_init(const char *service, sp_log_level min_level)
{
    snprintf(log_service, sizeof log_service, "%s", service ? service : "salespulse");
    log_min = min_level;
}

void sp_log_set_fd(int fd)
{
    log_fd = fd;
}

int sp_log_level_parse(const char *s, sp_log_level *out)
{
    for (int i = 0; i <= SP_LOG_ERROR; i++) {
        if (s && strcmp(s, level_names[i]) == 0) {
            *out = (sp_log_level)i;
            return SP_OK;
        }
    }
    return SP_EINVAL;
}

/* Appends s JSON-escaped; stops before overflowing (keeps room for the tail). */
static int append_escaped(char *buf, int len, int cap, const char *s)
{
    for (; s && *s && len < cap - 8; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[len++] = '\\';
            buf[len++] = (char)c;
        } else if (c == '\n') {
            buf[len++] = '\\';
            buf[len++] = 'n';
        } else if (c < 0x20) {
            len += snprintf(buf + len, (size_t)(cap - len), "\\u%04x", c);
        } else {
            buf[len++] = (char)c;
        }
    }
    return len;
}

static int append_raw(char *buf, int len, int cap, const char *s)
{
    int n = snprintf(buf + len, (size_t)(cap - len), "%s", s);
    if (n < 0) return len;
    return len + n < cap ? len + n : cap - 1;
}

int sp_log_format(
    char *buf, int cap, long long now_ms, sp_log_level lvl, const char *event_id, const char *msg)
{
    time_t secs = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char ts[40];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    int len = snprintf(buf, (size_t)cap, "{\"ts\":\"%s.%03lldZ\",\"level\":\"%s\",\"service\":\"", ts,
        now_ms % 1000, level_names[lvl]);
    if (len < 0) len = 0;
    if (len >= cap) len = cap - 1;
    len = append_escaped(buf, len, cap, log_service);
    len = append_raw(buf, len, cap, "\",\"msg\":\"");
    len = append_escaped(buf, len, cap, msg);
    len = append_raw(buf, len, cap, "\"");
    if (event_id && *event_id) {
        len = append_raw(buf, len, cap, ",\"event_id\":\"");
        len = append_escaped(buf, len, cap, event_id);
        len = append_raw(buf, len, cap, "\"");
    }
    len = append_raw(buf, len, cap, "}");
    return len;
}

void sp_log_v(sp_log_level lvl, const char *event_id, const char *fmt, va_list ap)
{
    if (lvl < log_min) return;
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char line[4096];
    int n = sp_log_format(
        line, (int)sizeof line - 1, (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000, lvl, event_id, msg);
    line[n++] = '\n';
    ssize_t w = write(log_fd, line, (size_t)n);
    (void)w;
}

void sp_log_event(sp_log_level lvl, const char *event_id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sp_log_v(lvl, event_id, fmt, ap);
    va_end(ap);
}
