#include "log.h"

#include "clock.h"
#include "log_limit.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static enum log_level current_level = LOG_LVL_INFO;
static bool to_syslog;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level level) { current_level = level; }
enum log_level log_get_level(void) { return current_level; }

void log_use_syslog(bool on)
{
    if (on && !to_syslog)
        openlog("iscsi-sparse-proxy", LOG_PID, LOG_DAEMON);
    else if (!on && to_syslog)
        closelog();
    to_syslog = on;
}

int log_level_parse(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

const char *log_level_name(enum log_level level)
{
    return (unsigned)level < sizeof(level_names) / sizeof(level_names[0])
        ? level_names[level] : "?";
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
    if (level > current_level)
        return;
    if (to_syslog) {
        static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
        vsyslog(prio[level], fmt, ap);
    } else {
        struct timespec ts;
        struct tm tm;
        char stamp[32];
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
        fprintf(stderr, "%s.%03ldZ %-5s ", stamp, ts.tv_nsec / 1000000L, level_names[level]);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
}

void log_vlimited(struct log_limit *ll, const char *source, enum log_level level,
                  const char *fmt, va_list ap)
{
    if (level > current_level)
        return;
    if (level != LOG_LVL_DEBUG) {
        struct log_limit_verdict v = log_limit_check(ll, source, clock_now_us());
        if (!v.log)
            return;
        if (v.suppressed)
            log_msg(level, "%s: %llu log lines suppressed (rate limit)%s", source,
                    (unsigned long long)v.suppressed, v.shared ? ", with other sources'" : "");
    }
    log_vmsg(level, fmt, ap);
}

void log_limited(struct log_limit *ll, const char *source, enum log_level level,
                 const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vlimited(ll, source, level, fmt, ap);
    va_end(ap);
}
