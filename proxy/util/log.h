/* Logging: one line per event, to stderr (default) or syslog. */
#ifndef ISP_LOG_H
#define ISP_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Switch output to syslog (ident "iscsi-sparse-proxy", facility daemon), or
 * back to stderr. */
void log_use_syslog(bool on);
/* Parse "error|warn|info|debug"; returns -1 if unknown. */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

struct log_limit;
/* A line about `source` (an address) through a rate limit (log_limit.h):
 * logged now, or counted and reported by the next line logged for it.
 * Debug lines are not limited: debug logging is switched on to see all. */
void log_limited(struct log_limit *ll, const char *source, enum log_level level,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void log_vlimited(struct log_limit *ll, const char *source, enum log_level level,
                  const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) \
    do { if (log_get_level() >= LOG_LVL_DEBUG) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

#endif
