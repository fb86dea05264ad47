/*
 * Log lines a connection's initiator can cause at will (its PDUs, logins,
 * commands, and the SAN's answers to them), or the SAN can (unit
 * attentions invalidating and re-probing a LUN), rate-limited per source
 * address, the initiator's or (lun_log) the SAN's (log_limit.h;
 * docs/ARCHITECTURE.md, "Limits"): a flood from one address writes at
 * most PEER_LOG_BURST lines per interval, and the next
 * line logged says how many were suppressed.  Debug lines are not limited:
 * debug logging is switched on to see everything.
 */
#include <stdarg.h>

#include "clock.h"
#include "conn.h"
#include "log.h"
#include "lun.h"
#include "server.h"

/* Whether a line from `source` may be logged now; reports what was
 * suppressed before it. */
static bool allowed(struct proxy *p, const char *source, enum log_level level)
{
    if (level > log_get_level())
        return false;
    if (level == LOG_LVL_DEBUG)
        return true;
    struct log_limit_verdict v = log_limit_check(&p->peer_log, source, clock_now_us());
    if (v.log && v.suppressed)
        log_msg(level, "%s: %llu log lines suppressed (rate limit)%s", source,
                (unsigned long long)v.suppressed, v.shared ? ", with other sources'" : "");
    return v.log;
}

void conn_log(const struct conn *c, enum log_level level, const char *fmt, ...)
{
    va_list ap;

    if (!allowed(c->proxy, c->addr, level))
        return;
    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}

void lun_log(const struct lun *l, enum log_level level, const char *fmt, ...)
{
    va_list ap;

    if (!allowed(l->proxy, l->key.backend_addr, level))
        return;
    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}
