/* log.h - JSON lines on stderr.
 *
 * One object a line: {"ts":"2026-03-02T10:15:00.123Z","level":"info",
 * "service":"sp-enrich","msg":"...","event_id":"..."}. Thread-safe (one
 * write(2) per line). The service name is set once at start. */
#ifndef SP_LOG_H
#define SP_LOG_H

#include <stdarg.h>

typedef enum sp_log_level {
    SP_LOG_DEBUG = 0,
    SP_LOG_INFO,
    SP_LOG_WARN,
    SP_LOG_ERROR,
    SP_LOG_FATAL,
} sp_log_level;

/* Sets the service name and minimum level. Not thread-safe: call at start. */
void sp_log_init(const char *service, sp_log_level min_level);

/* Parses "debug|info|warn|error" into *out; returns SP_EINVAL otherwise. */
int sp_log_level_parse(const char *s, sp_log_level *out);

/* Redirects output to fd (default 2). For tests. */
void sp_log_set_fd(int fd);

/* Logs one line; event_id may be NULL. */
void sp_log_event(sp_log_level lvl, const char *event_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sp_log_v(sp_log_level lvl, const char *event_id, const char *fmt, va_list ap);

/* Formats one line into buf (without newline); returns its length. Exposed
 * for tests; never fails (truncates). */
int sp_log_format(
    char *buf, int cap, long long now_ms, sp_log_level lvl, const char *event_id, const char *msg);

#define sp_debug(...) sp_log_event(SP_LOG_DEBUG, NULL, __VA_ARGS__)
#define sp_info(...)  sp_log_event(SP_LOG_INFO, NULL, __VA_ARGS__)
#define sp_warn(...)  sp_log_event(SP_LOG_WARN, NULL, __VA_ARGS__)
#define sp_error(...) sp_log_event(SP_LOG_ERROR, NULL, __VA_ARGS__)

#endif
